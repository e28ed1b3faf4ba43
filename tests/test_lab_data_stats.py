import numpy as np
import pytest

from relpose.datasets import load_dataset
from relpose.errors import UserError
from relpose.skeleton import H36M_17
from relpose.lab.data_stats import (format_statistics, library_takes_table, per_action_statistics, range_of_motion,
                                    root_speed)
from relpose.synth import generate, generator


def random_rotation(rng):
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return q * np.sign(np.linalg.det(q))


def test_root_speed_of_uniform_motion():
    t = np.arange(11)[:, None]
    seq = np.zeros((11, 3, 3))
    seq[:, :, 0] = 0.02 * t            # 2 cm per frame along x, every joint
    speed = root_speed(seq, fps=50)
    assert speed.shape == (10,)
    np.testing.assert_allclose(speed, 1.0)   # 0.02 m x 50 Hz


def test_range_of_motion_matches_brute_force_and_ignores_root_translation():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(40, 5, 3))
    rel = seq - seq[:, :1]
    brute = np.array([max(np.linalg.norm(rel[a, j] - rel[b, j]) for a in range(40) for b in range(40))
                      for j in range(5)])
    rom = range_of_motion(seq)
    np.testing.assert_allclose(rom, brute, rtol=1e-9, atol=1e-12)
    assert rom[0] == 0
    # Moving the whole body (root included) changes nothing; rotating it neither.
    moved = seq + rng.normal(size=(40, 1, 3)) * 5
    np.testing.assert_allclose(range_of_motion(moved), rom, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(range_of_motion(seq @ random_rotation(rng).T), rom, rtol=1e-9, atol=1e-9)


def test_range_of_motion_in_blocks_equals_one_block(monkeypatch):
    import relpose.lab.data_stats as stats
    rng = np.random.default_rng(1)
    seq = rng.normal(size=(101, 4, 3))
    whole = range_of_motion(seq, root_relative=False)
    monkeypatch.setattr(stats, "_BLOCK_ELEMENTS", 4 * 101 * 7)   # 7 rows per block, last one partial
    np.testing.assert_allclose(range_of_motion(seq, root_relative=False), whole, rtol=1e-12)


def test_range_of_motion_of_a_segment():
    seq = np.zeros((3, 2, 3))
    seq[:, 1] = [[0, 0, 0], [0.3, 0.4, 0], [0.1, 0.1, 0]]
    np.testing.assert_allclose(range_of_motion(seq), [0, 0.5])


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="frames, joints, 3"):
        range_of_motion(np.zeros((5, 17, 2)))
    with pytest.raises(ValueError, match="fps"):
        root_speed(np.zeros((5, 17, 3)), fps=0)


@pytest.fixture(scope="module")
def tiny_synth(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth")
    generate(str(folder), size="tiny")
    return load_dataset("synth", "gt", str(folder))


def test_per_action_statistics_on_synthetic_data(tiny_synth):
    ds = tiny_synth
    stats = per_action_statistics(ds, ["S9"])
    assert [s.action for s in stats] == list(ds.actions_by_name(["S9"]))
    walking = next(s for s in stats if s.action == "Walking")
    takes = ds.actions_by_name(["S9"])["Walking"]
    assert walking.takes == len(takes) == 2
    assert walking.frames == sum(len(ds.positions_3d[s][a][0]) for s, a in takes)
    # Recompute by hand from the world-space file: speed and range do not depend on the camera.
    seqs = [ds.positions_3d[s][a][1] for s, a in takes]          # another camera
    absolute = [np.concatenate([q[:, :1], q[:, 1:] + q[:, :1]], axis=1) for q in seqs]
    speed = np.concatenate([np.linalg.norm(np.diff(q[:, 0], axis=0), axis=-1) for q in absolute]).mean() * ds.fps
    assert walking.root_speed == pytest.approx(speed, rel=1e-4)
    assert walking.range_of_motion_mm.shape == (17,)
    assert walking.range_of_motion_mm[0] == 0
    # People walk faster than they sit.
    sitting = next(s for s in stats if s.action == "Sitting")
    assert walking.root_speed > sitting.root_speed


def test_per_action_statistics_downsample_and_filter(tiny_synth):
    full = per_action_statistics(tiny_synth, ["S9"], action_filter=["Walking"])
    half = per_action_statistics(tiny_synth, ["S9"], action_filter=["Walking"], downsample=2)
    assert [s.action for s in full] == ["Walking"]          # a prefix filter: not WalkTogether/WalkDog
    assert half[0].frames == sum((len(tiny_synth.positions_3d["S9"][a][0]) + 1) // 2 for _, a in
                                 tiny_synth.actions_by_name(["S9"], ["Walking"])["Walking"])
    assert half[0].root_speed == pytest.approx(full[0].root_speed, rel=0.05)
    with pytest.raises(UserError, match="downsample"):
        per_action_statistics(tiny_synth, ["S9"], downsample=0)


def test_format_statistics(tiny_synth):
    stats = per_action_statistics(tiny_synth, ["S9"], action_filter=["Walking", "Sitting"])
    text = format_statistics(stats, H36M_17, joints=["LWrist", 3])
    lines = text.splitlines()
    assert "LWrist" in lines[0] and "RFoot" in lines[0]
    assert len(lines) == 2 + len(stats) + 1
    walking = next(line for line in lines if line.startswith("Walking "))
    speed = next(s.root_speed for s in stats if s.action == "Walking")
    assert f"  {speed:.2f}  " in walking
    with pytest.raises(UserError, match="joint 'Elbow'"):
        format_statistics(stats, H36M_17, joints=["Elbow"])


def test_library_takes_table_puts_each_take_s_motion_under_its_action_and_counts_them():
    library = {"S1": {"Photo 1": "kneel", "Greeting": "wave"}, "S9": {}, "S11": {"Photo": "squat", "Photo 1": "kneel"}}
    text = library_takes_table(library, actions=["Photo", "Greeting"])
    lines = text.splitlines()
    assert lines[0].split() == ["subject", "Photo", "Greeting"]
    assert [line.split("  ")[0].strip() for line in lines[2:5]] == ["S1", "S9", "S11"]   # the subjects in order
    assert lines[2].split() == ["S1", "-", "/", "kneel", "wave", "/", "-"]               # first / second take
    assert lines[3].split() == ["S9", "-", "/", "-", "-", "/", "-"]
    assert lines[4].split() == ["S11", "squat", "/", "kneel", "-", "/", "-"]
    assert lines[6].split() == ["library", "3", "of", "6", "1", "of", "6"]
    default = library_takes_table(library).splitlines()[0].split()
    assert default[1:] == list(generator.FLOOR_VARIANTS)                                # the actions with variants
    with pytest.raises(UserError, match="no takes of Cooking"):
        library_takes_table(library, actions=["Cooking"])
