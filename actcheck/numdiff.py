"""Per-point numerical derivatives of elementwise functions, with error estimates.

This is the engine behind ``actcheck gradcheck``. It compares an analytic
derivative ``df`` with numerical derivatives of ``f`` at every probe point and
judges each point against an *estimate of the numerical error at that point*,
not against a fixed tolerance. numpy only; a constant number of vectorised
calls of ``f`` and ``df`` for N points (no per-element loop, no N x N Jacobian).

Stable public API (used by ``actcheck.gradcheck`` and by ``--impl`` checks)::

    check_elementwise(f, df, x, *, kinks=None, order=1, dtype=None, name="f",
                      wrt="x", step=None, safety=None, complex_step=None,
                      fixed_shape=False, tolerances=None) -> ElementwiseResult
    check_direction(shifted, analytic, x, *, scale, dtype=None, name="f",
                    wrt="θ", step=None, safety=None, tolerances=None) -> ElementwiseResult
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
Errors in the arguments raise ``actcheck.errors.InputError`` (a ValueError: a
non-positive step or safety, an unknown tolerance) or ValueError/TypeError (shapes).
The error model's constants are ``actcheck.tolerances``' row for the dtype, with
the caller's ``tolerances=`` dict and ``step=``/``safety=`` merged in.

``ElementwiseResult`` fields: ``x, analytic, numerical, bound, method, verdict``
(per-point float64/int8 arrays) and ``error``, ``excess`` (= error/bound),
``failed_mask``; ``kinks`` (``KinkReport``: x, analytic, left, right,
left_bound, right_bound, declared, declared_left/right, between, sides_match,
convention, passed, ``summary(name)`` -> "relu'(0) = 0, the left
derivative", ``to_dict(name)``); ``passed``, ``n_points``, ``n_failed``, ``n_skipped``,
``max_abs_error``, ``max_rel_error``, ``median_bound``, ``max_bound``,
``max_excess``, ``worst(k)`` (``WorstPoint``: x, analytic, numerical, bound,
error, excess, verdict, method), ``method_counts()``, ``verdict_counts()``,
``complex_step`` / ``complex_step_note``, ``tolerances``, ``summary()`` (one
line), ``to_dict()`` (NaN left as NaN). Verdict codes: ``PASS``, ``MISMATCH``,
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
δf = f_ulps·ε·(max|f| + |f'|·max(|x|, 1)) (cancellation inside an
implementation scales with |x·f'|), so R carries δf·Σ|wₖ|/h, where wₖ are the
stencil weights of R (Σ|wₖ| = 3 for the central scheme).

*Verdict.* A point is ok when
|analytic - numerical| <= safety·(truncation + round-off) + analytic_ulps·ε·(|f'| + |f|/max(|x|,1)),
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

import dataclasses
import functools
import itertools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from actcheck.primitives import at_least
from actcheck.tolerances import TOLERANCES, Overrides, Tolerances, merged

Array = np.ndarray

# The error model's constants live in actcheck/tolerances.py (one row per dtype); every
# function below takes the row it was called with (``tol``).

PASS, MISMATCH, KINK, KINK_MISMATCH, SKIPPED = 0, 1, 2, 3, 4
VERDICTS = ("pass", "mismatch", "kink", "kink mismatch", "skipped")
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

    @property
    def passed(self) -> bool:
        return self.verdict not in ("mismatch", "kink mismatch")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def summary(self) -> str:
        """E.g. ``x=0.52: analytic 0.25, numerical 0.5, |diff| 0.25 > bound 1e-09 (mismatch)``."""
        head = f"x={self.x:.17g}: analytic {self.analytic:.6g}, numerical {self.numerical:.6g}"
        if not np.isfinite(self.error):
            return f"{head}: not a finite difference ({self.verdict})"
        sign = "<=" if self.error <= self.bound else ">"
        return f"{head}, |diff| {self.error:.6g} {sign} bound {self.bound:.6g} ({self.verdict})"


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

    def summary(self, name: str = "f") -> str:
        """E.g. ``relu'(0) = 0, the left derivative``."""
        prime = "'" * self.order
        return f"{name}{prime}({_g(self.x)}) = {_value(self.analytic)}, {self.convention}"

    def to_dict(self, name: str = "f") -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__}
        d["passed"] = self.passed
        d["text"] = self.summary(name)
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
    tolerances: Tolerances = TOLERANCES["float64"]  # the error model's row the bounds came from
    # set on a streamed result (``reduce_result``): the statistics of all its points, while the
    # per-point arrays above hold only the points worth showing (the worst ones)
    stats: Stats | None = None
    # (verdict counts, method counts) of the arrays above, when the engine counted them as it
    # judged (every code but the commonest sits at the few points it looked at again)
    counts: tuple[tuple[int, ...], tuple[int, ...]] | None = None

    @property
    def error(self) -> Array:
        with np.errstate(invalid="ignore"):
            return np.abs(self.analytic - self.numerical)

    @property
    def failed_mask(self) -> Array:
        return (self.verdict == MISMATCH) | (self.verdict == KINK_MISMATCH)

    @property
    def n_points(self) -> int:
        return self.stats.points if self.stats else int(self.x.size)

    @property
    def n_failed(self) -> int:
        counts = self.verdict_counts()
        return counts.get("mismatch", 0) + counts.get("kink mismatch", 0)

    @property
    def n_skipped(self) -> int:
        return self.verdict_counts().get("skipped", 0)

    @property
    def passed(self) -> bool:
        return self.n_failed == 0 and all(k.passed for k in self.kinks)

    def _checked(self) -> Array | slice:
        """Points judged against a bound (kinks are judged by their one-sided derivatives):
        all of them, as a slice (no copies), when no verdict says otherwise."""
        v = self._tally(0)
        if v[KINK] == v[KINK_MISMATCH] == v[SKIPPED] == 0:
            return slice(None)
        return (self.verdict == PASS) | (self.verdict == MISMATCH)

    def _failed(self) -> Array | None:
        """``failed_mask``, or None when no point failed."""
        return self.failed_mask if self.n_failed else None

    @property
    def max_abs_error(self) -> float:
        if self.stats:
            return self.stats.max_abs_error
        return _max_abs(self.error[self._checked()])

    @property
    def max_rel_error(self) -> float:
        """Largest |diff| / max(|f'|, rel_floor·max|f'|) where the bound resolves f'.

        Streamed results: the largest over blocks, each with its own max|f'| (never lower).
        """
        if self.stats:
            return self.stats.max_rel_error
        return self._max_rel(self.error, self._checked())

    def _max_rel(self, error: Array, m: Array | slice) -> float:
        num = np.abs(self.numerical[m])
        top = num.max() if num.size else 0.0  # NaN or inf when any is: then look closer
        if not np.isfinite(top):
            big = num[np.isfinite(num)]
            top = big.max() if big.size else 0.0
        # relative to the derivative, or to a small fraction of its range where it vanishes
        floor = self.tolerances.rel_floor * float(top)
        den = np.maximum(num, np.abs(self.analytic[m]))
        at_least(den, floor, out=den)  # |.| >= 0: the sign of a zero cannot matter
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.divide(error[m], den)
            # where the bound exceeds f' itself (float32 in saturation) the difference cannot
            # resolve f' and its relative error means nothing, unless the point failed
            keep = np.less(self.bound[m], den)
            if self.n_failed:
                # a failed point with den 0 counts as 0 (elsewhere den <= 0 is dropped above:
                # bound < 0 is false)
                np.copyto(r, 0.0, where=~(den > 0))
                keep |= self.verdict[m] == MISMATCH
            keep &= np.isfinite(r)
        worst = float(np.max(r, where=keep, initial=-np.inf)) if r.size else -np.inf
        return worst if worst > -np.inf else 0.0

    def _finite_bounds(self, m: Array | slice) -> Array:
        """The finite bounds of the points ``m``, always a new array (the caller may reorder it)."""
        b = self.bound[m]
        finite = np.isfinite(b)
        return b.copy() if finite.all() else b[finite]

    @property
    def max_bound(self) -> float:
        if self.stats:
            return self.stats.max_bound
        return _largest(self._finite_bounds(self._checked()))

    @property
    def median_bound(self) -> float:
        """The median bound (streamed results: the median of the blocks' medians)."""
        if self.stats:
            return self.stats.median_bound
        b = self._finite_bounds(self._checked())
        return _median_of_fresh(b)

    @property
    def excess(self) -> Array:
        """|analytic - numerical| / bound, per point (> 1 where a point fails)."""
        return _excess(self.error, self.bound, self._failed())

    @property
    def max_excess(self) -> float:
        """Largest |analytic - numerical| / bound over the points judged against a bound."""
        if self.stats:
            return self.stats.max_excess
        return _largest(self.excess[self._checked()])

    def worst(self, k: int = 5) -> list[WorstPoint]:
        """The k points furthest past their bound (failed points first)."""
        return _worst_points(self, k)

    def _tally(self, which: int) -> tuple[int, ...]:
        """Counts per verdict code (``which`` 0) or per method code (1): of all points for
        a streamed result, as the engine counted them, or counted from the arrays."""
        if self.stats:
            return (self.stats.verdicts, self.stats.methods)[which]
        if self.counts:
            return self.counts[which]
        return _counts(self.method, len(METHODS)) if which else _counts(self.verdict, len(VERDICTS))

    def method_counts(self) -> dict[str, int]:
        return {METHODS[i]: int(c) for i, c in enumerate(self._tally(1)) if c}

    def verdict_counts(self) -> dict[str, int]:
        return {VERDICTS[i]: int(c) for i, c in enumerate(self._tally(0)) if c}

    def summary(self, label: str | None = None) -> str:
        """One line: the verdict, and the worst point or kink when it failed.

        ``label`` names the check (default ``"f d/dx"`` from ``name``, ``wrt``, ``order``).
        """
        power = "" if self.order == 1 else "²"
        what = label or f"{self.name} d{power}/d{self.wrt}{power}"
        if self.passed:
            return (
                f"{what}: pass at {self.n_points:,} points (max |diff| {self.max_abs_error:.3g}, "
                f"max rel {self.max_rel_error:.3g})"
            )
        if self.n_failed:
            (w,) = self.worst(1)
            head = f"{self.n_failed:,} of {self.n_points:,} points outside the bound"
            return f"{what}: fail, {head}; worst {w.summary()}"
        k = next(k for k in self.kinks if not k.passed)
        return f"{what}: fail at a kink, {k.summary(self.name)}"

    def to_dict(self, worst: int = 5) -> dict[str, Any]:
        """Every figure (NaN stays NaN: ``actcheck.jsonout`` writes null)."""
        return {
            "wrt": self.wrt,
            "order": self.order,
            "dtype": self.dtype,
            "passed": self.passed,
            "points": self.n_points,
            "failed": self.n_failed,
            "skipped": self.n_skipped,
            "max_abs_error": self.max_abs_error,
            "max_rel_error": self.max_rel_error,
            "max_error_bound": self.max_bound,
            "median_error_bound": self.median_bound,
            "max_error_over_bound": self.max_excess,
            "relative_step": self.step,
            "complex_step": self.complex_step,
            "complex_step_note": self.complex_step_note,
            "methods": self.method_counts(),
            "verdicts": self.verdict_counts(),
            "tolerances": dataclasses.asdict(self.tolerances),
            "kinks": [k.to_dict(self.name) for k in self.kinks],
            "worst": [w.to_dict() for w in self.worst(worst)],
        }


def _sparse_counts(
    verdict: Array, method: Array, again: Array, base: int, moved: Array
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Verdict and method counts when every verdict but PASS is at the points ``again``
    (looked at again: kinks and suspects) and every method but ``base`` at those or at
    ``moved`` (one-sided near a kink): a few points read instead of all."""
    n = verdict.size
    v = np.bincount(verdict[again], minlength=len(VERDICTS))
    v[PASS] += n - again.size
    extra = moved[~_member(moved, again)]  # ``again`` is sorted; both hold no repeats
    m = np.bincount(method[again], minlength=len(METHODS))
    m += np.bincount(method[extra], minlength=len(METHODS))
    m[base] += n - again.size - extra.size
    return tuple(int(c) for c in v), tuple(int(c) for c in m)


def _counts(codes: Array, n: int) -> tuple[int, ...]:
    """How many of the codes are 0, 1, ..., n-1. A count per code reads the int8 codes a
    few times in place; np.bincount first widens all of them to int64 (8 bytes a point)."""
    rest = [int(np.count_nonzero(codes == k)) for k in range(1, n)]
    return (codes.size - sum(rest), *rest)


@dataclass(frozen=True)
class Stats:
    """The figures of a check over all its points, kept when the points themselves are not."""

    points: int
    verdicts: tuple[int, ...]  # count per verdict code
    methods: tuple[int, ...]  # count per method code
    max_abs_error: float
    max_rel_error: float
    max_bound: float
    median_bound: float
    max_excess: float


KEEP_WORST = 100  # points a streamed result keeps per check: the worst ones, failed first


def reduce_result(r: ElementwiseResult, keep: int = KEEP_WORST) -> ElementwiseResult:
    """``r`` with its statistics kept and its per-point arrays cut to the ``keep`` worst points
    (the figures of ``r``'s properties, each array computed once for all of them)."""
    error, failed = r.error, r._failed()
    ex = _excess(error, r.bound, failed)
    stats = r.stats
    if stats is None:
        m = r._checked()
        b = r._finite_bounds(m)
        stats = Stats(
            r.n_points,
            r._tally(0),
            r._tally(1),
            _max_abs(error[m]),
            r._max_rel(error, m),
            _largest(b),
            _median_of_fresh(b),
            _largest(ex[m]),
        )
    idx = np.sort(_worst_of(ex, failed, keep))
    cut = {k: getattr(r, k)[idx] for k in ("x", "analytic", "numerical", "bound", "method")}
    return dataclasses.replace(r, **cut, verdict=r.verdict[idx], stats=stats, counts=None)


def merge_results(parts: Sequence[ElementwiseResult], keep: int | None = None) -> ElementwiseResult:
    """One result from checks of consecutive blocks of points (same function, same settings).

    ``keep`` None: every point's arrays are concatenated (the result is as if checked at
    once). Otherwise the merged statistics are kept with the ``keep`` worst points.
    """
    first = parts[0]
    cat = {
        k: np.concatenate([getattr(p, k) for p in parts])
        for k in ("x", "analytic", "numerical", "bound", "method", "verdict")
    }
    counts = None
    if all(p.counts for p in parts):  # the parts' counts, added up
        counts = tuple(tuple(int(v) for v in np.sum([p.counts[i] for p in parts], axis=0))
                       for i in (0, 1))  # fmt: skip
    merged_ = dataclasses.replace(
        first, **cat, kinks=_merge_kinks(parts), stats=None, counts=counts
    )
    if keep is None:
        return merged_
    stats = [reduce_result(p, keep).stats for p in parts]
    total = Stats(
        sum(s.points for s in stats),
        tuple(int(v) for v in np.sum([s.verdicts for s in stats], axis=0)),
        tuple(int(v) for v in np.sum([s.methods for s in stats], axis=0)),
        max(s.max_abs_error for s in stats),
        max(s.max_rel_error for s in stats),
        max(s.max_bound for s in stats),
        float(np.median([s.median_bound for s in stats])),
        max(s.max_excess for s in stats),
    )
    return reduce_result(dataclasses.replace(merged_, stats=total), keep)


def _merge_kinks(parts: Sequence[ElementwiseResult]) -> tuple[KinkReport, ...]:
    """Kink reports of all blocks; a declared kink probed in two blocks (±0) reports once,
    a failing report winning, as within one block."""
    out: list[KinkReport] = []
    for k in (k for p in parts for k in p.kinks):
        same = [i for i, o in enumerate(out) if o.declared and k.declared and o.x == k.x]
        if not same:
            out.append(k)
        elif not k.passed:
            out[same[0]] = k
    return tuple(out)


def _largest(a: Array) -> float:
    return float(a.max()) if a.size else 0.0


def _median_of_fresh(a: Array) -> float:
    """The median of an array nothing else holds (it is partitioned in place), 0 if empty."""
    return float(np.median(a, overwrite_input=True)) if a.size else 0.0


def _max_abs(e: Array) -> float:
    return float(np.nanmax(e)) if e.size and np.isfinite(e).any() else 0.0


def _excess(error: Array, bound: Array, failed: Array | None) -> Array:
    """error/bound, inf where a failed point's ratio is not finite, 0 where it is NaN
    (``failed`` None: no point failed)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = error / bound
    if failed is not None:
        r = np.where(failed & ~np.isfinite(r), np.inf, r)
    np.copyto(r, 0.0, where=np.isnan(r))
    return r


def _worst_of(ex: Array, failed: Array | None, k: int) -> Array:
    """Indices of the k points furthest past their bound, failed points first."""
    k = min(k, ex.size)
    if k <= 0:
        return np.empty(0, np.intp)
    # failed points first, each group by how far past its bound
    if failed is not None and failed.sum() >= k:
        pool = np.flatnonzero(failed)
        top = pool[np.argpartition(-ex[pool], k - 1)[:k]] if pool.size > k else pool
    else:
        top = np.argpartition(-ex, k - 1)[:k] if ex.size > k else np.arange(ex.size)
    first = np.zeros(top.size, bool) if failed is None else failed[top]
    return top[np.lexsort((-ex[top], ~first))][:k]


def _worst_points(r: ElementwiseResult, k: int) -> list[WorstPoint]:
    err, failed = r.error, r._failed()
    ex = _excess(err, r.bound, failed)
    idx = _worst_of(ex, failed, k)
    return [
        WorstPoint(
            x=float(r.x[i]),
            analytic=float(r.analytic[i]),
            numerical=float(r.numerical[i]),
            bound=float(r.bound[i]),
            error=float(err[i]),
            excess=float(ex[i]),
            verdict=VERDICTS[r.verdict[i]],
            method=METHODS[r.method[i]],
        )
        for i in idx
    ]


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


def _steps(x64: Array, tol: Tolerances) -> Array:
    """Power-of-two steps ~ step·max(|x|, step_floor)."""
    return _pow2_floor(at_least(np.abs(x64), tol.step_floor) * tol.step)


def _allowance(deriv: Array, fabs: Array, x64: Array, eps: float, tol: Tolerances) -> Array:
    """Rounding allowed in the analytic derivative itself."""
    scale = np.abs(deriv) + fabs / np.maximum(np.abs(x64), 1.0)
    return tol.analytic_ulps * (eps * scale + _FLOOR[eps])


@dataclass
class _Estimate:
    """A numerical derivative on a set of points with its error parts."""

    value: Array
    trunc: Array
    noise: Array  # round-off, absolute
    fabs: Array  # |f| near the point (for the analytic allowance)
    bend: Array | None = None  # central only: |f(x+h)+f(x-h)-f(x+h/2)-f(x-h/2)|/h
    magnitude: Array | None = None  # |value|, when kept from the noise model

    def total(self, safety: float) -> Array:
        return safety * (self.trunc + self.noise)


def _combine(
    values: list[Array],
    scheme: tuple[Array, Array, Array],
    h: Array,
    lever: Array,
    eps: float,
    tol: Tolerances,
    bend: bool = True,
    work: list[Array] | None = None,
) -> _Estimate:
    """Richardson combination of one stencil's f values (float64 arrays).

    ``lever`` is max(|x|, step_floor) (the noise model's |x|). ``bend`` (central scheme only)
    also measures |f(x+h) + f(x-h) - f(x+h/2) - f(x-h/2)|/h.
    ``work``: six or seven arrays of the points' size to compute in (the estimate's arrays
    are the first four or five of them; a seventh keeps |value|); new ones when None.
    """
    work = work if work is not None else [np.empty(h.size) for _ in range(6)]
    value, trunc, noise, fmax, tmp, bent = work[:6]
    magnitude = work[6] if len(work) > 6 else noise
    _, wc, wf = scheme
    inv = _pow2_reciprocal(h)

    def per_h(a: Array) -> None:  # a /= h, by a multiplication where that is the same
        if inv is None:
            a /= h
        else:
            a *= inv

    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        _weighted(wc, values, trunc, tmp)  # the coarse estimate, times h
        _weighted(wf, values, value, tmp)  # the fine one
        per_h(value)
        per_h(trunc)
        np.subtract(value, trunc, out=trunc)
        trunc /= _RICHARDSON
        value += trunc
        np.abs(trunc, out=trunc)
        # the outermost stencil points bound |f| near x well enough for a noise model
        np.abs(values[0], out=fmax)
        np.abs(values[-1], out=tmp)
        np.maximum(fmax, tmp, out=fmax)
        np.abs(value, out=magnitude)
        if isinstance(lever, float) and lever == 1.0:  # along θ with |θ| <= 1: m·1 is m
            np.add(magnitude, fmax, out=noise)
        else:
            np.multiply(magnitude, lever, out=noise)
            noise += fmax
        noise *= eps
        noise += _FLOOR[eps]  # below the subnormal spacing nothing is resolved
        noise *= tol.f_ulps * _weight_sum(scheme)
        per_h(noise)
        kept = magnitude if magnitude is not noise else None
        if not (bend and scheme is _CENTRAL):
            return _Estimate(value, trunc, noise, fmax, None, kept)
        # smooth f: 3/8·h·|f''|; a kink right at x: |f'(x+) - f'(x-)|/2, invisible to Richardson
        np.add(values[0], values[3], out=bent)
        np.add(values[1], values[2], out=tmp)
        bent -= tmp
        np.abs(bent, out=bent)
        per_h(bent)
    return _Estimate(value, trunc, noise, fmax, bent, kept)


def _pow2_reciprocal(h: Any) -> float | None:
    """1/h for a scalar step h that is a power of two with a normal reciprocal: dividing by
    h is then multiplying by 1/h, bit for bit, in half the time. None otherwise (arrays)."""
    if isinstance(h, np.ndarray) or not h > 0 or math.frexp(h)[0] != 0.5:
        return None
    inv = 1.0 / h
    return inv if _TINY64 <= inv <= _HUGE64 else None


_TINY64, _HUGE64 = float(np.finfo(np.float64).tiny), float(np.finfo(np.float64).max)


def _weight_sum(scheme: tuple[Array, Array, Array]) -> float:
    """Σ|wₖ| of the Richardson combination R = fine + (fine - coarse)/3: its round-off gain."""
    _, wc, wf = scheme
    return float(np.sum(np.abs((_RICHARDSON + 1) * wf - wc))) / _RICHARDSON


# points per piece of the hot loop. Smaller pieces keep f's four values and the estimate's
# arrays (~20 arrays of BLOCK floats) in the cache between the passes over them (the error
# model runs ~15 % faster at 64K than at 256K on one thread), but each pass is a numpy
# call, and two threads contend for the GIL at every call: 16K points take 1.6x the time
# of 256K on two threads. 128K is the best of both (benchmarks: relu, silu, gelu at 1e6).
BLOCK = 1 << 17


def _blocks(n: int):
    for start in range(0, n, BLOCK):
        yield slice(start, min(start + BLOCK, n))


def _judge_all(
    main: _Estimate,
    analytic: Array,
    lever: Array,
    eps: float,
    tol: Tolerances,
    out: tuple[Array, Array, Array] | None = None,
    work: tuple[Array, Array, Array] | None = None,
    allow: Array | float | None = None,
) -> tuple[Array, Array, Array]:
    """Bound, verdict and 'suspect' at every point of an estimate (into ``out`` if given;
    ``work``: two float scratch arrays and a bool one of the same size). ``lever`` and
    ``allow`` (default: ``lever``) are arrays of the points' size or scalars (along θ).

    bound = safety·(truncation + round-off) + analytic_ulps·(ε·(|f'| + |f|/allow) + floor);
    suspect: failed, non-finite, rough (truncation beyond suspect_rel·(|f'| + |f|/lever))
    or bent (a kink at x).
    """
    n = analytic.size
    bound, verdict, suspect = out or (np.empty(n), np.empty(n, np.int8), np.empty(n, bool))
    scale, err, flag = work or (np.empty(n), np.empty(n), np.empty(n, bool))
    allow = lever if allow is None else allow
    with np.errstate(all="ignore"):
        magnitude = main.magnitude
        if magnitude is None:
            magnitude = np.abs(main.value, out=err)
        # |f'| + |f|/max(|x|, step_floor): f' scale (along θ with |θ| <= 1, |f|/1 is |f|)
        if isinstance(allow, float) and allow == 1.0:
            np.add(main.fabs, magnitude, out=scale)
        else:
            np.divide(main.fabs, allow, out=scale)
            scale += magnitude
        np.add(main.trunc, main.noise, out=bound)
        bound *= tol.safety
        np.multiply(scale, tol.analytic_ulps * eps, out=err)
        bound += err
        bound += tol.analytic_ulps * _FLOOR[eps]
        np.subtract(analytic, main.value, out=err)
        np.abs(err, out=err)
        failed = verdict.view(bool)  # MISMATCH = 1, PASS = 0
        np.greater(err, bound, out=failed)
        # one read: a finite sum of |analytic - numerical| means that every error, so every
        # value on both sides, is finite; the exact tests only when it is not (a NaN or an
        # inf on either side, or finite errors whose sum overflows)
        finite = bool(np.isfinite(np.add.reduce(err)))
        if not finite:
            np.isnan(err, out=flag)
            failed |= flag  # NaN on either side
        if allow is not lever:  # the suspect tests take |f|/lever
            np.divide(main.fabs, lever, out=scale)
            if main.magnitude is None:
                magnitude = np.abs(main.value, out=err)
            scale += magnitude
        np.multiply(scale, tol.suspect_rel, out=err)
        np.greater(main.trunc, err, out=suspect)
        suspect |= failed
        if main.bend is not None:
            np.multiply(scale, tol.suspect_bend * tol.step, out=err)
            np.greater(main.bend, err, out=flag)
            suspect |= flag
    if not finite:
        np.isfinite(main.value, out=flag)
        bad = ~flag
        suspect |= bad
        verdict[bad & ~np.isfinite(analytic)] = SKIPPED
    return bound, verdict, suspect


def _central_judged(
    xdir: _XDirection,
    h: Array,
    lever: Array,
    analytic: Array,
    eps: float,
    tol: Tolerances,
    bend: bool,
    out: tuple[Array, Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array]:
    """The hot path, piece by piece (``BLOCK`` points): four calls of f, then
    ``_judged_blocks`` (numerical, bound and verdict into ``out`` when given, then
    'suspect'). f sees all points at once when it must (``fixed_shape``)."""
    n = analytic.size
    if xdir.fixed_shape or n <= BLOCK:
        values = xdir.stencil(_CENTRAL, h, None)
        return _judged_blocks(values, h, lever, lever, analytic, eps, tol, bend, out)
    value, bound, verdict = out or (np.empty(n), np.empty(n), np.empty(n, np.int8))
    suspect = np.empty(n, bool)
    for sl in _blocks(n):
        values = xdir.piece(sl).stencil(_CENTRAL, h[sl], None)
        pieces = (value[sl], bound[sl], verdict[sl])
        a, lv = analytic[sl], lever[sl]
        suspect[sl] = _judged_blocks(values, h[sl], lv, lv, a, eps, tol, bend, pieces)[3]
    return value, bound, verdict, suspect


def _judged_blocks(
    values: list[Array],
    h: Array | float,
    lever: Array | float,
    allow: Array | float,
    analytic: Array,
    eps: float,
    tol: Tolerances,
    bend: bool,
    out: tuple[Array, Array, Array] | None,
) -> tuple[Array, Array, Array, Array]:
    """The central estimate (``_combine``) and its verdict (``_judge_all``) at all N points
    of a stencil's f values, block by block in reused buffers so that the temporaries stay
    small (only results are full-size). ``h``, ``lever`` and ``allow`` are per point along
    x and scalars along θ (``allow`` may be ``lever`` itself)."""
    n = analytic.size
    value, bound, verdict = out or (np.empty(n), np.empty(n), np.empty(n, np.int8))
    suspect = np.empty(n, bool)
    k = min(n, BLOCK)
    floats, flag = [np.empty(k) for _ in range(7)], np.empty(k, bool)

    def cut(a: Array | float, sl: slice) -> Array | float:
        return a[sl] if isinstance(a, np.ndarray) else a

    for sl in _blocks(n):
        m = sl.stop - sl.start
        trunc, noise, fmax, tmp, bent, err, magnitude = (a[:m] for a in floats)
        lv = cut(lever, sl)
        est = _combine([v[sl] for v in values], _CENTRAL, cut(h, sl), lv, eps, tol, bend,
                       [value[sl], trunc, noise, fmax, tmp, bent, magnitude])  # fmt: skip
        al = lv if allow is lever else cut(allow, sl)
        o = (bound[sl], verdict[sl], suspect[sl])
        _judge_all(est, analytic[sl], lv, eps, tol, o, (tmp, err, flag[:m]), al)
    return value, bound, verdict, suspect


@functools.cache
def _pairing(weights: tuple[float, ...]) -> tuple[tuple[float, int, int | None], ...]:
    """Terms (w, k, j) of Σ wₖ·vₖ: w·(v_k - v_j) where antisymmetric weights pair up."""
    n = len(weights)
    if all(weights[k] == -weights[n - 1 - k] for k in range(n)):
        return tuple((w, k, n - 1 - k) for k, w in enumerate(weights) if k >= n // 2 and w)
    return tuple((w, k, None) for k, w in enumerate(weights) if w)


def _weighted(weights: Array, values: list[Array], out: Array, tmp: Array) -> Array:
    """Σ wₖ·valuesₖ into ``out`` (``tmp``: scratch of the same size).

    Antisymmetric weights (the central scheme's) pair up: w·(v₊ - v₋), one subtraction each.
    """
    for i, (w, k, j) in enumerate(_pairing(tuple(weights.tolist()))):
        dest = out if i == 0 else tmp
        if j is None:
            np.multiply(values[k], w, out=dest)
        else:
            np.subtract(values[k], values[j], out=dest)
            if w != 1.0:
                dest *= w
        if i:
            out += tmp
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

    def piece(self, sl: slice) -> _XDirection:
        """The same direction on the points ``sl`` only."""
        return _XDirection(self.f, self.xe[sl], self.fixed_shape)

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

    def stencil(self, scheme: tuple, h: Array, idx: Array | None) -> list[Array]:
        """f at x + t·h for each offset t; x - |t|·h for negative t (one product per |t|).

        All points: one call of f per offset. A subset (the few points near kinks): all
        offsets in one call, as f's fixed cost per call is most of the work there.
        """
        x = self.xe if idx is None else self.xe[idx]
        ts = scheme[0]
        batch = idx is not None and not self.fixed_shape
        # the shifted points in one array (its pages are faulted in once); f's value is
        # copied when it shares memory with its argument
        xs = np.empty((len(ts) if batch else 1, x.size), self.dtype)
        steps: dict[float, Array] = {}
        out = []
        with np.errstate(all="ignore"):
            for i, t in enumerate(ts):
                a = abs(float(t))
                if a not in steps:
                    steps[a] = (h if a == 1.0 else h * a).astype(self.dtype, copy=False)
                row = xs[i if batch else 0]
                (np.add if t >= 0 else np.subtract)(x, steps[a], out=row)
                if not batch:
                    v = self.call(row, idx)
                    out.append(v.copy() if np.may_share_memory(v, xs) else v)
            if batch:
                v = self.call(xs.ravel(), None)
                v = v.copy() if np.may_share_memory(v, xs) else v
                out = list(v.reshape(xs.shape))
        return out


class _ShiftDirection:
    """Shifts along a scalar (a parameter θ): ``shifted(δ)`` = f(x; θ+δ) at every point,
    ``shifted_at(δ, idx)`` (when given) at the points ``idx`` only."""

    def __init__(
        self,
        shifted: Callable[[float], Array],
        shifted_at: Callable[[float, Array], Array] | None = None,
        n: int = 0,
    ):
        self.shifted, self.shifted_at, self.n = shifted, shifted_at, n
        self._cache: dict[float, Array] = {}

    def at(self, t: float, h: Array, idx: Array | None) -> Array:
        base = h.base if isinstance(h, _Steps) else h  # one scalar step along θ
        d = float(t * float(np.max(base)))
        if idx is not None and self.shifted_at is not None and 8 * idx.size < self.n:
            # a few points (one-sided stencils at kinks): f there only, not at all N
            with np.errstate(all="ignore"):
                v = np.asarray(self.shifted_at(d, idx)).astype(np.float64, copy=False)
            return v.ravel()
        if d not in self._cache:
            with np.errstate(all="ignore"):
                self._cache[d] = np.asarray(self.shifted(d)).astype(np.float64, copy=False).ravel()
        v = self._cache[d]
        return v if idx is None else v[idx]

    def stencil(self, scheme: tuple, h: Array, idx: Array | None) -> list[Array]:
        return [self.at(float(t), h, idx) for t in scheme[0]]


def _estimate(
    direction: Any,
    scheme: tuple,
    h: Any,
    idx: Array | None,
    x64: Array,
    eps: float,
    tol: Tolerances,
) -> _Estimate:
    hh = h if idx is None else h[idx]
    xx = x64 if idx is None else x64[idx]
    values = direction.stencil(scheme, h if isinstance(direction, _ShiftDirection) else hh, idx)
    return _combine(values, scheme, hh, np.maximum(np.abs(xx), tol.step_floor), eps, tol)


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


def _member(idx: Array, members: Array) -> Array:
    """Which of the indices ``idx`` are among the sorted ``members``. The smaller array is
    searched in the larger: ``idx`` must then be sorted without repeats when it is the
    larger (the points looked at again, from np.flatnonzero; float32 makes them most)."""
    if not members.size or not idx.size:
        return np.zeros(idx.shape, bool)
    if members.size < idx.size:
        pos = np.minimum(np.searchsorted(idx, members), idx.size - 1)
        out = np.zeros(idx.shape, bool)
        out[pos[idx[pos] == members]] = True
        return out
    pos = np.minimum(np.searchsorted(members, idx), members.size - 1)
    return members[pos] == idx


@dataclass
class _Geometry:
    """Where the stencils of N points may go. The points near a barrier are few: they are
    kept as sorted indices, not as masks of all N points."""

    n: int
    near: Array  # indices of points whose central stencil reaches a barrier
    kink: Array  # indices of points at a declared kink (some of ``near``)
    own_left: Array  # indices of points that take the left one-sided formula (kink on the right)
    own_right: Array
    h_left: _Steps  # steps for a left one-sided stencil (shrunk to stay clear of kinks)
    h_right: _Steps

    def central(self) -> Array:
        """bool, all N points: the central stencil is clear of every barrier."""
        clear = np.ones(self.n, bool)
        clear[self.near] = False
        return clear

    def is_central(self, idx: Array) -> Array:
        return ~_member(idx, self.near)

    def is_kink(self, idx: Array) -> Array:
        return _member(idx, self.kink)


def _geometry(
    x64: Array, h: Array, barriers: Array, delta: Array, tol: Tolerances | None = None
) -> _Geometry:
    """Where each point's stencils may go. ``tol``: h are the steps ``_steps`` makes from
    it (h <= step·max(|x|, step_floor)), which bounds how far from a kink reaching it is."""
    n = x64.size
    none = np.empty(0, np.intp)
    if barriers.size == 0:
        return _Geometry(n, none, none, none, none, _Steps(h), _Steps(h))
    b = np.concatenate(([-np.inf], barriers, [np.inf]))
    d = np.concatenate(([0.0], delta, [0.0]))
    assert _reach(_CENTRAL) == 1.0  # the central stencil reaches x ± h
    near = _near_barriers(x64, h, barriers, tol)
    if not near.size:
        return _Geometry(n, none, none, none, none, _Steps(h), _Steps(h))
    xs, hs = x64[near], h[near]
    ps = np.clip(np.searchsorted(b, xs, side="left"), 1, b.size - 1)  # b[p-1] < x <= b[p]
    lo, hi = b[ps - 1], b[ps]
    with np.errstate(invalid="ignore"):
        at_hi = (hi - xs) <= d[ps]
        at_lo = (xs - lo) <= d[ps - 1]
    at = at_hi | at_lo
    k = np.where(at_hi, ps, np.where(at_lo, ps - 1, 1))
    # room on each side, measured from the kink itself for points at a kink (NaN for a
    # probe at ±inf, which no one-sided stencil takes)
    with np.errstate(invalid="ignore"):
        room_left = np.where(at, b[k] - b[k - 1], xs - lo)
        room_right = np.where(at, b[np.minimum(k + 1, b.size - 1)] - b[k], hi - xs)
    right = room_right >= room_left
    reach = _reach(_RIGHT) * 1.0001
    tiny, big = np.finfo(np.float64).tiny, np.finfo(np.float64).max
    with np.errstate(invalid="ignore", over="ignore"):
        # no kink on a side: room is inf, which frexp cannot take; clip it to a finite value
        hl = np.minimum(hs, _pow2_below(np.clip(room_left / reach, tiny, big)))
        hr = np.minimum(hs, _pow2_below(np.clip(room_right / reach, tiny, big)))
    return _Geometry(
        n,
        near,
        near[at],
        near[~at & ~right],
        near[~at & right],
        _Steps(h, near, hl),
        _Steps(h, near, hr),
    )


def _near_barriers(x64: Array, h: Array, barriers: Array, tol: Tolerances | None = None) -> Array:
    """Indices of the points whose central stencil x ± h reaches a barrier, sorted.
    Sorted points (a catalog block) are searched around each barrier;
    others take a few passes over all points. With ``tol`` (h from ``_steps``), only
    |x - b| <= s·(|b| + floor)/(1 - s) can reach b, s the step: without it, the largest h
    of all points (a probe at 1e30 has h ~ 1e25) sets the window."""
    with np.errstate(invalid="ignore"):
        ordered = x64.size < 2 or bool(np.all(x64[1:] >= x64[:-1]))  # False with a NaN
    if not ordered:
        dist = np.empty_like(x64)
        clear = np.empty(x64.size, bool)
        central = np.ones(x64.size, bool)
        with np.errstate(invalid="ignore"):
            for bk in barriers:  # a handful of kinks: a few passes
                np.subtract(x64, bk, out=dist)
                np.abs(dist, out=dist)
                np.greater(dist, h, out=clear)
                central &= clear
        return np.flatnonzero(~central)
    bounded = tol is not None and tol.step < 0.5
    hmax = None if bounded else float(np.max(h))
    parts = []
    for bk in barriers:
        # |x - b| <= h <= s·max(|x|, floor) <= s·(|b| + |x - b| + floor), solved for |x - b|
        # (with room for the rounding of lever·s); or h <= hmax for every point
        w = hmax if hmax is not None else _reach_window(float(bk), tol)
        lo = int(np.searchsorted(x64, bk - w, side="left"))
        sl = slice(lo, int(np.searchsorted(x64, bk + w, side="right")))
        with np.errstate(invalid="ignore"):
            reach = ~(np.abs(x64[sl] - bk) > h[sl])
        parts.append(lo + np.flatnonzero(reach))
    near = np.concatenate(parts) if parts else np.empty(0, np.intp)
    if len(parts) > 1 and near.size > 1:  # sorted, without repeats (np.unique costs 0.1 ms)
        near.sort()
        near = near[np.concatenate(([True], near[1:] != near[:-1]))]
    return near


def _reach_window(b: float, tol: Tolerances) -> float:
    """How far from b a point with a step from ``_steps`` may be and still reach b."""
    return 1.01 * tol.step * (abs(b) + tol.step_floor) / (1 - tol.step)


def _barriers(kinks: Sequence[Any] | None, dtype: np.dtype, kink_ulps: int) -> tuple[Array, Array]:
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
    delta = np.where(pos == 0, 0.0, kink_ulps * ulp)
    keep = np.concatenate(([True], np.diff(rounded) > 0))
    return rounded[keep], delta[keep]


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


def _convention(a: float, left: float, right: float, bound: float) -> str:
    if abs(a - left) <= bound and abs(a - right) <= bound:
        return "both one-sided derivatives agree"
    if abs(a - left) <= bound:
        return "the left derivative"
    if abs(a - right) <= bound:
        return "the right derivative"
    if abs(a - 0.5 * (left + right)) <= bound:
        return "the midpoint"
    lo, hi = min(left, right), max(left, right)
    if lo - bound <= a <= hi + bound:
        return "between the one-sided derivatives"
    return f"outside the one-sided derivatives [{_g(lo)}, {_g(hi)}]"


def _complex_probe(
    f: Callable,
    xe: Array,
    idx: Array,
    central: _Estimate,
    tol: Tolerances,
    eps: float,
    fixed_shape: bool,
) -> tuple[bool, str]:
    try:
        # a ComplexWarning (imaginary part discarded) means unsafe; overflow is f's own business
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("error")
            cs, _ = _complex_step(f, xe, idx, fixed_shape, tol.cs_step)
    except Exception as err:  # any failure means: not complex-safe
        return False, f"not complex-safe (raises {type(err).__name__})"
    if cs is None:
        return False, "not complex-safe (returns a real array)"
    x64 = xe[idx].astype(np.float64)
    bound = central.total(tol.safety) + _allowance(central.value, central.fabs, x64, eps, tol)
    with np.errstate(invalid="ignore"):
        # only probes where the central difference itself is smooth can testify
        scale = np.abs(central.value) + central.fabs / np.maximum(x64, 1.0)
        smooth = central.trunc <= tol.suspect_rel * scale
        bad = smooth & ~(np.abs(cs - central.value) <= bound)
    if not smooth.any():
        return False, "not used (no smooth probe point)"
    if bad.any():
        x0 = float(xe[idx][np.argmax(bad)])
        return False, f"not complex-safe (disagrees with central differences at x={_g(x0)})"
    return True, "complex step used"


def _complex_step(
    f: Callable, x: Array, idx: Array | None, fixed_shape: bool, cs_step: float
) -> tuple[Array | None, Array]:
    """Im f(x + iη)/η and Re f(x + iη) at x[idx]; (None, ...) when f returns a real array.

    With ``fixed_shape`` f always sees all N points (the others shifted by 0j).
    """
    cdtype = np.complex64 if x.dtype == np.float32 else np.complex128
    xs = x if idx is None else x[idx]
    eta = np.float64(cs_step) * np.maximum(np.abs(xs), 1.0)
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
        v = (err > bound).view(np.int8)  # MISMATCH = 1, PASS = 0
        v |= np.isnan(err).view(np.int8)
    if not np.isfinite(est_value).all():
        v[~np.isfinite(est_value) & ~np.isfinite(analytic)] = SKIPPED
    return v


def _try_complex_step(
    xdir: _XDirection,
    geo: _Geometry,
    h: Array,
    x64: Array,
    eps: float,
    tol: Tolerances,
    complex_step: bool | None,
) -> tuple[bool, str]:
    """Decide on a few clean points whether f is complex-safe (``complex_step`` None)."""
    if complex_step is False:
        return False, "off"
    use_cs, note = False, "off"
    ax = np.abs(x64)
    # ordinary points: away from 0 (where kinks like to sit) and from overflow
    clean = geo.central() & np.isfinite(x64) & (ax >= tol.cs_probe_low) & (ax <= tol.cs_probe_high)
    probe = _probe_indices(clean, tol.cs_probes)
    if probe.size:
        central = _estimate(xdir, _CENTRAL, h, probe, x64, eps, tol)
        use_cs, note = _complex_probe(xdir.f, xdir.xe, probe, central, tol, eps, xdir.fixed_shape)
    if complex_step and not use_cs:
        raise ValueError(f"complex_step=True but f is {note}")
    return use_cs, note


def _complex_estimate(
    xdir: _XDirection, lever: Array, eps: float, tol: Tolerances
) -> _Estimate | None:
    """Im f(x + iη)/η at every point with its error (no truncation); None if f returns reals."""
    with np.errstate(all="ignore"):
        cs, fre = _complex_step(xdir.f, xdir.xe, None, xdir.fixed_shape, tol.cs_step)
    if cs is None:
        return None
    fabs = np.abs(fre)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = np.abs(cs) + fabs / lever
        noise = tol.cs_ulps * (eps * scale + _FLOOR[eps])
    return _Estimate(cs, np.zeros(cs.size), noise, fabs)


def _own_sides(xdir: _XDirection, geo: _Geometry, x64: Array, eps: float, tol: Tolerances):
    """Points closer to a declared kink than the central stencil: their own side's estimate."""
    for idx, scheme, steps, code in (
        (geo.own_left, _LEFT, geo.h_left, LEFT),
        (geo.own_right, _RIGHT, geo.h_right, RIGHT),
    ):
        if idx.size:
            yield idx, code, _estimate(xdir, scheme, steps, idx, x64, eps, tol)


# An ElementwiseResult's per-point arrays and their dtypes (what ``out=`` may hold)
PER_POINT: dict[str, Any] = {
    "x": np.float64, "analytic": np.float64, "numerical": np.float64,
    "bound": np.float64, "method": np.int8, "verdict": np.int8,
}  # fmt: skip


class _Outputs:
    """Where a check's per-point arrays go: the caller's ``out`` arrays when it gives them
    (a block of a bigger result: no copy afterwards), new ones otherwise."""

    def __init__(self, out: Mapping[str, Array] | None, n: int):
        self.out = dict(out or {})
        self.n = n
        for key, a in self.out.items():
            if key not in PER_POINT or a.shape != (n,) or a.dtype != PER_POINT[key]:
                raise ValueError(f"out[{key!r}] must be a {PER_POINT.get(key)} array of {n}")

    def array(self, key: str) -> Array:
        """The array for field ``key``, to be written."""
        return self.out[key] if key in self.out else np.empty(self.n, PER_POINT[key])

    def filled(self, key: str, values: Array) -> Array:
        """``values`` as field ``key`` (float64 for floats): copied into ``out[key]`` if given."""
        if key in self.out:
            np.copyto(self.out[key], values, casting="unsafe")
            return self.out[key]
        return values.astype(PER_POINT[key], copy=False)

    def judged(self) -> tuple[Array, Array, Array]:
        """The arrays (numerical, bound, verdict) to write into."""
        return self.array("numerical"), self.array("bound"), self.array("verdict")


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
    safety: float | None = None,
    complex_step: bool | None = None,
    fixed_shape: bool = False,
    tolerances: Overrides = None,
    out: Mapping[str, Array] | None = None,
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
        step: relative step (default: the dtype's ``tolerances`` row, ε^{1/3}).
        safety: factor on the estimated numerical error (default: the row's, 4).
        complex_step: True/False to force, None to detect.
        fixed_shape: always call f with N points (pads subsets). Otherwise f takes the
            points in pieces of at most ``BLOCK`` (and a kink's few points on their own).
        tolerances: overrides of the error model (``actcheck.tolerances``), a dict
            such as ``{"safety": 8}`` merged over the dtype's row, or a whole row.
        out: arrays of N elements to write per-point results into (any of the result's
            fields "x", "analytic", "numerical", "bound", "method", "verdict"); the result
            then holds them.

    Returns:
        ElementwiseResult with per-point arrays, kink reports and ``passed``.
    """
    xe, dt = _as_points(x, dtype)
    tol = merged(dt, tolerances, step=step, safety=safety)
    eps = _eps(dt)
    x64 = xe.astype(np.float64, copy=False)
    lever = np.abs(x64)
    at_least(lever, tol.step_floor, out=lever)
    h = _pow2_floor(lever * tol.step)
    barriers, delta = _barriers(kinks, dt, tol.kink_ulps)
    geo = _geometry(x64, h, barriers, delta, tol)
    xdir = _XDirection(f, xe, fixed_shape)
    # complex step: decided on a few clean points, then used everywhere (kink neighbours and
    # failing points are redone below with real differences)
    use_cs, note = _try_complex_step(xdir, geo, h, x64, eps, tol, complex_step)
    with np.errstate(all="ignore"):
        analytic = np.asarray(df(xe))
    if analytic.shape != xe.shape:
        raise ValueError(f"df returned shape {analytic.shape} for input of shape {xe.shape}")
    put = _Outputs(out, x64.size)
    x64, analytic = put.filled("x", x64), put.filled("analytic", analytic)
    main = _complex_estimate(xdir, lever, eps, tol) if use_cs else None
    if main is not None:
        value = put.filled("numerical", main.value)
        bound, verdict, suspect = _judge_all(main, analytic, lever, eps, tol)
        bound, verdict = put.filled("bound", bound), put.filled("verdict", verdict)
    else:
        if use_cs:
            use_cs, note = False, "not complex-safe (returns a real array)"
        # the bend finds kinks sitting right at a stencil's centre: only needed when unknown
        where = put.judged()
        judged = _central_judged(xdir, h, lever, analytic, eps, tol, kinks is None, where)
        value, bound, verdict, suspect = judged
    method = put.array("method")
    method[...] = COMPLEX if use_cs else CENTRAL
    for idx, code, est in _own_sides(xdir, geo, x64, eps, tol):
        b, v, s = _judge_all(est, analytic[idx], lever[idx], eps, tol)
        value[idx], bound[idx], verdict[idx], suspect[idx] = est.value, b, v, s
        method[idx] = code
    verdict[geo.kink] = KINK
    suspect[geo.kink] = True  # looked at again with the suspects (float32: most points)
    sides_idx = np.flatnonzero(suspect)
    reports: list[KinkReport] = []
    if sides_idx.size:
        ctx = _Sides(xdir, geo, h, x64, x64, eps, tol, kinks, barriers, order)
        reports = ctx.resolve(sides_idx, analytic, value, bound, verdict, method)
    moved = np.concatenate((geo.own_left, geo.own_right))
    counts = _sparse_counts(verdict, method, sides_idx, COMPLEX if use_cs else CENTRAL, moved)
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
        step=tol.step,
        tolerances=tol,
        counts=counts,
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
    tol: Tolerances
    kinks: Sequence[Any] | None
    barriers: Array
    order: int

    def _rough(self, est: _Estimate, idx: Array) -> Array:
        """Truncation (or bend) beyond what round-off explains: f is not smooth in the stencil."""
        tol = self.tol
        lever = np.maximum(np.abs(self.lever[idx]), tol.step_floor)
        with np.errstate(invalid="ignore", over="ignore"):
            scale = np.abs(est.value) + est.fabs / lever
            rough = est.trunc > np.maximum(tol.suspect_rel * scale, tol.safety * est.noise)
            if est.bend is not None:
                rough |= est.bend > tol.suspect_bend * tol.step * scale + est.noise
        return rough | ~np.isfinite(est.value)

    def _bound(self, est: _Estimate, idx: Array) -> Array:
        lever = self.lever[idx]
        return est.total(self.tol.safety) + _allowance(
            est.value, est.fabs, lever, self.eps, self.tol
        )

    def _side(self, idx: Array, declared: Array, open_: tuple, closed: tuple, hs: Array):
        """Open formula at declared kinks, closed elsewhere; NaN where a barrier is too close."""
        est = _Estimate(*(np.full(idx.size, np.nan) for _ in range(4)))
        for mask, scheme, steps in ((declared, open_, hs), (~declared, closed, self.h)):
            sub = idx[mask]
            if sub.size:
                e = _estimate(self.direction, scheme, steps, sub, self.lever, self.eps, self.tol)
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
        declared = geo.is_kink(idx)
        left = self._side(idx, declared, _LEFT, _LEFT_CLOSED, geo.h_left)
        right = self._side(idx, declared, _RIGHT, _RIGHT_CLOSED, geo.h_right)
        bl, br = self._bound(left, idx), self._bound(right, idx)
        clean = geo.is_central(idx)
        cv, cb = np.full(idx.size, np.nan), np.full(idx.size, np.inf)
        fv, fb = np.full(idx.size, np.nan), np.full(idx.size, np.inf)
        c_rough, f_rough = np.ones(idx.size, bool), np.ones(idx.size, bool)
        if clean.any():
            ci = idx[clean]
            central = _estimate(d, _CENTRAL, self.h, ci, self.lever, self.eps, self.tol)
            cv[clean], cb[clean] = central.value, self._bound(central, ci)
            c_rough[clean] = self._rough(central, ci)
            # a function sharper than the step assumes (softplus with beta=200 in float32)
            # gets a truthful bound from a smaller step
            fine = _estimate(
                d, _CENTRAL, self.h / self.tol.refine, ci, self.lever, self.eps, self.tol
            )
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
            own = np.min(np.where(trusted, cand_b, np.inf), axis=0) / self.tol.safety
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
        gap = self.tol.kink_report_gap
        for j in _cluster_heads(np.flatnonzero(detected), xs, gap * self.h[idx], gaps):
            reports.append(_report(j, a, left, right, bl, br, xs, self.order, False, None, True))
        return reports


def _report(j, a, left, right, bl, br, xs, order, declared, want, sides_ok) -> KinkReport:
    lv, rv = float(left.value[j]), float(right.value[j])
    av = float(a[j])
    if want is None:
        convention = _convention(av, lv, rv, max(float(bl[j]), float(br[j])))
    else:
        convention = _declared_convention(av, want)
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
        convention=convention,
    )


@functools.lru_cache(maxsize=256)  # a kink's points share a few values: each named once
def _declared_convention(a: float, want: tuple[float, float]) -> str:
    """Name the convention from the declared one-sided values, compared in a's own precision."""
    left, right = want
    with np.errstate(over="ignore"):  # past float32's range a is not a float32 value: inf != a
        d32 = float(np.float32(a)) == a
    dt = np.dtype(np.float32 if d32 else np.float64)
    bound = TOLERANCES[dt.name].analytic_ulps * _eps(dt) * max(abs(left), abs(right), 1e-300)
    is_left, is_right = abs(a - left) <= bound, abs(a - right) <= bound
    if is_left and is_right:
        return "both one-sided derivatives, equal at this precision"
    if is_left:
        return "the left derivative"
    if is_right:
        return "the right derivative"
    return _convention(a, left, right, bound)


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


def _cluster_heads(j: Array, xs: Array, reach: Array, gap: Array) -> list[int]:
    """One representative per group of detected kink points within ``reach`` of each other."""
    if j.size == 0:
        return []
    order = j[np.argsort(xs[j], kind="stable")]
    groups, group = [], [order[0]]
    for a, b in itertools.pairwise(order):
        if xs[b] - xs[a] <= max(reach[a], reach[b]):
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
    safety: float | None = None,
    tolerances: Overrides = None,
    out: Mapping[str, Array] | None = None,
    shifted_at: Callable[[float, Array], Any] | None = None,
) -> ElementwiseResult:
    """Check d f(x; θ)/dθ at every point x, for a scalar θ.

    ``shifted(δ)`` returns f(x; θ+δ) at all N points (one vectorised call per
    δ); ``shifted_at(δ, idx)``, when given, the same at the points ``x[idx]`` only
    (f elementwise: kinks then cost their own points, not N evaluations per one-sided
    step); ``analytic`` is the claimed df/dθ at the N points; ``scale`` is |θ|
    (the step is step·max(|θ|, step_floor), a power of two). Kinks in θ (a clamp
    reaching x) are unknown and detected as in ``check_elementwise``, with the
    same error model (``step``, ``safety``, ``tolerances`` and ``out`` as there).
    """
    xe, dt = _as_points(x, dtype)
    tol = merged(dt, tolerances, step=step, safety=safety)
    eps = _eps(dt)
    x64 = xe.astype(np.float64, copy=False)
    n = x64.size
    lever = max(abs(scale), tol.step_floor)
    hs = float(_pow2_below(np.array(tol.step * lever)))
    sdir = _ShiftDirection(shifted, shifted_at, n)
    put = _Outputs(out, n)
    x64 = put.filled("x", x64)
    a = put.filled("analytic", np.asarray(analytic, dtype=np.float64).ravel())
    judged = _direction_judged(sdir, hs, lever, a, eps, tol, put.judged())
    value, bound, verdict, suspect = judged
    method = put.array("method")
    method[...] = CENTRAL
    idx = np.flatnonzero(suspect)
    reports: list[KinkReport] = []
    if idx.size:
        # the noise model scales with |x·f'|; along θ the lever is |θ| rather than |x|
        h, theta = np.full(n, hs), np.full(n, lever)
        geo = _geometry(theta, h, np.empty(0), np.empty(0))
        ctx = _Sides(sdir, geo, h, theta, x64, eps, tol, None, np.empty(0), 1)
        reports = ctx.resolve(idx, a, value, bound, verdict, method)
    counts = _sparse_counts(verdict, method, idx, CENTRAL, np.empty(0, np.intp))
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
        tolerances=tol,
        counts=counts,
    )


def _direction_judged(
    sdir: _ShiftDirection,
    hs: float,
    lever: float,
    analytic: Array,
    eps: float,
    tol: Tolerances,
    out: tuple[Array, Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array]:
    """``_central_judged`` along θ: one step for every point (scalars for h and the
    lever), and the analytic allowance takes max(|θ|, 1)."""
    # the stencil is four calls of f at θ ± h, θ ± h/2
    values = sdir.stencil(_CENTRAL, np.full(1, hs), None)
    allow = max(lever, 1.0)
    allow = lever if allow == lever else allow
    return _judged_blocks(values, hs, lever, allow, analytic, eps, tol, False, out)


def richardson_central(
    f: Callable[[Array], Any],
    x: Any,
    *,
    dtype: Any = None,
    kinks: Sequence[Any] | None = None,
    tolerances: Overrides = None,
) -> Array:
    """Just the numerical derivative of ``f`` at every point of ``x``, no verdicts.

    Central differences + Richardson, R = D(h/2) + (D(h/2) - D(h))/3, with the
    engine's steps. With ``kinks`` (positions, or objects with ``.x``) no stencil
    crosses one: points closer than their stencil use their own side's one-sided
    formula, and points at a kink get NaN (no single derivative exists there).
    """
    xe, dt = _as_points(x, dtype)
    tol = merged(dt, tolerances)
    eps = _eps(dt)
    x64 = xe.astype(np.float64)
    h = _steps(x64, tol)
    xdir = _XDirection(f, xe, False)
    value = _estimate(xdir, _CENTRAL, h, None, x64, eps, tol).value
    if kinks:
        geo = _geometry(x64, h, *_barriers(kinks, dt, tol.kink_ulps), tol)
        for idx, _, est in _own_sides(xdir, geo, x64, eps, tol):
            value[idx] = est.value
        value[geo.kink] = np.nan
    return value


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
    "PASS",
    "RIGHT",
    "SKIPPED",
    "VERDICTS",
    "Directional",
    "ElementwiseResult",
    "KinkReport",
    "Stats",
    "WorstPoint",
    "central_along",
    "check_direction",
    "check_elementwise",
    "merge_results",
    "pow2_scale",
    "reduce_result",
    "richardson_central",
]
