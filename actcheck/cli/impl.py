"""``actcheck gradcheck --impl``: checking the user's own layer code.

Its options are declared here with ``scope="impl"`` (see ``core.ScopedOption``); the
gradcheck command hosts them and hands over to ``run_impl``. No numerics here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

from actcheck import defaults
from actcheck.cli.core import ScopedOption
from actcheck.cli.output import console, echo_json, exit_with_verdict, late_status, verdict

SCOPE = "impl"

HELP = """\b
--impl checks YOUR layer instead of a catalog activation: FILE.py:NAME or
package.module:NAME naming a class with forward(x)/backward(dout) (or
forward_pass/backward_pass, fn/grad/grad2, __call__/gradient), an instance,
NAME_forward(x, ...) -> (out, cache) with its NAME_backward(dout, cache),
a loss returning (loss, dx), a model with params and loss(x, t), deeplearning.ai's
L_model_backward (with L_model_forward and compute_cost), a function plus
--derivative or with a switch f(x, deriv=False), a micrograd Value.tanh (or
Value.__mul__ --arg other=3), or (with torch) a torch.nn.Module,
autograd.Function or tensor function.
Constructor and call parameters: --arg NAME=VALUE, e.g.
  --impl layers.py:Affine --arg W=randn:20,10 --arg b=zeros:10 --shape 8,20
  --impl layers.py:SoftmaxWithLoss --arg t=labels:10 --shape 16,10
WARNING: loading the file RUNS ITS CODE, as 'python FILE.py' would; only
point it at code you trust.
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


def _args(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> Any:
    from actcheck.errors import InputError
    from actcheck.userargs import parse_args

    try:
        return parse_args(value or ())
    except InputError as exc:
        raise click.BadParameter(str(exc).removeprefix("--arg ")) from None


def impl_option(f: Callable) -> Callable:
    """``--impl``: the switch between the catalog check and the user-code check."""
    return click.option(
        "--impl",
        metavar="FILE.py:NAME",
        help="Check your own layer code (FILE.py:NAME or package.module:NAME). "
        "This imports the file and RUNS ITS CODE.",
    )(f)


_option = functools.partial(click.option, cls=ScopedOption, scope=SCOPE)


def impl_options(f: Callable) -> Callable:
    """The options that only mean something with --impl (shown in this order)."""
    f = _option(
        "--batch-mean",
        is_flag=True,
        help="With --impl: parameter gradients are of the mean over the batch, dW/m "
        "(deeplearning.ai's linear_backward); they are checked times m, m a size of x.",
    )(f)
    f = _option(
        "--derivative-of-output",
        is_flag=True,
        help="With --derivative or a deriv=False switch: the derivative takes the output "
        "y = f(x), not x (sigmoid_derivative(s) = s*(1-s), nonlin(l1, deriv=True)).",
    )(f)
    f = _option(
        "--allow-inplace",
        is_flag=True,
        help="With --impl: report in-place changes to x or dout as warnings, not failures.",
    )(f)
    f = _option(
        "--shape",
        callback=_shape,
        metavar="N,M,...",
        help="With --impl: shape of the input batch "
        f"(default {','.join(map(str, defaults.IMPL_SHAPE))}).",
    )(f)
    f = _option(
        "--arg",
        "args",
        multiple=True,
        callback=_args,
        metavar="NAME=VALUE",
        help="With --impl: a constructor or call parameter (repeatable). VALUE: "
        "randn:D1,D2 / rand: / zeros: / ones: (an array in --dtype), labels:K or onehot:K "
        "(one per sample), a number, true/false/none, or JSON. Never evaluated.",
    )(f)
    return _option(
        "--derivative",
        metavar="FILE.py:NAME",
        help="With --impl FUNCTION: its elementwise derivative f'(x). Runs the file's code.",
    )(f)


def run_impl(
    impl: str,
    derivative: str | None,
    args: dict[str, Any],
    order: int,
    x_range: tuple[float, float] | None,
    shape: tuple[int, ...] | None,
    dtype: str,
    seed: int,
    allow_inplace: bool,
    derivative_of_output: bool,
    batch_mean: bool,
    as_json: bool,
    timeout: float = defaults.IMPL_TIMEOUT,
) -> None:
    """Load, check and render the user's layer; exit 1 on any failure (bad input: exit 2)."""
    from actcheck import report
    from actcheck.errors import Interrupted
    from actcheck.isolate import check_impl_isolated, doing

    # in a child process: the user's code can neither end actcheck nor write on its stdout
    try:
        with late_status(f"checking {impl}") as status:
            result = check_impl_isolated(
                impl,
                derivative,
                args=args,
                order=order,
                x_range=x_range,
                shape=shape or defaults.IMPL_SHAPE,
                dtype=dtype,
                seed=seed,
                allow_inplace=allow_inplace,
                derivative_of_output=derivative_of_output,
                batch_mean=batch_mean,
                timeout=timeout,
                waiting=lambda phase: status(doing(phase)),
            )
        stopped = False
    except Interrupted as stop:  # Ctrl-C: the checks done before it
        result, stopped = stop.result, True
    verdict(result.passed, stopped)  # before printing: a closed stdout keeps the code
    if stopped:
        click.echo(report.impl_interrupted(result), err=True)
    if as_json:
        echo_json(report.impl_json(result))
    else:
        console().print(report.impl_report(result))
    exit_with_verdict(result.passed, stopped)
