"""`python -m relpose.cli.notebooks normalise|check` on small notebooks written here.

Whether normalised bytes really are what JupyterLab saves is checked in a browser
(tests/browser/test_notebook_rendering.py::test_jupyterlab_open_and_save_changes_nothing).
"""
import base64
import json

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from relpose.cli import notebooks
from relpose.viz.figure_json import PLOTLY_MIME, compact_plotly_json, round_number

WIDGET = {"application/vnd.jupyter.widget-view+json": {"model_id": "ab12", "version_major": 2, "version_minor": 0}}
WIDGET_WITH_TEXT = {**WIDGET, "text/plain": "VBox(children=(...))"}   # as a bare widget displays itself


def picture(content=b"fake"):
    return {"image/png": base64.b64encode(b"\x89PNG " + content).decode(), "text/plain": "[picture]"}


PNG = picture()


def figure_output(with_image=True, x=(653.9000244140625, 1.0, 0.123456789)):
    data = {PLOTLY_MIME: {"data": [{"type": "scatter", "x": list(x), "y": [0.5, 2.0, -0.0]}], "layout": {}}}
    return new_output("display_data", data={**data, **(picture(b"figure") if with_image else {})})


def write(tmp_path, cells, name="nb.ipynb", **metadata):
    cells = [new_code_cell("MODE = 'quick'", metadata={"tags": ["parameters"]}, execution_count=1)] + cells
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": ".venv", "language": "python", "name": "venv"},
        "language_info": {"name": "python", "version": "3.11.2", "mimetype": "text/x-python",
                          "codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                          "nbconvert_exporter": "python", "pygments_lexer": "ipython3"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {"state": {"ab12": {}}}},
        "papermill": {"duration": 3.2}, **metadata})
    nb.nbformat_minor = 4  # an older notebook: no cell ids
    for cell in nb.cells:
        del cell["id"]
    path = tmp_path / name
    path.write_text(json.dumps(nb, indent=2))  # not as JupyterLab writes it
    return path


def code(source, *outputs, count=2, **metadata):
    return new_code_cell(source, outputs=list(outputs), execution_count=count, metadata=metadata)


def test_normalise_rewrites_metadata_and_numbers_as_jupyterlab_saves(tmp_path):
    path = write(tmp_path, [code("fig", figure_output(), execution={"iopub.status.busy": "2026-12-02T20:00:00Z"})])
    assert notebooks.normalise(str(path)) is True
    text = path.read_text()
    nb = json.loads(text)
    assert nb["metadata"]["kernelspec"] == {"display_name": "Python 3 (ipykernel)", "language": "python",
                                            "name": "python3"}
    assert set(nb["metadata"]) == {"kernelspec", "language_info"}  # no widget state, no papermill
    assert nb["metadata"]["language_info"]["version"] == "3.11.2"  # JupyterLab writes the kernel's
    assert nb["nbformat"] == 4 and nb["nbformat_minor"] == 5
    assert [c["id"] for c in nb["cells"]] == ["cell-0", "cell-1"]
    assert nb["cells"][1]["metadata"] == {}  # execution timings dropped
    trace = nb["cells"][1]["outputs"][0]["data"][PLOTLY_MIME]["data"][0]
    assert trace["x"] == [653.9, 1, 0.1235] and trace["y"] == [0.5, 2, 0]
    assert isinstance(trace["x"][1], int)  # JSON.stringify writes 1.0 as 1
    assert '"x": [\n' in text and text.endswith("}\n") and text.startswith('{\n "cells": [\n  {\n')  # indent 1
    assert list(nb) == sorted(nb) and list(nb["cells"][1]) == sorted(nb["cells"][1])
    assert notebooks.normalise(str(path)) is False and path.read_text() == text  # a fixed point


def test_normalise_leaves_a_normalised_file_untouched(tmp_path):
    path = write(tmp_path, [code("print(1)", new_output("stream", name="stdout", text="1\n"))])
    notebooks.normalise(str(path))
    before = path.stat().st_mtime_ns, path.read_bytes()
    assert notebooks.main(["normalise", str(path)]) == 0
    assert (path.stat().st_mtime_ns, path.read_bytes()) == before


def test_stream_outputs_merge_and_carriage_returns_apply_as_in_jupyterlab(tmp_path):
    chunks = ["epoch 1\n", " 10%|#   |\r", " 50%|#####|\r100%|########|\n", "done\b\b\bne\n"]
    assert notebooks.terminal_text(chunks) == "epoch 1\n100%|########|\ndne\n"
    path = write(tmp_path, [code("train()", *[new_output("stream", name="stderr", text=c) for c in chunks],
                                 new_output("stream", name="stdout", text="x\n"))])
    notebooks.normalise(str(path))
    outputs = json.loads(path.read_text())["cells"][1]["outputs"]
    assert [(o["name"], "".join(o["text"])) for o in outputs] == [("stderr", "epoch 1\n100%|########|\ndne\n"),
                                                                  ("stdout", "x\n")]


def test_compact_plotly_json_decodes_typed_arrays_and_trims_the_template():
    values = np.array([[653.9, 0.25], [-1.5, 2.0]], dtype=np.float32)
    fig = {"data": [{"type": "scatter3d", "x": {"dtype": "f4", "bdata": base64.b64encode(values.tobytes()).decode(),
                                                 "shape": "2, 2"}}],
           "layout": {"template": {"data": {"scatter3d": [{"type": "scatter3d"}], "bar": [{"type": "bar"}]},
                                   "layout": {"font": {"size": 12.0}}}}}
    out = compact_plotly_json(fig)
    assert out["data"][0]["x"] == [[653.9, 0.25], [-1.5, 2]]
    assert set(out["layout"]["template"]["data"]) == {"scatter3d"} and out["layout"]["template"]["layout"] == {
        "font": {"size": 12}}
    assert round_number(0.000123456) == 0.000123 and round_number(1234.56789) == 1234.5679
    assert round_number(float("nan")) != round_number(float("nan")) and round_number(0.0) == 0


def test_check_accepts_a_notebook_with_pictures_beside_figures_and_widgets(tmp_path):
    path = write(tmp_path, [
        new_markdown_cell("Data in `data/`, see https://example.org/tmp/x and ~/work/y"),
        code("fig", figure_output()),
        code("explorer", new_output("display_data", data=WIDGET), new_output("display_data", data=PNG)),
        code("controls", new_output("display_data", data=WIDGET), new_output("stream", name="stdout", text="ok\n"),
             new_output("display_data", data=picture(b"controls"))),  # the picture later in the same cell
        code("print(path)", new_output("stream", name="stdout", text="wrote checkpoint/quick/stage_1.bin\n")),
    ])
    notebooks.normalise(str(path))
    assert notebooks.check(str(path)) == []
    assert notebooks.main(["check", str(path)]) == 0


def test_check_reports_each_problem(tmp_path, capsys):
    path = write(tmp_path, [
        code("fig", figure_output(with_image=False)),
        code("explorer", new_output("display_data", data=WIDGET)),
        code("picture()", new_output("display_data", data=PNG)),  # another cell: not a picture of the widget
        code("paths", new_output("stream", name="stdout", text="wrote /work/main/checkpoint/a.bin\n"),
             new_output("execute_result", data={"text/plain": "'/tmp/x/data_3d.npz'"}, execution_count=5)),
        code("home", new_output("display_data", data={"text/html": "<a href='/home/ana/n.ipynb'>n</a>",
                                                      "text/plain": "/root/data"})),
        code("1 / 0", new_output("error", ename="ZeroDivisionError", evalue="division by zero", traceback=[])),
        new_code_cell("never_run()"),
        code("controls", new_output("display_data", data=WIDGET_WITH_TEXT), new_output("display_data", data=PNG)),
    ])
    problems = notebooks.check(str(path))
    assert problems[0].startswith("not normalised: run `python -m relpose.cli.notebooks normalise")
    assert "code cell 1 stores a Plotly figure without a static image (image/png)" in problems
    assert any(p.startswith("code cell 2 stores a widget without a static picture after it") for p in problems)
    assert any(p.startswith("code cell 4 output holds an absolute path (/work/main/checkpoint/a.bin)")
               for p in problems)
    assert any(p.startswith("code cell 4 output holds an absolute path (/tmp/x/data_3d.npz)") for p in problems)
    assert any(p.startswith("code cell 5 output holds an absolute path (/home/ana/n.ipynb, /root/data)")
               for p in problems)
    assert "code cell 6 stores an error" in problems and "code cell 7 was never run" in problems
    assert any(p.startswith("code cell 8 stores a widget with its text form, which readers without a kernel see")
               for p in problems)
    assert any(p.startswith("code cell 8 stores the same picture as code cell 3: show a figure once")
               for p in problems)
    assert len(problems) == 10
    notebooks.normalise(str(path))
    assert len(notebooks.check(str(path))) == 9  # normalising fixes only the form
    assert notebooks.main(["check", str(path)]) == 1
    assert "nb.ipynb: code cell 1 stores a Plotly figure" in capsys.readouterr().out


def test_check_wants_the_parameters_cell_and_small_outputs(tmp_path, monkeypatch):
    nb = new_notebook(cells=[code("x = 1"), code("big", new_output("stream", name="stdout", text="y" * 3000))])
    path = tmp_path / "plain.ipynb"
    nbformat.write(nb, path)
    notebooks.normalise(str(path))
    monkeypatch.setattr(notebooks, "MAX_CELL_OUTPUT", 2000)
    monkeypatch.setattr(notebooks, "MAX_NOTEBOOK_OUTPUT", 2500)
    assert notebooks.check(str(path)) == ["first code cell is not tagged 'parameters'",
                                          "code cell 1 stores 3 kB of outputs", "3 kB of outputs in total"]


def test_command_line_errors_are_one_line_with_exit_code_2(tmp_path, capsys):
    assert notebooks.main(["check", str(tmp_path / "missing.ipynb")]) == 2
    assert notebooks.main(["tidy", "x.ipynb"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == (f"error: no notebook {tmp_path / 'missing.ipynb'}: "
                      "give paths of .ipynb files, e.g. notebooks/*.ipynb")
    assert err[1].startswith("error: argument command: invalid choice: 'tidy'") and len(err) == 2


@pytest.mark.parametrize("text", ["see /work/main/data", "(/tmp/abc)", "'/root/x'", "/Users/ana/kit"])
def test_absolute_path_pattern_finds_machine_paths(text):
    assert notebooks.ABSOLUTE_PATH.search(text)


@pytest.mark.parametrize("text", ["data/tmp/x", "https://host/work/x", "~/tmp/x", "checkpoint/quick", "a/home/b"])
def test_absolute_path_pattern_leaves_relative_paths_and_urls(text):
    assert not notebooks.ABSOLUTE_PATH.search(text)
