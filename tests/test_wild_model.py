"""The in-the-wild model the kit ships (relpose/data/models/wild-quick.bin): small, weights-only, with its
provenance, the default of `make wild`, and a model that lifts: on synthetic COCO keypoints of bodies it
never saw it is as accurate as its record says."""
import numpy as np
import pytest
import torch

from relpose import checkpoints
from relpose.datasets import load_dataset
from relpose.errors import UserError
from relpose.evaluate import evaluate_dataset
from relpose.lab import wild_model
from relpose.weights import load_any_model


def test_the_shipped_model_is_small_weights_only_and_records_how_it_was_made():
    path = wild_model.shipped_model_path()
    assert path.is_file() and path.stat().st_size <= wild_model.MAX_SHIPPED_BYTES
    ckpt = checkpoints.load_checkpoint(path)   # torch.load(weights_only=True): no code can run
    assert "optimizer" not in ckpt and "random_state" not in ckpt
    floats = [t for t in ckpt["model_pos"].values() if t.is_floating_point()]
    assert floats and all(t.dtype == torch.float16 for t in floats)
    record = ckpt["provenance"]
    assert record["made_by"] == "python -m relpose.cli.wild_model" and record["commit"]
    assert record["recipe"].startswith("quick") and "det_coco" in record["recipe"] and "-d synthwild" in record["recipe"]
    assert "training subjects of -d synth" in record["recipe"]   # the Human3.6M-shaped set trains alongside
    assert record["data"]["synthwild"]["maker"] == "relpose.synth.wild_set" and record["torch"].startswith("2.")
    assert record["data"]["synth"]["maker"] == "relpose.synth" and record["data"]["synth"]["version"] == 2
    assert set(record["test_subjects"]) == {"synthwild", "synth"}
    errors = record["synthetic_test_error"]
    # Half precision costs nothing measurable: the record's two figures within 0.5 mm, on both test sets.
    for test_set in ("synthwild", "synth"):
        assert abs(errors["float16"][test_set]["mpjpe_mm"] - errors["float32"][test_set]["mpjpe_mm"]) < 0.5
    assert ckpt["config"]["input_layout"] == "h36m-17" and ckpt["data"]["fps"] > 0


def test_the_shipped_model_lifts_bodies_it_never_saw(tmp_path):
    from relpose.synth import generate
    generate(str(tmp_path), seed=7, size="tiny", only=["3d", "det_coco"])   # another seed: other bodies and takes
    dataset = load_dataset("synth", "det_coco", tmp_path)
    model, ckpt = load_any_model(wild_model.shipped_model_path())
    assert next(model.parameters()).dtype == torch.float32   # float16 weights come back as float32
    result = evaluate_dataset(model, dataset, ["S9", "S11"], downsample=2, log=None)
    recorded = ckpt["provenance"]["synthetic_test_error"]["float16"]["synth"]["mpjpe_mm"]
    # The tiny set has few, short takes: its error scatters around the full test set's; 1.5x bounds it.
    assert np.isfinite(result.average("mpjpe_mm")) and result.average("mpjpe_mm") < 1.5 * recorded


def test_make_wild_lifts_with_the_shipped_model_and_never_replaces_one(tmp_path, monkeypatch):
    def no_training(*_, **__):
        raise AssertionError("trained although the shipped model is there")
    monkeypatch.setattr(wild_model, "ensure_wild_model", no_training)
    assert wild_model.default_wild_model(log=None) == str(wild_model.shipped_model_path())
    existing = tmp_path / "model.bin"
    existing.write_bytes(b"a user's file")
    with pytest.raises(UserError, match="model.bin"):
        wild_model.make_shipped_model(existing)   # refused before any training or evaluation
    assert existing.read_bytes() == b"a user's file"


def test_half_precision_keeps_integer_buffers():
    state = {"w": torch.ones(2, dtype=torch.float32), "bn.num_batches_tracked": torch.tensor(5)}
    half = wild_model.half_precision(state)
    assert half["w"].dtype == torch.float16 and half["bn.num_batches_tracked"].dtype == torch.int64
