"""nbval, with trained numbers compared within the tolerance their cell states.

nbval compares a cell's fresh output with the stored one as text, exactly. That is right for anything
computed exactly (data files, encodings, shapes, counts), and wrong for numbers that come out of
training: they differ in the last digits between CPUs and thread counts. A cell whose first comment line
reads "# checked within 3% or 2 mm ..." is compared by relpose.lab.tolerance instead: the same text, each
number within the stated tolerance. Every other cell is compared exactly, as before.
"""
from __future__ import annotations

import pytest

from relpose.lab.tolerance import compare_text, parse_directive


def _texts(item, outputs):
    """(kind, sanitised value) of each compared part of the outputs, in order."""
    skip = item.parent.skip_compare
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append((f"stream:{out.get('name')}", item.sanitize(out.get("text", ""))))
            continue
        for mime, value in out.get("data", {}).items():
            if mime not in skip:
                parts.append((mime, item.sanitize(value)))
    return parts


def _tolerant(item, exact_compare, tol):
    def compare_outputs(test, ref, skip_compare=None):
        if exact_compare(test, ref, skip_compare):
            return True
        fresh, stored = _texts(item, test), _texts(item, ref)
        if [k for k, _ in fresh] != [k for k, _ in stored]:
            return False          # other kinds of output: nbval's own report says which
        problems = []
        for (kind, s), (_, f) in zip(stored, fresh):
            if isinstance(s, str) and isinstance(f, str):
                problems += compare_text(s, f, tol)
            elif s != f:
                problems.append(f"{kind} differs")
        if not problems:
            item.comparison_traceback = []
            return True
        item.comparison_traceback = [f"outside this cell's stated tolerance ({tol.describe()}):", *problems]
        return False
    return compare_outputs


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    for item in items:
        cell = getattr(item, "cell", None)
        if cell is None or not hasattr(item, "compare_outputs") or cell.get("cell_type") != "code":
            continue
        tol = parse_directive(cell.source)
        if tol is not None:
            item.compare_outputs = _tolerant(item, item.compare_outputs, tol)
