"""``actcheck train-xor``: train XOR with each activation over many seeds; table, chart, files."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from actcheck import defaults
from actcheck.cli.core import Command
from actcheck.cli.options import (
    Count,
    activations_argument,
    dtype_option,
    json_option,
    output_option,
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
    write_output,
    write_text,
)

if TYPE_CHECKING:
    from actcheck.activations import Activation

_THRESHOLDS = ", ".join(f"{v:g} {k}" for k, v in defaults.LOSS_THRESHOLDS.items())


def _default(value: Any) -> str:
    return f"  [default: {value}]"


@click.command("train-xor", cls=Command)
@activations_argument
@click.option(
    "--preset",
    type=click.Choice(["classic"]),
    help="Start from a known setup: "
    "'classic' is the classic numpy script (2-30-1, no biases, randn init, sse, "
    "lr 0.002, 200 epochs). Explicit options override it.",
)
@click.option("--hidden", type=Count(), help="Hidden width H." + _default(defaults.XOR_HIDDEN))
@click.option(
    "--bias/--no-bias",
    default=None,
    help="Biases in both layers." + _default("bias" if defaults.XOR_BIAS else "no-bias"),
)
@click.option(
    "--loss",
    type=click.Choice(defaults.LOSSES),
    help="Sum or mean of squared errors, or binary cross-entropy on a sigmoid output."
    + _default(defaults.XOR_LOSS),
)
@click.option(
    "--optimizer",
    type=click.Choice(defaults.OPTIMIZERS),
    help="Full-batch SGD, SGD with momentum 0.9, or Adam." + _default(defaults.XOR_OPTIMIZER),
)
@click.option("--lr", type=float, help="Learning rate." + _default(f"{defaults.XOR_LR:g}"))
@click.option("--epochs", type=Count(), help="Training iterations." + _default(defaults.XOR_EPOCHS))
@click.option(
    "--init",
    type=click.Choice(defaults.INITS),
    help="Weights from randn, scaled by He or Xavier or not." + _default(defaults.XOR_INIT),
)
@click.option(
    "--seeds", type=Count(), default=defaults.XOR_SEEDS, show_default=True, help="How many seeds."
)
@click.option(
    "--first-seed",
    type=int,
    default=defaults.XOR_FIRST_SEED,
    show_default=True,
    help="Train seeds FIRST_SEED .. FIRST_SEED+SEEDS-1.",
)
@dtype_option("Precision of the weights and the training.")
@click.option("--threshold", type=float, help="Loss counted as reached." + _default(_THRESHOLDS))
@output_option("-o", "--output", default=defaults.XOR_OUTPUT, help="Loss chart (png, svg or pdf).")
@output_option(
    "--decision-boundary",
    "boundary",
    default=None,
    help="Also draw decision boundaries, one panel per activation, into this file.",
)
@json_option
@output_option(
    "--histories",
    "histories_path",
    default=None,
    help="Write every seed's loss history (and PReLU's slope) as a NumPy .npz file.",
)
@output_option(
    "--csv",
    "csv_path",
    default=None,
    help="Write per-seed statistics and loss histories as CSV.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no 'Wrote' line.")
def train_xor_command(
    activations: tuple[Activation, ...],
    preset: str | None,
    seeds: int,
    first_seed: int,
    output: str,
    boundary: str | None,
    as_json: bool,
    histories_path: str | None,
    csv_path: str | None,
    quiet: bool,
    **overrides: Any,
) -> None:
    """Train the 2-H-1 XOR network with each activation over many seeds, at once.

    Prints a table per activation (share of seeds solved, epochs to reach the
    loss threshold, final loss, dead hidden units, PReLU's learned slope) and
    writes the loss chart: median across seeds with the interquartile band.
    With --json the statistics go to stdout as JSON instead of the table.
    Ctrl-C stops after the current epoch, still writes what was computed and
    exits with code 130.

    \b
    Examples:
      actcheck train-xor relu leaky_relu tanh
      actcheck train-xor relu --preset classic --seeds 20 -o classic.png
      actcheck train-xor relu elu --hidden 2 --seeds 500 --json > xor.json
      actcheck train-xor relu --seeds 20 --histories losses.npz --csv seeds.csv
      actcheck train-xor prelu rrelu --loss bce --optimizer adam --lr 0.05
    """
    from actcheck import report, xor

    acts = selected(activations)
    # the remaining options (hidden, bias, loss, optimizer, lr, epochs, init, dtype, threshold)
    # override the preset's config; None means "the preset's"
    config = xor.make_config(preset, **overrides)
    xor.check_seeds(seeds, first_seed)
    xor.check_size(config, seeds, len(acts))
    check_output(output, "figure", figure=True)
    check_output(boundary, "decision-boundary figure", figure=True)
    check_output(histories_path, "histories file")
    check_output(csv_path, "CSV file")
    taken = stdout_taken(
        as_json, output=output, decision_boundary=boundary, histories=histories_path, csv=csv_path
    )

    messages = console(stderr=taken)  # stdout holds the JSON or the file named '-' alone
    bar = not quiet and console(stderr=True).is_terminal
    results = train_all(acts, config, seeds, first_seed, show_progress=bar)
    if not results:
        click.echo("Interrupted before the first epoch finished; nothing written.", err=True)
        exit_interrupted()
    interrupted = results[-1].interrupted or len(results) < len(acts)

    # files first, then the terminal: a closed stdout (| head, tee killed by Ctrl-C) loses nothing
    written = write_all(results, output, boundary, histories_path, csv_path)
    verdict(True, interrupted)
    if interrupted:
        messages.print(report.xor_interrupted(results))
    if as_json:
        echo_json(report.xor_json(results))
    else:
        messages.print(report.xor_table(results))
    if not quiet:
        messages.print(report.wrote(written))
    exit_with_verdict(True, interrupted)


def write_all(
    results: list[Any],
    output: str,
    boundary: str | None,
    histories_path: str | None,
    csv_path: str | None,
) -> list[str]:
    """Write the chart and every file asked for; the paths written, in order."""
    from actcheck import plotting, report, xor

    write_figure(plotting.xor_loss_figure(results), output, "figure", dpi=defaults.CHART_DPI)
    written = [output]
    if boundary is not None:
        figure = plotting.xor_boundary_figure(results)
        write_figure(figure, boundary, "decision-boundary figure", dpi=defaults.XOR_BOUNDARY_DPI)
        written.append(boundary)
    if histories_path is not None:
        from actcheck.files import write_npz

        arrays = xor.histories(results)
        write_output(histories_path, "histories file", lambda tmp: write_npz(tmp, arrays))
        written.append(histories_path)
    if csv_path is not None:
        write_text(csv_path, "CSV file", report.xor_csv(results))
        written.append(csv_path)
    return written


def train_all(
    acts: list[Activation], config: Any, seeds: int, first_seed: int, show_progress: bool
) -> list[Any]:
    """Train each activation in turn; stop at the first interrupted one (Ctrl-C).

    The progress bar (``show_progress``) goes to stderr.
    """
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
        with late_bar(len(acts) * config.epochs, "training") as update:
            for k, act in enumerate(acts):
                base = k * config.epochs
                update(base, f"{act.title} x {seeds} seeds")

                def tick(done: int, base: int = base) -> None:
                    if done % step == 0:
                        update(base + done)

                results.append(run(act, tick))
                if results[-1].interrupted:
                    break
    except KeyboardInterrupt:
        pass  # between two activations: keep the finished ones
    return [r for r in results if r.epochs_completed > 0]
