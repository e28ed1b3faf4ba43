"""The synthetic Human3.6M-shaped data set (the layer above the core: it imports only core modules).

- `motion`: the kinematic motion library (bodies, footstep plans, key poses, forward and inverse
  kinematics) that makes a take of an action;
- `generator`: subjects, camera views, takes, detector-like keypoints and the three files in the
  VideoPose3D layout (`generate`, `ensure_synthetic`).

The command line `python -m relpose.synth` lives in relpose.cli.synth.
"""
from .generator import (BASE_ACTIONS, FILE_NAMES, GENERATOR_VERSION, METADATA, SIZES, SUBJECTS, SYNTH_ACTIONS,
                        SYNTH_SUBJECTS_TEST, SYNTH_SUBJECTS_TRAIN, detections, ensure_synthetic, generate,
                        generate_files, make_body, make_takes, project, provenance, read_provenance)
from .motion import FPS, Body, Motion, concat_motions, make_motion, pose_from_motion

__all__ = ["BASE_ACTIONS", "FILE_NAMES", "GENERATOR_VERSION", "METADATA", "SIZES", "SUBJECTS", "SYNTH_ACTIONS",
           "SYNTH_SUBJECTS_TEST", "SYNTH_SUBJECTS_TRAIN", "detections", "ensure_synthetic", "generate",
           "generate_files", "make_body", "make_takes", "project", "provenance", "read_provenance", "FPS", "Body",
           "Motion", "concat_motions", "make_motion", "pose_from_motion"]
