"""Helpers of the viz tests: Plotly line traces read back into bones, test sequences, GIF frame counts."""
import numpy as np
from PIL import Image

from relpose.skeleton import H36M_17


def segments(trace, dims=("x", "y", "z")):
    """The (start, end) point pairs of a line trace with None separators."""
    cols = [list(getattr(trace, d)) for d in dims]
    points = list(zip(*cols))
    out, current = [], []
    for p in points + [(None,) * len(dims)]:
        if p[0] is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append(p)
    return [np.array(s, dtype=float) for s in out]


def bones_of_trace(trace, pose, dims=("x", "y", "z")):
    """Match every segment of a trace to the bone (child, parent) whose end points it equals."""
    found = []
    for seg in segments(trace, dims):
        assert seg.shape[0] == 2
        hits = [(c, p) for c, p in H36M_17.bones() if np.allclose(seg, pose[[c, p]])]
        assert len(hits) == 1, seg
        found.append(hits[0])
    return found


def random_sequence(rng, T, J=17, depth=5.0):
    gt = rng.normal(size=(T, J, 3)) * 0.3 + np.array([0.2, -0.1, depth])
    gt[:, 0] += np.linspace(0, 1, T)[:, None] * np.array([1.0, 0.0, 0.5])  # root walks
    kps = rng.uniform(-0.9, 0.9, size=(T, J, 2))
    return gt, kps


def gif_frames(path):
    with Image.open(path) as im:
        return im.n_frames, im.size
