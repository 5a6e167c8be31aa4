"""Checking the user's own layer: backward against forward, with the bug named.

``check_impl(target)`` runs, in order:

1. detectors: an exception in the user's code (reported at the user's file and
   line), forward changing the caller's x in place, backward changing dout in
   place, a non-array / wrong-shape / wrong-dtype result, forward not
   deterministic, NaN or inf from finite input;
2. linearity in dout: backward(2·dout) = 2·backward(dout) and
   backward(d1 + d2) = backward(d1) + backward(d2) (catches "forgot to
   multiply by dout" and "ignores dout");
3. the derivative itself, with a random signed dout (never all ones):

   * elementwise layers (probed: changing x[j] changes only y[j]) per point,
     f'(x) = dx/dout, by the gradcheck engine (``numdiff.check_elementwise``:
     Richardson central differences or the complex step, a per-point error
     bound, one-sided derivatives at kinks, where any value between them is a
     valid subgradient), plus floors for the rounding of hand-written code;
   * other layers: the full Jacobian (per sample when the batch rows are
     independent, columns perturbed for the whole batch at once) for small
     inputs, else signed random projections u^T J v, each judged against its
     own error estimate: C(h) = (g(h) - g(-h))/2h, R = (4C(h/2) - C(h))/3,
     error |C(h) - C(h/2)| + ROUNDOFF_FACTOR·ε·Σ|terms|/h, never a tolerance
     scaled by the output size or by sum(u)·sum(v);
4. every learnable parameter (W/dW, a/grad_a, params['W']/grads['W'], torch
   parameters), confirmed by perturbation, per entry or by projections;
5. bug classification where the pattern is clear: sign flip, constant factor,
   constant added, wrong only at a kink / subgradient outside the one-sided
   derivatives, returns f instead of f', output used for input (or the
   reverse), another catalog activation's derivative, wrong only for x in an
   interval, missing Jacobian cross terms, a transposed Jacobian.

Results are plain dataclasses; ``actcheck.report`` renders them. numpy only.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from actcheck.userimpl import ImplError, Layer, UserCodeError, adapt, load, load_layer

Array = np.ndarray

# ---------------------------------------------------------------------------
# Tolerances and constants (all in one place)
# ---------------------------------------------------------------------------

# central-difference step, relative to max(|x|, 1) rounded up to a power of two;
# Richardson makes the truncation error O(h^4), so a small step keeps the window
# around a kink in which the check is lenient tiny
STEP = {np.dtype(np.float64): 2.0**-20, np.dtype(np.float32): 2.0**-8}
ROUNDOFF_FACTOR = 16.0  # round-off of a difference quotient: this many eps·|f| / h
TOL_FACTOR = 4.0  # a mismatch must exceed this many error estimates
FLOOR_ULPS = {np.dtype(np.float64): 64.0, np.dtype(np.float32): 32.0}  # analytic's own rounding
# backward(2d) = 2 backward(d) and additivity hold up to rounding, which cancellation
# inside backward can amplify; the bugs this catches (dout ignored, squared, used in a
# condition) break them at O(1)
# (doubling dout is exact in binary floating point, so that half is held tighter)
LINEARITY_RTOL = {np.dtype(np.float64): 1e-7, np.dtype(np.float32): 1e-4}
ADDITIVITY_RTOL = {np.dtype(np.float64): 1e-5, np.dtype(np.float32): 1e-2}
ELEMENTWISE_ULPS = 4.0  # outputs outside the perturbed set may move by this much and no more
FULL_JACOBIAN_MAX = 256  # inputs per sample (or in all) up to which the full Jacobian is built
PROJECTIONS = 12  # random projections u^T J v for larger inputs (and for large parameters)
PARAM_ENTRIES_MAX = 64  # parameters up to this size are checked entry by entry
PROBE_BATCHES = 4  # elementwise: batches of the user's shape checked point by point
GRID_LIMIT = 10.0  # the grid spans [-GRID_LIMIT, GRID_LIMIT]
WORST_SHOWN = 5
NOISE_ULPS = 16.0  # forward noise, in eps·max|y|, for the numerical derivative's floor
LABEL_RTOL = 1e-6  # a factor within this of a simple number is named by it (2, 1/64)
FIT_RTOL = 1e-4  # a fitted factor must explain every value to this (float32 least squares)
REGION_OK_SHARE = 0.05  # "wrong only in [a, b]" needs this share of correct points elsewhere
CLASSIFY_SHARE = 0.95
# a bug pattern must explain CLASSIFY_SHARE of the failing points, testable at this many
MIN_CLASSIFY_POINTS = 20


@dataclass
class Check:
    """One row of the report: a detector or a comparison, its status and what it found."""

    name: str
    status: str  # "pass", "fail", "warn", "skip"
    summary: str
    where: str = ""
    bug: str | None = None
    worst: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass
class ImplResult:
    """Everything ``check_impl`` found about one layer."""

    target: str
    kind: str
    shape: tuple[int, ...]
    dtype: str
    seed: int
    elementwise: bool | None = None
    method: str = ""
    params: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.status != "fail" for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if c.status == "fail"]

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if c.status == "warn"]

    def describe(self) -> dict[str, Any]:
        """JSON-ready data (no NaN: non-finite numbers become strings)."""
        d = asdict(self)
        d["shape"] = list(self.shape)
        d["passed"] = self.passed
        return _jsonable(d)

    def text(self) -> str:
        """A plain-text report (used by ``assert_impl``)."""
        lines = [
            f"{self.target} ({self.kind}), shape {self.shape}, {self.dtype}: "
            + ("PASS" if self.passed else "FAIL")
        ]
        for c in self.checks:
            if c.status in ("fail", "warn"):
                lines.append(f"  {c.status.upper()} {c.name}: {c.summary}")
                if c.bug:
                    lines.append(f"    bug: {c.bug}")
                if c.where:
                    lines.append(f"    where: {c.where}")
                lines.extend("    " + _fmt_point(w) for w in c.worst)
        return "\n".join(lines)


class ImplCheckFailure(AssertionError):
    """Raised by ``assert_impl``; the message is the readable report."""

    def __init__(self, result: ImplResult):
        super().__init__(result.text())
        self.result = result


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return v


def _fmt_point(w: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_g(v)}" for k, v in w.items())


def _g(v: Any) -> str:
    if isinstance(v, float | np.floating):
        return f"{float(v):.6g}"
    return str(v)


class _Stop(Exception):
    """Later checks make no sense after this failure."""


# ---------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------


def check_impl(
    target: Any,
    derivative: Any = None,
    *,
    shape: tuple[int, ...] = (64, 32),
    dtype: str = "float64",
    seed: int = 0,
    allow_inplace: bool = False,
) -> ImplResult:
    """Check a user's layer: backward against forward, parameter gradients, detectors.

    ``target``: ``"FILE.py:NAME"`` / ``"package.module:NAME"`` (imported: this
    runs the file), or the object itself (class, instance, function, torch
    Module / autograd.Function). ``derivative``: f' for a plain function f, as a
    spec or a function. Raises ImplError when the target cannot be used.
    """
    dt = np.dtype(dtype)
    if dt not in STEP:
        raise ImplError(f"dtype must be float64 or float32, got {dtype!r}")
    shape = tuple(int(s) for s in shape)
    if not shape or any(s <= 0 for s in shape):
        raise ImplError(f"shape must be positive sizes, got {shape}")
    if isinstance(target, Layer):
        layer = target
    elif isinstance(target, str):
        layer = load_layer(target, derivative if isinstance(derivative, str) else None)
        if derivative is not None and not isinstance(derivative, str):
            layer = adapt(load(target), derivative)
    else:
        dv = load(derivative) if isinstance(derivative, str) else derivative
        layer = adapt(target, dv)
    if hasattr(layer, "to_dtype"):
        layer.to_dtype(dt)
    result = ImplResult(layer.name, layer.kind, shape, dt.name, seed)
    run = _Run(layer, result, shape, dt, np.random.default_rng(seed), allow_inplace)
    try:
        run.all()
    except _Stop:
        pass
    except UserCodeError as err:
        result.checks.append(_exception_check(err))
    _locate(result, layer)
    return result


def _locate(result: ImplResult, layer: Layer) -> None:
    """'backward ...' -> 'backward at file.py:12 in Sigmoid.backward() ...' (unless precise)."""
    for c in result.checks:
        word = c.where.split(" ", 1)[0].rstrip(",")
        if word in ("forward", "backward", "derivative") and ".py:" not in c.where:
            loc = layer.location(word)
            said = "derivative" if word == "backward" and not layer.has_dout else word
            if loc:
                c.where = c.where.replace(word, f"{said} at {loc}", 1)


def assert_impl(target: Any, derivative: Any = None, **kwargs: Any) -> ImplResult:
    """``check_impl`` for pytest: raises ImplCheckFailure (an AssertionError) with the report."""
    result = check_impl(target, derivative, **kwargs)
    if not result.passed:
        raise ImplCheckFailure(result)
    return result


def _exception_check(err: UserCodeError) -> Check:
    summary = f"{err.exc_type}: {err.message}" if err.message else err.exc_type
    where = err.where + (f": {err.code}" if err.code else "")
    return Check(
        f"exception in {err.during}",
        "fail",
        summary,
        where=where,
        bug=f"{err.during} raised {err.exc_type}",
        stats=err.describe(),
    )


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------


def probe_points(n: int, dtype: np.dtype, rng: np.random.Generator, batch: int) -> Array:
    """Probe inputs for one batch of n values.

    Batch 0: zeros (the usual kink), small integers and values a few ulps and
    1e-30 away from 0, then a realistic mixture (N(0,1), N(0,3), U(-10,10));
    later batches: an exact grid over [-GRID_LIMIT, GRID_LIMIT] interleaved
    with uniform samples, so a bug confined to a narrow interval is hit.
    """
    tiny = np.finfo(dtype).tiny
    if batch == 0:
        special = np.array(
            [
                0.0,
                -0.0,
                1.0,
                -1.0,
                2.0,
                -2.0,
                3.0,
                -3.0,
                6.0,
                -6.0,
                0.5,
                -0.5,
                1e-30,
                -1e-30,
                tiny,
                -tiny,
                1e-3,
                -1e-3,
                20.0,
                -20.0,
                40.0,
                -40.0,
            ],
            dtype=np.float64,
        )
        k = n // 3
        mix = np.concatenate(
            [rng.normal(0, 1, k), rng.normal(0, 3, k), rng.uniform(-GRID_LIMIT, GRID_LIMIT, n)]
        )
        x = np.concatenate([special[:n], mix])[:n]
    else:
        m = n * (PROBE_BATCHES - 1)
        step = 2 * GRID_LIMIT / m
        grid = -GRID_LIMIT + step * np.arange(m)
        mine = grid[batch - 1 :: PROBE_BATCHES - 1][:n]
        x = np.where(
            rng.random(mine.size) < 0.25, rng.uniform(-GRID_LIMIT, GRID_LIMIT, mine.size), mine
        )
        x = np.round(x, 6)  # grid values like 2.1 are then the nearest doubles to them
    x = x.astype(dtype)
    perm = rng.permutation(n)
    return x[perm]


def _dout(shape: tuple[int, ...], dtype: np.dtype, rng: np.random.Generator) -> Array:
    """Random signed upstream gradient with |dout| in [0.5, 2): dividing by it stays exact."""
    mag = rng.uniform(0.5, 2.0, shape)
    sign = rng.choice([-1.0, 1.0], shape)
    return (mag * sign).astype(dtype)


# ---------------------------------------------------------------------------
# Numerical differentiation (vectorised: a constant number of forward calls)
# ---------------------------------------------------------------------------


@dataclass
class Diff:
    """A central difference with Richardson extrapolation, its error bound and one-sided values."""

    value: Array
    err: Array
    left: Array
    right: Array


def _pow2_scale(x: Array) -> Array:
    m = np.maximum(np.abs(x), 1.0)
    return np.exp2(np.ceil(np.log2(m)))


def diff_along(
    g: Callable[[Array], Array], h: Array | float, eps: float, scale: Array | float = 0.0
) -> Diff:
    """d/dt g(t) at t = 0, where g maps an array of offsets t to values (same shape).

    C(h) = (g(h) - g(-h)) / 2h, Richardson R = (4C(h/2) - C(h)) / 3, error
    |C(h) - C(h/2)| + ROUNDOFF_FACTOR·eps·(max|g| + scale) / h, where ``scale``
    is the size of the terms g is summed from when that exceeds |g| (cancellation);
    one-sided second-order differences from the same five evaluations.
    """
    h = np.asarray(h, dtype=np.float64)
    f0 = g(0.0 * h)
    fp, fm = g(h), g(-h)
    fp2, fm2 = g(h / 2), g(-h / 2)
    c1 = (fp - fm) / (2 * h)
    c2 = (fp2 - fm2) / h
    value = (4 * c2 - c1) / 3
    big = np.maximum.reduce([np.abs(f0), np.abs(fp), np.abs(fm), np.abs(fp2), np.abs(fm2)])
    err = np.abs(c1 - c2) + ROUNDOFF_FACTOR * eps * (big + scale) / h
    left = (3 * f0 - 4 * fm2 + fm) / h
    right = (-3 * f0 + 4 * fp2 - fp) / h
    return Diff(value, err, left, right)


# ---------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------


def _same(a: Array, b: Array) -> Array:
    """Elementwise bitwise-equal, NaN equal to NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def _index(shape: tuple[int, ...], flat: int) -> str:
    return "[" + ",".join(str(int(i)) for i in np.unravel_index(flat, shape)) + "]"


class _Run:
    def __init__(
        self,
        layer: Layer,
        result: ImplResult,
        shape: tuple[int, ...],
        dt: np.dtype,
        rng: np.random.Generator,
        allow_inplace: bool,
    ):
        self.layer = layer
        self.result = result
        self.shape = shape
        self.dt = dt
        self.rng = rng
        self.allow_inplace = allow_inplace
        self.eps = float(np.finfo(dt).eps)
        self.num_dt = dt  # the dtype the numerical side is evaluated in
        self.linear_bug: str | None = None

    def add(self, *args: Any, **kwargs: Any) -> Check:
        c = Check(*args, **kwargs)
        self.result.checks.append(c)
        return c

    def stop(self, *args: Any, **kwargs: Any) -> None:
        self.add(*args, **kwargs)
        raise _Stop

    # -- orchestration -------------------------------------------------------

    def all(self) -> None:
        n = math.prod(self.shape)
        x = probe_points(n, self.dt, self.rng, 0).reshape(self.shape)
        self.x = x
        y = self.forward_checks(x)
        dout = _dout(y.shape, self.dt, self.rng)
        self.backward_checks(x, dout)
        self.choose_numeric_dtype(x, y)
        self.elementwise = self.probe_elementwise(x, y)
        self.result.elementwise = self.elementwise
        self.find_params(x, dout)
        if self.layer.has_dout:
            self.linearity(x, y)
        if self.elementwise:
            self.per_point()
        else:
            self.jacobian(x, y)
        for p in self.layer.params:
            self.param_check(p, x, dout)

    # -- detectors -----------------------------------------------------------

    def forward_checks(self, x: Array) -> Array:
        xc = x.copy()
        y = self.layer.forward_raw(xc)
        changed = ~_same(xc, x)
        if changed.any():
            self.inplace("forward modified its input x", x, xc, changed)
        else:
            self.add("in-place: x in forward", "pass", "the caller's x is unchanged")
        if not isinstance(y, np.ndarray):
            self.stop(
                "forward output",
                "fail",
                f"forward returned a {type(y).__name__}, expected a numpy array",
                where="forward",
            )
        if y.dtype.kind != "f":
            self.stop(
                "forward output", "fail", f"forward returned {y.dtype} values", where="forward"
            )
        if y.dtype.itemsize < self.dt.itemsize:
            self.stop(
                "forward dtype",
                "fail",
                f"forward returned {y.dtype} for {self.dt} input (precision lost)",
                where="forward",
                bug="forward narrows the dtype",
            )
        if y.dtype != self.dt:
            self.add(
                "forward dtype",
                "warn",
                f"forward returned {y.dtype} for {self.dt} input (an upcast, e.g. from "
                "float64 parameters)",
                where="forward",
            )
        self.nonfinite("forward", x, y)
        y2 = self.layer.forward(x)
        if not isinstance(y2, np.ndarray) or y2.shape != y.shape:
            self.stop("deterministic forward", "fail", "two calls gave different shapes")
        diff = ~_same(y, y2)
        if diff.any():
            k = int(np.flatnonzero(diff)[0])
            self.stop(
                "deterministic forward",
                "fail",
                f"two calls on the same x differ at {int(diff.sum())} of {y.size} entries "
                f"(first at y{_index(y.shape, k)}: {y.flat[k]:.6g} vs {y2.flat[k]:.6g}); "
                "random masks, noise or state kept between calls make the gradient undefined",
                where="forward",
                bug="forward is not deterministic",
            )
        self.add("deterministic forward", "pass", "two calls on the same x agree bit for bit")
        return y

    def inplace(self, what: str, orig: Array, after: Array, changed: Array) -> None:
        k = int(np.flatnonzero(changed)[0])
        idx = _index(orig.shape, k)
        name = "x" if "input" in what else "dout"
        summary = (
            f"{what} in place: {int(changed.sum())} of {orig.size} entries changed "
            f"(e.g. {name}{idx}: {orig.flat[k]:.6g} -> {after.flat[k]:.6g}); the caller's "
            "array is silently corrupted"
        )
        status = "warn" if self.allow_inplace else "fail"
        where = "forward" if name == "x" else "backward"
        line = self.writing_line(name)
        self.add(
            f"in-place: {name} in {where}",
            status,
            summary,
            where=line or where,
            bug=f"in-place mutation of {name}"
            + (" (allowed by --allow-inplace)" if status == "warn" else ""),
        )

    def writing_line(self, name: str) -> str | None:
        """The user's line that writes into x (or dout): rerun with a read-only array."""
        x = self.x.copy()
        try:
            if name == "x":
                x.setflags(write=False)
                self.layer.forward_raw(x)
            else:
                y = self.layer.forward(x)
                d = _dout(np.shape(y), self.dt, self.rng)
                d.setflags(write=False)
                self.layer.backward_raw(x, d)
        except UserCodeError as err:
            if err.file and "read-only" in err.message:
                return err.where + (f": {err.code}" if err.code else "")
        except Exception:  # only a hint; the mutation is reported anyway
            return None
        return None

    def fp_line(self, where: str, x: Array) -> str | None:
        """The user's line raising the first floating-point exception (overflow, 0/0)."""
        self.layer.raise_fp = True
        try:
            if where == "forward":
                self.layer.forward(x)
            else:
                self.layer.vjp(x, _dout(np.shape(self.layer.forward(x)), self.dt, self.rng))
        except UserCodeError as err:
            if err.file and err.exc_type == "FloatingPointError":
                return f"{err.where}: {err.code} ({err.message})" if err.code else err.where
        except Exception:  # only a hint
            return None
        finally:
            self.layer.raise_fp = False
        return None

    def nonfinite(self, where: str, x: Array, v: Array) -> bool:
        bad = ~np.isfinite(v) & np.isfinite(x) if v.shape == x.shape else ~np.isfinite(v)
        if not bad.any():
            return False
        k = int(np.flatnonzero(bad)[0])
        at = f" at x{_index(x.shape, k)} = {x.flat[k]:.6g}" if v.shape == x.shape else ""
        line = self.fp_line(where, x)
        self.stop(
            f"finite {where}",
            "fail",
            f"{where} gave {v.flat[k]} at {int(bad.sum())} entries from finite input{at}",
            where=f"first floating-point error at {line}" if line else where,
            bug="NaN/inf from finite input (overflow or 0/0)",
        )
        return True

    def backward_checks(self, x: Array, dout: Array) -> None:
        dc = dout.copy()
        dx = self.layer.backward_raw(x, dc)
        changed = ~_same(dc, dout)
        if changed.any():
            self.inplace("backward modified its upstream gradient dout", dout, dc, changed)
        elif self.layer.has_dout:
            self.add("in-place: dout in backward", "pass", "dout is unchanged")
        self.check_dx(x, dx)
        self.nonfinite("backward" if self.layer.has_dout else "derivative", x, dx)

    def check_dx(self, x: Array, dx: Any) -> None:
        if dx is None:
            self.stop("dx", "fail", "backward returned None (it must return dx)", where="backward")
        if not isinstance(dx, np.ndarray):
            self.stop(
                "dx",
                "fail",
                f"backward returned a {type(dx).__name__}, not an array",
                where="backward",
            )
        if dx.shape != x.shape:
            hint = ""
            if dx.size != x.size:
                hint = (
                    " (a broadcasting accident, e.g. a (n,1) array against a (n,) one, "
                    "or a sum over the wrong axis)"
                )
            self.stop(
                "dx shape",
                "fail",
                f"backward returned dx of shape {dx.shape} for x of shape {x.shape}{hint}",
                where="backward",
                bug="wrong dx shape",
            )
        if dx.dtype != x.dtype:
            upcast = dx.dtype.kind == "f" and dx.dtype.itemsize > x.dtype.itemsize
            self.add(
                "dx dtype",
                "warn" if upcast else "fail",
                f"backward returned {dx.dtype} dx for {x.dtype} x"
                + (" (an upcast, e.g. from float64 constants or parameters)" if upcast else ""),
                where="backward",
                bug=None if upcast else "wrong dx dtype",
            )
            if not upcast:  # int, bool or float16: nothing after this is meaningful
                raise _Stop
        else:
            self.add("dx shape and dtype", "pass", f"{dx.shape} {dx.dtype}, like x")

    def choose_numeric_dtype(self, x: Array, y: Array) -> None:
        """Differentiate the float64 version of the user's forward when it has one."""
        if self.dt == np.float64:
            return
        try:
            y64 = self.layer.forward(x.astype(np.float64))
        except UserCodeError:
            return
        if isinstance(y64, np.ndarray) and y64.dtype == np.float64 and y64.shape == y.shape:
            self.num_dt = np.dtype(np.float64)

    def f_num(self, x: Array) -> Array:
        """The forward used by the numerical side, in float64 where available."""
        return np.asarray(self.layer.forward(x.astype(self.num_dt)), dtype=np.float64)

    # -- structure -----------------------------------------------------------

    def probe_elementwise(self, x: Array, y: Array) -> bool:
        """Changing x[j] by a signed random amount must change only y[j]."""
        if y.shape != x.shape:
            self.add(
                "elementwise?", "pass", f"no: y has shape {y.shape}", stats={"elementwise": False}
            )
            return False
        # a second, N(0,1) input: on the first one's extreme values a softmax can look
        # elementwise to rounding
        x2 = self.rng.normal(0, 1, x.shape).astype(self.dt)
        for xp, yp in ((x, y), (x2, self.layer.forward(x2))):
            mask = self.rng.random(xp.shape) < 0.5
            delta = self.rng.uniform(0.1, 1.0, xp.shape) * self.rng.choice([-1.0, 1.0], xp.shape)
            x1 = np.where(mask, xp + delta, xp).astype(self.dt)
            y1 = self.layer.forward(x1)
            moved = np.abs(y1 - yp) > ELEMENTWISE_ULPS * self.eps * np.abs(yp)
            if (moved & ~mask).any():
                self.add(
                    "elementwise?",
                    "pass",
                    "no: changing some x[j] moves other outputs; checking the Jacobian",
                    stats={"elementwise": False},
                )
                return False
        self.add("elementwise?", "pass", "yes: y[j] depends on x[j] only; checking point by point")
        return True

    def find_params(self, x: Array, dout: Array) -> None:
        layer = self.layer
        if not hasattr(layer, "candidate_params"):
            self.result.params = [p.name for p in layer.params]
            return
        layer.vjp(x, dout)
        confirmed = []
        y0 = layer.forward(x)
        for p in layer.candidate_params():
            v0 = p.get().copy()
            bump = self.rng.uniform(0.01, 0.1, v0.shape) * self.rng.choice([-1.0, 1.0], v0.shape)
            p.set(v0 + bump * (1 + np.abs(v0)))
            try:
                y1 = layer.forward(x)
            finally:
                p.set(v0)
            if isinstance(y1, np.ndarray) and y1.shape == y0.shape and not _same(y0, y1).all():
                confirmed.append(p)
        layer.params = confirmed
        self.result.params = [p.name for p in confirmed]

    # -- linearity in dout ---------------------------------------------------

    def linearity(self, x: Array, y: Array) -> None:
        d1 = _dout(y.shape, self.dt, self.rng)
        d2 = _dout(y.shape, self.dt, self.rng)
        a = self.dx(x, d1)
        a2 = self.dx(x, (2 * d1).astype(self.dt))
        b = self.dx(x, d2)
        ab = self.dx(x, (d1 + d2).astype(self.dt))
        scale = np.max(np.abs(a)) + np.max(np.abs(b)) + np.finfo(self.dt).tiny
        tol = LINEARITY_RTOL[self.dt]
        if np.max(np.abs(a)) == 0 and np.max(np.abs(b)) == 0:
            self.add("linear in dout", "pass", "dx is zero for every dout")
            return
        if np.allclose(a2, a, rtol=tol, atol=tol * scale) and not np.allclose(
            a, 0, atol=tol * scale
        ):
            self.linear_bug = "forgot to multiply by dout"
            self.add(
                "linear in dout",
                "fail",
                "backward(2·dout) = backward(dout): dx does not depend on dout",
                where="backward",
                bug="forgot to multiply by dout (backward ignores the upstream gradient)",
            )
            return
        # judged as a whole (norms): rounding, amplified by cancellation inside backward,
        # can move single tiny entries; the bugs this is for move all of them
        r_scale = np.linalg.norm(a2 - 2 * a) / (np.linalg.norm(a2) + 2 * np.linalg.norm(a))
        r_add = np.linalg.norm(ab - (a + b)) / (
            np.linalg.norm(ab) + np.linalg.norm(a) + np.linalg.norm(b)
        )
        if r_scale <= tol and r_add <= ADDITIVITY_RTOL[self.dt]:
            self.add("linear in dout", "pass", "backward(2·d) = 2·backward(d), additive in d")
            return
        e_scale = np.abs(a2 - 2 * a) <= tol * (np.abs(a2) + 2 * np.abs(a)) + tol * scale
        e_add = np.abs(ab - (a + b)) <= tol * (np.abs(ab) + np.abs(a) + np.abs(b)) + tol * scale
        bad = ~(e_scale & e_add)
        k = int(np.flatnonzero(bad)[0])
        self.linear_bug = "backward is not linear in dout"
        self.add(
            "linear in dout",
            "fail",
            f"backward is not linear in dout at {int(bad.sum())} of {bad.size} entries "
            f"(e.g. dx{_index(x.shape, k)}: backward(2d) = {a2.flat[k]:.6g}, "
            f"2·backward(d) = {2 * a.flat[k]:.6g})",
            where="backward",
            bug="backward is not linear in dout (e.g. dout used in a condition or a "
            "nonlinearity, or a constant added)",
        )

    def dx(self, x: Array, dout: Array) -> Array:
        r = self.layer.vjp(x, dout)
        if not isinstance(r.dx, np.ndarray) or r.dx.shape != x.shape:
            self.stop("dx shape", "fail", "backward's dx changed shape between calls")
        return r.dx.astype(np.float64)

    # -- elementwise: per point ----------------------------------------------

    def per_point(self) -> None:
        """Every probe point checked by the engine (``numdiff.check_elementwise``)."""
        from actcheck import numdiff

        n = math.prod(self.shape)
        xs, a_all, ref_all, tol_all, y_all, verdicts, kinks = [], [], [], [], [], [], []
        for b in range(PROBE_BATCHES):
            x = self.x if b == 0 else probe_points(n, self.dt, self.rng, b).reshape(self.shape)
            dout = _dout(self.shape, self.dt, self.rng)
            r = self.layer.vjp(x, dout)
            if not isinstance(r.dx, np.ndarray) or r.dx.shape != x.shape:
                self.stop("dx shape", "fail", "backward's dx changed shape between calls")
            fin = np.isfinite(r.y) & np.isfinite(r.dx)
            if not fin.all():
                self.nonfinite(
                    "forward" if not np.isfinite(r.y).all() else "backward",
                    x,
                    np.where(np.isfinite(r.y), r.dx, r.y),
                )
            res = numdiff.check_elementwise(
                # the numerical side in num_dt (float64 where the code has a float64 version), so
                # the engine's round-off model is that of the function actually evaluated
                self.f_flat,
                self.df_flat(dout),
                x.ravel(),
                dtype=self.num_dt,
                fixed_shape=True,
            )
            xs.append(res.x.astype(np.float64))
            a_all.append(res.analytic)
            ref_all.append(res.numerical)
            tol_all.append(res.bound)
            verdicts.append(res.verdict)
            kinks.extend(res.kinks)
            y_all.append(np.asarray(r.y, dtype=np.float64).ravel())
        x = np.concatenate(xs)
        a = np.concatenate(a_all)
        y = np.concatenate(y_all)
        ref = np.concatenate(ref_all)
        tol = np.concatenate(tol_all)
        verdict = np.concatenate(verdicts)
        kink = (verdict == numdiff.KINK) | (verdict == numdiff.KINK_MISMATCH)
        at_kink = verdict == numdiff.KINK_MISMATCH
        # hand-written derivatives round like the terms they are built from (0.5·x·(1-t²)·u'
        # where 1+t has cancelled), not like f' itself: errors below this floor, relative to
        # the derivative's size over the probe range, are rounding, not bugs
        big = np.abs(ref[np.isfinite(ref)])
        floor = FLOOR_ULPS[self.dt] * self.eps * (float(big.max()) if big.size else 1.0)
        # likewise the forward: its noise follows its intermediate values (about max|y|),
        # and reaches the numerical derivative divided by the engine's step
        fin_y = np.abs(y[np.isfinite(y)])
        eps_num = float(np.finfo(self.num_dt).eps)
        noise = (
            NOISE_ULPS
            * eps_num
            * (float(fin_y.max()) if fin_y.size else 1.0)
            / (eps_num ** (1 / 3) * np.maximum(np.abs(x), 1.0))
        )
        floor = np.maximum(floor, noise)
        tol = np.maximum(tol, floor)
        small = np.abs(a - ref) <= floor
        mismatch = (verdict == numdiff.MISMATCH) & ~small
        at_kink = at_kink & ~small
        fail = at_kink | mismatch
        self.kink_mask = kink
        left = np.full(x.shape, np.nan)
        right = np.full(x.shape, np.nan)
        if kinks:
            # every point takes the one-sided values of its nearest reported kink
            kx = np.array([k.x for k in kinks])
            near = (
                np.abs(x[:, None] - kx[None, :]).argmin(axis=1) if x.size * kx.size < 4e7 else None
            )
            if near is not None:
                left = np.where(kink, np.array([k.left for k in kinks])[near], np.nan)
                right = np.where(kink, np.array([k.right for k in kinks])[near], np.nan)
        stats = {
            "points": int(x.size),
            "max_abs_error": float(np.max(np.abs(a - ref)[~kink], initial=0.0)),
            "kink_points": int(kink.sum()),
            "method": "per point (numdiff engine: Richardson central / complex step, "
            "one-sided at kinks, per-point error bound)",
        }
        self.result.method = "per point (elementwise)"
        kinks_summary = _kink_summary(kinks)
        if kinks_summary:
            stats["kinks"] = kinks_summary
        if not fail.any():
            extra = f"; kinks: {'; '.join(kinks_summary)}" if kinks_summary else ""
            self.add(
                "dx vs numerical derivative",
                "pass",
                f"{x.size} points in [{x.min():.3g}, {x.max():.3g}], max |error| "
                f"{stats['max_abs_error']:.2g}{extra}",
                stats=stats,
            )
            return
        bug, where = self.classify_elementwise(x, a, ref, tol, y, fail, at_kink, left, right)
        worst = self.worst_points(x, a, ref, tol, fail, left, right, kink)
        self.add(
            "dx vs numerical derivative",
            "fail",
            f"wrong at {int(fail.sum())} of {x.size} points (worst |error| "
            f"{np.max(np.abs(a - ref)[fail]):.3g})",
            where=where,
            bug=bug,
            worst=worst,
            stats=stats,
        )

    def f_flat(self, v: Array) -> Array:
        """The forward on a flat array of any length, in batches of the layer's shape."""
        n = math.prod(self.shape)
        real = not np.iscomplexobj(v)
        if real:
            v = v.astype(self.num_dt)  # the float64 version of the code where it has one
        out = []
        for k in range(0, max(v.size, 1), n):
            chunk = v[k : k + n]
            pad = np.resize(chunk, n) if chunk.size != n else chunk
            out.append(
                np.asarray(self.layer.forward(pad.reshape(self.shape))).ravel()[: chunk.size]
            )
        res = np.concatenate(out)[: v.size]
        return res.astype(np.float64) if real else res

    def df_flat(self, dout: Array) -> Callable[[Array], Array]:
        """f'(x) = dx / dout, with the batch's random signed dout."""
        n = math.prod(self.shape)
        d = dout.ravel().astype(np.float64)

        def df(v: Array) -> Array:
            pad = np.resize(v, n) if v.size != n else v
            r = self.layer.vjp(pad.reshape(self.shape).astype(self.dt), dout)
            return (np.asarray(r.dx, dtype=np.float64).ravel() / d)[: v.size]

        return df

    def worst_points(
        self,
        x: Array,
        a: Array,
        ref: Array,
        tol: Array,
        fail: Array,
        left: Array,
        right: Array,
        kink: Array,
    ) -> list[dict[str, Any]]:
        idx = np.flatnonzero(fail)
        ratio = np.abs(a - ref)[idx] / tol[idx]
        order = idx[np.argsort(-ratio, kind="stable")][:WORST_SHOWN]
        out = []
        for i in order:
            w: dict[str, Any] = {
                "x": float(x[i]),
                "backward": float(a[i]),
                "numerical": float(ref[i]),
                "error": float(abs(a[i] - ref[i])),
                "bound": float(tol[i]),
            }
            if kink[i]:
                w["left"] = float(left[i])
                w["right"] = float(right[i])
            out.append(w)
        return out

    # -- classification ------------------------------------------------------

    def classify_elementwise(
        self,
        x: Array,
        a: Array,
        ref: Array,
        tol: Array,
        y: Array,
        fail: Array,
        at_kink: Array,
        left: Array,
        right: Array,
    ) -> tuple[str, str]:
        if self.linear_bug:
            return f"follows from: {self.linear_bug}", "backward"
        kink_fail = fail & at_kink
        if not (fail & ~kink_fail).any():
            return self.kink_bug(x, a, left, right, fail)
        reg = fail & ~kink_fail
        ok = ~fail & ~self.kink_mask
        region = self.region(x, reg, ok)
        where = f"backward, {region[0]}" if region[1] else "backward (dx)"
        for name, pred, everywhere in self.hypotheses(x, a, ref, y, reg):
            if everywhere and region[1]:
                continue
            good = np.abs(a - pred) <= np.maximum(tol, 1e-6 * (1 + np.abs(pred)))
            defined = np.isfinite(pred) & reg
            enough = defined.sum() >= max(1, min(MIN_CLASSIFY_POINTS, 0.5 * reg.sum()))
            if enough and good[defined].mean() >= CLASSIFY_SHARE:
                # only points where this bug would have shown can bound its region
                telling = ok & ~(np.abs(pred - ref) <= tol)
                sub = self.region(x, reg, telling)
                if sub[1]:
                    return f"{name}, {sub[0]}", f"backward, {sub[0]}"
                return name, "backward (dx)"
        if region[1]:
            return f"wrong only {region[0]}", where
        sides = self.side_summary(x, a, ref, reg)
        if sides:
            return "backward does not match forward: " + "; ".join(sides), where
        return "derivative wrong (no simple pattern)", where

    def kink_bug(
        self, x: Array, a: Array, left: Array, right: Array, fail: Array
    ) -> tuple[str, str]:
        i = int(np.flatnonzero(fail)[0])
        at = np.unique(np.round(x[fail], 6))
        pts = ", ".join(f"{v:.6g}" for v in at[:4])
        return (
            f"subgradient outside the one-sided derivatives: at x = {x[i]:.6g} backward gives "
            f"{a[i]:.6g}, but the one-sided derivatives are {left[i]:.6g} (left) and "
            f"{right[i]:.6g} (right); any value between them is valid, this one is not",
            f"wrong only at the kink x = {pts}",
        )

    def hypotheses(
        self, x: Array, a: Array, ref: Array, y: Array, reg: Array
    ) -> list[tuple[str, Array, bool]]:
        """(bug class, what backward would return with it, whether it shows everywhere).

        Patterns that show everywhere (a mix-up of f, f', x and y, an added constant,
        another function's derivative) are not offered for failures confined to an interval.
        """
        hyps: list[tuple[str, Array, bool]] = [("sign flip (backward = -f'(x))", -ref, False)]
        nz = reg & (np.abs(ref) > 1e-6)
        if nz.any():
            ratios = a[nz] / ref[nz]
            c = float(np.median(ratios))
            if c != 0 and abs(c - 1) > 1e-6 and abs(c + 1) > 1e-6:
                hyps.append((f"constant factor: backward = {_nice(c)} × f'(x)", c * ref, False))
        if reg.any():
            off = float(np.median(a[reg] - ref[reg]))
            if off != 0:
                hyps.append((f"constant added: backward = f'(x) + {off:.6g}", ref + off, True))
        hyps.append(("returns f(x) instead of f'(x)", y, True))
        hyps.append(
            (
                "uses the output where the input is needed: computes f'(y), y = f(x)",
                self.deriv_at(y),
                True,
            )
        )
        hyps.append(
            (
                "uses the input where the output is needed (e.g. a formula in y applied to x)",
                self.deriv_at_preimage(x, y, ref),
                True,
            )
        )
        hyps.extend(_catalog_derivatives(x))
        return hyps

    def deriv_at(self, v: Array) -> Array:
        """The numerical f' at the points v (the forward is elementwise: any points do)."""
        from actcheck.numdiff import richardson_central

        try:
            return richardson_central(self.f_flat, v.astype(self.dt), dtype=self.dt)
        except UserCodeError:
            return np.full(v.shape, np.nan)

    @staticmethod
    def deriv_at_preimage(x: Array, y: Array, ref: Array) -> Array:
        """g(x) with f'(t) = g(f(t)): f' as a function of the output, at x (monotone f)."""
        order = np.argsort(x)
        ys, ds = y[order], ref[order]
        if not (np.all(np.diff(ys) >= 0) or np.all(np.diff(ys) <= 0)):
            return np.full(x.shape, np.nan)
        if ys[0] > ys[-1]:
            ys, ds = ys[::-1], ds[::-1]
        inside = (x > ys[0]) & (x < ys[-1])
        return np.where(inside, np.interp(x, ys, ds), np.nan)

    def region(self, x: Array, fail: Array, ok: Array) -> tuple[str, bool]:
        """Where the failures are, as intervals of x; True when they are confined to some."""
        order = np.argsort(x, kind="stable")
        xs, fs, oks = x[order], fail[order], ok[order]
        keep = fs | oks
        xs, fs = xs[keep], fs[keep]
        if not fs.any():
            return "", False
        runs = []
        start = None
        for i, f in enumerate(fs):
            if f and start is None:
                start = i
            if not f and start is not None:
                runs.append((start, i - 1))
                start = None
        if start is not None:
            runs.append((start, len(fs) - 1))
        # "wrong only there" needs enough correct points elsewhere to mean something
        n_ok = len(fs) - int(fs.sum())
        confined = len(runs) <= 3 and n_ok >= max(MIN_CLASSIFY_POINTS, REGION_OK_SHARE * len(fs))
        parts = []
        for s, e in runs[:3]:
            lo, hi = xs[s], xs[e]
            left_ok = xs[s - 1] if s > 0 else None
            right_ok = xs[e + 1] if e + 1 < len(xs) else None
            if lo == hi:
                parts.append(f"at x = {lo:.6g}")
            elif left_ok is None and right_ok is not None:
                parts.append(f"for x <= {hi:.6g} (right from x = {right_ok:.6g})")
            elif right_ok is None and left_ok is not None:
                parts.append(f"for x >= {lo:.6g} (right up to x = {left_ok:.6g})")
            elif left_ok is None and right_ok is None:
                parts.append("for every x checked")
            else:
                parts.append(
                    f"for x in [{lo:.6g}, {hi:.6g}] (right at x = {left_ok:.6g} and "
                    f"x = {right_ok:.6g})"
                )
        if len(runs) > 3:
            return (
                f"at {int(fail.sum())} points scattered over [{x.min():.3g}, {x.max():.3g}]",
                False,
            )
        return " and ".join(parts), confined

    @staticmethod
    def side_summary(x: Array, a: Array, ref: Array, fail: Array) -> list[str]:
        out = []
        for label, side in (("x < 0", x < 0), ("x > 0", x > 0)):
            m = fail & side
            if m.sum() < 2:
                continue
            av, rv = a[m], ref[m]
            if np.ptp(av) <= 1e-6 * (1 + np.abs(av).max()) and np.ptp(rv) <= 1e-6 * (
                1 + np.abs(rv).max()
            ):
                out.append(
                    f"for {label} backward gives {av[0]:.6g} but forward's slope is {rv[0]:.6g}"
                )
        return out

    # -- not elementwise: Jacobian or projections ----------------------------

    def rows_independent(self, x: Array, y: Array) -> bool:
        if x.ndim < 2 or y.ndim < 1 or x.shape[0] < 2 or y.shape[0] != x.shape[0]:
            return False
        x1 = x.copy()
        x1[0] = x1[0] + self.rng.uniform(0.1, 1.0, x1[0].shape) * self.rng.choice(
            [-1.0, 1.0], x1[0].shape
        )
        y1 = self.layer.forward(x1.astype(self.dt))
        if y1.shape != y.shape:
            return False
        return bool(_same(y1[1:], y[1:]).all())

    def jacobian(self, x: Array, y: Array) -> None:
        per_sample = self.rows_independent(x, y)
        if per_sample:
            self.rows_coupled_check(x, y)
        din = x[0].size if per_sample else x.size
        dout_n = y[0].size if per_sample else y.size
        if din <= FULL_JACOBIAN_MAX and dout_n <= FULL_JACOBIAN_MAX:
            self.full_jacobian(x, y, per_sample)
        else:
            self.projections(x, y)

    def rows_coupled_check(self, x: Array, y: Array) -> None:
        d = np.zeros(y.shape, self.dt)
        d[0] = _dout(y[0].shape, self.dt, self.rng)
        dx = self.dx(x, d)
        if np.any(dx[1:] != 0):
            self.add(
                "batch rows independent",
                "fail",
                "forward treats each batch row separately, but backward with dout non-zero "
                "only in row 0 changes dx in other rows",
                where="backward",
                bug="backward mixes batch rows (e.g. a sum or mean over the wrong axis)",
            )

    def full_jacobian(self, x: Array, y: Array, per_sample: bool) -> None:
        eps = float(np.finfo(self.num_dt).eps)
        xn = x.astype(np.float64)
        if per_sample:
            B, din, dout_n = x.shape[0], x[0].size, y[0].size
            xr, shape_in = xn.reshape(B, din), x.shape
        else:
            B, din, dout_n = 1, x.size, y.size
            xr, shape_in = xn.reshape(1, din), x.shape
        jn = np.zeros((B, dout_n, din))
        je = np.zeros((B, dout_n, din))
        h = STEP[self.num_dt] * _pow2_scale(xr)
        # y's entries may be sums that cancel (x @ W): their round-off follows the typical |y|
        yscale = float(np.mean(np.abs(y)))
        for j in range(din):  # one column for every sample at once
            e = np.zeros((B, din))
            e[:, j] = 1.0

            def g(t: Any, e: Array = e) -> Array:
                xt = (xr + e * np.asarray(t)[:, :1]).reshape(shape_in)
                return self.f_num(xt.astype(self.num_dt)).reshape(B, dout_n)

            d = diff_along(
                lambda t, g=g: g(t), h[:, j][:, None] * np.ones((B, dout_n)), eps, yscale
            )
            jn[:, :, j] = d.value
            je[:, :, j] = d.err
        ja = np.zeros_like(jn)
        for k in range(dout_n):  # one row of J for every sample at once
            d = np.zeros((B, dout_n), self.dt)
            d[:, k] = 1.0
            ja[:, k, :] = self.dx(x, d.reshape(y.shape)).reshape(B, din)
        rowmax = np.max(np.abs(jn), axis=2, keepdims=True)
        floor = FLOOR_ULPS[self.dt] * self.eps * (np.abs(jn) + rowmax + 1)
        tol = TOL_FACTOR * je + floor
        fail = np.abs(ja - jn) > tol
        what = f"{'per-sample ' if per_sample else ''}Jacobian {dout_n}×{din}" + (
            f" for each of {B} samples" if per_sample else ""
        )
        self.result.method = f"full {what}"
        stats = {"entries": int(jn.size), "max_abs_error": float(np.max(np.abs(ja - jn)))}
        if not fail.any():
            self.add(
                "Jacobian vs numerical",
                "pass",
                f"{what}: all {jn.size} entries agree, max |error| {stats['max_abs_error']:.2g}",
                stats=stats,
            )
            return
        bug = self.classify_matrix(ja, jn, tol)
        idx = np.flatnonzero(fail)
        ratio = (np.abs(ja - jn) / tol).ravel()[idx]
        worst = []
        for i in idx[np.argsort(-ratio, kind="stable")][:WORST_SHOWN]:
            b, k, j = np.unravel_index(i, jn.shape)
            worst.append(
                {
                    "sample": int(b),
                    "output": int(k),
                    "input": int(j),
                    "backward": float(ja.flat[i]),
                    "numerical": float(jn.flat[i]),
                    "error": float(abs(ja.flat[i] - jn.flat[i])),
                    "bound": float(tol.flat[i]),
                }
            )
        self.add(
            "Jacobian vs numerical",
            "fail",
            f"{what}: {int(fail.sum())} of {jn.size} entries wrong",
            where="backward (entries dy[output]/dx[input])",
            bug=bug,
            worst=worst,
            stats=stats,
        )

    def classify_matrix(self, ja: Array, jn: Array, tol: Array) -> str:
        if self.linear_bug:
            return f"follows from: {self.linear_bug}"
        bug = _factor_bug(ja, jn, tol, "backward")
        if bug:
            return bug
        n_out, n_in = jn.shape[1], jn.shape[2]
        if n_out == n_in:
            eye = np.eye(n_in, dtype=bool)[None]
            diag_ok = np.all(
                np.abs(ja - jn)[np.broadcast_to(eye, ja.shape)]
                <= tol[np.broadcast_to(eye, ja.shape)]
            )
            if diag_ok and np.all(
                np.abs(ja[np.broadcast_to(~eye, ja.shape)]) <= tol[np.broadcast_to(~eye, ja.shape)]
            ):
                return (
                    "only the diagonal of the Jacobian is there: the cross terms "
                    "(dy_k/dx_j, k != j) are missing"
                )
            if diag_ok:
                return "the diagonal of the Jacobian is right, the cross terms (k != j) are wrong"
            jt = np.swapaxes(jn, 1, 2)
            if np.all(np.abs(ja - jt) <= tol + np.swapaxes(tol, 1, 2)):
                return "transposed Jacobian (backward multiplies by J instead of J^T)"
        return "Jacobian entries wrong (no simple pattern)"

    def projections(self, x: Array, y: Array) -> None:
        eps = float(np.finfo(self.num_dt).eps)
        xn = x.astype(np.float64)
        hscale = STEP[self.num_dt] * float(_pow2_scale(np.array(np.sqrt(np.mean(xn * xn)))))
        an, nn, tol_all, noise = [], [], [], []
        yn = y.astype(np.float64)
        ymax = float(np.max(np.abs(yn)))
        for _ in range(PROJECTIONS):
            u = _dout(y.shape, self.dt, self.rng)
            v = self.rng.normal(0, 1, x.shape)
            v /= np.max(np.abs(v))
            un = u.astype(np.float64)

            def g(t: Array, v: Array = v, un: Array = un) -> Array:
                return np.array(
                    [np.sum(un * self.f_num((xn + float(np.ravel(t)[0]) * v).astype(self.num_dt)))]
                )

            d = diff_along(
                lambda t, g=g: g(t), np.array([hscale]), eps, float(np.sum(np.abs(un * yn)))
            )
            dx = self.dx(x, u)
            a = float(np.sum(dx * v))
            # the analytic side's own rounding, seen by splitting u = w + (u - w)
            w = _dout(y.shape, self.dt, self.rng)
            a_split = float(np.sum((self.dx(x, w) + self.dx(x, (u - w).astype(self.dt))) * v))
            n = float(d.value[0])
            # the analytic side runs in the checked dtype: its intermediate values (of the
            # size of y) carry eps·|y| errors, summed over the entries like a random walk
            tol = TOL_FACTOR * float(d.err[0]) + FLOOR_ULPS[self.dt] * self.eps * (
                float(np.sum(np.abs(dx * v))) + abs(n) + ymax * float(np.linalg.norm(un))
            )
            noise.append(abs(a - a_split))
            an.append(a)
            nn.append(n)
            tol_all.append(tol)
        a, n = np.array(an), np.array(nn)
        # the analytic rounding level is much the same for every projection: take the largest
        tol = np.array(tol_all) + TOL_FACTOR * max(noise)
        fail = np.abs(a - n) > tol
        self.result.method = f"{PROJECTIONS} random projections u^T J v"
        stats = {"projections": PROJECTIONS, "max_abs_error": float(np.max(np.abs(a - n)))}
        if not fail.any():
            self.add(
                "Jacobian vs numerical",
                "pass",
                f"{PROJECTIONS} random projections u·J·v agree (each within its own error "
                f"estimate), max |error| {stats['max_abs_error']:.2g}",
                stats=stats,
            )
            return
        bug = "Jacobian wrong (seen through random projections)"
        if self.linear_bug:
            bug = f"follows from: {self.linear_bug}"
        else:
            bug = _factor_bug(a, n, tol, "backward") or bug
        worst = [
            {
                "projection": int(i),
                "backward u·J·v": float(a[i]),
                "numerical": float(n[i]),
                "error": float(abs(a[i] - n[i])),
                "bound": float(tol[i]),
            }
            for i in np.flatnonzero(fail)[:WORST_SHOWN]
        ]
        self.add(
            "Jacobian vs numerical",
            "fail",
            f"{int(fail.sum())} of {PROJECTIONS} random projections u·J·v disagree",
            where="backward",
            bug=bug,
            worst=worst,
            stats=stats,
        )

    # -- parameters ----------------------------------------------------------

    def param_check(self, p: Any, x: Array, dout: Array) -> None:
        r = self.layer.vjp(x, dout)
        g = r.grads.get(p.name)
        v0 = p.get().copy()
        name = f"parameter {p.name}"
        if g is None:
            self.add(
                name, "fail", f"backward did not store a gradient for {p.name}", where="backward"
            )
            return
        g = np.asarray(g, dtype=np.float64)
        if g.shape != v0.shape and not (p.scalar and g.size == 1):
            self.add(
                name,
                "fail",
                f"gradient of shape {g.shape} for a parameter of shape {v0.shape}",
                where="backward",
                bug="wrong parameter-gradient shape (a missing sum over the batch?)",
            )
            return
        g = g.reshape(v0.shape)
        dn = dout.astype(np.float64)
        # the numerical side runs in the parameter's dtype and in num_dt (float64 where the
        # layer has a float64 version); the stored gradient is judged with the checked dtype
        peps = float(np.finfo(v0.dtype if v0.dtype.kind == "f" else np.float64).eps)
        peps = max(peps, float(np.finfo(self.num_dt).eps))
        h = 2.0**-20 if peps < 1e-10 else 2.0**-8

        def phi(vec: Array, t: Array) -> Array:
            out = []
            for ti in np.atleast_1d(t):
                p.set((v0.astype(np.float64) + float(ti) * vec).astype(v0.dtype))
                try:
                    y = self.layer.forward(x.astype(self.num_dt))
                    out.append(np.sum(dn * np.asarray(y, dtype=np.float64)))
                finally:
                    p.set(v0)
            return np.array(out)

        if v0.size <= PARAM_ENTRIES_MAX:
            dirs = [np.eye(1, v0.size, k).reshape(v0.shape) for k in range(v0.size)]
            labels = [
                f"{p.name}{_index(v0.shape, k)}" if v0.ndim else p.name for k in range(v0.size)
            ]
        else:
            dirs = [self.rng.normal(0, 1, v0.shape) for _ in range(PROJECTIONS)]
            labels = [f"projection {k}" for k in range(PROJECTIONS)]
        scale = h * float(_pow2_scale(np.array(np.max(np.abs(v0)) if v0.size else 1.0)))
        yscale = float(np.sum(np.abs(dn * np.asarray(r.y, dtype=np.float64))))
        rows = []
        for vec, label in zip(dirs, labels, strict=True):
            d = diff_along(lambda t, vec=vec: phi(vec, t), np.array([scale]), peps, yscale)
            a = float(np.sum(g * vec))
            n = float(d.value[0])
            tol = TOL_FACTOR * float(d.err[0]) + FLOOR_ULPS[self.dt] * self.eps * (
                float(np.sum(np.abs(g * vec))) + abs(n) + 1
            )
            rows.append((label, a, n, tol))
        a = np.array([r[1] for r in rows])
        n = np.array([r[2] for r in rows])
        tol = np.array([r[3] for r in rows])
        fail = np.abs(a - n) > tol
        how = (
            "entry by entry"
            if v0.size <= PARAM_ENTRIES_MAX
            else f"{PROJECTIONS} random projections"
        )
        if not fail.any():
            self.add(
                name,
                "pass",
                f"d{p.name} matches ({how}, shape {v0.shape}), max |error| "
                f"{float(np.max(np.abs(a - n))):.2g}",
            )
            return
        bug = f"wrong gradient for {p.name}"
        if len(rows) >= 3:  # a factor read off one or two numbers would be a guess
            bug = _factor_bug(a, n, tol, f"d{p.name}") or bug
        worst = [
            {
                "entry": r[0],
                "backward": r[1],
                "numerical": r[2],
                "error": abs(r[1] - r[2]),
                "bound": r[3],
            }
            for r, f in zip(rows, fail, strict=True)
            if f
        ][:WORST_SHOWN]
        self.add(
            name,
            "fail",
            f"stored gradient of {p.name} is wrong ({int(fail.sum())} of {len(rows)} "
            f"{'entries' if v0.size <= PARAM_ENTRIES_MAX else 'projections'})",
            where=f"backward (gradient of {p.name})",
            bug=bug,
            worst=worst,
        )


def _catalog_derivatives(x: Array) -> list[tuple[str, Array, bool]]:
    """Each catalog activation's derivative (defaults): a backward copied from another layer."""
    from actcheck.activations import get, names

    out = []
    for name in names():
        act = get(name)
        if act.stochastic:
            continue
        with np.errstate(all="ignore"):
            d = np.asarray(act.derivative(x), dtype=np.float64)
        out.append((f"backward computes {name}'(x), the derivative of {act.label}", d, True))
    return out


def _kink_summary(kinks: list[Any]) -> list[str]:
    """The engine's kink reports, one line per kink position that passed: the convention used."""
    best: dict[float, Any] = {}
    for k in kinks:
        # reported where a probe sits exactly on a round x (0, 6, -3): points merely near a
        # kink have a one-sided stencil and no convention worth naming
        if k.passed and k.x == round(k.x, 3):
            best.setdefault(k.x + 0.0, k)
    return [
        f"{k.describe('f')} ({k.left:.6g} | {k.right:.6g})" for _, k in sorted(best.items())[:4]
    ]


def _factor_bug(a: Array, n: Array, tol: Array, what: str) -> str | None:
    """'sign flip' / 'constant factor' when a = c·n for one c != 1 within the tolerances."""
    den = float(np.sum(n * n))
    if den <= 0:
        return None
    c = float(np.sum(a * n)) / den
    if abs(c - 1) < LABEL_RTOL or not np.all(np.abs(a - c * n) <= tol + FIT_RTOL * np.abs(n)):
        return None
    if abs(c + 1) < FIT_RTOL:
        return f"sign flip: {what} = -true"
    hint = ""
    inv = 1 / c if c else 0
    if inv > 1 and abs(inv - round(inv)) < LABEL_RTOL * inv:
        hint = " (a mean where a sum is needed?)"
    return f"constant factor: {what} = {_nice(c)} × true{hint}"


def _nice(c: float) -> str:
    """A factor as a short number: 2, 0.5 -> 1/2, -3, 1/64."""
    for den in (1, 2, 3, 4, 6, 8):
        num = round(c * den)
        if num and abs(c * den - num) < LABEL_RTOL * abs(num):
            return str(num) if den == 1 else f"{num}/{den}"
    if c != 0:
        inv = 1 / c
        if abs(inv) < 1e6 and abs(inv - round(inv)) < LABEL_RTOL * abs(inv):
            return f"1/{round(inv)}" if inv > 0 else f"-1/{-round(inv)}"
    return f"{c:.6g}"
