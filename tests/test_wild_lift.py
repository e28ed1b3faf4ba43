"""Lifting keypoints the kit did not make: a model's input layout apart from its output skeleton, the
custom file of VideoPose3D, frame-rate resampling, and `-d custom` through the command line."""
import subprocess
import sys

import numpy as np
import pytest
import torch

from relpose.cameras import image_coordinates
from relpose.checkpoints import load_checkpoint
from relpose.custom_keypoints import custom_file, write_custom
from relpose.datasets import load_dataset
from relpose.errors import DataError, UserError
from relpose.keypoint_layouts import LAYOUTS, get_layout, guess_layout, model_inputs
from relpose.lift import lift_keypoints, lift_sequence, resample
from relpose.model import ModelConfig, RIEModel
from relpose.skeleton import H36M_17, HUMANEVA_15
from relpose.windows import Flip

from cli_helpers import TINY_MODEL

COCO = get_layout("coco-17")


def relpose(*args):
    return subprocess.run([sys.executable, "-m", "relpose", *map(str, args)], capture_output=True, text=True)


def one_line_error(r, *parts):
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    for p in parts:
        assert p in r.stderr, (p, r.stderr)


# ----------------------------------------------------------------------------- layouts in, skeleton out

def test_coco_in_humaneva_out_groups_read_the_body_parts_keypoints():
    groups, root = model_inputs(HUMANEVA_15, COCO)
    by_name = {g.name: g for g in groups}
    names = lambda g: {COCO.joint_names[k] for k in by_name[g].inputs}
    assert root == (COCO.index("left_hip"), COCO.index("right_hip"))   # pelvis = mean of the hips
    assert [g.joints for g in groups] == [g.joints for g in HUMANEVA_15.groups]   # outputs unchanged
    # HumanEva's LArm is the person's left arm: COCO's left_* keypoints.
    assert names("LArm") == {"left_shoulder", "left_elbow", "left_wrist"}
    assert names("RLeg") == {"right_hip", "right_knee", "right_ankle"}
    # Pelvis, thorax, head come from hips, shoulders, eyes; nose and ears join them along the face's bones.
    assert names("Torso") == {"left_hip", "right_hip", "left_shoulder", "right_shoulder", "nose", "left_eye",
                              "right_eye", "left_ear", "right_ear"}


@pytest.mark.parametrize("layout", [n for n, l in LAYOUTS.items() if l.h36m_from is not None and n != "h36m-17"])
def test_every_keypoint_of_a_layout_is_read_by_some_part(layout):
    lay = get_layout(layout)
    for skeleton in (H36M_17, HUMANEVA_15):
        groups, _ = model_inputs(skeleton, lay)
        assert set().union(*(g.inputs for g in groups)) == set(range(lay.num_joints))
        cfg = ModelConfig(num_joints=skeleton.num_joints, groups=groups, num_input_joints=lay.num_joints,
                          input_root=model_inputs(skeleton, lay)[1], filter_widths=(3,), channels=8,
                          latent_dim=8, hidden=16)
        out = RIEModel(cfg).eval()(torch.zeros(2, 3, lay.num_joints, 2))
        assert out.shape == (2, 1, skeleton.num_joints, 3)


def test_a_skeletons_own_layout_keeps_the_published_groups():
    groups, root = model_inputs(H36M_17, get_layout("h36m"))
    assert groups == H36M_17.groups and root == (0,) and all(g.inputs is None for g in groups)


def test_layout_from_metadata_or_count():
    assert guess_layout(17, H36M_17).name == "h36m-17"
    assert guess_layout(17, HUMANEVA_15).name == "coco-17"       # 17 keypoints for a 15-joint skeleton
    assert guess_layout(17, H36M_17, "coco").name == "coco-17"   # VideoPose3D's name in metadata
    assert guess_layout(33, H36M_17).name == "blazepose-33"
    with pytest.raises(DataError, match="layout_name"):
        guess_layout(21, H36M_17)
    with pytest.raises(DataError, match="17 keypoints"):
        guess_layout(25, H36M_17, "coco")


def _humaneva_files(folder, frames=48):
    """A HumanEva-I set with COCO-17 detector keypoints: 15-joint mocap and 17 keypoints per frame."""
    rng = np.random.default_rng(0)
    coco = {"layout_name": "coco", "num_joints": 17, "keypoints_symmetry": [list(s) for s in COCO.symmetry]}
    world, kps = {}, {}
    for s in ("Train/S1", "Train/S2", "Validate/S1"):
        world[s] = {a: (rng.normal(size=(frames, 15, 3)) * 0.3 + [0, 0, 1]).astype(np.float32)
                    for a in ("Walking 1 chunk0", "Jog 1 chunk0")}
        kps[s] = {a: [rng.uniform(0, 480, size=(frames, 17, 2)).astype(np.float32) for _ in range(3)]
                  for a in world[s]}
    np.savez(folder / "data_3d_humaneva15.npz", positions_3d=world)
    np.savez(folder / "data_2d_humaneva15_detectron_pt_coco.npz", positions_2d=kps, metadata=coco)


def test_humaneva_with_coco_keypoints_trains_and_evaluates(tmp_path):
    # VideoPose3D's `-d humaneva15 -k detectron_pt_coco`: 17 COCO keypoints in, 15 HumanEva joints out.
    _humaneva_files(tmp_path)
    ck = tmp_path / "ck"
    common = ["-d", "humaneva15", "-k", "detectron_pt_coco", "--data-dir", tmp_path, "-c", ck, *TINY_MODEL,
              "-a", "Walking,Jog", "-str", "Train/S1,Train/S2", "-ste", "Validate/S1"]
    r = relpose(*common, "-e", "1", "--no-eval")
    assert r.returncode == 0, r.stderr
    r = relpose(*common, "--evaluate", "stage_1_epoch_1.bin")
    assert r.returncode == 0, r.stderr
    assert "Protocol #1" in r.stdout and "Walking" in r.stdout
    stored = load_checkpoint(ck / "stage_1_epoch_1.bin")["config"]
    assert stored["input_layout"] == "coco-17" and stored["num_input_joints"] == 17 and stored["num_joints"] == 15
    assert stored["input_root"] == [11, 12]
    # Rendering draws the 2D input with COCO's bones (the 3D with HumanEva's).
    r = relpose(*common, "--evaluate", "stage_1_epoch_1.bin", "--render", "--viz-subject", "Validate/S1",
                "--viz-action", "Walking 1 chunk0", "--viz-limit", "3", "--viz-output", tmp_path / "he.gif")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "he.gif").stat().st_size > 100


# ----------------------------------------------------------------------------- the custom file

def test_custom_file_loads_as_a_2d_only_data_set(tmp_path):
    # The file's own format is tested in test_wild_detections.py; here: what -d custom makes of it.
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0, 600, (30, 17, 2)), rng.uniform(0, 600, (12, 17, 2))
    write_custom(custom_file(tmp_path, "mine"), {"walk": (a, 640, 480, 29.97), "run": (b, 320, 240, None)}, "coco-17")
    ds = load_dataset("custom", "mine", tmp_path)
    assert ds.positions_3d is None and ds.subjects() == ["walk", "run"] and ds.actions("walk") == ["custom"]
    assert ds.fps_of("walk") == 29.97 and ds.fps_of("run") is None and ds.input_layout().name == "coco-17"
    assert (ds.kps_left, ds.kps_right) == (list(COCO.symmetry[0]), list(COCO.symmetry[1]))
    assert ds.cameras["run"][0]["res_w"] == 320
    np.testing.assert_allclose(image_coordinates(ds.positions_2d["walk"]["custom"][0], w=640, h=480), a, atol=1e-3)
    h36m = ds.converted_to("h36m-17")
    assert h36m.input_layout().name == "h36m-17" and h36m.kps_left == list(H36M_17.joints_left)
    np.testing.assert_allclose(h36m.positions_2d["run"]["custom"][0],
                               COCO.to_h36m17(ds.positions_2d["run"]["custom"][0]), atol=1e-6)
    with pytest.raises(UserError, match="only conversion to h36m-17"):
        ds.converted_to("humaneva-15")


# ----------------------------------------------------------------------------- frame rates

def test_resample_is_exact_on_linear_motion_and_keeps_the_time_span():
    t = np.arange(31) / 30.0                        # one second at 30 fps
    seq = np.stack([t, 2 * t + 1], -1)[:, None]     # (31, 1, 2), linear in time
    down = resample(seq, 30, 12.5)
    assert len(down) == 13                          # 0, 0.08, ..., 0.96 s
    np.testing.assert_allclose(down[:, 0, 0], np.arange(13) / 12.5, atol=1e-12)
    back = resample(down, 12.5, 30, num_frames=31)
    assert back.shape == seq.shape
    np.testing.assert_allclose(back[:29], seq[:29], atol=1e-12)   # beyond 0.96 s the last value is held
    np.testing.assert_allclose(resample(seq, 30, 30), seq)


def test_lift_gives_one_pose_per_input_frame_at_any_rate():
    torch.manual_seed(0)
    model = RIEModel(ModelConfig(filter_widths=(3, 3), channels=8, latent_dim=8, hidden=16)).eval()
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (50, 17, 2)).astype(np.float32)
    same = lift_sequence(model, x, fps=50, model_fps=50, tta=False)
    assert same.shape == (50, 17, 3)
    np.testing.assert_allclose(same, lift_sequence(model, x, tta=False), atol=1e-6)   # no rates: no resampling
    slow = lift_sequence(model, x, fps=30, model_fps=12.5, tta=False)
    assert slow.shape == (50, 17, 3) and not np.allclose(slow, same, atol=1e-3)
    # The plain-function path: COCO pixels are converted to the model's Human3.6M-17 input.
    said = []
    coco = np.random.default_rng(1).uniform(0, 400, (20, 17, 2))
    out = lift_keypoints(model, coco, 640, 480, layout="coco-17", fps=30, model_fps=12.5, person_size="keep",
                         log=said.append)
    assert out.shape == (20, 17, 3) and "coco-17" in said[0]
    x36 = (COCO.to_h36m17(coco) / 640 * 2 - [1, 480 / 640]).astype(np.float32)
    np.testing.assert_allclose(out, lift_sequence(model, x36, fps=30, model_fps=12.5,
                                                  flip=Flip.of(H36M_17)), atol=1e-5)


# ----------------------------------------------------------------------------- -d custom, end to end

def _coco_from_h36m(h36m_pixels):
    """COCO-17 keypoints standing in for a detector's: limbs from the Human3.6M joints, face at the head."""
    h = {n: i for i, n in enumerate(H36M_17.joint_names)}
    src = {"nose": "Nose", "left_eye": "Head", "right_eye": "Head", "left_ear": "Head", "right_ear": "Head"}
    for side, s in (("left", "L"), ("right", "R")):
        for a, b in (("shoulder", "Shoulder"), ("elbow", "Elbow"), ("wrist", "Wrist"), ("hip", "Hip"),
                     ("knee", "Knee"), ("ankle", "Foot")):
            src[f"{side}_{a}"] = s + b
    return h36m_pixels[:, [h[src[n]] for n in COCO.joint_names]]


def test_custom_keypoints_evaluate_render_export_through_the_command_line(tiny_data_dir, tiny_checkpoint, tmp_path):
    ck = tiny_checkpoint.parent
    synth = load_dataset("synth", "det", tiny_data_dir)
    take = synth.positions_2d["S9"][synth.actions("S9")[0]][0][:60]
    coco = _coco_from_h36m(image_coordinates(take, w=1000, h=1002))
    write_custom(custom_file(tmp_path, "clip"), {"walker": (coco, 1000, 1002, 30.0)}, "coco-17")
    common = ["-d", "custom", "-k", "clip", "--data-dir", tmp_path, "-c", ck, *TINY_MODEL,
              "--evaluate", "stage_1_epoch_1.bin"]
    r = relpose(*common, "--render", "--viz-subject", "walker", "--viz-action", "custom", "--viz-camera", "0",
                "--viz-output", tmp_path / "out.gif", "--viz-export", tmp_path / "out.npy", "--viz-limit", "5")
    assert r.returncode == 0, r.stderr
    assert "converting the coco-17 keypoints" in r.stdout and "the model's 12.5 fps" in r.stdout
    exported = np.load(tmp_path / "out.npy")
    assert exported.shape == (60, 17, 3) and np.isfinite(exported).all()
    assert (tmp_path / "out.gif").stat().st_size > 100
    one_line_error(relpose(*common), "2D keypoints only", "--render")
    one_line_error(relpose("-d", "custom", "-k", "clip", "--data-dir", tmp_path, "-c", tmp_path / "ck2", *TINY_MODEL,
                           "-e", "1"), "no 3D poses to train on")
    one_line_error(relpose(*common, "-k", "nothing", "--render", "--viz-subject", "walker", "--viz-action", "custom",
                           "--viz-export", tmp_path / "x.npy"), "data_2d_custom_nothing.npz", "python -m relpose.cli.keypoints")


def test_a_published_checkpoint_lifts_converted_keypoints(tmp_path):
    # The published cpn_pretrained.bin has no recorded configuration or layout: Human3.6M-17 input, the
    # paper's architecture with -lfd 512. A state dict of exactly its keys and shapes stands in for it.
    import json
    from importlib import resources
    from relpose.weights import load_any_model
    layout = json.loads(resources.files("relpose").joinpath("data", "rie_checkpoint_layout.json").read_text())
    g = torch.Generator().manual_seed(0)
    state = {k: (torch.randint(0, 9, s, generator=g) if t == "int64" else torch.randn(s, generator=g) * 0.05)
             for k, s, t in layout["configs"]["stage3_lfd512"]["state_dict"]}
    torch.save({"epoch": 20, "lr": 1e-4, "model_pos": state}, tmp_path / "cpn_like.bin")
    model, ckpt = load_any_model(tmp_path / "cpn_like.bin")
    assert model.config.latent_dim == 512 and model.config.stage == 3
    rng = np.random.default_rng(0)
    write_custom(custom_file(tmp_path, "clip"), {"v": (rng.uniform(100, 400, (40, 17, 2)), 640, 480, 50.0)}, "coco-17")
    r = relpose("-d", "custom", "-k", "clip", "--data-dir", tmp_path, "-c", tmp_path, "--evaluate", "cpn_like.bin",
                "--stage", "3", "-lfd", "512", "--render", "--viz-subject", "v", "--viz-action", "custom",
                "--viz-export", tmp_path / "v.npy")
    assert r.returncode == 0, r.stderr
    assert "converting the coco-17 keypoints" in r.stdout and "resampled" not in r.stdout   # no rate recorded
    assert np.load(tmp_path / "v.npy").shape == (40, 17, 3)


def test_a_layout_the_model_cannot_take_is_named_in_one_line(tmp_path):
    from relpose.lift import fit_input_layout
    rng = np.random.default_rng(0)
    write_custom(custom_file(tmp_path, "op"), {"v": (rng.uniform(0, 99, (5, 25, 2)), 100, 100, None)}, "openpose-25")
    ds = load_dataset("custom", "op", tmp_path)
    said = []
    assert fit_input_layout(ds, "h36m-17", "--evaluate x.bin", said.append).input_layout().name == "h36m-17"
    assert said and "openpose-25" in said[0]
    with pytest.raises(UserError) as e:
        fit_input_layout(ds, "coco-17", "--evaluate coco_model.bin")   # e.g. a COCO-input HumanEva model
    message = str(e.value)
    assert "\n" not in message and "--evaluate coco_model.bin" in message and "openpose-25" in message
