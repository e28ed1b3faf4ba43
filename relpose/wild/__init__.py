"""relpose.wild: pose estimation on real footage (2D detection, detections files, lifting)."""
