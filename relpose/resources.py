"""The kit's registered data files (camera calibration, skeletons, the published checkpoint layout),
read once from the installed package (relpose/data/*.json)."""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

from .errors import DataError


@lru_cache(maxsize=None)
def package_json(name: str) -> dict:
    """relpose/data/<name>.json as parsed JSON (cached: callers must not modify it)."""
    try:
        text = resources.files("relpose").joinpath("data", f"{name}.json").read_text()
    except FileNotFoundError:
        known = sorted(p.name.removesuffix(".json") for p in resources.files("relpose").joinpath("data").iterdir()
                       if p.name.endswith(".json"))
        raise DataError(f"relpose has no data file '{name}.json' (has: {', '.join(known)})") from None
    return json.loads(text)
