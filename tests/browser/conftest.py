"""Fixtures of the browser tests: headless Chromium through Playwright, a guarded page, a JupyterLab server.

Debian's /usr/bin/chromium is driven by Playwright (never `playwright install`). Without chromium
the tests skip with a hint, except under CI=true, where they must run and therefore fail.
Servers bind to 127.0.0.1 only, have timeouts, and are always shut down; the page may not reach
anything but 127.0.0.1. Screenshots go to tests/_artifacts/ (git-ignored).
"""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, REPO, free_port, unavailable


@pytest.fixture(scope="module")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(f"{CHROMIUM} not found")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright Python package is not installed")
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


@pytest.fixture
def jupyterlab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a token, a throwaway root/config/runtime dir, killed afterwards.

    Yields (base URL, token, root folder); a test writes its notebooks into the root folder."""
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
        yield f"http://127.0.0.1:{port}", token, root
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
