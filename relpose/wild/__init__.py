"""Keypoints detected in the user's own videos ("in the wild"), turned into the kit's 2D input.

- `detections`: readers for the 2D detectors people run (COCO-style results JSON from MMPose or
  Detectron2, OpenPose's per-frame JSON, AlphaPose's results JSON, the kit's MediaPipe landmarks
  file), one person per frame (`select_person`), gaps filled in time (`fill_gaps`), and the
  VideoPose3D custom 2D file `data_2d_custom_<name>.npz` (`write_custom`, `read_custom`,
  `convert_detections`). The command line is `python -m relpose.cli.keypoints`.

Numpy only (no torch), so that it also runs in a detector's own environment.
"""
