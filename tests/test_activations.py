"""The catalog against an independent mpmath reference at random, extreme and kink points."""

from __future__ import annotations

import math
import zlib

import mpmath as mp
import numpy as np
import pytest
from reference import derivative, param_derivative, value

import actcheck

# Non-default parameter sets, so conventions are checked as functions of the parameters.
EXTRA_SPECS = [
    "leaky_relu:negative_slope=0.2",
    "leaky_relu:negative_slope=1.5",
    "prelu:weight=-0.1",
    "rrelu:lower=0.1,upper=0.3",
    "elu:alpha=2",
    "elu:alpha=0.5",
    "celu:alpha=0.5",
    "celu:alpha=3",
    "gelu:approximate=tanh",
    "softplus:beta=2,threshold=10",
    "softplus:beta=0.5",
    "hardtanh:min_val=-2,max_val=0.5",
]
SPECS = actcheck.names() + EXTRA_SPECS

# Accuracy criterion: error <= K ulps x (1 + kappa), kappa = |x q'(x) / q(x)| the condition
# number of the quantity q. That is: every result is the exact value at an input within a few
# ulps of x. Derivatives sum terms that can cancel, hence the larger K.
K_VALUE = 4
K_DERIV = 8


def _points(act: actcheck.Activation, n: int, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    mags = 10 ** rng.uniform(-7, 2.5, n)
    pts = list(mags * rng.choice([-1.0, 1.0], n))
    pts += [-700.0, -300.0, -100.0, -35.5, -20.0, -5.0, -1.25, 0.75, 5.0, 19.5, 35.5, 100.0, 300.0]
    kinks = [k.x for k in act.kinks]
    # derivatives by high-precision differencing need a little room around a kink
    return [x for x in pts if all(abs(x - k) > 1e-9 * max(1.0, abs(k)) for k in kinks)]


def _check(got: float, ref: mp.mpf, dref: mp.mpf, x: float, k: int, dtype) -> tuple[bool, str]:
    ref_f = float(ref)
    kappa = float(abs(mp.mpf(x) * dref / ref)) if ref != 0 else 0.0
    ulp = float(np.spacing(np.array(max(abs(ref_f), np.finfo(dtype).tiny), dtype=dtype)))
    # the reference itself is only good to ~1e-40 (high-precision differencing of O(1) values)
    floor = 1e-40 if dtype == np.float64 else 0.0
    err = abs(float(got) - ref_f)
    bound = k * ulp * (1 + kappa) + floor
    return (
        err <= bound,
        f"x={x!r}: got {float(got)!r}, ref {ref_f!r}, {err / ulp:.1f} ulp > {bound / ulp:.1f}",
    )


@pytest.mark.parametrize("spec", SPECS)
def test_forward_and_derivatives_match_mpmath_float64(spec):
    act = actcheck.parse_spec(spec)
    kinks = [k.x for k in act.kinks]
    failures = []
    for x in _points(act, 40, seed=zlib.crc32(spec.encode())):  # hash() is salted per process
        quantities = [
            (act.forward(x), value(act.name, x, act.params), 1, K_VALUE),
            (act.derivative(x), derivative(act.name, x, act.params, 1, kinks), 2, K_DERIV),
            (act.second_derivative(x), derivative(act.name, x, act.params, 2, kinks), 3, K_DERIV),
        ]
        for got, ref, n_next, k in quantities:
            dref = derivative(act.name, x, act.params, n_next, kinks)
            ok, msg = _check(got, ref, dref, x, k, np.float64)
            if not ok:
                failures.append(f"order {n_next - 1}: {msg}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if actcheck.parse_spec(s).param_derivatives(0.0)]
)
def test_param_derivatives_match_mpmath(spec):
    act = actcheck.parse_spec(spec)
    failures = []
    for x in _points(act, 25, seed=7):
        for name, got in act.param_derivatives(x).items():
            ref = param_derivative(act.name, x, act.params, name)
            # condition in x of dq/dparam: difference the parameter derivative in x
            h = mp.mpf(2) ** -60 * max(1, abs(x))
            dref = (
                param_derivative(act.name, x + h, act.params, name)
                - param_derivative(act.name, x - h, act.params, name)
            ) / (2 * h)
            ok, msg = _check(got, ref, dref, x, K_DERIV, np.float64)
            if not ok:
                failures.append(f"d/d{name}: {msg}")
    assert not failures, "\n".join(failures[:10])


@pytest.mark.parametrize("spec", SPECS)
def test_float32_matches_mpmath(spec):
    """float32 in, float32 out, and as accurate as float32 allows."""
    act = actcheck.parse_spec(spec)
    kinks = [k.x for k in act.kinks]
    xs = np.array(_points(act, 30, seed=3), dtype=np.float32)
    xs = xs[[all(abs(float(x) - k) > 1e-6 for k in kinks) for x in xs]]
    failures = []
    for fn, n in ((act.forward, 0), (act.derivative, 1), (act.second_derivative, 2)):
        got = fn(xs)
        assert got.dtype == np.float32
        for x, g in zip(xs.tolist(), got.tolist(), strict=True):
            ref = (
                value(act.name, x, act.params)
                if n == 0
                else derivative(act.name, x, act.params, n, kinks)
            )
            dref = derivative(act.name, x, act.params, n + 1, kinks)
            if abs(float(ref)) < np.finfo(np.float32).smallest_subnormal:
                ok = abs(g) <= 2 * float(np.finfo(np.float32).smallest_subnormal)
                msg = f"x={x}: got {g}, ref {float(ref)} (underflow)"
            else:
                ok, msg = _check(g, ref, dref, x, K_DERIV, np.float32)
            if not ok:
                failures.append(f"order {n}: {msg}")
    assert not failures, "\n".join(failures[:10])


# ---------------------------------------------------------------------------
# Kinks
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("spec", SPECS)
def test_kinks_are_what_the_functions_do(spec):
    act = actcheck.parse_spec(spec)
    for k in act.kinks:
        lo, hi = min(k.left, k.right), max(k.left, k.right)
        assert lo <= k.value <= hi, f"{k} value outside the one-sided derivatives"
        fn = act.derivative if k.order == 1 else act.second_derivative
        assert fn(k.x) == k.value
        # the one-sided values are the limits from either side
        dx = 1e-9 * max(1.0, abs(k.x))
        assert fn(k.x - dx) == pytest.approx(k.left, rel=1e-7, abs=1e-7)
        assert fn(k.x + dx) == pytest.approx(k.right, rel=1e-7, abs=1e-7)
        jump = act.forward(np.nextafter(k.x, math.inf)) - act.forward(k.x)
        # f(x+) - f(x) carries the step to the next float and the rounding of f at |x|
        assert jump == pytest.approx(k.jump, abs=4 * float(np.spacing(max(1.0, abs(k.x)))))


@pytest.mark.parametrize("spec", [s for s in SPECS if actcheck.parse_spec(s).homogeneous])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_homogeneous_entries_are_x_times_their_derivative(spec, dtype):
    """``homogeneous`` promises f(x) = x·f'(x) in floating point (the XOR trainer relies on it)."""
    act = actcheck.parse_spec(spec)
    info = np.finfo(dtype)
    rng = np.random.default_rng(zlib.crc32(spec.encode()))
    mags = np.concatenate([10 ** rng.uniform(-40, 38, 2000), [0.0, info.smallest_subnormal]])
    kinks = [k.x for k in act.kinks]
    mags = np.concatenate([mags, [info.tiny, info.eps, 1.0, info.max], kinks]).astype(dtype)
    x = np.concatenate([mags, -mags])
    fn = act.raw()
    with np.errstate(over="ignore"):  # a slope above 1 takes -max to -inf on both sides
        np.testing.assert_array_equal(fn.forward(x), x * fn.derivative(x), strict=True)


def test_homogeneous_is_said_of_the_relu_family_only():
    said = {n for n in actcheck.names() if actcheck.get(n).homogeneous}
    assert said == {"relu", "leaky_relu", "prelu", "rrelu"}


def test_kinks_vanish_when_the_sides_agree():
    assert actcheck.get("leaky_relu", negative_slope=1.0).kinks == ()
    elu1 = actcheck.get("elu", alpha=1.0)
    assert [(k.order, k.x) for k in elu1.kinks] == [(2, 0.0)]
    assert elu1.smoothness == 1
    assert actcheck.get("elu", alpha=2.0).smoothness == 0
    assert actcheck.get("softplus", threshold=1000.0).kinks == ()
    assert actcheck.get("gelu").smoothness == math.inf
    assert actcheck.get("softplus").smoothness == -1
    assert "jumps" in actcheck.get("softplus").smoothness_label


# What PyTorch 2.13 (CPU, float64) returns from backward at each kink, measured by running it
# (shared/reference/pytorch-backward-at-kinks.md): (spec, x, dy/dx, y).
PYTORCH_AT_KINKS = [
    ("relu", 0.0, 0.0, 0.0),
    ("leaky_relu", 0.0, 0.01, 0.0),
    ("prelu", 0.0, 0.25, 0.0),
    ("rrelu", 0.0, 0.22916666666666666, 0.0),
    ("rrelu", -1.0, 0.22916666666666666, -0.22916666666666666),
    ("elu:alpha=2", 0.0, 2.0, 0.0),
    ("selu", 0.0, 1.7580993408473766, 0.0),
    # PyTorch: 0.999999985098839, a float32 rounding of 1/alpha; the true value is 1
    ("celu:alpha=0.1", 0.0, 1.0, 0.0),
    ("relu6", 0.0, 0.0, 0.0),
    ("relu6", 6.0, 0.0, 6.0),
    ("hardtanh", -1.0, 0.0, -1.0),
    ("hardtanh", 1.0, 0.0, 1.0),
    ("hardswish", -3.0, 0.0, -0.0),
    ("hardswish", 3.0, 1.0, 3.0),
    ("hardsigmoid", -3.0, 0.0, 0.0),
    ("hardsigmoid", 3.0, 0.0, 1.0),
    ("softsign", 0.0, 1.0, 0.0),
    ("softplus", 20.0, 0.9999999979388464, 20.000000002061153),
    ("softplus", 20.0000001, 1.0, 20.0000001),
    ("gelu", 0.0, 0.5, 0.0),
    ("gelu:approximate=tanh", 1.0, 1.0829640838457826, 0.8411919906082768),
    ("mish", 0.0, 0.6, 0.0),
    ("silu", 0.0, 0.5, 0.0),
]


@pytest.mark.parametrize(("spec", "x", "dydx", "y"), PYTORCH_AT_KINKS)
def test_pytorch_backward_values_at_kinks(spec, x, dydx, y):
    act = actcheck.parse_spec(spec)
    assert act.derivative(x) == pytest.approx(dydx, rel=4e-16, abs=0)
    assert act.forward(x) == pytest.approx(y, rel=4e-16, abs=0)


def test_every_kink_of_the_defaults_is_covered_by_the_pytorch_table():
    measured = {(actcheck.parse_spec(s).name, x) for s, x, _, _ in PYTORCH_AT_KINKS}
    for name in actcheck.names():
        for k in actcheck.get(name).kinks:
            if k.order == 1:
                assert (name, k.x) in measured, f"no PyTorch measurement for {name} at {k.x}"


def test_rrelu_training_mode_samples_slopes_in_range():
    act = actcheck.get("rrelu", lower=0.1, upper=0.3)
    x = np.linspace(-2, 2, 1001)
    y, slope = act.train_forward(x, np.random.default_rng(0))
    neg = x < 0
    assert np.all((slope[neg] >= 0.1) & (slope[neg] <= 0.3))
    assert np.all(slope[~neg] == 1.0)
    assert np.array_equal(y, x * slope)
    assert len(np.unique(slope[neg])) > 100  # one slope per element
    y2, _ = act.train_forward(x, np.random.default_rng(0))
    assert np.array_equal(y, y2)
    # deterministic entries return forward and derivative unchanged
    relu = actcheck.get("relu")
    y, d = relu.train_forward(x, np.random.default_rng(0))
    assert np.array_equal(y, relu(x)) and np.array_equal(d, relu.derivative(x))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hardswish_far_out_is_x_or_minus_zero_without_warnings(dtype):
    """x·(x+3)/6 is formed everywhere and the outer branches overwrite it: where that
    product overflows or meets -inf·0, nothing warns and the branch value stands (-0 below
    -3, x·0/6 keeping x's sign, as PyTorch computes it)."""
    big = np.finfo(dtype).max
    x = np.array([-np.inf, -big, -1e20, -3.0, 3.0, 1e20, big, np.inf], dtype=dtype)
    with np.errstate(all="raise"):
        y = actcheck.get("hardswish")(x)
    np.testing.assert_array_equal(y, np.where(x >= 3, x, 0))
    assert np.signbit(y[:4]).all() and y.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_hardswish_without_branches_is_the_masked_definition_bit_for_bit(dtype):
    """hardswish's forward takes its outer branches as min(x·(x+3)/6, u), u = x above 0 and
    -0.0 below: no branch per point. Bit for bit the masked definition (x from 3 on,
    -0.0 to -3), on every float within 2^14 ulps of ±3, 0 and 6 and at the extremes."""
    it = np.int64 if dtype == np.float64 else np.int32
    k = np.arange(-(1 << 14), 1 << 14, dtype=it)
    parts = [(np.array([c], dtype).view(it)[0] + k).view(dtype) for c in (3.0, -3.0, 6.0)]
    parts += [k.view(dtype), (-k).view(dtype)]  # around +0 and -0, subnormals included
    big = np.finfo(dtype).max
    parts.append(np.array([np.inf, -np.inf, big, -big, 1e30, -1e30], dtype))
    x = np.concatenate(parts)
    x = x[~np.isnan(x)]  # NaN patterns around the extremes' bit neighbours: below
    with np.errstate(over="ignore", invalid="ignore"):
        want = (x + 3) * x / 6
    want[x >= 3] = x[x >= 3]
    want[x <= -3] = -0.0
    got = actcheck.get("hardswish").forward(x)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.view(it), want.view(it))
    assert np.isnan(actcheck.get("hardswish").forward(np.array([np.nan], dtype)))[0]
