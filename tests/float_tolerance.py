"""Tolerances for float32 results that two correct computations reach by different summation orders.

Another CPU, another thread count or another kernel (a matrix product instead of a convolution) adds the
same terms in another order. Each float32 addition rounds by at most eps = 2**-23 (about 1.2e-7) of the
running sum, so a sum of n terms can move by up to about n * eps * (the size of its terms); in practice
the roundings have random signs and the error is nearer sqrt(n) * eps. A test that compares such
results therefore states n, the longest sum behind the quantity, and the quantity's scale, and allows
n * eps * scale: wide enough for any summation order, and still thousands of times smaller than what a
wrong index, a missing term or a wrong constant changes.
"""
import numpy as np
import torch

EPS32 = float(np.finfo(np.float32).eps)


def float32_atol(n_terms: int, scale: float) -> float:
    """The absolute tolerance for float32 sums of `n_terms` terms whose results are about `scale` in size."""
    return n_terms * EPS32 * float(scale)


def assert_float32_close(got, reference, n_terms: int, msg: str = ""):
    """`got` (float32) equals `reference` (computed more exactly, or in another order) up to the
    rounding of n_terms-term float32 sums at the reference's scale."""
    got, reference = torch.as_tensor(got).double(), torch.as_tensor(reference).double()
    scale = max(reference.abs().max().item(), 1e-30)
    torch.testing.assert_close(got, reference, rtol=0, atol=float32_atol(n_terms, scale), msg=msg or None)
