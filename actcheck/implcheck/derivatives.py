"""The derivative checks: analytic (what backward returns) against numerical.

Elementwise layers per point (``numdiff.check_elementwise``), other layers by the
full Jacobian or by random projections u^T J v, parameters entry by entry or by
projections; every one ends in ``compare``, which builds the row with its
worst points. Bounds: ``actcheck.tolerances`` (the engine's ``safety`` and the
directional row); bug names: ``actcheck.implcheck.diagnosis``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from actcheck import numdiff
from actcheck.implcheck import diagnosis
from actcheck.implcheck.detectors import dx_changed, nonfinite
from actcheck.implcheck.limits import (
    FIT_RTOL,
    FULL_JACOBIAN_MAX,
    JUMPS_CHECKED,
    KINK_APART,
    NOISE_CAP_ULPS,
    PARAM_ENTRIES_MAX,
    PROBE_BATCHES,
    PROJECTIONS,
    TAIL_POINTS,
    WORST_SHOWN,
)
from actcheck.implcheck.results import Check
from actcheck.implcheck.subject import (
    Subject,
    flat_derivative,
    flat_forward,
    index,
    probe_points,
    random_dout,
    same,
)
from actcheck.tolerances import directional, tolerances
from actcheck.userimpl import ParamRef, UserCodeError

Array = np.ndarray


def compare(
    name: str,
    analytic: Array,
    numerical: Array,
    bound: Array,
    *,
    point: Callable[[int], dict[str, Any]],
    passed: str,
    failed: Callable[[Array], str],
    diagnose: Callable[[], tuple[str, str]],
    fail: Array | None = None,
    also: Callable[[int], dict[str, Any]] | None = None,
    stats: dict[str, Any] | None = None,
) -> Check:
    """The row of one derivative comparison; failing points worst first.

    ``fail`` defaults to |analytic - numerical| > bound; ``point(i)`` labels
    entry i (x, or sample/output/input, or a parameter entry) and ``also(i)``
    adds columns after the bound; ``failed(fail)`` (the details) and
    ``diagnose()`` (bug, where) are only called when something failed.
    """
    a, n, b = analytic.ravel(), numerical.ravel(), bound.ravel()
    error = np.abs(a - n)
    # NaN compares false: an error of NaN (a NaN or an inf on either side) fails
    fail = ~(error <= b) if fail is None else fail.ravel()
    stats = stats or {}
    if not fail.any():
        return Check(name, "pass", passed, stats=stats)
    idx = np.flatnonzero(fail)
    order = idx[np.argsort(-(error[idx] / b[idx]), kind="stable")][:WORST_SHOWN]
    worst = tuple(
        {
            **point(int(i)),
            "analytic": float(a[i]),
            "numerical": float(n[i]),
            "error": float(error[i]),
            "bound": float(b[i]),
            **(also(int(i)) if also else {}),
        }
        for i in order
    )
    bug, where = diagnose()
    return Check(name, "fail", failed(fail), where=where, bug=bug, worst=worst, stats=stats)


def error_text(a: Array, n: Array) -> str:
    """'max |error| 3e-10', or the relative error where the values are large.

    exp at x = 40 has f' = 2.4e17: an absolute error of 32 there is 1e-16 relative,
    and "max |error| 32" would read as a bug.
    """
    err = np.abs(a - n).ravel()
    if not err.size:
        return "max |error| 0"
    worst = float(err.max())
    with np.errstate(all="ignore"):
        rel = err / np.maximum(np.abs(n).ravel(), 1.0)
    top = float(np.max(rel))
    if worst < 1e-3 or top > worst / 10:
        return f"max |error| {worst:.2g}"
    i = int(np.argmax(err))
    return (
        f"max relative error {top:.2g} (largest |error| {worst:.2g}, where the derivative "
        f"is {float(np.ravel(n)[i]):.2g})"
    )


def _max_error(a: Array, n: Array) -> float:
    return float(np.max(np.abs(a - n), initial=0.0))


def _analytic_floor(dtype: np.dtype) -> float:
    """The analytic side's own rounding, in absolute terms per unit size."""
    return directional(dtype).analytic_ulps * float(np.finfo(dtype).eps)


# ---------------------------------------------------------------------------
# Elementwise layers: every probe point through the engine
# ---------------------------------------------------------------------------


def per_point(s: Subject, rng: np.random.Generator) -> list[Check]:
    """f'(x) = dx/dout at PROBE_BATCHES batches of points (``numdiff.check_elementwise``)."""
    batches = [s.x] + [
        probe_points(s.x.size, s.dtype, rng, b, s.x_range).reshape(s.shape)
        for b in range(1, PROBE_BATCHES)
    ]
    return points_row(s, rng, batches, "dx vs numerical derivative")


def tails(s: Subject, rng: np.random.Generator) -> list[Check]:
    """Elementwise layers out to |x| = 1000 (unless --range chose the interval).

    Where ``np.exp(x)`` overflows (x >= 710 in float64, about 89 in float32) an
    unguarded softplus or sigmoid' gives inf or NaN: activations reach such values.
    Points where the output overflows because the true value does (exp itself:
    f(x/2) already beyond max^(1/4)) are left out.
    """
    if not s.elementwise or s.x_range is not None:
        return []
    t = np.array(TAIL_POINTS, dtype=np.float64)
    pts = np.concatenate([t, -t]).astype(s.dtype)
    y = _forward_points(s, pts)
    big = np.finfo(s.dtype).max
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(y) <= 1e-3 * big)  # overflowed, or about to in dout·f'(x)
    legit = np.zeros(pts.shape, bool)
    for side in (pts > 0, pts < 0):
        # the side's first overflow: when f(x/2) is already huge there, f grows exponentially
        # and the overflow is f's own (exp); else it is the code's (log(exp(x) + 1))
        first = np.flatnonzero(bad & side)
        if first.size:
            x0 = pts[first[np.argmin(np.abs(pts[first]))]]
            half = _forward_points(s, np.array([x0 / 2], s.dtype))[0]
            legit |= bad & side & bool(big**0.25 < abs(half) <= big)
    pts = pts[~legit]
    if not pts.size:
        return []
    n = s.x.size
    batches = []
    for k in range(0, pts.size, n):
        b = np.full(n, pts[0], s.dtype)  # the padding repeats a point, counted once
        b[: pts[k : k + n].size] = pts[k : k + n]
        batches.append(b.reshape(s.shape))
    rows = points_row(s, rng, batches, "dx at large |x|", distinct=True)
    return [dataclasses.replace(r, fatal=False) for r in rows]


def _forward_points(s: Subject, v: Array, dtype: np.dtype | None = None) -> Array:
    """The forward in the checked dtype (or ``dtype``) at any number of points, in batches."""
    n = s.x.size
    dt = dtype or s.dtype
    out = [
        np.asarray(
            s.layer.forward(np.resize(v[k : k + n], n).reshape(s.shape).astype(dt)), np.float64
        ).ravel()[: v[k : k + n].size]
        for k in range(0, v.size, n)
    ]
    return np.concatenate(out)


def points_row(
    s: Subject, rng: np.random.Generator, batches: list[Array], name: str, distinct: bool = False
) -> list[Check]:
    """The per-point comparison over these batches of the layer's shape: one row."""
    f = flat_forward(s)
    n = s.x.size
    # every batch's per-point results written in place, one array per field for all of them
    # (lists of batches joined afterwards held each point's figures twice at the peak)
    total = n * len(batches)
    arrays = {k: np.empty(total, t) for k, t in numdiff.PER_POINT.items()}
    y_all = np.empty(total)
    kinks: list[Any] = []
    for b, x in enumerate(batches):
        at = slice(b * n, (b + 1) * n)
        dout = random_dout(s.shape, s.dtype, rng)
        r = s.layer.vjp(x, dout)
        if not isinstance(r.dx, np.ndarray) or r.dx.shape != x.shape:
            return [dx_changed()]
        if not (np.isfinite(r.y) & np.isfinite(r.dx)).all():
            bad_y = not np.isfinite(r.y).all()
            during = "forward" if bad_y else "backward"
            rows = nonfinite(s.layer, during, x, np.where(np.isfinite(r.y), r.dx, r.y), rng)
            if rows:
                return rows
        res = numdiff.check_elementwise(
            # the numerical side in num_dtype (float64 where the code has a float64 version),
            # so the engine's round-off model is that of the function actually evaluated
            f,
            flat_derivative(s, dout),
            x.ravel(),
            dtype=s.num_dtype,
            fixed_shape=True,
            out={k: a[at] for k, a in arrays.items()},
        )
        kinks.extend(res.kinks)
        y_all[at] = np.asarray(r.y, dtype=np.float64).ravel()
        del res
    x, a, y = arrays["x"], arrays["analytic"], y_all
    ref, verdict, engine_bound = arrays["numerical"], arrays["verdict"], arrays["bound"]
    if distinct:  # batches padded with repeats: each point once
        keep = np.sort(np.unique(x, return_index=True)[1])
        x, a, y, ref, verdict = x[keep], a[keep], y[keep], ref[keep], verdict[keep]
        engine_bound = engine_bound[keep]
    # the tails' outputs may all be tiny (σ'(±30) ~ 1e-13) while the formula's terms are
    # of the size seen on ordinary points: the rounding floors take those too
    seen, at = (y, x)
    if distinct:
        seen = np.concatenate([y, np.asarray(s.y, np.float64).ravel()])
        at = np.concatenate([x, np.asarray(s.x, np.float64).ravel()])
    # f'' from second differences of the forward, and from the slope of f' between
    # neighbouring points where they are dense: whichever is larger (each can miss a
    # fast oscillation the other sees)
    # in float64 the forward's own outputs are f(x) as the second difference needs it
    curve = _second_differences(f, x, y if s.num_dtype == s.dtype else None)
    if not distinct:
        curve = np.maximum(curve, _curvature(x, ref))
    bound, floor = _per_point_bound(s, x, (at, seen), ref, engine_bound, curve)
    kink = (verdict == numdiff.KINK) | (verdict == numdiff.KINK_MISMATCH)
    small = np.abs(a - ref) <= floor
    at_kink = (verdict == numdiff.KINK_MISMATCH) & ~small
    jumps = find_jumps(s, kinks)
    # where the function itself jumps its derivative does not exist: nothing to compare
    at_jump = kink & _near_any(x, [j[0] for j in jumps], s.num_dtype)
    at_kink &= ~at_jump
    fail = at_kink | ((verdict == numdiff.MISMATCH) & ~small & ~at_jump)
    jumped = _near_any(np.array([k.x for k in kinks]), [j[0] for j in jumps], s.num_dtype)
    kinks = [k for k, j in zip(kinks, jumped, strict=True) if not j]
    left, right = _one_sided(x, kink, kinks)
    stats: dict[str, Any] = {
        "points": int(x.size),
        "max_abs_error": float(np.max(np.abs(a - ref)[~kink], initial=0.0)),
        "kink_points": int(kink.sum()),
        "method": "per point (elementwise)",
        "engine": "numdiff: Richardson central / complex step, one-sided at kinks, "
        "per-point error bound",
    }
    conventions = diagnosis.kink_summary(kinks) + [diagnosis.jump_text(*j) for j in jumps]
    if conventions:
        stats["kinks"] = conventions
    if jumps:
        stats["jumps"] = [j[0] for j in jumps]

    def diagnose() -> tuple[str, str]:
        if s.linear_bug:
            return diagnosis.follows_from(s.linear_bug), "backward"
        bug, where = diagnosis.elementwise_bug(
            x, a, ref, bound, y, fail, at_kink, kink, left, right, _derivative_at(s, y), s.eps
        )
        if not s.layer.has_dout:  # f and a derivative function f' (no backward(dout))
            bug = diagnosis.derivative_takes_output(bug)
        return bug, where

    return [
        compare(
            name,
            a,
            ref,
            bound,
            fail=fail,
            point=lambda i: {"x": float(x[i])},
            also=lambda i: {"left": float(left[i]), "right": float(right[i])} if kink[i] else {},
            passed=f"{x.size} points in [{x.min():.3g}, {x.max():.3g}], "
            + error_text(a[~kink], ref[~kink])
            + (f"; kinks: {'; '.join(conventions)}" if conventions else ""),
            failed=lambda m: (
                f"wrong at {int(m.sum())} of {x.size} points (worst |error| "
                f"{np.max(np.abs(a - ref)[m]):.3g})"
            ),
            diagnose=diagnose,
            stats=stats,
        )
    ]


def _per_point_bound(
    s: Subject, x: Array, seen: tuple[Array, Array], ref: Array, bound: Array, curve: Array
) -> tuple[Array, Array]:
    """The engine's bound raised to the floors of hand-written code; (bound, floor).

    Hand-written derivatives round like the terms they are built from (0.5·x·(1-t²)·u'
    where 1+t has cancelled), not like f' itself: errors below analytic_ulps·ε·max|f'|
    are rounding, not bugs. Likewise the forward: its noise follows its intermediate
    values (about max|y|) and reaches the numerical derivative divided by the engine's
    step, ε^(1/3)·max(|x|, 1). Both maxima are taken over the probe points no farther
    from 0 than 2·max(|x|, 1), ordinary points included (the terms of σ'(30) are those
    of σ'(0)), and not the whole range: 3^x's values at 40 say nothing of its rounding
    at 5. ``seen``: (points, outputs) whose outputs stand for the forward's terms;
    ``curve``: |f''| at each x.
    """
    eps_num = float(np.finfo(s.num_dtype).eps)
    scale = np.maximum(np.abs(x), 1.0)
    floor = _analytic_floor(s.dtype) * _nearer_max(x, ref, x, scale)
    noise = (
        directional(s.dtype).noise_ulps
        * eps_num
        * _nearer_max(*seen, x, scale)
        / (eps_num ** (1 / 3) * scale)
    )
    # f' rounds its arguments too: cos(w·x) at a rounded w·x is off by about
    # ε·|x|·|f''| (SIREN's sin(30x) in float32), f'' read off the numerical f' between points
    moved = directional(s.dtype).argument_ulps * float(np.finfo(s.dtype).eps) * np.abs(x)
    floor = np.maximum(floor, np.maximum(noise, moved * curve))
    return np.maximum(bound, floor), floor


def _second_differences(f: Callable[[Array], Array], x: Array, fx: Array | None) -> Array:
    """|f''| at each x from (f(x+h) - 2f(x) + f(x-h))/h², h = ε^(1/4)·max(|x|, 1) in
    float64 (0 where that is not finite); ``fx``: f(x) where it is already known."""
    h = np.finfo(np.float64).eps ** 0.25 * np.maximum(np.abs(x), 1.0)
    with np.errstate(all="ignore"):
        d2 = np.abs(f(x + h) - 2 * (f(x) if fx is None else fx) + f(x - h)) / (h * h)
    return np.where(np.isfinite(d2), d2, 0.0)


def _curvature(x: Array, ref: Array) -> Array:
    """|f''| at each x, read off the numerical derivative: the larger slope of ref to the
    next point on either side (0 where neither is finite)."""
    order = np.argsort(x, kind="stable")
    xs, rs = x[order], np.where(np.isfinite(ref), ref, 0.0)[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.abs(np.diff(rs) / np.diff(xs))
    slope = np.where(np.isfinite(slope), slope, 0.0)  # repeated points: no slope
    edge = np.concatenate([[0.0], slope, [0.0]])
    out = np.empty_like(x, dtype=np.float64)
    out[order] = np.maximum(edge[:-1], edge[1:])
    return out


def _nearer_max(at: Array, values: Array, x: Array, scale: Array) -> Array:
    """At each x, max |values| over the points of ``at`` with |at| <= 2·scale (NaN and
    inf left out; 1 where no finite value is that near)."""
    v = np.where(np.isfinite(values), np.abs(values), 0.0)
    order = np.argsort(np.abs(at), kind="stable")
    running = np.maximum.accumulate(v[order])
    last = np.searchsorted(np.abs(at)[order], 2 * scale, side="right") - 1
    out = np.where(last >= 0, running[np.maximum(last, 0)], 0.0)
    return np.where(out > 0, out, 1.0)


def find_jumps(s: Subject, kinks: list[Any]) -> list[tuple[float, float, float]]:
    """(x0, f(x0-), f(x0+)) where the function itself jumps at a reported kink.

    A kink of a continuous function moves f by about δ·|slope| across [x0-δ, x0+δ];
    a jump (SELU' at 0, a hard sigmoid's f' at ±3) by the jump itself, however small δ.
    """
    eps = float(np.finfo(s.num_dtype).eps)
    out: list[tuple[float, float, float]] = []
    # kinks detected a few ulps off a round position (-tiny for 0) are that position
    for x0 in sorted({round(float(k.x), 6) + 0.0 for k in kinks})[:JUMPS_CHECKED]:
        d = eps ** (2 / 3) * max(1.0, abs(x0))
        pts = np.array([x0 - d, x0 + d, x0 - 2 * d, x0 + 2 * d])
        try:
            fl, fr, fl2, fr2 = _forward_points(s, pts.astype(s.num_dtype), s.num_dtype)
        except UserCodeError:
            continue
        gap = abs(fr - fl)
        # a jump does not shrink with δ; a slope does (halves from 2δ to δ)
        if (
            np.isfinite(gap)
            and gap > d**0.5 * (1 + abs(fl) + abs(fr))
            and gap > 0.7 * abs(fr2 - fl2)
        ):
            out.append((x0, float(fl), float(fr)))
    return out


def _near_any(x: Array, centres: list[float], dtype: np.dtype) -> Array:
    """x within a few relative steps of one of the centres."""
    near = np.zeros(x.shape, bool)
    rel = 8 * float(np.finfo(dtype).eps) ** (1 / 3)
    for c in centres:
        near |= np.abs(x - c) <= rel * max(1.0, abs(c))
    return near


def _one_sided(x: Array, kink: Array, kinks: list[Any]) -> tuple[Array, Array]:
    """Every point at a kink takes the one-sided derivatives of its nearest reported kink."""
    left = np.full(x.shape, np.nan)
    right = np.full(x.shape, np.nan)
    if kinks and x.size * len(kinks) < 4e7:
        kx = np.array([k.x for k in kinks])
        near = np.abs(x[:, None] - kx[None, :]).argmin(axis=1)
        left = np.where(kink, np.array([k.left for k in kinks])[near], np.nan)
        right = np.where(kink, np.array([k.right for k in kinks])[near], np.nan)
    return left, right


def _derivative_at(s: Subject, v: Array) -> Array:
    """The numerical f' at the points v (the forward is elementwise: any points do)."""
    try:
        return numdiff.richardson_central(flat_forward(s), v.astype(s.dtype), dtype=s.dtype)
    except UserCodeError:
        return np.full(v.shape, np.nan)


# ---------------------------------------------------------------------------
# Other layers: the Jacobian, in full or through projections
# ---------------------------------------------------------------------------


def jacobian(s: Subject, rng: np.random.Generator) -> list[Check]:
    """The full Jacobian (per sample when batch rows are independent) or projections."""
    x, y = s.x, s.y
    per_sample = rows_independent(s, rng)
    rows = rows_coupled(s, rng) if per_sample else []
    if any(r.fatal for r in rows):
        return rows
    din = x[0].size if per_sample else x.size
    dout_n = y[0].size if per_sample else y.size
    if din <= FULL_JACOBIAN_MAX and dout_n <= FULL_JACOBIAN_MAX:
        return rows + full_jacobian(s, per_sample)
    return rows + projections(s, rng)


def rows_independent(s: Subject, rng: np.random.Generator) -> bool:
    """Changing batch row 0 of x leaves the other rows of y bit for bit."""
    x, y = s.x, s.y
    if x.ndim < 2 or y.ndim < 1 or x.shape[0] < 2 or y.shape[0] != x.shape[0]:
        return False
    x1 = x.copy()
    x1[0] = x1[0] + rng.uniform(0.1, 1.0, x1[0].shape) * rng.choice([-1.0, 1.0], x1[0].shape)
    y1 = s.layer.forward(x1.astype(s.dtype))
    if y1.shape != y.shape:
        return False
    return bool(same(y1[1:], y[1:]).all())


def rows_coupled(s: Subject, rng: np.random.Generator) -> list[Check]:
    """Forward keeps batch rows apart: backward with dout only in row 0 must too."""
    d = np.zeros(s.y.shape, s.dtype)
    d[0] = random_dout(s.y[0].shape, s.dtype, rng)
    dx = s.dx(s.x, d)
    if dx is None:
        return [dx_changed()]
    if not np.any(dx[1:] != 0):
        return []
    return [
        Check(
            "batch rows independent",
            "fail",
            "forward treats each batch row separately, but backward with dout non-zero "
            "only in row 0 changes dx in other rows",
            where="backward",
            bug="backward mixes batch rows (e.g. a sum or mean over the wrong axis)",
        )
    ]


def numerical_jacobian(s: Subject, per_sample: bool) -> tuple[Array, Array]:
    """(J, its error estimate), samples × outputs × inputs; a column for every sample at once."""
    x, y = s.x, s.y
    B = x.shape[0] if per_sample else 1
    din, dout_n = x.size // B, y.size // B
    xr = x.astype(np.float64).reshape(B, din)
    jn = np.zeros((B, dout_n, din))
    je = np.zeros((B, dout_n, din))
    h = directional(s.num_dtype).step * numdiff.pow2_scale(xr)
    # y's entries may be sums that cancel (x @ W): their round-off follows the typical |y|
    yscale = float(np.mean(np.abs(y)))
    for j in range(din):
        e = np.zeros((B, din))
        e[:, j] = 1.0

        def g(t: Any, e: Array = e) -> Array:
            xt = (xr + e * np.asarray(t)[:, :1]).reshape(x.shape)
            return s.forward_num(xt).reshape(B, dout_n)

        hj = h[:, j][:, None] * np.ones((B, dout_n))
        d = numdiff.central_along(g, hj, dtype=s.num_dtype, scale=yscale)
        jn[:, :, j] = d.value
        je[:, :, j] = d.error
    return jn, je


def analytic_jacobian(s: Subject, per_sample: bool) -> Array | None:
    """J from backward, one row (output k) for every sample at once; None if dx changed shape."""
    B = s.x.shape[0] if per_sample else 1
    din, dout_n = s.x.size // B, s.y.size // B
    ja = np.zeros((B, dout_n, din))
    for k in range(dout_n):
        d = np.zeros((B, dout_n), s.dtype)
        d[:, k] = 1.0
        dx = s.dx(s.x, d.reshape(s.y.shape))
        if dx is None:
            return None
        ja[:, k, :] = dx.reshape(B, din)
    return ja


def full_jacobian(s: Subject, per_sample: bool) -> list[Check]:
    jn, je = numerical_jacobian(s, per_sample)
    ja = analytic_jacobian(s, per_sample)
    if ja is None:
        return [dx_changed()]
    B, dout_n, din = jn.shape
    rowmax = np.max(np.abs(jn), axis=2, keepdims=True)
    floor = _analytic_floor(s.dtype) * (np.abs(jn) + rowmax + 1)
    bound = tolerances(s.dtype).safety * je + floor
    what = f"{'per-sample ' if per_sample else ''}Jacobian {dout_n}×{din}" + (
        f" for each of {B} samples" if per_sample else ""
    )
    stats = {"entries": int(jn.size), "max_abs_error": _max_error(ja, jn), "method": f"full {what}"}

    def point(i: int) -> dict[str, Any]:
        b, k, j = np.unravel_index(i, jn.shape)
        return {"sample": int(b), "output": int(k), "input": int(j)}

    def diagnose() -> tuple[str, str]:
        where = "backward (entries dy[output]/dx[input])"
        if s.linear_bug:
            return diagnosis.follows_from(s.linear_bug), where
        return diagnosis.matrix_bug(ja, jn, bound), where

    return [
        compare(
            "Jacobian vs numerical",
            ja,
            jn,
            bound,
            point=point,
            passed=f"{what}: all {jn.size} entries agree, {error_text(ja, jn)}",
            failed=lambda m: f"{what}: {int(m.sum())} of {jn.size} entries wrong",
            diagnose=diagnose,
            stats=stats,
        )
    ]


def projections(s: Subject, rng: np.random.Generator) -> list[Check]:
    """PROJECTIONS signed random projections u^T J v, each against its own error estimate."""
    x, y = s.x, s.y
    xn, yn = x.astype(np.float64), y.astype(np.float64)
    hscale = directional(s.num_dtype).step * float(numdiff.pow2_scale(np.sqrt(np.mean(xn * xn))))
    ymax = float(np.max(np.abs(yn)))
    safety = tolerances(s.dtype).safety
    an, nn, bounds, noise = [], [], [], []
    for _ in range(PROJECTIONS):
        u = random_dout(y.shape, s.dtype, rng)
        v = rng.normal(0, 1, x.shape)
        v /= np.max(np.abs(v))
        un = u.astype(np.float64)

        def g(t: Array, v: Array = v, un: Array = un) -> Array:
            return np.array([np.sum(un * s.forward_num(xn + float(np.ravel(t)[0]) * v))])

        d = numdiff.central_along(
            g, np.array([hscale]), dtype=s.num_dtype, scale=float(np.sum(np.abs(un * yn)))
        )
        dx = s.dx(x, u)
        # the analytic side's own rounding, seen by splitting u = w + (u - w)
        w = random_dout(y.shape, s.dtype, rng)
        dw, drest = s.dx(x, w), s.dx(x, (u - w).astype(s.dtype))
        if dx is None or dw is None or drest is None:
            return [dx_changed()]
        a, n = float(np.sum(dx * v)), float(d.value[0])
        # the analytic side runs in the checked dtype: its intermediate values (of the
        # size of y) carry eps·|y| errors, summed over the entries like a random walk
        bounds.append(
            safety * float(d.error[0])
            + _analytic_floor(s.dtype)
            * (float(np.sum(np.abs(dx * v))) + abs(n) + ymax * float(np.linalg.norm(un)))
        )
        # ... but never more than sqrt(eps) of the answer: a backward that ignores dout
        # (or scales it wrongly) breaks the split at O(1), and this row must still fail
        cap = NOISE_CAP_ULPS * s.eps**0.5 * (float(np.sum(np.abs(dx * v))) + abs(n))
        noise.append(min(abs(a - float(np.sum((dw + drest) * v))), cap))
        an.append(a)
        nn.append(n)
    a_all, n_all = np.array(an), np.array(nn)
    # the analytic rounding level is much the same for every projection: take the largest
    bound = np.array(bounds) + safety * max(noise)
    stats = {
        "projections": PROJECTIONS,
        "max_abs_error": _max_error(a_all, n_all),
        "method": f"{PROJECTIONS} random projections u^T J v",
    }

    def diagnose() -> tuple[str, str]:
        if s.linear_bug:
            return diagnosis.follows_from(s.linear_bug), "backward"
        bug = diagnosis.factor_bug(a_all, n_all, bound, "backward")
        return bug or "Jacobian wrong (seen through random projections)", "backward"

    return [
        compare(
            "Jacobian vs numerical",
            a_all,
            n_all,
            bound,
            point=lambda i: {"projection": i},
            passed=f"{PROJECTIONS} random projections u·J·v agree (each within its own error "
            f"estimate), {error_text(a_all, n_all)}",
            failed=lambda m: f"{int(m.sum())} of {PROJECTIONS} random projections u·J·v disagree",
            diagnose=diagnose,
            stats=stats,
        )
    ]


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------


def parameters(s: Subject, rng: np.random.Generator) -> list[Check]:
    """Every confirmed parameter's stored gradient against the numerical one. When every
    one is 1/m of the true gradient, m a size of x, the bug says that this is the cost's
    mean taken in backward (deeplearning.ai's linear_backward does it on purpose)."""
    if s.layer.batch_mean and s.params:
        return of_batch_mean(s, rng)
    checked = [parameter(s, p, rng) for p in s.params]
    rows = [row for row, _ in checked]
    divisors = {m for _, m in checked}
    (m,) = divisors if len(divisors) == 1 else (None,)
    if len(rows) >= 2 and m is not None and m in s.x.shape:
        why = diagnosis.mean_in_backward(m)
        return [dataclasses.replace(r, bug=f"{r.bug}; {why}") for r in rows]
    cost = getattr(s.layer, "loss_name", None)
    if cost and len(rows) >= 2 and all(r.status == "fail" for r in rows):
        why = diagnosis.cost_or_backward(cost)
        return [dataclasses.replace(r, bug=f"{r.bug}; {why}") for r in rows]
    return rows


def of_batch_mean(s: Subject, rng: np.random.Generator) -> list[Check]:
    """--batch-mean: every stored gradient times m against d(Σ dout·y)/dp, for the size m
    of x (its last axis first: deeplearning.ai's examples are columns) that makes all of
    them agree; else the rows of the size whose fewest fail."""
    tried = []
    for m in dict.fromkeys(reversed(s.x.shape)):
        rows = [parameter(s, p, rng, times=m)[0] for p in s.params]
        if all(r.status != "fail" for r in rows):
            return rows
        tried.append(rows)
    return min(tried, key=lambda rows: sum(r.status == "fail" for r in rows))


def parameter(
    s: Subject, p: ParamRef, rng: np.random.Generator, times: int = 1
) -> tuple[Check, int | None]:
    """d(Σ dout·y)/dp, entry by entry for small p, else along random directions; and m
    when the stored gradient failed as 1/m of the true one. ``times``: the stored gradient
    is of the batch's mean over ``times`` examples (--batch-mean)."""
    r = s.layer.vjp(s.x, s.dout)
    g = p.grad()  # read at once: a later forward may overwrite what backward stored
    v0 = p.get().copy()
    name = f"parameter {p.name}"
    if g is None:
        why = f"backward did not store a gradient for {p.name}"
        return Check(name, "fail", why, where="backward"), None
    g = np.array(g, dtype=np.float64)  # a copy
    if g.shape != v0.shape and not (p.scalar and g.size == 1):
        return Check(
            name,
            "fail",
            f"gradient of shape {g.shape} for a parameter of shape {v0.shape}",
            where="backward",
            bug="wrong parameter-gradient shape (a missing sum over the batch?)",
        ), None
    g = g.reshape(v0.shape) * times
    dn = s.dout.astype(np.float64)
    # the numerical side runs in the parameter's dtype and in num_dtype (float64 where the
    # layer has a float64 version): the coarser of the two; the stored gradient is judged
    # with the checked dtype
    peps = float(np.finfo(v0.dtype if v0.dtype.kind == "f" else np.float64).eps)
    peps = max(peps, float(np.finfo(s.num_dtype).eps))
    pdt = np.dtype(np.float64 if peps < 1e-10 else np.float32)
    entrywise = v0.size <= PARAM_ENTRIES_MAX
    if entrywise:
        dirs = [np.eye(1, v0.size, k).reshape(v0.shape) for k in range(v0.size)]
        labels = [f"{p.name}{index(v0.shape, k)}" if v0.ndim else p.name for k in range(v0.size)]
    else:
        dirs = [rng.normal(0, 1, v0.shape) for _ in range(PROJECTIONS)]
        labels = [f"projection {k}" for k in range(PROJECTIONS)]
    scale = directional(pdt).step * float(
        numdiff.pow2_scale(np.max(np.abs(v0)) if v0.size else 1.0)
    )
    yscale = float(np.sum(np.abs(dn * np.asarray(r.y, dtype=np.float64))))
    a, n, bound, kink = _parameter_directions(s, p, v0, g, dn, dirs, pdt, scale, yscale)
    at_kink = (np.abs(a - n) > bound) & kink
    kinks = (
        f"; {int(at_kink.sum())} at a kink, between its one-sided derivatives"
        if at_kink.any()
        else ""
    )
    how = "entry by entry" if entrywise else f"{PROJECTIONS} random projections"
    source = f"; {p.source}" if p.source else ""
    if times != 1:
        source += f"; times {times}: the gradient of the mean over {times} (--batch-mean)"

    divisor: list[int | None] = [None]  # set by diagnose, which runs on a failure only

    def diagnose() -> tuple[str, str]:
        bug = f"wrong gradient for {p.name}"
        if not (np.isfinite(a).all() and np.isfinite(n).all()):
            return _nonfinite_bug(p.name, a, n), p.line or f"backward (gradient of {p.name})"
        c = diagnosis.fitted_factor(a, n, bound)
        if len(dirs) < 3:  # a factor read off one or two numbers would be a guess, but -1
            if c is not None and abs(c + 1) < FIT_RTOL:
                bug = diagnosis.factor_text(c, f"d{p.name}")
        else:
            along = np.array([float(np.sum(v0 * vec)) for vec in dirs])
            signs = np.array([float(np.sum(np.sign(v0) * vec)) for vec in dirs])
            if c is not None:
                divisor[0] = diagnosis.batch_divisor(c)
            bug = (
                (diagnosis.factor_text(c, f"d{p.name}") if c is not None else None)
                or diagnosis.penalty_bug(a, n, bound, along, signs, p.name)
                or bug
            )
        return bug, p.line or f"backward (gradient of {p.name})"

    row = compare(
        name,
        a,
        n,
        bound,
        point=lambda i: {"entry": labels[i]},
        passed=f"d{p.name} matches ({how}, shape {v0.shape}{source}{kinks}), "
        f"{error_text(a[~at_kink], n[~at_kink])}",
        fail=~(np.abs(a - n) <= bound) & ~kink,
        failed=lambda m: (
            f"{'gradient' if p.source else 'stored gradient'} of {p.name} is wrong "
            f"({int(m.sum())} of {len(dirs)} {'entries' if entrywise else 'projections'}{source})"
        ),
        diagnose=diagnose,
    )
    return row, divisor[0]


def _nonfinite_bug(name: str, a: Array, n: Array) -> str:
    """Why a parameter's gradient that is NaN or inf (on either side) cannot be checked."""
    if not np.isfinite(n).all() and not np.isfinite(a).all():
        return (
            f"d{name} is not finite, and neither is the numerical derivative: the output "
            "is not differentiable in it at some x (outside its domain?); probe x only "
            "where it is (--range LO HI)"
        )
    if not np.isfinite(a).all():
        return f"backward's gradient of {name} is NaN or inf where the numerical one is finite"
    return f"the numerical derivative in {name} is not finite: forward is not smooth in it"


def _parameter_directions(
    s: Subject,
    p: ParamRef,
    v0: Array,
    g: Array,
    dn: Array,
    dirs: list[Array],
    pdt: np.dtype,
    scale: float,
    yscale: float,
) -> tuple[Array, Array, Array, Array]:
    """(analytic, numerical, bound, at a kink) of d(Σ dout·y)/dt along each direction
    p = v0 + t·vec; "at a kink": the one-sided derivatives differ and the analytic value
    lies between them."""

    def phi(vec: Array, t: Array) -> Array:
        out = []
        for ti in np.atleast_1d(t):
            p.set((v0.astype(np.float64) + float(ti) * vec).astype(v0.dtype))
            try:
                y = s.layer.forward(s.x.astype(s.num_dtype))
                out.append(np.sum(dn * np.asarray(y, dtype=np.float64)))
            finally:
                p.set(v0)
        return np.array(out)

    safety = tolerances(s.dtype).safety
    a, n, bound, kink = [], [], [], []
    for vec in dirs:
        d = numdiff.central_along(
            lambda t, vec=vec: phi(vec, t), np.array([scale]), dtype=pdt, scale=yscale
        )
        a.append(float(np.sum(g * vec)))
        n.append(float(d.value[0]))
        bound.append(
            safety * float(d.error[0])
            + _analytic_floor(s.dtype) * (float(np.sum(np.abs(g * vec))) + abs(n[-1]) + 1)
        )
        left, right = float(d.left[0]), float(d.right[0])
        # a kink of the output right at the parameter's value (a ReLU whose input is
        # exactly b = 0 where a column of its input is all zero): the central difference
        # is the mean of the two slopes, and any value between them is a subgradient
        apart = abs(left - right) > KINK_APART * bound[-1]
        kink.append(apart and min(left, right) - bound[-1] <= a[-1] <= max(left, right) + bound[-1])
    return np.array(a), np.array(n), np.array(bound), np.array(kink, dtype=bool)
