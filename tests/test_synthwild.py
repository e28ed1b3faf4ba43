"""The broad synthetic set 'synthwild' (relpose.synth.wild_set): file layout, every keypoint in every image,
determinism, the cameras the 2D files record, missed joints, and the synthetic set left as it was."""
import hashlib
import os
import shutil

import numpy as np
import pytest

from relpose import synth
from relpose.cameras import camera_from_record, load_rig, world_to_camera
from relpose.cli import synth as synth_cli
from relpose.cli.parser import parse_args
from relpose.datasets import DatasetSpec, dataset_spec, load_dataset
from relpose.errors import DataError, UserError
from relpose.skeleton import H36M_17, H36M_KEPT_JOINTS
from relpose.synth import wild_set
from relpose.synth.coco import coco_keypoints_3d
from relpose.synth.library import LIBRARY_MOTIONS
from relpose.synth.motion import FPS

SUBJECTS = [f"W{i:02d}" for i in range(1, 16)]
FILES = {"3d": "data_3d_synthwild.npz", "gt": "data_2d_synthwild_gt.npz", "det": "data_2d_synthwild_det.npz",
         "det_coco": "data_2d_synthwild_det_coco.npz"}
H36M_IDS = {c["id"] for c in load_rig("h36m")["S1"]}


def _load(path, key):
    return np.load(path, allow_pickle=True)[key].item()


def _sha(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synthwild")
    paths, summary = synth.generate_wild(folder, seed=0, size="tiny")
    return dict(dir=folder, paths=paths, summary=summary, p3=_load(paths["3d"], "positions_3d"),
                meta=_load(paths["gt"], "metadata"),
                **{k: _load(paths[k], "positions_2d") for k in ("gt", "det", "det_coco")})


def test_layout_keys_shapes_and_provenance(tiny):
    assert {k: os.path.basename(p) for k, p in tiny["paths"].items()} == FILES
    actions = list(LIBRARY_MOTIONS) + list(synth.BASE_ACTIONS)
    assert len(actions) == len(set(actions)) == 34
    made = _load(tiny["paths"]["3d"], "metadata")["generator"]
    assert {k: made[k] for k in ("maker", "version", "seed", "size")} == {
        "maker": "relpose.synth.wild_set", "version": wild_set.WILD_SET_VERSION, "seed": 0, "size": "tiny"}
    for key in ("gt", "det", "det_coco"):
        meta = _load(tiny["paths"][key], "metadata")
        assert meta["generator"] == made and meta["layout_name"] == "h36m" and meta["num_joints"] == 17
        assert meta["cameras"] == tiny["meta"]["cameras"]
    assert list(tiny["p3"]) == SUBJECTS and sorted(tiny["meta"]["cameras"]) == SUBJECTS
    for s in SUBJECTS:
        assert list(tiny["p3"][s]) == actions
        assert len(tiny["meta"]["cameras"][s]) == 4
        for a in actions:
            assert tiny["p3"][s][a].dtype == np.float32 and tiny["p3"][s][a].shape == (60, 32, 3)
            for key in ("gt", "det", "det_coco"):
                views = tiny[key][s][a]
                assert len(views) == 4 and all(v.dtype == np.float32 and v.shape == (60, 17, 2) for v in views)
    assert tiny["summary"]["frames_train"] == 12 * 34 * 60 and tiny["summary"]["frames"] == 15 * 34 * 60


def test_registered_with_its_subjects_keypoints_and_frame_rate():
    spec = dataset_spec("synthwild")
    assert spec.subjects_train == tuple(SUBJECTS[:12]) and spec.subjects_test == tuple(SUBJECTS[12:])
    assert spec.keypoints == ("gt", "det", "det_coco") and spec.kit_made and spec.rig is None
    assert spec.fps == FPS == 50
    args = parse_args(["-d", "synthwild"])
    assert args.keypoints == "det_coco" and args.subjects_train == ",".join(SUBJECTS[:12])
    with pytest.raises(ValueError, match="capture_fps"):
        DatasetSpec("x", "x", H36M_17, None, (17,), "")


def test_every_keypoint_of_every_frame_inside_every_image(tiny):
    for s in SUBJECTS:
        pos = np.concatenate(list(tiny["p3"][s].values()))
        points = np.concatenate([pos, coco_keypoints_3d(pos)], axis=1)
        for c, record in enumerate(tiny["meta"]["cameras"][s]):
            cam = camera_from_record(record)
            assert world_to_camera(points, cam["orientation"], cam["translation"])[..., 2].min() > 0.5
            for key in ("gt", "det", "det_coco"):
                px = np.concatenate([tiny[key][s][a][c] for a in tiny[key][s]])
                margin = 10 if key == "gt" else 0           # detections are clipped to the image
                assert px.min() >= margin and px[..., 0].max() <= cam["res_w"] - margin
                assert px[..., 1].max() <= cam["res_h"] - margin
            coco = synth.project(points[:, 32:], cam)
            assert coco.min() >= 10 and coco[..., 0].max() <= cam["res_w"] - 10
            assert coco[..., 1].max() <= cam["res_h"] - 10


def test_cameras_loaded_from_the_file_are_those_the_set_was_made_with(tiny):
    ds = load_dataset("synthwild", "gt", tiny["dir"])
    assert ds.fps == 50 and ds.subjects() == SUBJECTS
    si = 13
    takes, records = wild_set.subject_takes(0, si, wild_set.take_lengths(0, si, "tiny", None))
    subject = SUBJECTS[si]
    assert records == tiny["meta"]["cameras"][subject]
    for made, loaded in zip(map(camera_from_record, records), ds.cameras[subject]):
        assert made.keys() == loaded.keys()
        for k, v in made.items():
            assert np.array_equal(v, loaded[k]) and np.asarray(v).dtype == np.asarray(loaded[k]).dtype, k
    # the 2D file's projections are exactly those of the recorded cameras
    for c, cam in enumerate(ds.cameras[subject]):
        exact = synth.project(takes["crawl"][:, list(H36M_KEPT_JOINTS)], cam).astype(np.float32)
        assert np.array_equal(exact, tiny["gt"][subject]["crawl"][c])


def test_each_subject_has_a_human36m_camera_and_three_wild_ones(tiny):
    rig = {c["id"]: c for c in load_rig("h36m")["S1"]}
    kinds = set()
    for s in SUBJECTS:
        lab, *wild = (camera_from_record(r) for r in tiny["meta"]["cameras"][s])
        assert lab["id"] in H36M_IDS and lab["kind"] == "Human3.6M"
        assert np.array_equal(lab["intrinsic"], rig[lab["id"]]["intrinsic"]) and lab["res_w"] == 1000
        kinds |= {c["kind"] for c in wild}
        assert all(c["id"] not in H36M_IDS and c["res_w"] in (640, 720, 1080, 1280, 1920) for c in wild)
    assert len({camera_from_record(tiny["meta"]["cameras"][s][0])["id"] for s in SUBJECTS}) == 4
    assert kinds == {"phone", "phone 2x", "webcam"}


def test_the_lab_camera_moves_back_along_its_axis_only():
    target = np.array([0.2, 0.6, 0.8])
    home, far = (camera_from_record(wild_set.lab_record(2, target, f)) for f in (1.0, 1.5))
    assert home["translation"].tolist() == load_rig("h36m")["S6"][2]["translation"].tolist()
    assert np.array_equal(home["orientation"], far["orientation"])
    step = far["translation"] - home["translation"]
    axis = world_to_camera(home["translation"] + step, home["orientation"], home["translation"])
    assert np.allclose(axis[:2], 0, atol=1e-4) and axis[2] < 0          # straight back along its optical axis
    assert np.linalg.norm(step) == pytest.approx(0.5 * np.linalg.norm(home["translation"] - target), rel=1e-5)


def test_detections_miss_joints_at_a_plausible_rate(tiny):
    """A missed joint is filled by interpolation: its positions lie on a line in time (second difference 0),
    which the detector's jitter never leaves by chance."""
    def on_a_line(key, joints):
        flat = []
        for s in SUBJECTS:
            for a in tiny[key][s]:
                for view in tiny[key][s][a]:
                    second = np.abs(view[2:, joints] - 2 * view[1:-1, joints] + view[:-2, joints]).max(-1)
                    flat.append(second < 1e-3)
        return np.concatenate(flat).mean(axis=0)

    names = H36M_17.joint_names
    wrists_ankles = [names.index(n) for n in ("LWrist", "RWrist", "LFoot", "RFoot")]
    trunk = [names.index(n) for n in ("Hip", "Spine", "Thorax", "LShoulder", "RShoulder")]
    det_ends, det_trunk = on_a_line("det", wrists_ankles), on_a_line("det", trunk)
    assert (0.008 < det_ends).all() and (det_ends < 0.08).all() and (det_trunk < 0.01).all()
    assert det_ends.mean() > 3 * det_trunk.mean()
    coco_ends = on_a_line("det_coco", wrists_ankles)
    assert (0.008 < coco_ends).all() and (coco_ends < 0.08).all()


def test_same_seed_same_bytes_and_ensure_makes_the_set(tiny, tmp_path):
    logs = []
    made = synth.ensure_synthwild(tmp_path, None, size="tiny", log=logs.append)
    assert {k: _sha(p) for k, p in made.items()} == {k: _sha(p) for k, p in tiny["paths"].items()}
    assert "data_2d_synthwild_det_coco.npz" in logs[0]
    assert synth.ensure_synthwild(tmp_path, "det", size="tiny", log=logs.append) and len(logs) == 1   # nothing new
    other, _ = wild_set.subject_takes(1, 0, wild_set.take_lengths(1, 0, "tiny", None))
    assert not np.allclose(other["crawl"], tiny["p3"]["W01"]["crawl"])


def test_missing_files_are_made_only_beside_the_makers_own(tiny, tmp_path):
    for name in ("3d", "gt"):
        shutil.copy(tiny["paths"][name], tmp_path)
    # the registered maker makes the default size: the tiny files beside it are not its own
    with pytest.raises(UserError, match="not made by relpose's broad synthetic generator with seed 0, size default"):
        dataset_spec("synthwild").make_missing("det", tmp_path, log=lambda *_: None)
    with pytest.raises(UserError, match="-k det_coco"):
        synth.ensure_synthwild(tmp_path, "cpn")
    assert sorted(os.listdir(tmp_path)) == [FILES["gt"], FILES["3d"]]


def test_the_synthetic_set_is_as_it_was(tmp_path):
    """The shared helpers changed nothing: takes of actions without library variants (generator version 2 changed
    only those of FLOOR_VARIANTS) are those made before the broad set existed (sums of whole takes: any change of
    the random streams moves them by pixels)."""
    paths = synth.generate(tmp_path, seed=0, size="tiny", only=("3d", "gt", "det", "det_coco"))
    before = {"3d": (4842.515097677853, 2681.3676640014164), "gt": (1356821.705657959, 1484113.5317382812),
              "det": (1357352.8009033203, 1483147.143371582), "det_coco": (1360397.3149108887, 1492665.5561218262)}
    for key, (walking, eating) in before.items():
        data = _load(paths[key], "positions_3d" if key == "3d" else "positions_2d")
        first, second = (data["S1"]["Walking"], data["S9"]["Eating 1"]) if key == "3d" else \
            (data["S1"]["Walking"][0], data["S9"]["Eating 1"][3])
        assert first.astype(np.float64).sum() == pytest.approx(walking, rel=1e-9)
        assert second.astype(np.float64).sum() == pytest.approx(eating, rel=1e-9)


def _with_cameras(tiny, tmp_path, cameras):
    """A copy of the tiny set whose gt file records `cameras` (None: no 'cameras' in its metadata)."""
    tmp_path.mkdir(exist_ok=True)
    shutil.copy(tiny["paths"]["3d"], tmp_path)
    meta = dict(tiny["meta"])
    if cameras is None:
        del meta["cameras"]
    else:
        meta["cameras"] = cameras
    np.savez(tmp_path / FILES["gt"], positions_2d=tiny["gt"], metadata=meta)
    return tmp_path


def _broken(tiny, **change):
    cameras = {s: [dict(r) for r in records] for s, records in tiny["meta"]["cameras"].items()}
    for key, value in change.items():
        if value is None:
            del cameras["W03"][2][key]
        else:
            cameras["W03"][2][key] = value
    return cameras


@pytest.mark.parametrize("change, message", [
    (dict(focal_length=None), "has no 'focal_length'"),
    (dict(orientation=[1.0, 0.5, 0.0, 0.0]), "'orientation' should be a unit quaternion"),
    (dict(res_w=1920.0), "'res_w' should be a positive whole number of pixels"),
    (dict(translation=[0.0, float("nan"), 1.0]), "'translation' should be 3 coordinates in mm"),
    (dict(radial_distortion=[0.1]), "'radial_distortion' should be 3 coefficients"),
])
def test_a_malformed_camera_record_is_named_in_one_line(tiny, tmp_path, change, message):
    folder = _with_cameras(tiny, tmp_path, _broken(tiny, **change))
    with pytest.raises(DataError, match=message) as e:
        load_dataset("synthwild", "gt", folder)
    text = str(e.value)
    assert "\n" not in text and FILES["gt"] in text and "subject 'W03', camera 2" in text


def test_cameras_missing_from_the_file_are_named(tiny, tmp_path):
    with pytest.raises(DataError, match="metadata has no 'cameras'.*python -m relpose.synth --set wild"):
        load_dataset("synthwild", "gt", _with_cameras(tiny, tmp_path / "a", None))
    cameras = dict(tiny["meta"]["cameras"])
    del cameras["W07"]
    with pytest.raises(DataError, match="subject 'W07': metadata 'cameras' has no list of camera records"):
        load_dataset("synthwild", "gt", _with_cameras(tiny, tmp_path / "b", cameras))
    cameras["W07"] = tiny["meta"]["cameras"]["W07"][:3]
    with pytest.raises(DataError, match="'W07', action 'lie_back': 4 cameras, but its metadata's camera list has 3"):
        load_dataset("synthwild", "gt", _with_cameras(tiny, tmp_path / "c", cameras))


@pytest.mark.parametrize("flags, message", [
    (["--set", "wild", "--size", "h36m"], "--size h36m is not a size of the wild set"),
    (["--set", "wild", "--det-coco"], "--det-coco is for --set synth"),
    (["--set", "field"], "invalid choice: 'field'"),
])
def test_command_line_errors_one_line_exit_2(flags, message, capsys, tmp_path):
    assert synth_cli.main(["--data-dir", str(tmp_path), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert os.listdir(tmp_path) == []


def test_command_line_writes_the_wild_set(tiny, tmp_path, capsys, monkeypatch):
    """The command line passes its flags on and reports the frames (the set itself: the tests above)."""
    calls = []

    def fake(data_dir, **kwargs):
        calls.append((data_dir, kwargs))
        return tiny["paths"], tiny["summary"]
    monkeypatch.setattr(synth_cli, "generate_wild", fake)
    assert synth_cli.main(["--set", "wild", "--size", "tiny", "--seed", "3", "--data-dir", str(tmp_path)]) == 0
    assert calls == [(str(tmp_path), dict(seed=3, size="tiny", frames_per_take=None, overwrite=False))]
    out = capsys.readouterr().out
    assert "24,480 frames per camera over the training subjects (30,600 in all)" in out and "W13 W14 W15 (test)" in out


# ------------------------------------------------------------------ trained on beside the Human3.6M-shaped set
def test_merged_with_the_human36m_shaped_set_keeps_every_take(tiny, tiny_data_dir):
    from relpose.datasets import merged_datasets
    wild, lab = load_dataset("synthwild", "det", tiny["dir"]), load_dataset("synth", "det", tiny_data_dir)
    both = merged_datasets(wild, lab)
    assert both.name == "synthwild+synth" and both.subjects() == wild.subjects() + lab.subjects()
    for part in (wild, lab):
        for subject in part.subjects():
            assert both.cameras[subject] is part.cameras[subject]
            for action, cams in part.positions_2d[subject].items():
                assert all(a is b for a, b in zip(both.positions_2d[subject][action], cams))
                pairs = zip(both.positions_3d[subject][action], part.positions_3d[subject][action])
                assert all(a is b for a, b in pairs)
    _, poses_3d, poses_2d = both.fetch(["W01", "S1"])
    _, wild_3d, _ = wild.fetch(["W01"])
    _, lab_3d, _ = lab.fetch(["S1"])
    assert len(poses_3d) == len(poses_2d) == len(wild_3d) + len(lab_3d)
    assert both.num_frames(["W01", "S1"]) == wild.num_frames(["W01"]) + lab.num_frames(["S1"])


def test_merging_refuses_shared_subjects_and_different_samples(tiny, tiny_data_dir):
    from relpose.datasets import merged_datasets
    lab = load_dataset("synth", "det", tiny_data_dir)
    with pytest.raises(UserError, match="both have subject.*S1.*must differ"):
        merged_datasets(lab, load_dataset("synth", "det", tiny_data_dir))
    with pytest.raises(UserError, match="differ in keypoints \\(det against gt\\)"):
        merged_datasets(lab, load_dataset("synthwild", "gt", tiny["dir"]))
    with pytest.raises(UserError, match="differ in 3D poses"):
        merged_datasets(lab, load_dataset("synthwild", "det", tiny["dir"], with_3d=False))


def test_settings_train_on_both_sets_and_test_on_their_own(tiny, tiny_data_dir, tmp_path, monkeypatch):
    import dataclasses

    from relpose.lab import settings as settings_module
    from relpose.lab.settings import load_data, settings
    from relpose.lab.wild_model import wild_settings
    monkeypatch.setattr(settings_module, "ensure_data", lambda s: None)   # the tiny sets are not the default size
    for folder in (tiny["dir"], tiny_data_dir):
        for name in os.listdir(folder):
            if name.endswith("_det.npz") or name.startswith("data_3d"):
                shutil.copy(os.path.join(folder, name), tmp_path / name)
    s = dataclasses.replace(settings("quick", root=str(tmp_path)), dataset="synthwild", also_train_on=("synth",),
                            data_dir=str(tmp_path))
    assert s.subjects_train == [*SUBJECTS[:12], "S1", "S5", "S6", "S7", "S8"]
    assert s.subjects_test == SUBJECTS[12:]
    data = load_data(s)
    assert data.name == "synthwild+synth" and set(s.subjects_train) | set(s.subjects_test) <= set(data.subjects())
    wild = wild_settings(root=str(tmp_path))
    assert wild.also_train_on == ("synth",) and wild.keypoints == "det_coco"
    assert os.path.basename(wild.checkpoint_dir) == "wild-synthwild-synth-quick"
