"""``actcheck gradcheck``: the catalog's derivatives, or with ``--impl`` the user's layer.

Options of the catalog check carry ``scope="catalog"``, those of ``--impl`` live in
``cli/impl.py`` with ``scope="impl"``; ``core.only_in_scope`` refuses an option of the
other mode, so nothing typed is silently ignored.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from actcheck import defaults
from actcheck.cli import impl
from actcheck.cli.core import BadInput, Command, ScopedOption, only_in_scope
from actcheck.cli.options import (
    activations_argument,
    dtype_option,
    json_option,
    range_option,
    selected,
)
from actcheck.cli.output import check_output, console, echo_json, exit_failed, write_figure

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
    type=click.IntRange(min=1),
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
    type=click.IntRange(min=0),
    default=defaults.WORST,
    show_default=True,
    help="Worst points shown per failed check.",
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
    from actcheck.catalogcheck import gradcheck

    if params and no_params:
        raise BadInput("--param and --no-params exclude each other")
    if params and order == 2:
        raise BadInput("--param checks first derivatives; drop --order 2")
    check_output(plot_path, "plot", figure=True)
    which: bool | list[str] = list(params) if params else not no_params
    start = time.perf_counter()
    results = [
        gradcheck(act, order=order, params=which, **options)  # type: ignore[arg-type]
        for act in selected(activations)
    ]
    seconds = time.perf_counter() - start
    if plot_path is not None:
        from actcheck.plotting import gradcheck_figure

        write_figure(gradcheck_figure(results), plot_path, "plot", dpi=defaults.CHART_DPI)
    if as_json:
        echo_json(report.gradcheck_json(results, worst))
    else:
        out = console(wide_when_piped=True)
        out.print(report.gradcheck_table(results, width=out.width))
        for table in report.gradcheck_failures(results, worst):
            out.print(table)
        out.print(report.gradcheck_summary(results, seconds))
        if plot_path is not None:
            out.print(f"plot written to {plot_path}")
    if not all(r.passed for r in results):
        exit_failed()
