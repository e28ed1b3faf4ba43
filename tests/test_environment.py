"""The three descriptions of the environment pin the same packages at the same versions."""
import re
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)")


def pins(lines):
    out = {}
    for line in lines:
        m = PIN.match(line)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def pyproject_pins():
    text = (ROOT / "pyproject.toml").read_text()
    if tomllib:
        deps = tomllib.loads(text)["project"]["dependencies"]
    else:
        block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
        deps = re.findall(r'"([^"]+)"', block)
    return pins(deps)


def test_environment_yml_and_requirements_match_pyproject():
    project = pyproject_pins()
    assert project["torch"] == "2.13.0"
    for name in ("numpy", "matplotlib", "plotly", "ipywidgets", "jupyterlab", "nbval", "pytest", "tqdm"):
        assert name in project, name
    env = (ROOT / "environment.yml").read_text().split("- pip:", 1)[1].splitlines()
    assert pins(env) == project
    assert pins((ROOT / "requirements.txt").read_text().splitlines()) == project


def test_every_pin_is_exact():
    text = (ROOT / "pyproject.toml").read_text()
    block = text.split("dependencies = [", 1)[1].split("]", 1)[0]
    for dep in re.findall(r'"([^"]+)"', block):
        assert "==" in dep, f"unpinned dependency {dep}"
