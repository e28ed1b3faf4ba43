"""A person in a real video, as notebook 09 reaches it: the names it uses, each imported from its home.

- the in-the-wild model's recipe and training: relpose.lab.wild_model (`wild_settings`, `ensure_wild_model`);
  loading any checkpoint: relpose.weights (`load_any_model`);
- the detector run in its own environment: relpose.wild.detector_env (`detect_in_own_environment`);
- the conversion's systematic differences: relpose.lab.conversion_offsets (`systematic_differences`);
- a custom keypoint file lifted, placed in space and checked: relpose.wild.lifting (`LiftedVideo`,
  `load_custom_video`, `lift_custom`, `lift_people`, `place_in_world`, `fill_in_time`, `upright`,
  `world_view`) and relpose.wild.plausibility (`take_plausibility`).
New code imports from those modules; this one only keeps the notebook's `wild.<name>` calls working.
"""
from ..weights import load_any_model
from ..wild.detector_env import detect_in_own_environment
from ..wild.lifting import (LiftedVideo, fill_in_time, lift_custom, lift_people, load_custom_video, place_in_world,
                            upright, world_view)
from ..wild.plausibility import take_plausibility
from .conversion_offsets import systematic_differences
from .wild_model import WILD_KEYPOINTS, ensure_wild_model, wild_settings

__all__ = ["LiftedVideo", "WILD_KEYPOINTS", "detect_in_own_environment", "ensure_wild_model", "fill_in_time",
           "lift_custom", "lift_people", "load_any_model", "load_custom_video", "place_in_world",
           "systematic_differences", "take_plausibility", "upright", "wild_settings", "world_view"]
