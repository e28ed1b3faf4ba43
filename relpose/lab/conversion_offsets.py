"""How far the points that the COCO -> Human3.6M-17 conversion gives sit from Human3.6M's own joints, on the
synthetic bodies (notebook 09): the systematic differences of converted keypoints (the head point from the
eyes, the spine between hips and shoulders) that the in-the-wild model (relpose.lab.wild_model) learns
and a model trained on the 'det' keypoints never saw."""
from __future__ import annotations

import os

import numpy as np

from ..datasets import dataset_spec
from ..keypoint_layouts import COCO17
from ..safe_npz import load_npz
from ..skeleton import H36M_17_JOINT_NAMES, H36M_KEPT_JOINTS
from ..synth.coco import coco_keypoints_3d
from ..synth.generator import FILE_NAMES


def systematic_differences(data_dir="data", subjects=("S9", "S11")) -> dict[str, float]:
    """Per Human3.6M-17 joint, the mean 3D distance (mm) between the point the COCO -> Human3.6M-17
    conversion gives on the synthetic bodies (relpose.synth.coco) and Human3.6M's own joint (the synthetic
    3D file in data_dir, made if missing)."""
    dataset_spec("synth").make_missing(None, data_dir, log=lambda *_: None)
    world = load_npz(os.path.join(data_dir, FILE_NAMES["3d"]), ("positions_3d",))["positions_3d"].item()
    distances = []
    for s in subjects:
        for poses in world[s].values():
            converted = COCO17.to_h36m17(coco_keypoints_3d(poses))
            distances.append(np.linalg.norm(converted - poses[:, list(H36M_KEPT_JOINTS)], axis=-1))
    mean = 1000 * np.concatenate(distances).mean(0)
    return {name: round(float(m), 1) for name, m in zip(H36M_17_JOINT_NAMES, mean)}
