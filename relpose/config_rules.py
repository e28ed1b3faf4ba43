"""The rules a configuration's values obey, each written once, and how a message names a setting.

A configuration dataclass (relpose.model.ModelConfig, relpose.train.TrainConfig) checks its own values
when it is built and raises SettingError, which names the setting by its Python field ("latent_dim 0:
must be a positive number"). Whoever built the configuration from something else words the error its
own way: the command line by its flags with `SettingError.named(relpose.cli.parser.FLAG_TERMS)` ("-lfd 0:
..."), a checkpoint's stored configuration by the file and key (relpose.stored_config.stored_key_error).
Checkpoint comparisons (relpose.weights) take Terms too: flags, field names, or a stored configuration's
words (stored_terms: "its stored config has latent size 16"), so no message names a flag the command at
hand does not have.

MODEL_RULES are ModelConfig's value rules; relpose.stored_config applies the same table to a checkpoint's
stored configuration as plain data (checkpoints know nothing of the model), after its type checks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

from .encoding import ENCODINGS
from .errors import UserError


def shown(value) -> str:
    """A value as a flag takes it: 3,3,3 for a sequence, the plain text otherwise."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


@dataclass(frozen=True)
class Terms:
    """How messages name the settings of one configuration, by where it came from.

    `names` maps a field to its name there (a flag such as '-lfd', or words such as 'latent size'; a name
    with '{}' is a whole phrase that takes the value, e.g. 'the data set has {}'); a field it lacks is
    named by its field name. `owner` is whose settings words name ('its stored config'; None where the
    names stand alone, as flags and field names do). `gives` introduces a value in a comparison with a
    checkpoint ("trained with --causal True but the flags give False").
    """

    names: Mapping[str, str] = field(default_factory=dict)
    owner: str | None = None
    gives: str = "the configuration has"

    def name(self, key: str) -> str:
        return self.names.get(key, key)

    def setting(self, key: str, value) -> str:
        """The setting with its value, as the subject of a rule: '-lfd 0', "its stored config's latent size 0"."""
        name = self.name(key)
        if "{}" in name:
            return name.format(shown(value))
        return f"{name} {shown(value)}" if self.owner is None else f"{self.owner}'s {name} {shown(value)}"

    def has(self, key: str, value) -> str:
        """The setting's value stated: '-lfd is 16', 'its stored config has latent size 16'."""
        name = self.name(key)
        if "{}" in name:
            return name.format(shown(value))
        return f"{name} is {shown(value)}" if self.owner is None else f"{self.owner} has {name} {shown(value)}"


PYTHON_TERMS = Terms()   # a configuration built in Python: its field names


# ModelConfig's settings in words, for messages about a configuration that did not come from flags.
SETTING_WORDS = {"filter_widths": "filter widths", "channels": "channels", "latent_dim": "latent size",
                 "hidden": "FC hidden size", "stage": "stage", "num_input_joints": "input keypoints",
                 "groups": "body parts", "dense": "dense convolutions", "encoding": "encoding", "dropout": "dropout",
                 "fc_dropout": "FC dropout", "causal": "causal convolutions", "local_encoder": "local encoder type",
                 "input_root": "input root", "input_layout": "2D keypoint layout"}


def stored_terms(owner: str) -> Terms:
    """Terms for a configuration that did not come from flags (`owner`: "its stored config", "the published
    architecture"): the settings in words."""
    return Terms(SETTING_WORDS, owner=owner, gives=f"{owner} has")


class SettingError(UserError):
    """A configuration value that breaks its rule, named in `terms` (Python field names by default)."""

    def __init__(self, key: str, value, rule: str, terms: Terms = PYTHON_TERMS):
        self.key, self.value, self.rule, self.terms = key, value, rule, terms
        super().__init__(f"{terms.setting(key, value)}: {rule}")

    def named(self, terms: Terms) -> "SettingError":
        """The same error, naming the setting in `terms` (raise it `from None`)."""
        return SettingError(self.key, self.value, self.rule, terms)


# (field, holds(value), rule): a rule is checked only on a value of the right type.
Rule = tuple[str, Callable[[object], bool], str]


def check_rules(values: Mapping, rules) -> None:
    """Raise SettingError for the first of `rules` that a value in `values` (a field -> value mapping) breaks."""
    for key, holds, rule in rules:
        if key in values and not holds(values[key]):
            raise SettingError(key, values[key], rule)


def is_whole(v) -> bool:
    return not isinstance(v, bool) and (isinstance(v, int) or (isinstance(v, float) and v.is_integer()))


def in_range(lo: float, hi: float, *, low_open: bool = False, high_open: bool = False):
    """A predicate: a finite number between lo and hi (each end open or closed)."""
    def holds(v) -> bool:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            return False
        return (lo < v if low_open else lo <= v) and (v < hi if high_open else v <= hi)
    return holds


def at_least_one(v) -> bool:
    return is_whole(v) and v >= 1


STAGE_RULE: Rule = ("stage", lambda s: s in (1, 2, 3), "must be 1, 2 or 3")
DOWNSAMPLE_RULE: Rule = ("downsample", at_least_one, "must be a whole number >= 1")
SUBSET_RULE: Rule = ("subset", in_range(0, 1, low_open=True), "must be in (0, 1]")

MODEL_RULES: tuple[Rule, ...] = (
    ("filter_widths", lambda w: len(w) > 0 and all(is_whole(x) and x >= 1 and x % 2 == 1 for x in w),
     "filter widths must be odd positive integers, e.g. 3,3,3,3,3"),
    STAGE_RULE,
    ("encoding", lambda e: e in ENCODINGS, f"choose one of {', '.join(ENCODINGS)}"),
    ("channels", at_least_one, "must be a positive number"),
    ("latent_dim", at_least_one, "must be a positive number"),
    ("hidden", at_least_one, "must be a positive number"),
    ("dropout", in_range(0, 1, high_open=True), "the dropout probability must be in [0, 1)"),
    ("fc_dropout", in_range(0, 1, high_open=True), "the dropout probability must be in [0, 1)"),
)

TRAIN_RULES: tuple[Rule, ...] = (
    STAGE_RULE,
    ("epochs", at_least_one, "must be at least 1"),
    ("batch_size", at_least_one, "must be at least 1"),
    ("learning_rate", in_range(0, math.inf, low_open=True, high_open=True), "must be a positive number"),
    ("lr_decay", in_range(0, 1, low_open=True), "must be in (0, 1] (a factor per epoch)"),
    SUBSET_RULE,
    DOWNSAMPLE_RULE,
    ("seed", lambda v: is_whole(v) and 0 <= v < 2 ** 32, "must be a whole number in [0, 2^32)"),
    ("checkpoint_frequency", at_least_one, "must be at least 1"),
    ("eval_batch_size", at_least_one, "must be at least 1"),
)
