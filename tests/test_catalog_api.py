"""The Python API of the catalog: lookup, validation, parsing, descriptions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import actcheck
from actcheck.activations import ActivationError, Param


def test_names_and_lookup():
    names = actcheck.names()
    assert names == list(actcheck.CATALOG) and len(set(names)) == len(names)
    assert names[:3] == ["relu", "leaky_relu", "prelu"]
    for name in names:
        act = actcheck.get(name)
        assert act.name == name
        assert callable(act)


@pytest.mark.parametrize("alias", ["LeakyReLU", "leaky-relu", " LEAKY_RELU "])
def test_aliases(alias):
    assert actcheck.get(alias).name == "leaky_relu"


def test_swish_is_silu():
    assert actcheck.get("swish").name == "silu"


def test_defaults_are_pytorchs():
    assert actcheck.get("leaky_relu").params == {"negative_slope": 0.01}
    assert actcheck.get("rrelu").params == {"lower": 1 / 8, "upper": 1 / 3}
    assert actcheck.get("softplus").params == {"beta": 1.0, "threshold": 20.0}
    assert actcheck.get("hardtanh").params == {"min_val": -1.0, "max_val": 1.0}
    assert actcheck.get("gelu").params == {"approximate": "none"}
    assert actcheck.get("prelu").learnable_params == ("weight",)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: actcheck.get("relux"), "unknown activation 'relux'. Did you mean relu"),
        (lambda: actcheck.get("leaky_relu", slope=0.1), "Did you mean negative_slope"),
        (lambda: actcheck.get("relu", alpha=1), "it has no parameters"),
        (lambda: actcheck.get("rrelu", lower=0.5, upper=0.1), "lower must be <= upper"),
        (lambda: actcheck.get("softplus", beta=0), "beta must be > 0, got 0"),
        (lambda: actcheck.get("softplus", beta=-1), "beta must be > 0"),
        (
            lambda: actcheck.get("hardtanh", min_val=1, max_val=1),
            "min_val must be less than max_val",
        ),
        (lambda: actcheck.get("celu", alpha=0), "alpha must be > 0"),
        (lambda: actcheck.get("elu", alpha=math.nan), "alpha must be any finite number, got nan"),
        (lambda: actcheck.get("elu", alpha=math.inf), "must be any finite number"),
        (lambda: actcheck.get("elu", alpha="2"), "alpha must be a number"),
        (lambda: actcheck.get("gelu", approximate="erf"), "one of 'none', 'tanh'"),
        (lambda: actcheck.parse_spec("elu:"), "expected parameters after ':'"),
        (lambda: actcheck.parse_spec("elu:alpha"), "expected key=value"),
        (lambda: actcheck.parse_spec("elu:alpha=1,alpha=2"), "given twice"),
        (lambda: actcheck.parse_spec("elu:alpha=two"), "alpha must be a number, got 'two'"),
        (lambda: actcheck.parse_spec("elu:alpha=__import__('os')"), "must be a number"),
        (lambda: actcheck.parse_spec("elu:alpha=1/0"), "must be a number"),
        (lambda: actcheck.parse_spec("leaky_relu:alpha=2"), "its parameters are negative_slope"),
    ],
)
def test_bad_input_names_the_problem(call, message):
    with pytest.raises(ActivationError, match=None) as info:
        call()
    assert message in str(info.value)


def test_unknown_name_lists_the_catalog():
    with pytest.raises(ActivationError) as info:
        actcheck.get("nope")
    for name in actcheck.names():
        assert name in str(info.value)


def test_parse_spec_reads_numbers_and_choices():
    act = actcheck.parse_spec("hardtanh:min_val=-2,max_val=0.5")
    assert act.params == {"min_val": -2.0, "max_val": 0.5}
    assert actcheck.parse_spec("rrelu:lower=1/8,upper=1/3") == actcheck.get("rrelu")
    assert actcheck.parse_spec("gelu:approximate=tanh").params["approximate"] == "tanh"
    assert actcheck.parse_spec("elu: alpha = 1e-1 ").params["alpha"] == 0.1


@pytest.mark.parametrize(
    "spec", ["relu", "elu:alpha=2", "hardtanh:min_val=-2,max_val=0.5", "rrelu:lower=0.1,upper=0.2"]
)
def test_spec_round_trips(spec):
    act = actcheck.parse_spec(spec)
    assert actcheck.parse_spec(act.spec) == act
    assert eval(repr(act), {"actcheck": actcheck}) == act


def test_labels():
    assert actcheck.get("leaky_relu").label == "LeakyReLU(negative_slope=0.01)"
    assert actcheck.get("relu").label == "ReLU()"
    assert actcheck.get("elu", alpha=2).spec == "elu:alpha=2"
    assert actcheck.get("elu", alpha=2).with_params(alpha=1) == actcheck.get("elu")


def test_dtypes_and_scalars():
    act = actcheck.get("elu")
    assert act(np.float32(-1)).dtype == np.float32
    assert np.asarray(act(-1)).dtype == np.float64
    assert np.ndim(act(-1.0)) == 0
    assert act(np.arange(-3, 3)).dtype == np.float64
    assert act.derivative(np.zeros((2, 3, 4), np.float32)).shape == (2, 3, 4)
    with pytest.raises(TypeError, match="real numbers"):
        act(np.array([1 + 1j]))


def test_describe_is_json_ready_and_complete():
    for name in actcheck.names():
        info = actcheck.get(name).to_dict()
        text = json.dumps(info, allow_nan=False)
        assert name in text
        assert info["formula"] and info["derivative_formula"]
        for k in info["kinks"]:
            assert {"x", "left", "right", "value", "convention", "order"} <= set(k)


def test_kink_conventions_in_words():
    (k,) = actcheck.get("relu").kinks
    assert k.summary("relu") == "relu'(0) = 0, the left derivative"
    assert actcheck.get("relu6").kinks[1].convention == "the right derivative"
    assert actcheck.get("hardswish").kinks[1].summary("hardswish") == (
        "hardswish'(3) = 1, the right derivative"
    )
    assert actcheck.get("softsign").kinks[0].convention == "the midpoint"


def test_param_ranges_in_words():
    assert Param("a", 1.0, "").describe_range() == "any finite number"
    assert Param("a", 1.0, "", low=0.0).describe_range() == "> 0"
    assert (
        Param("a", 1.0, "", low=0.0, high=1.0, high_closed=True).describe_range() == "> 0 and <= 1"
    )


def test_every_formula_is_valid_mathtext():
    from matplotlib.mathtext import MathTextParser

    parser = MathTextParser("path")
    specs = [*actcheck.names(), "gelu:approximate=tanh"]
    for spec in specs:
        act = actcheck.parse_spec(spec)
        for tex in (act.formula, act.derivative_formula):
            parser.parse(f"${tex}$")


def test_plain_rendering_of_formulas():
    from actcheck.formula import plain

    assert plain(actcheck.get("elu").formula) == "x if x>0 else α(e^x-1)"
    assert plain(r"\frac{1}{\beta}\ln(1+e^{\beta x})") == "1/β ln(1+e^(β x))"
    assert plain(actcheck.get("softsign").derivative_formula) == "1/((1+|x|)^2)"
    for name in actcheck.names():
        text = plain(actcheck.get(name).formula)
        assert "\\" not in text and "{" not in text


def test_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, actcheck; print('numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docs_describe_every_activation():
    """docs/activations.md: the count, and one table row per entry (gelu has one per form)."""
    import re
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "activations.md").read_text()
    assert f"holds {len(actcheck.names())} activation functions" in doc
    table = doc.split("## The functions", 1)[1].split("\n\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+)[ (]", table, flags=re.M)
    assert sorted(set(rows) - {"name"}) == sorted(actcheck.names())


def test_readme_lists_every_activation():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    listed = readme.split("## The catalog", 1)[1].split("\n\n", 2)[1]
    assert [n.strip(" .\n") for n in listed.split(",")] == actcheck.names()
