"""The numbers behind the figures: grids, curves, kink markers, numerical derivatives."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from actcheck import get, names, parse_spec
from actcheck import plotdata as pd

CATALOG = [get(n) for n in names()]
IDS = names()


def _evaluate(act, order, x):
    return np.asarray((act.forward, act.derivative, act.second_derivative)[order](x), dtype=float)


# -- grids -------------------------------------------------------------------


@pytest.mark.parametrize("act", CATALOG, ids=IDS)
def test_grid_holds_each_kink_and_a_neighbour_on_each_side(act):
    lo, hi = pd.auto_range([act])
    x = pd.sample_grid(act, lo, hi, 101)
    assert np.all(np.diff(x) > 0)
    assert x[0] == lo and x[-1] == hi
    for k in pd.kinks_in(act, lo, hi):
        i = int(np.searchsorted(x, k.x))
        assert x[i] == k.x
        # the neighbours are a few ulps away: no visible slope can join two branches
        assert 0 < k.x - x[i - 1] <= pd.kink_delta(k.x)
        assert 0 < x[i + 1] - k.x <= pd.kink_delta(k.x)


def test_auto_range_shows_relu6_kink_but_not_softplus_threshold():
    assert pd.auto_range([get("relu")]) == pd.BASE_RANGE
    lo, hi = pd.auto_range([get("relu6")])
    assert lo <= -4 and hi >= 6 + 1
    assert pd.auto_range([get("softplus")]) == pd.BASE_RANGE
    assert pd.auto_range([parse_spec("softplus:threshold=6")])[1] >= 6 + 1


# -- curves --------------------------------------------------------------------


@pytest.mark.parametrize("act", CATALOG, ids=IDS)
@pytest.mark.parametrize("order", [0, 1, 2])
def test_curve_values_are_the_catalogs(act, order):
    lo, hi = pd.auto_range([act])
    x = pd.sample_grid(act, lo, hi, 64)
    c = pd.curve(act, order, x)
    ok = np.isfinite(c.y)
    np.testing.assert_array_equal(c.y[ok], _evaluate(act, order, c.x[ok]))
    # NaN breaks sit exactly at the kinks where that curve jumps, nowhere else
    breaks = set(c.x[~ok].tolist())
    expected = {
        k.x
        for k in pd.kinks_in(act, lo, hi)
        if (order == 0 and k.jump) or (order >= 1 and order >= k.order)
    }
    assert breaks == expected


@pytest.mark.parametrize("spec", ["relu", "leaky_relu:negative_slope=0.3", "relu6", "hardtanh"])
def test_derivative_branches_end_at_the_one_sided_limits(spec):
    act = parse_spec(spec)
    lo, hi = pd.auto_range([act])
    c = pd.curve(act, 1, pd.sample_grid(act, lo, hi, 50))
    for k in act.kinks:
        i = int(np.flatnonzero(c.x == k.x)[0])
        assert math.isnan(c.y[i])
        assert c.y[i - 1] == k.left and c.y[i + 1] == k.right


def test_function_breaks_where_it_jumps():
    act = parse_spec("softplus:threshold=1")
    (k,) = act.kinks
    c = pd.curve(act, 0, pd.sample_grid(act, -4, 4, 40))
    i = int(np.flatnonzero(c.x == k.x)[0])
    assert math.isnan(c.y[i])
    assert c.y[i + 1] - c.y[i - 1] == pytest.approx(k.jump, abs=1e-9)
    assert np.isfinite(pd.curve(get("relu"), 0, pd.sample_grid(get("relu"), -1, 1, 20)).y).all()


# -- kink markers ------------------------------------------------------------------


def test_kink_markers_use_the_catalogs_limits_and_value():
    (m,) = pd.kink_markers(get("relu"), (0, 1), -4, 4)
    assert (m.x, m.order, m.left, m.right, m.value) == (0.0, 1, 0.0, 1.0, 0.0)
    assert pd.kink_caption([m]) == ["f′(0) = 0 (left)"]


def test_order_two_kinks_are_marked_on_the_second_derivative_only():
    elu = get("elu")
    assert pd.kink_markers(elu, (0, 1), -4, 4) == []
    (m,) = pd.kink_markers(elu, (0, 1, 2), -4, 4)
    assert (m.order, m.left, m.right, m.value) == (2, 1.0, 0.0, 1.0)


def test_second_derivative_is_marked_where_it_jumps_at_an_order_one_kink():
    marks = pd.kink_markers(get("hardswish"), (0, 1, 2), -5, 5)
    second = [(m.x, m.left, m.right) for m in marks if m.order == 2]
    assert second == [(-3.0, 0.0, pytest.approx(1 / 3)), (3.0, pytest.approx(1 / 3), 0.0)]
    # ReLU's f'' is 0 on both sides: nothing to mark
    assert [m.order for m in pd.kink_markers(get("relu"), (1, 2), -1, 1)] == [1]


def test_kinks_outside_the_range_are_not_marked():
    assert pd.kink_markers(get("relu6"), (1,), -4, 4)[0].x == 0.0
    assert len(pd.kink_markers(get("relu6"), (1,), -4, 4)) == 1


# -- numerical derivatives --------------------------------------------------------------


@pytest.mark.parametrize("act", CATALOG, ids=IDS)
def test_numerical_markers_agree_with_the_analytic_derivatives(act):
    lo, hi = pd.auto_range([act])
    for order in (1, 2):
        m = pd.numerical_markers(act, order, lo, hi, 33)
        assert len(m.x) >= 30
        exact = _evaluate(act, order, m.x)
        np.testing.assert_allclose(m.y, exact, rtol=1e-7, atol=1e-7)


@given(
    slope=st.floats(-3, 3),
    x=st.floats(-2, 2).filter(lambda v: abs(v) > 1e-300),  # x·1e-4 must not underflow onto the kink
)
def test_one_sided_steps_next_to_a_kink_see_only_their_branch(slope, x):
    act = get("leaky_relu", negative_slope=slope)
    x = x * 1e-4  # closer to the kink than the step
    (d,) = pd.numerical_derivative(act, np.array([x]), [0.0])
    assert d == pytest.approx(1.0 if x > 0 else slope, abs=1e-9)


def test_central_difference_would_straddle_the_kink():
    act = get("relu")
    (d,) = pd.numerical_derivative(act, np.array([5e-7]), [])  # closer than the step, ~4e-6
    assert 0.2 < d < 0.8  # why the barriers matter
    (nan,) = pd.numerical_derivative(act, np.array([0.0]), [0.0])
    assert math.isnan(nan)


def test_two_close_kinks_keep_the_stencil_between_them():
    act = parse_spec("hardtanh:min_val=-0.0001,max_val=0.0001")
    bars = [k.x for k in act.kinks]
    d = pd.numerical_derivative(act, np.array([0.0, 5e-5, 2e-4]), bars)
    np.testing.assert_allclose(d, [1.0, 1.0, 0.0], atol=1e-9)


# -- limits, bands, zoom ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "limits"),
    [
        ("sigmoid", (1.0,)),
        ("tanh", (-1.0, 1.0)),
        ("softsign", (-1.0, 1.0)),
        ("hardsigmoid", (1.0,)),
        ("elu:alpha=2", (-2.0,)),
        ("celu:alpha=0.5", (-0.5,)),
        ("relu", ()),
        ("gelu", ()),
        ("leaky_relu", ()),
    ],
)
def test_asymptotes(spec, limits):
    assert pd.asymptotes(parse_spec(spec)) == pytest.approx(limits)


def test_selu_asymptote_is_minus_scale_times_alpha():
    (v,) = pd.asymptotes(get("selu"))
    assert v == pytest.approx(-1.0507009873554805 * 1.6732632423543772)


def test_rrelu_band_spans_the_sampled_slopes():
    act = parse_spec("rrelu:lower=0.1,upper=0.4")
    x = np.linspace(-3, 3, 13)
    b = pd.training_band(act, x)
    np.testing.assert_allclose(b.low, np.where(x < 0, 0.4 * x, x))
    np.testing.assert_allclose(b.high, np.where(x < 0, 0.1 * x, x))
    assert b.dlow[0] == 0.1 and b.dhigh[0] == 0.4
    assert pd.training_band(get("relu"), x) is None
    # training mode's samples stay inside the band
    y, _ = act.train_forward(x, np.random.default_rng(1))
    assert np.all((b.low <= y + 1e-12) & (y <= b.high + 1e-12))


def _data(spec):
    act = parse_spec(spec)
    return pd.curve_data(act, pd.auto_range([act]), (0, 1))


def test_nearly_flat_stretches_get_a_zoom_and_flat_ones_do_not():
    d = _data("leaky_relu:negative_slope=0.01")
    z = pd.zoom_window([d], pd.y_limits([d]))
    assert (z.x0, z.x1) == (-4.0, 0.0)
    assert z.y0 < -0.04 < 0 < z.y1 < 0.01
    for spec in ("relu", "prelu", "sigmoid", "hardtanh"):
        d = _data(spec)
        assert pd.zoom_window([d], pd.y_limits([d])) is None, spec


def test_y_limits_hold_zero_and_every_curve():
    d = _data("sigmoid")
    lo, hi = pd.y_limits([d])
    assert lo < 0 < 1 < hi
    d = _data("relu6")
    assert pd.y_limits([d])[1] > 6


def test_emptiest_corner_avoids_the_curves():
    d = _data("relu")
    corners = pd.emptiest_corners([d], d.x_range, pd.y_limits([d]))
    assert sorted(corners) == sorted(pd.CORNERS)
    assert corners[0] == "upper left"
    assert corners[-1] in ("lower left", "lower right")
