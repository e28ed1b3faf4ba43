"""Several people through a video: boxes associated frame to frame by overlap (greedy IoU), one track each.

Works on boxes and scores only (x0 y0 x1 y1 per detection, NaN for a box with no extent), so it knows
nothing of keypoint layouts or file formats; relpose.wild.detections turns its tracks into keypoints.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_TRACK_FRAMES = 5   # a track in fewer frames is dropped (a false detection, or a person passing by)
MAX_GAP = 50           # frames a track may go unseen and still be continued (2 s at 25 fps)


def box_iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x0 y0 x1 y1 boxes (0 for a box with no extent or NaN)."""
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    if not (iw > 0 and ih > 0):     # also false for NaN
        return 0.0
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


@dataclass
class Tracks:
    """members[n][t]: the index, in frame t's list of detections, of person n + 1; None where absent.
    People are numbered 1, 2, ... by first appearance (in one frame, the higher score first), after
    `dropped` tracks of fewer than `min_frames` frames were left out."""

    members: list[list[int | None]]
    dropped: int
    min_frames: int

    def __len__(self) -> int:
        return len(self.members)

    def frames_of(self, person: int) -> int:
        """In how many frames person `person` (1-based) was detected."""
        return sum(i is not None for i in self.members[person - 1])

    def person_of(self, t: int, index: int) -> int | None:
        """The person (1-based) that detection `index` of frame `t` belongs to; None for a dropped track."""
        for n, member in enumerate(self.members, 1):
            if member[t] == index:
                return n
        return None


def track_boxes(boxes: list[list[np.ndarray]], scores: list[list[float]], iou_threshold: float = 0.3,
                min_frames: int = MIN_TRACK_FRAMES, max_gap: int = MAX_GAP) -> Tracks:
    """Greedy IoU tracking: in each frame the pairs (open track, detection) are taken in order of overlap,
    highest first, while both are free and the overlap is >= iou_threshold; a detection left over starts
    a new track. A track is open while it was seen in the last max_gap + 1 frames; it is compared by its
    last box. Detections without a box (no joint seen) join no track. Tracks seen in fewer than
    min(min_frames, the longest track's frames) frames are dropped: the longest is always kept."""
    members: list[list[int | None]] = []
    last_box: list[np.ndarray] = []
    last_seen: list[int] = []
    T = len(boxes)
    for t, (frame_boxes, frame_scores) in enumerate(zip(boxes, scores)):
        usable = [k for k, b in enumerate(frame_boxes) if np.isfinite(b).all()]
        open_tracks = [n for n, seen in enumerate(last_seen) if t - seen <= max_gap + 1]
        # Highest overlap first; on a tie the older track (the lower number), then the first detection.
        pairs = sorted((-box_iou(frame_boxes[k], last_box[n]), n, k) for n in open_tracks for k in usable)
        continued, taken = set(), set()
        for minus_iou, n, k in pairs:
            if -minus_iou < iou_threshold:
                break
            if n in continued or k in taken:
                continue
            members[n][t], last_box[n], last_seen[n] = k, frame_boxes[k], t
            continued.add(n)
            taken.add(k)
        for k in sorted((k for k in usable if k not in taken), key=lambda k: -frame_scores[k]):
            members.append([None] * T)
            members[-1][t] = k
            last_box.append(frame_boxes[k])
            last_seen.append(t)
    lengths = [sum(i is not None for i in m) for m in members]
    least = min(min_frames, max(lengths, default=0))
    kept = [m for m, n in zip(members, lengths) if n >= least]
    return Tracks(kept, len(members) - len(kept), int(min_frames))
