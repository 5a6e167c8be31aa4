"""The wrong verdicts and misleading messages of issue 10, each reproduced on a small layer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from actcheck.cli import cli
from actcheck.implcheck import check_impl
from actcheck.report import impl_text
from actcheck.userimpl import VJP, Layer, ParamRef

CASES = Path(__file__).resolve().parent / "impl_cases_verdicts.py"
DTYPES = ["float64", "float32"]


def case(name: str) -> str:
    return f"{CASES}:{name}"


def row(result, prefix: str):
    return next(c for c in result.checks if c.name.startswith(prefix))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "name, shape", [("Identity", (8, 10)), ("Flatten", (8, 10)), ("Flatten", (2, 3, 4, 4))]
)
def test_cached_input_is_not_a_parameter(name: str, shape: tuple[int, ...], dtype: str) -> None:
    result = check_impl(case(name), shape=shape, dtype=dtype)
    assert result.passed, impl_text(result)
    assert result.params == ()


@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_missing_n_fails_in_the_jacobian_row_on_its_own(dtype: str) -> None:
    # 16·40 inputs: checked through projections, whose noise estimate once grew with the error
    good = check_impl(case("MeanSquareLoss"), shape=(16, 40), dtype=dtype)
    assert good.passed, impl_text(good)
    bad = check_impl(case("MeanSquareLossNoN"), shape=(16, 40), dtype=dtype)
    assert row(bad, "Jacobian").status == "fail", impl_text(bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_parameters_behind_properties_are_found(dtype: str) -> None:
    good = check_impl(case("Scale"), shape=(8, 10), dtype=dtype)
    assert good.passed and good.params == ("w",), impl_text(good)
    bad = check_impl(case("ScaleWrongDw"), shape=(8, 10), dtype=dtype)
    assert row(bad, "parameter w").status == "fail", impl_text(bad)


@pytest.mark.parametrize("dtype", DTYPES)
def test_overflow_in_the_tails_is_caught(dtype: str) -> None:
    result = check_impl(case("SoftplusNaive"), dtype=dtype)
    assert not result.passed
    bad = result.failures[0]
    assert "inf" in bad.details and "finite" in bad.name, impl_text(result)
    for name in ("SoftplusStable", "Exp"):
        result = check_impl(case(name), dtype=dtype)
        assert result.passed, impl_text(result)
        assert "dx at large |x|" in [c.name for c in result.checks]


def test_range_is_accepted_with_impl() -> None:
    r = CliRunner().invoke(
        cli, ["gradcheck", "--impl", case("SoftplusNaive"), "--range", "-1000", "1000"]
    )
    assert r.exit_code == 1 and "finite forward" in r.output, r.output
    r = CliRunner().invoke(
        cli, ["gradcheck", "--impl", case("SoftplusStable"), "--range", "0.05", "0.95"]
    )
    assert r.exit_code == 0 and "[0.05, 0.95]" in r.output, r.output
    result = check_impl(case("SoftplusStable"), x_range=(0.05, 0.95))
    assert result.passed and "dx at large |x|" not in [c.name for c in result.checks]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "f, df, at",
    [
        ("selu_grad", "selu_grad2", "x = 0"),
        ("selu_grad", "selu_grad2_right_at_0", ""),
        ("hard_sigmoid_grad", "hard_sigmoid_grad2_ok", ""),
    ],
)
def test_a_jump_in_what_is_differentiated_is_no_failure(
    f: str, df: str, at: str, dtype: str
) -> None:
    result = check_impl(case(f), case(df), dtype=dtype)
    assert result.passed, impl_text(result)
    details = row(result, "dx vs").details
    # (the right side's value at 0 matches the engine's one-sided estimate: no kink to name)
    assert not at or (f"jumps at {at}" in details and "does not exist" in details), details
    assert "-649041" not in details  # no one-sided "derivative" of a jump


def test_a_wrong_derivative_beside_a_jump_still_fails() -> None:
    result = check_impl(case("hard_sigmoid_grad"), case("hard_sigmoid_grad2"))
    assert row(result, "dx vs").status == "fail", impl_text(result)


@pytest.mark.parametrize(
    "name, words",
    [
        ("ActivationBase", ["abstract class", "fn, grad", "concrete subclass"]),
        ("softmax", ["not elementwise", "softmax", "backward"]),
        ("mean_square", ["not elementwise", "scalar", "loss"]),
    ],
)
def test_what_is_not_a_layer_is_said_plainly(name: str, words: list[str]) -> None:
    r = CliRunner().invoke(cli, ["gradcheck", "--impl", case(name)])
    assert r.exit_code == 2, r.output
    for w in words:
        assert w in r.output, r.output
    assert "ABCMeta" not in r.output and "needs --derivative" not in r.output


def test_forward_returning_none_hints_at_the_stored_output() -> None:
    result = check_impl(case("StoresOutput"))
    c = row(result, "forward output")
    assert "returned None" in c.details and "return self.output" in c.details, c.details


@pytest.mark.parametrize("dtype", DTYPES)
def test_large_derivatives_report_the_relative_error(dtype: str) -> None:
    # (exp itself may be judged by the complex step, which can give the analytic value to
    # the bit: then there is no error to speak of, relative or not)
    assert check_impl(case("Exp"), dtype=dtype).passed
    result = check_impl(case("ExpReal"), dtype=dtype)
    assert result.passed, impl_text(result)
    assert "max relative error" in row(result, "dx vs").details


def test_float32_inside_a_float64_check_is_named() -> None:
    result = check_impl(case("tanh"), case("dtanh_float32"))
    bug = row(result, "dx vs").bug or ""
    assert "float32" in bug and "no simple pattern" not in bug, impl_text(result)


def test_an_error_small_everywhere_is_not_called_local() -> None:
    result = check_impl(case("gelu"), case("dgelu_tanh_form"))
    bug = row(result, "dx vs").bug or ""
    assert "small errors" in bug and "wrong only" not in bug, impl_text(result)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, words", [("DenseL2", ["L2", "0.005"]), ("DenseL1", ["L1"])])
def test_regularization_in_backward_is_named(name: str, words: list[str], dtype: str) -> None:
    result = check_impl(case(name), shape=(8, 10), dtype=dtype)
    bug = row(result, "parameter W").bug or ""
    assert "regularization added in backward" in bug, impl_text(result)
    for w in words:
        assert w in bug


def test_an_optimizer_step_in_backward_is_named() -> None:
    result = check_impl(case("DenseOptimizerStep"), shape=(8, 10))
    (fail,) = result.failures
    assert "parameters changed during backward" in (fail.bug or ""), impl_text(result)
    assert "W" in fail.details and "linear" not in fail.name
    # accumulated gradients are no optimizer step: the gradient row says what is wrong
    result = check_impl(case("DenseAccumulates"), shape=(8, 10))
    assert all("during backward" not in (c.bug or "") for c in result.checks)
    assert row(result, "parameter W").status == "fail"


def test_where_points_at_the_deepest_frame_in_any_user_file(tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text(
        "import numpy as np\n\n\ndef softmax(x):\n    e = np.exp(x)\n"
        "    return e / e.sum(axis=1)  # (4, 5) / (4,): does not broadcast\n"
    )
    (tmp_path / "layer.py").write_text(
        "from helpers import softmax\n\n\nclass Softmax:\n    def forward(self, x):\n"
        "        return softmax(x)\n\n    def backward(self, dout):\n        return dout\n"
    )
    result = check_impl(f"{tmp_path / 'layer.py'}:Softmax", shape=(4, 5))
    (c,) = result.failures
    assert "helpers.py:6 in softmax()" in c.where, c.where


def test_what_user_code_prints_is_captured_and_noted(tmp_path: Path) -> None:
    f = tmp_path / "chatty.py"
    f.write_text(
        "import numpy as np\n\nprint('loading')\n\n\nclass Tanh:\n    def forward(self, x):\n"
        "        print('forward!')\n        self.y = np.tanh(x)\n        return self.y\n\n"
        "    def backward(self, dout):\n        return dout * (1 - self.y**2)\n"
    )
    r = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{f}:Tanh"])
    assert r.exit_code == 0, r.output
    assert "note: your code printed" in r.output and "loading" in r.output
    # printed once, in the note: not mixed into the table
    assert r.output.count("forward!") <= 5
    r = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{f}:Tanh", "--json"])
    data = json.loads(r.stdout)
    assert data["passed"] and data["printed"].startswith("loading\nforward!")


@pytest.mark.parametrize("dtype", DTYPES)
def test_no_kinks_reported_on_a_smooth_function(dtype: str) -> None:
    # GELU's left and right differences agreed at -4.375 and were named a "kink"
    result = check_impl(case("gelu"), case("dgelu"), dtype=dtype)
    assert result.passed, impl_text(result)
    assert "kinks" not in row(result, "dx vs").details


def test_a_function_of_several_inputs_is_not_told_to_add_derivative(tmp_path: Path) -> None:
    f = tmp_path / "losses.py"
    f.write_text("import numpy as np\n\n\ndef cross_entropy(y, t):\n    return -np.sum(t * y)\n")
    r = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{f}:cross_entropy"])
    assert r.exit_code == 2 and "needs --derivative" not in r.output
    # (with --arg support the missing t is named with an example instead)
    assert "takes y, t" in r.output or "needs t" in r.output, r.output


class _AffinePair(Layer):
    """cs231n's affine_forward(x, w, b) / affine_backward as the multi-input adapter sees it:
    w and b are parameters (ParamRef) whose gradients come from backward's tuple."""

    kind = "forward/backward functions with a cache"
    name = "affine"

    def __init__(self, dw_factor: float):
        self.files: set[str] = set()
        rng = np.random.default_rng(1)
        self.w, self.b = rng.normal(size=(10, 4)), rng.normal(size=4)
        self.factor = dw_factor
        self.grads: dict[str, np.ndarray] = {}
        self.params = [self._ref("w"), self._ref("b")]

    def _ref(self, k: str) -> ParamRef:
        return ParamRef(
            k,
            lambda: getattr(self, k).copy(),
            lambda v: setattr(self, k, np.array(v, dtype=np.float64)),
            lambda: self.grads.get(k),
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x @ self.w.astype(x.dtype) + self.b.astype(x.dtype)

    def vjp(self, x: np.ndarray, dout: np.ndarray) -> VJP:
        y = self.forward(x)
        self.grads = {"w": self.factor * (x.T @ dout), "b": dout.sum(axis=0)}
        return VJP(y, dout @ self.w.T.astype(x.dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_wrong_dw_of_a_multi_input_pair_fails(dtype: str) -> None:
    good = check_impl(_AffinePair(1.0), shape=(8, 10), dtype=dtype)
    assert good.passed and good.params == ("w", "b"), impl_text(good)
    bad = check_impl(_AffinePair(2.0), shape=(8, 10), dtype=dtype)
    c = row(bad, "parameter w")
    assert c.status == "fail" and "2 × true" in (c.bug or ""), impl_text(bad)
    assert row(bad, "parameter b").status == "pass"


@pytest.mark.parametrize("dtype", DTYPES)
def test_tails_judge_rounding_by_the_formula_s_terms(dtype: str) -> None:
    # σ'' against σ' at x = 30: σ' = s(1-s) rounds like s ~ 1, not like its value 1e-13
    result = check_impl(case("sigmoid_grad"), case("sigmoid_grad2"), dtype=dtype)
    assert result.passed, impl_text(result)
