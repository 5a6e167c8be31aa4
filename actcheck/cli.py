"""The ``actcheck`` command line: parse, call the API, render, choose the exit code.

Heavy modules (numpy, scipy, rich, matplotlib) are imported inside the commands
so that ``actcheck --help`` and shell completion start instantly.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from actcheck import __version__

if TYPE_CHECKING:
    from actcheck.activations import Activation


class InputError(click.ClickException):
    """Bad input found after parsing: one line on stderr, exit code 2."""

    exit_code = 2


def _one_line(err: click.UsageError) -> click.UsageError:
    # click prints usage + hint + message; one clear line with a pointer to --help reads better
    ctx = err.ctx
    if ctx is not None:
        # a plain UsageError: BadParameter.format_message would prefix "Invalid value for" again
        return click.UsageError(f"{err.format_message()} (see '{ctx.command_path} --help')")
    return err


class Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None


class Group(click.Group):
    command_class = Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None


class ActivationType(click.ParamType):
    """``name`` or ``name:key=value,...``, e.g. ``hardtanh:min_val=-2,max_val=0.5``."""

    name = "activation"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from actcheck.activations import Activation, ActivationError, parse_spec

        if isinstance(value, Activation):
            return value
        try:
            return parse_spec(value)
        except ActivationError as err:
            self.fail(str(err), param, ctx)

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list:
        from click.shell_completion import CompletionItem

        from actcheck.activations import names

        return [CompletionItem(n) for n in names() if n.startswith(incomplete)]


ACTIVATION = ActivationType()

# ---------------------------------------------------------------------------
# Shared options, written once
# ---------------------------------------------------------------------------


def activations_argument(f: Callable) -> Callable:
    return click.argument(
        "activations", nargs=-1, type=ACTIVATION, metavar="[ACTIVATION[:KEY=VALUE,...]]..."
    )(f)


def json_option(f: Callable) -> Callable:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(f)


DTYPES = ("float64", "float32")
# beyond this a sample spacing (hi - lo)/n overflows float64 arithmetic
MAX_RANGE = 1e150


def dtype_option(default: str | None = "float64", help: str = "Floating-point precision.") -> Any:
    return click.option(
        "--dtype",
        type=click.Choice(DTYPES),
        default=default,
        show_default=default is not None,
        help=help,
    )


def _check_range(
    ctx: click.Context, param: click.Parameter, value: tuple[float, float] | None
) -> tuple[float, float] | None:
    if value is None:
        return None
    lo, hi = value
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise click.BadParameter(f"needs finite numbers, got {lo:g} {hi:g}")
    if not lo < hi:
        raise click.BadParameter(f"needs MIN < MAX, got {lo:g} {hi:g}")
    if max(abs(lo), abs(hi)) > MAX_RANGE:
        raise click.BadParameter(f"values must lie within ±{MAX_RANGE:g}, got {lo:g} {hi:g}")
    return value


def range_option(default: tuple[float, float] | None, help: str) -> Any:
    """``--range MIN MAX``, checked once for every command: finite, MIN < MAX, not absurdly wide."""
    return click.option(
        "--range",
        "x_range",
        type=(float, float),
        default=default,
        show_default=default is not None,
        metavar="MIN MAX",
        callback=_check_range,
        help=help,
    )


def selected(acts: tuple[Activation, ...]) -> list[Activation]:
    """The activations named on the command line, or the whole catalog with defaults."""
    if acts:
        return list(acts)
    from actcheck.activations import get, names

    return [get(n) for n in names()]


def console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, allow_nan=False, default=_json_default))


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


# ---------------------------------------------------------------------------
# Output files: checked before any work, written atomically
# ---------------------------------------------------------------------------


def check_output(path: str, what: str, *, figure: bool = False) -> None:
    """Fail now, not after the work, when ``path`` cannot be written (or is no figure format)."""
    from actcheck.files import check_writable

    try:
        check_writable(path)
        if figure:
            from actcheck.plotting import output_format

            output_format(path)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or err
        raise InputError(f"cannot write {what} {path!r}: {reason}") from None


def write_output(path: str, what: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it over ``path``."""
    from actcheck.files import write_atomically

    try:
        write_atomically(path, write)
    except (OSError, ValueError) as err:
        raise InputError(f"cannot write {what} {path!r}: {err}") from None


def write_figure(fig: Any, path: str, what: str, dpi: float = 110) -> None:
    """plotting.save_figure, with a failure reported as one line and exit code 2."""
    from actcheck import plotting

    try:
        plotting.save_figure(fig, path, dpi=dpi)
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or err
        raise InputError(f"cannot write {what} {path!r}: {reason}") from None


# ---------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------


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
    """


@cli.command("list")
@activations_argument
@json_option
def list_command(activations: tuple[Activation, ...], as_json: bool) -> None:
    """List the catalog: parameters, smoothness, kinks and the derivative used there, formulas.

    With ACTIVATION arguments, describe just those, with the parameters given.

    \b
    Examples:
      actcheck list
      actcheck list leaky_relu:negative_slope=0.2 softplus:beta=2
      actcheck list --json
    """
    from actcheck import report

    acts = selected(activations)
    if as_json:
        echo_json(report.activations_json(acts))
        return
    console().print(report.activation_table(acts))


# ---------------------------------------------------------------------------
# plot: curves, derivatives and kinks as a figure file (issue 5)
# ---------------------------------------------------------------------------


def _sweep_values(text: str) -> tuple[str, list[str]]:
    key, eq, values = (part.strip() for part in text.partition("="))
    items = [v.strip() for v in values.split(",") if v.strip()]
    if not eq or not key or not items:
        raise InputError(
            f"--sweep expects PARAM=V1,V2,..., got {text!r} (e.g. negative_slope=0.01,0.1)"
        )
    return key, items


def _apply_sweeps(acts: list[Activation], sweeps: tuple[str, ...]) -> list[Activation]:
    """Each activation having a swept parameter becomes one family member per value."""
    from actcheck.activations import ActivationError, parse_spec

    for text in sweeps:
        key, values = _sweep_values(text)
        if not any(key in a.params for a in acts):
            names = ", ".join(dict.fromkeys(a.name for a in acts))
            raise InputError(
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
                    raise InputError(f"--sweep {key}: {err}") from None
        acts = out
    return acts


def _image_size(path: str, fmt: str, fig: Any, dpi: float) -> str:
    w, h = fig.get_size_inches()
    if fmt == "png":
        return f"PNG, {round(w * dpi)}×{round(h * dpi)} px"
    return f"{fmt.upper()}, {w:.1f}×{h:.1f} in"


@cli.command("plot")
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
    type=click.Choice(["grid", "overlay"]),
    default="grid",
    show_default=True,
    help="grid: one panel per function (family); overlay: all functions on shared "
    "axes, one axes per curve kind.",
)
@click.option(
    "--draw",
    default="function,derivative",
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
    type=click.IntRange(16, 1_000_000),
    default=801,
    show_default=True,
    help="Uniform samples per curve (each kink adds its own point and neighbours).",
)
@click.option(
    "-o",
    "--output",
    default="actcheck-activations.png",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Output file; the extension picks the format: .png, .svg or .pdf.",
)
@click.option(
    "--dpi",
    type=click.FloatRange(10, 1200),
    default=150,
    show_default=True,
    help="Resolution of PNG output (and of raster parts of PDF/SVG).",
)
@click.option("--style", type=click.Choice(["light", "dark"]), default="light", show_default=True)
@click.option("--show", is_flag=True, help="Also open the figure in a window (needs a display).")
def plot_command(activations: tuple[Activation, ...], sweeps: tuple[str, ...], layout: str,
                 draw: str, second: bool, numerical: bool, formula: bool,
                 x_range: tuple[float, float] | None, samples: int, output: str, dpi: float,
                 style: str, show: bool) -> None:  # fmt: skip
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
    from actcheck import plotting

    check_output(output, "figure", figure=True)
    try:
        orders = plotting.parse_draw(
            [d for d in draw.split(",") if d.strip()] + (["second"] if second else [])
        )
    except ValueError as err:
        raise InputError(str(err)) from None
    acts = _apply_sweeps(selected(activations), sweeps)
    spec = plotting.PlotSpec(orders=orders, numerical=numerical, x_range=x_range, samples=samples,
                             layout=layout, style=style, formula=formula)  # fmt: skip
    fig = plotting.activation_figure(acts, spec)
    write_figure(fig, output, "figure", dpi=dpi)
    click.echo(f"Wrote {output} ({_image_size(output, plotting.output_format(output), fig, dpi)})")
    if show:
        if plotting.has_display():
            plotting.show_figure(fig)
        else:
            click.echo(
                "--show: no display found (DISPLAY is not set); open the file instead.", err=True
            )


# ---------------------------------------------------------------------------
# gradcheck --impl: checking the user's own layer code (issue 4)
# Options and runner added to the gradcheck command; the runner holds no numerics.
# ---------------------------------------------------------------------------

IMPL_HELP = """\b
--impl checks YOUR layer instead of a catalog activation: FILE.py:NAME or
package.module:NAME naming a class with forward(x)/backward(dout) (made with no
arguments), an instance, NAME_forward(x) -> (out, cache) with its NAME_backward(dout,
cache), a function plus --derivative, or (with torch) a
torch.nn.Module, torch.autograd.Function or tensor function. WARNING: loading the
file RUNS ITS CODE, as 'python FILE.py' would; only point it at code you trust.
"""


def _shape(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        shape = tuple(int(s) for s in value.replace("x", ",").split(",") if s.strip())
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a shape like 64,32") from None
    if not shape or any(s <= 0 for s in shape):
        raise click.BadParameter(f"{value!r}: sizes must be positive integers, e.g. 64,32")
    return shape


def impl_options(f: Callable) -> Callable:
    """--impl, --derivative, --shape, --allow-inplace (for the gradcheck command)."""
    f = click.option(
        "--allow-inplace",
        is_flag=True,
        help="With --impl: report in-place changes to x or dout as warnings, not failures.",
    )(f)
    f = click.option(
        "--shape",
        callback=_shape,
        metavar="N,M,...",
        help="With --impl: shape of the input batch (default 64,32).",
    )(f)
    f = click.option(
        "--derivative",
        metavar="FILE.py:NAME",
        help="With --impl FUNCTION: its elementwise derivative f'(x). Runs the file's code.",
    )(f)
    f = click.option(
        "--impl",
        metavar="FILE.py:NAME",
        help="Check your own layer code (FILE.py:NAME or package.module:NAME). "
        "This imports the file and RUNS ITS CODE.",
    )(f)
    return f


def run_impl(
    impl: str,
    derivative: str | None,
    shape: tuple[int, ...] | None,
    dtype: str,
    seed: int,
    allow_inplace: bool,
    as_json: bool,
) -> None:
    """Load, check and render the user's layer; exit 1 on any failure, 2 when it cannot load."""
    from actcheck import report
    from actcheck.implcheck import check_impl
    from actcheck.userimpl import ImplError

    try:
        result = check_impl(
            impl,
            derivative,
            shape=shape or (64, 32),
            dtype=dtype,
            seed=seed,
            allow_inplace=allow_inplace,
        )
    except ImplError as err:
        raise InputError(str(err)) from None
    if as_json:
        echo_json(report.impl_json(result))
    else:
        console().print(report.impl_report(result))
    if not result.passed:
        sys.exit(1)


def check_impl_args(
    impl: str | None, derivative: str | None, shape: Any, allow_inplace: bool
) -> None:
    """The --impl-only options need --impl."""
    if impl is None:
        for name, v in (
            ("--derivative", derivative),
            ("--shape", shape),
            ("--allow-inplace", allow_inplace),
        ):
            if v:
                raise InputError(f"{name} needs --impl FILE.py:NAME")


# options of the catalog check that mean nothing for a user's layer
_CATALOG_ONLY = (
    "points",
    "x_range",
    "distribution",
    "order",
    "params",
    "no_params",
    "step",
    "safety",
    "worst",
    "plot_path",
)


def reject_catalog_options() -> None:
    """--impl with e.g. --order 2 or --plot: one clear line instead of silently ignoring it."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    for p in ctx.command.params:
        if p.name in _CATALOG_ONLY and ctx.get_parameter_source(p.name) not in (
            ParameterSource.DEFAULT,
            None,
        ):
            raise InputError(f"{p.opts[0]} does not apply to --impl")


# end of the gradcheck --impl block
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------


@cli.command("gradcheck", epilog=IMPL_HELP)
@activations_argument
@impl_options  # gradcheck --impl (issue 4)
@click.option(
    "--points",
    type=click.IntRange(min=1),
    default=20_000,  # gradcheck.DEFAULT_POINTS (not imported here: it needs numpy)
    show_default=True,
    help="Random probe points per activation (a grid, the kinks and special values come on top).",
)
@range_option((-6.0, 6.0), "Interval of the random sample and the grid.")
@click.option(
    "--distribution",
    type=click.Choice(["uniform", "normal"]),
    default="uniform",
    show_default=True,
    help="Random sample: uniform over the range, or normal (centred, sigma = width/4).",
)
@dtype_option(
    help="Evaluate inputs, f and f' in this precision (steps and bounds follow its epsilon)."
)
@click.option(
    "--order",
    type=click.IntRange(1, 2),
    default=1,
    show_default=True,
    help="1: f' and every parameter derivative; 2: f''.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random sample.")
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME",
    help="Check only this parameter's derivative (repeatable).",
)
@click.option("--no-params", is_flag=True, help="Skip the parameter derivatives.")
@click.option(
    "--step",
    type=click.FloatRange(min=0, min_open=True, max=0.5),
    default=None,
    help="Relative difference step [default: eps^(1/3) of the dtype].",
)
@click.option(
    "--safety",
    type=click.FloatRange(min=0, min_open=True),
    default=4.0,
    show_default=True,
    help="Factor on the estimated numerical error before a point fails.",
)
@click.option(
    "--worst",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Worst points shown per failed check.",
)
@json_option
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also draw analytic vs numerical derivative and the per-point error (.png, .svg, .pdf).",
)
def gradcheck_command(
    activations: tuple[Activation, ...],
    impl: str | None,
    derivative: str | None,
    shape: tuple[int, ...] | None,
    allow_inplace: bool,
    points: int,
    x_range: tuple[float, float],
    distribution: str,
    dtype: str,
    order: int,
    seed: int,
    params: tuple[str, ...],
    no_params: bool,
    step: float | None,
    safety: float,
    worst: int,
    as_json: bool,
    plot_path: str | None,
) -> None:
    """Check every analytic derivative against numerical ones, point by point.

    At each probe point (a seeded random sample, a grid, every kink and a few
    steps and ulps around it, saturation, huge, tiny and subnormal values, +-0)
    the analytic derivative is compared with Richardson-extrapolated central
    differences and judged against that point's own error estimate. Near a kink
    only one-sided differences from the point's own side are used; at a kink the
    analytic value passes when it lies between the one-sided derivatives, and
    the convention is reported. Exit code 0: all passed, 1: a check failed.

    \b
    Examples:
      actcheck gradcheck
      actcheck gradcheck relu leaky_relu:negative_slope=0.2 --dtype float32
      actcheck gradcheck elu --order 2 --points 100000 --seed 1
      actcheck gradcheck softplus:beta=2 --param beta --json
      actcheck gradcheck gelu --range -10 10 --plot gelu-gradcheck.png
      actcheck gradcheck --impl examples/relu.py:Relu --shape 64,32
    """
    # gradcheck --impl (issue 4): the user's own layer instead of catalog activations
    check_impl_args(impl, derivative, shape, allow_inplace)
    if impl is not None:
        if activations:
            raise InputError("give ACTIVATION names or --impl, not both")
        reject_catalog_options()
        run_impl(impl, derivative, shape, dtype, seed, allow_inplace, as_json)
        return
    import time

    from actcheck import report
    from actcheck.catalogcheck import gradcheck
    from actcheck.errors import InputError as ApiInputError

    lo, hi = x_range
    if params and no_params:
        raise InputError("--param and --no-params exclude each other")
    if params and order == 2:
        raise InputError("--param checks first derivatives; drop --order 2")
    if plot_path is not None:
        check_output(plot_path, "plot", figure=True)
    which: bool | list[str] = list(params) if params else not no_params
    start = time.perf_counter()
    try:
        results = [
            gradcheck(
                act,
                points=points,
                x_range=(lo, hi),
                distribution=distribution,
                dtype=dtype,
                order=order,
                seed=seed,
                params=which,
                step=step,
                safety=safety,
            )
            for act in selected(activations)
        ]
    except ApiInputError as err:
        raise InputError(str(err)) from None
    seconds = time.perf_counter() - start
    if plot_path is not None:
        from actcheck.plotting import gradcheck_figure

        write_figure(gradcheck_figure(results), plot_path, "plot")
    if as_json:
        echo_json(report.gradcheck_json(results, worst))
    else:
        out = console()
        if not out.is_terminal:
            out.width = max(out.width, _PIPE_WIDTH)  # a pipe or a file: keep every column
        out.print(report.gradcheck_table(results, width=out.width))
        for table in report.gradcheck_failures(results, worst):
            out.print(table)
        out.print(report.gradcheck_summary(results, seconds))
        if plot_path is not None:
            out.print(f"plot written to {plot_path}")
    if not all(r.passed for r in results):
        sys.exit(1)


_PIPE_WIDTH = 120


# ---------------------------------------------------------------------------
# train-xor
# ---------------------------------------------------------------------------


@cli.command("train-xor")
@activations_argument
@click.option(
    "--preset",
    type=click.Choice(["classic"]),
    help="Start from a known setup: "
    "'classic' is the classic numpy script (2-30-1, no biases, randn init, sse, "
    "lr 0.002, 200 epochs). Explicit options override it.",
)
@click.option("--hidden", type=int, help="Hidden width H.  [default: 4]")
@click.option("--bias/--no-bias", default=None, help="Biases in both layers.  [default: bias]")
@click.option(
    "--loss",
    type=click.Choice(["sse", "mse", "bce"]),
    help="Sum or mean of squared errors, or binary cross-entropy on a sigmoid "
    "output.  [default: sse]",
)
@click.option(
    "--optimizer",
    type=click.Choice(["sgd", "momentum", "adam"]),
    help="Full-batch SGD, SGD with momentum 0.9, or Adam.  [default: sgd]",
)
@click.option("--lr", type=float, help="Learning rate.  [default: 0.01]")
@click.option("--epochs", type=int, help="Training iterations.  [default: 2000]")
@click.option(
    "--init",
    type=click.Choice(["normal", "he", "xavier"]),
    help="Weights from randn, scaled by He or Xavier or not.  [default: he]",
)
@click.option("--seeds", type=int, default=100, show_default=True, help="How many seeds.")
@click.option(
    "--first-seed",
    type=int,
    default=0,
    show_default=True,
    help="Train seeds FIRST_SEED .. FIRST_SEED+SEEDS-1.",
)
@dtype_option(None, help="Precision of the weights and the training.  [default: float64]")
@click.option(
    "--threshold",
    type=float,
    help="Loss counted as reached.  [default: 0.01 sse, 0.0025 mse, 0.05 bce]",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="xor-loss.png",
    show_default=True,
    help="Loss chart (png, svg or pdf).",
)
@click.option(
    "--decision-boundary",
    "boundary",
    type=click.Path(dir_okay=False),
    help="Also draw decision boundaries, one panel per activation, into this file.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    help="Write statistics and per-seed loss histories as JSON.",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Write per-seed statistics and loss histories as CSV.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no 'wrote' lines.")
def train_xor_command(
    activations: tuple[Activation, ...],
    preset: str | None,
    hidden: int | None,
    bias: bool | None,
    loss: str | None,
    optimizer: str | None,
    lr: float | None,
    epochs: int | None,
    init: str | None,
    seeds: int,
    first_seed: int,
    dtype: str | None,
    threshold: float | None,
    output: str,
    boundary: str | None,
    json_path: str | None,
    csv_path: str | None,
    quiet: bool,
) -> None:
    """Train the 2-H-1 XOR network with each activation over many seeds, at once.

    Prints a table per activation (share of seeds solved, epochs to reach the
    loss threshold, final loss, dead hidden units, PReLU's learned slope) and
    writes the loss chart: median across seeds with the interquartile band.
    Ctrl-C stops after the current epoch and still writes what was computed.

    \b
    Examples:
      actcheck train-xor relu leaky_relu tanh
      actcheck train-xor relu --preset classic --seeds 20 -o classic.png
      actcheck train-xor relu elu --hidden 2 --seeds 500 --json xor.json
      actcheck train-xor prelu rrelu --loss bce --optimizer adam --lr 0.05
    """

    from actcheck import plotting, report, xor

    acts = selected(activations)
    try:
        config = xor.make_config(
            preset, hidden=hidden, bias=bias, loss=loss, optimizer=optimizer, lr=lr,
            epochs=epochs, init=init, dtype=dtype, threshold=threshold,
        )  # fmt: skip
        xor.check_seeds(seeds, first_seed)
    except xor.XorError as err:
        raise InputError(str(err)) from None
    outputs = [(output, "chart"), (boundary, "decision-boundary figure"), (json_path, "JSON file"),
               (csv_path, "CSV file")]  # fmt: skip
    for i, (path, what) in enumerate(outputs):
        if path is not None:
            check_output(path, what, figure=i < 2)

    out = console()
    results = _train_all(
        acts, config, seeds, first_seed, show_progress=not quiet and out.is_terminal
    )
    if not results:
        raise InputError("interrupted before the first epoch finished; nothing written")
    if results[-1].interrupted or len(results) < len(acts):
        done = ", ".join(r.activation.name for r in results)
        out.print(f"[yellow]Interrupted: writing what was computed ({done}; "
                  f"{results[-1].epochs_completed} epochs of the last).[/yellow]")  # fmt: skip
    out.print(report.xor_table(results))

    write_figure(plotting.xor_loss_figure(results), output, "chart")
    written = [output]
    if boundary is not None:
        write_figure(
            plotting.xor_boundary_figure(results), boundary, "decision-boundary figure", dpi=80
        )
        written.append(boundary)
    if json_path is not None:
        data = report.xor_json(results)

        def write_json(tmp: str) -> None:
            with open(tmp, "w") as fh:
                json.dump(data, fh, allow_nan=False, separators=(",", ":"))

        write_output(json_path, "JSON file", write_json)
        written.append(json_path)
    if csv_path is not None:
        rows = report.xor_csv_rows(results)

        def write_csv(tmp: str) -> None:
            import csv

            with open(tmp, "w", newline="") as fh:
                csv.writer(fh).writerows(rows)

        write_output(csv_path, "CSV file", write_csv)
        written.append(csv_path)
    if not quiet:
        out.print("wrote " + ", ".join(os.fspath(p) for p in written))


def _train_all(
    acts: list[Activation], config: Any, seeds: int, first_seed: int, show_progress: bool
) -> list[Any]:
    """Train each activation in turn; stop at the first interrupted one (Ctrl-C)."""
    from actcheck import xor

    results: list[Any] = []
    overrides = {f: getattr(config, f) for f in xor.CONFIG_FIELDS}
    step = max(1, config.epochs // 200)  # redraw the bar at most ~200 times per activation

    def run(act: Activation, tick: Callable[[int], None] | None) -> Any:
        return xor.train_xor(act, seeds=seeds, first_seed=first_seed, progress=tick, **overrides)

    try:
        if not show_progress:
            for act in acts:
                results.append(run(act, None))
                if results[-1].interrupted:
                    break
            return [r for r in results if r.epochs_completed > 0]
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
            TimeRemainingColumn(), transient=True, console=console(),
        ) as bar:  # fmt: skip
            task = bar.add_task("training", total=len(acts) * config.epochs)
            for k, act in enumerate(acts):
                bar.update(task, description=f"{act.title} x {seeds} seeds")
                base = k * config.epochs

                def tick(done: int, base: int = base) -> None:
                    if done % step == 0:
                        bar.update(task, completed=base + done)

                results.append(run(act, tick))
                if results[-1].interrupted:
                    break
    except KeyboardInterrupt:
        pass  # between two activations: keep the finished ones
    return [r for r in results if r.epochs_completed > 0]


def main() -> None:
    """Entry point of the ``actcheck`` script and ``python -m actcheck``."""
    cli(prog_name="actcheck")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
