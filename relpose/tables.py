"""Aligned text tables (what the command line, `make demo` and the notebooks print), written once.

    text_table(["Action", "MPJPE"], [["Walking", 61.2]], widths=[14, 9], formats=["", ".1f"],
               footer=[["Average", 61.2]], suffix="  (mm)")

The first column is left-aligned, the others right-aligned; a rule of dashes as long as the header
follows the header and precedes the footer rows. `widths=None` fits every column to its content
(then `sep` separates them); a value already formatted (a str) is only aligned.
"""
from __future__ import annotations


def _cell(value, fmt: str) -> str:
    return value if isinstance(value, str) else format(value, fmt)


def text_table(header, rows, *, widths=None, formats=None, footer=(), sep: str = "", suffix: str = "",
               title: str | None = None, note: str | None = None) -> str:
    n = len(header)
    formats = list(formats) if formats is not None else [""] * n
    body = [[_cell(v, f) for v, f in zip(r, formats)] for r in rows]
    foot = [[_cell(v, f) for v, f in zip(r, formats)] for r in footer]
    if widths is None:
        widths = [max(len(str(r[i])) for r in [list(header)] + body + foot) for i in range(n)]

    def line(cells):
        return sep.join(f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths)))

    head = line(header) + suffix
    rule = "-" * len(head)
    lines = ([title] if title else []) + [head, rule] + [line(r) for r in body]
    if foot:
        lines += [rule] + [line(r) for r in foot]
    if note:
        lines.append(note)
    return "\n".join(lines)
