"""The implcheck package's pieces on their own: diagnosis, compare, central_along, the run order."""

from __future__ import annotations

import numpy as np
import pytest

from actcheck import numdiff
from actcheck.errors import InputError
from actcheck.implcheck import CHECKS, Check, ImplResult, check, check_impl, diagnosis
from actcheck.implcheck.derivatives import compare
from actcheck.tolerances import directional


def test_factor_bug_names_sign_flip_and_factor() -> None:
    n = np.linspace(-2, 2, 9)
    bound = np.full(n.shape, 1e-12)
    assert diagnosis.factor_bug(-n, n, bound, "dW") == "sign flip: dW = -true"
    assert diagnosis.factor_bug(n / 64, n, bound, "db").startswith("constant factor: db = 1/64")
    assert diagnosis.factor_bug(n, n, bound, "dW") is None  # right is not a bug
    assert diagnosis.factor_bug(n + 1, n, bound, "dW") is None  # not a factor


@pytest.mark.parametrize(("c", "text"), [(2.0, "2"), (0.5, "1/2"), (-3.0, "-3"), (1 / 64, "1/64")])
def test_nice(c: float, text: str) -> None:
    assert diagnosis.nice(c) == text


def test_region_confined_and_scattered() -> None:
    x = np.linspace(-10, 10, 201)
    fail = (x > 2) & (x < 3)
    text, confined = diagnosis.region(x, fail, ~fail)
    assert confined and text.startswith("for x in [2.1, 2.9]")
    scattered = np.zeros_like(fail)
    scattered[::40] = True
    assert diagnosis.region(x, scattered, ~scattered)[1] is False


def test_matrix_bug_cross_terms_missing() -> None:
    rng = np.random.default_rng(0)
    jn = rng.normal(size=(3, 4, 4))
    ja = jn * np.eye(4)[None]
    bound = np.full(jn.shape, 1e-9)
    assert "cross terms" in diagnosis.matrix_bug(ja, jn, bound)
    assert "transposed" in diagnosis.matrix_bug(np.swapaxes(jn, 1, 2), jn, bound)


def test_compare_orders_worst_first_and_diagnoses_only_failures() -> None:
    a = np.array([1.0, 2.0, 3.0, 4.0])
    n = np.array([1.0, 2.5, 3.0, 2.0])
    bound = np.full(4, 0.1)
    called = []

    def diagnose() -> tuple[str, str]:
        called.append(1)
        return "bug", "backward"

    row = compare(
        "c",
        a,
        n,
        bound,
        point=lambda i: {"i": i},
        passed="ok",
        failed=lambda m: f"{int(m.sum())} wrong",
        diagnose=diagnose,
    )
    assert row.status == "fail" and row.details == "2 wrong" and called
    assert [w["i"] for w in row.worst] == [3, 1]
    assert set(row.worst[0]) == {"i", "analytic", "numerical", "error", "bound"}
    called.clear()
    ok = compare(
        "c",
        a,
        a,
        bound,
        point=lambda i: {},
        passed="ok",
        failed=str,
        diagnose=diagnose,
    )
    assert ok.passed and not called


def test_central_along_matches_derivative_within_its_error() -> None:
    x = np.linspace(-3, 3, 7)
    h = directional("float64").step * numdiff.pow2_scale(x)
    d = numdiff.central_along(lambda t: np.sin(x + t), h)
    assert np.all(np.abs(d.value - np.cos(x)) <= d.error)
    assert np.all(d.error < 1e-8)


def test_directional_tolerances_override_and_refuse_unknown() -> None:
    assert directional("float32", analytic_ulps=8.0).analytic_ulps == 8.0
    with pytest.raises(InputError, match="unknown tolerance"):
        directional("float64", nope=1.0)


def test_a_check_appended_to_the_list_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adding a check is appending one function (subject, rng) -> rows."""
    seen = []

    def extra(s, rng):
        seen.append(s.elementwise)
        return [Check("extra", "warn", f"{s.x.shape}")]

    monkeypatch.setattr(check, "CHECKS", (*CHECKS, extra))
    result = check_impl(np.tanh, lambda x: 1 - np.tanh(x) ** 2, shape=(4, 8))
    assert seen == [True] and result.checks[-1].name == "extra" and result.passed


def test_a_fatal_row_ends_the_run() -> None:
    result = check_impl(lambda x: x.tolist(), lambda x: np.ones_like(x), shape=(4, 8))
    assert [c.name for c in result.checks][-1] == "forward output"
    assert not result.passed and result.method == "" and result.elementwise is None


def test_result_summary_and_to_dict() -> None:
    row = Check("dx", "fail", "wrong", worst=({"x": 0.0, "left": float("nan")},))
    result = ImplResult("t", "layer", (2, 3), "float64", 0, checks=(row,))
    assert result.summary() == "t (layer), shape (2, 3), float64: fail (dx)"
    d = result.to_dict()
    assert d["passed"] is False and d["shape"] == [2, 3] and "fatal" not in d["checks"][0]


class _MixTransposed:
    """y = x @ A with a fixed non-symmetric A; backward multiplies by A instead of A^T."""

    A = np.arange(16.0).reshape(4, 4) / 10 + np.eye(4)

    def forward(self, x):
        return x @ self.A

    def backward(self, dout):
        return dout @ self.A  # bug: should be dout @ A.T


def test_transposed_jacobian_is_named() -> None:
    result = check_impl(_MixTransposed, shape=(8, 4))
    (fail,) = result.failures
    assert fail.name == "Jacobian vs numerical" and fail.bug.startswith("transposed Jacobian")


class _StopsAt:
    """A correct ReLU layer whose backward meets Ctrl-C (KeyboardInterrupt) on call ``n``."""

    n = 3

    def __init__(self) -> None:
        self.calls = 0

    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return np.where(self.mask, 0.0, dout)


def test_ctrl_c_keeps_the_checks_done_and_says_where() -> None:
    import actcheck
    from actcheck import report

    with pytest.raises(actcheck.Interrupted) as caught:
        check_impl(_StopsAt())
    r = caught.value.result
    assert isinstance(caught.value, KeyboardInterrupt) and r.interrupted and r.passed
    *done, last = r.checks
    assert done and all(c.status == "pass" for c in done)
    assert last.name == "interrupted" and last.status == "skip"
    assert last.where.startswith("backward at ") and "_StopsAt.backward()" in last.where
    assert r.to_dict()["interrupted"] is True and "interrupted" in r.summary()
    assert report.impl_text(r).splitlines()[0].endswith("interrupted, the checks before it: PASS")
    assert f"reporting the {len(done)} checks done before it" in report.impl_interrupted(r)


def test_ctrl_c_before_any_check_is_the_bare_keyboard_interrupt() -> None:
    import actcheck

    class First(_StopsAt):
        def forward(self, x):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt) as caught:
        check_impl(First())
    assert not isinstance(caught.value, actcheck.Interrupted)
