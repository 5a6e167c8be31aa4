"""Regenerate docs/user-code.md: run every example through actcheck and paste what it prints.

    python docs/make_user_code.py

The template is docs/user-code.template.md: ``{code:FILE}`` becomes examples/FILE,
``{out:NAME}`` the output of the command named NAME in RUNS (terminal width 100).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EX = "examples/"
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
    text = f"$ actcheck gradcheck {' '.join(args)}\n{p.stdout}{p.stderr}$ echo $?\n{p.returncode}"
    return "\n".join(line.rstrip() for line in text.splitlines())


def main() -> None:
    outs = {name: run(args) for name, args in RUNS.items()}
    p = subprocess.run(
        [sys.executable, "-c", ASSERT], cwd=ROOT, capture_output=True, text=True, check=True
    )
    outs["assert_msg"] = p.stdout.rstrip()
    text = (ROOT / "docs" / "user-code.template.md").read_text()
    text = re.sub(r"\{code:\s*([\w.]+)\}", lambda m: (ROOT / EX / m[1]).read_text().rstrip(), text)
    text = re.sub(r"\{out:\s*(\w+)\}", lambda m: outs[m[1]], text)
    (ROOT / "docs" / "user-code.md").write_text(text)


if __name__ == "__main__":
    main()
