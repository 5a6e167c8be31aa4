"""The numbers behind ``actcheck plot``: sample grids, curves, kink markers, numerical checks.

numpy only (no matplotlib): ``plotting.py`` draws what this module computes, and
the tests check these arrays directly.

* The sample grid is uniform plus, at every kink, the kink itself and points a few
  ulps either side, so a jump in a derivative is drawn as a jump, never as a steep
  slope. Curves whose value jumps at a kink are split there by a NaN, which
  matplotlib draws as a gap.
* Numerical derivatives are a Richardson-extrapolated central difference,
      D(h) = (g(x+h) - g(x-h)) / 2h,   R = (4 D(h/2) - D(h)) / 3   (error O(h⁴)),
  switching to the one-sided second-order form
      R₊ = (4 g(x+h/2) - 3 g(x) - g(x+h)) / h
  (stepping away from the kink) wherever the central stencil would straddle one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from actcheck import defaults
from actcheck.activations import Activation, Kink
from actcheck.numdiff import richardson_central
from actcheck.tolerances import TOLERANCES

# ---------------------------------------------------------------------------
# Constants (one place)
# ---------------------------------------------------------------------------

DEFAULT_SAMPLES = defaults.SAMPLES
MIN_SAMPLES = defaults.MIN_SAMPLES
MAX_SAMPLES = defaults.MAX_SAMPLES
DEFAULT_MARKERS = 17
# Automatic x range: this window, widened to show every kink within _KINK_REACH of 0
# (ReLU6's kink at 6 is shown; softplus's threshold switch at 20, a 2e-9 jump, is not).
BASE_RANGE = (-4.0, 4.0)
_KINK_REACH = 10.0
_KINK_MARGIN = 1.5
# Points this many ulps (of max(|x|, 1)) either side of a kink sit on its two branches: twice
# the distance within which the engine counts a point as at the kink (its branch may flip).
_BRANCH_ULPS = 2 * TOLERANCES["float64"].kink_ulps
# A segment of f spanning less than this fraction of its panel's y range looks flat:
# it gets a zoomed inset (LeakyReLU(0.01) must not read as ReLU).
ZOOM_FRACTION = 0.05
_Y_PAD = 0.08
# |f(±_FAR)| finite and below _LIMIT_MAX: f has a horizontal asymptote / limit there.
_FAR = 1.0e15
_LIMIT_MAX = 1.0e3
_LIMIT_DIGITS = 9
_BAND_SAMPLES = 64
_SAME_RTOL = 1e-9


# ---------------------------------------------------------------------------
# Plain data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Curve:
    """One drawn curve of order 0 (f), 1 (f') or 2 (f''); NaN in ``y`` breaks the line."""

    order: int
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class KinkMarker:
    """Where a curve of ``order`` jumps at ``x``: one-sided limits and the value used."""

    x: float
    order: int
    left: float
    right: float
    value: float
    text: str


@dataclass(frozen=True)
class Markers:
    """Numerical derivative of order ``order`` (1 or 2) at ``x``, from the order-1 curve below."""

    order: int
    x: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Band:
    """Training-mode spread (RReLU): f between ``low`` and ``high``; f' in ``[dlow, dhigh]``."""

    x: np.ndarray
    low: np.ndarray
    high: np.ndarray
    dlow: np.ndarray
    dhigh: np.ndarray


@dataclass(frozen=True)
class Zoom:
    """An inset window on a nearly flat stretch of f."""

    x0: float
    x1: float
    y0: float
    y1: float


@dataclass(frozen=True)
class CurveData:
    """Everything one activation contributes to a panel."""

    act: Activation
    x_range: tuple[float, float]
    curves: dict[int, Curve]
    markers: dict[int, Markers] = field(default_factory=dict)
    kinks: tuple[KinkMarker, ...] = ()
    asymptotes: tuple[float, ...] = ()
    band: Band | None = None


# ---------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------


def kinks_in(act: Activation, lo: float, hi: float) -> tuple[Kink, ...]:
    """The activation's kinks with lo <= x <= hi."""
    return tuple(k for k in act.kinks if lo <= k.x <= hi)


def kink_delta(x: float) -> float:
    """A step of a few ulps at x: f(x ± delta) lies on the branch either side."""
    return _BRANCH_ULPS * float(np.spacing(max(abs(x), 1.0)))


def auto_range(acts: Sequence[Activation]) -> tuple[float, float]:
    """BASE_RANGE, widened to show every kink within _KINK_REACH of the origin."""
    lo, hi = BASE_RANGE
    for act in acts:
        for k in act.kinks:
            if abs(k.x) <= _KINK_REACH:
                lo, hi = min(lo, k.x - _KINK_MARGIN), max(hi, k.x + _KINK_MARGIN)
    return float(math.floor(lo)), float(math.ceil(hi))


def sample_grid(
    act: Activation, lo: float, hi: float, samples: int = DEFAULT_SAMPLES
) -> np.ndarray:
    """``samples`` uniform points on [lo, hi] plus each kink and its two ulp-neighbours."""
    base = np.linspace(lo, hi, samples)
    extra = []
    for k in kinks_in(act, lo, hi):
        d = kink_delta(k.x)
        extra += [k.x - d, k.x, k.x + d]
    x = np.unique(np.concatenate([base, np.asarray(extra, dtype=float)]))
    return x[(x >= lo) & (x <= hi)]


def _breaks(act: Activation, order: int, lo: float, hi: float) -> list[float]:
    """Kink positions where the order-``order`` curve jumps (f only where f itself jumps)."""
    out = []
    for k in kinks_in(act, lo, hi):
        if (order == 0 and k.jump) or (order >= 1 and order >= k.order):
            out.append(k.x)
    return out


def _evaluate(act: Activation, order: int, x: np.ndarray) -> np.ndarray:
    fn = (act.forward, act.derivative, act.second_derivative)[order]
    return np.asarray(fn(x), dtype=float)


def curve(act: Activation, order: int, x: np.ndarray) -> Curve:
    """The order-``order`` curve on grid ``x``, broken at each kink where it jumps.

    The grid holds each kink with a neighbour an ulp or so either side; where the
    curve jumps, its value at the kink itself becomes NaN (matplotlib leaves a gap
    there) and the kink markers show the value used.
    """
    y = _evaluate(act, order, x)
    for b in _breaks(act, order, float(x[0]), float(x[-1])):
        y[x == b] = np.nan
    return Curve(order, x, y)


# ---------------------------------------------------------------------------
# Kink markers
# ---------------------------------------------------------------------------


_PRIMES = ("", "′", "″")


def kink_markers(act: Activation, orders: Sequence[int], lo: float, hi: float) -> list[KinkMarker]:
    """Open/filled circle data for each drawn curve that jumps at a kink in [lo, hi].

    A curve of the kink's own order uses the catalog's one-sided limits and value;
    a higher-order curve (f'' at an order-1 kink) is evaluated just either side,
    and marked only where its sides differ. f gets markers only where it jumps.
    """
    out = []
    for k in kinks_in(act, lo, hi):
        for order in orders:
            if order == k.order:
                left, right, value = k.left, k.right, k.value
            elif (order > k.order) or (order == 0 and k.jump):
                d = kink_delta(k.x)
                left, right, value = (
                    float(_evaluate(act, order, np.array([v]))[0]) for v in (k.x - d, k.x + d, k.x)
                )
                if left == right:
                    continue
            else:
                continue
            text = f"{act.name}{_PRIMES[order] if order < 3 else ''}({_num(k.x)}) = {_num(value)}"
            out.append(KinkMarker(k.x, order, left, right, value, text))
    return out


def _num(v: float) -> str:
    return f"{v:.4g}"


# ---------------------------------------------------------------------------
# Numerical derivatives
# ---------------------------------------------------------------------------


def numerical_derivative(g, x: np.ndarray, barriers: Sequence[float] = ()) -> np.ndarray:
    """The engine's numerical derivative of ``g`` (elementwise on arrays) at every ``x``.

    Richardson central differences (``numdiff.richardson_central``, the error model of
    ``actcheck.tolerances``); ``barriers`` are points where g or its derivative jumps: no
    stencil crosses one, and a point on one gets NaN (no derivative exists there).
    """
    return richardson_central(g, np.asarray(x, dtype=float), kinks=list(barriers))


def numerical_markers(act: Activation, order: int, lo: float, hi: float, count: int) -> Markers:
    """Numerical f' (from f) or f'' (from f') at ``count`` evenly spaced points.

    Points on a kink are dropped: the kink markers show what happens there.
    """
    xs = np.linspace(lo, hi, count)
    below = order - 1
    barriers = [k.x for k in act.kinks]
    ys = numerical_derivative(lambda v: _evaluate(act, below, v), xs, barriers)
    keep = ~np.isnan(ys)
    return Markers(order, xs[keep], ys[keep])


# ---------------------------------------------------------------------------
# Asymptotes, bands, limits, zoom
# ---------------------------------------------------------------------------


def asymptotes(act: Activation) -> tuple[float, ...]:
    """Finite non-zero limits of f at ±∞ (sigmoid's 1, tanh's ±1, ELU's -α)."""
    ends = _evaluate(act, 0, np.array([-_FAR, _FAR]))
    # softsign(1e15) is 1 - 1e-15: rounding recovers the limit itself
    limits = {float(f"{v:.{_LIMIT_DIGITS}g}") for v in ends if np.isfinite(v)}
    return tuple(sorted(v for v in limits if 0 < abs(v) < _LIMIT_MAX))


def training_band(act: Activation, x: np.ndarray) -> Band | None:
    """The spread of f and f' over training-mode randomness (RReLU's slopes), or None.

    With ``lower``/``upper`` parameters the band is exact (the activation with its
    slope pinned to each bound); otherwise it is the envelope of sampled runs.
    """
    if not act.stochastic:
        return None
    x = np.asarray(x, dtype=float)
    if {"lower", "upper"} <= act.params.keys():
        lo_act = act.with_params(upper=act.params["lower"])
        hi_act = act.with_params(lower=act.params["upper"])
        ys = [lo_act.forward(x), hi_act.forward(x)]
        ds = [lo_act.derivative(x), hi_act.derivative(x)]
    else:
        rng = np.random.default_rng(0)
        runs = [act.train_forward(x, rng) for _ in range(_BAND_SAMPLES)]
        ys = [r[0] for r in runs]
        ds = [r[1] for r in runs]
    return Band(
        x,
        np.minimum.reduce(ys),
        np.maximum.reduce(ys),
        np.minimum.reduce(ds),
        np.maximum.reduce(ds),
    )


def curve_data(
    act: Activation,
    x_range: tuple[float, float],
    orders: Sequence[int] = (0, 1),
    *,
    samples: int = DEFAULT_SAMPLES,
    numerical: bool = True,
    markers: int = DEFAULT_MARKERS,
) -> CurveData:
    """All the arrays one activation needs in a panel over ``x_range``."""
    lo, hi = x_range
    x = sample_grid(act, lo, hi, samples)
    curves = {o: curve(act, o, x) for o in orders}
    num = {o: numerical_markers(act, o, lo, hi, markers) for o in orders if numerical and o >= 1}
    return CurveData(
        act=act,
        x_range=(lo, hi),
        curves=curves,
        markers=num,
        kinks=tuple(kink_markers(act, orders, lo, hi)),
        asymptotes=asymptotes(act) if 0 in orders else (),
        band=training_band(act, x) if 0 in orders else None,
    )


def y_limits(datas: Sequence[CurveData], pad: float = _Y_PAD) -> tuple[float, float]:
    """A y range holding every curve, marker and band of a panel, and 0 (axes cross there)."""
    vals = [np.zeros(1)]
    for d in datas:
        vals += [c.y for c in d.curves.values()]
        vals += [m.y for m in d.markers.values()]
        vals += [np.array([k.left, k.right, k.value]) for k in d.kinks]
        if d.band is not None:
            vals += [d.band.low, d.band.high]
    v = np.concatenate([np.ravel(a) for a in vals])
    v = v[np.isfinite(v)]
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    return lo - pad * span, hi + pad * span


def zoom_window(datas: Sequence[CurveData], limits: tuple[float, float]) -> Zoom | None:
    """An inset on the flattest non-constant stretch of f between kinks, if it looks flat.

    A stretch is "flat-looking" when f spans less than ZOOM_FRACTION of the panel's
    y range there but is not constant (LeakyReLU(0.01) for x < 0; not ReLU).
    """
    panel = limits[1] - limits[0]
    best: tuple[float, Zoom] | None = None
    for d in datas:
        c = d.curves.get(0)
        if c is None:
            continue
        edges = [d.x_range[0], *(k.x for k in kinks_in(d.act, *d.x_range) if k.order == 1)]
        edges.append(d.x_range[1])
        for a, b in itertools.pairwise(edges):
            inside = (c.x >= a) & (c.x <= b) & np.isfinite(c.y)
            if inside.sum() < 2:
                continue
            y = c.y[inside]
            span = float(y.max() - y.min())
            if 0 < span < ZOOM_FRACTION * panel and (best is None or span < best[0]):
                pad = _Y_PAD * span
                best = (span, Zoom(a, b, float(y.min()) - pad, float(y.max()) + pad))
    return None if best is None else best[1]


# Candidate corners for an inset or legend, in axes fractions (x0, y0, x1, y1),
# in order of preference when equally empty.
CORNERS = {
    "upper left": (0.0, 0.5, 0.5, 1.0),
    "lower right": (0.5, 0.0, 1.0, 0.5),
    "upper right": (0.5, 0.5, 1.0, 1.0),
    "lower left": (0.0, 0.0, 0.5, 0.5),
}


def emptiest_corners(
    datas: Sequence[CurveData], x_range: tuple[float, float], y_range: tuple[float, float]
) -> list[str]:
    """Corner names of a panel, emptiest first (fewest curve points and markers inside)."""
    pts = []
    for d in datas:
        for c in d.curves.values():
            pts.append(np.column_stack([c.x, c.y]))
        for m in d.markers.values():
            pts.append(np.column_stack([m.x, m.y]))
        if d.band is not None:
            pts.append(np.column_stack([d.band.x, 0.5 * (d.band.low + d.band.high)]))
    xy = np.concatenate(pts) if pts else np.empty((0, 2))
    u = (xy[:, 0] - x_range[0]) / (x_range[1] - x_range[0])
    v = (xy[:, 1] - y_range[0]) / (y_range[1] - y_range[0])
    counts = {
        name: int(np.count_nonzero((u >= x0) & (u <= x1) & (v >= y0) & (v <= y1)))
        for name, (x0, y0, x1, y1) in CORNERS.items()
    }
    return sorted(CORNERS, key=lambda name: counts[name])  # stable: ties keep preference


def kink_caption(kinks: Sequence[KinkMarker]) -> list[str]:
    """Lines naming the value used at each kink, one line per curve order.

    E.g. ``["f′(0) = 0.01 (left)"]``; "(left)"/"(right)"/"(mean)" says which
    one-sided limit the value is.
    """
    lines: dict[int, list[str]] = {}
    for k in kinks:
        # limits evaluated a few ulps from the kink match the value only to rounding
        if _same(k.value, k.left):
            side = " (left)"
        elif _same(k.value, k.right):
            side = " (right)"
        elif _same(k.value, 0.5 * (k.left + k.right)):
            side = " (mean)"
        else:
            side = ""
        prime = _PRIMES[k.order] if k.order < len(_PRIMES) else f"^{k.order}"
        lines.setdefault(k.order, []).append(f"f{prime}({_num(k.x)}) = {_num(k.value)}{side}")
    return [", ".join(parts) for _, parts in sorted(lines.items())]


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_SAME_RTOL, abs_tol=_SAME_RTOL)
