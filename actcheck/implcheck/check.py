"""``check_impl``: the order of the run, from loading the layer to the last row.

1. the contract (``detectors``): no exception, no in-place write to x or dout,
   an array of the right shape and dtype, finite, deterministic;
2. the description (``subject.Subject``), computed once: the dtype the numerical
   side runs in, elementwise or not, the parameters, linearity in dout;
3. ``CHECKS`` in order, each ``(subject, rng) -> rows``: the derivative
   (``derivatives``) and the parameters. Adding a check is appending a function.

A row with ``fatal=True`` ends the run. An exception in the user's code ends it
with a row that points at the user's file and line.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import sys
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from actcheck.defaults import DTYPE, DTYPES, IMPL_SEED, IMPL_SHAPE
from actcheck.errors import GradcheckError, InputError, Interrupted
from actcheck.implcheck import derivatives, detectors, diagnosis
from actcheck.implcheck.results import Check, ImplResult
from actcheck.implcheck.subject import (
    Subject,
    find_params,
    is_elementwise,
    numeric_dtype,
    probe_points,
    random_dout,
)
from actcheck.userargs import as_arg_values, materialize
from actcheck.userimpl import (
    ForwardBackwardLayer,
    FunctionLayer,
    Layer,
    ModelLayer,
    ScalarAutogradLayer,
    UserCodeError,
    adapt,
    load,
    take_printed,
)

Array = np.ndarray


def derivative(s: Subject, rng: np.random.Generator) -> list[Check]:
    """dx against the numerical derivative: per point when elementwise, else the Jacobian."""
    if not s.layer.has_dx:  # a whole model: its parameters only
        return []
    return derivatives.per_point(s, rng) if s.elementwise else derivatives.jacobian(s, rng)


# the checks run on the described layer, in this order
CHECKS: tuple[Callable[[Subject, np.random.Generator], list[Check]], ...] = (
    derivative,
    derivatives.parameters,
    derivatives.tails,
)


def check_impl(
    target: Any,
    derivative: Any = None,
    *,
    x: Any = None,
    args: dict[str, Any] | None = None,
    order: int = 1,
    x_range: tuple[float, float] | None = None,
    shape: tuple[int, ...] = IMPL_SHAPE,
    dtype: str = DTYPE,
    seed: int = IMPL_SEED,
    allow_inplace: bool = False,
    derivative_of_output: bool = False,
    batch_mean: bool = False,
) -> ImplResult:
    """Check a user's layer: backward against forward, parameter gradients, detectors.

    ``target``: ``"FILE.py:NAME"`` / ``"package.module:NAME"`` (imported: this
    runs the file), or the object itself (class, instance, function, torch
    Module / autograd.Function). ``derivative``: f' for a plain function f, as a
    spec or a function. ``x``: the input batch (default: probe points of ``shape``
    in ``dtype``; x's own shape and float dtype win). ``args``: constructor and call
    parameters by name, each a ``--arg`` VALUE string (``"randn:20,10"``,
    ``"labels:10"``), an ``ArgValue``, or the Python value itself. Raises InputError
    when the target cannot be used. ``order=2``: a numpy-ml class's ``grad2`` is
    checked against its ``grad``. ``x_range``: probe x only in [lo, hi] (default: a grid
    over [-10, 10] plus, for elementwise layers, the tails out to ±1000).
    ``derivative_of_output``: a function's derivative takes the output y = f(x), not x
    (``sigmoid_derivative(s) = s*(1-s)``; a tutorial's ``nonlin(l1, deriv=True)``).
    ``batch_mean``: the parameters' gradients are of the mean over the batch, 1/m of the
    vector-Jacobian product (deeplearning.ai's ``linear_backward``): checked times m, for
    the one size m of x that makes every one of them agree.
    """
    if x is not None:
        x = np.asarray(x)
        if x.dtype.kind != "f":
            raise InputError(f"x must be a float array, got {x.dtype}")
        shape, dtype = x.shape, x.dtype.name
    try:
        dt = np.dtype(dtype)
    except TypeError:
        dt = None
    if dt is None or dt.name not in DTYPES:
        raise InputError(f"dtype must be {' or '.join(DTYPES)}, got {dtype!r}")
    shape = tuple(int(s) for s in shape)
    if not shape or any(s <= 0 for s in shape):
        raise InputError(f"shape must be positive sizes, got {shape}")
    take_printed()  # what earlier runs printed is theirs
    x_range = _valid_range(x_range)
    with _seeded_global_rng(seed):  # the user's np.random draws (weights, masks) repeat
        return _check(
            target, derivative, x, args, order, x_range, shape, dt, seed, allow_inplace,
            derivative_of_output, batch_mean,
        )  # fmt: skip


@contextlib.contextmanager
def _seeded_global_rng(seed: int) -> Iterator[None]:
    """np.random (and torch's generator) seeded for the check, restored afterwards."""
    state = np.random.get_state()
    torch = sys.modules.get("torch")
    tstate = torch.random.get_rng_state() if torch is not None else None
    np.random.seed(seed)
    if torch is not None:
        torch.manual_seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)
        if torch is not None and tstate is not None:
            torch.random.set_rng_state(tstate)


def _check(
    target: Any,
    derivative: Any,
    x: Array | None,
    args: dict[str, Any] | None,
    order: int,
    x_range: tuple[float, float] | None,
    shape: tuple[int, ...],
    dt: np.dtype,
    seed: int,
    allow_inplace: bool,
    derivative_of_output: bool,
    batch_mean: bool,
) -> ImplResult:
    values = materialize(as_arg_values(args), dt, shape[0], np.random.default_rng(seed + 1))
    if order not in (1, 2):
        raise InputError(f"order must be 1 or 2, got {order!r}")
    layer = _layer(target, derivative, values, shape, order, seed)
    if derivative_of_output:
        _on_output(layer)
    layer.batch_mean = batch_mean
    if hasattr(layer, "to_dtype"):
        layer.to_dtype(dt)
    rng = np.random.default_rng(seed)
    if x is None:
        x = probe_points(math.prod(shape), dt, rng, 0, x_range).reshape(shape)
        if x_range is None:
            x = _realistic(layer, x, rng)
    rows, s, cut = _run(layer, x.copy(), rng, allow_inplace, x_range)
    if not cut and isinstance(layer, ModelLayer) and not any(r.fatal for r in rows):
        more, cut = _layer_rows(layer, x, rng, allow_inplace)
        rows += more
    result = ImplResult(
        layer.name,
        layer.kind,
        shape,
        dt.name,
        seed,
        elementwise=s.elementwise if s else None,
        method=_method(rows),
        params=tuple(p.name for p in s.params) if s else (),
        checks=tuple(_locate(c, layer) for c in rows),
        inputs=("x",) if layer.has_dx else (),
        printed=take_printed(),
        interrupted=cut,
    )
    if cut:
        raise Interrupted(result.summary(), result)
    return result


def _run(
    layer: Layer,
    x: Array,
    rng: np.random.Generator,
    allow_inplace: bool,
    x_range: tuple[float, float] | None = None,
) -> tuple[list[Check], Subject | None, bool]:
    """Every row for one layer, its Subject (None when a fatal row came first), and whether
    Ctrl-C cut the rows short (the last row then says where; with no row yet it is raised)."""
    rows: list[Check] = []
    s: Subject | None = None
    first = True
    try:
        for item in _rows(layer, x, rng, allow_inplace, x_range):
            first = False
            if isinstance(item, Subject):
                s = item
                continue
            rows.append(item)
            if item.fatal:
                break
    except UserCodeError as err:
        if first and err.file is None and err.exc_type == "TypeError":
            # no frame of the user's code: actcheck called it wrongly (an argument missing)
            msg = f"{layer.name}: calling its {err.during} failed: {err.message}"
            raise InputError(msg) from None
        rows.append(exception_row(err))
    except KeyboardInterrupt as stop:
        if not rows:
            raise
        return [*rows, _interrupted_row(layer, getattr(stop, "during", None))], s, True
    if s is not None and s.y.ndim == 0:
        rows = _loss_rows(s, rows)
    return rows, s, False


def _interrupted_row(layer: Layer, during: str | None) -> Check:
    """The last row of a check cut short by Ctrl-C: where it came, what did not run."""
    where = ""
    if during:
        loc = layer.location(during)
        where = during + (f" at {loc}" if loc else "")
    came = f" while your {where} was running" if where else ""
    return Check(
        "interrupted", "skip", f"interrupted{came}; the checks after it did not run", where
    )


# a loss whose backward is the exact gradient of a slightly different forward (the book's
# cross_entropy_error takes log(y + 1e-7)): agreement to this relative size is correct code
LOSS_RTOL = 1e-4


def _loss_rows(s: Subject, rows: list[Check]) -> list[Check]:
    """A loss's gradient off by far less than any bug would be: a note, not a fail."""
    if s.dtype != np.float64:
        return rows
    out = []
    for row in rows:
        rel = _loss_rel_error(s, row) if row.status == "fail" else None
        if rel is None or not rel < LOSS_RTOL:
            out.append(row)
            continue
        out.append(
            dataclasses.replace(
                row,
                status="warn",
                details=f"agrees with the loss to {rel:.1g} relative, not to rounding: forward "
                "and backward compute slightly different functions, as an epsilon like 1e-7 "
                "inside a log does (harmless for training; a bug is off by far more)",
                bug=None,
                worst=(),
            )
        )
    return out


def _loss_rel_error(s: Subject, row: Check) -> float | None:
    """|analytic - numerical| / |numerical| along random directions (float64 differences)."""
    param = next((p for p in s.params if row.name == f"parameter {p.name}"), None)
    if param is None and not (row.name.startswith("Jacobian") and s.layer.has_dx):
        return None
    one = np.asarray(1.0, dtype=s.dtype)
    x = s.x.astype(np.float64)
    if param is None:
        g, v0 = s.dx(x, one), x

        def loss(v: Array) -> float:
            return float(s.forward_num(v))
    else:
        s.layer.vjp(s.x, one)
        g, v0 = param.grad(), param.get().copy()

        def loss(v: Array) -> float:
            param.set(v.astype(v0.dtype))
            try:
                return float(s.forward_num(s.x))
            finally:
                param.set(v0)

    if g is None or np.shape(g) != np.shape(v0):
        return None
    rng = np.random.default_rng(0)
    a, n = [], []
    for _ in range(8):
        d = rng.normal(0, 1, np.shape(v0))
        h = 1e-5 * max(1.0, float(np.max(np.abs(v0), initial=0.0)))
        a.append(float(np.sum(np.asarray(g, dtype=np.float64) * d)))
        n.append((loss(v0 + h * d) - loss(v0 - h * d)) / (2 * h))
    a_, n_ = np.array(a), np.array(n)
    return float(np.linalg.norm(a_ - n_) / (np.linalg.norm(n_) + 1e-300))


def _realistic(layer: Layer, x: Array, rng: np.random.Generator) -> Array:
    """A loss (scalar output) gets logits of an ordinary range, N(0, 1), not the tails."""
    try:
        y = layer.forward(x)
    except UserCodeError:
        return x  # the run reports it
    if np.ndim(y) == 0 or not layer.has_dx:
        return rng.normal(0, 1, x.shape).astype(x.dtype)
    return x


def _layer_rows(
    model: ModelLayer, x: Array, rng: np.random.Generator, allow_inplace: bool
) -> tuple[list[Check], bool]:
    """Each layer of the model on its own, on the input it gets inside the model; and
    whether Ctrl-C cut them short (the layers checked so far are kept)."""
    rows: list[Check] = []
    passed: list[str] = []
    failed: list[int] = []
    cut = False
    try:
        for name, obj, x_in, kwargs in model.sublayers(x):
            layer = ForwardBackwardLayer(obj, name, model.files, kwargs=kwargs)
            sub, s, cut = _run(layer, x_in, rng, allow_inplace)
            if cut:
                rows += [dataclasses.replace(c, name=f"layer {name}: {c.name}") for c in sub]
                break
            checked = ", ".join(["x", *(p.name for p in s.params)] if s else ["x"])
            if not any(c.status == "fail" for c in sub):
                rows.append(
                    Check(f"layer {name}", "pass", f"{type(obj).__name__}: {checked} match")
                )
                passed.append(name)
                continue
            for c in (c for c in sub if c.status == "fail"):
                failed.append(len(rows))
                rows.append(
                    dataclasses.replace(
                        _locate(c, layer), name=f"layer {name}: {c.name}", fatal=False
                    )
                )
    except KeyboardInterrupt as stop:  # before a layer's first row (or between layers)
        rows.append(_interrupted_row(model, getattr(stop, "during", None)))
        cut = True
    except UserCodeError:  # the model's own forward raised: its rows say so already
        pass
    for k in failed:  # "Affine2: dW wrong, the other layers pass"
        others = f"; the other layers pass ({', '.join(passed)})" if passed else ""
        rows[k] = dataclasses.replace(rows[k], details=rows[k].details + others)
    return rows, cut


def assert_impl(target: Any, derivative: Any = None, **kwargs: Any) -> ImplResult:
    """``check_impl`` for pytest: raises GradcheckError (an AssertionError) with the report."""
    from actcheck.report import impl_text

    result = check_impl(target, derivative, **kwargs)
    if not result.passed:
        raise GradcheckError(impl_text(result), result)
    return result


def _on_output(layer: Layer) -> None:
    """derivative_of_output for a function and its derivative; InputError for the rest."""
    if not isinstance(layer, FunctionLayer) or isinstance(layer, ScalarAutogradLayer):
        raise InputError(
            "the derivative can take the output only for a function with its derivative "
            f"(--derivative, or a deriv=False switch); {layer.name} is a {layer.kind}"
        )
    layer.derivative_of_output()


def _layer(
    target: Any,
    derivative: Any,
    values: dict[str, Any],
    shape: tuple[int, ...],
    order: int,
    seed: int,
) -> Layer:
    if isinstance(target, Layer):
        return target
    cache: dict[str, Any] = {}  # a derivative in the same file: the file runs once
    loaded = load(target, cache) if isinstance(target, str) else target
    dv = load(derivative, cache) if isinstance(derivative, str) else derivative
    # torch imported by the user's file was not there to seed before it: seed it now,
    # before the layer draws its parameters (same arguments, same parameters)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
    return adapt(loaded, dv, values, shape, order)


def _rows(
    layer: Layer,
    x: Array,
    rng: np.random.Generator,
    allow_inplace: bool,
    x_range: tuple[float, float] | None = None,
) -> Iterator[Check | Subject]:
    """Every row in order, and the Subject once it is known; the caller stops at a fatal row."""
    dt = x.dtype
    xc = x.copy()
    y = layer.forward_raw(xc)
    yield from detectors.inplace(layer, "x", x, x, xc, rng, allow_inplace)
    yield from detectors.forward_output(y, dt)
    yield from detectors.nonfinite(layer, "forward", x, y, rng)
    yield from detectors.deterministic(layer, x, y)
    dout = random_dout(y.shape, dt, rng)
    if not layer.has_dx:  # a whole model: no dx, only the parameters' gradients
        layer.vjp(x, dout)
        params = find_params(layer, x, dout, rng)
        s = Subject(layer, dt, x, y, dout, numeric_dtype(layer, x, y, dt), False, params, None)
        yield s
        for check in CHECKS:
            yield from check(s, rng)
        return
    dc = dout.copy()
    dx = layer.backward_raw(x, dc)
    yield from detectors.inplace(layer, "dout", x, dout, dc, rng, allow_inplace)
    yield from detectors.dx_contract(x, dx)
    yield from detectors.nonfinite(
        layer, "backward" if layer.has_dout else "derivative", x, dx, rng
    )
    num_dtype = numeric_dtype(layer, x, y, dt)
    elementwise = is_elementwise(layer, x, y, dt, rng)
    yield detectors.elementwise_row(x, y, elementwise)
    yield from detectors.backward_updates(layer, x, dout)
    yield from detectors.operand_errors(layer)
    yield from detectors.backward_repeats(layer, x, dout)
    yield from detectors.accumulation(layer, x)
    update_rows = detectors.dx_before_update(layer)
    yield from update_rows
    params = find_params(layer, x, dout, rng)
    linear_rows, linear_bug = detectors.linearity(layer, x, y, dt, rng)
    # dx computed after backward's own update: what fails from here on follows from it
    root = next((r.bug for r in update_rows if r.status == "fail"), None)
    if root is not None:
        later = diagnosis.follows_from(root)
        linear_rows = [dataclasses.replace(r, bug=later) if r.bug else r for r in linear_rows]
        linear_bug = root
    yield from linear_rows
    s = Subject(layer, dt, x, y, dout, num_dtype, elementwise, params, linear_bug, x_range)
    yield s
    for check in CHECKS:
        yield from check(s, rng)


def _valid_range(x_range: tuple[float, float] | None) -> tuple[float, float] | None:
    if x_range is None:
        return None
    lo, hi = (float(v) for v in x_range)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise InputError(f"x_range must be finite numbers lo < hi, got {x_range}")
    return lo, hi


def _method(rows: list[Check]) -> str:
    """How the derivative was compared (per point, full Jacobian, projections)."""
    return next((r.stats["method"] for r in rows if "method" in r.stats), "")


def exception_row(err: UserCodeError) -> Check:
    """An exception in the user's code, at the user's file and line."""
    details = f"{err.exc_type}: {err.message}" if err.message else err.exc_type
    return Check(
        f"exception in {err.during}",
        "fail",
        details,
        where=err.where + (f": {err.code}" if err.code else ""),
        bug=f"{err.during} raised {err.exc_type}",
        stats=err.to_dict(),
    )


def _locate(c: Check, layer: Layer) -> Check:
    """'backward ...' -> 'backward at file.py:12 in Sigmoid.backward() ...' (unless precise)."""
    word = c.where.split(" ", 1)[0].rstrip(",")
    if word not in ("forward", "backward", "derivative") or ".py:" in c.where:
        return c
    loc = layer.location(word)
    said = "derivative" if word == "backward" and not layer.has_dout else word
    if not loc:
        return c
    return dataclasses.replace(c, where=c.where.replace(word, f"{said} at {loc}", 1))
