"""The layer under test, as probed: inputs, the frozen description, calls through it.

``Subject`` is computed once, after the contract detectors passed (forward and
backward return arrays of the right shape), and passed to every later check.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from actcheck.implcheck.limits import ELEMENTWISE_ULPS, GRID_LIMIT, PROBE_BATCHES
from actcheck.userimpl import Layer, ParamRef, UserCodeError

Array = np.ndarray


@dataclass(frozen=True)
class Subject:
    """What was probed about the user's layer; nothing here changes during a run."""

    layer: Layer
    dtype: np.dtype  # the checked dtype
    x: Array  # the first probe batch (the user's shape)
    y: Array  # forward(x)
    dout: Array  # the random signed upstream gradient used for the parameters
    num_dtype: np.dtype  # the numerical side runs here: float64 where the code has a version
    elementwise: bool  # changing x[j] changes only y[j]
    params: tuple[ParamRef, ...]  # learnable parameters, confirmed by perturbation
    linear_bug: str | None  # backward is not linear in dout: derivative errors follow from it
    x_range: tuple[float, float] | None = None  # --range: probe only here (else the default grid)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.x.shape

    @property
    def eps(self) -> float:
        return float(np.finfo(self.dtype).eps)

    def forward_num(self, x: Array) -> Array:
        """The forward used by the numerical side (in ``num_dtype``), as float64."""
        return np.asarray(self.layer.forward(x.astype(self.num_dtype)), dtype=np.float64)

    def dx(self, x: Array, dout: Array) -> Array | None:
        return backward_dx(self.layer, x, dout)


def backward_dx(layer: Layer, x: Array, dout: Array) -> Array | None:
    """backward's dx as float64; None when its shape changed between calls (fatal)."""
    r = layer.vjp(x, dout)
    if not isinstance(r.dx, np.ndarray) or r.dx.shape != x.shape:
        return None
    return r.dx.astype(np.float64)


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

_SPECIAL = (0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 6.0, -6.0, 0.5, -0.5, 1e-30, -1e-30)
_SPECIAL_TAIL = (1e-3, -1e-3, 20.0, -20.0, 40.0, -40.0)


def probe_points(
    n: int,
    dtype: np.dtype,
    rng: np.random.Generator,
    batch: int,
    x_range: tuple[float, float] | None = None,
) -> Array:
    """Probe inputs for one batch of n values.

    Batch 0: zeros (the usual kink), small integers and values a few ulps and
    1e-30 away from 0, then a realistic mixture (N(0,1), N(0,3), U(-10,10));
    later batches: an exact grid over [-GRID_LIMIT, GRID_LIMIT] interleaved
    with uniform samples, so a bug confined to a narrow interval is hit.
    ``x_range`` (``--range``): the special values inside it, then the grid
    and the uniform samples over it, and nothing outside.
    """
    tiny = np.finfo(dtype).tiny
    lo, hi = x_range if x_range is not None else (-GRID_LIMIT, GRID_LIMIT)
    if batch == 0:
        special = np.array([*_SPECIAL, tiny, -tiny, *_SPECIAL_TAIL], dtype=np.float64)
        if x_range is None:
            k = n // 3
            mix = np.concatenate([rng.normal(0, 1, k), rng.normal(0, 3, k), rng.uniform(lo, hi, n)])
        else:
            special = special[(special >= lo) & (special <= hi)]
            mix = rng.uniform(lo, hi, n)
        x = np.concatenate([special[:n], mix])[:n]
    else:
        m = n * (PROBE_BATCHES - 1)
        step = (hi - lo) / m
        grid = lo + step * np.arange(m)
        mine = grid[batch - 1 :: PROBE_BATCHES - 1][:n]
        x = np.where(rng.random(mine.size) < 0.25, rng.uniform(lo, hi, mine.size), mine)
        x = np.round(x, 6)  # grid values like 2.1 are then the nearest doubles to them
    x = x.astype(dtype)
    perm = rng.permutation(n)
    return x[perm]


def random_dout(shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator) -> Array:
    """Random signed upstream gradient with |dout| in [0.5, 2): dividing by it stays exact.

    A scalar output (a loss) gets dout = 1: it is the last layer.
    """
    if shape == ():
        return np.asarray(1.0, dtype=dtype)
    mag = rng.uniform(0.5, 2.0, shape)
    sign = rng.choice([-1.0, 1.0], shape)
    return (mag * sign).astype(dtype)


def same(a: Array, b: Array) -> Array:
    """Elementwise bitwise-equal, NaN equal to NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def index(shape: tuple[int, ...], flat: int) -> str:
    """A flat index as ``[i,j]``."""
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


# ---------------------------------------------------------------------------
# Describing the layer (each piece computed once, before the derivative checks)
# ---------------------------------------------------------------------------


def numeric_dtype(layer: Layer, x: Array, y: Array, dtype: np.dtype) -> np.dtype:
    """Differentiate the float64 version of the user's forward when it has one."""
    if dtype == np.float64:
        return dtype
    try:
        y64 = layer.forward(x.astype(np.float64))
    except UserCodeError:
        return dtype
    if isinstance(y64, np.ndarray) and y64.dtype == np.float64 and y64.shape == y.shape:
        return np.dtype(np.float64)
    return dtype


def is_elementwise(
    layer: Layer, x: Array, y: Array, dtype: np.dtype, rng: np.random.Generator
) -> bool:
    """Changing x[j] by a signed random amount must change only y[j]."""
    if y.shape != x.shape:
        return False
    eps = float(np.finfo(dtype).eps)
    # a second, N(0,1) input: on the first one's extreme values a softmax can look
    # elementwise to rounding
    x2 = rng.normal(0, 1, x.shape).astype(dtype)
    for xp, yp in ((x, y), (x2, layer.forward(x2))):
        mask = rng.random(xp.shape) < 0.5
        delta = rng.uniform(0.1, 1.0, xp.shape) * rng.choice([-1.0, 1.0], xp.shape)
        x1 = np.where(mask, xp + delta, xp).astype(dtype)
        y1 = layer.forward(x1)
        moved = np.abs(y1 - yp) > ELEMENTWISE_ULPS * eps * np.abs(yp)
        if (moved & ~mask).any():
            return False
    return True


def find_params(
    layer: Layer, x: Array, dout: Array, rng: np.random.Generator
) -> tuple[ParamRef, ...]:
    """The layer's learnable parameters: candidates that move the output when perturbed."""
    if not hasattr(layer, "candidate_params"):
        return tuple(layer.params)
    layer.vjp(x, dout)  # some layers create their parameters' gradients lazily
    confirmed = []
    # a copy: an output that aliases a cached array (identity, Flatten returning
    # self.x or a view of it) would otherwise move with the perturbed candidate
    y0 = np.array(layer.forward(x), copy=True)
    for p in layer.candidate_params():
        v0 = p.get().copy()
        if is_cached_input(v0, x):
            continue
        bump = rng.uniform(0.01, 0.1, v0.shape) * rng.choice([-1.0, 1.0], v0.shape)
        p.set(v0 + bump * (1 + np.abs(v0)))
        try:
            y1 = layer.forward(x)
        finally:
            p.set(v0)
        if isinstance(y1, np.ndarray) and y1.shape == y0.shape and not same(y0, y1).all():
            confirmed.append(p)
    return tuple(confirmed)


def is_cached_input(value: Array, x: Array) -> bool:
    """A candidate holding forward's input (``self.x = x``) or a reshape of it: no parameter."""
    v = np.asarray(value)
    return v.size == x.size and v.dtype == x.dtype and bool(same(v.ravel(), x.ravel()).all())


# ---------------------------------------------------------------------------
# Elementwise layers as functions of a flat array (for the per-point engine)
# ---------------------------------------------------------------------------


def flat_forward(s: Subject) -> Callable[[Array], Array]:
    """The forward on a flat array of any length, in batches of the layer's shape."""
    n = math.prod(s.shape)

    def f(v: Array) -> Array:
        real = not np.iscomplexobj(v)
        if real:
            v = v.astype(s.num_dtype)  # the float64 version of the code where it has one
        out = []
        for k in range(0, max(v.size, 1), n):
            chunk = v[k : k + n]
            pad = np.resize(chunk, n) if chunk.size != n else chunk
            out.append(np.asarray(s.layer.forward(pad.reshape(s.shape))).ravel()[: chunk.size])
        res = np.concatenate(out)[: v.size]
        return res.astype(np.float64) if real else res

    return f


def flat_derivative(s: Subject, dout: Array) -> Callable[[Array], Array]:
    """f'(x) = dx / dout, with the batch's random signed dout."""
    n = math.prod(s.shape)
    d = dout.ravel().astype(np.float64)

    def df(v: Array) -> Array:
        pad = np.resize(v, n) if v.size != n else v
        r = s.layer.vjp(pad.reshape(s.shape).astype(s.dtype), dout)
        return (np.asarray(r.dx, dtype=np.float64).ravel() / d)[: v.size]

    return df
