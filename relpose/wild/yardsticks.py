"""Yardsticks for the plausibility checks: what the same checks give where the truth is known, so that a
lift's "8% left/right asymmetry" can be read against something.

relpose/data/plausibility_yardsticks.json holds, per set of views (one camera's view of one take: the synthetic
test subjects' and the DeepMimic motion capture's ground truth, and models' lifts of both), the median over
views of every value of PlausibilityReport's table and its 10-90% range over views. It is made by one command,
`python -m relpose.cli.yardsticks` (relpose.lab.yardsticks computes it, with models and data sets); this
module only reads it, as package data with json, so that the wild layer never imports the lab. The file's
`shown` list names the sets printed beside a lift. Without the file a lift prints as it did before.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import DataError

FILE_NAME = "plausibility_yardsticks.json"
FORMAT = "relpose-plausibility-yardsticks"
VERSION = 1
STATS = ("median", "p10", "p90")
MAX_BYTES = 2 ** 20      # the file is a few kB; anything far larger is not ours
COMMAND = "python -m relpose.cli.yardsticks"


def yardsticks_path() -> Path:
    """Where the file lives inside the installed package (relpose/data)."""
    return Path(str(resources.files("relpose").joinpath("data", FILE_NAME)))


def range_text(median: float, low: float, high: float) -> str:
    """'1.2 [0.8-2.1]': a median and its 10-90% range over views."""
    return f"{median:.1f} [{low:.1f}-{high:.1f}]"


@dataclass(frozen=True)
class Column:
    """One set of views as printed beside a lift: {metric key: (median, 10th, 90th percentile)}."""

    name: str
    label: str            # the column's header, short
    description: str      # what the set is, one line
    values: dict

    def median(self, key: str) -> float | None:
        stats = self.values.get(key)
        return None if stats is None else stats[0]

    def cell(self, key: str) -> str:
        """'1.2 [0.8-2.1]': the median and the 10-90% range over views; 'n/a' where the set has no value."""
        stats = self.values.get(key)
        return "n/a" if stats is None else range_text(*stats)


@dataclass(frozen=True)
class Yardsticks:
    columns: tuple[Column, ...]
    made: str             # by which command, at which commit, when
    notes: tuple[str, ...] = ()   # lines the file asks to print under a table (how to read a column)

    def note(self) -> str:
        """The lines under a table: what the columns are and where they come from."""
        return "\n".join(["yardsticks: median [10-90% range] over views of takes whose truth is known, the same checks",
                          *(f"  {c.label}: {c.description}" for c in self.columns),
                          *(f"  {line}" for line in self.notes), f"  ({self.made})"])


def _number(value, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DataError(f"{where} is {value!r}, not a finite number; make the file again with {COMMAND} --overwrite")
    return float(value)


def _mapping(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise DataError(f"{where} is not a JSON object; make the file again with {COMMAND} --overwrite")
    return value


def parse_yardsticks(data, source: str = FILE_NAME) -> Yardsticks:
    """The columns a lift prints from the file's content; DataError (one line) for anything not of this format."""
    data = _mapping(data, source)
    if data.get("format") != FORMAT or data.get("version") != VERSION:
        raise DataError(f"{source} is not a yardsticks file of version {VERSION} (format {data.get('format')!r}, "
                        f"version {data.get('version')!r}); make it with {COMMAND} --overwrite")
    sets = _mapping(data.get("sets"), f"{source}: sets")
    shown = data.get("shown")
    if not isinstance(shown, list) or not shown or any(name not in sets for name in shown):
        raise DataError(f"{source}: 'shown' must list sets of the file ({', '.join(sets)}); make it with {COMMAND}")
    columns = []
    for name in shown:
        entry = _mapping(sets[name], f"{source}: set {name}")
        values = {}
        for key, stats in _mapping(entry.get("values"), f"{source}: {name} values").items():
            stats = _mapping(stats, f"{source}: {name} {key}")
            values[key] = tuple(_number(stats.get(s), f"{source}: {name} {key} {s}") for s in STATS)
        columns.append(Column(name, str(entry.get("label") or name), str(entry.get("description") or name), values))
    notes = data.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(line, str) for line in notes):
        raise DataError(f"{source}: 'notes' must be a list of lines; make the file again with {COMMAND} --overwrite")
    made = _mapping(data.get("provenance"), f"{source}: provenance")
    commit = str(made.get("commit") or "unknown")[:7] + ("+changes" if made.get("commit_dirty") else "")
    return Yardsticks(tuple(columns), f"{made.get('command') or COMMAND}, commit {commit}, {made.get('date') or '?'}",
                      tuple(notes))


def load_yardsticks(path=None) -> Yardsticks | None:
    """The yardsticks a lift prints: the package's file (or `path`). None when the file is missing, so that
    lifting never depends on it; a file that is there but broken is a DataError naming it."""
    path = Path(path) if path is not None else yardsticks_path()
    if not path.is_file():
        return None
    if path.stat().st_size > MAX_BYTES:
        raise DataError(f"{path} holds {path.stat().st_size:,} bytes, more than a yardsticks file; make it with "
                        f"{COMMAND} --overwrite")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"{path} cannot be read as JSON ({str(e)[:120]}); make it with {COMMAND} --overwrite") from None
    return parse_yardsticks(data, str(path))
