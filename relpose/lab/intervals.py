"""Means with 95% Student-t intervals, and paired comparisons of two variants over the same seeds.

A lab row from one seed cannot tell an effect from noise; over n seeds the mean's interval is
mean ± t(0.975, n-1) · s / √n (s the sample standard deviation). Two variants trained with the same
seeds are compared by the per-seed differences (paired): their mean and interval, and a verdict that
says 'lower' or 'higher' only when the interval excludes 0, 'undecided at 95%' otherwise.

Several comparisons decided at once need a correction: `holm` adjusts a family's p-values (two-sided
paired t-tests, `paired_t_test`) so that the chance of any false 'significant' row stays below alpha.
`seeds_needed` / `detectable_effect` size an experiment from the spread of the per-seed differences
(the power of the paired t-test, from the noncentral t distribution).

The t quantile and the standard error s / √n are SciPy's (scipy.stats.t.ppf, scipy.stats.sem), the
paired test is scipy.stats.ttest_rel and the noncentral t is scipy.stats.nct.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

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
    p_value: float = math.nan   # two-sided paired t-test (paired_t_test); NaN for fewer than 2 seeds


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
    return Comparison(ours_name, baseline_name, difference, verdict_of(difference), _t_test_p(ours, baseline))


def _t_test_p(ours: list, baseline: list) -> float:
    d = np.subtract(np.asarray(ours, dtype=np.float64), np.asarray(baseline, dtype=np.float64))
    if len(d) < 2:
        return math.nan
    # Identical differences make t = ±inf (p = 0) or 0/0 (no difference at all: p = 1); scipy would
    # return NaN with a warning for both.
    if np.all(d == d[0]):
        return 1.0 if d[0] == 0 else 0.0
    return float(stats.ttest_rel(ours, baseline).pvalue)


def paired_t_test(ours, baseline, level: float = 0.95) -> tuple[float, float, float]:
    """(mean difference, half-width of its `level` interval, two-sided p-value) of ours minus baseline,
    paired by seed (scipy.stats.ttest_rel). Fewer than 2 pairs: half-width and p are NaN."""
    c = paired_comparison(ours, baseline, level=level)
    return c.difference.mean, c.difference.half_width, c.p_value


def holm(p_values) -> list[float]:
    """Holm-Bonferroni step-down adjusted p-values, in the input order.

    The k-th smallest of m p-values is multiplied by (m - k + 1), each adjusted value is raised to the
    largest one before it in that order (so the order of the p-values is kept) and capped at 1. A row is
    significant at family-wise level alpha when its adjusted p < alpha. NaN (a row that could not be
    tested) stays NaN and does not count in m.
    """
    p = np.asarray([float(v) for v in p_values], dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise UserError(f"p-values must lie in [0, 1], got {p[(p < 0) | (p > 1)][0]}")
    out = np.full(len(p), math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = len(order)
    running = 0.0
    for k, i in enumerate(order):
        running = max(running, min(1.0, (m - k) * p[i]))
        out[i] = running
    return out.tolist()


def paired_t_power(n: int, sd: float, effect: float, alpha: float = 0.05) -> float:
    """Power of a two-sided paired t-test at level alpha with n pairs, when the true mean difference is
    `effect` and the differences' standard deviation is `sd`: P(|T| > t_crit) for T ~ noncentral t with
    n - 1 degrees of freedom and noncentrality effect · √n / sd."""
    if n < 2:
        return math.nan
    dof, ncp = n - 1, abs(effect) * math.sqrt(n) / sd
    crit = stats.t.ppf(1 - alpha / 2, dof)
    # The wrong-direction tail is below alpha / 2 and vanishes as ncp grows; SciPy returns NaN for it at
    # some large ncp (seen at ncp 30-80), where it is 0 to double precision.
    wrong_tail = stats.nct.cdf(-crit, dof, ncp)
    return float(stats.nct.sf(crit, dof, ncp) + (0.0 if math.isnan(wrong_tail) else wrong_tail))


def _check_design(sd: float, alpha: float, power: float, m: int) -> None:
    if not (math.isfinite(sd) and sd > 0):
        raise UserError(f"the standard deviation of the differences must be a positive number, got {sd}")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise UserError(f"alpha and power must lie in (0, 1), got alpha={alpha}, power={power}")
    if int(m) != m or m < 1:
        raise UserError(f"the number of tests m must be a whole number >= 1, got {m}")


def seeds_needed(sd: float, effect: float = 2.0, alpha: float = 0.05, power: float = 0.8, m: int = 1,
                 max_n: int = 10 ** 7) -> int:
    """The smallest number of seeds n (>= 2) whose two-sided paired t-test at level alpha / m (the Bonferroni
    bound, which is Holm's threshold for the smallest p of m) has at least `power` to detect a true mean
    difference `effect` when the per-seed differences have standard deviation `sd`.

    E.g. sd = 2, effect = 2 (one standard deviation), alpha = 0.05, power = 0.8 -> 10 seeds.
    """
    _check_design(sd, alpha, power, m)
    if effect == 0:
        raise UserError("an effect of 0 cannot be detected: give the smallest difference that matters (mm)")
    a = alpha / m
    # Power grows with n: double to bracket the answer, then bisect.
    lo, hi = 1, 2
    while paired_t_power(hi, sd, effect, a) < power:
        lo, hi = hi, hi * 2
        if hi > max_n:
            raise UserError(f"more than {max_n:,} seeds would be needed (sd {sd:g}, effect {effect:g})")
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if paired_t_power(mid, sd, effect, a) < power else (lo, mid)
    return hi


def detectable_effect(sd: float, n: int, alpha: float = 0.05, power: float = 0.8, m: int = 1) -> float:
    """The smallest true mean difference (same unit as sd) that n seeds detect with `power` (two-sided
    paired t-test at level alpha / m): the inverse of seeds_needed. NaN for n < 2."""
    _check_design(sd, alpha, power, m)
    if n < 2:
        return math.nan
    a = alpha / m
    from scipy.optimize import brentq
    hi = sd
    while paired_t_power(n, sd, hi, a) < power:
        hi *= 2
    return float(brentq(lambda e: paired_t_power(n, sd, e, a) - power, 0.0, hi, xtol=1e-10 * sd))
