"""gradcheck on the catalog: no false alarms anywhere, and deliberately broken entries fail."""

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import actcheck
from actcheck import catalogcheck, report
from actcheck.activations import Activation, ActivationError, get, names
from actcheck.catalogcheck import assert_gradients, differentiable_params, gradcheck, probe_points
from actcheck.errors import GradcheckError, InputError
from actcheck.jsonout import dumps
from actcheck.numdiff import KEEP_WORST


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("name", names())
def test_every_catalog_function_passes(name, dtype, order):
    r = gradcheck(name, dtype=dtype, order=order, points=1000)
    assert r.passed, r.summary()
    expected = 1 + (len(differentiable_params(get(name))) if order == 1 else 0)
    assert len(r.checks) == expected


@pytest.mark.parametrize(
    ("spec", "texts"),
    [
        ("relu", ["relu'(0) = 0, the left derivative"]),
        ("leaky_relu", ["leaky_relu'(0) = 0.01, the left derivative"]),
        ("relu6", ["relu6'(0) = 0, the left derivative", "relu6'(6) = 0, the right derivative"]),
        ("hardswish", ["hardswish'(-3) = 0, the left derivative"]),
        ("softplus", ["softplus'(20) = 0.9999999979, the left derivative"]),
    ],
)
def test_kink_conventions_are_reported(spec, texts):
    r = gradcheck(spec)
    described = [k.summary(r.activation.name) for k in r.kink_reports(r.checks[0])]
    for text in texts:
        assert text in described


def test_softplus_threshold_has_no_false_alarm_for_other_parameters():
    for spec in ["softplus:beta=2", "softplus:beta=0.5,threshold=5", "softplus:threshold=1"]:
        for dtype in ["float64", "float32"]:
            assert gradcheck(spec, dtype=dtype).passed, spec


def test_probe_points_cover_the_special_places():
    x = probe_points([0.0, 6.0], points=100, seed=3)
    assert x.dtype == np.float64
    assert {0.0, 6.0, 1e30, -1e30, 1e-300, 5e-324, -5e-324} <= set(x.tolist())
    assert np.signbit(x[x == 0]).any() and (~np.signbit(x[x == 0])).any()
    assert np.nextafter(6.0, 7.0) in x and np.nextafter(6.0, 5.0) in x
    assert (np.diff(x[x != 0]) > 0).all()
    again = probe_points([0.0, 6.0], points=100, seed=3)
    np.testing.assert_array_equal(x, again)
    assert not np.array_equal(x, probe_points([0.0, 6.0], points=100, seed=4))
    x32 = probe_points([0.0], points=10, dtype="float32")
    assert x32.dtype == np.float32 and np.float32(1e-45) in x32


def test_reproducible_numbers():
    a = gradcheck("gelu", seed=7).to_dict()
    b = gradcheck("gelu", seed=7).to_dict()
    a.pop("seconds"), b.pop("seconds")
    assert a == b


def test_result_is_json_ready():
    data = gradcheck("hardtanh").to_dict()
    text = dumps(data)
    assert '"passed": true' in text
    assert {c["derivative"] for c in data["checks"]} == {"d/dx", "d/d(min_val)", "d/d(max_val)"}
    assert json.loads(text)["checks"][0]["tolerances"]["safety"] == 4.0


def test_nan_figures_become_null_in_json():
    nan = broken("tanh", derivative=lambda x, p: np.full_like(x, np.nan))
    r = gradcheck(nan, points=50)
    assert not r.passed
    data = json.loads(dumps(r.to_dict()))
    assert any(w["analytic"] is None for w in data["checks"][0]["worst"])


def test_tolerances_are_merged_over_the_dtype_row():
    base = gradcheck("elu", points=200).checks[0]
    loose = gradcheck("elu", points=200, tolerances={"safety": 8.0}).checks[0]
    same = gradcheck("elu", points=200, safety=8.0).checks[0]
    assert loose.tolerances.safety == 8.0 and loose.tolerances.f_ulps == base.tolerances.f_ulps
    np.testing.assert_array_equal(loose.bound, same.bound)
    assert (loose.bound > base.bound).all()
    # an explicit keyword wins over the dict
    assert (
        gradcheck("elu", points=10, safety=2.0, tolerances={"safety": 8.0})
        .checks[0]
        .tolerances.safety
        == 2.0
    )
    with pytest.raises(InputError, match="unknown tolerance 'safty'"):
        gradcheck("elu", tolerances={"safty": 8.0})


# -- deliberately broken entries must fail ---------------------------------------------------


def broken(name: str, **changes) -> Activation:
    act = get(name)
    return Activation(dataclasses.replace(act.entry, **changes), act.params)


def _d(name):
    return get(name).entry.derivative


BROKEN = {
    "sign flip": ("tanh", {"derivative": lambda x, p: -_d("tanh")(x, p)}),
    "factor 2": ("sigmoid", {"derivative": lambda x, p: 2 * _d("sigmoid")(x, p)}),
    "f instead of f'": ("silu", {"derivative": lambda x, p: get("silu").entry.forward(x, p)}),
    "wrong only at the kink": (
        "relu",
        {"derivative": lambda x, p: np.where(x == 0, 1.5, _d("relu")(x, p)).astype(x.dtype)},
    ),
    "subgradient outside one-sided": (
        "leaky_relu",
        {"derivative": lambda x, p: np.where(x == 0, -0.5, _d("leaky_relu")(x, p)).astype(x.dtype)},
    ),
    "narrow x-range": (
        "gelu",
        {
            "derivative": lambda x, p: np.where(
                (x > 1.0) & (x < 1.05), 1.001 * _d("gelu")(x, p), _d("gelu")(x, p)
            )
        },
    ),
    "uses output for input": (
        "elu",
        {"derivative": lambda x, p: _d("elu")(get("elu").entry.forward(x, p), p)},
    ),
    "wrong second derivative": (
        "softsign",
        {"second_derivative": lambda x, p: 2 * np.sign(x) / (1 + np.abs(x)) ** 3},
    ),
    "wrong parameter derivative": (
        "elu",
        {
            "param_derivatives": {
                "alpha": lambda x, p: np.where(x > 0, 0.0, np.exp(np.minimum(x, 0)) - 1.1)
            }
        },
    ),
}


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("bug", BROKEN)
def test_broken_derivatives_fail(bug, dtype):
    name, changes = BROKEN[bug]
    order = 2 if "second" in bug else 1
    r = gradcheck(broken(name, **changes), dtype=dtype, order=order, points=500)
    if bug == "narrow x-range" and dtype == "float32":
        # a 0.1 % error is below what float32 differences can resolve; 1 % is not
        assert r.passed
        changes = {
            "derivative": lambda x, p: np.where(
                (x > 1.0) & (x < 1.05), 1.01 * _d("gelu")(x, p), _d("gelu")(x, p)
            )
        }
        r = gradcheck(broken(name, **changes), dtype=dtype, points=500)
    assert not r.passed
    text = report.gradcheck_text(r)
    assert "FAILED" in text and "x=" in text and "the bound" in text
    assert "FAILED" in r.summary() and "\n" not in r.summary()


def test_narrow_range_bug_is_located():
    name, changes = BROKEN["narrow x-range"]
    r = gradcheck(broken(name, **changes))
    bad = r.checks[0].x[r.checks[0].failed_mask]
    assert bad.size and (bad > 1.0).all() and (bad < 1.05).all()


def test_wrong_subgradient_names_the_interval():
    name, changes = BROKEN["subgradient outside one-sided"]
    r = gradcheck(broken(name, **changes))
    [k] = r.kink_reports(r.checks[0])
    assert not k.passed and k.convention.startswith("outside the one-sided derivatives")


# -- API -----------------------------------------------------------------------------------


def test_public_api_is_lazy_and_complete():
    # the module is catalogcheck: no submodule shadows the function actcheck.gradcheck
    assert actcheck.gradcheck is gradcheck
    assert actcheck.gradcheck("relu", points=10).passed
    from actcheck import gradcheck as imported

    assert imported("relu", points=10).passed
    assert actcheck.assert_gradients is assert_gradients
    assert issubclass(actcheck.GradcheckError, AssertionError)
    assert issubclass(actcheck.InputError, ValueError)


def test_assert_gradients():
    assert assert_gradients("elu:alpha=2", dtype="float32").passed
    name, changes = BROKEN["factor 2"]
    with pytest.raises(GradcheckError, match=r"sigmoid .*FAILED") as info:
        assert_gradients(broken(name, **changes), points=200)
    assert "x=" in str(info.value) and "\n" not in str(info.value)
    assert info.value.result is not None and not info.value.result.passed


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"points": 0}, "points must be a positive integer"),
        ({"points": -5}, "points must be a positive integer"),
        ({"x_range": (1, -1)}, "MIN < MAX"),
        ({"x_range": (1, 1)}, "MIN < MAX"),
        ({"x_range": (0, float("inf"))}, "finite"),
        ({"dtype": "float16"}, "dtype"),
        ({"order": 3}, "order"),
        ({"step": 0.0}, "step"),
        ({"step": -1e-3}, "step"),
        ({"safety": 0}, "safety"),
        ({"distribution": "cauchy"}, "distribution"),
        ({"params": ["slope"]}, "no derivative for parameter 'slope'"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(InputError, match=match):
        gradcheck("leaky_relu", **kwargs)


def test_unknown_activation():
    with pytest.raises(InputError, match="unknown activation"):
        gradcheck("reluu")


@settings(max_examples=15)
@given(
    slope=st.floats(0, 5),
    alpha=st.floats(0.05, 5),
    beta=st.floats(0.1, 10),
    threshold=st.floats(1, 30),
    lo=st.floats(-5, 0.5),
    width=st.floats(0.01, 5),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_property_parameters_never_false_alarm(slope, alpha, beta, threshold, lo, width, dtype):
    specs = [
        get("leaky_relu", negative_slope=slope),
        get("elu", alpha=alpha),
        get("celu", alpha=alpha),
        get("softplus", beta=beta, threshold=threshold),
        get("hardtanh", min_val=lo, max_val=lo + width),
    ]
    for act in specs:
        try:
            act.check_dtype(dtype)
        except ActivationError:
            # refused only where a parameter is not representable: it rounds to 0 in the dtype
            values = [v for v in act.params.values() if not isinstance(v, str)]
            assert any(v != 0 and np.dtype(dtype).type(v) == 0 for v in values), act.spec
            continue
        r = gradcheck(act, dtype=dtype, points=200)
        assert r.passed, r.summary()


# ---------------------------------------------------------------------------
# Blocks, threads and streaming: none of them changes a figure
# ---------------------------------------------------------------------------


def _broken(name: str) -> Activation:
    """A catalog function whose derivative is wrong by 0.05 on 0.5 < x < 0.55."""
    act = actcheck.get(name)
    d = act.entry.derivative

    def wrong(x, p):
        return np.where((x > 0.5) & (x < 0.55), d(x, p) + 0.05, d(x, p))

    return Activation(dataclasses.replace(act.entry, derivative=wrong), act.params)


def _figures(r):
    d = r.to_dict()
    d.pop("seconds")
    return d


@pytest.mark.parametrize("act", ["elu", "softplus:beta=3", "hardtanh", "broken"])
def test_blocks_and_threads_give_the_same_result(monkeypatch, act):
    act = _broken("leaky_relu") if act == "broken" else act
    x = probe_points([0.0, 1.0], points=3000, seed=5)
    whole = gradcheck(act, x=x)
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 700)
    for threads in (1, 3):
        assert _figures(gradcheck(act, x=x, threads=threads)) == _figures(whole)


@pytest.mark.parametrize("threads", [1, 2])
def test_blocks_that_drop_float32_repeats_leave_no_gap(monkeypatch, threads):
    # 20,000 cells on a range a few thousand float32 values wide: most blocks drop repeats
    kw = {"points": 20_000, "x_range": (1.0, 1.0005), "dtype": "float32", "seed": 4}
    x = probe_points([0.0], **kw)
    assert x.size < 10_000
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 1500)
    r = gradcheck("relu", threads=threads, **kw)
    np.testing.assert_array_equal(r.checks[0].x, x.astype(np.float64))
    whole = gradcheck("relu", x=x, dtype="float32", x_range=kw["x_range"])
    for a, b in zip(r.checks, whole.checks, strict=True):
        for field in ("analytic", "numerical", "bound", "method", "verdict"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_probe_blocks_are_probe_points_in_sorted_pieces(monkeypatch):
    kw = {"points": 5000, "seed": 2, "distribution": "normal", "dtype": "float32"}
    blocks = list(catalogcheck.probe_blocks([0.0, 6.0], block=1000, **kw))
    assert len(blocks) >= 5
    x = np.concatenate(blocks)
    assert x.dtype == np.float32
    assert (np.diff(x[x != 0]) > 0).all()
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 1000)
    np.testing.assert_array_equal(x, catalogcheck.probe_points([0.0, 6.0], **kw))
    one = np.concatenate(list(catalogcheck.probe_blocks([0.0, 6.0], block=10**6, **kw)))
    # the jittered sample does not depend on how it is cut into blocks
    np.testing.assert_array_equal(one, x)


def test_the_random_sample_has_one_point_in_each_cell():
    lo, hi, n = -4.0, 6.0, 10_000
    x = probe_points([], points=n, x_range=(lo, hi), seed=7)
    fixed = probe_points([], points=1, x_range=(lo, hi), seed=7)
    random = np.setdiff1d(x, fixed)
    cells = np.floor((random - lo) / (hi - lo) * n).astype(int)
    # independent draws would leave about n/e cells empty; jittered points fill every one
    assert random.size >= n - 2 and np.unique(cells).size >= n - 2


@pytest.mark.parametrize("act", ["gelu", "broken"])
def test_a_streamed_check_keeps_the_statistics_and_the_worst_points(monkeypatch, act):
    act = _broken("elu") if act == "broken" else act
    x = probe_points([0.0], points=4000, seed=1)
    whole = gradcheck(act, x=x)
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 600)
    monkeypatch.setattr(catalogcheck, "STREAM_POINTS", 1000)
    monkeypatch.setattr(catalogcheck, "FOLD_BLOCKS", 3)  # kept points merged on the way
    seen = []
    streamed = gradcheck(act, x=x, threads=2, progress=lambda *a: seen.append(a))
    assert seen[-1] == (x.size, x.size) and seen == sorted(seen)
    assert streamed.passed == whole.passed
    for a, b in zip(streamed.checks, whole.checks, strict=True):
        assert a.x.size <= KEEP_WORST < b.x.size
        for figure in ("n_points", "n_failed", "n_skipped", "max_abs_error", "max_bound"):
            assert getattr(a, figure) == getattr(b, figure), figure
        assert a.max_excess == b.max_excess
        assert a.verdict_counts() == b.verdict_counts()
        assert a.method_counts() == b.method_counts()
        assert a.max_rel_error >= b.max_rel_error  # per block: never an understatement
        assert [w.x for w in a.worst(5)] == [w.x for w in b.worst(5)]
        assert a.kinks == b.kinks
        assert a.summary() == b.summary()


def test_blocks_are_shared_evenly_among_the_threads():
    size = catalogcheck._balanced
    assert size(1_000_000, 2) == 250_000  # 4 blocks, 2 per thread, none short
    assert size(1_000_000, 3) == -(-1_000_000 // 6)  # 6 blocks, 2 per thread
    assert size(20_000, 2) == 20_000  # too small to be worth cutting
    assert size(10**9, 2) <= catalogcheck.BLOCK_POINTS
    for points, workers in [(1, 2), (131_073, 2), (5_000_000, 4)]:
        s = size(points, workers)
        assert 1 <= s <= catalogcheck.BLOCK_POINTS and -(-points // s) * s >= points


@pytest.mark.parametrize("distribution", ["uniform", "normal"])
def test_block_edges_move_below_a_kink_and_the_points_stay_the_same(distribution):
    """hardswish's ±3 lie exactly on the edges of 4 blocks over (-6, 6): each edge moves
    below its kink (a kink's probes and neighbours in one block: one pass of one-sided
    differences, not two), and the points are those of any other cut."""
    kw = {"points": 40_000, "x_range": (-6.0, 6.0), "distribution": distribution, "seed": 5}
    kinks = [-3.0, 3.0, 1e-3, -1e-3]
    sample = catalogcheck.ProbeSample(kinks, kw["points"], kw["x_range"], distribution,
                                      kw["seed"], "float64", 10_000)  # fmt: skip
    assert sample.starts[0] == 0 and sample.starts[-1] == kw["points"]
    assert (np.diff(sample.starts) > 0).all()
    blocks = [sample.block(j) for j in range(sample.blocks)]
    for k in kinks:
        near = [j for j, b in enumerate(blocks) if (np.abs(b - k) < 1e-3 * max(abs(k), 1)).any()]
        assert len(near) == 1, (k, near)
    x = np.concatenate(blocks)
    np.testing.assert_array_equal(x, probe_points(kinks, **kw))
    one = np.concatenate(list(catalogcheck.probe_blocks(kinks, block=10**6, **kw)))
    np.testing.assert_array_equal(one, x)


def test_generated_probes_skip_the_nan_guard_and_give_the_same_numbers():
    """The probes a check generates hold no NaN, so f and f' skip their NaN guard there;
    given points may hold NaN and keep it."""
    act = get("hardswish")
    f, df = act.checked_pair(1, nan_free=True)
    x = probe_points([-3.0, 3.0], points=2000)
    np.testing.assert_array_equal(f(x), act.forward(x))
    np.testing.assert_array_equal(df(x), act.derivative(x))
    g, dg = act.checked_pair(2)
    np.testing.assert_array_equal(dg(x), act.second_derivative(x))
    np.testing.assert_array_equal(g(x), act.derivative(x))
    r = gradcheck("relu", x=np.array([np.nan, -1.0, 1.0]), params=False)
    assert np.isnan(r.checks[0].analytic[0]) and r.checks[0].verdict[0] != 0


@pytest.mark.parametrize("name", ["relu", "hardswish", "softplus", "gelu"])
def test_verdict_and_method_counts_are_those_of_the_arrays(name):
    """The engine counts verdicts and methods as it judges (every code but the commonest is
    at the few points it looked at again), so ``passed`` reads no array; the counts are
    those of the per-point arrays, with kinks, failures, ±inf and NaN among the points."""
    from actcheck.numdiff import METHODS, VERDICTS, _counts

    x = probe_points([0.0, -3.0, 3.0, 20.0], points=4000)
    x = np.concatenate([x, [np.nan, np.inf, -np.inf]])
    broken = dataclasses.replace(get(name).entry, derivative=lambda v, p: np.ones_like(v))
    for r in (gradcheck(name, x=x), gradcheck(name, dtype="float32", points=3000),
              gradcheck(Activation(broken, get(name).params), x=x)):  # fmt: skip
        for c in r.checks:
            arrays = (_counts(c.verdict, len(VERDICTS)), _counts(c.method, len(METHODS)))
            assert c.counts == arrays


def _stop_after(blocks: int):
    """A progress callback that acts as Ctrl-C once ``blocks`` blocks are in."""
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) == blocks:
            raise KeyboardInterrupt

    return progress


@pytest.mark.parametrize("threads", [1, 2])
def test_ctrl_c_keeps_the_blocks_checked_so_far(monkeypatch, threads):
    """Ctrl-C halfway: the blocks done are a result of their own, the same numbers as the
    whole run's for those points, and it says how far it got."""
    whole = gradcheck("elu", points=200_000, seed=3, threads=threads)
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 20_000)  # 10 blocks, the same points
    with pytest.raises(actcheck.Interrupted) as caught:
        gradcheck("elu", points=200_000, seed=3, threads=threads, progress=_stop_after(3))
    part = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt) and part.interrupted
    assert part.points_planned == whole.n_points  # float64: no repeats dropped
    up_to = part.checked_up_to
    assert -6 < up_to < 6 and up_to == pytest.approx(-6 + 12 * 3 / 10)
    for a, b in zip(part.checks, whole.checks, strict=True):
        n = a.n_points
        assert n == np.count_nonzero(b.x < up_to) and 0 < n < b.n_points
        for field in ("x", "analytic", "numerical", "bound", "verdict", "method"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field)[:n], field)
    assert part.passed
    assert f"interrupted after {part.n_points:,} of {whole.n_points:,} points, up to x = " in str(
        caught.value
    )
    d = part.to_dict()
    assert d["interrupted"] is True and d["points_planned"] == whole.n_points
    assert d["checked_up_to"] == up_to and d["points"] == part.n_points
    assert whole.to_dict()["interrupted"] is False and "checked_up_to" not in whole.to_dict()
    assert "passed (interrupted after " in report.gradcheck_text(part).splitlines()[0]


def test_ctrl_c_after_the_last_block_carries_the_whole_result(monkeypatch):
    whole = gradcheck("elu", points=50_000, threads=2)
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 10_000)  # 5 blocks
    with pytest.raises(actcheck.Interrupted) as caught:
        gradcheck("elu", points=50_000, threads=2, progress=_stop_after(5))
    r = caught.value.result
    assert not r.interrupted and r.checked_up_to is None and r.points_planned is None
    assert _figures(r) == _figures(whole)


def test_ctrl_c_in_a_streamed_check_keeps_its_statistics(monkeypatch):
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 2_000)
    monkeypatch.setattr(catalogcheck, "STREAM_POINTS", 10_000)
    monkeypatch.setattr(catalogcheck, "FOLD_BLOCKS", 3)  # the stop comes after a fold
    with pytest.raises(actcheck.Interrupted) as caught:
        gradcheck(_broken("elu"), points=40_000, threads=2, progress=_stop_after(14))
    part = caught.value.result
    c = part.checks[0]
    assert part.interrupted and c.stats is not None and c.x.size <= KEEP_WORST
    assert 14 * 2_000 <= part.n_points < 40_000 and (c.x <= part.checked_up_to).all()
    assert part.checked_up_to == pytest.approx(-6 + 12 * 14 / 20)
    assert not part.passed and c.n_failed  # the bug at 0.5 < x < 0.55 was reached


def test_ctrl_c_with_given_points_and_before_any_block(monkeypatch):
    x = np.random.default_rng(0).uniform(-3, 3, 50_000)
    monkeypatch.setattr(catalogcheck, "BLOCK_POINTS", 10_000)
    with pytest.raises(actcheck.Interrupted) as caught:
        gradcheck("tanh", x=x, threads=1, progress=_stop_after(2))
    part = caught.value.result
    assert part.checked_up_to is None and part.n_points == 20_000
    np.testing.assert_array_equal(part.checks[0].x, x[:20_000])
    assert "20,000 of 50,000 points (the first of those given)" in part.summary()

    def no_block(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(catalogcheck.ProbeSample, "block", no_block)
    with pytest.raises(KeyboardInterrupt) as plain:  # nothing checked: nothing to keep
        gradcheck("tanh", points=50_000, threads=2)
    assert not isinstance(plain.value, actcheck.Interrupted)
