"""Diagnosis: naming the bug behind a failed derivative check.

Pure functions of arrays. Each bug class is one hypothesis: "backward returns
h(x)" for an h built from what was measured; the first hypothesis that explains
CLASSIFY_SHARE of the failing points names the bug.

========================================  =====================================
bug class                                 function
========================================  =====================================
sign flip, constant factor (any check)    ``factor_bug``
subgradient outside the one-sided slopes  ``kink_bug``
sign flip, factor, constant added, f      ``hypotheses`` (elementwise layers)
instead of f', output for input (and the
reverse), another activation's derivative
wrong only for x in an interval           ``region``
constant but wrong on each side of 0      ``side_summary``
cross terms missing, transposed Jacobian  ``matrix_bug``
========================================  =====================================
"""

from __future__ import annotations

from typing import Any

import numpy as np

from actcheck.implcheck.limits import (
    CLASSIFY_SHARE,
    FIT_RTOL,
    FLOAT32_REL,
    LABEL_RTOL,
    MIN_CLASSIFY_POINTS,
    REGION_OK_SHARE,
    SMALL_REL,
)

Array = np.ndarray


def follows_from(linear_bug: str) -> str:
    """A derivative error that the failed linearity check already explains."""
    return f"follows from: {linear_bug}"


# ---------------------------------------------------------------------------
# Any comparison: a constant factor
# ---------------------------------------------------------------------------


MEAN_HINT = " (a mean where a sum is needed?)"
SUM_HINT = " (a sum where a mean is needed: the 1/m of a mean cost missing?)"


def mean_in_backward(m: int) -> str:
    return (
        f"every parameter's gradient is 1/{m} of the true one ({m}: a size of x): the "
        "gradient of the mean over the batch, taken in backward; right where that is the "
        "convention (deeplearning.ai's linear_backward divides by m on purpose, its dZ being "
        "the summed loss's gradient): check it so with --batch-mean, or check the whole "
        "network (--impl FILE.py:L_model_backward)"
    )


def cost_or_backward(cost: str) -> str:
    return (
        f"every parameter disagrees: the backward's gradient and {cost} are not the same "
        f"cost, so {cost} may be the one that is wrong (backward's dAL must be its derivative)"
    )


def factor_bug(analytic: Array, numerical: Array, bound: Array, what: str) -> str | None:
    """'sign flip' / 'constant factor' when analytic = c·numerical for one c != 1."""
    c = fitted_factor(analytic, numerical, bound)
    return None if c is None else factor_text(c, what)


def fitted_factor(analytic: Array, numerical: Array, bound: Array) -> float | None:
    """c != 1 with analytic = c·numerical to within the bounds, or None."""
    a, n = analytic, numerical
    den = float(np.sum(n * n))
    if den <= 0:
        return None
    c = float(np.sum(a * n)) / den
    if abs(c - 1) < LABEL_RTOL or not np.all(np.abs(a - c * n) <= bound + FIT_RTOL * np.abs(n)):
        return None
    return c


def batch_divisor(c: float) -> int | None:
    """m > 1 when the factor c is 1/m (a mean over m where a sum is needed?), else None."""
    inv = 1 / c if c else 0
    return round(inv) if inv > 1 and abs(inv - round(inv)) < LABEL_RTOL * inv else None


def factor_text(c: float, what: str) -> str:
    if abs(c + 1) < FIT_RTOL:
        return f"sign flip: {what} = -true"
    # 2× is the commoner bug of a missing 1/2 (x² differentiated as 4x); m >= 3 a missing 1/m
    many = batch_divisor(1 / c) if c else None
    hint = MEAN_HINT if batch_divisor(c) else SUM_HINT if many and many > 2 else ""
    return f"constant factor: {what} = {nice(c)} × true{hint}"


def penalty_bug(
    analytic: Array, numerical: Array, bound: Array, along: Array, signs: Array, name: str
) -> str | None:
    """dW = true + c·W (L2) or + c·sign(W) (L1): a regulariser's gradient added in backward
    (c > 0), or one the loss has and backward leaves out (c < 0).

    ``along``/``signs``: W and sign(W) seen along each compared direction.
    """
    r = analytic - numerical
    for term, v, what in ((f"{name}", along, "L2"), (f"sign({name})", signs, "L1")):
        den = float(np.sum(v * v))
        if den <= 0:
            continue
        c = float(np.sum(r * v)) / den
        if c == 0 or not np.all(np.abs(r - c * v) <= bound + FIT_RTOL * np.abs(numerical)):
            continue
        lam = (
            f"2λ{name} with λ = {abs(c) / 2:.3g}"
            if what == "L2"
            else f"λ·{term} with λ = {abs(c):.3g}"
        )
        if c < 0:  # the loss has a penalty whose gradient backward leaves out
            return (
                f"regularization missing from backward: d{name} = true - {-c:.3g}·{term}: the "
                f"loss adds an {what} penalty whose gradient ({lam}) backward leaves out"
            )
        return (
            f"regularization added in backward: d{name} = true + {c:.3g}·{term} (the gradient "
            f"of an {what} penalty, {lam}); right only if the loss adds that penalty too. "
            "Check the layer without it (λ = 0)"
        )
    return None


def nice(c: float) -> str:
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


# ---------------------------------------------------------------------------
# Elementwise layers
# ---------------------------------------------------------------------------


def elementwise_bug(
    x: Array,
    analytic: Array,
    numerical: Array,
    bound: Array,
    y: Array,
    fail: Array,
    at_kink: Array,
    kink: Array,
    left: Array,
    right: Array,
    derivative_at_output: Array,
    eps: float | None = None,
) -> tuple[str, str]:
    """(bug, where) for a failed per-point check; every argument is per point.

    ``at_kink``: failing at a kink (outside the one-sided derivatives); ``kink``:
    at a kink at all; ``derivative_at_output``: the numerical f' at y = f(x);
    ``eps``: the checked dtype's epsilon.
    """
    if not (fail & ~at_kink).any():
        return kink_bug(x, analytic, left, right, fail)
    a, ref = analytic, numerical
    reg = fail & ~at_kink
    ok = ~fail & ~kink
    region_text, confined = region(x, reg, ok)
    where = f"backward, {region_text}" if confined else "backward (dx)"
    low = precision_bug(a[reg], ref[reg], eps)  # before "constant added: f' + 4e-9"
    if low:
        return low, where
    for name, pred, everywhere in hypotheses(x, a, ref, y, reg, derivative_at_output):
        if everywhere and confined:
            continue
        good = np.abs(a - pred) <= np.maximum(bound, 1e-6 * (1 + np.abs(pred)))
        defined = np.isfinite(pred) & reg
        enough = defined.sum() >= max(1, min(MIN_CLASSIFY_POINTS, 0.5 * reg.sum()))
        if enough and good[defined].mean() >= CLASSIFY_SHARE:
            # only points where this bug would have shown can bound its region
            telling = ok & ~(np.abs(pred - ref) <= bound)
            sub, sub_confined = region(x, reg, telling)
            if sub_confined:
                return f"{name}, {sub}", f"backward, {sub}"
            return name, "backward (dx)"
    small = small_error_bug(a[reg], ref[reg])
    if small:
        return small, where
    if confined:
        return f"wrong only {region_text}", where
    sides = side_summary(x, a, ref, reg)
    if sides:
        return "backward does not match forward: " + "; ".join(sides), where
    return "derivative wrong (no simple pattern)", where


def relative_errors(analytic: Array, numerical: Array) -> Array:
    """|a - n| / |n|, with values below a tenth of max|n| counted at that size.

    Rounding and approximations err in proportion to the terms of the formula (of the
    size of max|f'|), not to f' where it is small (1 - tanh² in its tails).
    """
    scale = np.maximum(np.abs(numerical), 0.1 * float(np.max(np.abs(numerical), initial=0)))
    with np.errstate(all="ignore"):
        return np.abs(analytic - numerical) / np.where(scale > 0, scale, 1.0)


def precision_bug(analytic: Array, numerical: Array, eps: float | None) -> str | None:
    """Errors of float32's size in a float64 check: part of the code runs in float32."""
    if eps is None or eps > 1e-10 or not analytic.size:
        return None
    rel = relative_errors(analytic, numerical)
    if not np.all(np.isfinite(rel)) or not FLOAT32_REL[0] <= np.median(rel) <= FLOAT32_REL[1]:
        return None
    if np.max(rel) > 100 * FLOAT32_REL[1]:
        return None
    return (
        f"errors of float32's size (relative error up to {float(np.max(rel)):.2g}, float64 "
        "would give ~1e-16): part of the computation seems to run in float32 (a float32 "
        "array, constant or .astype(np.float32))"
    )


def small_error_bug(analytic: Array, numerical: Array) -> str | None:
    """An error that is small everywhere (an approximate formula), not a localised bug."""
    if not analytic.size:
        return None
    rel = relative_errors(analytic, numerical)
    top = float(np.max(rel))
    if not (np.isfinite(top) and top <= SMALL_REL):
        return None
    return (
        f"small errors (relative error up to {top:.2g}) over much of the range: the analytic "
        "side seems to be an approximation of the derivative (e.g. another formula for "
        "the same function, like GELU's tanh form against its erf form), not a sign or "
        "factor slip"
    )


def kink_bug(x: Array, analytic: Array, left: Array, right: Array, fail: Array) -> tuple[str, str]:
    """A value at a kink outside [left, right]: not a valid subgradient."""
    i = int(np.flatnonzero(fail)[0])
    at = np.unique(np.round(x[fail], 6))
    pts = ", ".join(f"{v:.6g}" for v in at[:4])
    return (
        f"subgradient outside the one-sided derivatives: at x = {x[i]:.6g} backward gives "
        f"{analytic[i]:.6g}, but the one-sided derivatives are {left[i]:.6g} (left) and "
        f"{right[i]:.6g} (right); any value between them is valid, this one is not",
        f"wrong only at the kink x = {pts}",
    )


INPUT_FOR_OUTPUT = "uses the input where the output is needed (e.g. a formula in y applied to x)"


def derivative_takes_output(bug: str) -> str:
    """The bug text for a separate derivative function found to be f' in terms of y."""
    if bug != INPUT_FOR_OUTPUT:
        return bug
    return (
        "the derivative is written in terms of the output y = f(x) (f'(x) = g(y)): right "
        "where your code passes it y, as in a tutorial's nonlin(l1, deriv=True) after "
        "l1 = nonlin(...); actcheck passes x, where it is wrong (--derivative-of-output "
        "passes y)"
    )


def hypotheses(
    x: Array, a: Array, ref: Array, y: Array, reg: Array, derivative_at_output: Array
) -> list[tuple[str, Array, bool]]:
    """(bug class, what backward would return with it, whether it shows everywhere).

    Patterns that show everywhere (a mix-up of f, f', x and y, an added constant,
    another function's derivative) are not offered for failures confined to an interval.
    """
    hyps: list[tuple[str, Array, bool]] = [("sign flip (backward = -f'(x))", -ref, False)]
    nz = reg & (np.abs(ref) > 1e-6)
    if nz.any():
        c = float(np.median(a[nz] / ref[nz]))
        if c != 0 and abs(c - 1) > 1e-6 and abs(c + 1) > 1e-6:
            hyps.append((f"constant factor: backward = {nice(c)} × f'(x)", c * ref, False))
    if reg.any():
        off = float(np.median(a[reg] - ref[reg]))
        if off != 0:
            hyps.append((f"constant added: backward = f'(x) + {off:.6g}", ref + off, True))
    hyps.append(("returns f(x) instead of f'(x)", y, True))
    hyps.append(
        (
            "uses the output where the input is needed: computes f'(y), y = f(x)",
            derivative_at_output,
            True,
        )
    )
    hyps.append((INPUT_FOR_OUTPUT, derivative_at_preimage(x, y, ref), True))
    hyps.extend(catalog_derivatives(x))
    return hyps


def derivative_at_preimage(x: Array, y: Array, ref: Array) -> Array:
    """g(x) with f'(t) = g(f(t)): f' as a function of the output, at x (monotone f)."""
    order = np.argsort(x)
    ys, ds = y[order], ref[order]
    if not (np.all(np.diff(ys) >= 0) or np.all(np.diff(ys) <= 0)):
        return np.full(x.shape, np.nan)
    if ys[0] > ys[-1]:
        ys, ds = ys[::-1], ds[::-1]
    inside = (x > ys[0]) & (x < ys[-1])
    return np.where(inside, np.interp(x, ys, ds), np.nan)


def catalog_derivatives(x: Array) -> list[tuple[str, Array, bool]]:
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


def region(x: Array, fail: Array, ok: Array) -> tuple[str, bool]:
    """Where the failures are, as intervals of x; True when they are confined to some."""
    order = np.argsort(x, kind="stable")
    xs, fs, oks = x[order], fail[order], ok[order]
    keep = fs | oks
    xs, fs = xs[keep], fs[keep]
    if not fs.any():
        return "", False
    runs = _runs(fs)
    if len(runs) > 3:
        return f"at {int(fail.sum())} points scattered over [{x.min():.3g}, {x.max():.3g}]", False
    # "wrong only there" needs enough correct points elsewhere to mean something
    n_ok = len(fs) - int(fs.sum())
    confined = n_ok >= max(MIN_CLASSIFY_POINTS, REGION_OK_SHARE * len(fs))
    return " and ".join(_interval(xs, s, e) for s, e in runs), confined


def _runs(flags: Array) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    ends = np.flatnonzero(edges == -1) - 1
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _interval(xs: Array, s: int, e: int) -> str:
    lo, hi = xs[s], xs[e]
    left_ok = xs[s - 1] if s > 0 else None
    right_ok = xs[e + 1] if e + 1 < len(xs) else None
    if lo == hi:
        return f"at x = {lo:.6g}"
    if left_ok is None and right_ok is not None:
        return f"for x <= {hi:.6g} (right from x = {right_ok:.6g})"
    if right_ok is None and left_ok is not None:
        return f"for x >= {lo:.6g} (right up to x = {left_ok:.6g})"
    if left_ok is None and right_ok is None:
        return "for every x checked"
    return f"for x in [{lo:.6g}, {hi:.6g}] (right at x = {left_ok:.6g} and x = {right_ok:.6g})"


def side_summary(x: Array, a: Array, ref: Array, fail: Array) -> list[str]:
    """'for x < 0 backward gives c but forward's slope is d' where both are constant."""
    out = []
    for label, side in (("x < 0", x < 0), ("x > 0", x > 0)):
        m = fail & side
        if m.sum() < 2:
            continue
        av, rv = a[m], ref[m]
        if np.ptp(av) <= 1e-6 * (1 + np.abs(av).max()) and np.ptp(rv) <= 1e-6 * (
            1 + np.abs(rv).max()
        ):
            out.append(f"for {label} backward gives {av[0]:.6g} but forward's slope is {rv[0]:.6g}")
    return out


def sides_differ(k: Any) -> bool:
    """The one-sided derivatives differ by more than their own errors: a kink to name.

    On a smooth function (GELU at -4.375) the engine may take one-sided differences
    where a probe looked rough; equal sides there are no kink.
    """
    gap = abs(k.left - k.right)
    return bool(gap > k.left_bound + k.right_bound and gap > 1e-6 * max(abs(k.left), abs(k.right)))


def kink_summary(kinks: list[Any]) -> list[str]:
    """The engine's kink reports, one line per kink position that passed: the convention used."""
    best: dict[float, Any] = {}
    for k in kinks:
        # reported where a probe sits exactly on a round x (0, 6, -3): points merely near a
        # kink have a one-sided stencil and no convention worth naming
        if k.passed and k.x == round(k.x, 3) and sides_differ(k):
            best.setdefault(k.x + 0.0, k)
    return [f"{k.summary('f')} ({k.left:.6g} | {k.right:.6g})" for _, k in sorted(best.items())[:4]]


def jump_text(x0: float, left: float, right: float) -> str:
    """A jump in the function being differentiated: no derivative there, nothing checked."""
    return (
        f"f jumps at x = {x0:.6g} (from {left:.6g} to {right:.6g}): its derivative does not "
        "exist there (not checked)"
    )


# ---------------------------------------------------------------------------
# Other layers: the Jacobian
# ---------------------------------------------------------------------------


def matrix_bug(analytic: Array, numerical: Array, bound: Array) -> str:
    """The pattern in per-sample Jacobians (samples × outputs × inputs) that disagree."""
    ja, jn = analytic, numerical
    bug = factor_bug(ja, jn, bound, "backward")
    if bug:
        return bug
    n_out, n_in = jn.shape[1], jn.shape[2]
    if n_out == n_in:
        diag = np.broadcast_to(np.eye(n_in, dtype=bool)[None], ja.shape)
        diag_ok = np.all(np.abs(ja - jn)[diag] <= bound[diag])
        if diag_ok and np.all(np.abs(ja[~diag]) <= bound[~diag]):
            return (
                "only the diagonal of the Jacobian is there: the cross terms "
                "(dy_k/dx_j, k != j) are missing"
            )
        # before "cross terms wrong": a transpose keeps the diagonal, so it would hide there
        jt = np.swapaxes(jn, 1, 2)
        if np.all(np.abs(ja - jt) <= bound + np.swapaxes(bound, 1, 2)):
            return "transposed Jacobian (backward multiplies by J instead of J^T)"
        if diag_ok:
            return "the diagonal of the Jacobian is right, the cross terms (k != j) are wrong"
    return "Jacobian entries wrong (no simple pattern)"
