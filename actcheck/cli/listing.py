"""``actcheck list``: the catalog, as a table or JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from actcheck.cli.core import Command
from actcheck.cli.options import activations_argument, json_option, selected
from actcheck.cli.output import console, echo_json

if TYPE_CHECKING:
    from actcheck.activations import Activation


@click.command("list", cls=Command)
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
    else:
        console().print(report.activation_table(acts))
