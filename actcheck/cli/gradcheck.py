"""``actcheck gradcheck``: the catalog's derivatives, or with ``--impl`` the user's layer.

Options of the catalog check carry ``scope="catalog"``, those of ``--impl`` live in
``cli/impl.py`` with ``scope="impl"``; ``core.only_in_scope`` refuses an option of the
other mode, so nothing typed is silently ignored.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from actcheck import defaults
from actcheck.cli import impl
from actcheck.cli.core import BadInput, Command, ScopedOption, only_in_scope
from actcheck.cli.options import (
    Count,
    activations_argument,
    dtype_option,
    json_option,
    range_option,
    selected,
)
from actcheck.cli.output import (
    check_output,
    console,
    echo_json,
    exit_interrupted,
    exit_with_verdict,
    late_bar,
    stdout_taken,
    verdict,
    write_figure,
)

if TYPE_CHECKING:
    from actcheck.activations import Activation

SCOPE = "catalog"
_WHY = {"impl": "needs --impl FILE.py:NAME", SCOPE: "does not apply to --impl"}

catalog_option = functools.partial(click.option, cls=ScopedOption, scope=SCOPE)


@click.command("gradcheck", cls=Command, epilog=impl.HELP)
@activations_argument
@impl.impl_option
@impl.impl_options
@catalog_option(
    "--points",
    type=Count(min=1, max=defaults.MAX_POINTS),
    default=defaults.POINTS,
    show_default=True,
    help="Random probe points per activation (a grid, the kinks and special values come on top).",
)
@range_option(
    defaults.RANGE,
    "Interval of the random sample and the grid (with --impl: where x is probed, instead of "
    "the default grid and tails).",
)
@catalog_option(
    "--distribution",
    type=click.Choice(defaults.DISTRIBUTIONS),
    default=defaults.DISTRIBUTION,
    show_default=True,
    help="Random sample: uniform over the range, or normal (centred, sigma = width/4).",
)
@dtype_option("Evaluate inputs, f and f' in this precision (steps and bounds follow its epsilon).")
@click.option(
    "--order",
    type=click.IntRange(1, 2),
    default=defaults.ORDER,
    show_default=True,
    help="1: f' and every parameter derivative; 2: f'' (with --impl: grad2 against grad).",
)
@click.option(
    "--seed", type=int, default=defaults.SEED, show_default=True, help="Seed of the random sample."
)
@catalog_option(
    "--param",
    "params",
    multiple=True,
    metavar="NAME",
    help="Check only this parameter's derivative (repeatable).",
)
@catalog_option("--no-params", is_flag=True, help="Skip the parameter derivatives.")
@catalog_option(
    "--step",
    type=click.FloatRange(min=0, min_open=True, max=0.5),
    default=None,
    help="Relative difference step [default: eps^(1/3) of the dtype].",
)
@catalog_option(
    "--safety",
    type=click.FloatRange(min=0, min_open=True),
    default=defaults.SAFETY,
    show_default=True,
    help="Factor on the estimated numerical error before a point fails.",
)
@catalog_option(
    "--worst",
    type=Count(min=0),
    default=defaults.WORST,
    show_default=True,
    help="Worst points shown per failed check.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=defaults.IMPL_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    cls=ScopedOption,
    scope=impl.SCOPE,
    help="With --impl: stop your code after this long (it runs in a child process) "
    "and fail the check.",
)
@json_option
@catalog_option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="FILE",
    help="Also draw analytic vs numerical derivative and the per-point error (.png, .svg, .pdf).",
)
@click.pass_context
def gradcheck_command(ctx: click.Context, **_: object) -> None:
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
    if ctx.params["impl"] is None:
        run_catalog(**only_in_scope(ctx, SCOPE, _WHY))
        return
    if ctx.params["activations"]:
        raise BadInput("give ACTIVATION names or --impl, not both")
    options = only_in_scope(ctx, impl.SCOPE, _WHY)
    del options["activations"]
    if ctx.get_parameter_source("x_range") == ParameterSource.DEFAULT:
        options["x_range"] = None  # the catalog's default range is not the impl's
    impl.run_impl(**options)


def run_catalog(
    activations: tuple[Activation, ...],
    impl: None,
    params: tuple[str, ...],
    no_params: bool,
    order: int,
    plot_path: str | None,
    worst: int,
    as_json: bool,
    **options: object,
) -> None:
    """gradcheck each selected activation with ``options``; render; exit 1 when one fails."""
    import time

    from actcheck import report

    if params and no_params:
        raise BadInput("--param and --no-params exclude each other")
    if params and order == 2:
        raise BadInput("--param checks first derivatives; drop --order 2")
    check_output(plot_path, "figure", figure=True)
    taken = stdout_taken(as_json, plot=plot_path)
    which: bool | list[str] = list(params) if params else not no_params
    acts = selected(activations)
    start = time.perf_counter()
    with _progress(acts, options["points"]) as tick:  # type: ignore[arg-type]
        results, interrupted = check_all(acts, tick, order=order, params=which, **options)
    seconds = time.perf_counter() - start
    if not results:
        click.echo("Interrupted before the first check finished; nothing written.", err=True)
        exit_interrupted()
    passed = all(r.passed for r in results)
    # files first, then the terminal: a closed stdout loses nothing
    if plot_path is not None:
        from actcheck.plotting import gradcheck_figure

        write_figure(gradcheck_figure(results), plot_path, "figure", dpi=defaults.CHART_DPI)
    verdict(passed, interrupted)
    if interrupted:
        click.echo(report.gradcheck_interrupted(results, len(acts)), err=True)
    if as_json:
        echo_json(report.gradcheck_json(results, worst))
    else:
        out = console(stderr=taken, wide_when_piped=True)
        out.print(report.gradcheck_table(results, width=out.width))
        for table in report.gradcheck_failures(results, worst):
            out.print(table)
        out.print(report.gradcheck_summary(results, seconds))
        if plot_path is not None and plot_path != "-":
            out.print(report.wrote([plot_path]))
    exit_with_verdict(passed, interrupted)


def check_all(
    acts: list[Activation], tick: Callable[[Activation], Any], **options: Any
) -> tuple[list[Any], bool]:
    """gradcheck each activation in turn: (the results, whether Ctrl-C or SIGTERM cut it short).

    Every argument is checked up front (the first call would find bad ones only after work).
    """
    from actcheck.catalogcheck import check_size, gradcheck

    check_size(options["points"], options["dtype"])
    results = []
    try:
        for act in acts:
            results.append(gradcheck(act, progress=tick(act), **options))
    except KeyboardInterrupt as stop:
        part = getattr(stop, "result", None)  # actcheck.errors.Interrupted: the blocks checked
        if part is not None:
            results.append(part)
        return results, True
    return results, False


@contextlib.contextmanager
def _progress(acts: list[Activation], points: int) -> Iterator[Callable[[Activation], Any]]:
    """A transient bar over every activation's points (``output.late_bar``: on a terminal,
    once the run has lasted a second); yields ``tick(act)``, the progress callback for
    ``act``'s check."""
    with late_bar(len(acts) * points, "gradcheck") as update:
        base = 0

        def tick(act: Activation) -> Callable[[int, int], None]:
            nonlocal base
            start, base = base, base + points
            update(start, f"gradcheck {act.spec}")
            return lambda done, total: update(start + done)

        yield tick
