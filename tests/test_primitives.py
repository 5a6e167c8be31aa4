"""The shared stable primitives: tails, limits, dtypes, no warnings for any input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from actcheck import primitives as P

EXTREMES = [-800.0, -40.0, -1.0, -0.0, 0.0, 1e-30, 1.0, 40.0, 800.0]
FUNCS = [P.sigmoid, P.sigmoid_fused, P.softplus, P.sech2, P.normal_pdf, P.normal_cdf]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("f", FUNCS, ids=lambda f: f.__name__)
def test_no_warning_and_dtype_kept(f, dtype):
    big = np.finfo(dtype).max
    x = np.array([-np.inf, -big, *EXTREMES, big, np.inf, np.nan], dtype=dtype)
    with np.errstate(all="raise", under="ignore"):
        y = f(x)
    assert y.dtype == dtype
    assert np.isnan(y[-1]) and not np.isnan(y[:-1]).any()


def test_tails_and_limits():
    x = np.array([-np.inf, -745.0, -100.0, 0.0, 100.0, np.inf])
    np.testing.assert_array_equal(P.sigmoid(x)[[0, 3, 5]], [0.0, 0.5, 1.0])
    assert P.sigmoid(np.array(-100.0)) == pytest.approx(math.exp(-100), rel=1e-15)
    assert P.softplus(np.array(-100.0)) == pytest.approx(math.exp(-100), rel=1e-15)
    assert P.softplus(np.array(1e308)) == 1e308
    assert P.sech2(np.array(30.0)) == pytest.approx(4 * math.exp(-60), rel=1e-14)
    assert P.normal_cdf(np.array(-30.0)) == pytest.approx(4.906713927148187e-198, rel=1e-13)
    assert P.normal_pdf(np.array(0.0)) == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-16)


def test_sigmoid_forms_agree():
    x = np.linspace(-50, 50, 10001)
    # each within 2 ulp of the exact value
    np.testing.assert_allclose(P.sigmoid(x), P.sigmoid_fused(x), rtol=5e-16, atol=0)
    np.testing.assert_allclose(P.sigmoid(x) + P.sigmoid(-x), 1.0, rtol=2e-16)
