"""gradcheck --impl with PyTorch code (skipped without torch)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from actcheck.cli import cli
from actcheck.implcheck import check_impl
from actcheck.report import impl_text

torch = pytest.importorskip("torch")

EX = Path(__file__).resolve().parent.parent / "examples" / "torch_layers.py"


@pytest.mark.parametrize("name", ["PReLU", "SiLUFunction", "softmax"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_layers_pass(name: str, dtype: str) -> None:
    result = check_impl(f"{EX}:{name}", dtype=dtype)
    assert result.passed, impl_text(result)


def test_torch_kinds_and_parameters() -> None:
    r = check_impl(f"{EX}:PReLU")
    assert r.kind == "torch.nn.Module" and r.params == ("a",)
    assert check_impl(f"{EX}:SiLUFunction").kind == "torch.autograd.Function"
    assert check_impl(f"{EX}:softmax").kind == "torch function"


def test_wrong_custom_backward_is_caught() -> None:
    code = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{EX}:SiLUWrong"]).exit_code
    assert code == 1


def test_torch_module_instance_and_bad_parameter_gradient() -> None:
    class Scale(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.linspace(0.5, 1.5, 32, dtype=torch.float64))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * self.w

    assert check_impl(Scale()).passed

    class BadGrad(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w):
            ctx.save_for_backward(x, w)
            return x * w

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, -(g * x).sum(0)  # bug: sign of dw

    class Bad(Scale):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return BadGrad.apply(x, self.w)

    r = check_impl(Bad())
    assert not r.passed
    (c,) = r.failures
    assert c.name == "parameter w" and "sign flip" in (c.bug or "")


def test_torch_exception_reports_user_line() -> None:
    def f(x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] > 2:
            raise ValueError("only tiny batches")
        return x * 2

    r = check_impl(f)
    (c,) = r.failures
    assert "ValueError: only tiny batches" in c.details and "test_userimpl_torch.py" in c.where


CASES = Path(__file__).resolve().parent / "torch_cases.py"


def test_a_backward_that_changes_what_forward_saved_fails() -> None:
    result = check_impl(f"{CASES}:MishSavedGrad")
    row = next(c for c in result.checks if c.name == "backward twice")
    assert row.status == "fail" and "changes what forward saved" in (row.bug or "")
    assert check_impl(f"{CASES}:MishClean").passed


def test_a_function_takes_its_other_forward_arguments_from_arg() -> None:
    code = CliRunner().invoke(cli, ["gradcheck", "--impl", f"{CASES}:SnakeFunction"])
    assert code.exit_code == 2 and "needs a: add --arg a=" in code.output
    assert check_impl(f"{CASES}:SnakeFunction", args={"a": "ones:32"}).passed


def test_an_inplace_activation_is_checked_on_a_copy() -> None:
    # its forward writes into x: an in-place row, never an autograd leaf error
    result = check_impl(f"{CASES}:InplaceReLU")
    assert [c.name for c in result.checks if c.status == "fail"] == ["in-place: x in forward"]
    assert check_impl(f"{CASES}:InplaceReLU", allow_inplace=True).passed


def test_a_decorated_backward_is_located_at_its_def() -> None:
    result = check_impl(f"{CASES}:MishSavedGrad")
    row = next(c for c in result.checks if c.name == "backward twice")
    line = Path(CASES).read_text().splitlines().index("    def backward(ctx, grad_output):") + 1
    assert f"torch_cases.py:{line} in MishSavedGrad.backward()" in row.where, row.where


def test_a_module_forward_argument_array_is_a_tensor() -> None:
    assert check_impl(f"{CASES}:Snake", args={"a": "ones:32"}).passed


def test_a_random_torch_initialisation_is_the_same_every_run() -> None:
    # in a fresh process torch is first imported by the user's file, after the check
    # seeded the generators: the layer's random parameters must still repeat
    cmd = [sys.executable, "-m", "actcheck", "gradcheck", "--impl"]
    cmd += [f"{CASES}:RandomSlope", "--json"]
    runs = [json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)["checks"]]
    runs.append(json.loads(subprocess.run(cmd, capture_output=True, text=True).stdout)["checks"])
    assert runs[0] == runs[1]
