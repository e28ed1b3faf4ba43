"""Browser tests: the standalone HTML export and the SequenceExplorer in JupyterLab, in headless Chromium.

Debian's /usr/bin/chromium is driven by Playwright (never `playwright install`). Without chromium
the tests skip with a hint, except under CI=true, where they must run and therefore fail.
Servers bind to 127.0.0.1 only, have timeouts, and are always shut down; the page may not reach
anything but 127.0.0.1. Screenshots go to tests/_artifacts/ (git-ignored).
"""
import functools
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "tests" / "_artifacts"
CHROMIUM = os.environ.get("RELPOSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def _unavailable(reason: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the browser tests must run; install Debian's chromium)")
    pytest.skip(f"{reason}; enable with `sudo apt-get install chromium` or run `make test` as root with apt available")


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright Python package is not installed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, timeout=60_000)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser):
    """A fresh page that may only talk to 127.0.0.1; other requests are aborted and recorded."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    blocked = []

    def guard(route):
        url = route.request.url
        if url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(url)
            route.abort()

    context.route("**/*", guard)
    pg = context.new_page()
    pg.set_default_timeout(60_000)
    pg.blocked_requests = blocked
    try:
        yield pg
    finally:
        context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def small_sequence(T=40, seed=0):
    """A skeleton swinging its arms, so consecutive frames visibly differ."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(17, 3)) * 0.25
    t = np.arange(T)[:, None]
    gt = base[None] + 0.3 * np.sin(t / 4.0)[..., None] * (np.arange(17) % 3 == 0)[None, :, None]
    gt = gt + np.array([0.0, 0.0, 5.0])
    kps = gt[..., :2] / gt[..., 2:] * 1.2
    return gt, kps


# ----------------------------------------------------------------------------- standalone HTML

class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def read_3d_trace(page, trace: int):
    return page.evaluate(f"""() => {{
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.scene);
        const d = gd.data[{trace}];
        return [Array.from(d.x), Array.from(d.y), Array.from(d.z)];
    }}""")


def test_exported_html_animates_offline(page, tmp_path):
    from relpose import viz
    from relpose.skeleton import H36M_17

    gt, kps = small_sequence()
    fig = viz.sequence_animation_figure({"prediction": gt + 0.02, "ground truth": gt}, H36M_17,
                                        keypoints_2d=kps * 300 + 500, downsample=2)
    viz.export_html(fig, tmp_path / "anim.html")
    handler = functools.partial(_QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 10
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_port}/anim.html", timeout=30_000)
        page.wait_for_selector(".js-plotly-plot .slider-rail-rect", timeout=30_000)
        before = read_3d_trace(page, 3)  # prediction, left side
        page.screenshot(path=str(ARTIFACTS / "html_frame0.png"))
        rail = page.locator(".slider-rail-rect").first.bounding_box()
        page.mouse.click(rail["x"] + 0.6 * rail["width"], rail["y"] + rail["height"] / 2)  # jump along the slider
        page.wait_for_function("""() => {
            const gd = document.querySelector('.js-plotly-plot');
            return gd._fullLayout.sliders[0].active > 0; }""", timeout=15_000)
        time.sleep(0.5)  # let the frame finish drawing before the screenshot
        active = page.evaluate("() => document.querySelector('.js-plotly-plot')._fullLayout.sliders[0].active")
        after = read_3d_trace(page, 3)
        page.screenshot(path=str(ARTIFACTS / "html_frame_moved.png"))
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    frame = int(fig.frames[active].name)
    expected = viz.segment_coordinates(viz.display_coordinates(gt[frame] + 0.02, "-y"),
                                       viz.segment_index(viz.bone_sides(H36M_17)["left"]))
    got = np.array([[np.nan if v is None else v for v in axis] for axis in after], dtype=float).T
    assert frame > 0 and after != before
    assert np.allclose(got, expected, equal_nan=True, atol=1e-6)
    assert page.blocked_requests == []  # nothing but the local server was contacted


# ----------------------------------------------------------------------------- JupyterLab

NOTEBOOK_CELL = """\
import numpy as np
from relpose import viz
from relpose.skeleton import H36M_17
seqs, preds = {{}}, {{}}
for key, seed in [(("S1", "Walking", 0), 0), (("S1", "Walking", 1), 1)]:
    gt, kps = {sequence}(seed=seed)
    seqs[key] = viz.Sequence(kps, gt, res_w=1000, res_h=1000)
    preds[key] = gt + 0.01
explorer = viz.SequenceExplorer(seqs, H36M_17, predictions=preds, height=380)
explorer.widget
"""


def write_notebook(folder: Path) -> Path:
    import inspect
    source = inspect.getsource(small_sequence) + "\n" + NOTEBOOK_CELL.format(sequence="small_sequence")
    nb = {"cells": [{"id": "explorer", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                     "source": source}],
          "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                       "language_info": {"name": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / "explorer.ipynb"
    path.write_text(json.dumps(nb))
    return path


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a token, a throwaway root/config/runtime dir, killed afterwards."""
    root, home = tmp_path / "root", tmp_path / "home"
    root.mkdir()
    (home / "config").mkdir(parents=True)
    (home / "config" / "jupyter_lab_config.py").write_text(
        "c.LabApp.news_url = None\n"
        "c.LabApp.check_for_updates_class = 'jupyterlab.NeverCheckForUpdate'\n"
        "c.LabApp.extension_manager = 'readonly'\n")  # no PyPI queries
    notifications = home / "settings" / "@jupyterlab" / "apputils-extension"
    notifications.mkdir(parents=True)
    (notifications / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))  # no "get Jupyter news?" prompt
    write_notebook(root)
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=str(REPO), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), IPYTHONDIR=str(home / "ipython"), MPLBACKEND="Agg")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
           f"--LabServerApp.workspaces_dir={home / 'workspaces'}",
           f"--LabServerApp.user_settings_dir={home / 'settings'}", "--ServerApp.terminals_enabled=False"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(tmp_path / "jupyterlab.log", "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        url = f"http://127.0.0.1:{port}/api/status?token={token}"
        while True:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited early: {(tmp_path / 'jupyterlab.log').read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("JupyterLab did not start within 90 s")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}", token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the server and the kernels it started
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        log.close()
        shutil.copy(tmp_path / "jupyterlab.log", ARTIFACTS / "jupyterlab.log") if ARTIFACTS.exists() else None


def test_explorer_widget_in_jupyterlab(page, jupyterlab):
    base, token = jupyterlab
    page.goto(f"{base}/lab/tree/explorer.ipynb?token={token}", timeout=90_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    # Wait for the kernel, then run every cell through JupyterLab's own command.
    page.wait_for_function("""() => {
        const w = window.jupyterapp.shell.currentWidget;
        return w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel
            && w.sessionContext.session.kernel.connectionStatus === 'connected'; }""", timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    try:
        page.wait_for_function("""() => [...document.querySelectorAll('.jp-OutputArea .js-plotly-plot')]
            .some(g => g._fullLayout && g._fullLayout.scene && g.data && g.data.length > 3)""", timeout=120_000)
        page.wait_for_selector(".jp-OutputArea .widget-slider .noUi-handle", timeout=60_000)
        page.wait_for_function("() => document.querySelector('.jp-OutputArea .widget-html-content')"
                               " && document.querySelector('.jp-OutputArea .widget-html-content')"
                               ".textContent.includes('frame 0 /')", timeout=60_000)
    finally:
        page.screenshot(path=str(ARTIFACTS / "jupyterlab_frame0.png"))
    before = read_3d_trace(page, 3)
    handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # the slider's keyboard steps, as a user would
    page.wait_for_function("() => document.querySelector('.jp-OutputArea .widget-html-content')"
                           ".textContent.includes('frame 5 /')", timeout=60_000)
    page.wait_for_function(f"""() => {{
        const gd = [...document.querySelectorAll('.js-plotly-plot')].find(g => g._fullLayout && g._fullLayout.scene);
        return JSON.stringify(Array.from(gd.data[3].x)) !== {json.dumps(json.dumps(before[0]))}; }}""",
                           timeout=60_000)
    after = read_3d_trace(page, 3)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab_frame5.png"))

    from relpose import viz
    from relpose.skeleton import H36M_17
    gt, _ = small_sequence(seed=0)
    pred = gt + 0.01
    expected = viz.segment_coordinates(viz.display_coordinates(pred[5] - pred[5, :1], "-y"),
                                       viz.segment_index(viz.bone_sides(H36M_17)["left"]))
    got = np.array([[np.nan if v is None else v for v in axis] for axis in after], dtype=float).T
    assert np.allclose(got, expected, equal_nan=True, atol=1e-6)
    assert page.blocked_requests == []
