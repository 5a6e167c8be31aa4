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
    Exit codes (every command):
      0    everything asked for was done and every check passed
      1    a check failed (and nothing else gives 1)
      2    bad input or usage: one line on stderr, nothing written
      130  interrupted (Ctrl-C, SIGTERM): what was computed is still written
    --json prints JSON on stdout, and nothing else goes there. Every option that
    names an output file takes '-' for stdout.
    """


for command in (list_command, plot_command, gradcheck_command, train_xor_command):
    cli.add_command(command)


def main() -> None:
    """Entry point of the ``actcheck`` script and ``python -m actcheck``."""
    prepare_process()
    try:
        cli(prog_name="actcheck")
    finally:
        import gc

        # the process ends here: the collection at interpreter exit would walk every object
        # still alive for cycles (0.05 s after a plot); none of actcheck's waits on it for a
        # finalizer (files are closed where they are written)
        gc.freeze()


def prepare_process() -> None:
    """What the command line sets up before any command (not the library: it is the process's).

    * SIGTERM acts like Ctrl-C (KeyboardInterrupt): the commands write what they computed
      and exit 130, and no temporary file is left;
    * MPLBACKEND is set aside: actcheck writes files with matplotlib's object API, and only
      ``--show`` needs a GUI backend (``output.show_backend``);
    * a stdout or stderr that cannot encode the report's few non-ASCII characters
      (PYTHONIOENCODING=ascii, a C locale) gets ASCII stand-ins instead of a crash;
    * numpy's and matplotlib's warnings never reach the terminal raw: what matters about
      an overflow or a NaN is in the report (``python -W ...`` still shows them).
    """
    import os
    import signal
    import sys
    import warnings

    from actcheck.cli import output

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    output.set_show_backend(os.environ.pop("MPLBACKEND", None))
    output.ascii_fallbacks()
    if not sys.warnoptions:
        warnings.simplefilter("ignore")
