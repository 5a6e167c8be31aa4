"""Gradient checks of catalog activations: d/dx, d²/dx² and d/dθ at every probe point.

Built on ``actcheck.numdiff.check_elementwise`` (see its docstring for how a
point is judged; the error model's constants are in ``actcheck.tolerances``).
This module chooses the probe points, binds the catalog's kinks and parameters,
and collects the verdicts into a ``GradcheckResult``. Its ``gradcheck`` function
is ``actcheck.gradcheck``:

>>> import actcheck
>>> actcheck.gradcheck("relu").passed
True
"""

from __future__ import annotations

import dataclasses
import functools
import os
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from actcheck import defaults
from actcheck.activations import (
    HEADROOM,
    PROBE_EXTENT,
    Activation,
    ActivationError,
    Kink,
    parse_spec,
)
from actcheck.errors import GradcheckError, InputError, Interrupted
from actcheck.heap import keep_freed_memory
from actcheck.numdiff import (
    KEEP_WORST,
    PER_POINT,
    ElementwiseResult,
    KinkReport,
    check_direction,
    check_elementwise,
    merge_results,
    reduce_result,
)
from actcheck.tolerances import Overrides, Tolerances, merged

Array = np.ndarray

DEFAULT_POINTS = defaults.POINTS
DEFAULT_RANGE = defaults.RANGE
DEFAULT_SEED = defaults.SEED
GRID_POINTS = 401
BLOCK_POINTS = 1 << 18  # random points per block: checked in parallel, then merged or reduced
MIN_BLOCK_POINTS = 1 << 14  # blocks are not cut smaller than this to share them among threads
STREAM_POINTS = 1 << 22  # above this many points a check keeps statistics and its worst points
FOLD_BLOCKS = 64  # streamed: blocks' kept points and statistics are merged every this many
LOOKAHEAD_BLOCKS = 8  # blocks submitted ahead of the one collected, at least
DISTRIBUTIONS = defaults.DISTRIBUTIONS
DTYPES = defaults.DTYPES
# probes around each kink: multiples of the difference step, and the first few floats either
# side (inside the engine's at-kink zone, ``tolerances.kink_ulps``, where a branch may flip)
KINK_STEP_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)
KINK_NEIGHBOUR_FLOATS = 3
SATURATION = (8.0, 10.0, 15.0, 19.5, 20.0, 20.5, 25.0, 30.0, 40.0, 60.0, 100.0, 300.0, 700.0)
LARGE_EXPONENTS = range(3, 31)  # 1e3 .. 1e30
TINY_EXPONENTS = range(3, 31)  # 1e-3 .. 1e-30
# enough to fit a parameter stencil between clamps 1e-300 apart (2^-1074 is the end)
PARAM_STEP_HALVINGS = 1100
EXTRA_TINY = {"float64": (1e-100, 1e-300, 1e-310, 5e-324), "float32": (1e-38, 1e-40, 1e-45)}


# peak memory of one check per probe point and byte of the dtype (measured: ~250 bytes a
# float64 point for softplus with its parameter derivatives; a margin on top)
BYTES_PER_POINT_ITEM = 50


def memory_estimate(points: int, dtype: str = "float64") -> int:
    """Bytes a gradcheck of ``points`` random points holds at its peak: per point up to
    ``STREAM_POINTS``; beyond that the check streams blocks and its memory stays flat."""
    return min(int(points), STREAM_POINTS) * BYTES_PER_POINT_ITEM * np.dtype(dtype).itemsize


def check_size(points: int, dtype: str = "float64") -> None:
    """InputError, before any work, when ``points`` would need more than ``MEMORY_LIMIT``."""
    from actcheck.errors import too_big

    need = memory_estimate(points, dtype)
    if need > defaults.MEMORY_LIMIT:
        most = defaults.MEMORY_LIMIT // (BYTES_PER_POINT_ITEM * np.dtype(dtype).itemsize)
        raise too_big(f"{points:,} points", need, f"use at most {most:,} points")


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


def _g(v: float) -> str:
    return f"{v:.6g}"


@dataclass
class GradcheckResult:
    """All checks of one activation: ``checks[0]`` is d/dx (or d²/dx²), then one per parameter."""

    activation: Activation
    dtype: str
    order: int
    seed: int
    checks: list[ElementwiseResult] = field(default_factory=list)
    x_range: tuple[float, float] = DEFAULT_RANGE
    seconds: float = 0.0
    # Ctrl-C cut the check short: ``checks`` hold the blocks done before it, out of the
    # ``points_planned`` the whole run would have checked; generated points come in blocks in
    # order of x, so those are every probe point up to x = ``checked_up_to`` (None: the
    # first of the points given as ``x=``)
    interrupted: bool = False
    points_planned: int | None = None
    checked_up_to: float | None = None

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def n_points(self) -> int:
        return self.checks[0].n_points if self.checks else 0

    @property
    def n_failed(self) -> int:
        return sum(c.n_failed for c in self.checks)

    def kink_reports(self, check: ElementwiseResult) -> list[KinkReport]:
        """A check's kink reports worth showing: real slope jumps, and anything that failed."""
        seen: set[float] = set()
        out = []
        for k in check.kinks:
            if k.x in seen:
                continue
            if k.passed and k.declared and not _is_slope_jump(self.activation, k, check):
                continue
            seen.add(k.x)
            out.append(k)
        return out

    def label(self, check: ElementwiseResult) -> str:
        """``d/dx``, ``d²/dx²`` or ``d/d(alpha)``."""
        if check.wrt != "x":
            return f"d/d({check.wrt})"
        return "d/dx" if check.order == 1 else "d²/dx²"

    def summary(self) -> str:
        """One line: the verdict, and for a failure the first failing check's worst point."""
        head = (
            f"gradcheck {self.activation.spec} ({self.dtype}, {self.n_points:,} points, "
            f"seed {self.seed})"
        )
        if self.interrupted:
            head += f" interrupted after {self.coverage()}"
        if self.passed:
            return f"{head}: passed ({', '.join(self.label(c) for c in self.checks)})"
        first = next(c for c in self.checks if not c.passed)
        return f"{head}: FAILED; {first.summary(self.label(first))}"

    def coverage(self) -> str:
        """What an interrupted check covered: ``N of M points, up to x = E``."""
        text = f"{self.n_points:,} of {self.points_planned or 0:,} points"
        if self.checked_up_to is None:
            return text + " (the first of those given)"
        return text + f", up to x = {_g(self.checked_up_to)}"

    def to_dict(self, worst: int = 5) -> dict[str, Any]:
        """Every figure (NaN stays NaN here: ``actcheck.jsonout`` writes null)."""
        act = self.activation
        checks = []
        for c in self.checks:
            d = {"derivative": self.label(c), **c.to_dict(worst)}
            name = act.name if c.wrt == "x" else f"{act.name}[{c.wrt}]"
            d["kinks"] = [k.to_dict(name) for k in self.kink_reports(c)]
            del d["dtype"]
            checks.append(d)
        return {
            "activation": act.name,
            "spec": act.spec,
            "label": act.label,
            "dtype": self.dtype,
            "order": self.order,
            "seed": self.seed,
            "range": list(self.x_range),
            "points": self.n_points,
            "seconds": self.seconds,
            "passed": self.passed,
            "interrupted": self.interrupted,
            **(
                {"points_planned": self.points_planned, "checked_up_to": self.checked_up_to}
                if self.interrupted
                else {}
            ),
            "checks": checks,
        }


def _is_slope_jump(act: Activation, k: KinkReport, check: ElementwiseResult) -> bool:
    """Is there a declared kink of this check's order (or one below, for order 2) at k.x?"""
    for kink in _raw_kinks(act):
        if kink.x == k.x and (kink.order == check.order or check.order == 2):
            return True
    return False


def _raw_kinks(act: Activation) -> list[Kink]:
    """Every kink of the entry, order 2 ones included even where an order 1 kink sits."""
    return list(act.declared_kinks)


# ---------------------------------------------------------------------------
# Probe points
# ---------------------------------------------------------------------------


def probe_points(
    kinks: Sequence[float] = (),
    *,
    points: int = DEFAULT_POINTS,
    x_range: tuple[float, float] = DEFAULT_RANGE,
    distribution: str = "uniform",
    seed: int = DEFAULT_SEED,
    dtype: str = "float64",
) -> Array:
    """Sorted probe points in ``dtype``: a seeded random sample, a grid, every kink exactly
    and a few steps and ulps either side, saturation regions, large, tiny, subnormal and ±0
    (``probe_blocks`` in one array).
    """
    blocks = probe_blocks(
        kinks, points=points, x_range=x_range, distribution=distribution, seed=seed, dtype=dtype
    )
    return np.concatenate(list(blocks))


def probe_blocks(
    kinks: Sequence[float] = (),
    *,
    points: int = DEFAULT_POINTS,
    x_range: tuple[float, float] = DEFAULT_RANGE,
    distribution: str = "uniform",
    seed: int = DEFAULT_SEED,
    dtype: str = "float64",
    block: int | None = None,
) -> Iterator[Array]:
    """``probe_points`` as consecutive sorted blocks of about ``block`` random points each
    (default ``BLOCK_POINTS``), generated one at a time: memory does not grow with ``points``.
    See ``ProbeSample``.
    """
    sample = ProbeSample(kinks, points, x_range, distribution, seed, dtype, block)
    for j in range(sample.blocks):
        x = sample.block(j)
        if x.size:
            yield x


class ProbeSample:
    """The probe points, cut into blocks that any thread can make on its own.

    The random sample is jittered (stratified): the range is cut into ``points`` cells of
    equal probability and cell i holds one point, u_i = (i + U_i)/points mapped through the
    distribution's inverse CDF, with U_i the i-th uniform of the seed's PCG64 stream (a
    block jumps to its first cell with ``advance``). It comes sorted without a sort, leaves
    no gap wider than two cells (independent draws leave gaps ~log(points) cells wide),
    and is the same whatever the block size. The fixed probes are merged into their
    block; repeats (float32 rounding) are dropped, -0.0 and +0.0 both kept.
    """

    def __init__(self, kinks: Sequence[float], points: int, x_range: tuple[float, float],
                 distribution: str, seed: int, dtype: str, block: int | None):  # fmt: skip
        # the arguments of probe_blocks, which has the defaults
        _validate(points, x_range, distribution, dtype)
        check_size(points, dtype)
        self.points, self.distribution, self.seed = points, distribution, seed
        self.dtype = np.dtype(dtype)
        self.lo, self.hi = (float(v) for v in x_range)
        self.fixed = _fixed_probes(kinks, (self.lo, self.hi), self.dtype)
        size = block or BLOCK_POINTS
        self.blocks = -(-points // size)
        self.starts = self._starts(size, kinks)  # first cell of each block, then points
        most = int(np.max(np.diff(self.starts)))
        self._counting = _counting(most + 1)
        # each block's lowest possible point, with the arithmetic of _cells (U = 0)
        edges = self.starts[1:-1].astype(np.float64)
        edges *= 1.0 / points
        self.edges = self._to_x(edges)
        self.cuts = np.concatenate(
            ([0], np.searchsorted(self.fixed, self.edges), [self.fixed.size])
        )
        self.room = points + self.fixed.size  # points in all, at most

    def _starts(self, size: int, kinks: Sequence[float]) -> Array:
        """Blocks of ``size`` cells, each edge moved below any kink within 1/64 of a block
        of it: a kink's probes and the points around it are then judged in one block (a
        kink costs each block that has some a pass of one-sided differences; hardswish's
        ±3 sit exactly on the edges of four blocks over the default range)."""
        starts = np.minimum(np.arange(self.blocks + 1) * size, self.points)
        guard = size // 64
        if not guard or not kinks:
            return starts
        # each kink's place among the cells (fractional), by the distribution's CDF
        k = np.array(sorted(kinks), dtype=np.float64)
        if self.distribution == "uniform":
            at = (k - self.lo) / (self.hi - self.lo)
        else:
            from scipy.special import ndtr

            at = ndtr((k - 0.5 * (self.lo + self.hi)) / (0.25 * (self.hi - self.lo)))
        at = at[(at > 0) & (at < 1)] * self.points
        # the edges near a kink only (a billion points make 4,000 blocks), top down: a
        # moved edge stays above the next one down
        edges = {int(e) for e in np.round(at / size) if 0 < e < self.blocks}
        for j in sorted(edges, reverse=True):
            for _ in range(at.size):  # moved below one kink, it may come near the next
                near = at[np.abs(at - starts[j]) < guard]
                if not near.size:
                    break
                starts[j] = max(int(near.min()) - guard, starts[j - 1] + 1)
        return starts

    def up_to(self, k: int) -> float:
        """x up to which blocks 0 .. k-1 hold every probe point (the lowest possible point of
        block k: the points come in order of x); inf for all the blocks."""
        return float(self.edges[k - 1]) if 0 < k < self.blocks else np.inf

    def offset(self, j: int) -> int:
        """Where block j starts among all points if no repeat is dropped before it."""
        return int(self.starts[j]) + int(self.cuts[j])

    def block(self, j: int) -> Array:
        """Block j's points, sorted, without the previous block's last value."""
        first = int(self.starts[j])
        lead = 1 if j else 0  # the previous block's last cell, drawn with this block's cells
        cells = self._cells(first - lead, int(self.starts[j + 1]))
        before, x = cells[:lead], cells[lead:]
        extra = self.fixed[self.cuts[j] : self.cuts[j + 1]]
        if extra.size:
            x = np.insert(x, np.searchsorted(x, extra), extra)
        if j and self.cuts[j] > self.cuts[j - 1]:  # or the previous block's last fixed probe
            before = np.maximum(before, self.fixed[self.cuts[j] - 1 : self.cuts[j]])
        return _drop_repeats(x, before)

    def _cells(self, start: int, stop: int) -> Array:
        """The points of cells start..stop-1, in the dtype."""
        stream = np.random.PCG64(self.seed)
        stream.advance(start)  # the i-th uniform of the seed's stream goes to cell i
        u = np.random.Generator(stream).random(stop - start)
        # + (start + j): exact integers, as np.arange(start, stop) makes them, at half its cost
        u += np.add(self._counting[: stop - start], start)
        u *= 1.0 / self.points
        return self._to_x(u).astype(self.dtype, copy=False)

    def _to_x(self, u: Array) -> Array:
        """u in [0, 1] (cells divided by ``points``) to x, in place where it can."""
        lo, hi = self.lo, self.hi
        if self.distribution == "uniform":  # lo + (hi - lo)·u
            u *= hi - lo
            u += lo
            return u
        from scipy.special import ndtri

        # N(centre, (width/4)²), by inverting the CDF at sorted uniforms
        return 0.5 * (lo + hi) + 0.25 * (hi - lo) * ndtri(np.maximum(u, 1e-300))


@functools.lru_cache(maxsize=4)
def _counting(n: int) -> Array:
    """0, 1, 2, ..., n-1 as floats, read-only: made once for every check of this size."""
    a = np.arange(n, dtype=np.float64)
    a.flags.writeable = False
    return a


def _drop_repeats(x: Array, before: Array) -> Array:
    """Sorted ``x`` without repeated values, nor the value ``before`` holds (the previous
    block's last); -0.0 and +0.0 count as different."""
    if not x.size:
        return x
    same = np.empty(x.size, bool)
    same[0] = before.size > 0 and x[0] == before[0] and np.signbit(x[0]) == np.signbit(before[0])
    np.equal(x[1:], x[:-1], out=same[1:])
    if not same.any():
        return x
    same[1:] &= np.signbit(x[1:]) == np.signbit(x[:-1])
    return x[~same]


def _fixed_probes(kinks: Sequence[float], x_range: tuple[float, float], dt: np.dtype) -> Array:
    """The probes every run has: grid, kinks and their neighbours, special values; sorted."""
    lo, hi = x_range
    parts = [np.linspace(lo, hi, GRID_POINTS)]
    eps = float(np.finfo(dt).eps)
    for k in kinks:
        kd = dt.type(k)
        s = eps ** (1 / 3) * max(abs(float(k)), 1.0)
        m = np.array(KINK_STEP_MULTIPLES) * s
        parts.append(np.concatenate(([float(kd)], float(kd) - m, float(kd) + m)))
        ulps = [kd]
        up = down = kd
        for _ in range(KINK_NEIGHBOUR_FLOATS):
            up, down = np.nextafter(up, dt.type(np.inf)), np.nextafter(down, dt.type(-np.inf))
            ulps += [up, down]
        parts.append(np.array(ulps, dtype=dt).astype(np.float64))
    special = [*SATURATION, *(10.0**e for e in LARGE_EXPONENTS)]
    special += [10.0**-e for e in TINY_EXPONENTS] + list(EXTRA_TINY[dt.name])
    parts.append(np.array(special))
    parts.append(-np.array(special))
    x = np.unique(np.concatenate(parts).astype(dt))
    # np.unique merges -0.0 into 0.0; both signs of zero are worth a probe
    zero = np.flatnonzero(x == 0)
    return np.insert(x, zero[0], dt.type(-0.0)) if zero.size else x


def _validate(points: Any, x_range: Any, distribution: str, dtype: str) -> None:
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise InputError(f"points must be a positive integer, got {points!r}")
    try:
        lo, hi = (float(v) for v in x_range)
    except (TypeError, ValueError):
        raise InputError(f"range must be two numbers MIN MAX, got {x_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise InputError(f"range must be finite, got {_g(lo)} {_g(hi)}")
    if dtype in DTYPES and max(abs(lo), abs(hi)) > float(np.finfo(dtype).max) / HEADROOM:
        big = float(np.finfo(dtype).max) / HEADROOM
        raise InputError(
            f"range must lie within +-{big:.2g} in {dtype} (1/16 of its largest value), "
            f"got {_g(lo)} {_g(hi)}"
        )
    if not lo < hi:
        raise InputError(f"range must have MIN < MAX, got {_g(lo)} {_g(hi)}")
    if distribution not in DISTRIBUTIONS:
        raise InputError(
            f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}"
        )
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


def _resolve(activation: str | Activation) -> Activation:
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        try:
            return parse_spec(activation)
        except ActivationError as err:
            raise InputError(str(err)) from None
    raise InputError(f"expected an activation name or actcheck.get(...), got {activation!r}")


def differentiable_params(act: Activation) -> list[str]:
    """Parameters with a derivative in the catalog (``param_derivatives``), in catalog order."""
    return list(act.differentiable_params)


def _engine_kinks(act: Activation, order: int) -> list[Any]:
    """Kinks for the engine: declared objects for this order, bare positions for the rest."""
    out: list[Any] = []
    for k in _raw_kinks(act):
        out.append(k if k.order == order else float(k.x))
    return out


def gradcheck(
    activation: str | Activation,
    *,
    points: int = DEFAULT_POINTS,
    dtype: str = "float64",
    seed: int = DEFAULT_SEED,
    order: int = 1,
    x_range: tuple[float, float] = DEFAULT_RANGE,
    distribution: str = "uniform",
    params: bool | Sequence[str] = True,
    step: float | None = None,
    safety: float | None = None,
    x: Any = None,
    tolerances: Overrides = None,
    threads: int | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> GradcheckResult:
    """Check an activation's analytic derivatives against numerical ones at every probe point.

    Args:
        activation: a name or spec (``"elu:alpha=2"``) or an object from ``actcheck.get``.
        points: size of the random sample (the grid, kink and special probes come on top).
        dtype: ``"float64"`` or ``"float32"`` (inputs, f and f' evaluated in that dtype).
        seed: seed of the random sample; same arguments, same numbers.
        order: 1 checks f' (and every parameter derivative), 2 checks f''.
        x_range: (MIN, MAX) of the random sample and the grid.
        distribution: ``"uniform"`` over the range, or ``"normal"`` (centred, σ = width/4).
        params: check parameter derivatives: True (all), False, or a list of names.
        step: relative difference step (default ε^{1/3} of the dtype).
        safety: factor on the estimated numerical error (default 4).
        x: explicit probe points instead of the generated ones.
        tolerances: error-model overrides merged over the dtype's row of
            ``actcheck.tolerances`` (``{"safety": 8}``), JAX ``check_grads`` style.
        threads: threads checking blocks of ``BLOCK_POINTS`` points in parallel (default:
            the cores this process may use); verdicts do not depend on it.
        progress: called as ``progress(done, total)`` (random points) after each block.

    Above ``STREAM_POINTS`` points the check streams: blocks are generated, checked and
    dropped one after another, and each check keeps its statistics (``Stats``) and its
    ``KEEP_WORST`` worst points instead of per-point arrays of every point.

    Returns:
        GradcheckResult (``passed``, ``checks``, ``summary()``, ``to_dict()``).

    Raises:
        actcheck.errors.InputError: unusable arguments.
        actcheck.errors.Interrupted: Ctrl-C (a KeyboardInterrupt) after some blocks were
            checked; its ``result`` holds them (``interrupted``, ``checked_up_to``; after
            the last block, the whole result). Before the first block, the
            KeyboardInterrupt itself.
    """
    start = time.perf_counter()
    keep_freed_memory()
    act = _resolve(activation)
    if order not in (1, 2):
        raise InputError(f"order must be 1 or 2, got {order!r}")
    if dtype not in DTYPES:
        raise InputError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    tol = merged(dtype, tolerances, step=step, safety=safety)
    _validate(1, x_range, distribution, dtype)
    extent = max(PROBE_EXTENT, *(abs(float(v)) for v in x_range))
    act.check_dtype(dtype, extent)
    kink_x = sorted({float(k.x) for k in _raw_kinks(act)})
    workers = max(1, threads or _cores())
    if x is None:
        total = points
        span = (float(x_range[0]), float(x_range[1]))
        _validate(points, x_range, distribution, dtype)
        size = _balanced(points, workers)
        sample = ProbeSample(kink_x, points, span, distribution, seed, dtype, size)
        count, room = sample.blocks, sample.room

        def block(j: int) -> tuple[Array, int]:  # drawn by the thread that checks it
            return sample.block(j), sample.offset(j)

    else:
        _validate(1, x_range, distribution, dtype)
        xs = np.asarray(x, dtype=dtype).ravel()
        if xs.size == 0:
            raise InputError("no probe points given")
        total = room = xs.size
        size = _balanced(xs.size, workers)
        count = -(-xs.size // size)

        def block(j: int) -> tuple[Array, int]:
            return xs[j * size : (j + 1) * size], j * size

    names = _param_names(act, params) if order == 1 else []
    stream = total > STREAM_POINTS
    per_block = _block_checker(act, order, names, tol, dtype, stream, x is None)
    joined = _Joined(0 if stream else room, 1 + len(names))
    lo, hi = (float(v) for v in x_range)
    try:
        _run_blocks(joined.placing(per_block, block), count, total, workers, progress, joined.add)
    except KeyboardInterrupt:
        done = joined.blocks  # the blocks collected in order; the rest are dropped
        if not done.points:
            raise
        cut = done.count < count  # else Ctrl-C came after the last block: a whole result
        part = GradcheckResult(
            act, dtype, order, seed, joined.results(KEEP_WORST if stream else None), (lo, hi),
            time.perf_counter() - start, interrupted=cut, points_planned=room if cut else None,
            checked_up_to=sample.up_to(done.count) if cut and x is None else None,
        )  # fmt: skip
        raise Interrupted(part.summary(), part) from None
    checks = joined.results(KEEP_WORST if stream else None)
    return GradcheckResult(act, dtype, order, seed, checks, (lo, hi), time.perf_counter() - start)


def _balanced(points: int, workers: int) -> int:
    """Points per block: at most ``BLOCK_POINTS``, in a number of blocks that the workers
    share evenly (4 blocks of 250,000 for a million points on 2 threads, not 3 full ones
    and a short one: no thread waits on the last). The sample does not depend on it."""
    blocks = -(-points // BLOCK_POINTS)
    shared = -(-blocks // workers) * workers
    # beyond 64 rounds the last one is a small part; below MIN_BLOCK_POINTS a block costs
    # more in Python than it saves
    if workers > 1 and blocks <= 64 * workers and points >= shared * MIN_BLOCK_POINTS:
        blocks = shared
    return max(1, -(-points // blocks))


def _block_checker(
    act: Activation,
    order: int,
    names: list[str],
    tol: Tolerances,
    dtype: str,
    stream: bool,
    nan_free: bool,
) -> Callable[..., list[ElementwiseResult]]:
    """The checks of one block of points: d/dx (or d²/dx²), then each parameter.
    ``nan_free``: the points hold no NaN and no inf (generated ones), so neither do the
    stencils around them, and f skips its NaN guard."""
    f, df = act.checked_pair(order, nan_free)
    common = {"dtype": dtype, "name": act.name, "tolerances": tol}
    kinks = _engine_kinks(act, order)
    # each parameter's step, found once (it may take many halvings between close clamps)
    steps = {name: _param_step(act, name, float(act.params[name]), tol) for name in names}

    def check(xs: Array, into: list[dict[str, Array]] | None = None) -> list[ElementwiseResult]:
        """The block's checks; with ``into``, each check's per-point arrays are written
        into the arrays given for it."""
        put = into or [None] * (1 + len(names))
        out = [check_elementwise(f, df, xs, kinks=kinks, order=order, complex_step=False,
                                 out=put[0], **common)]  # fmt: skip
        if names:
            with np.errstate(all="ignore"):  # judged below, not warned about
                analytic = act.param_derivatives(xs)
            for name, where in zip(names, put[1:], strict=True):
                out.append(_param_check(act, name, xs, analytic[name], steps[name], common, where,
                                        nan_free))  # fmt: skip
        return [reduce_result(r) for r in out] if stream else out

    return check


class _Blocks(NamedTuple):
    """What ``_Joined`` holds after some blocks (one value, replaced whole at each block)."""

    count: int  # blocks collected (empty ones too)
    points: int
    parts: list[list[ElementwiseResult]]  # each block's checks (streamed: folded now and then)
    spans: list[tuple[int, int]]  # (offset, points) of each placed block
    medians: int  # streamed: how many rows of ``_Joined.medians`` belong to these blocks


class _Joined:
    """The checks of consecutive blocks, joined as they arrive.

    With ``capacity`` (at least the number of points) each block's checks write their
    per-point arrays straight into one array per field, allocated up front, at the block's
    offset (every page of the result is touched once, by the thread that checked the
    block); blocks that dropped repeated points leave gaps, closed at the end. With
    ``capacity`` 0 (streamed blocks, already reduced) the blocks are kept and merged at the
    end.

    ``blocks`` changes by one assignment per block, so a Ctrl-C at any moment leaves the
    blocks collected so far consistent (an interrupted check reports them).
    """

    def __init__(self, capacity: int, checks: int):
        self.capacity = capacity
        self.blocks = _Blocks(0, 0, [], [], 0)
        # streamed: each block's median bound per check, only ever appended to (a billion
        # points make 4,000 rows: copied at every block they would cost quadratic time)
        self.medians: list[list[float]] = []
        self.arrays: list[dict[str, Array]] = []
        if capacity:
            x = np.empty(capacity)  # every check of a block is at the same points: one copy
            self.arrays = [{k: x if k == "x" else np.empty(capacity, t)
                            for k, t in PER_POINT.items()} for _ in range(checks)]  # fmt: skip

    def placing(
        self, check: Callable[..., list[ElementwiseResult]], block: Callable[[int], tuple]
    ) -> Callable[[int], tuple[list[ElementwiseResult] | None, int, int]]:
        """Block j made by ``block(j)`` (its points and offset) and checked, its per-point
        arrays written in place: (what is left of each check: its kink reports and
        settings, or None for a block left empty; the offset; the number of points)."""

        def placed(j: int) -> tuple[list[ElementwiseResult] | None, int, int]:
            xs, at = block(j)
            m = xs.size
            if not m:
                return None, at, 0
            if not self.capacity:
                return check(xs), at, m
            if at + m > self.capacity:
                raise AssertionError("more probe points than room was made for")
            # every check is at the same points: the first one writes x
            into = [{k: a[at : at + m] for k, a in d.items() if k != "x" or i == 0}
                    for i, d in enumerate(self.arrays)]  # fmt: skip
            checks = check(xs, into)
            return [dataclasses.replace(c, **{k: getattr(c, k)[:0] for k in PER_POINT})
                    for c in checks], at, m  # fmt: skip

        return placed

    def add(self, checks: list[ElementwiseResult] | None, at: int, m: int) -> None:
        """A block's checks, in order (``m`` points from offset ``at``; None: no points)."""
        b = self.blocks
        if checks is None:
            self.blocks = b._replace(count=b.count + 1)
            return
        parts, spans, medians = [*b.parts, checks], b.spans, b.medians
        if self.capacity:
            spans = [*spans, (at, m)]
        else:
            del self.medians[medians:]  # a row a Ctrl-C left without its block
            self.medians.append([c.median_bound for c in checks])
            medians += 1
            if len(parts) >= FOLD_BLOCKS:  # fold them: memory stays flat at any size
                parts = [_merged(parts, KEEP_WORST)]
        self.blocks = _Blocks(b.count + 1, b.points + m, parts, spans, medians)

    def _close_gaps(self, spans: list[tuple[int, int]]) -> None:
        """Move each block down to where the previous one ends (float32 repeats dropped)."""
        end = 0
        for at, m in spans:
            if at != end:
                for d in self.arrays:
                    for k, a in d.items():
                        if k != "x" or d is self.arrays[0]:
                            a[end : end + m] = a[at : at + m]  # numpy copies overlaps safely
            end += m

    def results(self, keep: int | None) -> list[ElementwiseResult]:
        b = self.blocks
        if not b.parts:
            raise InputError("no probe points left to check")
        checks = _merged(b.parts, keep)
        if self.arrays:
            self._close_gaps(b.spans)
            n = b.points
            return [dataclasses.replace(c, **{k: a[:n] for k, a in d.items()})
                    for c, d in zip(checks, self.arrays, strict=True)]  # fmt: skip
        if not b.medians:
            return checks
        # the median of all the blocks' medians, not of the folded groups' ones
        medians = np.median(np.array(self.medians[: b.medians]), axis=0)
        return [dataclasses.replace(c, stats=dataclasses.replace(c.stats, median_bound=float(m)))
                for c, m in zip(checks, medians, strict=True)]  # fmt: skip


def _merged(parts: list[list[ElementwiseResult]], keep: int | None) -> list[ElementwiseResult]:
    """Each check merged over the blocks (``parts``: per block, its checks in order)."""
    return [merge_results(list(column), keep) for column in zip(*parts, strict=True)]


def _run_blocks(
    check: Callable[[int], tuple[list[ElementwiseResult] | None, int, int]],
    count: int,
    total: int,
    workers: int,
    progress: Callable[[int, int], object] | None,
    collect: Callable[[list[ElementwiseResult] | None, int, int], None],
) -> None:
    """``collect(*check(j))`` for blocks j = 0 .. count-1 in order, ``check`` (which makes
    block j and checks it: (checks, offset, points)) on a pool of threads: numpy's ufuncs
    and random generators release the GIL. A few blocks in flight at a time, so memory
    does not grow with the number of points."""
    done = 0

    def finish(result: tuple[list[ElementwiseResult] | None, int, int]) -> None:
        nonlocal done
        collect(*result)
        done = min(total, done + result[2])
        if progress is not None:
            progress(done, total)

    if workers <= 1 or count <= 1:
        for j in range(count):
            finish(check(j))
    else:
        with ThreadPoolExecutor(workers) as pool:
            pending: deque[Future] = deque()
            try:
                for j in range(count):
                    pending.append(pool.submit(check, j))
                    if len(pending) >= max(2 * workers, LOOKAHEAD_BLOCKS):
                        finish(pending.popleft().result())
                while pending:
                    finish(pending.popleft().result())
            except BaseException:  # Ctrl-C or an exception in f: start no more blocks
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    if progress is not None and done < total:  # repeats dropped: the count fell short
        progress(total, total)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _param_names(act: Activation, params: bool | Sequence[str]) -> list[str]:
    have = differentiable_params(act)
    if params is True:
        return have
    if params is False:
        return []
    wanted = [params] if isinstance(params, str) else list(params)
    for p in wanted:
        if p not in have:
            valid = ", ".join(have) if have else "none"
            raise InputError(
                f"{act.name}: no derivative for parameter {p!r} (differentiable: {valid})"
            )
    return wanted


def _param_check(
    act: Activation,
    name: str,
    xs: Array,
    analytic: Array,
    step: float,
    common: dict[str, Any],
    out: dict[str, Array] | None = None,
    nan_free: bool = False,
) -> ElementwiseResult:
    theta = float(act.params[name])

    def shifted(d: float, idx: Array | None = None) -> Array:
        """f(x; θ + d) at every point, or at the points ``idx``."""
        at = xs if idx is None else xs[idx]
        moved = _moved(act, name, theta + d)
        if moved is None:
            # outside the parameter's range: this side of the stencil does not exist
            return np.full(at.shape, np.nan, at.dtype)
        return moved.checked_pair(1, nan_free)[0](at)

    return check_direction(
        shifted, analytic, xs, scale=theta, wrt=name, step=step, out=out,
        shifted_at=shifted, **common,
    )  # fmt: skip


@functools.lru_cache(maxsize=64)
def _moved(act: Activation, name: str, value: float) -> Activation | None:
    """``act`` with one parameter moved (None outside its range); every block of a check
    moves it by the same steps, so each is built and validated once."""
    try:
        return act.with_params(**{name: value})
    except ActivationError:
        return None


def _param_step(act: Activation, name: str, theta: float, tol: Tolerances) -> float:
    """A relative step whose whole stencil θ ± 3h stays inside the parameter's valid range
    (hardtanh's clamps 1e-3 apart, celu's alpha near 0), halving the default until it does."""
    rel = tol.step
    scale = max(abs(theta), tol.step_floor)  # as check_direction: relative to max(|θ|, floor)
    for _ in range(PARAM_STEP_HALVINGS):
        h = 2.0 ** np.floor(np.log2(rel * scale))
        try:
            act.with_params(**{name: theta - 3 * h})
            act.with_params(**{name: theta + 3 * h})
            return rel
        except ActivationError:
            rel /= 2
    return rel


def assert_gradients(activation: str | Activation, **kwargs: Any) -> GradcheckResult:
    """Like ``gradcheck``, but raise ``actcheck.errors.GradcheckError`` (an AssertionError,
    with ``.result``) when a check fails; the message is the result's one-line summary.

    >>> import actcheck
    >>> _ = actcheck.assert_gradients("elu:alpha=2", dtype="float32")
    """
    result = gradcheck(activation, **kwargs)
    if not result.passed:
        raise GradcheckError(result.summary(), result)
    return result
