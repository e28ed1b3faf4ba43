"""2D keypoint layouts as data, and their conversion to the Human3.6M-17 input of the models.

A layout is the joint names in the order a detector writes them, the bones to draw, and, for layouts
the kit converts, where each Human3.6M-17 joint comes from: a tuple of source joints whose mean it is.
Left and right are the person's own (so `left_hip` feeds `LHip`), and the symmetry used for flip
augmentation follows from the names (`left_x` <-> `right_x`).

The conversion is the convention users of MotionBERT and MMPose know: pelvis = mean of the hips,
thorax = mean of the shoulders, spine = mean of pelvis and thorax, head = the head-top keypoint where
a layout has one (Halpe-26), otherwise the mean of the eyes; nose = nose; limbs joint for joint.
Systematic differences remain, and a model trained on Human3.6M's own 2D sees them as a shift:
- a detector's hips sit on the surface of the body, wider apart than Human3.6M's hip joint centres;
- Human3.6M's "Head" is a point near the top of the head, the mean of the eyes sits lower and in
  front; its "Nose" (joint 9) is closer to the neck-nose midpoint than to the tip of the nose;
- "Spine" is a mocap marker on the back, the mean of pelvis and thorax lies on the body's axis.
Measured on the synthetic bodies (relpose.synth.coco: COCO keypoints with limbs and hips on Human3.6M's
joints and a face built on the head joints), test subjects S9 and S11 of the default-size set, mean
3D distance of the converted point from Human3.6M's own joint, and mean offset in the four cameras'
images: Head 145 mm / 30 px (the eyes' mean is ~11 cm below the head top, ~8.5 cm in front of its axis),
Nose 115 mm / 18 px (the nose tip is ~11 cm in front of the Neck/Nose joint, mostly in depth),
Thorax 32 mm / 7 px (the shoulders hang a little below and behind the neck joint), Spine 21 mm / 5 px;
the pelvis and the limbs 0 (there the synthetic COCO points are Human3.6M's joints; a real detector's
hips would add the first difference above). The 'det_coco' keypoints of the synthetic set carry these
differences, so a model trained on them reads keypoints as the conversion gives them.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import DataError, UserError
from .skeleton import H36M_17, H36M_17_JOINT_NAMES, HUMANEVA_15, BodyGroup, Skeleton


def _side(name: str) -> tuple[str, str] | None:
    """('left' or 'right', the mirrored name) for a sided joint name, None for a central one."""
    swaps = (("left_", "right_", "left"), ("right_", "left_", "right"))
    for a, b, side in swaps:
        if name.startswith(a):
            return side, b + name[len(a):]
    for a, b, side in (("_left", "_right", "left"), ("_right", "_left", "right")):   # BlazePose's mouth_left
        if name.endswith(a):
            return side, name[: -len(a)] + b
    if len(name) > 1 and name[0] in "LR" and name[1].isupper():   # Human3.6M / HumanEva style: LHip, RKnee
        return ("left" if name[0] == "L" else "right"), ("R" if name[0] == "L" else "L") + name[1:]
    return None


@dataclass(frozen=True)
class KeypointLayout:
    name: str
    joint_names: tuple[str, ...]
    bones: tuple[tuple[str, str], ...] = ()
    # Human3.6M-17 joint name -> the source joints whose mean it is; None: not convertible.
    h36m_from: dict | None = field(default=None, compare=False)
    description: str = ""

    def __post_init__(self):
        names = set(self.joint_names)
        if len(names) != len(self.joint_names):
            raise ValueError(f"layout {self.name}: joint names repeat")
        for a, b in self.bones:
            if a not in names or b not in names:
                raise ValueError(f"layout {self.name}: bone {a}-{b} names an unknown joint")
        if self.h36m_from is not None:
            if set(self.h36m_from) != set(H36M_17_JOINT_NAMES):
                raise ValueError(f"layout {self.name}: the conversion must give every Human3.6M-17 joint")
            for target, sources in self.h36m_from.items():
                unknown = [s for s in sources if s not in names]
                if not sources or unknown:
                    raise ValueError(f"layout {self.name}: {target} from unknown joints {unknown}")

    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    def index(self, name: str) -> int:
        return self.joint_names.index(name)

    @property
    def symmetry(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(left, right) joint indices, paired in order, from the names."""
        left, right = [], []
        for i, n in enumerate(self.joint_names):
            sided = _side(n)
            if sided is not None and sided[0] == "left" and sided[1] in self.joint_names:
                left.append(i)
                right.append(self.index(sided[1]))
        return tuple(left), tuple(right)

    def bone_indices(self) -> list[tuple[int, int]]:
        return [(self.index(a), self.index(b)) for a, b in self.bones]

    def _check(self, array: np.ndarray, what: str, trailing: int) -> np.ndarray:
        a = np.asarray(array)
        axis = a.ndim - 1 - trailing
        if a.ndim < 1 + trailing or a.shape[axis] != self.num_joints:
            shape = "(..., joints, coordinates)" if trailing else "(..., joints)"
            raise DataError(f"{what}: {self.name} keypoints have {self.num_joints} joints, got an array of shape "
                            f"{a.shape} {shape}; check the layout (-k / --layout) the keypoints were written in")
        return a

    def to_h36m17(self, points) -> np.ndarray:
        """(..., J, C) keypoints of this layout -> (..., 17, C) in Human3.6M-17 order (float32 for floats)."""
        if self.h36m_from is None:
            raise UserError(f"the {self.name} layout has no conversion to Human3.6M-17")
        p = self._check(points, "to_h36m17", 1)
        out = np.stack([p[..., [self.index(s) for s in self.h36m_from[t]], :].mean(axis=-2)
                        for t in H36M_17_JOINT_NAMES], axis=-2)
        return out.astype(np.float32) if np.issubdtype(p.dtype, np.floating) else out

    def scores_to_h36m17(self, scores) -> np.ndarray:
        """(..., J) confidences -> (..., 17): a derived joint is as reliable as its least reliable source."""
        if self.h36m_from is None:
            raise UserError(f"the {self.name} layout has no conversion to Human3.6M-17")
        s = self._check(scores, "scores_to_h36m17", 0)
        return np.stack([s[..., [self.index(n) for n in self.h36m_from[t]]].min(axis=-1)
                         for t in H36M_17_JOINT_NAMES], axis=-1)


LAYOUTS: dict[str, KeypointLayout] = {}


def register_layout(layout: KeypointLayout) -> KeypointLayout:
    LAYOUTS[layout.name] = layout
    return layout


def get_layout(name: str) -> KeypointLayout:
    """A registered layout by name or by the alias VideoPose3D's files use ('coco', 'h36m')."""
    try:
        return LAYOUTS[LAYOUT_ALIASES.get(name, name)]
    except KeyError:
        raise UserError(f"unknown keypoint layout '{name}' (known: {', '.join(LAYOUTS)})") from None


def _from_skeleton(name: str, skeleton: Skeleton, identity: bool, description: str) -> KeypointLayout:
    names = skeleton.joint_names
    bones = tuple((names[c], names[p]) for c, p in skeleton.bones())
    h36m = {n: (n,) for n in names} if identity else None
    return KeypointLayout(name, names, bones, h36m, description)


H36M17_LAYOUT = register_layout(_from_skeleton("h36m-17", H36M_17, True, "Human3.6M's 17 joints (VideoPose3D order)"))
HUMANEVA15_LAYOUT = register_layout(_from_skeleton("humaneva-15", HUMANEVA_15, False, "HumanEva-I's 15 joints"))

_FACE = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")
_BODY = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
         "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
_LIMB_BONES = tuple((f"{s}_{a}", f"{s}_{b}") for s in ("left", "right")
                    for a, b in (("shoulder", "elbow"), ("elbow", "wrist"), ("hip", "knee"), ("knee", "ankle")))
_TRUNK_BONES = (("left_shoulder", "right_shoulder"), ("left_hip", "right_hip"),
                ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"))
_FACE_BONES = (("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"))

_HIPS, _SHOULDERS = ("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")


def _h36m_map(head: tuple[str, ...], ankle: str = "ankle") -> dict:
    """The shared convention: limbs joint for joint, derived trunk points, `head` for the head."""
    limb = lambda side, part: (f"{side}_{part}",)
    return {
        "Hip": _HIPS, "RHip": limb("right", "hip"), "RKnee": limb("right", "knee"), "RFoot": limb("right", ankle),
        "LHip": limb("left", "hip"), "LKnee": limb("left", "knee"), "LFoot": limb("left", ankle),
        "Spine": _HIPS + _SHOULDERS,   # mean of pelvis and thorax (each a mean of two): the four equally
        "Thorax": _SHOULDERS, "Nose": ("nose",), "Head": head,
        "LShoulder": limb("left", "shoulder"), "LElbow": limb("left", "elbow"), "LWrist": limb("left", "wrist"),
        "RShoulder": limb("right", "shoulder"), "RElbow": limb("right", "elbow"), "RWrist": limb("right", "wrist"),
    }


_EYES = ("left_eye", "right_eye")

COCO17 = register_layout(KeypointLayout(
    "coco-17", _FACE + _BODY, _FACE_BONES + _TRUNK_BONES + _LIMB_BONES, _h36m_map(_EYES),
    "COCO's 17 keypoints (Detectron2, MMPose, YOLO pose, VideoPose3D's detectron_pt_coco)"))

_FEET = ("left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe", "left_heel", "right_heel")
_FOOT_BONES = tuple((f"{s}_ankle", f"{s}_{p}") for s in ("left", "right") for p in ("big_toe", "small_toe", "heel"))

HALPE26 = register_layout(KeypointLayout(
    "halpe-26", _FACE + _BODY + ("head", "neck", "hip") + _FEET,
    _FACE_BONES + _TRUNK_BONES + _LIMB_BONES + _FOOT_BONES + (("head", "neck"), ("neck", "hip")),
    _h36m_map(("head",)), "Halpe's 26 keypoints (AlphaPose): COCO-17, head top, neck, hip and six foot points"))

# OpenPose BODY_25, its names in snake case (Nose, Neck, RShoulder, ... -> nose, neck, right_shoulder, ...).
BODY25 = register_layout(KeypointLayout(
    "openpose-25",
    ("nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow", "left_wrist",
     "mid_hip", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle", "right_eye",
     "left_eye", "right_ear", "left_ear", "left_big_toe", "left_small_toe", "left_heel", "right_big_toe",
     "right_small_toe", "right_heel"),
    _FACE_BONES + _LIMB_BONES + _FOOT_BONES + (("neck", "left_shoulder"), ("neck", "right_shoulder"),
                                                ("neck", "mid_hip"), ("mid_hip", "left_hip"), ("mid_hip", "right_hip"),
                                                ("neck", "nose")),
    _h36m_map(_EYES), "OpenPose's BODY_25"))

BLAZEPOSE33 = register_layout(KeypointLayout(
    "blazepose-33",
    ("nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye", "right_eye_outer",
     "left_ear", "right_ear", "mouth_left", "mouth_right") + _BODY[:6] +
    ("left_pinky", "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb") + _BODY[6:] +
    ("left_heel", "right_heel", "left_foot_index", "right_foot_index"),
    (("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
     ("mouth_left", "mouth_right")) + _TRUNK_BONES + _LIMB_BONES +
    tuple((f"{s}_wrist", f"{s}_{p}") for s in ("left", "right") for p in ("pinky", "index", "thumb")) +
    tuple((f"{s}_ankle", f"{s}_{p}") for s in ("left", "right") for p in ("heel", "foot_index")),
    _h36m_map(_EYES), "MediaPipe BlazePose's 33 landmarks"))


# ----------------------------------------------------------------------------- layouts a model reads

# The names VideoPose3D's files give in metadata['layout_name'] for the kit's layouts.
LAYOUT_ALIASES = {"coco": "coco-17", "h36m": "h36m-17", "humaneva15": "humaneva-15", "humaneva": "humaneva-15"}

# A skeleton's joints in the Human3.6M-17 names the conversions are written in (HumanEva calls the root
# Pelvis and the feet ankles; the other names are shared).
_AS_H36M = {"humaneva-15": {"Pelvis": "Hip", "LAnkle": "LFoot", "RAnkle": "RFoot"}}


def layout_name(name: str | None) -> str | None:
    """The registered name for a layout name or a VideoPose3D alias ('coco' -> 'coco-17'); None stays None."""
    return None if name is None else LAYOUT_ALIASES.get(name, name)


def skeleton_layout(skeleton: Skeleton) -> KeypointLayout:
    """The 2D layout of a skeleton's own joints (its projection): h36m-17 or humaneva-15."""
    return get_layout(skeleton.name)


def _h36m_name(skeleton: Skeleton, joint: int) -> str:
    name = skeleton.joint_names[joint]
    return _AS_H36M.get(skeleton.name, {}).get(name, name)


def joint_sources(skeleton: Skeleton, layout: KeypointLayout) -> list[tuple[int, ...]]:
    """For each joint of `skeleton`, the `layout` keypoints it corresponds to (their mean, as in to_h36m17)."""
    if layout.name == skeleton.name:
        return [(j,) for j in range(skeleton.num_joints)]
    if layout.h36m_from is None:
        raise UserError(f"the {layout.name} layout has no correspondence with the {skeleton.name} skeleton's joints")
    return [tuple(layout.index(s) for s in layout.h36m_from[_h36m_name(skeleton, j)])
            for j in range(skeleton.num_joints)]


def seen_in_layout(seen, layout_from: str, layout_to: str = "h36m-17") -> np.ndarray:
    """(..., J_from) bool "the detector saw this joint" -> (..., J_to) in `layout_to` (h36m-17 or humaneva-15,
    the skeletons the kit's conversions give): a joint made from several keypoints (the pelvis, the mean
    of the hips) is seen only where all of them are."""
    source = get_layout(layout_name(layout_from))
    s = source._check(np.asarray(seen), "seen_in_layout", 0).astype(bool)
    target = layout_name(layout_to)
    if target == source.name:
        return s.copy()
    skeletons = {"h36m-17": H36M_17, "humaneva-15": HUMANEVA_15}
    if target not in skeletons:
        raise UserError(f"seen_in_layout: no conversion to the {layout_to} layout (give one of {', '.join(skeletons)})")
    return np.stack([s[..., list(k)].all(axis=-1) for k in joint_sources(skeletons[target], source)], axis=-1)


def model_inputs(skeleton: Skeleton, layout: KeypointLayout):
    """(groups, input_root) of a model that reads `layout` keypoints and predicts `skeleton`'s joints.

    Each body-part group keeps its output joints and reads the keypoints they correspond to; keypoints
    that correspond to no joint (ears, toes, fingers) join the group of the nearest keypoint, along the
    layout's bones, that does (the first group, the torso, when no bone leads to one), so every input
    keypoint is read by one part. The positional encoding is
    relative to the keypoints the root joint comes from (the mean of the hips for COCO). For a skeleton's
    own layout nothing changes: the groups read the joints' own indices (published checkpoints load).
    """
    if layout.name == skeleton.name:
        return skeleton.groups, (0,)
    sources = joint_sources(skeleton, layout)
    owner = {}
    for g, group in enumerate(skeleton.groups):
        for j in group.joints:
            for k in sources[j]:
                owner.setdefault(k, g)
    neighbours = {k: set() for k in range(layout.num_joints)}
    for a, b in layout.bone_indices():
        neighbours[a].add(b)
        neighbours[b].add(a)
    frontier = sorted(owner)
    while frontier:   # breadth first from the corresponding keypoints, in index order (deterministic)
        nxt = []
        for k in frontier:
            for n in sorted(neighbours[k]):
                if n not in owner:
                    owner[n] = owner[k]
                    nxt.append(n)
        frontier = nxt
    for k in range(layout.num_joints):   # no bone leads there (BlazePose's eye corners, mouth): the torso's
        owner.setdefault(k, 0)
    groups = []
    for g, group in enumerate(skeleton.groups):
        inputs = []
        for j in group.joints:
            inputs += [k for k in sources[j] if k not in inputs]
        inputs += [k for k in range(layout.num_joints) if owner.get(k) == g and k not in inputs]
        groups.append(BodyGroup(group.name, tuple(group.joints), tuple(inputs)))
    return tuple(groups), tuple(sources[0])


def guess_layout(num_keypoints: int, skeleton: Skeleton, stated: str | None = None) -> KeypointLayout:
    """The layout of a file's keypoints: the one its metadata names, else the skeleton's own when the
    counts agree, else the only detector layout with that many keypoints (17 for a HumanEva-15 skeleton:
    COCO, as VideoPose3D's detectron_pt_coco files)."""
    if stated is not None:
        layout = get_layout(layout_name(stated))
        if layout.num_joints != num_keypoints:
            raise DataError(f"the metadata names layout '{stated}' ({layout.num_joints} keypoints) but the file has "
                            f"{num_keypoints} keypoints per frame; fix metadata['layout_name']")
        return layout
    if num_keypoints == skeleton.num_joints:
        return skeleton_layout(skeleton)
    fits = [l for l in LAYOUTS.values() if l.num_joints == num_keypoints and l.h36m_from is not None
            and l.name not in ("h36m-17", "humaneva-15")]
    if len(fits) == 1:
        return fits[0]
    raise DataError(f"{num_keypoints} keypoints per frame match no single registered layout "
                    f"({', '.join(f'{l.name} ({l.num_joints})' for l in LAYOUTS.values())}); "
                    "name it in the file's metadata['layout_name']")
