"""Every picture stored in the notebooks is legible at its stored size (relpose.viz.legibility): text at
least 10 px, panels large enough for what they draw, no tiny image.

GitHub, nbviewer and an HTML export show the stored PNGs as they are, so they are checked as stored:

- a Plotly figure's static twin is drawn again from the figure's stored JSON and measured; its stored PNG
  must have the size the figure asks for (else it is stale);
- a matplotlib figure or a widget's picture was measured when the kernel drew it (relpose.viz.notebook
  keeps the measurements in the PNG's metadata), and those measurements are checked;
- a raster image (a video frame, a GIF frame) is checked for its pixel size only.

A notebook whose stored outputs predate the measurements is skipped for its matplotlib pictures, with a
hint: `make refresh-notebooks` stores them.
"""
import base64
import io
import json
from pathlib import Path

import pytest
from PIL import Image

from relpose.viz import legibility
from relpose.viz.figure_json import PLOTLY_MIME
from relpose.viz.static import DEFAULT_SIZE, DPI, static_figure

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MIN_IMAGE_PX = (240, 150)   # no stored picture is smaller (width, height)


def stored_pictures(path: Path):
    """(cell number counting every cell, output, PNG size) of each stored image/png output."""
    for number, cell in enumerate(json.loads(path.read_text())["cells"]):
        for output in cell.get("outputs", []):
            png = output.get("data", {}).get("image/png")
            if png is not None:
                png = "".join(png) if isinstance(png, list) else png
                with Image.open(io.BytesIO(base64.b64decode(png))) as im:
                    yield number, output, im.size


def drawn_by_matplotlib(output) -> bool:
    """A figure or a widget's picture (measurable when drawn), not a raster image shown as one."""
    text = "".join(output.get("data", {}).get("text/plain", ""))
    return text.startswith(("<Figure", "[static picture"))


def test_there_are_pictures_to_check():
    assert sum(1 for path in NOTEBOOKS for _ in stored_pictures(path)) >= 20


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_pictures_are_legible_at_their_stored_size(path):
    problems, unmeasured, measured = [], [], 0
    for number, output, (width, height) in stored_pictures(path):
        where = f"cell {number}"
        if width < MIN_IMAGE_PX[0] or height < MIN_IMAGE_PX[1]:
            problems.append(f"{where}: a picture of {width} x {height} px")
        data = output["data"]
        if PLOTLY_MIME in data:
            figure = data[PLOTLY_MIME]
            layout = figure.get("layout") or {}
            asked = (int(layout.get("width") or DEFAULT_SIZE[0]), int(layout.get("height") or DEFAULT_SIZE[1]))
            if (width, height) != asked:
                problems.append(f"{where}: the static image is {width} x {height} px, the figure asks for "
                                f"{asked[0]} x {asked[1]} (stale: refresh the notebook)")
            problems += [f"{where}: {p}" for p in legibility.problems(legibility.measure(static_figure(figure), DPI))]
            continue
        measurements = output.get("metadata", {}).get("image/png", {}).get(legibility.METADATA_KEY)
        if measurements is not None:
            measured += 1
            problems += [f"{where}: {p}" for p in legibility.problems(measurements)]
        elif drawn_by_matplotlib(output):
            unmeasured.append(where)
    if unmeasured and measured:
        problems.append(f"{', '.join(unmeasured)}: pictures stored without their measurements (refresh the notebook)")
    assert not problems, f"{path.name}:\n" + "\n".join(problems)
    if unmeasured:
        pytest.skip(f"{path.name} was stored before pictures kept their measurements ({', '.join(unmeasured)}); "
                    "run `make refresh-notebooks` to store them")
