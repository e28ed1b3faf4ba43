"""The synthetic Human3.6M-shaped data set (the layer above the core: it imports only core modules).

- `motion`: the kinematic motion library (bodies, footstep plans, key poses, forward and inverse
  kinematics) that makes a take of an action;
- `generator`: subjects, camera views, takes, detector-like keypoints and the three files in the
  VideoPose3D layout (`generate`, `ensure_synthetic`), and on request a fourth, 'det_coco';
- `coco`: COCO-17 keypoints of the synthetic bodies (a face built on the head joints), whose
  detections, converted to Human3.6M-17, are 'det_coco';
- `library`: the broad motion library (floor work, runs, jumps, acrobatics; bodies from children to tall adults);
- `wild_cameras`: cameras people use (phones, webcams), drawn and aimed at a person;
- `missed_joints`: joints a detector misses for a few frames, filled as the kit fills a real detector's gaps;
- `wild_set`: the broad set 'synthwild' the in-the-wild model trains on: library and Human3.6M-style takes of
  bodies of every size, each seen by a Human3.6M camera and three wild cameras that its 2D files record
  (`generate_wild`, `ensure_synthwild`).

The command line `python -m relpose.synth` lives in relpose.cli.synth. Importing this package registers
`ensure_synthetic` and `ensure_synthwild` as the makers of the 'synth' and 'synthwild' data sets
(relpose.datasets.register_maker).
"""
from ..datasets import register_maker
from .coco import coco_keypoints_3d
from .generator import (BASE_ACTIONS, EXTRA_FILE_NAMES, FILE_NAMES, GENERATOR_VERSION, KEYPOINT_SETS, METADATA, SIZES,
                        SUBJECTS, SYNTH_ACTIONS, SYNTH_SUBJECTS_TEST, SYNTH_SUBJECTS_TRAIN, coco_detections, detections,
                        ensure_synthetic, generate, generate_files, make_body, make_takes, project, provenance,
                        read_provenance)
from .motion import FPS, Body, Motion, concat_motions, make_motion, pose_from_motion
from .wild_set import ensure_synthwild, generate_wild

register_maker("synth", ensure_synthetic)
register_maker("synthwild", ensure_synthwild)

__all__ = ["BASE_ACTIONS", "EXTRA_FILE_NAMES", "FILE_NAMES", "GENERATOR_VERSION", "KEYPOINT_SETS", "METADATA", "SIZES",
           "SUBJECTS", "SYNTH_ACTIONS", "SYNTH_SUBJECTS_TEST", "SYNTH_SUBJECTS_TRAIN", "coco_detections", "detections",
           "ensure_synthetic", "generate", "generate_files", "make_body", "make_takes", "project", "provenance",
           "read_provenance", "coco_keypoints_3d", "FPS", "Body", "Motion", "concat_motions", "make_motion",
           "pose_from_motion", "ensure_synthwild", "generate_wild"]
