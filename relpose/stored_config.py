"""A model configuration read from a file (a checkpoint's 'config' entry), checked as plain data.

relpose.checkpoints checks it where a checkpoint is read, before anything uses it, and knows nothing of
the model itself (tests/test_layers.py); relpose.model.ModelConfig.from_stored builds the configuration
after these checks (and checks the local encoder against its registry). Every message names the file
and the key, never a flag: the configuration did not come from flags.
"""
from __future__ import annotations

from .config_rules import MODEL_RULES, SettingError, check_rules
from .errors import UserError
from .keypoint_layouts import LAYOUT_ALIASES, LAYOUTS

# ModelConfig's fields (tests/test_reliability_sweep.py checks that the two agree).
CONFIG_KEYS = ("num_joints", "groups", "filter_widths", "channels", "latent_dim", "dropout", "hidden", "fc_dropout",
               "stage", "encoding", "causal", "dense", "local_encoder", "num_input_joints", "input_root",
               "input_layout")

# Bounds far above any useful model, so a file cannot make the kit allocate without limit.
MAX_SIZE = 1 << 16          # channels, latent, hidden size, joints
MAX_FILTER_WIDTHS = 12
MAX_FILTER_WIDTH = 243


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_index_list(v, limit: int) -> bool:
    return isinstance(v, (list, tuple)) and all(_is_int(j) and 0 <= j < limit for j in v)


def stored_key_error(source: str, key: str, value, why: str) -> UserError:
    """The one wording of a stored configuration's bad value: the file, the key, the value and why."""
    value = repr(value)
    value = value if len(value) <= 60 else value[:57] + "..."
    return UserError(f"{source}: stored config key '{key}' is {value}, {why}; the file was damaged or "
                     "edited: use a checkpoint this kit wrote, unedited")


def check_stored_config(d, source: str) -> None:
    """UserError naming `source` and the first key of `d` (a ModelConfig.to_dict() as stored) that is not
    what ModelConfig takes: unknown keys, wrong types, sizes out of range, values that break ModelConfig's
    rules (relpose.config_rules.MODEL_RULES), body groups that do not fit."""
    def bad(key, why):
        return stored_key_error(source, key, d[key], why)

    if not isinstance(d, dict):
        raise UserError(f"{source}: its stored config is a {type(d).__name__}, not a dict of settings; "
                        "use a checkpoint this kit wrote, unedited")
    known = CONFIG_KEYS
    unknown = [k for k in d if k not in known]
    if unknown:
        raise UserError(f"{source}: stored config has the unknown key {unknown[0]!r} (known: {', '.join(known)}); "
                        "it was written by another version of the kit or edited: use a checkpoint this kit wrote")
    for key in ("num_joints", "channels", "latent_dim", "hidden"):
        if key in d and not (_is_int(d[key]) and 1 <= d[key] <= MAX_SIZE):
            raise bad(key, f"not a whole number from 1 to {MAX_SIZE}")
    if "num_input_joints" in d and d["num_input_joints"] is not None \
            and not (_is_int(d["num_input_joints"]) and 1 <= d["num_input_joints"] <= MAX_SIZE):
        raise bad("num_input_joints", f"not a whole number from 1 to {MAX_SIZE} (or None)")
    if "stage" in d and not _is_int(d["stage"]):
        raise bad("stage", "not a whole number")
    for key in ("dropout", "fc_dropout"):
        if key in d and not (isinstance(d[key], (int, float)) and not isinstance(d[key], bool)):
            raise bad(key, "not a number")
    for key in ("causal", "dense"):
        if key in d and not isinstance(d[key], bool):
            raise bad(key, "not true or false")
    if "encoding" in d and not isinstance(d["encoding"], str):
        raise bad("encoding", "not the name of an encoding")
    if "local_encoder" in d and not (isinstance(d["local_encoder"], str) and 0 < len(d["local_encoder"]) <= 64):
        raise bad("local_encoder", "not the name of a local encoder type, such as 'tcn'")
    if "input_layout" in d and d["input_layout"] is not None:
        if not isinstance(d["input_layout"], str) or LAYOUT_ALIASES.get(d["input_layout"], d["input_layout"]) \
                not in LAYOUTS:
            raise bad("input_layout", f"not a keypoint layout ({', '.join(LAYOUTS)})")
    if "filter_widths" in d:
        w = d["filter_widths"]
        if not (isinstance(w, (list, tuple)) and 1 <= len(w) <= MAX_FILTER_WIDTHS
                and all(_is_int(x) and 1 <= x <= MAX_FILTER_WIDTH for x in w)):
            raise bad("filter_widths", f"not a list of 1 to {MAX_FILTER_WIDTHS} widths from 1 to {MAX_FILTER_WIDTH}")
    try:
        check_rules(d, MODEL_RULES)   # the types are right now: ModelConfig's own rules
    except SettingError as e:
        raise bad(e.key, e.rule) from None
    num_joints = d.get("num_joints", 17)
    num_inputs = d.get("num_input_joints") or num_joints
    if "input_root" in d and not (_is_index_list(d["input_root"], num_inputs) and d["input_root"]):
        raise bad("input_root", f"not a list of keypoint indices below {num_inputs}")
    if "groups" in d:
        g = d["groups"]
        shaped = isinstance(g, (list, tuple)) and g and all(
            isinstance(x, (list, tuple)) and len(x) in (2, 3) and isinstance(x[0], str) and x[0].isidentifier()
            and _is_index_list(x[1], num_joints) and x[1] and (len(x) == 2 or _is_index_list(x[2], num_inputs))
            for x in g)
        if not shaped:
            raise bad("groups", f"not a list of [name, [joints below {num_joints}], optional [keypoints "
                                f"below {num_inputs}]]")
        covered = sorted(j for x in g for j in x[1])
        if covered != list(range(num_joints)):
            raise bad("groups", f"its body parts do not cover joints 0..{num_joints - 1} exactly once")
