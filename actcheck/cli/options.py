"""Options and arguments shared by the commands, written once; defaults from actcheck.defaults."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from actcheck import defaults

if TYPE_CHECKING:
    from actcheck.activations import Activation

# beyond this a sample spacing (hi - lo)/n overflows float64 arithmetic
MAX_RANGE = 1e150


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


class Count(click.IntRange):
    """A whole number, also written as ``1e6`` or ``1_000_000`` (counts of points, seeds,
    epochs are often that large); optionally within [min, max]."""

    name = "integer"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str):
            text = value.strip()
            try:
                value = int(text)
            except ValueError:
                value = self._from_float(text, param, ctx)
        return super().convert(value, param, ctx)

    def _from_float(
        self, text: str, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and v.is_integer()):
            self.fail(f"{text!r} is not a whole number", param, ctx)
        # checked here, so that 1e30 is not shown as the integer the float rounds to
        if (self.min is not None and v < self.min) or (self.max is not None and v > self.max):
            if self.max is None:  # click's own wording of a range
                span = f"x>={self.min}"
            elif self.min is None:
                span = f"x<={self.max}"
            else:
                span = f"{self.min}<=x<={self.max}"
            self.fail(f"{text} is not in the range {span}.", param, ctx)
        return int(v)


def activations_argument(f: Callable) -> Callable:
    return click.argument(
        "activations", nargs=-1, type=ActivationType(), metavar="[ACTIVATION[:KEY=VALUE,...]]..."
    )(f)


def json_option(f: Callable) -> Callable:
    """``--json``: the same in every command, JSON on stdout and nothing else there."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print JSON on stdout (and nothing else there)."
    )(f)


def dtype_option(help: str, **kwargs: Any) -> Callable:
    return click.option(
        "--dtype",
        type=click.Choice(defaults.DTYPES),
        default=defaults.DTYPE,
        show_default=True,
        help=help,
        **kwargs,
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


def range_option(default: tuple[float, float] | None, help: str, **kwargs: Any) -> Callable:
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
        **kwargs,
    )


def output_option(*names: str, default: str | None, help: str) -> Callable:
    """An option naming an output file (checked for writability before any work)."""
    return click.option(
        *names,
        type=click.Path(dir_okay=False),
        default=default,
        show_default=default is not None,
        help=help,
    )


def selected(acts: tuple[Activation, ...]) -> list[Activation]:
    """The activations named on the command line, or the whole catalog with defaults."""
    if acts:
        return list(acts)
    from actcheck.activations import get, names

    return [get(n) for n in names()]
