"""The synthetic Human3.6M-shaped data set: file layout, determinism, and that the motion is human."""
import os
import subprocess
import sys

import numpy as np
import pytest

from relpose import synth
from relpose.cli import synth as synth_cli
from relpose.cameras import image_coordinates, load_rig, project_to_2d, world_to_camera
from relpose.errors import UserError
from relpose.skeleton import H36M_32, reduce_h36m_32_to_17

SUBJECTS = ["S1", "S5", "S6", "S7", "S8", "S9", "S11"]
BASE = ["Directions", "Discussion", "Eating", "Greeting", "Phoning", "Photo", "Posing", "Purchases", "Sitting",
        "SittingDown", "Smoking", "Waiting", "WalkDog", "Walking", "WalkTogether"]
ACTIONS = sorted(BASE + [a + " 1" for a in BASE])
FOOT = [3, 4, 5, 8, 9, 10]      # ankles, toe bases, toe tips (32-joint indices)


def _load(path, key):
    return np.load(path, allow_pickle=True)[key].item()


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    paths = synth.generate(out, seed=0, size="tiny")
    return dict(paths=paths, p3=_load(paths["3d"], "positions_3d"), gt=_load(paths["gt"], "positions_2d"),
                det=_load(paths["det"], "positions_2d"))


def _unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _angle(a, b):
    return np.degrees(np.arccos(np.clip(np.sum(_unit(a) * _unit(b), -1), -1, 1)))


def test_layout_keys_dtypes_shapes(data):
    paths = data["paths"]
    assert {os.path.basename(p) for p in paths.values()} == {
        "data_3d_synth.npz", "data_2d_synth_gt.npz", "data_2d_synth_det.npz"}
    made = dict(maker="relpose.synth", version=synth.GENERATOR_VERSION, seed=0, size="tiny", frames_per_take=None)
    f = np.load(paths["3d"], allow_pickle=True)
    meta = f["metadata"].item()
    assert set(f.files) == {"positions_3d", "metadata"} and meta["generator"] == made
    # which takes are library motions, and only where the action has such variants
    library = meta["library_takes"]
    assert set(library) == set(SUBJECTS)
    assert all(a.split(" ")[0] in synth.generator.FLOOR_VARIANTS and m in synth.generator.FLOOR_VARIANTS[
        a.split(" ")[0]][1] for takes in library.values() for a, m in takes.items())
    for key in ("gt", "det"):
        f = np.load(paths[key], allow_pickle=True)
        assert set(f.files) == {"positions_2d", "metadata"}
        assert f["metadata"].item() == dict(layout_name="h36m", num_joints=17, generator=made,
                                            keypoints_symmetry=[[4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]])
    assert sorted(data["p3"]) == sorted(SUBJECTS) == sorted(synth.SYNTH_SUBJECTS_TRAIN + synth.SYNTH_SUBJECTS_TEST)
    assert sorted(synth.SYNTH_ACTIONS) == ACTIONS
    for s in SUBJECTS:
        assert sorted(data["p3"][s]) == sorted(data["gt"][s]) == sorted(data["det"][s]) == ACTIONS
        for a in ACTIONS:
            pos = data["p3"][s][a]
            assert pos.dtype == np.float32 and pos.shape == (80, 32, 3)
            for key in ("gt", "det"):
                views = data[key][s][a]
                assert isinstance(views, list) and len(views) == 4
                assert all(v.dtype == np.float32 and v.shape == (80, 17, 2) for v in views)


def test_deterministic_by_seed(data, tmp_path):
    again = synth.generate(tmp_path / "a", seed=0, size="tiny")
    other = synth.generate(tmp_path / "b", seed=1, size="tiny")
    for key, name in (("3d", "positions_3d"), ("gt", "positions_2d"), ("det", "positions_2d")):
        first, same, diff = (_load(p[key], name) for p in (data["paths"], again, other))
        for s in SUBJECTS:
            for a in ACTIONS:
                assert np.array_equal(np.asarray(first[s][a]), np.asarray(same[s][a]))
        assert not np.allclose(np.asarray(first["S1"]["Walking"]), np.asarray(diff["S1"]["Walking"]))


def test_bone_lengths_constant_and_subject_specific(data):
    per_subject = {}
    for s in SUBJECTS:
        lengths = np.concatenate([H36M_32.bone_lengths(x.astype(np.float64)) for x in data["p3"][s].values()])
        assert np.abs(lengths - lengths[0]).max() < 1e-5
        per_subject[s] = lengths[0]
    thigh = [per_subject[s][1] for s in SUBJECTS]        # bone (2, 1): RHip -> RKnee
    assert max(thigh) - min(thigh) > 0.05
    for i, a in enumerate(SUBJECTS):
        for b in SUBJECTS[i + 1:]:
            assert np.abs(per_subject[a] - per_subject[b]).max() > 0.005, (a, b)


def test_joint_angles_within_human_ranges(data):
    for s in SUBJECTS:
        for a, x in data["p3"][s].items():
            x = x.astype(np.float64)
            left = x[:, 6] - x[:, 1]                                  # right hip -> left hip
            for hip, knee, ankle in ((1, 2, 3), (6, 7, 8)):
                thigh, shank = x[:, knee] - x[:, hip], x[:, ankle] - x[:, knee]
                flexion = _angle(thigh, shank)
                assert flexion.max() <= 160, (s, a)
                # knees bend one way: the shank folds backwards, so thigh x shank points to the left
                bent = flexion > 10
                assert np.all(np.sum(_unit(np.cross(thigh, shank)) * _unit(left), -1)[bent] > 0.3), (s, a)
            up, across = _unit(x[:, 13] - x[:, 12]), _unit(x[:, 17] - x[:, 25])
            forward = np.cross(across, up)
            for shoulder, elbow, wrist in ((25, 26, 27), (17, 18, 19)):
                upper, fore = x[:, elbow] - x[:, shoulder], x[:, wrist] - x[:, elbow]
                assert _angle(upper, fore).max() <= 160, (s, a)
                # elbows bend one way: with the upper arm hanging, the forearm folds forwards
                side = fore - np.sum(fore * _unit(upper), -1, keepdims=True) * _unit(upper)
                hanging = (np.sum(_unit(upper) * -up, -1) > 0.8) & (np.linalg.norm(side, axis=-1) > 0.05)
                assert np.all(np.sum(_unit(side) * forward, -1)[hanging] > 0), (s, a)


def _library_takes(data):
    return np.load(data["paths"]["3d"], allow_pickle=True)["metadata"].item()["library_takes"]


def test_feet_on_the_floor(data):
    library = _library_takes(data)
    for s in SUBJECTS:
        for a, x in data["p3"][s].items():
            assert x[..., 2].min() > -0.01, (s, a)                  # never through the floor
            if a in library[s]:   # floor work, kneeling, waving ...: tests/test_synth_library.py checks them
                assert np.all(x[..., 2].min(1) < 0.12), (s, a)      # always lying, sitting or standing on something
                continue
            lowest = x[:, FOOT, 2].min(1)
            assert np.all(lowest < 0.02), (s, a)               # always standing on something (no flying)
            for toe in (5, 10):                                 # planted toes hardly slide
                planted = (x[1:, toe, 2] < 0.003) & (x[:-1, toe, 2] < 0.003)
                slide = np.linalg.norm(np.diff(x[:, toe, :2], axis=0), axis=-1)[planted]
                assert slide.max(initial=0) < 0.005, (s, a)
        # standing: the root sits at leg height (thigh + shank + ankle), knees nearly straight
        leg = H36M_32.bone_lengths(data["p3"][s]["Waiting"][:1])[0][[1, 2]].sum()
        root = data["p3"][s]["Waiting"][:, 0, 2]
        assert np.all((root > 0.9 * leg) & (root < leg + 0.12)), s


def test_five_actions_have_the_variety_of_the_real_set(tmp_path):
    """SittingDown goes down to the floor in some takes, Photo and Purchases crouch, kneel or bend, Greeting waves,
    Directions turns; the other ten actions are the key-pose generator's only."""
    paths = synth.generate(tmp_path, seed=0, size="tiny", frames_per_take=40, only=["3d"])
    f = np.load(paths["3d"], allow_pickle=True)
    library, p3 = f["metadata"].item()["library_takes"], f["positions_3d"].item()
    seen = {a.split(" ")[0] for takes in library.values() for a in takes}
    assert seen <= set(synth.generator.FLOOR_VARIANTS) and len(seen) >= 4
    n = sum(len(t) for t in library.values())
    assert 10 <= n <= 35                       # 70 takes of these actions at 25-50%
    floor = [p3[s][a] for s, takes in library.items() for a, m in takes.items() if m in ("sit_floor", "lie_back",
                                                                                          "lie_side", "get_up")]
    assert floor and min(x[:, 0, 2].min() for x in floor) < 0.3   # the pelvis comes down near the floor


def test_everything_in_front_of_every_camera_and_inside_the_image(data):
    rig = load_rig("h36m")
    for s in SUBJECTS:
        for a, x in data["p3"][s].items():
            for i, cam in enumerate(rig[s]):
                depth = world_to_camera(x, cam["orientation"], cam["translation"])[..., 2]
                assert depth.min() > 0.5, (s, a, i)
                uv = data["gt"][s][a][i]
                assert uv.min() >= 0 and uv[..., 0].max() <= cam["res_w"] and uv[..., 1].max() <= cam["res_h"]


def test_gt_2d_is_the_projection_of_the_3d(data):
    rig = load_rig("h36m")
    for s in SUBJECTS:
        for a in ("Walking", "Sitting 1", "Directions"):
            pos17 = reduce_h36m_32_to_17(data["p3"][s][a])
            for i, cam in enumerate(rig[s]):
                X = world_to_camera(pos17, cam["orientation"], cam["translation"])
                expected = image_coordinates(project_to_2d(X, cam["intrinsic"]), cam["res_w"], cam["res_h"])
                np.testing.assert_allclose(data["gt"][s][a][i], expected, atol=1e-3)


def test_detections_are_noisy_with_outliers(data):
    err = np.concatenate([np.linalg.norm(np.asarray(data["det"][s][a]) - np.asarray(data["gt"][s][a]), axis=-1).ravel()
                          for s in SUBJECTS for a in ACTIONS])
    assert 1.0 < np.median(err) < 8.0                       # a few pixels of jitter...
    assert 0.005 < np.mean(err > 25) < 0.05                 # ...and ~1% outliers (and swaps) of tens of pixels
    # the jitter is a little correlated in time, like a detector run frame by frame on a video
    r = np.concatenate([np.asarray(data["det"][s][a]) - np.asarray(data["gt"][s][a]) for s in SUBJECTS
                        for a in ACTIONS], axis=1)
    r = r - r.mean(1, keepdims=True)                        # without the per-camera bias
    ok = (np.abs(r[:, 1:]) < 15) & (np.abs(r[:, :-1]) < 15)
    lag1 = np.sum((r[:, 1:] * r[:, :-1])[ok]) / np.sqrt(np.sum(r[:, 1:][ok] ** 2) * np.sum(r[:, :-1][ok] ** 2))
    assert 0.2 < lag1 < 0.8


def test_walking_travels_and_waiting_stays(data):
    for s in SUBJECTS:
        for a in ("Walking", "Walking 1", "WalkDog", "WalkDog 1", "WalkTogether", "WalkTogether 1"):
            root = data["p3"][s][a][:, 0]
            assert np.linalg.norm(np.diff(root, axis=0), axis=-1).sum() > 1.0, (s, a)
        for a in ("Waiting", "Waiting 1"):
            speed = np.linalg.norm(np.diff(data["p3"][s][a][:, 0, :2], axis=0), axis=-1) * 50
            assert speed.mean() < 0.1, (s, a)


def test_ensure_synthetic_generates_only_when_missing(tmp_path):
    lines = []
    paths = synth.ensure_synthetic(tmp_path, frames_per_take=3, log=lines.append)
    assert len(lines) == 1 and "generated" in lines[0]
    assert all(os.path.exists(p) for p in paths.values())
    stamp = os.path.getmtime(paths["3d"])
    assert synth.ensure_synthetic(tmp_path, frames_per_take=3, log=lines.append) == paths
    assert len(lines) == 1 and os.path.getmtime(paths["3d"]) == stamp
    os.remove(paths["det"])
    synth.ensure_synthetic(tmp_path, frames_per_take=3, log=lines.append)
    assert os.path.exists(paths["det"]) and "data_2d_synth_det.npz" in lines[-1]
    assert "data_3d_synth.npz" not in lines[-1] and os.path.getmtime(paths["3d"]) == stamp  # only the missing one


def test_ensure_synthetic_makes_only_what_the_keypoints_need(tmp_path):
    paths = synth.ensure_synthetic(tmp_path, "det", frames_per_take=2, log=lambda *_: None)
    assert os.path.exists(paths["3d"]) and os.path.exists(paths["det"]) and not os.path.exists(paths["gt"])
    # The missing file made later equals the one a full generation writes (same arrays, same record).
    synth.ensure_synthetic(tmp_path, "gt", frames_per_take=2, log=lambda *_: None)
    full = synth.generate(tmp_path / "full", frames_per_take=2)
    assert open(paths["gt"], "rb").read() == open(full["gt"], "rb").read()


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_ensure_synthetic_never_touches_the_users_files(tmp_path):
    """A set that is not the generator's (the user's own files) is neither replaced nor added to."""
    paths = synth.generate(tmp_path / "other", frames_per_take=2)
    users = tmp_path / "data"
    users.mkdir()
    # The user's own files: a 3D and a det file under the synthetic names, written by someone else.
    np.savez(users / "data_3d_synth.npz", positions_3d=np.load(paths["3d"], allow_pickle=True)["positions_3d"])
    np.savez(users / "data_2d_synth_det.npz", **dict(np.load(paths["det"], allow_pickle=True)))
    before = _bytes(users)
    # -k det needs the two present files: nothing to generate, nothing touched.
    synth.ensure_synthetic(users, "det", frames_per_take=2, log=lambda *_: None)
    assert _bytes(users) == before
    # -k gt (or all three): the gt file is missing, but the files beside it are not the generator's.
    for keypoints in ("gt", None):
        with pytest.raises(UserError, match="not made by relpose's synthetic generator") as e:
            synth.ensure_synthetic(users, keypoints, frames_per_take=2, log=lambda *_: None)
        assert "data_2d_synth_gt.npz is missing" in str(e.value) and "data_3d_synth.npz" in str(e.value)
        assert _bytes(users) == before
    # Made by the generator, but with other settings: not mixed either.
    os.remove(paths["gt"])
    kept = _bytes(tmp_path / "other")
    with pytest.raises(UserError, match="seed 5"):
        synth.ensure_synthetic(tmp_path / "other", "gt", seed=5, frames_per_take=2, log=lambda *_: None)
    assert _bytes(tmp_path / "other") == kept


def test_generate_and_cli_never_overwrite_without_the_flag(tmp_path):
    paths = synth.generate(tmp_path, frames_per_take=2)
    before = _bytes(tmp_path)
    with pytest.raises(UserError, match="exists and is not replaced"):
        synth.generate(tmp_path, frames_per_take=3)
    assert synth_cli.main(["--data-dir", str(tmp_path), "--frames-per-take", "3"]) == 2
    assert _bytes(tmp_path) == before
    assert synth_cli.main(["--data-dir", str(tmp_path), "--frames-per-take", "3", "--overwrite"]) == 0
    assert _bytes(tmp_path) != before and sorted(_bytes(tmp_path)) == sorted(before)
    assert np.load(paths["3d"], allow_pickle=True)["positions_3d"].item()["S1"]["Walking"].shape[0] == 3


def test_bad_arguments_raise_user_error(tmp_path):
    with pytest.raises(UserError, match="unknown size 'huge'"):
        synth.generate(tmp_path, size="huge")
    with pytest.raises(UserError, match="frames per take"):
        synth.generate(tmp_path, frames_per_take=0)
    with pytest.raises(UserError, match="seed"):
        synth.generate(tmp_path, seed=-1)
    (tmp_path / "file").write_text("")
    with pytest.raises(UserError, match="is a file"):
        synth.generate(tmp_path / "file")
    synth.generate(tmp_path, frames_per_take=2)
    with pytest.raises(UserError, match="exists"):
        synth.generate(tmp_path, frames_per_take=2)


def test_interrupted_write_leaves_no_half_file(tmp_path, monkeypatch):
    paths = synth.generate(tmp_path, frames_per_take=2)
    before = {k: open(p, "rb").read() for k, p in paths.items()}

    def boom(f, **arrays):
        f.write(b"half a file")
        raise KeyboardInterrupt

    monkeypatch.setattr(synth.generator.np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        synth.generate(tmp_path, frames_per_take=3, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in paths.values())
    assert {k: open(p, "rb").read() for k, p in paths.items()} == before


def test_cli_writes_and_reports(tmp_path, capsys):
    assert synth_cli.main(["--data-dir", str(tmp_path), "--seed", "3", "--frames-per-take", "4"]) == 0
    out = capsys.readouterr().out
    assert "data_3d_synth.npz" in out and "S11" in out and "840 frames" in out     # 7 x 30 x 4
    p3 = _load(tmp_path / "data_3d_synth.npz", "positions_3d")
    assert p3["S9"]["Posing 1"].shape == (4, 32, 3)


@pytest.mark.parametrize("flags, message", [(["--size", "huge"], "invalid choice"),
                                            (["--frames-per-take", "-5"], "frames per take"),
                                            (["--seed", "x"], "invalid int value")])
def test_cli_bad_flags_one_line_exit_2(flags, message, capsys):
    assert synth_cli.main(flags) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_module_entry_point_bad_flag():
    done = subprocess.run([sys.executable, "-m", "relpose.synth", "--bogus"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "--bogus" in done.stderr and done.stderr.count("\n") == 1


def test_the_generators_axis_rotations_are_scipys():
    from scipy.spatial.transform import Rotation

    from relpose.synth.motion import _rot
    angles = np.random.default_rng(0).uniform(-4, 4, 200)
    for axis in "xyz":
        np.testing.assert_allclose(_rot(axis, angles), Rotation.from_euler(axis, angles[:, None]).as_matrix(),
                                   rtol=0, atol=1e-15)


def test_files_of_an_older_generator_are_named_not_used_silently(tmp_path):
    paths = synth.generate(tmp_path, seed=0, size="default", frames_per_take=3)
    f = np.load(paths["3d"], allow_pickle=True)
    meta = f["metadata"].item()
    meta["generator"] = dict(meta["generator"], version=1)
    np.savez(paths["3d"], positions_3d=f["positions_3d"].item(), metadata=meta)
    lines = []
    synth.ensure_synthetic(tmp_path, "det", frames_per_take=3, log=lines.append)
    assert len(lines) == 1 and "generator version 1" in lines[0] and f"version {synth.GENERATOR_VERSION}" in lines[0]
    assert "delete the synthetic files" in lines[0]
    lines.clear()
    synth.generate(tmp_path, seed=0, size="default", frames_per_take=3, overwrite=True)
    synth.ensure_synthetic(tmp_path, "det", frames_per_take=3, log=lines.append)
    assert lines == []
