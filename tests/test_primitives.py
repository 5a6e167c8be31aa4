"""The shared stable primitives: tails, limits, dtypes, no warnings for any input."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest

from actcheck import primitives as P

EXTREMES = [-800.0, -40.0, -1.0, -0.0, 0.0, 1e-30, 1.0, 40.0, 800.0]
FUNCS = [P.sigmoid, P.expit, P.softplus, P.sech2, P.normal_pdf, P.normal_cdf]


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
    np.testing.assert_allclose(P.sigmoid(x), P.expit(x), rtol=5e-16, atol=0)
    np.testing.assert_allclose(P.sigmoid(x) + P.sigmoid(-x), 1.0, rtol=2e-16)


# ---------------------------------------------------------------------------
# expit and normal_cdf (the catalog's sigmoid, silu and gelu forwards) against mpmath, across
# the whole float range: tails, subnormal results, ±inf-like magnitudes
# ---------------------------------------------------------------------------


def _ulps(got: np.ndarray, ref: list, dtype) -> np.ndarray:
    """|got - ref| in units of the ulp at ref (below the normals: the smallest subnormal)."""
    tiny = np.finfo(dtype).smallest_subnormal
    err = [float(abs(mp.mpf(float(g)) - r)) for g, r in zip(got.tolist(), ref, strict=True)]
    ulp = [float(np.spacing(np.array(max(abs(float(r)), tiny), dtype=dtype))) for r in ref]
    return np.array(err) / np.array(ulp)


_RNG = np.random.default_rng(12)
_CDF_X = np.concatenate([
    _RNG.uniform(-38.5, 9.0, 3000),
    _RNG.standard_normal(1000),
    [-38.4, -38.0, -37.5, -37.0, -30.0, -20.0, -5.0, -1e-300, -5e-324, 0.0, 5e-324, 1e-300, 8.3],
])  # fmt: skip
_SIGMOID_X = np.concatenate([
    _RNG.uniform(-760.0, 50.0, 2000),
    _RNG.standard_normal(1000) * 10,
    [-1e300, -745.2, -745.0, -720.0, -709.8, -700.0, -5e-324, 0.0, 5e-324, 36.7, 40.0, 700.0],
    [1e300],
])  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normal_cdf_matches_mpmath_in_both_tails(dtype):
    """Φ to 12 ulp in float64 (the tail keeps its relative accuracy into the subnormals, where
    erfc(-x/√2) lost ~1e3 ulp); float32 is rounded once from float64, so within 1 ulp."""
    x = _CDF_X.astype(dtype)
    with mp.workdps(40):
        ref = [mp.ncdf(mp.mpf(float(v))) for v in x.tolist()]
    err = _ulps(P.normal_cdf(x), ref, dtype)
    worst = int(err.argmax())
    assert err.max() <= (12 if dtype == np.float64 else 1), (x[worst], err[worst])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_expit_matches_mpmath_with_subnormal_tail(dtype):
    """σ within 2.5 ulp everywhere, including the subnormal results left of -708 (float64);
    float32 is rounded once from float64, so within 1 ulp."""
    with np.errstate(over="ignore"):
        x = _SIGMOID_X.astype(dtype)
    with mp.workdps(40):
        ref = [1 / (1 + mp.exp(-mp.mpf(float(v)))) for v in x.tolist()]
    err = _ulps(P.expit(x), ref, dtype)
    worst = int(err.argmax())
    assert err.max() <= (2.5 if dtype == np.float64 else 1), (x[worst], err[worst])


def test_catalog_tails_where_scipy_forms_underflowed():
    """gelu(-38) and σ(-720) are subnormal, not 0 (erfc(-x/√2) and expit gave 0 there)."""
    import actcheck

    gelu, sigmoid = actcheck.get("gelu"), actcheck.get("sigmoid")
    assert gelu.forward(np.array(-38.0)) == pytest.approx(-1.096462777e-314, rel=1e-8)
    assert sigmoid.forward(np.array(-720.0)) == pytest.approx(2.0322308024e-313, rel=1e-9)
    assert sigmoid.forward(np.array(-745.0)) == 5e-324


# ---------------------------------------------------------------------------
# normal_cdf_pdf (GELU's derivative): Φ and φ from one e^{-x²/2}; the short rational of
# normal_cdf inside |x| <= 7 and the long one beyond meet without a seam
# ---------------------------------------------------------------------------

_SEAM_X = np.concatenate([
    np.linspace(-7.001, -6.999, 201), np.linspace(6.999, 7.001, 201),
    [-7.0, 7.0, np.nextafter(7.0, 8.0), np.nextafter(-7.0, -8.0)],
])  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normal_cdf_pdf_is_normal_cdf_and_an_accurate_pdf(dtype):
    """Φ is normal_cdf's to the bit; φ within 3 ulp of mpmath into the subnormals (float64),
    where exp(-x²/2) rounded the exponent and lost up to ~500 ulp; normal_pdf is that φ."""
    x = np.concatenate([_CDF_X, _SEAM_X, -_SEAM_X]).astype(dtype)
    cdf, pdf = P.normal_cdf_pdf(x)
    assert cdf.dtype == pdf.dtype == dtype
    np.testing.assert_array_equal(cdf, P.normal_cdf(x))
    np.testing.assert_array_equal(pdf, P.normal_pdf(x))
    with mp.workdps(40):
        ref = [mp.npdf(mp.mpf(float(v))) for v in x.tolist()]
    err = _ulps(pdf, ref, dtype)
    worst = int(err.argmax())
    assert err.max() <= (3 if dtype == np.float64 else 1), (x[worst], err[worst])


def test_normal_cdf_has_no_seam_where_its_two_rationals_meet():
    """Within 12 ulp on both sides of |x| = 7, and mixed arrays (some points beyond 7) give
    each point what it gets alone."""
    x = np.concatenate([_SEAM_X, -_SEAM_X])
    with mp.workdps(40):
        ref = [mp.ncdf(mp.mpf(float(v))) for v in x.tolist()]
    assert _ulps(P.normal_cdf(x), ref, np.float64).max() <= 12
    one_by_one = np.array([P.normal_cdf(np.array([v]))[0] for v in x])
    np.testing.assert_array_equal(P.normal_cdf(x), one_by_one)
    mixed = np.array([0.5, np.nan, -40.0, 1e300, -np.inf, -3.0])
    expected = [P.normal_cdf(np.array(v)) for v in mixed]
    np.testing.assert_array_equal(P.normal_cdf(mixed), expected)
