"""Means, Student-t intervals and paired verdicts of relpose.lab.intervals, against hand arithmetic."""
import math

import pytest

from relpose.errors import UserError
from relpose.lab.intervals import HIGHER, LOWER, UNDECIDED, mean_interval, paired_comparison, t_quantile


def test_t_quantiles_match_the_printed_tables():
    # Two-sided 95% points of Student's t as every statistics table prints them (3 decimals).
    for dof, printed in [(1, 12.706), (2, 4.303), (3, 3.182), (4, 2.776), (9, 2.262), (30, 2.042)]:
        assert t_quantile(0.975, dof) == pytest.approx(printed, abs=5e-4)
    assert t_quantile(0.995, 4) == pytest.approx(4.604, abs=5e-4)
    # Closed forms: ν = 1 is the Cauchy distribution, t = tan(π (p - 1/2)); ν = 2: t = (2p - 1) / sqrt(2 p (1 - p)).
    for p in (0.6, 0.9, 0.975, 0.995):
        assert t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), rel=1e-12)
        assert t_quantile(p, 2) == pytest.approx((2 * p - 1) / math.sqrt(2 * p * (1 - p)), rel=1e-12)
    # A large ν approaches the normal's 1.95996.
    assert t_quantile(0.975, 2000) == pytest.approx(1.95996, abs=2e-3)


def test_mean_interval_by_hand():
    # values 60 62 64 66 68: mean 64; squared deviations 16 + 4 + 0 + 4 + 16 = 40; s² = 40 / 4 = 10;
    # standard error sqrt(10 / 5) = sqrt(2) = 1.41421; t(0.975, 4) = 2.77645 -> half-width 3.92648.
    r = mean_interval([60, 62, 64, 66, 68])
    assert r.mean == 64 and r.n == 5
    assert r.half_width == pytest.approx(2.776445 * math.sqrt(2), rel=1e-6)
    assert (r.low, r.high) == pytest.approx((64 - 3.92648, 64 + 3.92648), abs=1e-4)
    assert str(r) == "64.0 ± 3.9"
    assert math.isnan(mean_interval([5.0]).half_width)
    with pytest.raises(UserError, match="at least one value"):
        mean_interval([])


def test_paired_comparison_by_hand():
    # per-seed differences (58-60, 61-62, 63-64, 63-66, 66-68) = -2 -1 -1 -3 -2: mean -1.8;
    # squared deviations .04 + .64 + .64 + 1.44 + .04 = 2.8; s² = 0.7; se = sqrt(0.7 / 5) = 0.374166;
    # half-width 2.776445 * 0.374166 = 1.03885 -> [-2.839, -0.761], all below 0: 'lower'.
    ours, base = [58, 61, 63, 63, 66], [60, 62, 64, 66, 68]
    c = paired_comparison(ours, base, "raw+pos", "raw")
    assert c.difference.mean == pytest.approx(-1.8)
    assert c.difference.half_width == pytest.approx(1.03885, abs=1e-5)
    assert c.verdict == LOWER and (c.ours, c.baseline) == ("raw+pos", "raw")
    assert paired_comparison(base, ours).verdict == HIGHER
    # Unpaired the same numbers would overlap widely; a difference straddling 0 is undecided.
    assert paired_comparison([1, 3, 2, 4, 0], [2, 2, 2, 2, 2]).verdict == UNDECIDED
    assert paired_comparison([1.0], [2.0]).verdict == UNDECIDED   # one seed decides nothing
    with pytest.raises(UserError, match="one value per seed"):
        paired_comparison([1, 2], [1, 2, 3])
