"""What the synthetic data covers, as figures (matplotlib): the motion library's poses on bodies of different
sizes, and one pose as the broad set's cameras see it.

- `poses_figure`: one panel per library motion (relpose.synth.library), a few moments of one take side by side
  in time order (`pick_moments`: the most telling one, then those most unlike it), each seen from the body's
  side (`side_view`; a cartwheel from the front), with the floor; a child and an adult, every panel at the same
  scale (metres), so their sizes compare across panels;
- `broad_set_view`: one pose of a subject of the broad set 'synthwild' and that subject's four cameras (one of
  Human3.6M's and three cameras people use), exactly as relpose.synth.wild_set makes them;
- `camera_views_figure`: that pose projected into each camera's image (pixels, the image's rectangle drawn so
  that landscape and portrait show), each panel titled with the camera's kind, height above the floor, distance
  and horizontal field of view (`camera_facts`), beside a top view (metres) of where the cameras stand.

Everything is drawn from seeds: the same call gives the same figure.
"""
from __future__ import annotations

import numpy as np

from ..cameras import camera_from_record, qrot
from ..skeleton import H36M_17, H36M_KEPT_JOINTS
from ..synth import wild_set
from ..synth.generator import project
from ..synth.library import LIBRARY_MOTIONS, library_take, random_body
from .static import draw_skeleton_2d

MOTIONS = ("lie_back", "crawl", "kneel", "squat", "sit_floor", "run", "jump", "cartwheel", "handstand", "box")
MOTION_TITLES = {"lie_back": "lying on the back", "lie_front": "lying on the front", "lie_side": "lying on the side",
                 "get_up": "getting up", "sit_floor": "sitting on the floor", "bend_reach": "bending to the floor",
                 "run": "running", "jump": "jumping", "crawl": "crawling", "kneel": "kneeling", "squat": "squatting",
                 "roll": "rolling", "turn": "turning", "wave": "waving", "throw": "throwing", "box": "boxing",
                 "lift": "lifting", "cartwheel": "cartwheel", "handstand": "handstand"}
FRONT_VIEW = {"cartwheel"}   # motions drawn from the front (`side_view`): they turn in the body's frontal plane
BODIES = {"adult": 1.80, "child": 1.15}   # name -> height (m); the panels take them in turn
TAKE_FRAMES = 400         # 8 s at 50 fps: a whole pass of the slowest motion (a handstand) fits
SAMPLE_STEP = 5           # frames between the candidates for a moment
GAP_M = 0.3               # between two moments of a strip
# 32-joint indices: root, right and left hip, thorax, head top (relpose.synth.motion's skeleton)
ROOT, RIGHT_HIP, LEFT_HIP, THORAX, HEAD = 0, 1, 6, 13, 15


# ------------------------------------------------------------------------------------------ poses
def side_view(pose: np.ndarray, front: bool = False) -> np.ndarray:
    """(J, 2) view of a (32, 3) world pose (z up) from its side: the horizontal coordinate from the root along the
    body's forward direction (upright or upside down), or along its trunk, head at +x, when the trunk lies more
    than 30 degrees from the vertical (lying, crawling); and the height over the floor. `front`: seen from the
    front instead, the body's left at +x (a cartwheel turns in that plane)."""
    pose = np.asarray(pose, np.float64)
    flat = pose[:, :2] - pose[ROOT, :2]
    trunk = pose[THORAX] - pose[ROOT]
    forward = np.cross(pose[LEFT_HIP] - pose[RIGHT_HIP], trunk)[:2]
    if front:
        u = np.array([-forward[1], forward[0]])
    else:
        u = forward if abs(trunk[2]) >= np.cos(np.radians(30)) * np.linalg.norm(trunk) else trunk[:2]
    if np.linalg.norm(u) < 1e-6:   # nothing horizontal to go by: the widest horizontal direction
        u = np.linalg.svd(flat - flat.mean(0), full_matrices=False)[2][0]
    return np.stack([flat @ (u / np.linalg.norm(u)), pose[:, 2]], axis=1)


def pick_moments(take: np.ndarray, count: int, step: int = SAMPLE_STEP, front: bool = False) -> list[int]:
    """Frames of a (T, 32, 3) take that look most unlike each other in `side_view`, in time order. The first chosen
    is the motion's most telling moment: the frame whose joints are furthest in height from where they are when
    the head is highest (standing, as a rule): kneeling, squatting, upside down; then each time the frame furthest
    in the view from those already chosen. Distances: the mean over joints, in metres."""
    frames = np.arange(0, len(take), step)
    views = np.stack([side_view(p, front) for p in take[frames]])              # (F, 32, 2)
    apart = lambda v: np.linalg.norm(views - v, axis=-1).mean(-1)               # noqa: E731
    heights = take[frames, :, 2]
    chosen = [int(np.argmax(np.abs(heights - heights[np.argmax(heights[:, HEAD])]).mean(-1)))]
    nearest = apart(views[chosen[0]])
    while len(chosen) < min(count, len(frames)):
        chosen.append(int(np.argmax(nearest)))
        nearest = np.minimum(nearest, apart(views[chosen[-1]]))
    return sorted(int(frames[k]) for k in chosen)


def library_strips(motions=MOTIONS, bodies: dict | None = None, moments: int = 3, seed: int = 0,
                   fps: float = 50.0) -> list[dict]:
    """Per motion: {'motion', 'body', 'height', 'times' (s), 'views': one (17, 2) side view per moment (from the
    front for FRONT_VIEW), laid out left to right with GAP_M between them (metres, the floor at 0)}. The bodies
    take the motions in turn."""
    bodies = dict(BODIES if bodies is None else bodies)
    unknown = [m for m in motions if m not in LIBRARY_MOTIONS]
    if unknown or not motions or not bodies:
        raise ValueError(f"give motions of the library ({', '.join(LIBRARY_MOTIONS)}) and at least one body; "
                         f"got motions {list(motions)}, bodies {list(bodies)}")
    built = {name: random_body(np.random.default_rng([seed, 1, k]), height)
             for k, (name, height) in enumerate(bodies.items())}
    strips = []
    for i, motion in enumerate(motions):
        name = list(bodies)[i % len(bodies)]
        take = library_take(np.random.default_rng([seed, 2, LIBRARY_MOTIONS.index(motion)]), built[name], motion,
                            TAKE_FRAMES)
        front = motion in FRONT_VIEW
        frames = pick_moments(take, moments, front=front)
        views, right = [], 0.0
        for f in frames:
            v = side_view(take[f], front)[list(H36M_KEPT_JOINTS)]
            v[:, 0] += right + (GAP_M if views else 0.0) - v[:, 0].min()
            right = v[:, 0].max()
            views.append(v)
        strips.append(dict(motion=motion, body=name, height=float(bodies[name]), times=[f / fps for f in frames],
                           views=views))
    return strips


def poses_figure(motions=MOTIONS, bodies: dict | None = None, moments: int = 3, seed: int = 0, columns: int = 2):
    """One panel per library motion: `moments` moments of one take, left to right in time, seen from the side
    (`side_view`; a cartwheel from the front), the floor shaded; every panel at the same scale, in metres."""
    import matplotlib.pyplot as plt

    strips = library_strips(motions, bodies, moments, seed)
    width = max(s["views"][-1][:, 0].max() for s in strips) + 0.4
    top = max(max(v[:, 1].max() for v in s["views"]) for s in strips) + 0.35   # room for the times
    columns = max(1, min(columns, len(strips)))
    rows = -(-len(strips) // columns)
    panel_w = 12.0 / columns
    fig, axes = plt.subplots(rows, columns, figsize=(12.4, rows * (panel_w * (top + 0.2) / width + 0.75)),
                             squeeze=False)
    for ax in axes.flat[len(strips):]:
        ax.set_visible(False)
    for k, (ax, s) in enumerate(zip(axes.flat, strips)):
        centre = s["views"][-1][:, 0].max() / 2
        ax.axhspan(-0.2, 0.0, color="0.88", zorder=0)
        ax.axhline(0.0, color="0.45", lw=1)
        for view, t in zip(s["views"], s["times"]):
            draw_skeleton_2d(ax, view, H36M_17, linewidth=1.8)
            ax.text((view[:, 0].min() + view[:, 0].max()) / 2, view[:, 1].max() + 0.08, f"{t:.1f} s", ha="center",
                    va="bottom", fontsize=10, color="0.35")
        ax.set_xlim(centre - width / 2, centre + width / 2)
        ax.set_ylim(-0.2, top)
        ax.set_aspect("equal", adjustable="box")
        ax.set_title(f"{MOTION_TITLES.get(s['motion'], s['motion'])}: {s['body']}, {s['height']:.2f} m",
                     fontsize=11)
        if k % columns == 0:
            ax.set_ylabel("height (m)")
        if k + columns >= len(strips):
            ax.set_xlabel("along the view (m)")
    fig.suptitle(f"{len(strips)} motions of the library, {moments} moments of one take each (left to right in "
                 "time), seen from the side (a cartwheel from the front); same scale in every panel", fontsize=11)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------------------------------ cameras
def broad_set_view(subject: str = "W07", motion: str = "kneel", frame: int | None = None, seed: int = 0,
                   size: str = "default") -> tuple[np.ndarray, list[dict]]:
    """((32, 3) world pose, the subject's four cameras as the kit's camera dicts) of the broad set 'synthwild'
    made with `seed` and `size`: the take of `motion` (a library motion or a Human3.6M action) at `frame`
    (None: the take's most telling moment, the first that `pick_moments` chooses)."""
    if subject not in wild_set.SUBJECTS or motion not in wild_set.ACTIONS or size not in wild_set.SIZES:
        raise ValueError(f"subject one of {', '.join(wild_set.SUBJECTS)}, motion one of {', '.join(wild_set.ACTIONS)}"
                         f", size one of {', '.join(wild_set.SIZES)}; got {subject!r}, {motion!r}, {size!r}")
    si = wild_set.SUBJECTS.index(subject)
    takes, records = wild_set.subject_takes(seed, si, wild_set.take_lengths(seed, si, size, None))
    take = takes[motion]
    frame = pick_moments(take, 1, step=1)[0] if frame is None else frame
    return take[frame].astype(np.float64), [camera_from_record(r) for r in records]


def camera_facts(cam: dict, pose: np.ndarray) -> dict:
    """{'kind', 'res_w', 'res_h', 'height_m' (above the floor), 'distance_m' (along the floor to the pose's root),
    'hfov_deg' (across the image's width)} of a kit camera dict and a world pose (z up, metres)."""
    at = np.asarray(cam["translation"], np.float64)
    root = np.asarray(pose, np.float64)[ROOT]
    return {"kind": str(cam.get("kind", "camera")), "res_w": int(cam["res_w"]), "res_h": int(cam["res_h"]),
            "height_m": float(at[2]), "distance_m": float(np.hypot(*(at[:2] - root[:2]))),
            "hfov_deg": float(np.degrees(2 * np.arctan(1.0 / float(cam["intrinsic"][0]))))}


def camera_title(number: int, facts: dict) -> str:
    """A camera panel's title: its number, kind and image size; its height, distance and field of view."""
    return (f"{number}. {facts['kind']}, {facts['res_w']} x {facts['res_h']} px\n{facts['height_m']:.1f} m up, "
            f"{facts['distance_m']:.1f} m away, {facts['hfov_deg']:.0f}° across")


INSET = 0.42              # side of a camera panel's zoom on the person, a fraction of the panel
CORNERS = ((0.56, 0.56), (0.02, 0.56), (0.56, 0.02), (0.02, 0.02))   # where the zoom may go (axes fraction)


def _zoom(ax, px: np.ndarray, colour, box: tuple[float, float, float]):
    """An inset of the person (pixels `px`) at a larger scale, in a corner of the panel the person does not cover
    (none when every corner is covered or the person is large already); `box`: the panel's window (left, top,
    side) in pixels."""
    from matplotlib.patches import Rectangle

    lo, hi = px.min(0), px.max(0)
    crop = float((hi - lo).max()) * 1.3 + 16
    left, top, side = box
    person = [(lo[0] - left) / side, 1 - (hi[1] - top) / side, (hi[0] - left) / side, 1 - (lo[1] - top) / side]
    free = [c for c in CORNERS if person[2] < c[0] or person[0] > c[0] + INSET or person[3] < c[1]
            or person[1] > c[1] + INSET]
    if not free or crop > 0.5 * side:
        return
    centre = (lo + hi) / 2
    ax.add_patch(Rectangle(tuple(centre - crop / 2), crop, crop, fill=False, edgecolor=colour, ls="--", lw=1))
    inset = ax.inset_axes([*free[0], INSET, INSET])
    inset.axis("off")   # a picture, not a panel with axes of its own
    inset.add_patch(Rectangle((0, 0), 1, 1, transform=inset.transAxes, facecolor="white", edgecolor=colour, lw=1.5,
                              clip_on=False, zorder=0))
    draw_skeleton_2d(inset, px, H36M_17, linewidth=1.6)
    inset.plot(*px.T, ".", color="0.2", ms=4)
    inset.set_xlim(centre[0] - crop / 2, centre[0] + crop / 2)
    inset.set_ylim(centre[1] + crop / 2, centre[1] - crop / 2)
    inset.set_aspect("equal", adjustable="box")
    inset.text(0.04, 0.03, f"{hi[1] - lo[1]:.0f} px high", transform=inset.transAxes, fontsize=10, color="0.3")


def _image_panel(ax, pose17: np.ndarray, cam: dict, title: str, colour):
    from matplotlib.patches import Rectangle

    w, h = cam["res_w"], cam["res_h"]
    side = max(w, h) * 1.04
    ax.add_patch(Rectangle((0, 0), w, h, facecolor="0.94", edgecolor=colour, lw=1.5, zorder=0))
    px = project(pose17, cam)
    draw_skeleton_2d(ax, px, H36M_17, linewidth=1.6)
    ax.set_xlim(w / 2 - side / 2, w / 2 + side / 2)
    ax.set_ylim(h / 2 + side / 2, h / 2 - side / 2)   # image y points down
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("x (px)")
    ax.set_ylabel("y (px)")
    ax.set_title(title, fontsize=11)
    _zoom(ax, px, colour, (w / 2 - side / 2, h / 2 - side / 2, side))


def _top_view(ax, pose17: np.ndarray, cams: list[dict], facts: list[dict]):
    draw_skeleton_2d(ax, pose17[:, :2], H36M_17, linewidth=1.2)
    root = pose17[ROOT, :2]
    ax.plot(*root, "o", color="0.2", ms=5)
    for k, (cam, f) in enumerate(zip(cams, facts), 1):
        at = np.asarray(cam["translation"], np.float64)[:2]
        forward = qrot(np.asarray(cam["orientation"], np.float64), np.array([0.0, 0.0, 1.0]))[:2]
        heading, reach = np.arctan2(forward[1], forward[0]), 0.45 * f["distance_m"]
        half = np.radians(f["hfov_deg"]) / 2
        edge = [at + reach * np.array([np.cos(heading + s * half), np.sin(heading + s * half)]) for s in (-1, 1)]
        ax.fill(*np.array([at, edge[0], edge[1]]).T, color=f"C{k - 1}", alpha=0.25, lw=0)
        ax.plot(*at, "s", color=f"C{k - 1}", ms=7)
        away = (at - root) / max(np.linalg.norm(at - root), 1e-9)
        ax.annotate(str(k), at, xytext=12 * away, textcoords="offset points", ha="center", va="center", fontsize=11)
    everything = np.array([np.asarray(c["translation"], np.float64)[:2] for c in cams] + [root])
    lo, hi = everything.min(0) - 1.0, everything.max(0) + 1.0
    half = (hi - lo).max() / 2
    mid = (lo + hi) / 2
    ax.set_xlim(mid[0] - half, mid[0] + half)
    ax.set_ylim(mid[1] - half, mid[1] + half)
    ax.set_aspect("equal", adjustable="box")
    ax.grid(alpha=0.3)
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title("where they stand (top view; wedges:\nthe horizontal field of view)", fontsize=11)


def camera_views_figure(pose, cams: list[dict], title: str | None = None):
    """A (32, 3) or (17, 3) world pose (z up, metres) as each camera of `cams` (the kit's camera dicts) sees it,
    in pixels inside the image's rectangle, two cameras a row, and a top view of where the cameras stand."""
    import matplotlib.pyplot as plt

    pose = np.asarray(pose, np.float64)
    pose17 = pose[list(H36M_KEPT_JOINTS)] if pose.shape[0] == 32 else pose
    if pose17.shape != (17, 3) or not cams:
        raise ValueError(f"expected a (32, 3) or (17, 3) pose and at least one camera, got {pose.shape}, "
                         f"{len(cams)} cameras")
    facts = [camera_facts(c, pose17) for c in cams]
    rows = -(-len(cams) // 2)
    fig = plt.figure(figsize=(12.4, 4.4 * rows + (0.5 if title else 0.0)))
    grid = fig.add_gridspec(rows, 3, width_ratios=(1, 1, 1.1))
    for k, (cam, f) in enumerate(zip(cams, facts)):
        _image_panel(fig.add_subplot(grid[k // 2, k % 2]), pose17, cam, camera_title(k + 1, f), f"C{k}")
    _top_view(fig.add_subplot(grid[:, 2]), pose17, cams, facts)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout()
    return fig
