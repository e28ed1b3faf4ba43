"""How a notebook's stored output is compared with a fresh run when its numbers come from training.

Training in float32 is reproducible on one machine (fixed seeds), but not to the last digit across
machines: the matrix-product and convolution kernels differ between CPUs (AVX-512 or AMX paths, MKL's
code branch) and so do reduction orders with the thread count, and a few hundred optimiser steps turn
those last bits into tenths of a millimetre. So a cell whose output holds trained numbers states its
tolerance in its first comment line, where a reader sees it, for example

    # checked within 3% or 2 mm of the stored output (training differs in the last bits between CPUs)

and the notebook tests (notebooks/conftest.py, on top of nbval) compare that cell's text this way:
everything that is not a number must be equal (spaces aside, since a number of another width shifts a
table's columns), and each number must be within max(rel * |stored|, abs) of the stored
one. Numbers that are part of a name (S9, P1, stage_3) are compared exactly. Words that a cell may
print either way (a verdict that sits on the edge of its interval) are listed after `words:`, separated
by `|`:

    # checked within 10% or 5 mm; words: lower|higher|undecided

and any of them may stand for any other (longer phrases first, so "undecided at 95%" is one word). Cells without such a line are compared exactly, as nbval does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# "within 3%", "within 3% or 2 mm", "within 0.5" (absolute only); then, anywhere after, "; words: a|b|c".
_DIRECTIVE_LINE = re.compile(r"^[ \t]*#[ \t]*checked within\b(?P<rest>.*)$", re.MULTILINE)
_AMOUNTS = re.compile(r"^\s+(?P<first>\d+(?:\.\d+)?)\s*(?P<pct>%)?(?:\s+or\s+(?P<second>\d+(?:\.\d+)?))?")
_WORDS = re.compile(r";\s*words:\s*(?P<words>.+?)\s*$")
# A number standing on its own (1.5, -3, 1.0e-03): not glued to a letter, digit, underscore or dot on either side.
_NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![A-Za-z_\d]|\.\d)")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Tolerance:
    rel: float = 0.0             # a fraction of the stored value (0.03 = 3%)
    abs: float = 0.0             # in the quantity's unit
    words: frozenset = field(default_factory=frozenset)   # interchangeable words

    def allows(self, stored: float, fresh: float) -> bool:
        return abs(fresh - stored) <= max(self.rel * abs(stored), self.abs) + 1e-9

    def describe(self) -> str:
        parts = ([f"{self.rel:.0%}"] if self.rel else []) + ([f"{self.abs:g}"] if self.abs else [])
        return " or ".join(parts) or "exactly"


def parse_directive(source: str) -> Tolerance | None:
    """The tolerance a cell's source states, or None where it states none (compared exactly).

    A line that starts like a tolerance but cannot be read is an error, never a silent exact comparison."""
    line = _DIRECTIVE_LINE.search(source)
    if line is None:
        return None
    m = _AMOUNTS.match(line["rest"])
    if m is None:
        raise ValueError(f"cannot read the tolerance in {line.group(0).strip()!r}: write "
                         f"'# checked within 3% or 2 mm ...' (a percentage and/or an absolute amount)")
    first = float(m["first"])
    second = float(m["second"]) if m["second"] else 0.0
    rel, abs_ = (first / 100.0, second) if m["pct"] else (0.0, first)
    w = _WORDS.search(line["rest"])
    words = frozenset(x.strip() for x in w["words"].split("|") if x.strip()) if w else frozenset()
    if rel == 0 and abs_ == 0:
        raise ValueError(f"tolerance line {line.group(0).strip()!r} allows nothing: give a percentage and/or an absolute value")
    return Tolerance(rel=rel, abs=abs_, words=words)


_RULE = re.compile(r"^\s*-{3,}\s*$")


def _split(text: str) -> tuple[list[str], list[float]]:
    """The text between numbers (without spaces) and the numbers, in order."""
    pieces, numbers, last = [], [], 0
    for m in _NUMBER.finditer(text):
        pieces.append(_SPACE.sub("", text[last:m.start()]))
        numbers.append(float(m.group(0)))
        last = m.end()
    pieces.append(_SPACE.sub("", text[last:]))
    return pieces, numbers


def _mask_words(line: str, words: frozenset) -> str:
    """The line with every interchangeable word replaced by one placeholder (longest first)."""
    for w in sorted(words, key=len, reverse=True):
        line = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", "\u2022", line)
    return line


def compare_text(stored: str, fresh: str, tol: Tolerance) -> list[str]:
    """Differences between a stored and a fresh output that the tolerance does not allow (none: equal).

    Compared line by line, so a report names the line; a different number of lines is one difference.
    """
    s_lines, f_lines = stored.splitlines(), fresh.splitlines()
    if len(s_lines) != len(f_lines):
        return [f"{len(f_lines)} lines instead of the stored {len(s_lines)}"]
    problems = []
    for k, (s_line, f_line) in enumerate(zip(s_lines, f_lines), start=1):
        if _RULE.match(s_line) and _RULE.match(f_line):
            continue   # a table's rule: its length follows the widest cell, which a number within tolerance can change
        s_text, s_nums = _split(_mask_words(s_line, tol.words))
        f_text, f_nums = _split(_mask_words(f_line, tol.words))
        if s_text != f_text or len(s_nums) != len(f_nums):
            problems.append(f"line {k}: text differs: stored {s_line.strip()!r}, now {f_line.strip()!r}")
            continue
        for s_num, f_num in zip(s_nums, f_nums):
            if not tol.allows(s_num, f_num):
                problems.append(f"line {k}: {f_num:g} is not within {tol.describe()} of the stored {s_num:g}: "
                                f"{f_line.strip()!r}")
    return problems


def check_band(label: str, value: float, low: float, high: float, unit: str = "") -> str:
    """A figure that varies too much between CPUs to compare with a stored digit (a plausibility check of
    a small model on 33 real frames, say) is checked against the band it must lie in instead; the band is
    printed, not the figure, so the output is the same on every machine. Raises AssertionError outside."""
    unit_text = f" {unit}" if unit else ""
    if not (low <= value <= high):   # NaN fails too
        raise AssertionError(f"{label} = {value:g}{unit_text} is outside its band [{low:g}, {high:g}]{unit_text}")
    return f"{label}: within [{low:g}, {high:g}]{unit_text}"
