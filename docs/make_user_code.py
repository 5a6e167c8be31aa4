"""Regenerate docs/user-code.md: run every example through actcheck and paste what it prints.

    python docs/make_user_code.py

The template is docs/user-code.template.md: ``{code:FILE}`` becomes examples/FILE,
``{out:NAME}`` the output of the command named NAME in RUNS (terminal width 100).
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EX = "examples/"
CV = EX + "conventions/"
RUNS = {
    "leaky_ok": ["--impl", EX + "leaky_relu.py:LeakyReLU"],
    "leaky_bad": ["--impl", EX + "leaky_relu.py:SteepLeakyReLU"],
    "relu_ok": ["--impl", EX + "relu.py:Relu"],
    "relu_bad": ["--impl", EX + "relu.py:ReluInplace"],
    "relu_allowed": ["--impl", EX + "relu.py:ReluInplace", "--allow-inplace"],
    "sig_ok": ["--impl", EX + "sigmoid.py:Sigmoid", "--dtype", "float32"],
    "sig_input": ["--impl", EX + "sigmoid.py:SigmoidUsesInput"],
    "sig_twice": ["--impl", EX + "sigmoid.py:SigmoidTwice"],
    "abs_ok": ["--impl", EX + "leaky_abs.py:leaky", "--derivative", EX + "leaky_abs.py:dleaky"],
    "abs_nan": [
        "--impl", EX + "leaky_abs.py:leaky", "--derivative", EX + "leaky_abs.py:dleaky_nan"
    ],
    "abs_flip": [
        "--impl", EX + "leaky_abs.py:leaky", "--derivative", EX + "leaky_abs.py:dleaky_flipped"
    ],
    "soft_ok": ["--impl", EX + "softmax.py:Softmax", "--shape", "64,10"],
    "soft_diag": ["--impl", EX + "softmax.py:SoftmaxDiagonal", "--shape", "64,10"],
    "soft_axis": ["--impl", EX + "softmax.py:SoftmaxWrongAxis", "--shape", "64,10"],
    "prelu_ok": ["--impl", EX + "prelu.py:PReLU"],
    "prelu_bad": ["--impl", EX + "prelu.py:PReLUWrongSlope"],
    "torch_prelu": ["--impl", EX + "torch_layers.py:PReLU", "--dtype", "float32"],
    "torch_silu": ["--impl", EX + "torch_layers.py:SiLUWrong"],
    # issue 10: code as courses and books write it (examples/conventions/)
    "c1_ok": ["--impl", CV + "c1_constructors.py:Affine", "--arg", "W=randn:20,10", "--arg",
              "b=zeros:10", "--shape", "8,20"],
    "c1_missing": ["--impl", CV + "c1_constructors.py:Affine", "--shape", "8,20"],
    "c2_bad": ["--impl", CV + "c2_cs231n/bug_affine_dw.py:affine_forward", "--arg",
               "w=randn:6,5", "--arg", "b=randn:5", "--shape", "4,2,3"],
    "c3_ok": ["--impl", CV + "c3_flags.py:InvertedDropout", "--arg", "p=0.2", "--arg",
              "training=true", "--shape", "8,10"],
    "c3_dict": ["--impl", CV + "c2_cs231n/layers.py:dropout_forward", "--arg",
                'dropout_param={"mode": "train", "p": 0.5, "seed": 0}', "--shape", "8,10"],
    "c4_ok": ["--impl", CV + "c4_losses.py:SoftmaxWithLoss", "--arg", "t=onehot:10",
              "--shape", "16,10"],
    "c4_bad": ["--impl", CV + "c4_losses.py:SoftmaxWithLossNoMean", "--arg", "t=onehot:10",
               "--shape", "16,10"],
    "c5_ok": ["--impl", CV + "c5_method_names.py:Sigmoid", "--order", "2"],
    "c6_ok": ["--impl", CV + "c6_stored_outputs.py:Layer_Dense", "--arg", "n_inputs=8",
              "--arg", "n_neurons=5", "--shape", "16,8"],
    "c7_ok": ["--impl", CV + "c7_randomness.py:Dropout", "--arg", "p=0.3", "--shape", "16,8"],
    "c8_bad": ["--impl", CV + "c8_models.py:TwoLayerNetBuggyAffine2", "--arg", "input_size=20",
               "--arg", "hidden_size=10", "--arg", "output_size=5", "--arg", "t=onehot:5",
               "--shape", "8,20"],
    "c9_ok": ["--impl", CV + "pkg/common/layers.py:Affine", "--arg", "W=randn:20,10", "--arg",
              "b=zeros:10", "--shape", "8,20"],
    "sgd_ok": ["--impl", EX + "tutorial_styles.py:Dense", "--shape", "4,1"],
    "sgd_bad": ["--impl", EX + "tutorial_styles.py:DenseLateGradient", "--shape", "4,1"],
    "switch_ok": ["--impl", EX + "tutorial_styles.py:tanh"],
    "switch_output": ["--impl", EX + "tutorial_styles.py:nonlin"],
    "switch_on_output": ["--impl", EX + "tutorial_styles.py:nonlin", "--derivative-of-output"],
    "mg_ok": ["--impl", EX + "scalar_autograd.py:Value.tanh"],
    "mg_bad": ["--impl", EX + "scalar_autograd.py:Value.exp"],
    "dlai_ok": ["--impl", EX + "dlai_network.py:L_model_backward", "--shape", "5,8"],
    "dlai_layer": [
        "--impl", EX + "dlai_network.py:linear_activation_forward", "--shape", "8,5",
        "--arg", "W=randn:4,8", "--arg", "b=randn:4,1", "--arg", 'activation="relu"',
        "--batch-mean",
    ],
    "mg_div": ["--impl", EX + "scalar_autograd.py:Value.__truediv__", "--arg", "other=3"],
    "bad1": ["--impl", EX + "relu.py:ReLU"],
    "bad2": ["--impl", EX + "leaky_abs.py:leaky"],
}  # fmt: skip

ASSERT = """
import actcheck
from actcheck.errors import GradcheckError
try:
    actcheck.assert_impl("examples/sigmoid.py:SigmoidUsesInput")
except GradcheckError as err:
    print(err)
"""


def run(args: list[str]) -> str:
    env = dict(os.environ, COLUMNS="100")
    cmd = [sys.executable, "-m", "actcheck", "gradcheck", *args]
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    typed = " ".join(shlex.quote(a) for a in args)
    text = f"$ actcheck gradcheck {typed}\n{p.stdout}{p.stderr}$ echo $?\n{p.returncode}"
    return "\n".join(line.rstrip() for line in text.splitlines())


def definition(file: str, name: str) -> str:
    """The source of one class or function of examples/FILE (with its decorators)."""
    source = (ROOT / EX / file).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == name:
            return ast.get_source_segment(source, node) or ""
    raise SystemExit(f"{file} has no {name}")


def main() -> None:
    outs = {name: run(args) for name, args in RUNS.items()}
    p = subprocess.run(
        [sys.executable, "-c", ASSERT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    outs["assert_msg"] = p.stdout.rstrip()
    text = (ROOT / "docs" / "user-code.template.md").read_text()
    text = re.sub(r"\{code:\s*([\w.]+)\}", lambda m: (ROOT / EX / m[1]).read_text().rstrip(), text)
    text = re.sub(r"\{def:\s*([\w./]+):(\w+)\}", lambda m: definition(m[1], m[2]), text)
    text = re.sub(r"\{out:\s*(\w+)\}", lambda m: outs[m[1]], text)
    (ROOT / "docs" / "user-code.md").write_text(text)


if __name__ == "__main__":
    main()
