"""actcheck inside your own test suite: run with `pytest examples/test_my_layers.py`."""

from pathlib import Path

import pytest

import actcheck
from actcheck.errors import GradcheckError

HERE = Path(__file__).parent


@pytest.mark.parametrize("layer", ["Sigmoid", "SigmoidUsesInput"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sigmoid_backward(layer: str, dtype: str) -> None:
    spec = f"{HERE}/sigmoid.py:{layer}"
    if layer == "SigmoidUsesInput":  # the buggy one: show what the failure says
        with pytest.raises(GradcheckError, match="uses the input where the output"):
            actcheck.assert_impl(spec, dtype=dtype)
    else:
        actcheck.assert_impl(spec, dtype=dtype, shape=(32, 10))


def test_prelu_parameter_gradient() -> None:
    result = actcheck.check_impl(f"{HERE}/prelu.py:PReLU")
    assert result.passed and result.params == ("a",)
