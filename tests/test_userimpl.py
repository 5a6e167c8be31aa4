"""actcheck gradcheck --impl: loading user code, detectors, and the CLI.

Correct layers must pass without a false alarm (kinks, float32, odd shapes);
realistic bugs must fail with the bug class and the place named.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import actcheck
from actcheck.cli import cli
from actcheck.errors import GradcheckError, InputError
from actcheck.implcheck import assert_impl, check_impl
from actcheck.report import impl_text
from actcheck.userimpl import load_layer

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "examples"
CASES = Path(__file__).resolve().parent / "impl_cases.py"


def ex(name: str) -> str:
    return f"{EX}/{name}"


def case(name: str) -> str:
    return f"{CASES}:{name}"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["gradcheck", *args])
    return result.exit_code, result.output


# ---------------------------------------------------------------------------
# Correct layers: no false alarms
# ---------------------------------------------------------------------------

CORRECT = [
    (ex("leaky_relu.py:LeakyReLU"), None),
    (ex("relu.py:Relu"), None),
    (ex("sigmoid.py:Sigmoid"), None),
    (ex("leaky_abs.py:leaky"), ex("leaky_abs.py:dleaky")),
    (ex("softmax.py:Softmax"), None),
    (ex("prelu.py:PReLU"), None),
    (case("Affine"), None),
    (case("BatchNorm"), None),
    (case("PerChannelPReLU"), None),
    (case("Hardswish"), None),
    (case("Gelu"), None),
    (case("cube"), case("dcube")),
    (case("L2Loss"), None),
    (case("relu_forward"), None),
    # issue 10: a mask drawn from np.random in forward is held fixed (RNG state restored)
    (case("Dropout"), None),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("impl", "deriv"), CORRECT, ids=lambda v: str(v).rsplit("/", 1)[-1])
def test_correct_layers_pass(impl: str, deriv: str | None, dtype: str) -> None:
    result = check_impl(impl, deriv, dtype=dtype)
    assert result.passed, impl_text(result)


@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (1, 300), (2, 2)])
def test_correct_layers_pass_in_other_shapes(shape: tuple[int, ...]) -> None:
    for impl in ("sigmoid.py:Sigmoid", "softmax.py:Softmax", "relu.py:Relu"):
        for seed in (0, 1):
            result = check_impl(ex(impl), shape=shape, seed=seed, dtype="float32")
            assert result.passed, impl_text(result)


class _CatalogLayer:
    """A catalog activation written as a user layer (forward/backward)."""

    def __init__(self, act: actcheck.Activation):
        self.act = act

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return self.act.forward(x)

    def backward(self, dout: np.ndarray) -> np.ndarray:
        return dout * self.act.derivative(self.x)


@pytest.mark.parametrize("name", [n for n in actcheck.names() if not actcheck.get(n).stochastic])
def test_every_catalog_activation_as_user_code_passes(name: str) -> None:
    layer = _CatalogLayer(actcheck.get(name))
    for dtype in ("float64", "float32"):
        result = check_impl(layer, dtype=dtype, seed=3)
        assert result.passed, impl_text(result)
        assert result.elementwise


@pytest.mark.parametrize("target", ["tanh_switch", "Net.act"])
def test_a_derivative_switch_gives_the_derivative(target: str) -> None:
    result = check_impl(case(target))
    assert result.passed, impl_text(result)
    assert result.kind.endswith("=True for its derivative") and result.elementwise


def test_a_derivative_switch_set_by_arg_is_the_users_choice() -> None:
    # --arg derivative=true asks for the derivative itself: checked as a function, which
    # then needs --derivative
    with pytest.raises(InputError, match="needs --derivative"):
        check_impl(case("tanh_switch"), args={"derivative": True})


def test_kink_convention_reported() -> None:
    result = check_impl(ex("relu.py:Relu"))
    row = next(c for c in result.checks if c.name == "dx vs numerical derivative")
    assert "f'(0) = 0, the left derivative" in row.details


def test_method_choice() -> None:
    assert check_impl(ex("sigmoid.py:Sigmoid")).method.startswith("per point")
    assert check_impl(ex("softmax.py:Softmax")).method.startswith("full per-sample Jacobian")
    assert "random projections" in check_impl(case("BatchNorm")).method


def test_parameters_found_and_cached_arrays_ignored() -> None:
    assert check_impl(ex("prelu.py:PReLU")).params == ("a",)
    assert check_impl(case("Affine")).params == ("W", "b")
    assert check_impl(case("DictParams")).params == ("params['W']",)
    # self.x / self.mask are cached, not parameters
    assert check_impl(ex("relu.py:Relu")).params == ()
    assert check_impl(case("LinearGradientNames"), shape=(4, 5)).params == ("weights", "bias")


# ---------------------------------------------------------------------------
# Bugs: each fails, with its class and place
# ---------------------------------------------------------------------------

BUGS = [
    # (impl, derivative, check name, words in the bug / summary / where)
    (ex("leaky_relu.py:SteepLeakyReLU"), None, "dx vs numerical", ["for x < 0 backward gives 1.5"]),
    (ex("relu.py:ReluInplace"), None, "in-place: dout in backward", ["in-place mutation of dout"]),
    (case("XInplace"), None, "in-place: x in forward", ["in-place mutation of x"]),
    (ex("sigmoid.py:SigmoidUsesInput"), None, "dx vs", ["uses the input where the output"]),
    (ex("sigmoid.py:SigmoidTwice"), None, "dx vs", ["uses the output where the input"]),
    (ex("leaky_abs.py:leaky"), ex("leaky_abs.py:dleaky_nan"), "finite", ["NaN/inf", "x[", "= 0"]),
    (ex("leaky_abs.py:leaky"), ex("leaky_abs.py:dleaky_flipped"), "dx vs", ["x > 0 backward"]),
    (ex("softmax.py:SoftmaxDiagonal"), None, "Jacobian", ["cross terms", "missing"]),
    (ex("softmax.py:SoftmaxWrongAxis"), None, "batch rows", ["mixes batch rows"]),
    (ex("prelu.py:PReLUWrongSlope"), None, "parameter a", ["wrong gradient for a"]),
    (case("hs"), case("dhs_narrow"), "dx vs", ["wrong only for x in [3.0", "3.29"]),
    (case("relu"), case("drelu_kink"), "dx vs", ["subgradient outside", "0 (left)", "x = 0"]),
    (case("leaky"), case("dleaky_kink0"), "dx vs", ["subgradient outside", "0.2 (left)"]),
    (case("tanh"), case("dtanh_f"), "dx vs", ["returns f(x) instead of f'(x)"]),
    (case("TanhForgot"), None, "linear in dout", ["forgot to multiply by dout"]),
    (case("nonlin"), None, "dx vs", ["in terms of the output y = f(x)", "actcheck passes x"]),
    (case("sigmoid"), case("sigmoid_of_output"), "dx vs", ["in terms of the output y"]),
    (case("relu_switch"), None, "dx vs", ["constant factor: backward = 2"]),
    (case("sigmoid_forward"), None, "dx vs", ["uses the output", "in sigmoid_backward()"]),
    (case("SquaresDout"), None, "linear in dout", ["not linear in dout"]),
    (case("TanhSign"), None, "dx vs", ["sign flip"]),
    (case("TanhTwice"), None, "dx vs", ["constant factor: backward = 2"]),
    (case("ReluKink2"), None, "dx vs", ["subgradient outside", "x = 0"]),
    (case("HardSigmoidNarrow"), None, "dx vs", ["wrong only for x in [3.0"]),
    (case("TanhPlusConst"), None, "dx vs", ["constant added: backward = f'(x) + 0.001"]),
    (case("BadShape"), None, "dx shape", ["(32,)", "(64, 32)"]),
    (case("DropoutFreshMaskInBackward"), None, "dx vs numerical derivative", ["wrong"]),
    (case("Overflow"), None, "finite forward", ["inf"]),
    (case("ReturnsList"), None, "forward output", ["list"]),
    (case("AffineBadDb"), None, "parameter b", ["1/64", "a mean where a sum"]),
    (case("DictParams"), None, "parameter params['W']", ["sign flip"]),
    (case("PerChannelPReLUNoSum"), None, "parameter alpha", ["missing sum over the batch"]),
    (case("BatchNormBad"), None, "Jacobian", ["random projections"]),
]


@pytest.mark.parametrize(("impl", "deriv", "check", "words"), BUGS, ids=lambda v: str(v)[-28:])
def test_bugs_are_caught_and_named(impl: str, deriv: str | None, check: str, words: list) -> None:
    result = check_impl(impl, deriv)
    assert not result.passed
    failed = [c for c in result.failures if c.name.startswith(check)]
    assert failed, impl_text(result)
    text = " ".join(f"{c.details} {c.bug} {c.where}" for c in failed)
    for w in words:
        assert w in text, impl_text(result)


@pytest.mark.parametrize(
    "impl",
    [ex("sigmoid.py:SigmoidTwice"), case("TanhTwice"), ex("softmax.py:SoftmaxDiagonal")],
)
def test_bugs_are_caught_in_float32(impl: str) -> None:
    assert not check_impl(impl, dtype="float32").passed


def test_allow_inplace_downgrades_to_warning() -> None:
    result = check_impl(ex("relu.py:ReluInplace"), allow_inplace=True)
    assert result.passed
    assert [c.name for c in result.warnings] == ["in-place: dout in backward"]


def test_exception_in_user_code_names_file_and_line() -> None:
    result = check_impl(case("Raises"))
    (c,) = result.failures
    assert c.name == "exception in backward"
    assert "AttributeError" in c.details
    line = next(i for i, t in enumerate(CASES.read_text().splitlines(), 1) if "self.mask" in t)
    assert f"impl_cases.py:{line} in Raises.backward()" in c.where
    assert "return dout * self.mask" in c.where


def test_exception_deep_in_user_code_points_at_the_deepest_user_frame() -> None:
    result = check_impl(case("ForwardRaises"))
    (c,) = result.failures
    assert "in ForwardRaises.helper()" in c.where and "ValueError" in c.details


# ---------------------------------------------------------------------------
# Loading: bad --impl -> exit 2, one line
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--impl", "no_such_file.py:Relu"], "no such file"),
        (["--impl", ex("relu.py:Nope")], "has no 'Nope' (it defines Relu, ReluInplace)"),
        (["--impl", ex("relu.py")], "expected FILE.py:NAME"),
        (["--impl", ex("relu.py:1x")], "not a Python name"),
        (["--impl", "no_such_pkg.mod:Relu"], "no module named 'no_such_pkg'"),
        (["--impl", "numpy:pi"], "is not a layer"),
        (["--impl", case("NeedsArgs")], "NeedsArgs needs n: add --arg n="),
        (["--impl", case("NoBackward")], "no backward(dout)"),
        (["--impl", case("numpy_only")], "needs --derivative"),
        (["--impl", case("cube"), "--derivative", case("nope")], "has no 'nope'"),
        (["--derivative", case("dcube")], "--derivative needs --impl"),
        (["--impl", case("Relu"), "--shape", "0,3"], "positive"),
        (["--impl", case("Relu"), "--shape", "a,b"], "not a shape"),
    ],
)
def test_bad_impl_is_a_one_line_usage_error(args: list[str], words: str) -> None:
    code, out = run(*args)
    assert code == 2, out
    assert words in out
    assert len(out.strip().splitlines()) == 1
    assert "Traceback" not in out


def test_import_error_in_user_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\n\nraise RuntimeError('boom at import')\n")
    code, out = run("--impl", f"{bad}:Layer")
    assert code == 2
    assert "RuntimeError: boom at import" in out and "broken.py:3" in out
    assert len(out.strip().splitlines()) == 1


def test_not_py_file(tmp_path: Path) -> None:
    f = tmp_path / "layer.txt"
    f.write_text("x")
    with pytest.raises(InputError, match=r"not a \.py file"):
        load_layer(f"{f}:Layer")


def test_package_module_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "mylayers"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "acts.py").write_text(
        "import numpy as np\n\n\nclass Tanh:\n"
        "    def forward(self, x):\n        self.y = np.tanh(x)\n        return self.y\n\n"
        "    def backward(self, dout):\n        return dout * (1 - self.y**2)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    code, out = run("--impl", "mylayers.acts:Tanh")
    assert code == 0, out


# ---------------------------------------------------------------------------
# CLI output and the Python API
# ---------------------------------------------------------------------------


def test_cli_pass_and_fail_exit_codes() -> None:
    code, out = run("--impl", ex("leaky_relu.py:LeakyReLU"))
    assert code == 0 and "PASS" in out
    code, out = run("--impl", ex("leaky_relu.py:SteepLeakyReLU"))
    assert code == 1
    assert "FAIL" in out and "forward's slope is 1.5" in out.replace("\n", " ")


def test_cli_options_shape_dtype_seed_json() -> None:
    code, out = run(
        "--impl", ex("softmax.py:SoftmaxDiagonal"), "--shape", "8,5", "--dtype", "float32",
        "--seed", "4", "--json",
    )  # fmt: skip
    assert code == 1
    data = json.loads(out, parse_constant=_no_constant)  # strict JSON: no NaN, no Infinity
    assert data["passed"] is False and data["shape"] == [8, 5] and data["dtype"] == "float32"
    assert any("cross terms" in (c["bug"] or "") for c in data["checks"])
    (row,) = [c for c in data["checks"] if c["status"] == "fail"]
    assert set(row["worst"][0]) >= {"analytic", "numerical", "error", "bound"}
    assert row["stats"]["method"].startswith("full per-sample Jacobian")


def _no_constant(name: str) -> None:
    raise AssertionError(f"{name} in JSON")


def test_cli_function_with_derivative() -> None:
    code, out = run("--impl", ex("leaky_abs.py:leaky"), "--derivative", ex("leaky_abs.py:dleaky"))
    assert code == 0, out


def test_help_warns_that_code_is_run() -> None:
    out = CliRunner().invoke(cli, ["gradcheck", "--help"]).output
    assert "RUNS ITS CODE" in out and "--impl" in out and "--allow-inplace" in out


def test_python_api_in_pytest() -> None:
    assert_impl(ex("sigmoid.py:Sigmoid"))
    with pytest.raises(GradcheckError, match="uses the output where the input is needed"):
        assert_impl(ex("sigmoid.py:SigmoidTwice"))


def test_objects_instead_of_specs() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("ex_prelu", EX / "prelu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert check_impl(mod.PReLU).passed  # a class
    assert check_impl(mod.PReLU()).passed  # an instance
    assert not check_impl(mod.PReLUWrongSlope()).passed
    assert check_impl(np.tanh, lambda x: 1 - np.tanh(x) ** 2).passed  # function + derivative
    assert not check_impl(np.tanh, lambda x: 1 - np.tanh(x)).passed


def test_json_is_strict() -> None:
    from actcheck.jsonout import dumps

    result = check_impl(ex("leaky_abs.py:leaky"), ex("leaky_abs.py:dleaky_nan"))
    data = json.loads(dumps(result))  # to_dict() through the one serialiser
    assert data["passed"] is False and data["checks"][-1]["name"] == "finite derivative"


def test_json_writes_nan_as_null() -> None:
    """A NaN in a worst point (a one-sided derivative off the kink) is null, not "nan"."""
    from actcheck.implcheck import Check, ImplResult

    row = Check("dx vs numerical derivative", "fail", "wrong", worst=({"left": float("nan")},))
    result = ImplResult("t", "layer", (2,), "float64", 0, checks=(row,))
    code_json = actcheck.report.impl_json(result)
    assert code_json["checks"][0]["worst"][0]["left"] is None
    json.dumps(code_json, allow_nan=False)


def test_impl_and_activation_names_exclude_each_other() -> None:
    code, out = run("relu", "--impl", ex("relu.py:Relu"))
    assert code == 2 and "not both" in out


def test_user_prints_do_not_break_json(tmp_path: Path) -> None:
    f = tmp_path / "chatty.py"
    f.write_text(
        "import sys\n\n\nclass Id:\n    def forward(self, x):\n        print('forward!')\n"
        "        return x * 1.0\n\n    def backward(self, dout):\n        print('backward!')\n"
        "        return dout * 1.0\n\n\nclass Quits(Id):\n    def backward(self, dout):\n"
        "        sys.exit(3)\n"
    )
    result = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{f}:Id", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["passed"] is True
    r = check_impl(f"{f}:Quits")
    (c,) = r.failures
    assert c.name == "exception in backward" and "SystemExit" in c.details


@settings(max_examples=15)
@given(
    c=st.sampled_from([-1.0, 2.0, 0.5, -3.0, 1.5, 0.25]),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_property_factor_bugs_are_named(c: float, dtype: str) -> None:
    def f(x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def df(x: np.ndarray) -> np.ndarray:
        return (c * (1 - np.tanh(x) ** 2)).astype(x.dtype)

    result = check_impl(f, df, dtype=dtype, shape=(16, 16))
    (fail,) = result.failures
    expected = "sign flip" if c == -1 else "constant factor"
    assert expected in (fail.bug or ""), impl_text(result)


@settings(max_examples=15)
@given(
    a=st.floats(0.0, 1.0),
    dtype=st.sampled_from(["float64", "float32"]),
    seed=st.integers(0, 10**6),
)
def test_property_correct_leaky_never_false_alarm(a: float, dtype: str, seed: int) -> None:
    def f(x: np.ndarray) -> np.ndarray:
        return np.maximum(a * x, x)

    def df(x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, 1.0, a).astype(x.dtype)

    result = check_impl(f, df, dtype=dtype, seed=seed, shape=(8, 16))
    assert result.passed, impl_text(result)


@pytest.mark.parametrize("opt", [["--points", "10"], ["--plot", "x.png"]])
def test_catalog_only_options_are_rejected_with_impl(opt: list[str]) -> None:
    code, out = run("--impl", ex("relu.py:Relu"), *opt)
    assert code == 2 and f"{opt[0]} does not apply to --impl" in out


@settings(max_examples=12)
@given(
    lo=st.floats(
        -4.0, 3.5
    ),  # further out tanh' < 1e-3: a 50 % error there is below float32's floor
    width=st.floats(0.05, 0.5),
    dtype=st.sampled_from(["float64", "float32"]),
)
def test_property_narrow_bug_is_located(lo: float, width: float, dtype: str) -> None:
    hi = lo + width

    def df(x: np.ndarray) -> np.ndarray:
        d = 1 - np.tanh(x) ** 2
        return np.where((x > lo) & (x < hi), 1.5 * d, d).astype(x.dtype)

    result = check_impl(np.tanh, df, dtype=dtype)
    (fail,) = result.failures
    assert "for x in [" in (fail.bug or ""), impl_text(result)
    a, b = (float(v) for v in fail.bug.split("for x in [")[1].split("]")[0].split(", "))
    assert lo - 0.01 <= a <= b <= hi + 0.01


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("IntOut", "forward output"),
        ("ComplexOut", "forward output"),
        ("NoneOut", "forward output"),
        ("IntDx", "dx dtype"),
        ("ListDx", "dx"),
        ("Float16", "forward dtype"),
        ("Recursion", "exception in forward"),
    ],
)
def test_odd_user_outputs_fail_cleanly(name: str, check: str) -> None:
    code, out = run("--impl", case(name))
    assert code == 1 and "Traceback" not in out
    assert [c.name for c in check_impl(case(name)).failures] == [check]


def test_module_spec_from_the_current_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the CLI runs the user's code in a child process: the file counts its runs in a file
    (tmp_path / "localacts.py").write_text(
        "import numpy as np\n\n"
        "with open('runs.txt', 'a') as fh:\n    fh.write('x')\n\n\n"
        "def f(x):\n    return np.sin(x)\n\n\ndef df(x):\n    return np.cos(x)\n"
    )
    monkeypatch.chdir(tmp_path)
    code, out = run("--impl", "localacts:f", "--derivative", "localacts:df")
    assert code == 0, out
    before = len((tmp_path / "runs.txt").read_text())
    # a file named twice (--impl and --derivative) is executed once
    code, out = run("--impl", "localacts.py:f", "--derivative", "localacts.py:df")
    assert code == 0, out
    assert len((tmp_path / "runs.txt").read_text()) == before + 1


def test_documented_pytest_example_runs() -> None:
    import subprocess
    import sys

    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(EX / "test_my_layers.py"),
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert p.returncode == 0, p.stdout + p.stderr


# ---------------------------------------------------------------------------
# backward(dout, learning_rate) that applies its own SGD update
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["SgdDense", "SgdDenseRebinds", "SgdDenseDefaultRate"])
def test_gradients_are_read_off_the_update_backward_applies(target: str) -> None:
    result = check_impl(case(target), shape=(3, 1))
    assert result.passed, impl_text(result)
    assert result.params == ("weights", "bias")
    assert "backward(dout, learning_rate)" in result.kind or "(dout, lr)" in result.kind
    row = next(c for c in result.checks if c.name == "parameter weights")
    assert "read off the update backward applies" in row.details


def test_a_rate_in_backward_alone_is_given_zero() -> None:
    result = check_impl(case("SgdTanh"))
    assert result.passed and result.params == (), impl_text(result)


def test_a_rate_given_with_arg_is_used_as_given() -> None:
    # a rate of 0.5 updates the layer at every call: the check cannot hold it still
    result = check_impl(case("SgdDense"), shape=(3, 1), args={"learning_rate": 0.5})
    row = next(c for c in result.checks if c.name == "parameters unchanged by backward")
    assert row.status == "fail" and "learning_rate" not in result.kind


@pytest.mark.parametrize(
    ("target", "row", "words"),
    [
        ("SgdDenseUpdatesFirst", "dx before the update", ["computed with the parameters"]),
        ("SgdDenseBiasTwice", "parameter bias", ["wrong gradient for bias"]),
        ("AdamDense", "parameters unchanged by backward", ["even with learning_rate = 0"]),
    ],
)
def test_bugs_of_a_backward_that_updates(target: str, row: str, words: list[str]) -> None:
    result = check_impl(case(target), shape=(3, 1))
    assert not result.passed
    failed = next(c for c in result.checks if c.name == row)
    text = impl_text(result)
    assert failed.status == "fail", text
    assert all(w in text for w in words), text


def test_the_layer_is_left_as_it_was() -> None:
    from actcheck.userimpl import load_layer

    layer = load_layer(case("SgdDense"), args={}, shape=(3, 1))
    before = layer.obj.weights.copy(), layer.obj.bias.copy()
    check_impl(layer, shape=(3, 1))
    assert (layer.obj.weights == before[0]).all() and (layer.obj.bias == before[1]).all()


def test_another_backward_parameter_is_asked_for() -> None:
    with pytest.raises(InputError, match="needs momentum: add --arg momentum="):
        check_impl(case("NeedsMomentum"))


def test_backward_taking_the_input_first() -> None:
    result = check_impl(case("InputFirstReLU"))
    assert result.passed, impl_text(result)
    assert "backward(input, dout)" in result.kind


def test_a_rate_the_layer_holds_is_held_at_zero_and_the_update_read() -> None:
    result = check_impl(case("InputFirstDense"), shape=(4, 5))
    assert result.passed, impl_text(result)
    assert result.params == ("weights", "biases")
    assert "self.learning_rate = 0" in result.kind
    bad = check_impl(case("InputFirstDenseMeanBias"), shape=(4, 5))
    row = next(c for c in bad.checks if c.name == "parameter biases")
    assert row.status == "fail" and "1/4" in impl_text(bad), impl_text(bad)


def test_other_names_for_forward_and_backward() -> None:
    result = check_impl(case("ForwardPropLayer"), shape=(4, 6))
    assert result.passed, impl_text(result)
    assert result.params == ("weights", "biases") and "forward_prop/backward" in result.kind
    assert check_impl(case("FpropTanh")).passed


def test_a_switch_beside_another_parameter() -> None:
    with pytest.raises(InputError, match=r"needs alpha: add --arg alpha="):
        check_impl(case("leaky_switch"))
    result = check_impl(case("leaky_switch"), args={"alpha": 0.1})
    assert result.passed, impl_text(result)


def test_an_update_of_a_params_dict_is_read_and_undone() -> None:
    from actcheck.userimpl import load_layer

    layer = load_layer(case("DictSgdAffine"), args={}, shape=(4, 5))
    w0 = layer.obj.params["W"].copy()
    result = check_impl(layer, shape=(4, 5))
    assert result.passed, impl_text(result)
    assert result.params == ("params['W']", "params['b']")
    assert (layer.obj.params["W"] == w0).all()


def test_float32_parameters_updated_by_backward() -> None:
    result = check_impl(case("SgdDense32"), shape=(3, 1), dtype="float32")
    assert result.passed, impl_text(result)
    assert result.params == ("weights", "bias")


@pytest.mark.parametrize("target", ["dl_relu", "plain_relu"])
def test_name_and_name_backward_are_a_pair(target: str) -> None:
    result = check_impl(case(target))
    assert result.passed, impl_text(result)
    assert result.kind == "forward/backward functions with a cache"


def test_name_backward_pair_with_a_bug() -> None:
    result = check_impl(case("dl_sigmoid"))
    assert not result.passed
    assert "dl_sigmoid_backward" in impl_text(result)


def test_every_parameter_at_one_over_m_is_named_as_the_mean_in_backward() -> None:
    args = {"W": "randn:3,4", "b": "randn:3,1"}
    result = check_impl(case("dl_linear_forward"), args=args, shape=(4, 5))
    text = impl_text(result)
    assert not result.passed
    assert "1/5 × true" in text and "the mean over the batch, taken in backward" in text, text
    # one parameter alone at 1/64 stays the plain 'a mean where a sum is needed?'
    alone = impl_text(check_impl(case("AffineBadDb")))
    assert "a mean where a sum" in alone and "taken in backward" not in alone


# ---------------------------------------------------------------------------
# micrograd-style scalar autograd: Value.method
# ---------------------------------------------------------------------------


def test_a_scalar_autograd_operation_is_checked_point_by_point() -> None:
    result = check_impl(ex("scalar_autograd.py:Value.tanh"))
    assert result.passed and result.elementwise, impl_text(result)
    assert result.kind == "scalar autograd: data, backward(), grad"
    row = next(c for c in result.checks if c.name == "gradient accumulates")
    assert row.status == "pass"


def test_a_scalar_operation_that_sets_grad_instead_of_adding_to_it() -> None:
    result = check_impl(ex("scalar_autograd.py:Value.exp"))
    row = next(c for c in result.checks if c.name == "gradient accumulates")
    assert row.status == "fail" and "self.grad +=" in (row.bug or ""), impl_text(result)
    assert "in Value.exp(): self.grad = out.data * out.grad" in row.where  # the very line
    # exp itself overflows past x = 709 (math.exp raises): the true value does too
    tails = next(c for c in result.checks if c.name == "dx at large |x|")
    assert tails.status == "pass", impl_text(result)


def test_a_scalar_operation_with_an_argument() -> None:
    with pytest.raises(InputError, match="needs k"):
        check_impl(ex("scalar_autograd.py:Value.__pow__"))
    assert check_impl(ex("scalar_autograd.py:Value.__pow__"), args={"k": 3}).passed


def test_a_scalar_operation_with_a_domain() -> None:
    # (-2)**0.5 is complex in Python: NaN there, as numpy's; inside the domain it passes
    sqrt = ex("scalar_autograd.py:Value.__pow__")
    outside = check_impl(sqrt, args={"k": 0.5})
    assert not outside.passed and "NaN" in impl_text(outside)
    assert check_impl(sqrt, args={"k": 0.5}, x_range=(0.01, 10)).passed


@pytest.mark.parametrize(
    "target", ["scalar_autograd.py:Value", "scalar_autograd.py:Value.backward"]
)
def test_a_scalar_autograd_class_asks_for_an_operation(target: str) -> None:
    with pytest.raises(InputError, match=r"scalar autograd class .* e\.g\. --impl .*Value\.tanh"):
        check_impl(ex(target))


# ---------------------------------------------------------------------------
# a derivative that takes the output: derivative_of_output / --derivative-of-output
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "derivative"), [("nonlin", None), ("sigmoid", "sigmoid_of_output")]
)
def test_a_derivative_of_the_output_passes_when_said_so(
    target: str, derivative: str | None
) -> None:
    d = case(derivative) if derivative else None
    assert not check_impl(case(target), d).passed
    result = check_impl(case(target), d, derivative_of_output=True)
    assert result.passed, impl_text(result)
    assert result.kind.endswith("its derivative taking y = f(x)")


def test_a_derivative_of_the_input_fails_when_said_to_take_the_output() -> None:
    assert not check_impl(case("tanh_switch"), derivative_of_output=True).passed


def test_only_a_function_and_its_derivative_can_take_the_output() -> None:
    with pytest.raises(InputError, match="only for a function with its derivative"):
        check_impl(case("TanhSign"), derivative_of_output=True)


def test_derivative_of_output_on_the_command_line() -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["gradcheck", "--impl", case("nonlin"), "--derivative-of-output"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli, ["gradcheck", "relu", "--derivative-of-output"])
    assert r.exit_code == 2 and "needs --impl" in r.output


def test_a_binary_scalar_operation_checks_the_other_operand_too() -> None:
    result = check_impl(case("Scalar.__add__"), args={"other": 3})
    assert result.passed, impl_text(result)
    row = next(c for c in result.checks if c.name == "parameter other")
    assert row.status == "pass" and "other.grad" in row.details
    # the operand's example is a number, not an array
    with pytest.raises(InputError, match=r"needs other: add --arg other=3$"):
        check_impl(case("Scalar.__add__"))


def test_a_wrong_gradient_of_the_other_operand_fails() -> None:
    result = check_impl(case("Scalar.__truediv__"), args={"other": 3})
    failed = {c.name for c in result.checks if c.status == "fail"}
    assert failed == {"parameter other"}, impl_text(result)
    row = next(c for c in result.checks if c.name == "parameter other")
    assert row.bug == "sign flip: dother = -true" and "other.grad" in row.details
    assert "in Scalar.__truediv__(): other.grad += self.data / other.data**2" in row.where


def test_the_other_operand_must_accumulate_its_gradient() -> None:
    result = check_impl(case("Scalar.__sub__"), args={"other": 3})
    row = next(c for c in result.checks if c.name == "gradient accumulates")
    assert row.status == "fail" and "other.grad +=" in (row.bug or ""), impl_text(result)
    assert "in Scalar.__sub__(): other.grad = -out.grad" in row.where
    assert "other's grad is -1" in row.details


def test_a_plain_number_argument_is_no_operand() -> None:
    # this __pow__ takes a plain number exponent only: nothing to check beyond x
    result = check_impl(ex("scalar_autograd.py:Value.__pow__"), args={"k": 3})
    assert result.passed and not any(c.name.startswith("parameter") for c in result.checks)


def test_an_operand_outside_its_domain_says_so() -> None:
    # d(x**k)/dk = x**k·log x: math.log raises for x < 0 (NaN, as numpy's), and
    # (-2)**3.0000001 is complex: both sides are NaN, which must not pass
    power = case("Scalar.__pow__")
    result = check_impl(power, args={"other": 3})
    row = next(c for c in result.checks if c.name == "parameter other")
    assert row.status == "fail" and "--range" in (row.bug or ""), impl_text(result)
    assert check_impl(power, args={"other": 2.5}, x_range=(0.1, 5)).passed


def test_a_nan_parameter_gradient_fails() -> None:
    result = check_impl(case("AffineNanDb"))
    row = next(c for c in result.checks if c.name == "parameter b")
    assert row.status == "fail" and "NaN or inf" in (row.bug or ""), impl_text(result)


# ---------------------------------------------------------------------------
# deeplearning.ai's network as functions: L_model_forward, compute_cost, L_model_backward
# ---------------------------------------------------------------------------

DLAI = ex("dlai_network.py")


def dlai_variant(tmp_path: Path, old: str, new: str) -> str:
    """examples/dlai_network.py with one line changed: a bug a student would write."""
    text = Path(DLAI).read_text()
    assert old in text
    path = tmp_path / "dnn.py"
    path.write_text(text.replace(old, new))
    return str(path)


@pytest.mark.parametrize("target", ["L_model_backward", "L_model_forward"])
def test_a_functional_network_is_checked_whole(target: str) -> None:
    result = check_impl(f"{DLAI}:{target}", shape=(5, 8))
    assert result.passed, impl_text(result)
    assert result.kind == "model as functions: L_model_forward, compute_cost, L_model_backward"
    assert result.params == ("W1", "b1", "W2", "b2", "W3", "b3")


def test_a_functional_network_takes_its_layer_sizes() -> None:
    result = check_impl(f"{DLAI}:L_model_backward", args={"layer_dims": [64, 7, 1]})
    assert result.passed and result.params == ("W1", "b1", "W2", "b2"), impl_text(result)
    with pytest.raises(InputError, match=r"W1 takes 5 features .* add --shape 5,32"):
        check_impl(f"{DLAI}:L_model_backward", args={"layer_dims": [5, 4, 1]})


@pytest.mark.parametrize(
    ("old", "new", "failed", "bug"),
    [
        # the sigmoid's derivative without its (1 - s)
        ("return dA * s * (1 - s)", "return dA * s", {"W1", "b1", "W2", "b2", "W3", "b3"}, ""),
        # the 1/m of the cost's mean left out of dW (db keeps it)
        ("dW = 1 / m * dZ @ A_prev.T", "dW = dZ @ A_prev.T", {"W1", "W2", "W3"}, "1/m"),
        # ReLU's backward letting the gradient through where Z <= 0
        ("dZ[Z <= 0] = 0", "dZ[Z <= 0] = dZ[Z <= 0]", {"W1", "b1", "W2", "b2"}, ""),
    ],
)
def test_a_functional_network_with_a_bug_fails(
    tmp_path: Path, old: str, new: str, failed: set[str], bug: str
) -> None:
    result = check_impl(f"{dlai_variant(tmp_path, old, new)}:L_model_backward")
    got = {c.name.removeprefix("parameter ") for c in result.checks if c.status == "fail"}
    assert got == failed, impl_text(result)
    assert all(bug in (c.bug or "") for c in result.checks if c.status == "fail")


def test_a_functional_network_without_its_cost_says_what_is_missing(tmp_path: Path) -> None:
    target = dlai_variant(tmp_path, "def compute_cost(AL, Y):", "def cost_of(AL, Y):")
    code, out = run("--impl", f"{target}:L_model_backward")
    assert code == 2 and "needs compute_cost(AL, Y) in its file" in out, out


def test_a_layer_pair_gets_the_arguments_its_backward_takes() -> None:
    # linear_activation_backward(dA, cache, activation) takes the forward's activation:
    # without it, a TypeError in backward failed correct code
    args = {"W": "randn:4,8", "b": "randn:4,1", "activation": "relu"}
    result = check_impl(f"{DLAI}:linear_activation_forward", shape=(8, 5), args=args)
    assert not any(c.name.startswith("exception") for c in result.checks), impl_text(result)
    assert result.params == ("W", "b")
    # its dW and db are the mean cost's, 1/m of the layer's own: said as such, and
    # --batch-mean checks them so
    assert "taken in backward" in impl_text(result) and "--batch-mean" in impl_text(result)
    mean = check_impl(f"{DLAI}:linear_activation_forward", shape=(8, 5), args=args, batch_mean=True)
    assert mean.passed, impl_text(mean)
    w = next(c for c in mean.checks if c.name == "parameter W")
    assert "times 5: the gradient of the mean over 5" in w.details


def test_batch_mean_takes_the_size_that_fits_and_still_fails_a_half_mean() -> None:
    # cs231n's layout, rows of x: dw and db both divided by N = 64 pass with --batch-mean
    assert check_impl(case("AffineMean"), batch_mean=True).passed
    assert not check_impl(case("AffineMean")).passed
    # db a mean and dW a sum: no one m fits both
    result = check_impl(case("AffineBadDb"), batch_mean=True)
    assert {c.name for c in result.checks if c.status == "fail"} == {"parameter W"}


def test_a_functional_network_takes_labels_and_other_arguments(tmp_path: Path) -> None:
    y = [[0, 1, 1, 0, 1, 0, 0, 1]]
    assert check_impl(f"{DLAI}:L_model_backward", shape=(5, 8), args={"Y": y}).passed
    with pytest.raises(InputError, match="Y has 3 labels for 1 output"):
        check_impl(f"{DLAI}:L_model_backward", shape=(5, 8), args={"Y": [[0, 1, 1]]})
    # an L2 penalty in the cost, which backward leaves out: lambd comes from --arg
    target = dlai_variant(
        tmp_path,
        "    return np.squeeze(cost)",
        "    l2 = sum(np.sum(parameters[k] ** 2) for k in parameters if k[0] == 'W')\n"
        "    return np.squeeze(cost) + lambd / (2 * m) * l2",
    )
    Path(target).write_text(
        Path(target)
        .read_text()
        .replace("def compute_cost(AL, Y):", "def compute_cost(AL, Y, parameters, lambd):")
    )
    with pytest.raises(InputError, match=r"compute_cost\(\) needs lambd: add --arg lambd="):
        check_impl(f"{target}:L_model_backward")
    result = check_impl(f"{target}:L_model_backward", args={"lambd": 0.7})
    failed = {c.name for c in result.checks if c.status == "fail"}
    assert failed == {"parameter W1", "parameter W2", "parameter W3"}, impl_text(result)
    w1 = next(c for c in result.checks if c.name == "parameter W1")
    assert w1.bug.startswith("regularization missing from backward: dW1 = true - 0.0219·W1")


def test_a_parameter_at_a_kink_of_the_output_passes_between_its_slopes(tmp_path: Path) -> None:
    # an example whose features are all 0 puts Z1 = b1 = 0 (initialize_parameters_deep's
    # zeros) right on ReLU's kink: the central difference is the mean of the two slopes,
    # and relu_backward's 0 there is one of them
    x = np.random.default_rng(1).normal(size=(5, 8))
    x[:, 3] = 0.0
    result = check_impl(f"{DLAI}:L_model_backward", x=x)
    assert result.passed, impl_text(result)
    row = next(c for c in result.checks if c.name == "parameter b1")
    assert "at a kink, between its one-sided derivatives" in row.details
    # ReLU's gradient let through where Z < 0 still fails with that kink in the batch
    leaky = dlai_variant(tmp_path, "dZ[Z <= 0] = 0", "dZ[Z == 0] = 0")
    assert not check_impl(f"{leaky}:L_model_backward", x=x).passed


COURSE2 = str(Path(__file__).parent / "dlai_course2.py")


@pytest.mark.parametrize(
    ("target", "args"),
    [
        ("backward_propagation", {}),
        # its forward is forward_propagation, its cost compute_cost_with_regularization
        ("backward_propagation_with_regularization", {"lambd": 0.7}),
        # dropout's masks come from np.random.seed(1) in forward: the same on every call
        ("backward_propagation_with_dropout", {"keep_prob": 0.8}),
    ],
)
def test_the_second_course_networks_pass(target: str, args: dict) -> None:
    result = check_impl(f"{COURSE2}:{target}", shape=(5, 8), args=args)
    assert result.passed, impl_text(result)
    assert result.params == ("W1", "b1", "W2", "b2", "W3", "b3")


def test_the_second_course_asks_for_keep_prob() -> None:
    code, out = run("--impl", f"{COURSE2}:backward_propagation_with_dropout")
    assert code == 2 and "needs keep_prob: add --arg keep_prob=0.5" in out, out


def test_a_functional_network_whose_forward_raises_says_where(tmp_path: Path) -> None:
    # the model's own rows report it; looking for its layers afterwards must not crash
    target = dlai_variant(tmp_path, "np.maximum(0, Z)", "np.maximumum(0, Z)")
    result = check_impl(f"{target}:L_model_backward", shape=(5, 8))
    assert [c.name for c in result.checks if c.status == "fail"] == ["exception in forward"]
    assert result.kind.startswith("model as functions")


def test_a_functional_network_names_its_setup_errors(tmp_path: Path) -> None:
    # a bug in the file's own initialize_parameters_deep is no --arg mistake
    target = dlai_variant(tmp_path, "np.zeros((layer_dims[i], 1))", "np.zeros(layer_dims[i], 1)")
    with pytest.raises(InputError, match=r"initialize_parameters_deep\(\) raised TypeError") as e:
        check_impl(f"{target}:L_model_backward")
    assert "--arg" not in str(e.value)
    with pytest.raises(InputError, match=r"takes no parameter 'layers' \(it takes layer_dims for"):
        check_impl(f"{DLAI}:L_model_backward", args={"layers": [64, 1]})


def test_a_wrong_cost_is_named_as_a_suspect(tmp_path: Path) -> None:
    target = dlai_variant(tmp_path, "np.log(1 - AL)", "np.log(1 - np.log(AL))")
    result = check_impl(f"{target}:L_model_backward", shape=(5, 8))
    bugs = [c.bug or "" for c in result.checks if c.status == "fail"]
    assert len(bugs) == 6 and all("compute_cost may be the one that is wrong" in b for b in bugs)


def test_a_constructor_that_raises_without_arguments_blames_no_arg(tmp_path: Path) -> None:
    path = tmp_path / "layer.py"
    path.write_text(
        "import numpy as np\n\n\nclass Layer:\n    def __init__(self):\n"
        "        self.W = np.zeros(3, 1)\n\n    def forward(self, x):\n        return x\n\n"
        "    def backward(self, dout):\n        return dout\n"
    )
    code, out = run("--impl", f"{path}:Layer")
    assert code == 2 and "Layer() raised TypeError" in out and "--arg" not in out, out


def test_the_planar_network_of_the_first_course(tmp_path: Path) -> None:
    planar = Path(__file__).parent / "dlai_planar.py"
    result = check_impl(f"{planar}:backward_propagation", shape=(2, 40))
    assert result.passed and result.params == ("W1", "b1", "W2", "b2"), impl_text(result)
    # tanh's derivative written 1 - A1 instead of 1 - A1²
    bad = tmp_path / "planar.py"
    bad.write_text(planar.read_text().replace("(1 - np.power(A1, 2))", "(1 - A1)"))
    result = check_impl(f"{bad}:backward_propagation", shape=(2, 40))
    assert {c.name for c in result.checks if c.status == "fail"} == {"parameter W1", "parameter b1"}


@pytest.mark.parametrize(
    ("value", "said"),
    [('"s"', "got 's'"), ("randn:64,32", "got an array of shape (64, 32)"), ("true", "got True")],
)
def test_a_scalar_operation_refuses_what_is_no_number(value: str, said: str) -> None:
    code, out = run("--impl", ex("scalar_autograd.py:Value.__mul__"), "--arg", f"other={value}")
    assert code == 2 and f"Value.__mul__() takes a number, {said}" in out, out
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("value", "said"),
    [('Y="x"', "Y must be numbers"), ("layer_dims=[64, 0, 1]", "made W1 empty")],
)
def test_a_functional_network_refuses_bad_values(value: str, said: str) -> None:
    code, out = run("--impl", f"{DLAI}:L_model_backward", "--arg", value)
    assert code == 2 and said in out and len(out.strip().splitlines()) == 1, out


@pytest.mark.parametrize(
    ("derivative", "bug"),
    [
        (lambda x: np.zeros_like(x), None),
        (lambda x: 0.5 * np.power(3.0, x) * np.log(3.0), "constant factor: backward = 1/2"),
    ],
)
def test_a_fast_growing_function_is_judged_at_each_point_by_its_own_size(derivative, bug) -> None:
    # the rounding floors follow the values near each x, not 3**40 at the far end of the
    # probe range: a wrong derivative of 3**x is wrong nearly everywhere, not at 2 points
    result = check_impl(lambda x: np.power(3.0, x), derivative)
    row = next(c for c in result.checks if c.name == "dx vs numerical derivative")
    wrong = int(row.details.split("wrong at ")[1].split(" of ")[0])
    assert row.status == "fail" and wrong > 8000, row.details
    assert bug is None or (row.bug or "").startswith(bug)
    right = check_impl(lambda x: np.power(3.0, x), lambda x: np.power(3.0, x) * np.log(3.0))
    assert right.passed, impl_text(right)


@pytest.mark.parametrize(("op", "args"), [("tanh", {}), ("__add__", {"other": 3})])
def test_an_engine_whose_backward_zeroes_the_grads_first_accumulates(op: str, args) -> None:
    # two outputs of one value are added up and backward()ed once: its grad must be the sum
    result = check_impl(case(f"ZeroingValue.{op}"), args=args)
    assert result.passed, impl_text(result)


def test_an_operation_that_crashes_with_a_value_operand_says_so() -> None:
    result = check_impl(case("NoNegScalar.__sub__"), args={"other": 3})
    row = next(c for c in result.checks if c.name == "other as a Value")
    assert row.status == "fail" and "TypeError" in row.details, impl_text(result)
    assert "checked with other a plain number only" in row.details
    assert "parameter other" not in {c.name for c in result.checks}


def test_a_scalar_class_lists_the_operations_it_has() -> None:
    with pytest.raises(InputError) as e:
        check_impl(case("Scalar"))
    text = str(e.value)
    assert "(__add__, __sub__, __truediv__, __pow__)" in text, text
    assert text.endswith(f"e.g. --impl {CASES}:Scalar.__add__ --arg other=3")
    with pytest.raises(InputError, match=r"needs other: add --arg other=3 \(it takes no k\)"):
        check_impl(case("Scalar.__add__"), args={"k": 3})


def test_a_reflected_operation_takes_its_operand_as_a_number() -> None:
    result = check_impl(case("ZeroingValue.__radd__"), args={"other": 3})
    assert result.passed and result.params == (), impl_text(result)


def test_a_high_frequency_activation_in_float32_is_no_false_alarm() -> None:
    # SIREN's sin(30x): in float32 cos(30x) is off by about ε·|x|·|f''| from rounding
    # 30x alone; that is rounding, not a bug. A derivative with the wrong factor fails.
    def f(x):
        return np.sin(30 * x)

    assert check_impl(f, lambda x: 30 * np.cos(30 * x), dtype="float32").passed
    assert not check_impl(f, lambda x: 29 * np.cos(30 * x), dtype="float32").passed
    assert not check_impl(f, lambda x: 30 * np.cos(29.9 * x), dtype="float32").passed
