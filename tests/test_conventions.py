"""Issue 10: user code as courses and books write it, checked with options only.

Each convention (examples/conventions/): correct code passes in float64 and float32
with no false alarm; a buggy version is caught and the wrong input or parameter named.
Then ``--arg`` parsing (exit 2, one line) and the Python API (objects, args, x).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from actcheck.cli import cli
from actcheck.errors import InputError
from actcheck.implcheck import assert_impl, check_impl
from actcheck.report import impl_text
from actcheck.userargs import ArgValue, parse_arg, parse_value
from actcheck.userimpl import load

CONV = Path(__file__).resolve().parent.parent / "examples" / "conventions"


def c(spec: str) -> str:
    return f"{CONV}/{spec}"


# (convention, target, args, shape, inputs and parameters checked)
CORRECT = [
    (1, "c1_constructors.py:Affine", {"W": "randn:20,10", "b": "zeros:10"}, (8, 20), "x W b"),
    (1, "c1_constructors.py:Affine", {"W": "randn:12,5", "b": "randn:5"}, (4, 3, 2, 2), "x W b"),
    (
        1,
        "c1_constructors.py:Convolution",
        {"W": "randn:4,3,3,3", "b": "randn:4", "stride": 1, "pad": 1},
        (2, 3, 6, 6),
        "x W b",
    ),
    (1, "c1_constructors.py:Pooling", {"pool_h": 2, "pool_w": 2, "stride": 2}, (2, 3, 6, 6), "x"),
    (
        2,
        "c2_cs231n/layers.py:affine_forward",
        {"w": "randn:6,5", "b": "randn:5"},
        (4, 2, 3),
        "x w b",
    ),
    (
        2,
        "c2_cs231n/layers.py:batchnorm_forward",
        {"gamma": "randn:10", "beta": "randn:10", "bn_param": {"mode": "train"}},
        (8, 10),
        "x gamma beta",
    ),
    (
        2,
        "c2_cs231n/layers.py:conv_forward_naive",
        {"w": "randn:4,3,3,3", "b": "randn:4", "conv_param": {"stride": 2, "pad": 1}},
        (2, 3, 7, 7),
        "x w b",
    ),
    (3, "c3_flags.py:InvertedDropout", {"p": 0.2, "training": True}, (8, 10), "x"),
    (4, "c4_losses.py:SoftmaxWithLoss", {"t": "onehot:10"}, (16, 10), "x"),
    (4, "c4_losses.py:SoftmaxWithLoss", {"t": "labels:10"}, (16, 10), "x"),
    (4, "c2_cs231n/layers.py:softmax_loss", {"y": "labels:10"}, (16, 10), "x"),
    (4, "c4_losses.py:SquareLoss", {"y": "randn:16,3"}, (16, 3), "x"),
    (5, "c5_method_names.py:Sigmoid", {}, (64, 32), "x"),
    (5, "c5_method_names.py:MLFSSigmoid", {}, (64, 32), "x"),
    (5, "c5_method_names.py:Dense", {"n_units": 5, "input_shape": [8]}, (16, 8), "x"),
    (6, "c6_stored_outputs.py:Layer_Dense", {"n_inputs": 8, "n_neurons": 5}, (16, 8), "x"),
    (6, "c6_stored_outputs.py:Activation_Softmax", {}, (16, 5), "x"),
    (7, "c7_randomness.py:Dropout", {"p": 0.3}, (16, 8), "x"),
    (7, "c7_randomness.py:RReLU", {}, (16, 8), "x"),
    (
        8,
        "c8_models.py:TwoLayerNet",
        {"input_size": 20, "hidden_size": 10, "output_size": 5, "t": "onehot:5"},
        (8, 20),
        "W1 b1 W2 b2 Affine1 Relu1 Affine2 lastLayer",
    ),
    (
        8,
        "c8_models.py:TwoLayerNetCS",
        {"input_dim": 20, "hidden_dim": 10, "num_classes": 5, "reg": 0.1, "y": "labels:5"},
        (8, 20),
        "W1 b1 W2 b2",
    ),
    (9, "pkg/common/layers.py:Relu", {}, (64, 32), "x"),
    (9, "pkg/common/layers.py:Affine", {"W": "randn:20,10", "b": "zeros:10"}, (8, 20), "x W b"),
]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(
    ("conv", "target", "args", "shape", "checked"),
    CORRECT,
    ids=lambda v: v.rsplit("/", 1)[-1] if isinstance(v, str) and ".py" in v else None,
)
def test_correct_code_passes(conv, target, args, shape, checked, dtype) -> None:
    if conv == 8 and dtype == "float32" and "CS" in target:
        args = {**args, "weight_scale": 0.1}
    result = check_impl(c(target), args=args, shape=shape, dtype=dtype)
    assert result.passed, impl_text(result)
    assert set(checked.split()) <= set(result.checked), result.checked


# (target, args, shape, the failing row's name contains, words in its text)
BUGGY = [
    ("c1_constructors.py:AffineMeanBias", {"W": "randn:20,10", "b": "zeros:10"}, (8, 20), "b", []),
    (
        "c1_constructors.py:ConvolutionNoTranspose",
        {"W": "randn:4,3,3,3", "b": "randn:4", "stride": 1, "pad": 1},
        (2, 3, 6, 6),
        "W",
        [],
    ),
    (
        "c2_cs231n/bug_affine_dw.py:affine_forward",
        {"w": "randn:6,5", "b": "randn:5"},
        (4, 2, 3),
        "w",
        [],
    ),
    (
        "c2_cs231n/bug_batchnorm_swapped.py:batchnorm_forward",
        {"gamma": "randn:10", "beta": "randn:10", "bn_param": {"mode": "train"}},
        (8, 10),
        "gamma",
        [],
    ),
    ("c2_cs231n/bug_losses.py:softmax_loss", {"y": "labels:10"}, (16, 10), "Jacobian", ["16"]),
    ("c3_flags.py:InvertedDropoutNoScale", {"p": 0.2, "training": True}, (8, 10), "dx", []),
    ("c4_losses.py:SoftmaxWithLossNoMean", {"t": "onehot:10"}, (16, 10), "Jacobian", ["16"]),
    ("c4_losses.py:SoftmaxWithLossWrongSign", {"t": "onehot:10"}, (16, 10), "Jacobian", []),
    ("c4_losses.py:SoftmaxWithLossWrongFactor", {"t": "onehot:10"}, (16, 10), "Jacobian", []),
    ("c5_method_names.py:TanhWrongGrad", {}, (64, 32), "dx", []),
    (
        "c6_stored_outputs.py:Layer_DenseMeanWeights",
        {"n_inputs": 8, "n_neurons": 5},
        (16, 8),
        "weights",
        [],
    ),
    ("c7_randomness.py:DropoutNewMaskInBackward", {"p": 0.3}, (16, 8), "dx", []),
    (
        "c8_models.py:TwoLayerNetBuggyAffine2",
        {"input_size": 20, "hidden_size": 10, "output_size": 5, "t": "onehot:5"},
        (8, 20),
        "layer Affine2",
        [],
    ),
    ("pkg/common/buggy_layers.py:Sigmoid", {}, (64, 32), "dx", []),
]


@pytest.mark.parametrize(("target", "args", "shape", "row", "words"), BUGGY, ids=lambda v: None)
def test_buggy_code_is_caught_and_named(target, args, shape, row, words) -> None:
    result = check_impl(c(target), args=args, shape=shape)
    assert not result.passed
    failed = [f for f in result.failures if row in f.name]
    assert failed, [f.name for f in result.failures]
    text = impl_text(result)
    assert all(w in text for w in words), text


def test_model_names_the_wrong_layer_and_passes_the_others() -> None:
    result = check_impl(
        c("c8_models.py:TwoLayerNetBuggyAffine2"),
        args={"input_size": 20, "hidden_size": 10, "output_size": 5, "t": "onehot:5"},
        shape=(8, 20),
    )
    rows = {r.name: r.status for r in result.checks if r.name.startswith("layer ")}
    assert rows["layer Affine1"] == rows["layer Relu1"] == rows["layer lastLayer"] == "pass"
    assert any(n.startswith("layer Affine2: parameter W") for n in rows)
    wrong = next(r for r in result.checks if r.name.startswith("layer Affine2"))
    assert "the other layers pass (Affine1, Relu1, lastLayer)" in wrong.details


def test_loss_with_epsilon_in_the_log_passes_with_a_note() -> None:
    result = check_impl(c("c4_losses.py:SoftmaxWithLoss"), args={"t": "onehot:10"}, shape=(16, 10))
    assert result.passed
    assert any("1e-7" in w.details for w in result.warnings)


def test_order_2_checks_grad2_against_grad() -> None:
    assert check_impl(c("c5_method_names.py:Sigmoid"), order=2).passed
    bad = check_impl(c("c5_method_names.py:SigmoidWrongGrad2"), order=2)
    assert not bad.passed and "grad2" in bad.kind


def test_objects_and_x_in_python() -> None:
    from actcheck.userimpl import load

    mod = load(c("c1_constructors.py:Affine")).obj
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(20, 10)), np.zeros(10)
    result = assert_impl(mod(w, b), x=rng.normal(size=(8, 20)))
    assert result.shape == (8, 20) and {"W", "b"} <= set(result.params)
    # a class with its constructor's arguments, a function with a call parameter
    assert check_impl(mod, args={"W": w, "b": b}, shape=(8, 20)).passed
    fn = load(c("c2_cs231n/layers.py:softmax_loss")).obj
    assert check_impl(fn, args={"y": "labels:10"}, shape=(16, 10)).passed


def test_result_is_picklable() -> None:
    result = check_impl(c("c4_losses.py:SoftmaxWithLoss"), args={"t": "labels:10"}, shape=(16, 10))
    assert pickle.loads(pickle.dumps(result)) == result


def test_import_root_found_for_a_file_inside_a_package(tmp_path: Path) -> None:
    loaded = load(c("pkg/ch05/two_layer_net.py:TwoLayerNet"))
    assert loaded.obj.__name__ == "TwoLayerNet"


# ---------------------------------------------------------------------------
# --arg: parsing, never evaluating; bad values are one line, exit 2
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("W=randn:20,10", "randn", None),
        ("b=zeros:10", "zeros", None),
        ("t=labels:10", "labels", None),
        ("t=onehot:5", "onehot", None),
        ("p=0.5", "value", 0.5),
        ("n=3", "value", 3),
        ("train_flg=true", "value", True),
        ("train_flg=False", "value", False),
        ("mask=none", "value", None),
        ('cfg={"mode": "train", "p": 0.5}', "value", {"mode": "train", "p": 0.5}),
        ("shape=[8]", "value", [8]),
        ('name="softmax"', "value", "softmax"),
    ],
)
def test_arg_values(text: str, kind: str, value: object) -> None:
    name, v = parse_arg(text)
    assert name == text.split("=")[0] and v.kind == kind
    if kind == "value":
        assert v.value == value


def test_arg_arrays_labels_and_onehot_follow_dtype_and_batch() -> None:
    rng = np.random.default_rng(0)
    w = parse_value("W", "randn:3,4").make(np.dtype("float32"), 8, rng)
    assert w.shape == (3, 4) and w.dtype == np.float32
    y = parse_value("y", "labels:5").make(np.dtype("float64"), 8, rng)
    assert y.shape == (8,) and y.dtype.kind == "i" and y.max() < 5
    t = parse_value("t", "onehot:5").make(np.dtype("float64"), 8, rng)
    assert t.shape == (8, 5) and (t.sum(1) == 1).all()
    assert ArgValue("value", value={"a": [1]}).make(np.dtype("float64"), 1, rng) == {"a": [1]}


@pytest.mark.parametrize(
    ("arg", "words"),
    [
        ("W", "expected NAME=VALUE"),
        ("1x=3", "expected NAME=VALUE"),
        ("W=randn:", "give sizes"),
        ("W=randn:a,b", "give sizes"),
        ("W=zeros:0,3", "give sizes"),
        ("t=labels:3,4", "number of classes"),
        ("name=softmax", "quoted JSON"),
        ("f=__import__('os')", "not a value"),
        ("x=nan", "not a value"),
    ],
)
def test_bad_arg_is_one_line_exit_2(arg: str, words: str) -> None:
    result = CliRunner().invoke(
        cli, ["gradcheck", "--impl", c("c1_constructors.py:Affine"), "--arg", arg]
    )
    assert result.exit_code == 2, result.output
    assert words in result.output
    assert len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("target", "args", "words"),
    [
        (
            "c1_constructors.py:Affine",
            [],
            "Affine needs W, b: add --arg W=randn:20,16 --arg b=zeros:16",
        ),
        (
            "c3_flags.py:InvertedDropout",
            ["--arg", "p=0.2"],
            "needs training: add --arg training=true",
        ),
        ("c3_flags.py:Dropout", ["--arg", "nope=1"], "takes no parameter 'nope'"),
        ("c4_losses.py:SoftmaxWithLoss", [], "needs t: add --arg t=labels:10"),
        ("c1_constructors.py:Affine", ["--arg", "W=randn:3,3", "--arg", "b=zeros:3"], "W, b"),
        ("c1_constructors.py:Affine", ["--arg", "W=randn:20,10", "--arg", "W=zeros:3"], "twice"),
        ("c5_method_names.py:MLFSSigmoid", ["--order", "2"], "grad2 against grad"),
    ],
)
def test_missing_or_unused_args_are_named(target: str, args: list[str], words: str) -> None:
    result = CliRunner().invoke(cli, ["gradcheck", "--impl", c(target), "--shape", "8,20", *args])
    if "W=randn:3,3" in args:  # wrong sizes: forward raises inside the user's code
        assert result.exit_code in (1, 2)
        return
    assert result.exit_code == 2, result.output
    assert words in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1


def test_cli_arg_loss_and_model() -> None:
    ok = CliRunner().invoke(
        cli,
        [
            "gradcheck",
            "--impl",
            c("c4_losses.py:SoftmaxWithLoss"),
            "--arg",
            "t=labels:10",
            "--shape",
            "16,10",
        ],
    )
    assert ok.exit_code == 0, ok.output
    bad = CliRunner().invoke(
        cli,
        [
            "gradcheck",
            "--impl",
            c("c8_models.py:TwoLayerNetBuggyAffine2"),
            "--arg",
            "input_size=20",
            "--arg",
            "hidden_size=10",
            "--arg",
            "output_size=5",
            "--arg",
            "t=onehot:5",
            "--shape",
            "8,20",
        ],
    )
    assert bad.exit_code == 1 and "Affine2" in bad.output


def test_bad_arg_value_in_python_is_input_error() -> None:
    with pytest.raises(InputError, match="give sizes"):
        check_impl(c("c1_constructors.py:Affine"), args={"W": "randn:x", "b": "zeros:3"})


def test_same_seed_same_result_and_the_global_rng_is_restored() -> None:
    """A model drawing its weights from np.random is built the same way on every run."""
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    args = {"input_dim": 20, "hidden_dim": 10, "num_classes": 5, "y": "labels:5"}
    a = check_impl(c("c8_models.py:TwoLayerNetCS"), args=args, shape=(8, 20))
    b = check_impl(c("c8_models.py:TwoLayerNetCS"), args=args, shape=(8, 20))
    assert a.to_dict() == b.to_dict()
    assert (np.random.get_state()[1] == before).all()
