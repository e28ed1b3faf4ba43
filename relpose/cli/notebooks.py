"""`python -m relpose.cli.notebooks`: keep the stored notebooks stable, small and readable without a kernel.

    python -m relpose.cli.notebooks refresh notebooks/*.ipynb     # re-run in quick mode, normalise, check
    python -m relpose.cli.notebooks normalise notebooks/*.ipynb   # rewrite as JupyterLab would save them
    python -m relpose.cli.notebooks check notebooks/*.ipynb       # report what is not as it should be

Refreshing runs each notebook top to bottom in a fresh kernel from the notebooks/ folder, in quick
mode under the default kernel settings (RELPOSE_MODE, MKL_CBWR and OMP_NUM_THREADS are removed from the
environment: STORED_OUTPUT_ENVIRONMENT), then normalises it.

Normalised means: the bytes JupyterLab writes when it opens the notebook and saves it unchanged.
JupyterLab's server writes with nbformat (JSON, indent 1, sorted keys, non-ASCII kept, multi-line
strings split into lists, a trailing newline); before that the browser has turned every float
that is a whole number into an integer (JavaScript has one number type), merged consecutive
stream outputs of one name and applied their carriage returns and backspaces, and the kernel it
started has set the kernelspec and language_info. On top of that the normaliser drops what changes
on every run and means nothing to a reader: widget state, per-cell execution timings, papermill's
records and language_info fields ipykernel does not report. (JupyterLab writes the running
Python's version into language_info, so opening on another Python version changes that one line.)
Plotly figure data is stored as plain, rounded numbers (relpose.viz.figure_json): `653.9` rather
than float32's `653.9000244140625`, and lists rather than base64 typed arrays.

`check` reports a notebook that is not normalised, a Plotly output without a static image, a
widget without a static picture after it in its cell, a widget stored with its text form (which a
reader without a kernel sees as `VBox(children=(...` above the picture), the same picture stored twice,
an output holding a machine's absolute path, errors, cells never run and outputs too large for git.
Whether the pictures are legible (text and panel sizes) is tests/test_static_images.py's business.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import time

from ..errors import UserError
from ..files import atomic_path, path_argument
from ..viz.figure_json import PLOTLY_MIME, compact_plotly_json, javascript_numbers
from .common import OneLineParser, run_command, shell_command

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# What ipykernel reports, version included: JupyterLab writes the running kernel's language_info on
# opening, so a notebook without the version would change on every open (measured with JupyterLab 4.6).
LANGUAGE_INFO_FIELDS = ("codemirror_mode", "file_extension", "mimetype", "name", "nbconvert_exporter",
                        "pygments_lexer", "version")
NBFORMAT_MINOR = 5  # what JupyterLab 4 writes
TRANSIENT_CELL_METADATA = ("execution", "papermill")
TRANSIENT_NOTEBOOK_METADATA = ("widgets", "papermill")
MAX_CELL_OUTPUT = 200_000     # bytes of outputs per cell
MAX_NOTEBOOK_OUTPUT = 1_000_000
# A machine's absolute path: /work/..., /tmp/..., /home/..., /root/..., /Users/... not inside a URL or a word.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~/-])/(?:work|tmp|home|root|Users)/[^\s\"'<>]*")


# ----------------------------------------------------------------------------- outputs as JupyterLab keeps them

_CONTROL = re.compile(r"[\n\b\r]")


def terminal_text(chunks) -> str:
    """Stream chunks written one after the other as JupyterLab's output area shows them: a carriage
    return moves back to the start of the line and the text after it overwrites, a backspace deletes."""
    text, cursor = "", 0
    for chunk in chunks:
        pos = 0
        while True:
            match = _CONTROL.search(chunk, pos)
            piece = chunk[pos:match.start() if match else len(chunk)]
            text = text[:cursor] + piece + text[cursor + len(piece):]
            cursor += len(piece)
            if match is None:
                break
            pos = match.end()
            if match.group() == "\n":
                text += "\n"
                cursor = len(text)
            elif match.group() == "\r":
                cursor = text.rfind("\n", 0, cursor) + 1
            elif cursor > 0 and text[cursor - 1] != "\n":  # backspace, as JupyterLab applies it
                text = text[:cursor - 1] + text[cursor + 1:]
                cursor -= 1
    return text


def _merged_streams(outputs: list) -> list:
    merged, chunks = [], {}
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output["output_type"] == "stream" and previous is not None and previous["output_type"] == "stream"
                and previous["name"] == output["name"]):
            chunks[id(previous)].append(output["text"])
            continue
        merged.append(output)
        if output["output_type"] == "stream":
            chunks[id(output)] = [output["text"]]
    for output in merged:
        if output["output_type"] == "stream":
            output["text"] = terminal_text(chunks[id(output)])
    return merged


# ----------------------------------------------------------------------------- the notebook

def normalise_notebook(nb):
    """The notebook (an nbformat NotebookNode, changed in place and returned) as it is stored."""
    import nbformat

    nb.nbformat, nb.nbformat_minor = 4, NBFORMAT_MINOR
    for key in TRANSIENT_NOTEBOOK_METADATA:
        nb.metadata.pop(key, None)
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    info = nb.metadata.get("language_info") or {"name": "python"}
    nb.metadata["language_info"] = {k: info[k] for k in LANGUAGE_INFO_FIELDS if k in info}
    used = set()
    for index, cell in enumerate(nb.cells):
        if not cell.get("id") or cell["id"] in used:  # JupyterLab would make up a random one
            cell["id"] = f"cell-{index}"
        used.add(cell["id"])
        for key in TRANSIENT_CELL_METADATA:
            cell.metadata.pop(key, None)
        if cell.cell_type != "code":
            continue
        cell.outputs = _merged_streams(cell.outputs)
        for output in cell.outputs:
            if PLOTLY_MIME in output.get("data", {}):
                output["data"][PLOTLY_MIME] = compact_plotly_json(output["data"][PLOTLY_MIME])
    return nbformat.from_dict(javascript_numbers(nb))


def notebook_text(nb) -> str:
    """The file's text as nbformat (and so JupyterLab's server) writes it, trailing newline included."""
    import nbformat

    return nbformat.writes(normalise_notebook(nb), version=nbformat.NO_CONVERT) + "\n"


def normalised_text(text: str) -> str:
    import nbformat

    return notebook_text(nbformat.reads(text, as_version=nbformat.NO_CONVERT))


def _write(path: str, text: str) -> None:
    with atomic_path(path, what="notebook") as tmp, open(tmp, "w", encoding="utf-8") as f:
        f.write(text)


def normalise(path: str) -> bool:
    """Rewrite `path` normalised; True when that changed it."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    fixed = normalised_text(text)
    if fixed != text:
        _write(path, fixed)
    return fixed != text


# The environment the stored outputs come from: quick mode, no progress bars (they would be widgets
# without state; a person running the notebook sees them), MKL's default code branch and quick mode's two
# threads. `make test` checks them under other settings (see the Makefile), as another CPU would run them.
# MPLBACKEND is removed too: the Makefile exports MPLBACKEND=Agg, under which a kernel shows no matplotlib
# figure at all; without it the kernel uses its inline backend, as JupyterLab's does.
STORED_OUTPUT_ENVIRONMENT = {"RELPOSE_MODE": None, "RELPOSE_EPOCHS": None, "RELPOSE_PROGRESS": "0",
                             "MKL_CBWR": None, "OMP_NUM_THREADS": None, "MKL_NUM_THREADS": None,
                             "MPLBACKEND": None}


def _apply(changes: dict) -> None:
    """Set each variable of `changes` in os.environ; None removes it."""
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def _environment(changes: dict):
    """os.environ with `changes` applied, restored afterwards."""
    saved = {name: os.environ.get(name) for name in changes}
    try:
        _apply(changes)
        yield
    finally:
        _apply(saved)


def refresh(path: str, timeout: int = 1800) -> float:
    """Run the notebook in quick mode in a fresh kernel, store its outputs normalised; returns seconds."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    with _environment(STORED_OUTPUT_ENVIRONMENT):
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                                resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}})
        client.execute()
    _write(path, notebook_text(nb))
    return time.perf_counter() - t0


# ----------------------------------------------------------------------------- checks

def _output_strings(value, key=""):
    """Every string an output holds, except images (base64 may spell anything)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if not k.startswith("image/"):
                yield from _output_strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _output_strings(v, key)
    elif isinstance(value, str):
        yield value


def _has_picture(outputs) -> bool:
    return any("image/png" in o.get("data", {}) for o in outputs)


def output_problems(index: int, outputs: list) -> list[str]:
    """What a reader without a kernel would miss in one code cell's outputs, and machine paths.

    A widget's static picture must follow it in the same cell (a picture in another cell may show
    something else: the check could not tell)."""
    problems = []
    for k, output in enumerate(outputs):
        data = output.get("data", {})
        if PLOTLY_MIME in data and "image/png" not in data:
            problems.append(f"code cell {index} stores a Plotly figure without a static image (image/png)")
        if WIDGET_MIME in data and not _has_picture(outputs[k:]):
            problems.append(f"code cell {index} stores a widget without a static picture after it "
                            "(relpose.viz.show_widget(widget, picture))")
        if WIDGET_MIME in data and "text/plain" in data:
            problems.append(f"code cell {index} stores a widget with its text form, which readers without a kernel "
                            "see above its picture (relpose.viz.show_widget(widget, picture) stores the view alone)")
        paths = sorted({m for s in _output_strings(output) for m in ABSOLUTE_PATH.findall(s)})
        if paths:
            problems.append(f"code cell {index} output holds an absolute path ({', '.join(paths[:3])}); "
                            "show paths relative to the kit's top folder")
    return problems


def check(path: str) -> list[str]:
    """Problems of a stored notebook: not normalised, figures or widgets a reader without a kernel
    cannot see, machine paths, and what would make nbval checks fragile or the repository heavy."""
    import nbformat

    with open(path, encoding="utf-8") as f:
        text = f.read()
    nb = nbformat.reads(text, as_version=4)
    problems = []
    if normalised_text(text) != text:
        problems.append(f"not normalised: run `{shell_command(['python', '-m', 'relpose.cli.notebooks', 'normalise', path_argument(path)])}`")
    total = 0
    seen_pictures: dict[str, int] = {}
    code = [c for c in nb.cells if c.cell_type == "code"]
    if not code or "parameters" not in code[0].get("metadata", {}).get("tags", []):
        problems.append("first code cell is not tagged 'parameters'")
    for i, c in enumerate(code):
        size = len(json.dumps(c.get("outputs", [])))
        total += size
        if c.get("execution_count") is None and c.source.strip():
            problems.append(f"code cell {i} was never run")
        if size > MAX_CELL_OUTPUT:
            problems.append(f"code cell {i} stores {size // 1000} kB of outputs")
        if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
            problems.append(f"code cell {i} stores an error")
        problems += output_problems(i, c.get("outputs", []))
        for output in c.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png is None:
                continue
            png = "".join(png) if isinstance(png, list) else png
            if png in seen_pictures:
                problems.append(f"code cell {i} stores the same picture as code cell {seen_pictures[png]}: show a "
                                "figure once (a function that draws and returns it shows it twice: plt.show() and Out)")
            seen_pictures.setdefault(png, i)
    if total > MAX_NOTEBOOK_OUTPUT:
        problems.append(f"{total // 1000} kB of outputs in total")
    return problems


def _notebooks(argv) -> int:
    parser = OneLineParser(prog="python -m relpose.cli.notebooks",
                           description="Refresh, normalise or check the stored notebooks.")
    parser.add_argument("command", choices=("refresh", "normalise", "check"),
                        help="refresh: run in quick mode and store normalised; normalise: rewrite as JupyterLab "
                             "saves; check: report problems (exit code 1 when there are any)")
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK.ipynb")
    args = parser.parse_args(argv)
    missing = [p for p in args.notebooks if not os.path.isfile(p)]
    if missing:
        raise UserError(f"no notebook {missing[0]}: give paths of .ipynb files, e.g. notebooks/*.ipynb")
    bad = 0
    for path in args.notebooks:
        if args.command == "refresh":
            print(f"running {path} ...", flush=True)
            print(f"  done in {refresh(path):.0f} s", flush=True)
        elif args.command == "normalise":
            print(f"{path}: {'normalised' if normalise(path) else 'unchanged'}")
            continue
        problems = check(path)
        for msg in problems:
            print(f"{path}: {msg}")
        bad += bool(problems)
    return 1 if bad else 0


def main(argv=None) -> int:
    return run_command(_notebooks, argv)


if __name__ == "__main__":
    sys.exit(main())
