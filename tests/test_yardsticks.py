"""The plausibility checks' yardsticks: measured on the truth (relpose.lab.yardsticks), stored by one command
(relpose.cli.yardsticks), printed beside a lift (relpose.wild.plausibility with relpose.wild.yardsticks)."""
import hashlib
import json

import pytest

from relpose.datasets import load_dataset
from relpose.lab import yardsticks as lab
from relpose.lab.wild_model import shipped_model_path
from relpose.wild import yardsticks as stored
from relpose.wild.plausibility import PlausibilityReport


@pytest.fixture(scope="module")
def synth_truth(tiny_data_dir):
    return lab.truth_reports(load_dataset("synth", "gt", tiny_data_dir), ["S9", "S11"], cameras=[0, 1])


def test_truth_has_constant_symmetric_bones_and_planted_feet(synth_truth):
    values = lab.aggregate(synth_truth)
    assert values["bone_variation_median_pct"]["views"] == len(synth_truth) > 10
    assert values["bone_variation_max_pct"]["p90"] < 0.5          # real bones keep their length
    assert values["asymmetry_mean_pct"]["p90"] < 0.5              # the synthetic bodies are symmetric
    assert values["outside_limits_pct"]["p90"] == 0.0
    assert values["foot_sliding_cm_s"]["median"] < 5.0            # the root placed from exact projections


def test_mocap_truth_has_constant_bones(tmp_path):
    pytest.importorskip("pybullet")
    from relpose.mocap import make_files
    make_files(str(tmp_path), only=["3d", "gt"], log=lambda *_: None)
    values = lab.aggregate(lab.truth_reports(load_dataset("mocap", "gt", str(tmp_path)), ["S11"], cameras=[0]))
    assert values["bone_variation_max_pct"]["p90"] < 0.5
    assert values["height_cm"]["p10"] == values["height_cm"]["p90"]   # one humanoid in every clip


def test_aggregate_gives_median_and_range_and_skips_what_was_not_measured():
    class Fake:
        def __init__(self, sliding):
            self.sliding = sliding

        def values(self):
            return {"bone_variation_median_pct": 1.0, "foot_sliding_cm_s": self.sliding}

    values = lab.aggregate([Fake(s) for s in [*range(11), None, float("nan")]])
    assert values["foot_sliding_cm_s"] == dict(median=5.0, p10=1.0, p90=9.0, views=11)
    assert values["bone_variation_median_pct"]["views"] == 13


def test_mocap_keypoints_fall_back_to_det_until_the_set_has_the_models():
    assert lab.mocap_keypoints("det") == "det"
    assert lab.mocap_keypoints("no-such-keypoints") == "det"
    assert lab.mocap_keypoints("det", wanted="gt") == "gt"
    names = [s.name for s in lab.take_sets({"wild-quick": "det_coco"})]
    assert set(lab.SHOWN) <= set(names) and "wild-quick on synth" in names


# ------------------------------------------------------------------------------------- the stored file
def stored_document() -> dict:
    path = stored.yardsticks_path()
    assert path.is_file(), f"{path} is missing: make it with {stored.COMMAND}"
    return json.loads(path.read_text())


def test_stored_file_schema_and_provenance():
    doc = stored_document()
    assert doc["format"] == stored.FORMAT and doc["version"] == stored.VERSION
    keys = {"bone_variation_median_pct", "bone_variation_max_pct", "asymmetry_mean_pct", "asymmetry_max_pct",
            "foot_sliding_cm_s", "planted_frames_pct", "outside_limits_pct", "height_cm", "shoulder_width_pct",
            "hip_width_pct", "leg_length_pct", "arm_span_pct"}
    names = [s.name for s in lab.take_sets({m: "det" for m in lab.MODELS})]
    assert set(doc["sets"]) == set(names) and doc["shown"] == list(lab.SHOWN) and len(doc["notes"]) == 1
    for name, entry in doc["sets"].items():
        assert set(entry["values"]) == keys, name
        assert entry["views"] > 0 and entry["frames"] > entry["views"]
        for key, v in entry["values"].items():
            assert v["p10"] <= v["median"] <= v["p90"] and 0 < v["views"] <= entry["views"], (name, key)
        assert (entry["model"] is None) == ("truth" in name)
    for truth in ("synth truth", "mocap truth"):
        assert doc["sets"][truth]["values"]["bone_variation_max_pct"]["p90"] < 0.5
    made = doc["provenance"]
    assert made["command"].startswith(stored.COMMAND) and len(made["commit"]) == 40 and made["commit_dirty"] is False
    assert made["torch"] and made["date"] and made["wall_seconds"] > 0
    assert {"data_3d_synth.npz", "data_3d_mocap.npz", "data_2d_mocap_gt.npz"} <= set(made["data"])
    assert all(g and g.get("version") for g in made["data"].values())
    assert set(made["models"]) == set(lab.MODELS)
    assert made["models"]["wild-quick"]["provenance"]["made_by"] == "python -m relpose.cli.wild_model"


def test_stored_file_was_measured_with_the_shipped_model():
    recorded = stored_document()["provenance"]["models"]["wild-quick"]["sha256"]
    assert hashlib.sha256(shipped_model_path().read_bytes()).hexdigest() == recorded, \
        f"the shipped model changed since the yardsticks were measured: run {stored.COMMAND} --overwrite"


# ------------------------------------------------------------------------------------- printed beside a lift
def header(table: str) -> str:
    return table.splitlines()[1]


def test_table_and_summary_show_the_yardsticks(synth_truth):
    report: PlausibilityReport = synth_truth[0]
    marks = stored.load_yardsticks()
    assert [c.name for c in marks.columns] == list(lab.SHOWN)
    table = report.table()
    assert table == report.table(marks)
    assert header(table).split()[:7] == ["metric", "value", "unit", "mocap", "truth", "wild-quick", "on"]
    truth = stored_document()["sets"]["mocap truth"]["values"]["asymmetry_mean_pct"]
    row = next(line for line in table.splitlines() if line.startswith("left/right asymmetry (mean)"))
    assert stored.range_text(truth["median"], truth["p10"], truth["p90"]) in row
    assert "yardsticks: median [10-90% range]" in table and "DeepMimic" in table
    assert "2D noise moving the placed root" in table   # the file's note on reading foot sliding
    line = report.summary()
    assert "\n" not in line and f"[mocap truth {truth['median']:.1f}%, wild-quick on mocap " in line
    assert line.startswith("plausibility: bone length varies ")


def test_without_the_file_a_lift_prints_as_before(synth_truth, tmp_path, monkeypatch):
    report = synth_truth[0]
    assert stored.load_yardsticks(tmp_path / "missing.json") is None
    monkeypatch.setattr(stored, "yardsticks_path", lambda: tmp_path / "missing.json")
    table = report.table()
    assert table == report.table(None) and header(table).split()[:4] == ["metric", "value", "unit", "what"]
    assert "yardsticks" not in table and "[" not in report.summary()
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    monkeypatch.setattr(stored, "yardsticks_path", lambda: broken)
    assert report.table().splitlines()[-1].startswith("yardsticks not shown: ") and report.summary() == \
        report.summary(None)
    with pytest.raises(Exception, match="not a yardsticks file"):
        stored.parse_yardsticks({"format": "other"})


# ------------------------------------------------------------------------------------------ the command
def test_command_refuses_to_overwrite(tmp_path, capsys):
    from relpose.cli.yardsticks import main
    out = tmp_path / "yardsticks.json"
    out.write_text("mine")
    assert main(["--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err and "--overwrite" in err
    assert out.read_text() == "mine"
    assert main(["--no-such-flag"]) == 2
