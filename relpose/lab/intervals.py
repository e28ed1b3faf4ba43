"""Means with 95% Student-t intervals, and paired comparisons of two variants over the same seeds.

A lab row from one seed cannot tell an effect from noise; over n seeds the mean's interval is
mean ± t(0.975, n-1) · s / √n (s the sample standard deviation). Two variants trained with the same
seeds are compared by the per-seed differences (paired): their mean and interval, and a verdict that
says 'lower' or 'higher' only when the interval excludes 0, 'undecided at 95%' otherwise.

The t quantile and the standard error s / √n are SciPy's (scipy.stats.t.ppf, scipy.stats.sem).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from ..errors import UserError


def t_quantile(probability: float, dof: int) -> float:
    """The t with P(T < t) = probability (> 0.5) for `dof` degrees of freedom, e.g. 0.975 -> 2.776 at ν = 4."""
    if int(dof) != dof or dof < 1:
        raise UserError(f"degrees of freedom must be a whole number >= 1, got {dof}")
    if not 0.5 < probability < 1:
        raise UserError(f"quantile probability must be in (0.5, 1), got {probability}")
    return float(stats.t.ppf(probability, int(dof)))


@dataclass(frozen=True)
class Interval:
    """The mean of n values and its two-sided `level` confidence interval [low, high] (NaN when n < 2)."""

    mean: float
    half_width: float
    n: int
    level: float = 0.95

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width

    def __str__(self) -> str:
        return f"{self.mean:.1f} ± {self.half_width:.1f}"


def mean_interval(values, level: float = 0.95) -> Interval:
    """Mean of `values` and the half-width t((1+level)/2, n-1) · s / √n of its interval."""
    values = [float(v) for v in values]
    if not values:
        raise UserError("an interval needs at least one value")
    n = len(values)
    mean = math.fsum(values) / n
    if n < 2:
        return Interval(mean, math.nan, n, level)
    return Interval(mean, t_quantile((1 + level) / 2, n - 1) * float(stats.sem(values)), n, level)


LOWER, HIGHER, UNDECIDED = "lower", "higher", "undecided at 95%"


@dataclass(frozen=True)
class Comparison:
    """`ours` minus `baseline`, seed by seed: the differences' mean and interval, and the verdict."""

    ours: str
    baseline: str
    difference: Interval
    verdict: str            # LOWER / HIGHER (ours than baseline) / UNDECIDED


def verdict_of(difference: Interval) -> str:
    """'lower' when the whole interval lies below 0, 'higher' when above, otherwise undecided."""
    if math.isnan(difference.half_width):
        return UNDECIDED
    if difference.high < 0:
        return LOWER
    if difference.low > 0:
        return HIGHER
    return UNDECIDED if difference.level == 0.95 else f"undecided at {difference.level:.0%}"


def paired_comparison(ours, baseline, ours_name: str = "ours", baseline_name: str = "baseline",
                      level: float = 0.95) -> Comparison:
    """Compare two variants measured over the same seeds (value k of each from seed k)."""
    ours, baseline = list(ours), list(baseline)
    if len(ours) != len(baseline):
        raise UserError(f"a paired comparison needs one value per seed in both variants, got {len(ours)} "
                        f"({ours_name}) and {len(baseline)} ({baseline_name})")
    difference = mean_interval([a - b for a, b in zip(ours, baseline)], level)
    return Comparison(ours_name, baseline_name, difference, verdict_of(difference))
