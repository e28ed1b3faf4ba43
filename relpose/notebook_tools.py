"""Maintain the notebooks' stored outputs (what nbval compares against in `make test`).

    python -m relpose.notebook_tools refresh notebooks/*.ipynb   # re-run in quick mode, save outputs
    python -m relpose.notebook_tools check notebooks/*.ipynb     # sizes, tags, cells never run

Refreshing runs each notebook top to bottom in a fresh kernel from the notebooks/ folder, in quick
mode (RELPOSE_MODE is removed from the environment), then drops the widget state that JupyterLab
would store (megabytes of model JSON nobody needs in git).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

MAX_CELL_OUTPUT = 200_000     # bytes of outputs per cell
MAX_NOTEBOOK_OUTPUT = 1_000_000


def _outputs_size(cell) -> int:
    return len(json.dumps(cell.get("outputs", [])))


def refresh(path: str, timeout: int = 1800) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    env_mode = os.environ.pop("RELPOSE_MODE", None)
    t0 = time.perf_counter()
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        client.execute()
    finally:
        if env_mode is not None:
            os.environ["RELPOSE_MODE"] = env_mode
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    return time.perf_counter() - t0


def check(path: str) -> list[str]:
    """Problems that would make nbval checks fragile or the repository heavy."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    problems = []
    total = 0
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        problems.append("first code cell is not tagged 'parameters'")
    for i, c in enumerate(code):
        size = _outputs_size(c)
        total += size
        if c.get("execution_count") is None and c.source.strip():
            problems.append(f"code cell {i} was never run")
        if size > MAX_CELL_OUTPUT:
            problems.append(f"code cell {i} stores {size // 1000} kB of outputs")
        if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            problems.append(f"code cell {i} stores an error")
    if total > MAX_NOTEBOOK_OUTPUT:
        problems.append(f"{total // 1000} kB of outputs in total")
    if "widgets" in nb.metadata:
        problems.append("stores widget state (run refresh, or clear it)")
    return problems


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m relpose.notebook_tools")
    p.add_argument("command", choices=["refresh", "check"])
    p.add_argument("notebooks", nargs="+")
    args = p.parse_args(argv)
    bad = 0
    for path in args.notebooks:
        if args.command == "refresh":
            print(f"running {path} ...", flush=True)
            print(f"  done in {refresh(path):.0f} s", flush=True)
        problems = check(path)
        for msg in problems:
            print(f"{path}: {msg}")
        bad += bool(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
