"""Plotly figure JSON as a notebook stores it: plain, rounded numbers that survive JupyterLab unchanged.

Plotly writes float32 data as its double (`653.9000244140625` for 653.9) and numpy arrays as base64
typed arrays; both make stored notebooks large and their diffs unreadable. `compact_plotly_json`
stores lists of numbers rounded to `DECIMALS` places (0.1 mm in metres, 1/10000 px in pixels),
whole numbers as integers, as a browser writes them back when JupyterLab saves (JavaScript has one
number type), and drops the template's defaults for trace types the figure does not have.
"""
from __future__ import annotations

import base64
import math

PLOTLY_MIME = "application/vnd.plotly.v1+json"
DECIMALS = 4  # in metres 0.1 mm, in pixels 1/10000 px
TYPED_ARRAY_DTYPES = {"f8": "<f8", "f4": "<f4", "i4": "<i4", "u4": "<u4", "i2": "<i2", "u2": "<u2", "i1": "i1",
                      "u1": "u1", "u1c": "u1"}


def round_number(x: float, decimals: int = DECIMALS) -> float:
    """`decimals` places, but never fewer than three significant digits (small values keep their meaning)."""
    if not math.isfinite(x) or x == 0:
        return x
    return round(x, max(decimals, 2 - math.floor(math.log10(abs(x)))))


def javascript_numbers(value):
    """`value` as it comes back from a browser: floats that are whole numbers become integers
    (JSON.stringify writes 2.0 as 2, and -0.0 as 0), up to 1e21 where JavaScript turns to exponents."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {k: javascript_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [javascript_numbers(v) for v in value]
    return value


def _decode_typed_array(spec: dict) -> list:
    import numpy as np

    array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=TYPED_ARRAY_DTYPES[spec["dtype"]])
    shape = spec.get("shape")
    if shape is not None:
        array = array.reshape([int(n) for n in str(shape).strip("()[]").split(",") if n.strip()])
    return array.tolist()


def _without_unused_template_data(fig: dict) -> dict:
    """The figure without its template's defaults for trace types it has none of (they change nothing
    drawn and are most of a small figure's JSON: plotly's default template holds 40 types)."""
    template = (fig.get("layout") or {}).get("template")
    if not isinstance(template, dict) or not isinstance(template.get("data"), dict):
        return fig
    used = {t.get("type", "scatter") for t in fig.get("data") or []}
    data = {k: v for k, v in template["data"].items() if k in used}
    return {**fig, "layout": {**fig["layout"], "template": {**template, "data": data}}}


def compact_plotly_json(value, decimals: int = DECIMALS):
    """Plotly figure JSON as it is stored: typed arrays as plain lists, floats rounded (`round_number`),
    whole numbers as integers (`javascript_numbers`), so JupyterLab re-serialises it unchanged, and
    no template defaults for trace types the figure does not have."""
    if isinstance(value, dict) and "data" in value and "layout" in value:
        value = _without_unused_template_data(value)
    if isinstance(value, dict):
        if set(value) >= {"bdata", "dtype"} and value["dtype"] in TYPED_ARRAY_DTYPES:
            return compact_plotly_json(_decode_typed_array(value), decimals)
        return {k: compact_plotly_json(v, decimals) for k, v in value.items()}
    if isinstance(value, list):
        return [compact_plotly_json(v, decimals) for v in value]
    if isinstance(value, float):
        return javascript_numbers(round_number(value, decimals))
    return value
