"""Every documented route from a custom keypoint file to 3D poses gives the same poses for the same keypoints
and checkpoint: the step-by-step `python -m relpose -d custom ... --evaluate ... --render` (exporting only,
and drawing as well), `python -m relpose.cli.wild`, `relpose.lift.lift_keypoints` and notebook 09's
`relpose.wild.lifting.lift_custom`. Each predicts in evaluation mode, whatever mode the model was left in: the
tiny model has dropout 0.2 and batch normalisation, so a prediction in training mode differs by centimetres."""
import subprocess
import sys

import numpy as np
import torch

from relpose.cameras import image_coordinates
from relpose.cli import wild as cli_wild
from relpose.custom_keypoints import custom_file, write_custom
from relpose.datasets import load_dataset
from relpose.evaluate import predict_sequence
from relpose.lift import lift_keypoints
from relpose.weights import load_any_model
from relpose.wild.lifting import lift_custom

from cli_helpers import TINY_MODEL
from test_wild_lift import _coco_from_h36m

# One computation on one machine; in-process and subprocess runs may use other thread counts, which
# reorder float sums: 1e-5 m (0.01 mm) is far below a pose's millimetres and far above that rounding.
SAME_POSES_M = 1e-5


def _relpose(*args):
    r = subprocess.run([sys.executable, "-m", "relpose", *map(str, args)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r


def test_every_route_gives_the_same_poses_in_evaluation_mode(tiny_data_dir, tiny_checkpoint, tmp_path):
    synth = load_dataset("synth", "det", tiny_data_dir)
    take = synth.positions_2d["S9"][synth.actions("S9")[0]][0][:60]
    coco = _coco_from_h36m(image_coordinates(take, w=1000, h=1002))
    data = tmp_path / "data"
    write_custom(custom_file(data, "clip"), {"walker": (coco, 1000, 1002, 30.0)}, "coco-17")

    model, ckpt = load_any_model(tiny_checkpoint)
    model.train()   # as a notebook may leave it: every route must still predict in evaluation mode
    routes = {"lift_keypoints": lift_keypoints(model, coco, 1000, 1002, layout="coco-17", fps=30.0,
                                               model_fps=12.5, log=lambda *_: None)}
    assert model.training and all(m.training for m in model.modules())   # the caller's mode is given back
    routes["lift_custom (notebook 09)"] = lift_custom(model, ckpt, "clip", data, log=lambda *_: None).poses

    common = ["-d", "custom", "-k", "clip", "--data-dir", data, "-c", tiny_checkpoint.parent, *TINY_MODEL,
              "--evaluate", tiny_checkpoint.name, "--render", "--viz-subject", "walker", "--viz-action", "custom"]
    _relpose(*common, "--viz-export", tmp_path / "export.npy")
    routes["--evaluate --render --viz-export"] = np.load(tmp_path / "export.npy")
    _relpose(*common, "--viz-export", tmp_path / "drawn.npy", "--viz-output", tmp_path / "drawn.gif",
             "--viz-limit", "3")
    routes["--evaluate --render --viz-output --viz-export"] = np.load(tmp_path / "drawn.npy")
    assert cli_wild.main(["-k", "clip", "--data-dir", str(data), "--checkpoint", str(tiny_checkpoint),
                          "--out-dir", str(tmp_path / "wild"), "--gif", "--limit", "3", "--no-progress"]) == 0
    routes["python -m relpose.cli.wild"] = np.load(tmp_path / "wild" / "clip.npy")

    reference = routes["lift_keypoints"]
    assert reference.shape == (60, 17, 3)
    for name, poses in routes.items():
        np.testing.assert_allclose(poses, reference, rtol=0, atol=SAME_POSES_M, err_msg=name)

    # The comparison can fail: in training mode (dropout live, batch statistics) the same model moves the
    # joints by centimetres.
    model.train()
    x = torch.as_tensor(synth.positions_2d["S9"][synth.actions("S9")[0]][0][:60])
    with torch.no_grad():
        windows_train = model(torch.stack([x[:9]] * 4))[:, 0]
    evaluated = predict_sequence(model, x[:9], tta=False)[4]
    assert float((windows_train - evaluated).abs().max()) > 0.01
