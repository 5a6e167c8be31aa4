"""Detectors: the contract a layer must keep before its derivative can be checked.

Each detector takes what it needs and returns its rows; a row with ``fatal=True``
ends the run (later checks would make no sense). The order they run in is
``actcheck.implcheck.check``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actcheck.implcheck.limits import ADDITIVITY_RTOL, LINEARITY_RTOL
from actcheck.implcheck.results import Check
from actcheck.implcheck.subject import backward_dx, index, random_dout, same
from actcheck.userimpl import _GRAD_NAMES as GRAD_NAMES
from actcheck.userimpl import Layer, UserCodeError

Array = np.ndarray


def fatal(name: str, details: str, **kwargs: Any) -> Check:
    """A failed row that ends the run."""
    return Check(name, "fail", details, fatal=True, **kwargs)


def dx_changed() -> Check:
    return fatal("dx shape", "backward's dx changed shape between calls")


def _user_line(err: UserCodeError) -> str:
    return err.where + (f": {err.code}" if err.code else "")


# ---------------------------------------------------------------------------
# In-place writes
# ---------------------------------------------------------------------------


def inplace(
    layer: Layer,
    name: str,
    x: Array,
    before: Array,
    after: Array,
    rng: np.random.Generator,
    allow_inplace: bool,
) -> list[Check]:
    """forward changed the caller's x (``name`` "x") or backward changed dout ("dout")."""
    changed = ~same(after, before)
    where = "forward" if name == "x" else "backward"
    if not changed.any():
        if name == "x":
            return [Check("in-place: x in forward", "pass", "the caller's x is unchanged")]
        if layer.has_dout:
            return [Check("in-place: dout in backward", "pass", "dout is unchanged")]
        return []
    what = (
        "forward modified its input x"
        if name == "x"
        else "backward modified its upstream gradient dout"
    )
    k = int(np.flatnonzero(changed)[0])
    details = (
        f"{what} in place: {int(changed.sum())} of {before.size} entries changed "
        f"(e.g. {name}{index(before.shape, k)}: {before.flat[k]:.6g} -> {after.flat[k]:.6g}); "
        "the caller's array is silently corrupted"
    )
    status = "warn" if allow_inplace else "fail"
    line = writing_line(layer, name, x, before.dtype, rng)
    bug = f"in-place mutation of {name}" + (
        " (allowed by --allow-inplace)" if status == "warn" else ""
    )
    return [Check(f"in-place: {name} in {where}", status, details, where=line or where, bug=bug)]


def writing_line(
    layer: Layer, name: str, x: Array, dtype: np.dtype, rng: np.random.Generator
) -> str | None:
    """The user's line that writes into x (or dout): rerun with a read-only array."""
    x = x.copy()
    try:
        if name == "x":
            x.setflags(write=False)
            layer.forward_raw(x)
        else:
            d = random_dout(np.shape(layer.forward(x)), dtype, rng)
            d.setflags(write=False)
            layer.backward_raw(x, d)
    except UserCodeError as err:
        if err.file and "read-only" in err.message:
            return _user_line(err)
    except Exception:  # only a hint; the mutation is reported anyway
        return None
    return None


# ---------------------------------------------------------------------------
# NaN / inf from finite input
# ---------------------------------------------------------------------------


def nonfinite(
    layer: Layer, during: str, x: Array, v: Array, rng: np.random.Generator
) -> list[Check]:
    """NaN or inf in ``v`` (forward's y or backward's dx) where x is finite: fatal."""
    bad = ~np.isfinite(v) & np.isfinite(x) if v.shape == x.shape else ~np.isfinite(v)
    if not bad.any():
        return []
    k = int(np.flatnonzero(bad)[0])
    at = f" at x{index(x.shape, k)} = {x.flat[k]:.6g}" if v.shape == x.shape else ""
    line = fp_line(layer, during, x, rng)
    return [
        fatal(
            f"finite {during}",
            f"{during} gave {v.flat[k]} at {int(bad.sum())} entries from finite input{at}",
            where=f"first floating-point error at {line}" if line else during,
            bug="NaN/inf from finite input (overflow or 0/0, or x outside the function's "
            "domain: a pole, a log of x <= 0; limit x with --range LO HI if so)",
        )
    ]


def fp_line(layer: Layer, during: str, x: Array, rng: np.random.Generator) -> str | None:
    """The user's line raising the first floating-point exception (overflow, 0/0)."""
    layer.raise_fp = True
    try:
        if during == "forward":
            layer.forward(x)
        else:
            layer.vjp(x, random_dout(np.shape(layer.forward(x)), x.dtype, rng))
    except UserCodeError as err:
        if err.file and err.exc_type == "FloatingPointError":
            return f"{err.where}: {err.code} ({err.message})" if err.code else err.where
    except Exception:  # only a hint
        return None
    finally:
        layer.raise_fp = False
    return None


# ---------------------------------------------------------------------------
# What forward and backward return
# ---------------------------------------------------------------------------


def _a(noun: str) -> str:
    return ("an " if noun[:1].lower() in "aeiou" else "a ") + noun


def forward_output(y: Any, dtype: np.dtype) -> list[Check]:
    """An array of floats, not narrower than the input."""
    if not isinstance(y, np.ndarray):
        hint = ""
        if y is None:
            hint = (
                ": forward must return its output (if it stores it, e.g. self.output = ..., "
                "add return self.output)"
            )
        elif isinstance(y, tuple):
            hint = f": a tuple of {len(y)}; actcheck needs the output array alone"
        return [
            fatal(
                "forward output",
                f"forward returned {'None' if y is None else _a(type(y).__name__)}, expected "
                f"a numpy array{hint}",
                where="forward",
            )
        ]
    if y.dtype.kind != "f":
        return [fatal("forward output", f"forward returned {y.dtype} values", where="forward")]
    if y.dtype.itemsize < dtype.itemsize:
        return [
            fatal(
                "forward dtype",
                f"forward returned {y.dtype} for {dtype} input (precision lost)",
                where="forward",
                bug="forward narrows the dtype",
            )
        ]
    if y.dtype != dtype:
        return [
            Check(
                "forward dtype",
                "warn",
                f"forward returned {y.dtype} for {dtype} input (an upcast, e.g. from "
                "float64 parameters)",
                where="forward",
            )
        ]
    return []


def deterministic(layer: Layer, x: Array, y: Array) -> list[Check]:
    """Two calls on the same x agree bit for bit (random masks make the gradient undefined)."""
    y2 = layer.forward(x)
    if not isinstance(y2, np.ndarray) or y2.shape != y.shape:
        return [fatal("deterministic forward", "two calls gave different shapes")]
    diff = ~same(y, y2)
    if diff.any():
        k = int(np.flatnonzero(diff)[0])
        return [
            fatal(
                "deterministic forward",
                f"two calls on the same x differ at {int(diff.sum())} of {y.size} entries "
                f"(first at y{index(y.shape, k)}: {y.flat[k]:.6g} vs {y2.flat[k]:.6g}); "
                "random masks, noise or state kept between calls make the gradient undefined",
                where="forward",
                bug="forward is not deterministic",
            )
        ]
    return [Check("deterministic forward", "pass", "two calls on the same x agree bit for bit")]


def dx_contract(x: Array, dx: Any) -> list[Check]:
    """backward returns an array of x's shape and dtype (a float upcast only warns)."""
    if dx is None:
        return [fatal("dx", "backward returned None (it must return dx)", where="backward")]
    if not isinstance(dx, np.ndarray):
        return [
            fatal("dx", f"backward returned a {type(dx).__name__}, not an array", where="backward")
        ]
    if dx.shape != x.shape:
        hint = ""
        if dx.size != x.size:
            hint = (
                " (a broadcasting accident, e.g. a (n,1) array against a (n,) one, "
                "or a sum over the wrong axis)"
            )
        return [
            fatal(
                "dx shape",
                f"backward returned dx of shape {dx.shape} for x of shape {x.shape}{hint}",
                where="backward",
                bug="wrong dx shape",
            )
        ]
    if dx.dtype == x.dtype:
        return [Check("dx shape and dtype", "pass", f"{dx.shape} {dx.dtype}, like x")]
    upcast = dx.dtype.kind == "f" and dx.dtype.itemsize > x.dtype.itemsize
    return [
        Check(
            "dx dtype",
            "warn" if upcast else "fail",
            f"backward returned {dx.dtype} dx for {x.dtype} x"
            + (" (an upcast, e.g. from float64 constants or parameters)" if upcast else ""),
            where="backward",
            bug=None if upcast else "wrong dx dtype",
            fatal=not upcast,  # int, bool or float16: nothing after this is meaningful
        )
    ]


def elementwise_row(x: Array, y: Array, elementwise: bool) -> Check:
    """The structure found (a row of its own, so the report says how dx was checked)."""
    if y.shape != x.shape:
        return Check(
            "elementwise?", "pass", f"no: y has shape {y.shape}", stats={"elementwise": False}
        )
    if not elementwise:
        return Check(
            "elementwise?",
            "pass",
            "no: changing some x[j] moves other outputs; checking the Jacobian",
            stats={"elementwise": False},
        )
    return Check("elementwise?", "pass", "yes: y[j] depends on x[j] only; checking point by point")


# ---------------------------------------------------------------------------
# Linearity in dout
# ---------------------------------------------------------------------------


def linearity(
    layer: Layer, x: Array, y: Array, dtype: np.dtype, rng: np.random.Generator
) -> tuple[list[Check], str | None]:
    """backward(2·d) = 2·backward(d) and backward(d1 + d2) = backward(d1) + backward(d2).

    Returns the rows and, when linearity fails, the bug every later derivative
    error follows from (catches "forgot to multiply by dout", "ignores dout").
    """
    if not layer.has_dout:  # an elementwise derivative f'(x): no dout to be linear in
        return [], None
    d1 = random_dout(y.shape, dtype, rng)
    d2 = random_dout(y.shape, dtype, rng)
    a = backward_dx(layer, x, d1)
    a2 = backward_dx(layer, x, (2 * d1).astype(dtype))
    b = backward_dx(layer, x, d2)
    ab = backward_dx(layer, x, (d1 + d2).astype(dtype))
    if any(v is None for v in (a, a2, b, ab)):
        return [dx_changed()], None
    scale = np.max(np.abs(a)) + np.max(np.abs(b)) + np.finfo(dtype).tiny
    tol = LINEARITY_RTOL[dtype]
    if np.max(np.abs(a)) == 0 and np.max(np.abs(b)) == 0:
        return [Check("linear in dout", "pass", "dx is zero for every dout")], None
    if np.allclose(a2, a, rtol=tol, atol=tol * scale) and not np.allclose(a, 0, atol=tol * scale):
        row = Check(
            "linear in dout",
            "fail",
            "backward(2·dout) = backward(dout): dx does not depend on dout",
            where="backward",
            bug="forgot to multiply by dout (backward ignores the upstream gradient)",
        )
        return [row], "forgot to multiply by dout"
    # judged as a whole (norms): rounding, amplified by cancellation inside backward,
    # can move single tiny entries; the bugs this is for move all of them
    r_scale = np.linalg.norm(a2 - 2 * a) / (np.linalg.norm(a2) + 2 * np.linalg.norm(a))
    r_add = np.linalg.norm(ab - (a + b)) / (
        np.linalg.norm(ab) + np.linalg.norm(a) + np.linalg.norm(b)
    )
    if r_scale <= tol and r_add <= ADDITIVITY_RTOL[dtype]:
        return [
            Check("linear in dout", "pass", "backward(2·d) = 2·backward(d), additive in d")
        ], None
    e_scale = np.abs(a2 - 2 * a) <= tol * (np.abs(a2) + 2 * np.abs(a)) + tol * scale
    e_add = np.abs(ab - (a + b)) <= tol * (np.abs(ab) + np.abs(a) + np.abs(b)) + tol * scale
    bad = ~(e_scale & e_add)
    if not bad.any():  # the norms overflowed (values near 1e308) but every entry agrees
        return [
            Check("linear in dout", "pass", "backward(2·d) = 2·backward(d), additive in d")
        ], None
    k = int(np.flatnonzero(bad)[0])
    row = Check(
        "linear in dout",
        "fail",
        f"backward is not linear in dout at {int(bad.sum())} of {bad.size} entries "
        f"(e.g. dx{index(x.shape, k)}: backward(2d) = {a2.flat[k]:.6g}, "
        f"2·backward(d) = {2 * a.flat[k]:.6g})",
        where="backward",
        bug="backward is not linear in dout (e.g. dout used in a condition or a "
        "nonlinearity, or a constant added)",
    )
    return [row], "backward is not linear in dout"


# ---------------------------------------------------------------------------
# Parameters changed by backward (an optimizer step inside it)
# ---------------------------------------------------------------------------


def _float_state(obj: Any) -> dict[str, Array]:
    """Copies of the instance's float arrays and floats (parameters, caches, statistics)."""
    out = {}
    for k, v in (vars(obj) if hasattr(obj, "__dict__") else {}).items():
        if isinstance(v, np.ndarray) and v.dtype.kind == "f":
            out[k] = v.copy()
        elif isinstance(v, float) and not isinstance(v, bool):
            out[k] = np.array(v)
    return out


def accumulation(layer: Layer, x: Array) -> list[Check]:
    """A scalar-autograd op must add to its inputs' grads (``+=``), its other operand's too:
    a value used twice (a·a, two branches) gets the sum of both gradients (tried at a few
    of the probe points)."""
    accumulates = getattr(layer, "accumulates", None)
    if accumulates is None:
        return []
    seen = accumulates(np.ravel(x)[:: max(1, x.size // 5)][:5])
    name = "gradient accumulates"
    if seen is None:
        return [Check(name, "pass", "a value feeding two outputs gets the sum of both gradients")]
    x, who, first, both = seen
    whose = "the grad" if who == "self" else f"{who}'s grad"
    line = layer.grad_assignment(who)  # type: ignore[attr-defined]
    return [
        Check(
            name,
            "fail",
            f"at x = {x:g} {whose} is {first:.6g} with one output and still {both:.6g} when "
            "the same values feed two outputs, added up and backward()ed",
            where=line or "derivative",
            bug=f"backward sets {who}.grad (= ...) where it must add to it ({who}.grad += "
            "...): a value used twice keeps only one of its gradients",
        )
    ]


def backward_repeats(layer: Layer, x: Array, dout: Array) -> list[Check]:
    """A torch backward run twice over one graph must give the same dx: one that changes
    what forward saved (``grad = ctx.grad; grad *= grad_output``) is right only once."""
    twice = getattr(layer, "backward_twice", None)
    dx = twice(x, dout) if twice is not None else None
    if dx is None:
        return []
    first, second = dx
    name = "backward twice"
    if same(first, second).all():
        return [Check(name, "pass", "a second backward over the same graph gives the same dx")]
    k = int(np.flatnonzero(~same(first, second))[0])
    return [
        Check(
            name,
            "fail",
            f"a second backward over the same graph (retain_graph=True) gives dx{index(x.shape, k)}"
            f" = {second.flat[k]:.6g} where the first gave {first.flat[k]:.6g}",
            where="backward",
            bug="backward changes what forward saved (an in-place op on a saved tensor or on "
            "ctx state, or it returns that tensor itself): right for one backward only",
        )
    ]


def operand_errors(layer: Layer) -> list[Check]:
    """A scalar engine's operation that crashes when its other operand is a Value, as it
    is inside a graph (``a * b`` of two Values): checked with a plain number only."""
    rows = []
    for k, err in getattr(layer, "operand_errors", {}).items():
        rows.append(
            Check(
                f"{k} as a Value",
                "fail",
                f"with {k} a Value, as in a graph, the operation raised {err.exc_type}: "
                f"{err.message}; checked with {k} a plain number only",
                where=err.where + (f": {err.code}" if err.code else ""),
                bug=f"the operation fails when {k} is a Value",
            )
        )
    return rows


def dx_before_update(layer: Layer) -> list[Check]:
    """backward(dout, learning_rate) must compute dx with the parameters it was given."""
    updates = getattr(layer, "updates", None)
    if updates is None or not updates.names:
        return []
    rate = updates.rates[0]
    if not updates.dx_after_update:
        return [Check("dx before the update", "pass", f"dx is the same at {rate} = 0 and 1")]
    return [
        Check(
            "dx before the update",
            "fail",
            f"dx changes with {rate}: backward computes it after updating "
            f"{', '.join(updates.label(n) for n in updates.names[:4])}, with the new values",
            where="backward",
            bug="dx computed with the parameters backward has just updated: compute dx "
            "before the update",
        )
    ]


def backward_updates(layer: Layer, x: Array, dout: Array) -> list[Check]:
    """backward changed a float attribute that forward alone leaves alone: fatal.

    forward then backward, forward again (what forward changes on its own: caches,
    running statistics), then forward and backward again: an attribute that moved only
    across that last backward is being updated by it (``W -= lr * dW``).
    """
    obj = getattr(layer, "obj", None)
    if obj is None:
        return []
    layer.vjp(x, dout)
    s1 = _float_state(obj)
    layer.forward(x)
    s2 = _float_state(obj)
    layer.vjp(x, dout)
    s3 = _float_state(obj)

    def moved(a: dict[str, Array], b: dict[str, Array], k: str) -> bool:
        return k in a and k in b and (a[k].shape != b[k].shape or not same(a[k], b[k]).all())

    # gradients accumulated across calls (dW += ...) are not parameters: the derivative
    # checks report those
    grads = {g.format(k) for k in s2 for g in GRAD_NAMES}
    changed = [k for k in s2 if k not in grads and moved(s2, s3, k) and not moved(s1, s2, k)]
    if not changed:
        return []
    names = ", ".join(changed[:6])
    updates = getattr(layer, "updates", None)
    if updates is not None:  # backward(dout, learning_rate), called with a rate of 0
        why = (
            f"backward changed {names} even with {updates.rates[0]} = 0: an optimiser's "
            "state (momentum, Adam's moments) kept inside backward, so no gradient can be "
            "read off its update. Move the update out of backward to check the gradients"
        )
    else:
        why = (
            f"backward changed {names} (forward alone does not): the parameters changed "
            "during backward, like an optimizer step (W -= lr * dW) inside it. The "
            "gradients cannot be checked against a function that moves; check the layer "
            "with the update turned off (a learning rate of 0, or the update moved out of "
            "backward)"
        )
    return [
        fatal(
            "parameters unchanged by backward",
            why,
            where="backward",
            bug="parameters changed during backward (an optimizer step inside backward?)",
        )
    ]
