"""Gradient checks of catalog activations: d/dx, d²/dx² and d/dθ at every probe point.

Built on ``actcheck.numdiff.check_elementwise`` (see its docstring for how a
point is judged). This module chooses the probe points, binds the catalog's
kinks and parameters, and collects the verdicts into a ``GradcheckResult``.

>>> import actcheck
>>> actcheck.gradcheck("relu").passed
True
"""

from __future__ import annotations

import sys
import time
import types
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from actcheck import defaults
from actcheck.activations import Activation, ActivationError, Kink, parse_spec
from actcheck.numdiff import (
    SAFETY,
    ElementwiseResult,
    KinkReport,
    check_direction,
    check_elementwise,
)

Array = np.ndarray

DEFAULT_POINTS = defaults.POINTS
DEFAULT_RANGE = defaults.RANGE
DEFAULT_SEED = defaults.SEED
GRID_POINTS = 401
DISTRIBUTIONS = defaults.DISTRIBUTIONS
DTYPES = defaults.DTYPES
# probes around each kink: multiples of the difference step, and ulps
KINK_STEP_MULTIPLES = (0.25, 0.5, 1.0, 2.0, 3.0, 4.0)
KINK_ULPS = 3
SATURATION = (8.0, 10.0, 15.0, 19.5, 20.0, 20.5, 25.0, 30.0, 40.0, 60.0, 100.0, 300.0, 700.0)
LARGE_EXPONENTS = range(3, 31)  # 1e3 .. 1e30
TINY_EXPONENTS = range(3, 31)  # 1e-3 .. 1e-30
PARAM_STEP_HALVINGS = 40
EXTRA_TINY = {"float64": (1e-100, 1e-300, 1e-310, 5e-324), "float32": (1e-38, 1e-40, 1e-45)}


# peak memory of one check per probe point and byte of the dtype (measured: ~250 bytes a
# float64 point for softplus with its parameter derivatives; a margin on top)
BYTES_PER_POINT_ITEM = 50


def memory_estimate(points: int, dtype: str = "float64") -> int:
    """Bytes a gradcheck of ``points`` random points holds at its peak."""
    return int(points) * BYTES_PER_POINT_ITEM * np.dtype(dtype).itemsize


def check_size(points: int, dtype: str = "float64") -> None:
    """InputError, before any work, when ``points`` would need more than ``MEMORY_LIMIT``."""
    from actcheck.errors import too_big

    need = memory_estimate(points, dtype)
    if need > defaults.MEMORY_LIMIT:
        most = defaults.MEMORY_LIMIT // (BYTES_PER_POINT_ITEM * np.dtype(dtype).itemsize)
        raise too_big(f"{points:,} points", need, f"use at most {most:,} points")


class GradcheckError(ValueError):
    """Bad arguments to gradcheck (zero points, reversed range, unknown dtype, ...)."""


class GradientCheckError(AssertionError):
    """Raised by ``assert_gradients``; the message says which points fail and by how much."""


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

    def summary(self, worst: int = 5) -> str:
        """Readable text: verdict per check, the worst points of failed ones, the kinks."""
        act = self.activation
        status = "passed" if self.passed else "FAILED"
        lines = [
            f"gradcheck {act.spec} ({self.dtype}, {self.n_points:,} points, seed {self.seed}): "
            f"{status}"
        ]
        for c in self.checks:
            lines.append(f"  {self.label(c)}: " + _check_line(c))
            if not c.passed:
                for w in c.worst(worst):
                    if w.verdict not in ("mismatch", "kink mismatch"):
                        continue
                    head = (
                        f"    x={w.x:.17g}: analytic {_g(w.analytic)}, numerical {_g(w.numerical)}"
                    )
                    if not np.isfinite(w.error):
                        lines.append(f"{head}: not a finite difference ({w.verdict})")
                        continue
                    lines.append(
                        f"{head}, |diff| {_g(w.error)} > bound {_g(w.bound)} "
                        f"({_excess(w.excess)} the bound, {w.verdict}, {w.method})"
                    )
            for k in self.kink_reports(c):
                name = act.name if c.wrt == "x" else f"{act.name}[{c.wrt}]"
                flag = "" if k.passed else "  <-- FAILED"
                lines.append(
                    f"    kink: {k.describe(name)} (one-sided {k.left:.10g} | {k.right:.10g}){flag}"
                )
        return "\n".join(lines)

    def as_dict(self, worst: int = 5) -> dict[str, Any]:
        """Every figure, JSON-ready (a NaN or infinite figure becomes None)."""
        return _finite(self._as_dict(worst))

    def _as_dict(self, worst: int) -> dict[str, Any]:
        act = self.activation
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
            "checks": [
                {
                    "derivative": self.label(c),
                    "wrt": c.wrt,
                    "order": c.order,
                    "passed": c.passed,
                    "points": c.n_points,
                    "failed": c.n_failed,
                    "skipped": c.n_skipped,
                    "max_abs_error": c.max_abs_error,
                    "max_rel_error": c.max_rel_error,
                    "max_error_bound": c.max_bound,
                    "median_error_bound": c.median_bound,
                    "max_error_over_bound": c.max_excess,
                    "relative_step": c.step,
                    "complex_step": c.complex_step,
                    "complex_step_note": c.complex_step_note,
                    "methods": c.method_counts(),
                    "verdicts": c.verdict_counts(),
                    "kinks": [
                        k.as_dict(act.name if c.wrt == "x" else f"{act.name}[{c.wrt}]")
                        for k in self.kink_reports(c)
                    ],
                    "worst": [w.as_dict() for w in c.worst(worst)],
                }
                for c in self.checks
            ],
        }


def _finite(data: Any) -> Any:
    """Replace NaN and ±inf (a broken derivative can produce them) by None, recursively."""
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    if isinstance(data, float | np.floating) and not np.isfinite(data):
        return None
    return data


def _excess(r: float) -> str:
    return "inf x" if not np.isfinite(r) else f"{r:.3g}x"


def _check_line(c: ElementwiseResult) -> str:
    if c.passed:
        return (
            f"ok at {c.n_points:,} points (max |diff| {_g(c.max_abs_error)}, "
            f"max rel {_g(c.max_rel_error)})"
        )
    return f"{c.n_failed:,} of {c.n_points:,} points outside the error bound"


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
    and a few steps and ulps either side, saturation regions, large, tiny, subnormal and ±0.
    """
    _validate(points, x_range, distribution, dtype)
    check_size(points, dtype)
    dt = np.dtype(dtype)
    lo, hi = (float(v) for v in x_range)
    rng = np.random.default_rng(seed)
    if distribution == "uniform":
        sample = rng.uniform(lo, hi, points)
    else:
        sample = rng.normal(0.5 * (lo + hi), 0.25 * (hi - lo), points)
    parts = [sample, np.linspace(lo, hi, GRID_POINTS)]
    eps = float(np.finfo(dt).eps)
    for k in kinks:
        kd = dt.type(k)
        s = eps ** (1 / 3) * max(abs(float(k)), 1.0)
        m = np.array(KINK_STEP_MULTIPLES) * s
        parts.append(np.concatenate(([float(kd)], float(kd) - m, float(kd) + m)))
        ulps = [kd]
        up = down = kd
        for _ in range(KINK_ULPS):
            up, down = np.nextafter(up, dt.type(np.inf)), np.nextafter(down, dt.type(-np.inf))
            ulps += [up, down]
        parts.append(np.array(ulps, dtype=dt).astype(np.float64))
    special = [*SATURATION, *(10.0**e for e in LARGE_EXPONENTS)]
    special += [10.0**-e for e in TINY_EXPONENTS] + list(EXTRA_TINY[dtype])
    parts.append(np.array(special))
    parts.append(-np.array(special))
    x = np.unique(np.concatenate(parts).astype(dt))
    # np.unique merges -0.0 into 0.0; both signs of zero are worth a probe
    return np.concatenate(([dt.type(-0.0)], x)) if (x == 0).any() else x


def _validate(points: Any, x_range: Any, distribution: str, dtype: str) -> None:
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise GradcheckError(f"points must be a positive integer, got {points!r}")
    try:
        lo, hi = (float(v) for v in x_range)
    except (TypeError, ValueError):
        raise GradcheckError(f"range must be two numbers MIN MAX, got {x_range!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise GradcheckError(f"range must be finite, got {_g(lo)} {_g(hi)}")
    if not lo < hi:
        raise GradcheckError(f"range must have MIN < MAX, got {_g(lo)} {_g(hi)}")
    if distribution not in DISTRIBUTIONS:
        raise GradcheckError(
            f"distribution must be one of {', '.join(DISTRIBUTIONS)}, got {distribution!r}"
        )
    if dtype not in DTYPES:
        raise GradcheckError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


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
            raise GradcheckError(str(err)) from None
    raise GradcheckError(f"expected an activation name or actcheck.get(...), got {activation!r}")


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
    safety: float = SAFETY,
    x: Any = None,
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
        safety: factor on the estimated numerical error.
        x: explicit probe points instead of the generated ones.

    Returns:
        GradcheckResult (``passed``, ``checks``, ``summary()``, ``as_dict()``).
    """
    start = time.perf_counter()
    act = _resolve(activation)
    if order not in (1, 2):
        raise GradcheckError(f"order must be 1 or 2, got {order!r}")
    if step is not None and not (np.isfinite(step) and step > 0):
        raise GradcheckError(f"step must be a positive number, got {step!r}")
    if not (np.isfinite(safety) and safety > 0):
        raise GradcheckError(f"safety must be a positive number, got {safety!r}")
    kink_x = sorted({float(k.x) for k in _raw_kinks(act)})
    if x is None:
        xs = probe_points(
            kink_x,
            points=points,
            x_range=x_range,
            distribution=distribution,
            seed=seed,
            dtype=dtype,
        )
    else:
        _validate(1, x_range, distribution, dtype)
        xs = np.asarray(x, dtype=dtype).ravel()
        if xs.size == 0:
            raise GradcheckError("no probe points given")
    names = _param_names(act, params) if order == 1 else []
    f, df = (act.forward, act.derivative) if order == 1 else (act.derivative, act.second_derivative)
    common = {"dtype": dtype, "name": act.name, "step": step, "safety": safety}
    checks = [
        check_elementwise(
            f, df, xs, kinks=_engine_kinks(act, order), order=order, complex_step=False, **common
        )
    ]
    if names:
        with np.errstate(all="ignore"):  # judged below, not warned about
            analytic = act.param_derivatives(xs)
        for name in names:
            checks.append(_param_check(act, name, xs, analytic[name], common))
    lo, hi = (float(v) for v in x_range)
    return GradcheckResult(act, dtype, order, seed, checks, (lo, hi), time.perf_counter() - start)


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
            raise GradcheckError(
                f"{act.name}: no derivative for parameter {p!r} (differentiable: {valid})"
            )
    return wanted


def _param_check(
    act: Activation, name: str, xs: Array, analytic: Array, common: dict[str, Any]
) -> ElementwiseResult:
    theta = float(act.params[name])
    dt = xs.dtype

    def shifted(d: float) -> Array:
        try:
            return act.with_params(**{name: theta + d}).forward(xs)
        except ActivationError:
            # outside the parameter's range: this side of the stencil does not exist
            return np.full(xs.shape, np.nan, dt)

    common = {**common, "step": _param_step(act, name, theta, common["step"], dt)}
    return check_direction(shifted, analytic, xs, scale=theta, wrt=name, **common)


def _param_step(act: Activation, name: str, theta: float, step: float | None, dt: Any) -> float:
    """A relative step whose whole stencil θ ± 3h stays inside the parameter's valid range
    (hardtanh's clamps 1e-3 apart, celu's alpha near 0), halving the default until it does."""
    rel = float(step) if step is not None else float(np.finfo(dt).eps) ** (1 / 3)
    scale = max(abs(theta), 1.0)  # as check_direction: steps relative to max(|θ|, 1)
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
    """Like ``gradcheck``, but raise ``GradientCheckError`` (an AssertionError) on failure.

    >>> import actcheck
    >>> _ = actcheck.assert_gradients("elu:alpha=2", dtype="float32")
    """
    result = gradcheck(activation, **kwargs)
    if not result.passed:
        raise GradientCheckError(result.summary())
    return result


def gradcheck_many(activations: Sequence[str | Activation], **kwargs: Any) -> list[GradcheckResult]:
    """``gradcheck`` for each activation, same options."""
    return [gradcheck(a, **kwargs) for a in activations]


class _CallableModule(types.ModuleType):
    """Importing ``actcheck.gradcheck`` makes Python bind the package attribute ``gradcheck``
    to this module, shadowing the lazily exported function; calling the module calls it."""

    def __call__(self, *args: Any, **kwargs: Any) -> GradcheckResult:
        return gradcheck(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
