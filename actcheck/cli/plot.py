"""``actcheck plot``: curves, derivatives and kinks as a figure file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from actcheck import defaults
from actcheck.cli.core import BadInput, Command
from actcheck.cli.options import (
    Count,
    activations_argument,
    output_option,
    range_option,
    selected,
)
from actcheck.cli.output import check_output, open_show_backend, stdout_taken, write_figure

if TYPE_CHECKING:
    from actcheck.activations import Activation


def _sweep_values(text: str) -> tuple[str, list[str]]:
    key, eq, values = (part.strip() for part in text.partition("="))
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not key or not items:
        raise BadInput(
            f"--sweep expects PARAM=V1,V2,..., got {text!r} (e.g. negative_slope=0.01,0.1)"
        )
    return key, items


def apply_sweeps(acts: list[Activation], sweeps: tuple[str, ...]) -> list[Activation]:
    """Each activation having a swept parameter becomes one family member per value."""
    from actcheck.activations import ActivationError, parse_spec

    for text in sweeps:
        key, values = _sweep_values(text)
        if not any(key in a.params for a in acts):
            names = ", ".join(dict.fromkeys(a.name for a in acts))
            raise BadInput(
                f"--sweep {key}: none of the selected activations ({names}) has a parameter {key!r}"
            )
        out: list[Activation] = []
        for act in acts:
            if key not in act.params:
                out.append(act)
                continue
            for value in values:
                others = ",".join(f"{k}={v}" for k, v in act.params.items() if k != key)
                spec = f"{act.name}:{key}={value}" + (f",{others}" if others else "")
                try:
                    out.append(parse_spec(spec))
                except ActivationError as err:
                    raise BadInput(f"--sweep {key}: {err}") from None
        acts = out
    return acts


@click.command("plot", cls=Command)
@activations_argument
@click.option(
    "--sweep",
    "sweeps",
    multiple=True,
    metavar="PARAM=V1,V2,...",
    help="Draw each selected activation having PARAM once per value, as a family "
    "(e.g. negative_slope=0.01,0.1,0.3). Repeatable.",
)
@click.option(
    "--layout",
    type=click.Choice(defaults.LAYOUTS),
    default=defaults.LAYOUT,
    show_default=True,
    help="grid: one panel per function (family); overlay: all functions on shared "
    "axes, one axes per curve kind.",
)
@click.option(
    "--draw",
    default=",".join(defaults.DRAW),
    show_default=True,
    metavar="WHAT,...",
    help="Curves to draw: function, derivative, second (the second derivative).",
)
@click.option(
    "--second",
    is_flag=True,
    help="Also draw the second derivative (same as adding 'second' to --draw).",
)
@click.option(
    "--numerical/--no-numerical",
    default=True,
    show_default=True,
    help="Numerical-derivative markers over the analytic derivatives.",
)
@click.option(
    "--formula/--no-formula",
    default=True,
    show_default=True,
    help="Write each function's formula under its panel.",
)
@range_option(None, "x range [default: -4 4, widened to show each kink near 0].")
@click.option(
    "--samples",
    type=Count(defaults.MIN_SAMPLES, defaults.MAX_SAMPLES),
    default=defaults.SAMPLES,
    show_default=True,
    help="Uniform samples per curve (each kink adds its own point and neighbours).",
)
@output_option(
    "-o",
    "--output",
    default=defaults.PLOT_OUTPUT,
    help="Output file; the extension picks the format: .png, .svg or .pdf.",
)
@click.option(
    "--dpi",
    type=click.FloatRange(10, 1200),
    default=defaults.PLOT_DPI,
    show_default=True,
    help="Resolution of PNG output (and of raster parts of PDF/SVG).",
)
@click.option(
    "--style", type=click.Choice(defaults.STYLES), default=defaults.STYLE, show_default=True
)
@click.option("--show", is_flag=True, help="Also open the figure in a window (needs a display).")
def plot_command(
    activations: tuple[Activation, ...],
    sweeps: tuple[str, ...],
    draw: str,
    second: bool,
    output: str,
    dpi: float,
    show: bool,
    **spec: object,
) -> None:
    """Draw activations with their derivatives, numerical checks and marked kinks.

    Without ACTIVATION arguments: every catalog function with its defaults, one
    panel each. The same function named twice or more (or --sweep) is drawn as a
    family in one panel. At each kink, open circles mark the one-sided limits of
    the derivative and a filled circle the value actcheck (and PyTorch) uses.
    The file is written atomically and no display is needed.

    \b
    Examples:
      actcheck plot
      actcheck plot leaky_relu --sweep negative_slope=0.01,0.1,0.3 -o leaky.svg
      actcheck plot relu gelu silu mish --layout overlay --range -3 3
      actcheck plot hardswish softsign elu --draw function,derivative,second
      actcheck plot rrelu --style dark -o rrelu.pdf
    """
    from actcheck import plotdata, plotting, report

    check_output(output, "figure", figure=True)
    taken = stdout_taken(False, output=output)  # then the "Wrote" line goes to stderr
    try:
        orders = plotting.parse_draw(
            [d for d in draw.split(",") if d.strip()] + (["second"] if second else [])
        )
    except ValueError as err:
        raise BadInput(str(err)) from None
    acts = apply_sweeps(selected(activations), sweeps)
    # the remaining options (numerical, formula, x_range, samples, layout, style) are PlotSpec's
    plotdata.check_size(len(acts), spec["samples"], len(orders))  # type: ignore[arg-type]
    if show and plotting.has_display():
        open_show_backend()  # an unusable MPLBACKEND: said now, before the work
    with _imports_set_aside():
        fig = plotting.activation_figure(acts, plotting.PlotSpec(orders=orders, **spec))  # type: ignore[arg-type]
        plotting.fix_ticks(fig)  # only saved (--show shows the image): ticks drawn as plain artists
        write_figure(fig, output, "figure", dpi=dpi)
        # beside a figure written to stdout, the line goes to stderr
        click.echo(report.wrote_figure(output, plotting.output_format(output), fig, dpi), err=taken)
    if show:
        if plotting.has_display():
            plotting.show_figure(fig)
        else:
            click.echo(
                "--show: no display found (DISPLAY is not set); open the file instead.", err=True
            )


@contextlib.contextmanager
def _imports_set_aside() -> Iterator[None]:
    """Keep what is imported so far out of the cyclic garbage collector's sight (gc.freeze).

    Building and drawing the default grid makes about 100,000 objects, and each full
    collection would also walk the modules' own (matplotlib's, numpy's): 0.08 s of a 1.3 s
    run. Unfrozen afterwards, for a process that goes on (CliRunner, a caller's own).
    """
    import gc

    # what activation_figure and the PNG writer import, now, so that the freeze covers it
    import matplotlib.figure  # noqa: F401
    from matplotlib.backends import backend_agg  # noqa: F401

    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
