"""Rich renderables and JSON-ready data built from actcheck's objects.

Functions here build and return renderables; the CLI owns the Console. rich is imported
inside the functions that use it: ``actcheck plot`` reads one line from here and never needs it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from actcheck.formula import plain

if TYPE_CHECKING:
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    from actcheck.activations import Activation
    from actcheck.catalogcheck import GradcheckResult
    from actcheck.numdiff import ElementwiseResult, WorstPoint


def _num(v: float) -> str:
    """Short but faithful: 6 significant digits unless that would hide a difference (σ(20) ≠ 1)."""
    for digits in (6, 10):
        text = f"{v:.{digits}g}"
        if float(text) == v:
            return text
    return repr(float(v))


def _val(v: float | str) -> str:
    return v if isinstance(v, str) else _num(v)


def activation_table(acts: Sequence[Activation]) -> Table:
    """One row per activation: parameters, smoothness, kinks with the derivative used, formula."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="actcheck catalog", show_lines=True, title_style="bold", expand=False)
    table.add_column("activation", style="bold cyan", no_wrap=True)
    table.add_column(escape("parameters [range]"), overflow="fold")
    table.add_column("kinks: value used (f'(x-) | f'(x+))", overflow="fold")
    table.add_column("formula", overflow="fold", ratio=1)
    for act in acts:
        info = act.to_dict()
        params = "\n".join(
            f"{p['name']}={_val(p['value'])}"
            + (f" (default {_val(p['default'])})" if p["value"] != p["default"] else "")
            + escape(f" [{p['range']}]")
            + (" learnable" if p["learnable"] else "")
            for p in info["params"]
        )
        kinks = "\n".join(
            ("f''" if k["order"] == 2 else "f'")
            + f"({_num(k['x'])}) = {_num(k['value'])}, {k['convention'].removeprefix('the ')}"
            + f" ({_num(k['left'])} | {_num(k['right'])})"
            + (f", f jumps {k['jump']:.3g}" if k["jump"] else "")
            for k in info["kinks"]
        )
        table.add_row(
            f"{act.name}\n[dim]{act.title}\n{info['smoothness'].split(' but ')[0]}[/dim]",
            params or "[dim]-[/dim]",
            kinks or "[dim]none[/dim]",
            f"{plain(info['formula'])}\n[dim]f' = {plain(info['derivative_formula'])}[/dim]",
        )
    return table


def activations_json(acts: Sequence[Activation]) -> list[dict[str, Any]]:
    """JSON-ready description of each activation (see ``Activation.to_dict``)."""
    return [act.to_dict() for act in acts]


# ---------------------------------------------------------------------------
# train-xor: summary table, JSON and CSV exports
# ---------------------------------------------------------------------------


def xor_setup(config: Any, seeds: Sequence[int]) -> str:
    """One line describing a train-xor run, e.g. ``2-4-1 with biases, sse, sgd lr=0.01, ...``."""
    c = config
    seed_text = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}..{seeds[-1]}"
    return (
        f"2-{c.hidden}-1 {'with' if c.bias else 'without'} biases, {c.loss} loss, "
        f"{c.optimizer} lr={c.lr:g}, {c.init} init, {c.epochs} epochs, {seed_text}, {c.dtype}"
    )


def _pct(v: float) -> str:
    return f"{100 * v:.0f}%"


def _loss_text(v: float) -> str:
    return "diverged" if not math.isfinite(v) else f"{v:.2g}"


def _xor_name(act: Any) -> str:
    # parameters on a second line keep the first column narrow
    name, _, params = act.spec.partition(":")
    return name + (f"\n[dim]{params.replace(',', chr(10))}[/dim]" if params else "")


def xor_table(results: Sequence[Any]) -> Group:
    """One row per activation: success, epochs to the threshold, final loss, dead units,
    learned slope; then a few lines saying what the columns mean."""
    from rich import box
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    first = results[0]
    table = Table(
        title=f"XOR: {xor_setup(first.config, [int(s) for s in first.seeds])}",
        title_style="bold",
        box=box.SIMPLE_HEAVY,
        show_edge=False,
        collapse_padding=True,
    )
    table.add_column("activation", style="bold cyan", no_wrap=True)
    table.add_column("solved", justify="right", no_wrap=True)
    table.add_column(f"epochs to\n<= {first.threshold:g}\n(never)", justify="right", no_wrap=True)
    table.add_column("final loss\nmedian\n\\[q1, q3]", justify="right", no_wrap=True)
    table.add_column("dead\nunits", justify="right", no_wrap=True)
    has_slope = any(r.slopes is not None for r in results)
    if has_slope:
        table.add_column("learned\nslope", justify="right", no_wrap=True)
    for r in results:
        s = r.to_dict()
        med = s["median_epochs_to_threshold"]
        q1, fmed, q3 = s["final_loss_q1"], s["final_loss_median"], s["final_loss_q3"]
        rate = s["success_rate"]
        style = "green" if rate >= 0.95 else "yellow" if rate >= 0.5 else "red"
        row = [
            _xor_name(r.activation),
            f"[{style}]{_pct(rate)}[/{style}]",
            ("-" if med is None else f"{med:.0f}") + f" ({s['never_reached_threshold']})",
            f"{_loss_text(fmed)}\n[dim]\\[{_loss_text(q1)}, {_loss_text(q3)}][/dim]",
            f"{_pct(s['dead_init'])}\n→{_pct(s['dead_final'])}",
        ]
        if has_slope:
            sl = s.get("slope")
            row.append(
                "[dim]-[/dim]"
                if sl is None
                else f"{sl['initial']:.2g} → {sl['final_median']:.2g}\n"
                f"[dim]\\[{sl['final_q1']:.2g}, {sl['final_q3']:.2g}][/dim]"
            )
        if r.interrupted:
            row[0] += f"\n[yellow]interrupted at\nepoch {r.epochs_completed}[/yellow]"
        table.add_row(*row)
    legend = Text.from_markup(
        "[dim]solved: all four points on the right side of 0.5 after training. "
        f"epochs to <= {first.threshold:g}: median over the seeds that reach that loss "
        "(in brackets, how many never do). \\[q1, q3]: 25th and 75th percentiles over seeds. "
        "dead units: pre-activation <= 0 on all four inputs, at initialisation → after "
        "training."
        + (" learned slope: PReLU's weight, initial → median final." if has_slope else "")
        + "[/dim]"
    )
    return Group(table, legend)


def xor_interrupted(results: Sequence[Any]) -> str:
    """The line printed when Ctrl-C stopped training: what is still written."""
    done = ", ".join(r.activation.name for r in results)
    return (
        f"[yellow]Interrupted: writing what was computed ({done}; "
        f"{results[-1].epochs_completed} epochs of the last).[/yellow]"
    )


def xor_json(results: Sequence[Any]) -> dict[str, Any]:
    """train-xor's ``--json``: the config and each activation's statistics, per-seed
    statistics included; the loss histories are not (``--histories`` writes them)."""
    return {"config": results[0].config.to_dict(), "results": [r.to_dict() for r in results]}


def xor_csv(results: Sequence[Any]) -> str:
    """``xor_csv_rows`` as CSV text."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf).writerows(xor_csv_rows(results))
    return buf.getvalue()


def xor_csv_rows(results: Sequence[Any]) -> list[list[Any]]:
    """Header and one row per (activation, seed): per-seed statistics, then loss_0 .. loss_{T-1}."""
    epochs = max(r.epochs_completed for r in results)
    stat_keys = ["seed", "success", "final_loss", "epochs_to_threshold", "dead_init", "dead_final"]
    slope = any(r.slopes is not None for r in results)
    header = ["activation", *stat_keys] + (["final_slope"] if slope else [])
    rows: list[list[Any]] = [header + [f"loss_{t}" for t in range(epochs)]]
    for r in results:
        seeds = r.per_seed()
        for i in range(len(r.seeds)):
            row: list[Any] = [r.activation.spec]
            row += [_csv_value(seeds[k][i]) for k in stat_keys]
            if slope:
                row.append(_csv_value(seeds["final_slope"][i]) if r.slopes is not None else "")
            row += [repr(float(v)) for v in r.losses[i]]
            rows.append(row)
    return rows


def _csv_value(v: Any) -> Any:
    if hasattr(v, "dtype") and v.dtype.kind == "b":
        return int(v)
    if hasattr(v, "dtype") and v.dtype.kind == "f":
        return repr(float(v))
    return v.item() if hasattr(v, "item") else v


# ---------------------------------------------------------------------------
# plot
# ---------------------------------------------------------------------------


def wrote(paths: list[str]) -> Text:
    """``Wrote PATH, PATH``: the files a command wrote (``-``: stdout), in order (plain
    text: a path such as ``[red]x.png`` is not markup)."""
    from rich.text import Text

    return Text("Wrote " + ", ".join("stdout" if p == "-" else p for p in paths))


def wrote_figure(path: str, fmt: str, fig: Any, dpi: float) -> str:
    """``Wrote PATH (PNG, WxH px)``, or the size in inches for vector formats (ASCII: any
    terminal shows it)."""
    w, h = fig.get_size_inches()
    if fmt == "png":
        from actcheck.plotting import pixel_size  # the figure exists: matplotlib is loaded

        size = "PNG, {}x{} px".format(*pixel_size(fig, dpi))
    else:
        size = f"{fmt.upper()}, {w:.1f}x{h:.1f} in"
    return f"Wrote {path} ({size})"


# ---------------------------------------------------------------------------
# gradcheck
# ---------------------------------------------------------------------------


_SHORT_CONVENTION = {
    "the left derivative": "left",
    "the right derivative": "right",
    "the midpoint": "midpoint",
    "between the one-sided derivatives": "between",
    "both one-sided derivatives agree": "both",
    "both one-sided derivatives, equal at this precision": "both",
}


def _spec_cell(act: Activation) -> str:
    """The name, and non-default parameters on a dim line of their own (never cut mid-word)."""
    from rich.markup import escape

    name, _, params = act.spec.partition(":")
    return name + (f"\n[dim]{escape(params.replace(',', ', '))}[/dim]" if params else "")


def _kink_cell(result: GradcheckResult, check: ElementwiseResult) -> str:
    """Compact: ``0: left`` per kink (the full sentence is in --json and the failure list)."""
    cells: list[str] = []
    for k in result.kink_reports(check):
        short = _SHORT_CONVENTION.get(k.convention, "outside")
        text = f"{k.x + 0.0:g}: {short}"
        if not k.passed:
            text = f"[red]{text}{'' if k.sides_match else ' (sides)'}[/red]"
        if text not in cells:
            cells.append(text)
    return ", ".join(cells) or "[dim]-[/dim]"


def _ratio(c: ElementwiseResult) -> str:
    m = c.max_excess
    text = "inf" if m == float("inf") else f"{m:.2g}"
    return text if m <= 1 else f"[red]{text}[/red]"


# below this terminal width the table stacks each activation above its checks
GRADCHECK_WIDE = 110


def gradcheck_table(results: Sequence[GradcheckResult], width: int | None = None) -> Table:
    """One row per activation and derivative: points, errors, bound, verdict, kinks.

    ``width``: the terminal's; under GRADCHECK_WIDE columns the activation gets a row of
    its own above its checks, so the table fits 80 columns without dropping a column.
    """
    from rich import box
    from rich.table import Table

    title = "actcheck gradcheck"
    if results:
        r0 = results[0]
        with_params = any(c.wrt != "x" for r in results for c in r.checks)
        order = "f''" if r0.order == 2 else "f' and parameters" if with_params else "f'"
        title += f": {order}, {r0.dtype}, seed {r0.seed}"
    compact = width is not None and width < GRADCHECK_WIDE
    table = Table(
        title=title, title_style="bold", box=box.SIMPLE_HEAD, pad_edge=False,
        padding=0 if compact else (0, 1),  # compact: the box's space divider is the gap
    )  # fmt: skip
    if not compact:
        table.add_column("activation", style="bold cyan", overflow="fold")
    # compact: fixed widths (figures 7 wide, counts as wide as the largest), the kinks
    # column takes the rest
    table.add_column("check", overflow="fold", no_wrap=not compact, width=15 if compact else None)
    # relative figures only: an absolute |diff| of 8e18 at x = 1e30 is a relative 1e-11
    # (a billion points is 13 characters)
    counts = max((len(f"{c.n_points:,}") for r in results for c in r.checks), default=7)
    for header, wide in (("points", max(7, counts)), ("max rel", 7), ("worst /bound", 7)):
        table.add_column(
            header, justify="right", no_wrap=not compact, width=wide if compact else None
        )
    table.add_column("verdict", no_wrap=not compact, width=7 if compact else None)
    table.add_column("kinks: value used", min_width=10, ratio=1 if compact else None)
    for r in results:
        name = _spec_cell(r.activation)
        if r.interrupted:  # Ctrl-C came while it ran: its checks cover part of the points
            name += "\n[yellow]interrupted[/yellow]"
        if compact:
            table.add_row(f"[bold cyan]{name}[/bold cyan]")
        for i, c in enumerate(r.checks):
            if c.passed:
                verdict = "[green]pass[/green]"
            elif c.n_failed:
                verdict = f"[bold red]FAIL {c.n_failed:,}[/bold red]"
            else:
                verdict = "[bold red]FAIL kink[/bold red]"
            cells = [
                r.label(c),
                f"{c.n_points:,}",
                f"{c.max_rel_error:.1e}",
                _ratio(c),
                verdict,
                _kink_cell(r, c),
            ]
            if compact:
                cells[0] = "  " + cells[0]
            else:
                cells.insert(0, name if i == 0 else "")
            table.add_row(*cells)
    table.caption = (
        "max rel: largest |analytic - numerical| / |f'|; worst/bound: largest |analytic - "
        "numerical| in units of that point's error bound (> 1 fails); kinks: the one-sided "
        "derivative the analytic value equals; absolute figures: --json"
    )
    return table


def gradcheck_failures(results: Sequence[GradcheckResult], worst: int = 5) -> list[Table]:
    """For each failed check, a table of its worst points: how far past the bound they are."""
    from rich.table import Table

    tables = []
    for r in results:
        for c in r.checks:
            if c.passed or worst <= 0:
                continue
            points = [w for w in c.worst(worst) if not w.passed]
            t = Table(
                title=f"{r.activation.spec} {r.label(c)}: {c.n_failed:,} of {c.n_points:,} "
                "points outside the error bound (worst first)",
                title_style="bold red",
            )
            for col in ("x", "analytic", "numerical", "|diff|", "bound", "past bound", "why"):
                t.add_column(col, justify="right" if col != "why" else "left")
            for w in points:
                past = "inf" if w.excess == float("inf") else f"{w.excess:.3g}x"
                t.add_row(
                    f"{w.x:.10g}",
                    f"{w.analytic:.10g}",
                    f"{w.numerical:.10g}",
                    f"{w.error:.3g}",
                    f"{w.bound:.3g}",
                    past,
                    f"{w.verdict} ({w.method})",
                )
            for k in r.kink_reports(c):
                if not k.passed:
                    t.add_row(
                        f"{k.x:.10g}",
                        f"{k.analytic:.10g}",
                        f"{k.left:.6g} | {k.right:.6g}",
                        "",
                        "",
                        "",
                        "kink: "
                        + k.convention
                        + ("" if k.sides_match else "; one-sided values differ from the catalog's"),
                    )
            tables.append(t)
    return tables


def gradcheck_summary(results: Sequence[GradcheckResult], seconds: float) -> str:
    """One closing line: how many checks, points, failures, time."""
    checks = [c for r in results for c in r.checks]
    failed = [c for c in checks if not c.passed]
    points = sum(c.n_points for c in checks)
    head = f"{_plural(len(results), 'activation')}, {_plural(len(checks), 'check')}, "
    head += f"{points:,} point checks in {seconds:.3f} s: "
    tail = " [yellow](interrupted)[/yellow]" if any(r.interrupted for r in results) else ""
    if not failed:
        return head + "[bold green]all passed[/bold green]" + tail
    return head + f"[bold red]{len(failed)} failed[/bold red]" + tail


def gradcheck_interrupted(results: Sequence[GradcheckResult], asked: int) -> str:
    """The line for a run cut short: how many activations were checked, and how much of the
    one that was running when Ctrl-C came."""
    done = [r for r in results if not r.interrupted]
    text = f"Interrupted: {len(done)} of {asked} activations checked"
    for r in results:
        if r.interrupted:
            text += f", {r.activation.spec} partly ({r.coverage()})"
    return text + "; reporting (and plotting) those."


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def gradcheck_json(results: Sequence[GradcheckResult], worst: int = 5) -> dict[str, Any]:
    """Every figure of every check (see ``GradcheckResult.to_dict``), NaN and inf as None."""
    from actcheck.jsonout import jsonable

    return jsonable(
        {
            "passed": all(r.passed for r in results),
            "results": [r.to_dict(worst) for r in results],
        }
    )


def _worst_text(w: WorstPoint) -> str:
    head = f"x={w.x:.17g}: analytic {w.analytic:.6g}, numerical {w.numerical:.6g}"
    if not math.isfinite(w.error):
        return f"{head}: not a finite difference ({w.verdict})"
    past = "inf x" if not math.isfinite(w.excess) else f"{w.excess:.3g}x"
    return (
        f"{head}, |diff| {w.error:.6g} > bound {w.bound:.6g} "
        f"({past} the bound, {w.verdict}, {w.method})"
    )


def gradcheck_text(result: GradcheckResult, worst: int = 5) -> str:
    """Plain multi-line text: verdict per check, the worst points of failed ones, the kinks."""
    act = result.activation
    status = "passed" if result.passed else "FAILED"
    if result.interrupted:
        status += f" (interrupted after {result.coverage()})"
    lines = [
        f"gradcheck {act.spec} ({result.dtype}, {result.n_points:,} points, seed {result.seed}): "
        f"{status}"
    ]
    for c in result.checks:
        if c.passed:
            line = (
                f"pass at {c.n_points:,} points (max rel {c.max_rel_error:.3g}, "
                f"worst/bound {c.max_excess:.3g})"
            )
        else:
            line = f"{c.n_failed:,} of {c.n_points:,} points outside the bound"
        lines.append(f"  {result.label(c)}: {line}")
        if not c.passed:
            lines += [f"    {_worst_text(w)}" for w in c.worst(worst) if not w.passed]
        name = act.name if c.wrt == "x" else f"{act.name}[{c.wrt}]"
        for k in result.kink_reports(c):
            flag = "" if k.passed else "  <-- FAILED"
            lines.append(
                f"    kink: {k.summary(name)} (one-sided {k.left:.10g} | {k.right:.10g}){flag}"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# gradcheck --impl: the user's own layer (actcheck.implcheck.ImplResult)
# ---------------------------------------------------------------------------

_IMPL_STATUS = {
    "pass": "[green]pass[/green]",
    "fail": "[bold red]FAIL[/bold red]",
    "warn": "[yellow]warn[/yellow]",
    "skip": "[dim]skip[/dim]",
}


def impl_report(result: Any) -> Any:
    """The checks as a table, then each failure and warning: bug class, place, worst points."""
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    checked = getattr(result, "checked", ("x", *result.params))
    params = ", ".join(checked) if checked else "none found"
    head = (
        f"[bold]{escape(result.target)}[/bold] ({result.kind}), x of shape "
        f"{tuple(result.shape)} {result.dtype}, seed {result.seed}\n"
        f"[dim]elementwise: {_yes_no(result.elementwise)}; derivative checked by "
        f"{result.method or '-'}; checked: {escape(params)}[/dim]"
    )
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("check", no_wrap=True)
    table.add_column("result", no_wrap=True)
    table.add_column("details")
    for c in result.checks:
        table.add_row(escape(c.name), _IMPL_STATUS[c.status], escape(c.details))
    parts: list[Any] = [head, table]
    for c in result.checks:
        if c.status not in ("fail", "warn"):
            continue
        lines = []
        if c.bug:
            lines.append(f"[bold]bug:[/bold] {escape(c.bug)}")
        if c.where:
            lines.append(f"[bold]where:[/bold] {escape(c.where)}")
        body: list[Any] = ["\n".join(lines)] if lines else []
        if c.worst:
            body.append(_worst_table(c.worst))
        style = "red" if c.status == "fail" else "yellow"
        parts.append(
            Panel(
                Group(*body),
                title=f"{c.status.upper()}: {escape(c.name)}",
                border_style=style,
                title_align="left",
                expand=False,
            )
        )
    n_fail = len(result.failures)
    verdict = (
        "[bold green]PASS[/bold green]: backward agrees with forward"
        if result.passed
        else f"[bold red]FAIL[/bold red]: {n_fail} check{'s' * (n_fail != 1)} failed ("
        + ", ".join(escape(c.name) for c in result.failures)
        + ")"
    )
    if result.interrupted:  # Ctrl-C: the verdict covers the checks done
        verdict = "[yellow]INTERRUPTED[/yellow], the checks before it: " + verdict
    if result.warnings:
        verdict += (
            f" [yellow]({len(result.warnings)} warning{'s' * (len(result.warnings) != 1)})[/yellow]"
        )
    if result.printed:
        parts.append(_printed_note(result.printed))
    parts.append(verdict)
    return Group(*parts)


def _printed_note(text: str) -> str:
    """The user's own print() output, kept apart from the report (first lines only)."""
    from rich.markup import escape

    lines = text.rstrip("\n").splitlines()
    shown = "\n".join(f"  {escape(line[:200])}" for line in lines[:PRINTED_LINES])
    more = f"\n  [dim]... {len(lines) - PRINTED_LINES} more lines[/dim]" * (
        len(lines) > PRINTED_LINES
    )
    n = f"{len(lines)} line{'s' * (len(lines) != 1)}"
    return f"[dim]note: your code printed {n} during the check:[/dim]\n{shown}{more}"


PRINTED_LINES = 5


def _yes_no(v: bool | None) -> str:
    return "-" if v is None else ("yes" if v else "no")


def _cell(v: Any) -> str:
    # six digits are plenty to read an error off; parameter tables print faithful values instead
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _worst_table(worst: list[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title="worst points", title_justify="left", box=None, header_style="bold")
    keys = list(worst[0])
    for k in keys:
        table.add_column(k, justify="right")
    for w in worst:
        table.add_row(*(_cell(w.get(k, "")) for k in keys))
    return table


def impl_interrupted(result: Any) -> str:
    """The line for an --impl check cut short by Ctrl-C: how many checks it reports."""
    if not result.interrupted:  # the check had just finished
        return "Interrupted after the check finished; reporting it."
    done = len(result.checks) - 1  # the last row says where Ctrl-C came
    return (
        f"Interrupted: reporting the {done} check{'s' * (done != 1)} done before it "
        f"({result.checks[-1].details})."
    )


def impl_json(result: Any) -> dict[str, Any]:
    """JSON-ready data of an ImplResult: strict JSON, NaN and infinities as null."""
    from actcheck.jsonout import jsonable

    return jsonable(result.to_dict())


def impl_text(result: Any) -> str:
    """The failures and warnings as plain text (``assert_impl``'s message)."""
    lines = [
        f"{result.target} ({result.kind}), shape {tuple(result.shape)}, {result.dtype}: "
        + ("interrupted, the checks before it: " if result.interrupted else "")
        + ("PASS" if result.passed else "FAIL")
    ]
    for c in result.checks:
        if c.status in ("fail", "warn"):
            lines.append(f"  {c.status.upper()} {c.name}: {c.details}")
            if c.bug:
                lines.append(f"    bug: {c.bug}")
            if c.where:
                lines.append(f"    where: {c.where}")
            lines.extend(
                "    " + ", ".join(f"{k}={_cell(v)}" for k, v in w.items()) for w in c.worst
            )
    if result.printed:
        lines.append(f"  note: your code printed {len(result.printed.splitlines())} lines")
    return "\n".join(lines)
