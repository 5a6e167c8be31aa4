"""Stable primitives shared by the catalog and the XOR trainer (numpy and scipy only).

Each works in its input's float dtype, never overflows or warns for any input
(±inf gives the limit, NaN propagates), and keeps its tails where the textbook
form rounds to 0 or 1.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

# Beyond this magnitude exp(-x) is 0 in float32 and float64 alike: callers clip
# there before products that would otherwise form inf*0.
SAT = 800.0
PDF_SAT = 40.0  # φ(40) underflows to 0 in float64: clipping there keeps x² (and x·φ) finite
_INV_SQRT_2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def sigmoid(x: Array) -> Array:
    """σ(x) = 1/(1+e^{-x}), never overflowing: with e = e^{-|x|} <= 1, σ = 1 - e/(1+e) for x >= 0.

    1 - σ(-x) rounds once where 1/(1+e) rounds twice; in place, as it is on every hot path.
    """
    x = np.asarray(x)
    small = np.abs(x, out=np.empty_like(x))  # an array even for 0-d input, so out= works
    np.negative(small, out=small)
    np.exp(small, out=small)
    big = np.add(small, 1, out=np.empty_like(small))
    np.divide(small, big, out=small)
    np.subtract(1, small, out=big)
    np.copyto(small, big, where=x >= 0)
    return small


def sigmoid_fused(x: Array) -> Array:
    """σ(x) in one pass: scipy's fused expit in float64 (within 2 ulp, like ``sigmoid``).

    float32 keeps ``sigmoid``, as expit flushes float32 subnormals (σ(-100) = 3.7e-44) to 0.
    """
    if x.dtype == np.float64:
        from scipy.special import expit

        return expit(x)
    return sigmoid(x)


def softplus(z: Array) -> Array:
    """log(1+e^z) = max(z,0) + log1p(e^{-|z|})."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def sech2(x: Array) -> Array:
    """sech²(x) = 4e^{-2|x|}/(1+e^{-2|x|})², which keeps its tail where 1-tanh² rounds to 0."""
    e = np.exp(-2 * np.minimum(np.abs(x), SAT))
    return 4 * e / ((1 + e) * (1 + e))


def normal_pdf(x: Array) -> Array:
    """φ(x) = e^{-x²/2}/√(2π), clipped where it is already 0 so x² cannot overflow."""
    xc = np.clip(x, -PDF_SAT, PDF_SAT)
    return _INV_SQRT_2PI * np.exp(-0.5 * xc * xc)


def normal_cdf(x: Array) -> Array:
    """Φ(x) = erfc(-x/√2)/2, which keeps the left tail (1+erf cancels)."""
    from scipy.special import erfc

    return (0.5 * erfc(-x * _INV_SQRT_2)).astype(x.dtype, copy=False)
