"""Stable primitives shared by the catalog and the XOR trainer (numpy only).

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
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_EXPIT_SAT = 40.0  # 1 - σ(40) = 4e-18 rounds away in float64

# G(y) = Q(y)·e^{y²/2}, Q(y) = 1 - Φ(y) the upper tail, as P(y)/R(y) on [0, 40] (beyond 40, Q
# is 0 in float64): relative error 3.2e-17 with these float64 coefficients, fitted by
# tools/fit_normal_cdf.py. All are positive, so Horner's rule for y >= 0 adds no cancellation.
_TAIL_P = (
    0.5, 0.8308469415083708, 0.6841956150154602, 0.36090257549029076, 0.13379972390434816,
    0.036267447023872024, 0.00726987190516, 0.0010655570286318156, 0.00010972725321045567,
    7.220750141429824e-06, 2.3354092561214765e-07,
)  # fmt: skip
_TAIL_R = (
    1.0, 2.4595784438196073, 2.830850896438112, 2.0166696735414757, 0.9903968184823001,
    0.35306479446145506, 0.09354376430772766, 0.01849674109783321, 0.0026890551128319713,
    0.00027563083567988875, 1.8099736468576293e-05, 5.854002874228106e-07,
)  # fmt: skip
_TAIL_END = 40.0
# G on [0, 7] alone, as _NEAR_P/_NEAR_R (relative error 1.1e-16; tools/fit_normal_cdf.py
# 8 8 7): 16 Horner steps where the long form takes 21, for all points within |x| <= 7
_NEAR_P = (
    0.49999999999999994, 0.5797944451494661, 0.3373687700095486, 0.12101201953083862,
    0.028476690314270036, 0.004368224301594787, 0.000404724774590146, 1.7588857470959974e-05,
    6.762789534308363e-13,
)  # fmt: skip
_NEAR_R = (
    1.0, 1.957473451101783, 1.7365753848351713, 0.9148355220029588, 0.3142114418674493,
    0.07239349781777082, 0.010993696026650429, 0.0010144903628035598, 4.408884931300537e-05,
)  # fmt: skip
_NEAR_END = 7.0


def at_least(x: Array, lo: float, out: Array | None = None) -> Array:
    """max(x, lo), NaN kept. np.clip with an infinite upper bound runs in about half the
    time of np.maximum with a scalar (numpy 2), bit for bit the same result, except the
    sign of a zero when lo is 0: use it where lo != 0 or that sign cannot matter."""
    return np.clip(x, lo, np.inf, out=out)


def at_most(x: Array, hi: float) -> Array:
    """min(x, hi), NaN kept (as ``at_least``)."""
    return np.clip(x, -np.inf, hi)


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


def expit(x: Array) -> Array:
    """σ(x) = e^x/(1+e^x) in four passes, within 2.5 ulp like ``sigmoid`` (the catalog's forwards).

    x is clipped at 40, where σ is 1 in every float dtype, so e^x cannot overflow; far left,
    e^x/(1+e^x) = e^x keeps the subnormal tail (σ(-720) = 1.9e-313) that 1/(1+e^{-x}) loses.
    float32 is computed in float64 and rounded once (within 1 ulp, subnormals included).
    """
    x = np.asarray(x)
    e = np.exp(at_most(x, _EXPIT_SAT), dtype=np.float64)
    return (e / (e + 1)).astype(x.dtype, copy=False)


def softplus(z: Array) -> Array:
    """log(1+e^z) = max(z,0) + log1p(e^{-|z|})."""
    return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))


def sech2(x: Array) -> Array:
    """sech²(x) = 4e^{-2|x|}/(1+e^{-2|x|})², which keeps its tail where 1-tanh² rounds to 0."""
    e = np.exp(-2 * at_most(np.abs(x), SAT))
    return 4 * e / ((1 + e) * (1 + e))


def normal_pdf(x: Array) -> Array:
    """φ(x) = e^{-x²/2}/√(2π), to 3 ulp (as ``_gauss`` computes e^{-x²/2}; the plain
    exp(-x²/2) is off by up to ~500 ulp in the tails). float32 is rounded once from float64."""
    x = np.asarray(x)
    with np.errstate(invalid="ignore"):  # NaN stays NaN
        y = at_most(np.abs(x.astype(np.float64, copy=False)), PDF_SAT)
    e = _gauss(y.ravel())
    e *= _INV_SQRT_2PI
    return e.reshape(x.shape).astype(x.dtype, copy=False)


def _horner(coefficients: tuple[float, ...], y: Array) -> Array:
    """c0 + c1·y + ... + cn·y^n, in place on one buffer."""
    acc = coefficients[-1] * y
    acc += coefficients[-2]
    for c in coefficients[-3::-1]:
        acc *= y
        acc += c
    return acc


def normal_cdf(x: Array) -> Array:
    """Φ(x) = Q(-x) for x < 0 and 1 - Q(x) for x >= 0, Q(y) = e^{-y²/2}·P(y)/R(y) (see _TAIL_P).

    The tail Q keeps its relative accuracy down to the subnormals (Φ(-37.5) = 4.6e-308): within
    12 ulp in float64, where erfc(-x/√2) lost about 1e3 ulp to the rounding of x/√2 (see
    ``_upper_tail`` for how). float32 is computed in float64 and rounded once.
    """
    x = np.asarray(x)
    q, _ = _cdf_and_gauss(x)
    return q.reshape(x.shape).astype(x.dtype, copy=False)


def normal_cdf_pdf(x: Array) -> tuple[Array, Array]:
    """Φ(x) and φ(x) = e^{-x²/2}/√(2π), both from one e^{-x²/2} (as ``normal_cdf`` and
    ``normal_pdf`` compute them, to their ulps); float32 rounded once from float64."""
    x = np.asarray(x)
    q, e = _cdf_and_gauss(x)
    e *= _INV_SQRT_2PI
    return tuple(a.reshape(x.shape).astype(x.dtype, copy=False) for a in (q, e))


def _cdf_and_gauss(x: Array) -> tuple[Array, Array]:
    """Φ(x) and e^{-x²/2}, flat float64: 1 - Q(|x|) for x >= 0, Q(|x|) below."""
    q, e = _upper_tail(np.abs(x.astype(np.float64, copy=False).ravel()))
    np.subtract(1.0, q, out=q, where=x.ravel() >= 0)
    return q, e


def _upper_tail(y: Array) -> tuple[Array, Array]:
    """Q(y) = 1 - Φ(y) and e^{-y²/2} for a flat float64 y >= 0 (NaN allowed; y is reused).

    Q = e^{-y²/2}·G(y), with G a rational: on [0, 7] the short one (_NEAR_P/_NEAR_R), which
    is all the work when every |x| <= 7, as in the catalog's default range; the points
    beyond (up to 40, where Q underflows) are taken out and done with the long one.
    e^{-y²/2} = e^{-h²/2}·e^{-(y-h)(y+h)/2} with h = y rounded to float32: h² is exact and
    y - h is exact, so the large exponent carries no rounding error.
    """
    far = None
    with np.errstate(invalid="ignore"):
        if not y.max() <= _NEAR_END:  # also when a NaN is the max; NaNs stay and come out NaN
            far = np.flatnonzero(y > _NEAR_END)
            y_far = np.minimum(y[far], _TAIL_END)
            y[far] = 0.0  # keeps the short rational finite; these points are redone below
    q, e = _tail_with(_NEAR_P, _NEAR_R, y)
    if far is not None:
        q[far], e[far] = _tail_with(_TAIL_P, _TAIL_R, y_far)
    return q, e


def _tail_with(p: tuple[float, ...], r: tuple[float, ...], y: Array) -> tuple[Array, Array]:
    """Q(y) = e^{-y²/2}·P(y)/R(y) with the given rational, and e^{-y²/2}."""
    e = _gauss(y)
    q = _horner(p, y)
    q /= _horner(r, y)
    q *= e
    return q, e


def _gauss(y: Array) -> Array:
    """e^{-y²/2} for 0 <= y <= 40 to an ulp or two: e^{-h²/2}·e^{-(y-h)(y+h)/2}, h = y in
    float32 (exact h², exact y - h)."""
    h = y.astype(np.float32).astype(np.float64)
    d = y - h
    d *= y + h
    d *= -0.5
    e = h * h
    e *= -0.5
    np.exp(e, out=e)
    e *= np.exp(d, out=d)
    return e
