"""The numerical engine: accuracy, error bounds, complex step, kinks, and bugs it must catch."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import actcheck
from actcheck.numdiff import (
    BOTH,
    CENTRAL,
    COMPLEX,
    KINK,
    KINK_MISMATCH,
    LEFT,
    RIGHT,
    check_direction,
    check_elementwise,
    richardson_central,
)

RNG = np.random.default_rng(1)
X = np.concatenate([RNG.uniform(-5, 5, 500), [0.0, -0.0, 1e-310, 5e-324, 1e3, -1e3, 1e30, -1e30]])


def relu(x):
    return np.maximum(x, 0)


def relu_d(x):
    return (x > 0).astype(x.dtype)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_d(x):
    s = sigmoid(x)
    return s * (1 - s)


def sech2(x):
    e = np.exp(-2 * np.abs(x))
    return 4 * e / (1 + e) ** 2


def real_only(f):
    """A wrapper that refuses complex input, like most hand-written layers."""

    def g(x):
        if np.iscomplexobj(x):
            raise TypeError("real input only")
        return f(x)

    return g


# -- accuracy of the numerical side ---------------------------------------------------------


@pytest.mark.parametrize(("f", "df"), [(np.sin, np.cos), (np.exp, np.exp), (np.tanh, sech2)])
def test_richardson_is_accurate_for_smooth_functions(f, df):
    x = np.linspace(-3, 3, 101)
    np.testing.assert_allclose(richardson_central(f, x), df(x), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_correct_smooth_pairs_pass_and_bounds_are_tight(dtype):
    x = np.linspace(-4, 4, 301)
    r = check_elementwise(real_only(np.sin), np.cos, x, dtype=dtype)
    assert r.passed, r.worst(3)
    # the bound is an estimate, not a blanket tolerance: far below a 1 % bug
    assert r.max_bound < (1e-7 if dtype == "float64" else 1e-2)
    assert r.dtype == dtype


def test_large_tiny_and_subnormal_points_do_not_false_alarm():
    x = np.array([1e3, 1e10, 1e30, 1e300, -1e300, 1e-30, 1e-300, 1e-310, 5e-324, -5e-324, 0.0])
    for f, df in [(np.tanh, sech2), (sigmoid, sigmoid_d), (relu, relu_d)]:
        assert check_elementwise(real_only(f), df, x).passed


def test_constant_number_of_calls_for_any_n():
    def counting(n):
        calls = {"f": 0, "df": 0}

        def f(x):
            calls["f"] += 1
            return np.tanh(x)

        def df(x):
            calls["df"] += 1
            return 1 - np.tanh(x) ** 2

        check_elementwise(real_only(f), df, np.linspace(-3, 3, n))
        return calls

    assert counting(100) == counting(100_000)


def test_shape_changing_function_is_an_error():
    with pytest.raises(ValueError, match="keep the shape"):
        check_elementwise(lambda x: np.sum(x), np.ones_like, X)


def test_fixed_shape_pads_subsets():
    n = X.size

    def f(x):
        assert x.shape == (n,)
        return relu(x)

    def df(x):
        return relu_d(x)

    r = check_elementwise(real_only(f), df, X, fixed_shape=True)
    assert r.passed
    # the complex-step probe is padded too
    r = check_elementwise(f, df, X, fixed_shape=True)
    assert r.passed and r.complex_step


def test_a_subset_stencil_is_one_call_with_the_same_results():
    """Near kinks a one-sided stencil's offsets go to f in one call (its fixed cost is most
    of the work on a few points); the numbers are those of one call per offset, which the
    padded (fixed_shape) path still makes."""
    x = np.concatenate([np.linspace(-1, 1, 2001), [-1e-6, -3e-7, 3e-7, 1e-6]])
    sizes = {False: [], True: []}

    def counting(fixed):
        def f(v):
            sizes[fixed].append(v.size)
            return relu(v)

        return check_elementwise(f, relu_d, x, kinks=[0.0], complex_step=False, fixed_shape=fixed)

    a, b = counting(False), counting(True)
    for field in ("numerical", "bound", "verdict", "method"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert len(sizes[False]) < len(sizes[True])
    assert len(sizes[False]) == 8  # 4 central offsets on all points, 4 one-sided stencils


# -- complex step ----------------------------------------------------------------------------


def test_complex_step_used_when_safe():
    r = check_elementwise(sigmoid, sigmoid_d, X)
    assert r.passed
    assert r.complex_step and r.complex_step_note == "complex step used"
    assert (r.method == COMPLEX).sum() > 400
    # machine precision: the bound is far tighter than with real differences
    real = check_elementwise(real_only(sigmoid), sigmoid_d, X)
    assert np.median(r.bound) < np.median(real.bound) / 100


@pytest.mark.parametrize(
    ("f", "why"),
    [
        (real_only(np.tanh), "raises TypeError"),
        (lambda x: np.abs(x) * 0 + np.tanh(np.real(x)), "returns a real array"),
        (lambda x: np.tanh(np.conj(x)), "disagrees with central differences"),
    ],
)
def test_complex_step_falls_back(f, why):
    r = check_elementwise(f, sech2, np.linspace(-3, 3, 61))
    assert r.passed
    assert not r.complex_step
    assert why in r.complex_step_note


def test_complex_step_is_never_the_only_witness_of_a_failure():
    # lexicographic np.maximum is complex-"safe" away from 0 but gives 1 at the kink itself
    r = check_elementwise(relu, relu_d, X)
    assert r.complex_step
    assert r.passed
    assert r.verdict[X == 0].tolist() == [KINK, KINK]


def test_forcing_complex_step_on_unsafe_code_is_an_error():
    with pytest.raises(ValueError, match="complex_step=True"):
        check_elementwise(real_only(np.tanh), np.tanh, X, complex_step=True)


# -- kinks -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kinks", [[0.0], None], ids=["known", "unknown"])
@pytest.mark.parametrize(
    ("value", "convention", "ok"),
    [
        (0.0, "the left derivative", True),
        (1.0, "the right derivative", True),
        (0.5, "the midpoint", True),
        (0.25, "between the one-sided derivatives", True),
        (2.0, "outside the one-sided derivatives", False),
        (-1.0, "outside the one-sided derivatives", False),
    ],
)
def test_kink_accepts_any_subgradient_and_names_it(kinks, value, convention, ok):
    def df(x):
        return np.where(x == 0, value, relu_d(x))

    r = check_elementwise(real_only(relu), df, X, kinks=kinks, name="relu")
    assert r.passed is ok
    [report] = [k for k in r.kinks if k.x == 0]
    assert (report.left, report.right) == (0.0, 1.0)
    assert report.convention.startswith(convention)
    if ok:
        assert r.verdict[X == 0].tolist() == [KINK, KINK]
    else:
        assert KINK_MISMATCH in r.verdict[X == 0]


def test_kink_description_reads_like_the_convention():
    r = check_elementwise(real_only(relu), relu_d, X, kinks=[0.0], name="relu")
    assert r.kinks[0].summary("relu") == "relu'(0) = 0, the left derivative"


def test_points_near_a_known_kink_use_their_own_side():
    ulps = np.array([np.nextafter(0.0, 1.0), 1e-12, 1e-7, -1e-12, -np.nextafter(0.0, 1.0)])
    r = check_elementwise(real_only(relu), relu_d, ulps, kinks=[0.0])
    assert r.passed
    assert r.method.tolist() == [RIGHT, RIGHT, RIGHT, LEFT, LEFT]
    assert CENTRAL not in r.method


def test_declared_sides_are_checked():
    class K:
        x, left, right, order = 0.0, 0.0, 2.0, 1  # wrong right side

    r = check_elementwise(real_only(relu), relu_d, X, kinks=[K()])
    assert not r.passed
    assert not r.kinks[0].sides_match


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_softplus_threshold_jump_is_no_false_alarm(dtype):
    def softplus(x):
        return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))

    def softplus_d(x):
        return np.where(x > 20, 1, sigmoid(x)).astype(x.dtype)

    x = np.concatenate([np.linspace(19.9, 20.1, 201), [20.0, np.nextafter(20, 21)]])
    for kinks in ([20.0], None):
        r = check_elementwise(real_only(softplus), softplus_d, x, kinks=kinks, dtype=dtype)
        assert r.passed, r.worst(3)


def test_unknown_kink_is_detected_and_reported():
    r = check_elementwise(real_only(relu), relu_d, X, name="relu")
    assert r.passed
    assert [k.x for k in r.kinks] == [0.0]
    assert not r.kinks[0].declared
    assert r.method[X == 0].tolist() == [BOTH, BOTH]


# -- bugs that must be caught -----------------------------------------------------------------

BUGS = {
    "sign flip": lambda df: lambda x: -df(x),
    "factor 2": lambda df: lambda x: 2 * df(x),
    "one percent": lambda df: lambda x: 1.01 * df(x),
    "narrow range": lambda df: lambda x: np.where((x > 1.0) & (x < 1.02), 1.1 * df(x), df(x)),
}


@pytest.mark.parametrize("bug", BUGS)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kinks", [[0.0], None], ids=["known", "unknown"])
def test_broken_derivatives_fail(bug, dtype, kinks):
    x = np.concatenate([X, np.linspace(1.0, 1.02, 5)[1:-1]])
    for f, df in [(relu, relu_d), (np.tanh, sech2)]:
        r = check_elementwise(real_only(f), BUGS[bug](df), x, kinks=kinks, dtype=dtype)
        assert not r.passed, (bug, f)
        assert r.n_failed >= 1
        worst = r.worst(1)[0]
        assert worst.excess > 1 and worst.verdict in ("mismatch", "kink mismatch")


def test_f_instead_of_f_prime_fails():
    r = check_elementwise(real_only(np.tanh), np.tanh, X)
    assert not r.passed and r.n_failed > 400


def test_wrong_only_at_the_kink_fails():
    r = check_elementwise(real_only(relu), lambda x: np.where(x == 0, -0.5, relu_d(x)), X)
    assert not r.passed
    assert r.n_failed == 2  # +0 and -0
    assert r.worst(1)[0].verdict == "kink mismatch"


# -- parameters --------------------------------------------------------------------------------


def test_parameter_direction():
    x = np.linspace(-3, 3, 121)
    a = 0.3

    def shifted(d):
        return np.where(x > 0, x, (a + d) * x)

    good = np.minimum(x, 0)
    assert check_direction(shifted, good, x, scale=a, wrt="a").passed
    assert not check_direction(shifted, -good, x, scale=a, wrt="a").passed


# -- properties --------------------------------------------------------------------------------


@given(
    a=st.floats(-3, 3),
    b=st.floats(0.1, 3),
    c=st.floats(-2, 2),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_property_smooth_functions_pass(a, b, c, dtype):
    x = np.linspace(-4, 4, 81)

    def f(x):
        return a * np.tanh(b * x) + c * x

    def df(x):
        return a * b / np.cosh(b * x) ** 2 + c

    assert check_elementwise(real_only(f), df, x, dtype=dtype).passed


@given(
    k=st.floats(-3, 3),
    left=st.floats(-2, 2),
    right=st.floats(-2, 2),
    t=st.floats(-0.5, 1.5),
    known=st.booleans(),
)
def test_property_piecewise_linear_kinks(k, left, right, t, known):
    x = np.concatenate([np.linspace(-4, 4, 41), [k]])

    def f(x):
        return np.where(x > k, right * (x - k), left * (x - k))

    value = left + t * (right - left)

    def df(x):
        return np.where(x > k, right, np.where(x < k, left, value))

    r = check_elementwise(real_only(f), df, x, kinks=[k] if known else None)
    gap = abs(right - left)
    if 0 <= t <= 1 or gap < 1e-6:
        assert r.passed
    elif gap * min(abs(t), abs(t - 1)) > 1e-6:
        assert not r.passed


def test_float32_code_sees_float32_and_is_never_written_to():
    seen = set()
    outputs = []

    def f(x):
        seen.add(x.dtype)
        y = np.tanh(x)
        outputs.append((y, y.copy()))  # a layer caching its output
        return y

    r = check_elementwise(real_only(f), lambda x: sech2(x).astype(np.float32), X, dtype="float32")
    assert r.passed and r.dtype == "float32"
    assert seen == {np.dtype(np.float32)}
    for y, saved in outputs:
        np.testing.assert_array_equal(y, saved)


# -- the error model's table (actcheck.tolerances) ------------------------------------------


def test_tolerances_rows_and_overrides():
    from actcheck.errors import InputError
    from actcheck.tolerances import TOLERANCES, merged, tolerances

    for name, row in TOLERANCES.items():
        assert row.step == float(np.finfo(name).eps) ** (1 / 3)
    assert tolerances("float32", safety=8.0).safety == 8.0
    assert tolerances(np.dtype("float32")) == TOLERANCES["float32"]
    assert merged("float64", {"safety": 8.0}, safety=2.0).safety == 2.0  # keywords win
    assert merged("float64", TOLERANCES["float32"]).step == TOLERANCES["float32"].step
    for bad, match in [
        ({"safty": 1.0}, "unknown tolerance 'safty'"),
        ({"safety": 0.0}, "safety must be a positive number"),
        ({"step": float("nan")}, "step must be a positive number"),
    ]:
        with pytest.raises(InputError, match=match):
            merged("float64", bad)
    with pytest.raises(InputError, match="no tolerances for dtype 'float16'"):
        tolerances("float16")


def test_engine_takes_tolerance_overrides():
    x = np.linspace(-3, 3, 101)
    base = check_elementwise(np.tanh, lambda v: 1 - np.tanh(v) ** 2, x, complex_step=False)
    loose = check_elementwise(
        np.tanh, lambda v: 1 - np.tanh(v) ** 2, x, complex_step=False, tolerances={"f_ulps": 8}
    )
    assert base.tolerances.f_ulps == 4 and loose.tolerances.f_ulps == 8
    assert (loose.bound > base.bound).all() and loose.passed
    d = check_direction(
        lambda t: np.tanh((1 + t) * x), x * (1 - np.tanh(x) ** 2), x, scale=1.0, safety=8.0
    )
    assert d.passed and d.tolerances.safety == 8.0


def test_richardson_central_with_kinks_is_one_sided_near_them_and_nan_at_them():
    x = np.array([-1e-7, 0.0, 1e-7, 0.5])
    d = richardson_central(relu, x, kinks=[0.0])
    np.testing.assert_allclose(d[[0, 2, 3]], [0.0, 1.0, 1.0], atol=1e-9)
    assert np.isnan(d[1])
    assert 0.2 < richardson_central(relu, x)[2] < 0.8  # without kinks the stencil straddles 0


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["relu", "hardtanh", "hardswish", "softplus", "relu6"])
def test_sorted_and_shuffled_points_get_the_same_verdicts(name, dtype):
    # sorted points (catalog blocks) find the points near a kink by search in a window the
    # step rule bounds, others by passes over all points; probes at ±1e30 (h ~ 1e25) used
    # to widen the window to the whole block
    act = actcheck.get(name)
    kinks = np.array([k.x for k in act.kinks])
    s = float(np.finfo(dtype).eps) ** (1 / 3)
    h = 2.0 ** np.floor(np.log2(s * np.maximum(np.abs(kinks), 1)))  # about the steps
    near = [kinks + f * h for f in (-2.0, -1.0, -0.9, -0.5, -0.1, 0.1, 0.5, 0.9, 1.0, 2.0)]
    far = [-1e30, -1e10, 1e10, 1e30]
    x = np.unique(np.concatenate([np.linspace(-8, 8, 4001), kinks, *near, far]).astype(dtype))
    order = np.random.default_rng(0).permutation(x.size)
    a = check_elementwise(act.forward, act.derivative, x, kinks=act.kinks)
    b = check_elementwise(act.forward, act.derivative, x[order], kinks=act.kinks)
    assert (a.method != 0).sum() > 5  # points near the kinks took their own sides
    for field in ("numerical", "bound", "verdict", "method"):
        np.testing.assert_array_equal(getattr(a, field)[order], getattr(b, field))


def test_the_hot_loop_in_pieces_gives_the_numbers_of_one_piece(monkeypatch):
    """Above ``BLOCK`` points f takes them piece by piece (its values stay in the cache);
    every per-point number is that of one call on all points, and a fixed-shape f still
    sees all N points in every call."""
    import actcheck.numdiff as numdiff

    x = np.concatenate([np.linspace(-3, 3, 5001), [0.0, -0.0, 1e-7, -1e-7, 1e30, -1e30]])
    act = actcheck.get("hardswish")
    kinks = [k for k in act.kinks]

    def run(fixed):
        sizes = []

        def f(v):
            sizes.append(v.size)
            return act.forward(v)

        r = check_elementwise(f, act.derivative, x, kinks=kinks, complex_step=False,
                              fixed_shape=fixed)  # fmt: skip
        return r, sizes

    whole, whole_sizes = run(False)
    monkeypatch.setattr(numdiff, "BLOCK", 1000)
    pieces, piece_sizes = run(False)
    padded, padded_sizes = run(True)
    for field in ("numerical", "bound", "verdict", "method", "analytic"):
        np.testing.assert_array_equal(getattr(pieces, field), getattr(whole, field))
        np.testing.assert_array_equal(getattr(padded, field), getattr(whole, field))
    assert [str(k) for k in pieces.kinks] == [str(k) for k in whole.kinks]
    assert max(piece_sizes) <= 1000 < max(whole_sizes) == x.size
    assert sum(s == 1000 for s in piece_sizes) == 4 * (x.size // 1000)
    assert set(padded_sizes) == {x.size}


def test_a_power_of_two_step_divides_by_multiplying():
    from actcheck.numdiff import _pow2_reciprocal

    assert _pow2_reciprocal(2.0**-17) == 2.0**17
    assert _pow2_reciprocal(3.0) is None  # x/3 is not x·(1/3)
    assert _pow2_reciprocal(np.full(3, 0.5)) is None  # arrays divide
    assert _pow2_reciprocal(2.0**-1070) is None  # 1/h would overflow
    assert _pow2_reciprocal(2.0**1023) is None  # 1/h would be subnormal
    v = np.array([1.0, -3.7e-300, 5e-324, 1e308, np.inf, -0.0, np.nan, 0.1])
    for h in (2.0**-20, 2.0**-3, 2.0**40):
        with np.errstate(over="ignore", under="ignore"):
            a, b = v / h, v * _pow2_reciprocal(h)
        np.testing.assert_array_equal(a.view(np.int64), b.view(np.int64))
