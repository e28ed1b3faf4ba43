"""The user's own videos ("in the wild"): their detectors' keypoints in, checks on what comes out.

- `detections`: readers for the 2D detectors people run (COCO-style results JSON from MMPose or
  Detectron2, OpenPose's per-frame JSON, AlphaPose's results JSON, the kit's MediaPipe landmarks
  file), one person per frame (`select_person`) or each person (`choose_people`), frames without
  the person trimmed at the ends and interpolated between (`fill_track`), written as VideoPose3D's
  custom 2D file (relpose.custom_keypoints; `convert_detections`). Command line:
  `python -m relpose.cli.keypoints`.
- `tracking`: several people followed through a video by box overlap.
- `visibility`: which joints the detector saw, and the line saying when a body part was out of view.
- `detection_key`: what a detection was made from, so that `make wild` reuses it only for the same.
- `plausibility`: without ground truth, how plausible lifted poses are (bone lengths, symmetry,
  foot sliding, joint limits, height and proportions against `anthropometry`'s human ranges);
  `yardsticks`: the same checks' values where the truth is known (package data), printed beside them.
- `trajectory`: the root placed in the camera from the 2D keypoints, the floor under the planted feet,
  the body in a world frame moving through space.
- `smoothing`: optional temporal filters (Savitzky-Golay, One Euro) of keypoints or poses.
- `bvh`: lifted poses as BVH (a constant-bone skeleton with fitted rotations); `joints_json`: as plain JSON.
- `detect`: the MediaPipe Pose detector, run in its own environment (`make detect-env`); `detector_env`:
  that environment started from the kit's (notebook 09).
- `lifting`: a custom keypoint file's people lifted with a model, zoomed, smoothed, placed in space and
  checked (`lift_people`, `LiftedVideo`).
- `video`: a video file as the kit's ffmpeg sees it; `footage`: real footage that ships in a package.

numpy and scipy, no torch (except `lifting`, which runs the model): the rest also runs in the detector's
environment.
"""
