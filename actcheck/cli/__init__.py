"""The ``actcheck`` command line: parse, call the API, render, choose the exit code.

One module per command (``listing``, ``plot``, ``gradcheck`` with ``impl`` for
``--impl``, ``train_xor``); ``core`` holds the exit-code rules, ``options`` the
shared options, ``output`` the console, JSON and files. Heavy modules (numpy,
scipy, rich, matplotlib) are imported inside the commands so that
``actcheck --help`` and shell completion start instantly. Nothing imports this
package: it is the outermost layer.
"""

from __future__ import annotations

import click

from actcheck import __version__
from actcheck.cli.core import Group
from actcheck.cli.gradcheck import gradcheck_command
from actcheck.cli.listing import list_command
from actcheck.cli.plot import plot_command
from actcheck.cli.train_xor import train_xor_command


@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "-V", "--version", prog_name="actcheck")
def cli() -> None:
    """Check, plot and train with activation functions (the ReLU family and friends).

    Activations are named with one syntax everywhere: NAME, or NAME:KEY=VALUE,...
    with PyTorch's parameter names, e.g. leaky_relu:negative_slope=0.2 or
    hardtanh:min_val=-2,max_val=0.5. Run 'actcheck list' to see them all.

    \b
    Examples:
      actcheck gradcheck                                  # every derivative in the catalog
      actcheck gradcheck --impl mylayers.py:Relu          # your own layer code
      actcheck plot leaky_relu --sweep negative_slope=0.01,0.1,0.3
      actcheck train-xor relu leaky_relu elu --hidden 2 --seeds 500
      actcheck list elu:alpha=1 --json

    \b
    Exit codes: 0 everything passed, 1 a check failed, 2 bad input or usage,
    130 interrupted. --json prints JSON on stdout, and nothing else goes there.
    """


for command in (list_command, plot_command, gradcheck_command, train_xor_command):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``actcheck`` script and ``python -m actcheck``."""
    cli(prog_name="actcheck")
