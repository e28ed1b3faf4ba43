"""The sim-to-real gap (relpose.lab.sim_to_real): both sets evaluated alike, every frame counted once."""
import numpy as np
import pytest

pytest.importorskip("pybullet")

from relpose.datasets import load_dataset  # noqa: E402
from relpose.errors import UserError  # noqa: E402
from relpose.lab import sim_to_real as sr  # noqa: E402
from relpose.lab.presets import Preset  # noqa: E402
from relpose.mocap import make_files  # noqa: E402
from relpose.model import RIEModel  # noqa: E402
from relpose.train import TrainConfig  # noqa: E402

TINY = Preset("tiny", (3, 3), 16, 16, 32, {1: TrainConfig(stage=1, epochs=1)})


@pytest.fixture(scope="module")
def sets(tiny_data_dir, tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("mocap"))
    make_files(folder, log=lambda *_: None)
    return load_dataset("synth", "gt", tiny_data_dir), load_dataset("mocap", "gt", folder), folder


def test_gap_counts_every_frame_once_and_pools_consistently(sets):
    import torch
    torch.manual_seed(0)
    synth, mocap, _ = sets
    model = RIEModel(TINY.model_config(synth, 1))
    gap = sr.sim_to_real_gap(model, synth, mocap, downsample=4, synth_cameras=[0])
    clips = mocap.actions("S11")
    assert list(gap.mocap.per_action) == clips
    # All four phases of every clip in all four cameras: every frame exactly once.
    assert gap.mocap.frames == 4 * sum(len(mocap.positions_3d["S11"][c][0]) for c in clips)
    assert gap.synth.frames == sum(len(synth.positions_3d[s][a][0]) for s in ("S9", "S11") for a in synth.actions(s))
    for e in (gap.synth, gap.mocap):
        # The per-joint errors pool the same frames as the frame-weighted per-action MPJPE.
        weighted = sum(v[0] * v[2] for v in e.per_action.values()) / e.frames
        assert e.per_joint_mm.mean() == pytest.approx(weighted, rel=1e-4)
        assert e.per_joint_mm.shape == (len(synth.skeleton.joint_names),)
        assert e.mpjpe_mm == pytest.approx(np.mean([v[0] for v in e.per_action.values()]))
    assert gap.gap_mm == pytest.approx(gap.mocap.mpjpe_mm - gap.synth.mpjpe_mm)
    table = sr.gap_table({"tiny": gap})
    assert "mocap P1" in table and f"{gap.mocap.mpjpe_mm:.1f}" in table
    where = sr.where_table(gap, synth.skeleton.joint_names, worst=3)
    assert all(name in where for name in synth.skeleton.joint_names)


def test_gap_refuses_mixed_keypoints(sets):
    synth, _, folder = sets
    det = load_dataset("mocap", "det", folder)
    with pytest.raises(UserError, match="compare like with like"):
        sr.sim_to_real_gap(RIEModel(TINY.model_config(synth, 1)), synth, det)


def _gap(sets, seed):
    import torch
    torch.manual_seed(seed)
    synth, mocap, _ = sets
    return sr.sim_to_real_gap(RIEModel(TINY.model_config(synth, 1)), synth, mocap, downsample=4, synth_cameras=[0])


@pytest.fixture(scope="module")
def three_gaps(sets):
    """Gaps of three untrained models (seeds 0-2), evaluated once for the tests below."""
    return {seed: _gap(sets, seed) for seed in range(3)}


def test_clip_table_and_record_carry_every_clip_and_the_ratios(sets, three_gaps):
    synth, mocap, _ = sets
    gaps = {"a": three_gaps[0], "b": three_gaps[1]}
    table = sr.clip_table(gaps)
    lines = table.splitlines()
    assert "a P1" in lines[0] and "b P1" in lines[0] and "x synth" in lines[0]
    for clip in mocap.actions("S11"):
        row = next(line for line in lines if line.startswith(clip + " "))
        assert f"{gaps['b'].mocap.per_action[clip][0]:.1f}" in row
        assert f"{round(gaps['a'].mocap.per_action[clip][0], 1) / round(gaps['a'].synth.mpjpe_mm, 1):.2f}" in row
    assert f"{gaps['a'].ratio:.2f}" in next(line for line in lines if line.startswith("all clips"))
    record = sr.gap_record(gaps["a"], list(synth.skeleton.joint_names))
    # a stored record prints the same table as the Gap it was made from
    assert sr.clip_table({"a": record, "b": gaps["b"]}) == table
    assert set(record["per_clip_mm"]) == set(mocap.actions("S11"))
    assert record["ratio"] == pytest.approx(gaps["a"].ratio, abs=1e-3)
    assert record["per_joint_mm"]["mocap"]["Hip"] == pytest.approx(gaps["a"].mocap.per_joint_mm[0], abs=0.05)


def test_seeds_summary_is_the_mean_and_t_interval(sets, three_gaps):
    from relpose.lab.intervals import mean_interval
    gaps = three_gaps
    summary = sr.seeds_summary(gaps)
    ratios = [g.ratio for g in gaps.values()]
    assert summary["ratio"].mean == pytest.approx(np.mean(ratios))
    assert summary["ratio"].half_width == pytest.approx(mean_interval(ratios).half_width)
    assert summary["ratio"].half_width > 0 and summary["ratio"].n == 3
    assert {f"clip {c}" for c in sets[1].actions("S11")} <= set(summary)


@pytest.mark.parametrize("argv, message", [
    ([], "give models as NAME=CHECKPOINT, or --seeds"),
    (["--seeds", "1,x"], "--seeds '1,x': give whole numbers"),
    (["--seeds", "1,1"], "give distinct non-negative whole numbers"),
    (["justapath.bin"], "model 'justapath.bin': give NAME=CHECKPOINT"),
    (["a=x.bin", "a=y.bin"], "model name 'a' given twice"),
    (["a=x.bin", "--also-train-on", "synthwild"], "--also-train-on changes what --seeds trains"),
    (["--seeds", "1", "--also-train-on", "nosuchset"], "unknown data set 'nosuchset'"),
    (["--seeds", "1", "--also-train-on", "h36m"], "--also-train-on h36m: give kit-made sets"),
    (["--seeds", "1", "--also-train-on", "synth"], "--also-train-on synth: give kit-made sets"),
    (["a=x.bin", "--recipe", "wild"], "--recipe and --subset change what --seeds trains"),
    (["a=x.bin", "--subset", "0.1"], "--recipe and --subset change what --seeds trains"),
    (["--seeds", "1", "--subset", "0"], "subset"),
    (["--seeds", "1", "--subset", "1.5"], "must be in (0, 1]"),
    (["--seeds", "1", "--recipe", "wild"], "--recipe wild trains the in-the-wild model's recipe on its own data"),
    (["--seeds", "1", "--recipe", "wild", "-k", "det_coco", "--also-train-on", "synthwild"], "no --also-train-on"),
])
def test_command_line_errors_are_one_line(argv, message, capsys):
    from relpose.cli import sim_to_real as cli
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_stored_seed_results_print_their_means(sets, three_gaps):
    gaps = {0: three_gaps[0], 1: three_gaps[1]}
    summary = sr.seeds_summary(gaps)
    stored = {"over_seeds": {k: {"mean": v.mean, "half_width_95": v.half_width, "n": v.n} for k, v in summary.items()}}
    line = sr.seeds_line(stored)
    ratio = summary["ratio"]
    assert line.startswith("over 2 seeds") and f"ratio {ratio.mean:.2f} ± {ratio.half_width:.2f}" in line
    means = sr.seed_means(stored)
    clip = sets[1].actions("S11")[0]
    assert means["per_clip_mm"][clip] == pytest.approx(np.mean([g.mocap.per_action[clip][0] for g in gaps.values()]))
    assert "all clips" in sr.clip_table({"mean": means})
    assert sr.seeds_line({}) == "no seeds in this result"
