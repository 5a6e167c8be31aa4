"""Per-point numerical derivatives of elementwise functions, with error estimates.

This is the engine behind ``actcheck gradcheck``. It compares an analytic
derivative ``df`` with numerical derivatives of ``f`` at every probe point and
judges each point against an *estimate of the numerical error at that point*,
not against a fixed tolerance. numpy only; a constant number of vectorised
calls of ``f`` and ``df`` for N points (no per-element loop, no N x N Jacobian).

Stable public API (used by ``actcheck.gradcheck`` and by ``--impl`` checks)::

    check_elementwise(f, df, x, *, kinks=None, order=1, dtype=None, name="f",
                      wrt="x", step=None, safety=SAFETY, complex_step=None,
                      fixed_shape=False) -> ElementwiseResult
    check_direction(shifted, analytic, x, *, scale, dtype=None, name="f",
                    wrt="θ", step=None, safety=SAFETY) -> ElementwiseResult
        (derivative along a scalar parameter θ: ``shifted(d)`` = f(x; θ+d) at all
        N points, ``analytic`` = claimed df/dθ there, ``scale`` = |θ|)

``x`` is flattened and cast to ``dtype`` (float64 or float32; default: x's
float dtype). ``f`` and ``df`` are called with 1-D arrays of that dtype: all N
points, or subsets of them (with ``fixed_shape=True`` always all N, the others
left at their probe values), and once with a complex array to try the complex
step (``complex_step=False`` skips that). They must return arrays of the same
shape; any float dtype is accepted (float32 code stays float32). Exceptions
raised by ``f``/``df`` propagate unchanged (the caller reports them), except
while probing for the complex step, where any exception means "not
complex-safe". ``f``'s outputs and inputs are never written to. ``kinks``:
known kink positions (floats, or objects with ``.x`` and optionally ``.left``,
``.right``, ``.order`` whose declared one-sided values are then verified), or
None when unknown (they are then detected where needed). ``order`` only labels
the result and selects which declared sides apply (for f'' pass f' and f'').
Errors in the arguments (step <= 0, wrong shapes) raise ValueError/TypeError.

``ElementwiseResult`` fields: ``x, analytic, numerical, bound, method, verdict``
(per-point float64/int8 arrays) and ``error``, ``excess`` (= error/bound),
``failed_mask``; ``kinks`` (``KinkReport``: x, analytic, left, right,
left_bound, right_bound, declared, declared_left/right, between, sides_match,
convention, passed, ``describe(name)`` -> "relu'(0) = 0, the left
derivative"); ``passed``, ``n_points``, ``n_failed``, ``n_skipped``,
``max_abs_error``, ``max_rel_error``, ``median_bound``, ``max_bound``,
``max_excess``, ``worst(k)`` (``WorstPoint``: x, analytic, numerical, bound,
error, excess, verdict, method), ``method_counts()``, ``verdict_counts()``,
``complex_step`` / ``complex_step_note``. Verdict codes: ``OK``, ``MISMATCH``,
``KINK`` (a valid subgradient at a kink), ``KINK_MISMATCH`` (outside the
one-sided derivatives, or declared sides that do not match), ``SKIPPED`` (no
finite numerical derivative and no finite analytic one); ``VERDICTS`` and
``METHODS`` name the codes.

How a point is judged
---------------------
*Step.* h = 2^⌊log2(ε^{1/3} · max(|x|, 1))⌋, a power of two so every
stencil point x + t·h (t = ±1/2, ±1, ±3/2, ±2, ±3) is exactly representable
in the evaluation dtype (ε is that dtype's machine epsilon, so float32 gets
steps and tolerances scaled by its own ε).

*Central differences + Richardson.* D(s) = (f(x+s) - f(x-s)) / 2s has error
c·s² + O(s⁴); with D₁ = D(h), D₂ = D(h/2):

    f'(x) ≈ R = D₂ + (D₂ - D₁)/3,        truncation ≲ |D₂ - D₁|/3

*Round-off.* f carries an absolute error of about
δf = F_ULPS·ε·(max|f| + |f'|·max(|x|, 1)) (cancellation inside an
implementation scales with |x·f'|), so R carries δf·Σ|wₖ|/h, where wₖ are the
stencil weights of R (Σ|wₖ| = 3 for the central scheme).

*Verdict.* A point is ok when
|analytic - numerical| <= safety·(truncation + round-off) + ANALYTIC_ULPS·ε·(|f'| + |f|/max(|x|,1)),
the last term allowing for rounding in the analytic derivative itself.

*Complex step.* Where f is complex-safe, f'(x) = Im f(x + iη)/η to machine
precision (no subtraction). It is tried automatically at a few probe points:
if f raises, returns a real array, or disagrees with the central difference
there, the engine falls back to real differences. Points that fail against the
complex step are re-judged with real differences, so a complex step that is
wrong at some point (a branch, ``abs``) can never cause a false alarm.

*Kinks.* Known kinks (positions, e.g. ``Activation.kinks``) are barriers: a
central stencil never spans one. A point closer than its stencil uses the
one-sided *open* formula from its own side,
f'(x±) ≈ ±(-5/2·f(x±s) + 4·f(x±2s) - 3/2·f(x±3s))/s (Richardson'd over s = h,
h/2; the step shrinks by powers of two to keep clear of the next kink), which
never evaluates f at x itself, so it also works next to a jump in f (softplus's
threshold switch). A point *at* a kink gets both one-sided derivatives and the
analytic value passes when it lies between them (a valid subgradient).
Unknown kinks (user code): any point that fails, or whose central estimate has
a large truncation error, gets both one-sided derivatives; when they disagree
beyond their errors the point is classified as a kink and judged the same way,
otherwise the estimate with the smallest error decides.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actcheck import defaults

Array = np.ndarray

# ---------------------------------------------------------------------------
# Tolerances and constants (all in one place)
# ---------------------------------------------------------------------------

STEP_FLOOR = 1.0  # steps are relative to max(|x|, 1): activations have features at scale ~1
F_ULPS = 4.0  # assumed error of an f evaluation, in units of ε·(|f| + |x f'|)
ANALYTIC_ULPS = 32.0  # allowed rounding in the analytic derivative, in ε·(|f'| + |f|/max(|x|,1))
SAFETY = defaults.SAFETY  # multiplies the estimated numerical error
CS_ULPS = 8.0  # error of a complex-step derivative, in ε·(|f'| + |f|/max(|x|,1))
SUSPECT_REL = 1e-6  # truncation estimate (relative) above which a point gets one-sided checks
SUSPECT_BEND = 30.0  # ... and the bend (relative, in units of the step) above which it does
CS_PROBES = 8  # points used to decide whether f is complex-safe
CS_PROBE_RANGE = (1e-3, 20.0)  # ... taken with |x| in this range
KINK_ULPS = 4  # a point this many ulps from a declared kink (other than 0) is at the kink
REFINE = 8.0  # suspect points also get a central difference with step h/REFINE
KINK_REPORT_GAP = 4.0  # detected kink points closer than this many steps form one kink
REL_FLOOR = 1e-6  # relative errors are taken against max(|f'|, REL_FLOOR·max|f'|)

OK, MISMATCH, KINK, KINK_MISMATCH, SKIPPED = 0, 1, 2, 3, 4
VERDICTS = ("ok", "mismatch", "kink", "kink mismatch", "skipped")
CENTRAL, COMPLEX, LEFT, RIGHT, BOTH = 0, 1, 2, 3, 4
METHODS = ("central", "complex step", "left one-sided", "right one-sided", "both one-sided")

# (offsets t, coarse weights, fine weights): estimate = Σ w·f(x + t·h) / h, Richardson order 2
_CENTRAL = (
    np.array([-1.0, -0.5, 0.5, 1.0]),
    np.array([-0.5, 0.0, 0.0, 0.5]),
    np.array([0.0, -1.0, 1.0, 0.0]),
)
# open one-sided formula (never uses f(x)): p'(0) of the parabola through t = 1, 2, 3
_RIGHT = (
    np.array([0.5, 1.0, 1.5, 2.0, 3.0]),
    np.array([0.0, -2.5, 0.0, 4.0, -1.5]),
    np.array([-5.0, 8.0, -3.0, 0.0, 0.0]),
)
_LEFT = (-_RIGHT[0], -_RIGHT[1], -_RIGHT[2])
# closed one-sided formula (uses f(x)): p'(0) of the parabola through t = 0, 1, 2. For points
# not at a declared kink: a kink strictly between x and x+h/2 then shows up as a large error
# instead of a clean but foreign slope.
_RIGHT_CLOSED = (
    np.array([0.0, 0.5, 1.0, 2.0]),
    np.array([-1.5, 0.0, 2.0, -0.5]),
    np.array([-3.0, 4.0, -1.0, 0.0]),
)
_LEFT_CLOSED = (-_RIGHT_CLOSED[0], -_RIGHT_CLOSED[1], -_RIGHT_CLOSED[2])
_RICHARDSON = 3.0  # 2^p - 1 with p = 2


def _reach(scheme: tuple[Array, Array, Array]) -> float:
    return float(np.max(np.abs(scheme[0])))


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WorstPoint:
    """One badly matching point: how far |analytic - numerical| is past its bound."""

    x: float
    analytic: float
    numerical: float
    bound: float
    error: float
    excess: float  # error / bound (> 1 means failed)
    verdict: str
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class KinkReport:
    """A point where the one-sided derivatives differ (declared or detected).

    ``left``/``right`` are the measured one-sided derivatives (of the function
    being differentiated, so f'' one-sided values for order 2), with error
    bounds; ``declared_left``/``declared_right`` are what the catalog claims
    (None when unknown). ``passed``: the analytic value lies between the
    one-sided derivatives and the declared sides match the measured ones.
    """

    x: float
    analytic: float
    left: float
    right: float
    left_bound: float
    right_bound: float
    order: int
    declared: bool
    declared_left: float | None
    declared_right: float | None
    between: bool
    sides_match: bool
    convention: str

    @property
    def passed(self) -> bool:
        return self.between and self.sides_match

    def describe(self, name: str = "f") -> str:
        """E.g. ``relu'(0) = 0, the left derivative``."""
        prime = "'" * self.order
        return f"{name}{prime}({_g(self.x)}) = {_value(self.analytic)}, {self.convention}"

    def as_dict(self, name: str = "f") -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["passed"] = self.passed
        d["text"] = self.describe(name)
        return d


@dataclass
class ElementwiseResult:
    """Per-point comparison of an analytic derivative with numerical ones."""

    name: str
    wrt: str
    order: int
    dtype: str
    x: Array
    analytic: Array
    numerical: Array
    bound: Array
    method: Array
    verdict: Array
    kinks: tuple[KinkReport, ...] = ()
    complex_step: bool = False
    complex_step_note: str = ""
    step: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # free for callers' annotations

    @property
    def error(self) -> Array:
        with np.errstate(invalid="ignore"):
            return np.abs(self.analytic - self.numerical)

    @property
    def failed_mask(self) -> Array:
        return (self.verdict == MISMATCH) | (self.verdict == KINK_MISMATCH)

    @property
    def n_points(self) -> int:
        return int(self.x.size)

    @property
    def n_failed(self) -> int:
        return int(np.count_nonzero(self.failed_mask))

    @property
    def n_skipped(self) -> int:
        return int(np.count_nonzero(self.verdict == SKIPPED))

    @property
    def passed(self) -> bool:
        return self.n_failed == 0 and all(k.passed for k in self.kinks)

    def _checked(self) -> Array:
        """Points judged against a bound (kinks are judged by their one-sided derivatives)."""
        return (self.verdict == OK) | (self.verdict == MISMATCH)

    @property
    def max_abs_error(self) -> float:
        e = self.error[self._checked()]
        return float(np.nanmax(e)) if e.size and np.isfinite(e).any() else 0.0

    @property
    def max_rel_error(self) -> float:
        """Largest |diff| / max(|f'|, REL_FLOOR·max|f'|) where the bound resolves f'."""
        m = self._checked()
        num = np.abs(self.numerical[m])
        big = num[np.isfinite(num)]
        # relative to the derivative, or to a small fraction of its range where it vanishes
        floor = REL_FLOOR * float(big.max()) if big.size else 0.0
        den = np.maximum(np.maximum(num, np.abs(self.analytic[m])), floor)
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(den > 0, self.error[m] / den, 0.0)
            # where the bound exceeds f' itself (float32 in saturation) the difference cannot
            # resolve f' and its relative error means nothing, unless the point failed
            r = r[(self.bound[m] < den) | (self.verdict[m] == MISMATCH)]
        r = r[np.isfinite(r)]
        return float(r.max()) if r.size else 0.0

    @property
    def max_bound(self) -> float:
        b = self.bound[self._checked()]
        b = b[np.isfinite(b)]
        return float(b.max()) if b.size else 0.0

    @property
    def median_bound(self) -> float:
        b = self.bound[self._checked()]
        b = b[np.isfinite(b)]
        return float(np.median(b)) if b.size else 0.0

    @property
    def excess(self) -> Array:
        """|analytic - numerical| / bound, per point (> 1 where a point fails)."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            r = self.error / self.bound
        r = np.where(self.failed_mask & ~np.isfinite(r), np.inf, r)
        return np.where(np.isnan(r), 0.0, r)

    @property
    def max_excess(self) -> float:
        """Largest |analytic - numerical| / bound over the points judged against a bound."""
        ex = self.excess[self._checked()]
        return float(ex.max()) if ex.size else 0.0

    def worst(self, k: int = 5) -> list[WorstPoint]:
        """The k points furthest past their bound (failed points first)."""
        ex = self.excess
        failed = self.failed_mask
        k = min(k, ex.size)
        if k <= 0:
            return []
        # failed points first, each group by how far past its bound
        pool = np.flatnonzero(failed) if failed.sum() >= k else np.arange(ex.size)
        top = pool[np.argpartition(-ex[pool], k - 1)[:k]] if pool.size > k else pool
        idx = top[np.lexsort((-ex[top], ~failed[top]))][:k]
        err = self.error
        return [
            WorstPoint(
                x=float(self.x[i]),
                analytic=float(self.analytic[i]),
                numerical=float(self.numerical[i]),
                bound=float(self.bound[i]),
                error=float(err[i]),
                excess=float(ex[i]),
                verdict=VERDICTS[self.verdict[i]],
                method=METHODS[self.method[i]],
            )
            for i in idx
        ]

    def method_counts(self) -> dict[str, int]:
        counts = np.bincount(self.method, minlength=len(METHODS))
        return {METHODS[i]: int(c) for i, c in enumerate(counts) if c}

    def verdict_counts(self) -> dict[str, int]:
        counts = np.bincount(self.verdict, minlength=len(VERDICTS))
        return {VERDICTS[i]: int(c) for i, c in enumerate(counts) if c}


# ---------------------------------------------------------------------------
# Small numerical helpers
# ---------------------------------------------------------------------------


def _g(v: float) -> str:
    if v == 0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}"


def _value(v: float) -> str:
    """A derivative value as text, at the precision it was computed in (0.2f32 is '0.2')."""
    v = v + 0.0  # no '-0'
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    if abs(v) < 1e38 and float(np.float32(v)) == v:
        return str(np.float32(v))
    return f"{v:.10g}"


def _eps(dtype: np.dtype) -> float:
    return float(np.finfo(dtype).eps)


# The absolute floor of each dtype, keyed by its ε: its smallest normal number. Differences
# in the subnormal range are not judged, and the hot path never computes with subnormals
# (x86 takes ~100x longer per subnormal operation).
_FLOOR = {_eps(np.dtype(t)): float(np.finfo(t).tiny) for t in (np.float32, np.float64)}


def _pow2_below(v: Array) -> Array:
    """Largest power of two <= v (v > 0), elementwise and exact (subnormals included)."""
    _, e = np.frexp(v)
    return np.ldexp(1.0, e - 1)


_EXPONENT_BITS = np.int64(0x7FF0000000000000)


def _pow2_floor(v: Array) -> Array:
    """Largest power of two <= v for normal positive v, in place: clear the mantissa bits."""
    bits = v.view(np.int64)
    bits &= _EXPONENT_BITS
    return v


def _steps(x64: Array, rel: float) -> Array:
    """Power-of-two steps ~ rel·max(|x|, 1)."""
    return _pow2_floor(np.maximum(np.abs(x64), STEP_FLOOR) * rel)


def _noise_scale(fmax: Array, deriv: Array, x64: Array) -> Array:
    """Absolute error of one f evaluation, before multiplying by F_ULPS·ε."""
    return fmax + np.abs(deriv) * np.maximum(np.abs(x64), STEP_FLOOR)


def _allowance(deriv: Array, fabs: Array, x64: Array, eps: float) -> Array:
    """Rounding allowed in the analytic derivative itself."""
    scale = np.abs(deriv) + fabs / np.maximum(np.abs(x64), 1.0)
    return ANALYTIC_ULPS * (eps * scale + _FLOOR[eps])


@dataclass
class _Estimate:
    """A numerical derivative on a set of points with its error parts."""

    value: Array
    trunc: Array
    noise: Array  # round-off, absolute
    fabs: Array  # |f| near the point (for the analytic allowance)
    bend: Array | None = None  # central only: |f(x+h)+f(x-h)-f(x+h/2)-f(x-h/2)|/h

    def total(self, safety: float) -> Array:
        return safety * (self.trunc + self.noise)


def _combine(
    values: list[Array], scheme: tuple[Array, Array, Array], h: Array, x64: Array, eps: float
) -> _Estimate:
    """Richardson combination of one stencil's f values (float64 arrays), in place where cheap."""
    _, wc, wf = scheme
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        coarse = _weighted(wc, values)
        fine = _weighted(wf, values)
        fine /= h
        coarse /= h
        diff = np.subtract(fine, coarse, out=coarse)
        diff /= _RICHARDSON
        value = np.add(fine, diff, out=fine)
        trunc = np.abs(diff, out=diff)
        # the outermost stencil points bound |f| near x well enough for a noise model
        fmax = np.maximum(np.abs(values[0]), np.abs(values[-1]))
        wsum = float(np.sum(np.abs((_RICHARDSON + 1) * wf - wc))) / _RICHARDSON
        noise = np.maximum(np.abs(x64), STEP_FLOOR)
        noise *= np.abs(value)
        noise += fmax
        noise *= eps
        noise += _FLOOR[eps]  # below the subnormal spacing nothing is resolved
        noise *= F_ULPS * wsum
        noise /= h
    bend = None
    if scheme is _CENTRAL:
        # smooth f: 3/8·h·|f''|; a kink right at x: |f'(x+) - f'(x-)|/2, invisible to Richardson
        with np.errstate(invalid="ignore", over="ignore"):
            bend = np.abs((values[0] + values[3]) - (values[1] + values[2]))
            bend /= h
    return _Estimate(value, trunc, noise, fmax, bend)


BLOCK = 1 << 14  # points per block in the hot loops: temporaries stay in cache


def _blocks(n: int):
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


def _central_judged(
    direction: _XDirection,
    h: Array,
    lever: Array,
    analytic: Array,
    eps: float,
    safety: float,
    rel: float,
    bend: bool,
) -> tuple[Array, Array, Array, Array]:
    """The hot path: central scheme, bound, verdict and 'suspect' at all N points.

    Four calls of f, then arithmetic in cache-sized blocks with reused buffers (only the
    results are full-size arrays). Same numbers as ``_combine(..., _CENTRAL, ...)`` followed
    by ``_judge_all``: with D₁·h = (f(x+h) - f(x-h))/2 and D₂·h = f(x+h/2) - f(x-h/2),
    value = D₂ + (D₂ - D₁)/3, truncation |D₂ - D₁|/3, and Σ|w| = 3 for the round-off.
    """
    x, dt = direction.xe, direction.dtype
    hd = h.astype(dt, copy=False)
    with np.errstate(all="ignore"):
        fp = direction.call(x + hd, None)
        fm = direction.call(x - hd, None)
        half = hd * dt.type(0.5)
        gp = direction.call(x + half, None)
        gm = direction.call(x - half, None)
        del half
    n = x.size
    value, bound = np.empty(n), np.empty(n)
    verdict, suspect = np.empty(n, np.int8), np.empty(n, bool)
    k = min(n, BLOCK)
    d, fx, nz, tb, ub = (np.empty(k) for _ in range(5))
    fb = np.empty(k, bool)
    floor, afloor = _FLOOR[eps], ANALYTIC_ULPS * _FLOOR[eps]
    with np.errstate(all="ignore"):
        for sl in _blocks(n):
            m = sl.stop - sl.start
            d_, fx_, nz_, tb_, ub_, fb_ = d[:m], fx[:m], nz[:m], tb[:m], ub[:m], fb[:m]
            hb, lv, v, b, s = h[sl], lever[sl], value[sl], bound[sl], suspect[sl]
            # f's outputs are only read: a layer may keep them as its cache
            np.subtract(fp[sl], fm[sl], out=d_)
            d_ *= -0.5
            np.subtract(gp[sl], gm[sl], out=v)
            d_ += v
            d_ *= 1 / _RICHARDSON
            v += d_
            v /= hb
            np.abs(d_, out=d_)
            d_ /= hb  # truncation
            np.abs(fp[sl], out=fx_)
            np.abs(fm[sl], out=tb_)
            np.maximum(fx_, tb_, out=fx_)
            np.abs(v, out=ub_)  # |f'|
            np.multiply(ub_, lv, out=nz_)
            nz_ += fx_
            nz_ *= eps
            nz_ += floor
            nz_ *= F_ULPS * 3.0
            nz_ /= hb  # round-off
            # scale of f' for the allowance: |f'| + |f|/max(|x|, 1)  (STEP_FLOOR is 1)
            np.divide(fx_, lv, out=tb_)
            tb_ += ub_
            np.add(d_, nz_, out=b)
            b *= safety
            np.multiply(tb_, ANALYTIC_ULPS * eps, out=ub_)
            b += ub_
            b += afloor
            np.subtract(analytic[sl], v, out=ub_)
            np.abs(ub_, out=ub_)
            np.greater(ub_, b, out=s)
            np.isnan(ub_, out=fb_)
            s |= fb_
            verdict[sl] = s
            np.multiply(tb_, SUSPECT_REL, out=ub_)
            np.greater(d_, ub_, out=fb_)
            s |= fb_
            if bend:
                np.add(fp[sl], fm[sl], out=nz_)
                nz_ -= gp[sl]
                nz_ -= gm[sl]
                np.abs(nz_, out=nz_)
                nz_ /= hb
                np.multiply(tb_, SUSPECT_BEND * rel, out=ub_)
                np.greater(nz_, ub_, out=fb_)
                s |= fb_
    if not np.isfinite(value).all():
        bad = ~np.isfinite(value)
        suspect |= bad
        verdict[bad & ~np.isfinite(analytic)] = SKIPPED
    return value, bound, verdict, suspect


def _judge_all(
    main: _Estimate,
    analytic: Array,
    lever: Array,
    eps: float,
    safety: float,
    rel: float,
) -> tuple[Array, Array, Array]:
    """Bound, verdict and 'suspect' at every point, in cache-sized blocks.

    bound = safety·(truncation + round-off) + ANALYTIC_ULPS·(ε·(|f'| + |f|/max(|x|,1)) + floor);
    suspect: failed, non-finite, rough (large truncation) or bent (a kink at x).
    """
    n = analytic.size
    bound = np.empty(n)
    verdict = np.empty(n, np.int8)
    suspect = np.empty(n, bool)
    t, u = np.empty(min(n, BLOCK)), np.empty(min(n, BLOCK))
    flag = np.empty(min(n, BLOCK), bool)
    floor = ANALYTIC_ULPS * _FLOOR[eps]
    with np.errstate(all="ignore"):
        for sl in _blocks(n):
            m = sl.stop - sl.start
            tb, ub, fb = t[:m], u[:m], flag[:m]
            v, b, s, vd = main.value[sl], bound[sl], suspect[sl], verdict[sl]
            # scale of f' for the allowance: |f'| + |f|/max(|x|, 1)  (STEP_FLOOR is 1)
            np.divide(main.fabs[sl], lever[sl], out=tb)
            np.abs(v, out=ub)
            tb += ub
            np.add(main.trunc[sl], main.noise[sl], out=b)
            b *= safety
            np.multiply(tb, ANALYTIC_ULPS * eps, out=ub)
            b += ub
            b += floor
            np.subtract(analytic[sl], v, out=ub)
            np.abs(ub, out=ub)
            np.greater(ub, b, out=s)  # failed
            np.isnan(ub, out=fb)
            s |= fb  # NaN on either side
            vd[...] = s
            np.multiply(tb, SUSPECT_REL, out=ub)
            np.greater(main.trunc[sl], ub, out=fb)
            s |= fb
            if main.bend is not None:
                np.multiply(tb, SUSPECT_BEND * rel, out=ub)
                np.greater(main.bend[sl], ub, out=fb)
                s |= fb
    if not np.isfinite(main.value).all():
        bad = ~np.isfinite(main.value)
        suspect |= bad
        verdict[bad & ~np.isfinite(analytic)] = SKIPPED
    return bound, verdict, suspect


def _weighted(weights: Array, values: list[Array]) -> Array:
    out: Array | None = None
    for w, v in zip(weights, values, strict=True):
        if not w:
            continue
        if out is None:
            out = v * w
        elif w == 1.0:
            out += v
        elif w == -1.0:
            out -= v
        else:
            out += v * w
    assert out is not None
    return out


# ---------------------------------------------------------------------------
# Directions: how to evaluate f at x + t·h
# ---------------------------------------------------------------------------


class _XDirection:
    """Shifts along x: f(x + t·h) with a per-point power-of-two step h."""

    def __init__(self, f: Callable[[Array], Any], xe: Array, fixed_shape: bool):
        self.f = f
        self.xe = xe
        self.dtype = xe.dtype
        self.fixed_shape = fixed_shape

    def call(self, xs: Array, idx: Array | None) -> Array:
        if idx is not None and self.fixed_shape and idx.size != self.xe.size:
            full = self.xe.copy()
            full[idx] = xs
            return self.call(full, None)[idx]
        out = np.asarray(self.f(xs))
        if out.shape != xs.shape:
            raise ValueError(
                f"f returned shape {out.shape} for input of shape {xs.shape}; "
                "an elementwise function must keep the shape"
            )
        return out.astype(np.float64, copy=False)

    def at(self, t: float, h: Array, idx: Array | None) -> Array:
        x = self.xe if idx is None else self.xe[idx]
        with np.errstate(all="ignore"):
            th = h * t if t != 1.0 else h
            xs = x + th.astype(self.dtype, copy=False)
            return self.call(xs, idx)

    def stencil(self, scheme: tuple, h: Array, idx: Array | None) -> list[Array]:
        return [self.at(float(t), h, idx) for t in scheme[0]]


class _ShiftDirection:
    """Shifts along a scalar (a parameter θ): ``shifted(δ)`` = f(x; θ+δ) at every point."""

    def __init__(self, shifted: Callable[[float], Array]):
        self.shifted = shifted
        self._cache: dict[float, Array] = {}

    def at(self, t: float, h: Array, idx: Array | None) -> Array:
        base = h.base if isinstance(h, _Steps) else h  # one scalar step along θ
        d = float(t * float(np.max(base)))
        if d not in self._cache:
            with np.errstate(all="ignore"):
                self._cache[d] = np.asarray(self.shifted(d)).astype(np.float64).ravel()
        v = self._cache[d]
        return v if idx is None else v[idx]

    def stencil(self, scheme: tuple, h: Array, idx: Array | None) -> list[Array]:
        return [self.at(float(t), h, idx) for t in scheme[0]]


def _estimate(direction: Any, scheme: tuple, h: Any, idx: Array | None, x64: Array, eps: float):
    hh = h if idx is None else h[idx]
    xx = x64 if idx is None else x64[idx]
    values = direction.stencil(scheme, h if isinstance(direction, _ShiftDirection) else hh, idx)
    return _combine(values, scheme, hh, xx, eps)


# ---------------------------------------------------------------------------
# Kink geometry
# ---------------------------------------------------------------------------


class _Steps:
    """Per-point steps: ``base`` everywhere except a few points near kinks (sparse)."""

    def __init__(self, base: Array, where: Array | None = None, values: Array | None = None):
        self.base = base
        self.where = where if where is not None else np.empty(0, np.intp)  # sorted
        self.values = values if values is not None else np.empty(0)

    def __getitem__(self, idx: Array) -> Array:
        out = self.base[idx]
        if self.where.size:
            pos = np.minimum(np.searchsorted(self.where, idx), self.where.size - 1)
            hit = self.where[pos] == idx
            out[hit] = self.values[pos[hit]]
        return out


@dataclass
class _Geometry:
    central: Array  # bool: central stencil is clear of every barrier
    at_kink: Array  # bool: the point is a declared kink
    own_left: Array  # indices of points that take the left one-sided formula (kink on the right)
    own_right: Array
    h_left: _Steps  # steps for a left one-sided stencil (shrunk to stay clear of kinks)
    h_right: _Steps


def _geometry(x64: Array, h: Array, barriers: Array, delta: Array) -> _Geometry:
    n = x64.size
    central = np.ones(n, bool)
    at_kink = np.zeros(n, bool)
    none = np.empty(0, np.intp)
    if barriers.size == 0:
        return _Geometry(central, at_kink, none, none, _Steps(h), _Steps(h))
    b = np.concatenate(([-np.inf], barriers, [np.inf]))
    d = np.concatenate(([0.0], delta, [0.0]))
    assert _reach(_CENTRAL) == 1.0  # the central stencil reaches x ± h
    dist = np.empty_like(x64)
    clear = np.empty(n, bool)
    with np.errstate(invalid="ignore"):
        for bk in barriers:  # a handful of kinks: a few passes beat a binary search per point
            np.subtract(x64, bk, out=dist)
            np.abs(dist, out=dist)
            np.greater(dist, h, out=clear)
            central &= clear
    near = np.flatnonzero(~central)
    if not near.size:
        return _Geometry(central, at_kink, none, none, _Steps(h), _Steps(h))
    xs, hs = x64[near], h[near]
    ps = np.clip(np.searchsorted(b, xs, side="left"), 1, b.size - 1)  # b[p-1] < x <= b[p]
    lo, hi = b[ps - 1], b[ps]
    with np.errstate(invalid="ignore"):
        at_hi = (hi - xs) <= d[ps]
        at_lo = (xs - lo) <= d[ps - 1]
    at = at_hi | at_lo
    k = np.where(at_hi, ps, np.where(at_lo, ps - 1, 1))
    # room on each side, measured from the kink itself for points at a kink
    room_left = np.where(at, b[k] - b[k - 1], xs - lo)
    room_right = np.where(at, b[np.minimum(k + 1, b.size - 1)] - b[k], hi - xs)
    at_kink[near] = at
    right = room_right >= room_left
    reach = _reach(_RIGHT) * 1.0001
    tiny, big = np.finfo(np.float64).tiny, np.finfo(np.float64).max
    with np.errstate(invalid="ignore", over="ignore"):
        # no kink on a side: room is inf, which frexp cannot take; clip it to a finite value
        hl = np.minimum(hs, _pow2_below(np.clip(room_left / reach, tiny, big)))
        hr = np.minimum(hs, _pow2_below(np.clip(room_right / reach, tiny, big)))
    return _Geometry(
        central,
        at_kink,
        near[~at & ~right],
        near[~at & right],
        _Steps(h, near, hl),
        _Steps(h, near, hr),
    )


def _barriers(kinks: Sequence[Any] | None, dtype: np.dtype) -> tuple[Array, Array]:
    """Kink positions as the eval dtype sees them, and how close counts as 'at' each."""
    if not kinks:
        return np.empty(0), np.empty(0)
    xs = sorted({float(getattr(k, "x", k)) for k in kinks})
    pos = np.array(xs)
    rounded = pos.astype(dtype).astype(np.float64)
    # Away from 0 the switch point is computed (threshold/beta, a clamp rounded to the dtype)
    # and the branch condition may flip a few ulps off the declared position: points that
    # close are at the kink. At 0 the condition (x > 0) is exact.
    ulp = np.spacing(np.abs(rounded).astype(dtype)).astype(np.float64)
    delta = np.where(pos == 0, 0.0, KINK_ULPS * ulp)
    keep = np.concatenate(([True], np.diff(rounded) > 0))
    return rounded[keep], delta[keep]


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


def _convention(a: float, left: float, right: float, tol: float) -> str:
    if abs(a - left) <= tol and abs(a - right) <= tol:
        return "both one-sided derivatives agree"
    if abs(a - left) <= tol:
        return "the left derivative"
    if abs(a - right) <= tol:
        return "the right derivative"
    if abs(a - 0.5 * (left + right)) <= tol:
        return "the midpoint"
    lo, hi = min(left, right), max(left, right)
    if lo - tol <= a <= hi + tol:
        return "between the one-sided derivatives"
    return f"outside the one-sided derivatives [{_g(lo)}, {_g(hi)}]"


def _complex_probe(
    f: Callable,
    xe: Array,
    idx: Array,
    ref: _Estimate,
    safety: float,
    eps: float,
    fixed_shape: bool,
) -> tuple[bool, str]:
    try:
        # a ComplexWarning (imaginary part discarded) means unsafe; overflow is f's own business
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error")
            cs, _ = _complex_step(f, xe, idx, fixed_shape)
    except Exception as err:  # any failure means: not complex-safe
        return False, f"not complex-safe (raises {type(err).__name__})"
    if cs is None:
        return False, "not complex-safe (returns a real array)"
    x64 = xe[idx].astype(np.float64)
    tol = ref.total(safety) + _allowance(ref.value, ref.fabs, x64, eps)
    with np.errstate(invalid="ignore"):
        # only probes where the central difference itself is smooth can testify
        smooth = ref.trunc <= SUSPECT_REL * (np.abs(ref.value) + ref.fabs / np.maximum(x64, 1.0))
        bad = smooth & ~(np.abs(cs - ref.value) <= tol)
    if not smooth.any():
        return False, "not used (no smooth probe point)"
    if bad.any():
        x0 = float(xe[idx][np.argmax(bad)])
        return False, f"not complex-safe (disagrees with central differences at x={_g(x0)})"
    return True, "complex step used"


def _complex_step(
    f: Callable, x: Array, idx: Array | None = None, fixed_shape: bool = False
) -> tuple[Array | None, Array]:
    """Im f(x + iη)/η and Re f(x + iη) at x[idx]; (None, ...) when f returns a real array.

    With ``fixed_shape`` f always sees all N points (the others shifted by 0j).
    """
    cdtype = np.complex64 if x.dtype == np.float32 else np.complex128
    xs = x if idx is None else x[idx]
    eta = np.float64(1e-10 if x.dtype == np.float32 else 1e-20) * np.maximum(np.abs(xs), 1.0)
    eta = eta.astype(x.dtype)
    if idx is not None and fixed_shape and idx.size != x.size:
        z = x.astype(cdtype)
        z[idx] += 1j * eta
        out = np.asarray(f(z))
        if out.shape != x.shape or not np.iscomplexobj(out):
            return None, np.empty(0)
        out = out[idx]
    else:
        out = np.asarray(f(xs.astype(cdtype) + 1j * eta))
        if out.shape != xs.shape or not np.iscomplexobj(out):
            return None, np.empty(0)
    return out.imag.astype(np.float64) / eta.astype(np.float64), out.real.astype(np.float64)


def _probe_indices(mask: Array, k: int) -> Array:
    cand = np.flatnonzero(mask)
    if cand.size <= k:
        return cand
    return cand[np.linspace(0, cand.size - 1, k).round().astype(int)]


def _judge(analytic: Array, est_value: Array, bound: Array) -> Array:
    with np.errstate(invalid="ignore", over="ignore"):
        err = analytic - est_value
        np.abs(err, out=err)
        v = (err > bound).view(np.int8)  # MISMATCH = 1, OK = 0
        v |= np.isnan(err).view(np.int8)
    if not np.isfinite(est_value).all():
        v[~np.isfinite(est_value) & ~np.isfinite(analytic)] = SKIPPED
    return v


def check_elementwise(
    f: Callable[[Array], Any],
    df: Callable[[Array], Any],
    x: Any,
    *,
    kinks: Sequence[Any] | None = None,
    order: int = 1,
    dtype: Any = None,
    name: str = "f",
    wrt: str = "x",
    step: float | None = None,
    safety: float = SAFETY,
    complex_step: bool | None = None,
    fixed_shape: bool = False,
) -> ElementwiseResult:
    """Compare ``df(x)`` with numerical derivatives of ``f`` at every point of ``x``.

    Args:
        f: elementwise function (for ``order=2``, pass the first derivative).
        df: its claimed derivative, elementwise.
        x: probe points (flattened); they are cast to ``dtype`` first.
        kinks: known kink positions (floats or objects with ``.x``; objects with
            ``.left``/``.right``/``.order == order`` also get their declared
            one-sided values checked). None: unknown, detected where needed.
        order: 1 or 2; only labels the result and selects declared sides.
        dtype: evaluation dtype, float64 (default: x's float dtype) or float32.
        step: relative step (default ε^{1/3} of ``dtype``).
        safety: factor on the estimated numerical error.
        complex_step: True/False to force, None to detect.
        fixed_shape: always call f with N points (pads subsets).

    Returns:
        ElementwiseResult with per-point arrays, kink reports and ``passed``.
    """
    xe, dt = _as_points(x, dtype)
    eps = _eps(dt)
    rel = float(step) if step is not None else eps ** (1 / 3)
    if not rel > 0:
        raise ValueError(f"step must be positive, got {step}")
    if not safety > 0:
        raise ValueError(f"safety must be positive, got {safety}")
    x64 = xe.astype(np.float64, copy=False)
    n = x64.size
    lever = np.maximum(np.abs(x64), STEP_FLOOR)
    h = _pow2_floor(lever * rel)
    barriers, delta = _barriers(kinks, dt)
    geo = _geometry(x64, h, barriers, delta)
    xdir = _XDirection(f, xe, fixed_shape)

    # complex step: decided on a few clean points, then used everywhere (kink neighbours and
    # failing points are redone below with real differences)
    use_cs, note = False, "off"
    if complex_step is not False:
        clean = geo.central & np.isfinite(x64)
        ax = np.abs(x64)
        # ordinary points: away from 0 (where kinks like to sit) and from overflow
        probe = _probe_indices(
            clean & (ax >= CS_PROBE_RANGE[0]) & (ax <= CS_PROBE_RANGE[1]), CS_PROBES
        )
        if probe.size:
            ref = _estimate(xdir, _CENTRAL, h, probe, x64, eps)
            use_cs, note = _complex_probe(f, xe, probe, ref, safety, eps, fixed_shape)
        if complex_step and not use_cs:
            raise ValueError(f"complex_step=True but f is {note}")
    with np.errstate(all="ignore"):
        analytic = np.asarray(df(xe)).astype(np.float64, copy=False)
    if analytic.shape != xe.shape:
        raise ValueError(f"df returned shape {analytic.shape} for input of shape {xe.shape}")
    judged = None
    if use_cs:
        with np.errstate(all="ignore"):
            cs, fre = _complex_step(f, xe, None, fixed_shape)
        if cs is not None:
            fabs_cs = np.abs(fre)
            with np.errstate(invalid="ignore", over="ignore"):
                scale = np.abs(cs) + fabs_cs / lever
                noise_cs = CS_ULPS * (eps * scale + _FLOOR[eps])
            main = _Estimate(cs, np.zeros(n), noise_cs, fabs_cs)
            judged = (cs, *_judge_all(main, analytic, lever, eps, safety, rel))
        else:
            use_cs, note = False, "not complex-safe (returns a real array)"
    if judged is None:
        # the bend finds kinks sitting right at a stencil's centre: only needed when unknown
        judged = _central_judged(xdir, h, lever, analytic, eps, safety, rel, bend=kinks is None)
    value, bound, verdict, suspect = judged
    method = np.full(n, COMPLEX if use_cs else CENTRAL, np.int8)

    # points closer to a declared kink than the central stencil: their own side only
    for idx, scheme, steps, code in (
        (geo.own_left, _LEFT, geo.h_left, LEFT),
        (geo.own_right, _RIGHT, geo.h_right, RIGHT),
    ):
        if idx.size:
            est = _estimate(xdir, scheme, steps, idx, x64, eps)
            b, v, s = _judge_all(est, analytic[idx], lever[idx], eps, safety, rel)
            value[idx], bound[idx], verdict[idx], suspect[idx] = est.value, b, v, s
            method[idx] = code
    verdict[geo.at_kink] = KINK
    suspect &= ~geo.at_kink
    sides_idx = np.flatnonzero(geo.at_kink | suspect)
    reports: list[KinkReport] = []
    if sides_idx.size:
        ctx = _Sides(xdir, geo, h, x64, x64, eps, safety, kinks, barriers, order, rel)
        reports = ctx.resolve(sides_idx, analytic, value, bound, verdict, method)
    return ElementwiseResult(
        name=name,
        wrt=wrt,
        order=order,
        dtype=str(np.dtype(dt)),
        x=x64,
        analytic=analytic,
        numerical=value,
        bound=bound,
        method=method,
        verdict=verdict,
        kinks=tuple(reports),
        complex_step=use_cs,
        complex_step_note=note,
        step=rel,
    )


@dataclass
class _Sides:
    """Everything needed to take one-sided (and clean central) derivatives on a subset."""

    direction: Any
    geo: _Geometry
    h: Array
    lever: Array  # x for the x direction, θ along a parameter (the noise model takes max(|.|, 1))
    xpts: Array  # the probe points, for reports
    eps: float
    safety: float
    kinks: Sequence[Any] | None
    barriers: Array
    order: int
    rel: float

    def _rough(self, est: _Estimate, idx: Array) -> Array:
        """Truncation (or bend) beyond what round-off explains: f is not smooth in the stencil."""
        lever = np.maximum(np.abs(self.lever[idx]), STEP_FLOOR)
        with np.errstate(invalid="ignore", over="ignore"):
            scale = np.abs(est.value) + est.fabs / lever
            rough = est.trunc > np.maximum(SUSPECT_REL * scale, self.safety * est.noise)
            if est.bend is not None:
                rough |= est.bend > SUSPECT_BEND * self.rel * scale + est.noise
        return rough | ~np.isfinite(est.value)

    def _bound(self, est: _Estimate, idx: Array) -> Array:
        return est.total(self.safety) + _allowance(est.value, est.fabs, self.lever[idx], self.eps)

    def _side(self, idx: Array, declared: Array, open_: tuple, closed: tuple, hs: Array):
        """Open formula at declared kinks, closed elsewhere; NaN where a barrier is too close."""
        est = _Estimate(*(np.full(idx.size, np.nan) for _ in range(4)))
        for mask, scheme, steps in ((declared, open_, hs), (~declared, closed, self.h)):
            sub = idx[mask]
            if sub.size:
                e = _estimate(self.direction, scheme, steps, sub, self.lever, self.eps)
                if scheme is closed:
                    # a declared barrier within the stencil makes this side meaningless
                    e.value[hs[sub] < self.h[sub]] = np.nan
                est.value[mask], est.trunc[mask], est.noise[mask], est.fabs[mask] = (
                    e.value,
                    e.trunc,
                    e.noise,
                    e.fabs,
                )
        return est

    def resolve(
        self,
        idx: Array,
        analytic: Array,
        value: Array,
        bound: Array,
        verdict: Array,
        method: Array,
    ) -> list[KinkReport]:
        """Judge declared kinks, detect unknown ones, rescue rough points. Updates in place."""
        d, geo = self.direction, self.geo
        declared = geo.at_kink[idx]
        left = self._side(idx, declared, _LEFT, _LEFT_CLOSED, geo.h_left)
        right = self._side(idx, declared, _RIGHT, _RIGHT_CLOSED, geo.h_right)
        bl, br = self._bound(left, idx), self._bound(right, idx)
        clean = geo.central[idx]
        cv, cb = np.full(idx.size, np.nan), np.full(idx.size, np.inf)
        fv, fb = np.full(idx.size, np.nan), np.full(idx.size, np.inf)
        c_rough, f_rough = np.ones(idx.size, bool), np.ones(idx.size, bool)
        if clean.any():
            ci = idx[clean]
            central = _estimate(d, _CENTRAL, self.h, ci, self.lever, self.eps)
            cv[clean], cb[clean] = central.value, self._bound(central, ci)
            c_rough[clean] = self._rough(central, ci)
            # a function sharper than the step assumes (softplus with beta=200 in float32)
            # gets a truthful bound from a smaller step
            fine = _estimate(d, _CENTRAL, self.h / REFINE, ci, self.lever, self.eps)
            fv[clean], fb[clean] = fine.value, self._bound(fine, ci)
            f_rough[clean] = self._rough(fine, ci)
        a = analytic[idx]
        with np.errstate(invalid="ignore"):
            differ = np.abs(left.value - right.value) > bl + br
            lo = np.minimum(left.value - bl, right.value - br)
            hi = np.maximum(left.value + bl, right.value + br)
            between = (a >= lo) & (a <= hi)
        # No declared kink here. Each candidate (central, left, right, central with a finer
        # step) is right where f is smooth across its own stencil; a kink or jump inside a
        # stencil spoils that one only, and shows as roughness (a truncation estimate that
        # round-off does not explain, or a bend). The tightest smooth candidate decides.
        # When every candidate is rough, or smooth ones contradict each other beyond their
        # own error estimates (a kink the noise model cannot resolve), any candidate may
        # vouch for the analytic value; the point fails against the tightest one if none does.
        cand_v = np.stack([cv, left.value, right.value, fv])
        cand_b = np.where(np.isfinite(cand_v), np.stack([cb, bl, br, fb]), np.inf)
        rough = np.stack([c_rough, self._rough(left, idx), self._rough(right, idx), f_rough])
        trusted = np.isfinite(cand_b) & ~rough
        with np.errstate(invalid="ignore"):
            agree = np.abs(cand_v - a) <= cand_b
            hi_t = np.max(np.where(trusted, cand_v, -np.inf), axis=0)
            lo_t = np.min(np.where(trusted, cand_v, np.inf), axis=0)
            own = np.min(np.where(trusted, cand_b, np.inf), axis=0) / self.safety
            conflict = (trusted.sum(axis=0) >= 2) & (hi_t - lo_t > 2 * own)
        tightest = np.argmin(cand_b, axis=0)
        vouch = np.where(
            agree.any(axis=0), np.argmin(np.where(agree, cand_b, np.inf), axis=0), tightest
        )
        decided = np.argmin(np.where(trusted, cand_b, np.inf), axis=0)
        best = np.where(trusted.any(axis=0) & ~conflict, decided, vouch)
        pick = np.arange(idx.size)
        bv, bb = cand_v[best, pick], cand_b[best, pick]
        finite = np.isfinite(left.value) & np.isfinite(right.value)
        detected = ~declared & differ & finite
        kinkish = declared | detected
        new_verdict = np.where(kinkish, np.where(between, KINK, KINK_MISMATCH), _judge(a, bv, bb))
        # the numerical value shown at a kink: the one-sided derivative nearest the analytic one
        with np.errstate(invalid="ignore"):
            near_left = np.abs(a - left.value) <= np.abs(a - right.value)
        value[idx] = np.where(kinkish, np.where(near_left, left.value, right.value), bv)
        bound[idx] = np.where(kinkish, np.where(near_left, bl, br), bb)
        codes = np.array([CENTRAL, LEFT, RIGHT, CENTRAL])[best]
        method[idx] = np.where(kinkish, BOTH, codes).astype(np.int8)
        verdict[idx] = new_verdict.astype(np.int8)

        xs = self.xpts[idx]
        declared_sides = _declared_sides(self.kinks, self.order)
        reports = []
        seen: set[float] = set()
        for j in np.flatnonzero(declared):
            want = declared_sides.get(_nearest(self.barriers, float(xs[j])))
            sides_ok = want is None or bool(
                abs(left.value[j] - want[0]) <= bl[j] and abs(right.value[j] - want[1]) <= br[j]
            )
            if not sides_ok:
                verdict[idx[j]] = KINK_MISMATCH
            report = _report(j, a, left, right, bl, br, xs, self.order, True, want, sides_ok)
            # +0 and -0 (or a kink probed twice) make one report; a failing one wins
            if float(xs[j]) not in seen or not report.passed:
                reports = [r for r in reports if r.x != float(xs[j])] + [report]
                seen.add(float(xs[j]))
        gaps = left.value - right.value
        for j in _cluster_heads(np.flatnonzero(detected), xs, self.h[idx], gaps):
            reports.append(_report(j, a, left, right, bl, br, xs, self.order, False, None, True))
        return reports


def _report(j, a, left, right, bl, br, xs, order, declared, want, sides_ok) -> KinkReport:
    tol = max(float(bl[j]), float(br[j]))
    lv, rv = float(left.value[j]), float(right.value[j])
    av = float(a[j])
    lo, hi = min(lv - bl[j], rv - br[j]), max(lv + bl[j], rv + br[j])
    return KinkReport(
        x=float(xs[j]),
        analytic=av,
        left=lv,
        right=rv,
        left_bound=float(bl[j]),
        right_bound=float(br[j]),
        order=order,
        declared=declared,
        declared_left=None if want is None else float(want[0]),
        declared_right=None if want is None else float(want[1]),
        between=bool(lo <= av <= hi),
        sides_match=sides_ok,
        convention=_convention(av, lv, rv, tol) if want is None else _declared_convention(av, want),
    )


def _declared_convention(a: float, want: tuple[float, float]) -> str:
    """Name the convention from the declared one-sided values, compared in a's own precision."""
    left, right = want
    d32 = float(np.float32(a)) == a
    tol = (
        ANALYTIC_ULPS
        * _eps(np.dtype(np.float32 if d32 else np.float64))
        * max(abs(left), abs(right), 1e-300)
    )
    is_left, is_right = abs(a - left) <= tol, abs(a - right) <= tol
    if is_left and is_right:
        return "both one-sided derivatives, equal at this precision"
    if is_left:
        return "the left derivative"
    if is_right:
        return "the right derivative"
    return _convention(a, left, right, tol)


def _declared_sides(kinks: Sequence[Any] | None, order: int) -> dict[float, tuple[float, float]]:
    out = {}
    for k in kinks or ():
        if getattr(k, "order", None) == order and hasattr(k, "left"):
            out[float(k.x)] = (float(k.left), float(k.right))
    return out


def _nearest(barriers: Array, x: float) -> float | None:
    if barriers.size == 0:
        return None
    return float(barriers[np.argmin(np.abs(barriers - x))])


def _cluster_heads(j: Array, xs: Array, h: Array, gap: Array) -> list[int]:
    """One representative per group of neighbouring detected kink points (largest gap)."""
    if j.size == 0:
        return []
    order = j[np.argsort(xs[j], kind="stable")]
    groups, group = [], [order[0]]
    for a, b in itertools.pairwise(order):
        if xs[b] - xs[a] <= KINK_REPORT_GAP * max(h[a], h[b]):
            group.append(b)
        else:
            groups.append(group)
            group = [b]
    groups.append(group)
    heads = []
    for g in groups:
        mid = float(np.median(xs[g]))
        top = max(abs(gap[i]) for i in g)
        # the largest jump in slope, nearest the middle of the group
        heads.append(
            min((i for i in g if abs(gap[i]) >= 0.99 * top), key=lambda i: abs(xs[i] - mid))
        )
    return [int(i) for i in heads]


def _as_points(x: Any, dtype: Any) -> tuple[Array, np.dtype]:
    a = np.asarray(x)
    if a.dtype.kind not in "fiub":
        raise TypeError(f"probe points must be real numbers, got dtype {a.dtype}")
    dt = np.dtype(dtype) if dtype is not None else (a.dtype if a.dtype.kind == "f" else None)
    if dt is None or dt.kind != "f" or dt.itemsize < 4:
        dt = np.dtype(np.float64)
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return np.ascontiguousarray(a.ravel().astype(dt, copy=False)), dt


# ---------------------------------------------------------------------------
# Derivatives along a scalar (parameters)
# ---------------------------------------------------------------------------


def check_direction(
    shifted: Callable[[float], Any],
    analytic: Any,
    x: Any,
    *,
    scale: float,
    dtype: Any = None,
    name: str = "f",
    wrt: str = "θ",
    step: float | None = None,
    safety: float = SAFETY,
) -> ElementwiseResult:
    """Check d f(x; θ)/dθ at every point x, for a scalar θ.

    ``shifted(δ)`` returns f(x; θ+δ) at all N points (one vectorised call per
    δ); ``analytic`` is the claimed df/dθ at the N points; ``scale`` is |θ|
    (the step is ε^{1/3}·max(|θ|, tiny), a power of two). Kinks in θ (a clamp
    reaching x) are unknown and detected as in ``check_elementwise``.
    """
    xe, dt = _as_points(x, dtype)
    eps = _eps(dt)
    rel = float(step) if step is not None else eps ** (1 / 3)
    x64 = xe.astype(np.float64)
    n = x64.size
    hs = float(_pow2_below(np.array(rel * max(abs(scale), STEP_FLOOR))))
    h = np.full(n, hs)
    sdir = _ShiftDirection(shifted)
    # the noise model scales with |x·f'|; along θ the lever is |θ| rather than |x|
    theta = np.full(n, max(abs(scale), STEP_FLOOR))
    est = _estimate(sdir, _CENTRAL, h, None, theta, eps)
    a = np.asarray(analytic, dtype=np.float64).ravel()
    bound = est.total(safety) + _allowance(est.value, est.fabs, theta, eps)
    verdict = _judge(a, est.value, bound)
    method = np.full(n, CENTRAL, np.int8)
    with np.errstate(invalid="ignore"):
        rough = est.trunc > SUSPECT_REL * (np.abs(est.value) + est.fabs / theta)
    idx = np.flatnonzero((verdict == MISMATCH) | rough | ~np.isfinite(est.value))
    value = est.value.copy()
    reports: list[KinkReport] = []
    if idx.size:
        geo = _geometry(theta, h, np.empty(0), np.empty(0))
        ctx = _Sides(sdir, geo, h, theta, x64, eps, safety, None, np.empty(0), 1, rel)
        reports = ctx.resolve(idx, a, value, bound, verdict, method)
    return ElementwiseResult(
        name=name,
        wrt=wrt,
        order=1,
        dtype=str(np.dtype(dt)),
        x=x64,
        analytic=a,
        numerical=value,
        bound=bound,
        method=method,
        verdict=verdict,
        kinks=tuple(reports),
        complex_step=False,
        complex_step_note="off (parameter direction)",
        step=hs,
    )


def richardson_central(f: Callable[[Array], Any], x: Any, *, dtype: Any = None) -> Array:
    """Just the numerical derivative (central differences + Richardson), no verdicts."""
    xe, dt = _as_points(x, dtype)
    x64 = xe.astype(np.float64)
    h = _steps(x64, _eps(dt) ** (1 / 3))
    return _estimate(_XDirection(f, xe, False), _CENTRAL, h, None, x64, _eps(dt)).value


# ---------------------------------------------------------------------------
# Directional differences through a whole call (the user-code checks)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Directional:
    """d/dt g(t) at 0 by Richardson central differences, with its error estimate.

    ``left``/``right`` are second-order one-sided differences from the same calls.
    """

    value: Array
    error: Array
    left: Array
    right: Array


def central_along(
    g: Callable[[Array], Array], h: Any, *, dtype: Any = "float64", scale: Any = 0.0
) -> Directional:
    """d/dt g(t) at t = 0, where g maps an array of offsets t to values (same shape).

    C(h) = (g(h) - g(-h)) / 2h, R = (4C(h/2) - C(h)) / 3, error
    |C(h) - C(h/2)| + roundoff_ulps·ε·(max|g| + scale) / h, where ``scale`` is the
    size of the terms g is summed from when that exceeds |g| (cancellation); five
    calls of g, each vectorised over every direction at once.
    """
    from actcheck.tolerances import directional

    tol = directional(np.dtype(dtype))
    eps = _eps(np.dtype(dtype))
    h = np.asarray(h, dtype=np.float64)
    f0 = g(0.0 * h)
    fp, fm = g(h), g(-h)
    fp2, fm2 = g(h / 2), g(-h / 2)
    c1 = (fp - fm) / (2 * h)
    c2 = (fp2 - fm2) / h
    big = np.maximum.reduce([np.abs(f0), np.abs(fp), np.abs(fm), np.abs(fp2), np.abs(fm2)])
    return Directional(
        value=(4 * c2 - c1) / _RICHARDSON,
        error=np.abs(c1 - c2) + tol.roundoff_ulps * eps * (big + scale) / h,
        left=(3 * f0 - 4 * fm2 + fm) / h,
        right=(-3 * f0 + 4 * fp2 - fp) / h,
    )


def pow2_scale(x: Any) -> Array:
    """max(|x|, 1) rounded up to a power of two (steps scaled by it stay exact)."""
    m = np.maximum(np.abs(np.asarray(x, dtype=np.float64)), 1.0)
    return np.exp2(np.ceil(np.log2(m)))


__all__ = [
    "BOTH",
    "CENTRAL",
    "COMPLEX",
    "KINK",
    "KINK_MISMATCH",
    "LEFT",
    "METHODS",
    "MISMATCH",
    "OK",
    "RIGHT",
    "SAFETY",
    "SKIPPED",
    "VERDICTS",
    "Directional",
    "ElementwiseResult",
    "KinkReport",
    "WorstPoint",
    "central_along",
    "check_direction",
    "check_elementwise",
    "pow2_scale",
    "richardson_central",
]
