"""`actcheck gradcheck` through click's CliRunner: output, JSON, plot, exit codes."""

import dataclasses
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from actcheck import activations
from actcheck.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, ["gradcheck", *args])


def test_defaults_check_the_whole_catalog():
    r = run()
    assert r.exit_code == 0, r.output
    for name in activations.names():
        assert name in r.output
    assert "all passed" in r.output
    assert "0: left" in r.output  # relu's convention


def test_json_has_every_figure():
    r = run("relu", "elu:alpha=2", "--json", "--points", "300", "--seed", "5")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["passed"] is True
    relu, elu = data["results"]
    assert relu["seed"] == 5 and relu["dtype"] == "float64"
    check = relu["checks"][0]
    for key in ("points", "max_abs_error", "max_rel_error", "median_error_bound", "kinks", "worst"):
        assert key in check
    assert check["kinks"][0]["text"] == "relu'(0) = 0, the left derivative"
    assert [c["derivative"] for c in elu["checks"]] == ["d/dx", "d/d(alpha)"]


def test_float32_order_2_and_param_selection():
    r = run("softplus:beta=2", "--dtype", "float32", "--param", "beta", "--points", "200")
    assert r.exit_code == 0, r.output
    assert "d/d(beta)" in r.output
    r = run("elu", "--order", "2", "--points", "200")
    assert r.exit_code == 0 and "d²/dx²" in r.output
    r = run("elu", "--no-params", "--points", "200")
    assert r.exit_code == 0 and "d/d(alpha)" not in r.output


def test_failure_shows_worst_points_and_exits_1(monkeypatch):
    entry = activations.CATALOG["sigmoid"]
    bad = dataclasses.replace(entry, derivative=lambda x, p: 2 * entry.derivative(x, p))
    monkeypatch.setitem(activations.CATALOG, "sigmoid", bad)
    r = run("sigmoid", "--points", "200", "--worst", "3")
    assert r.exit_code == 1
    assert "FAIL" in r.output and "past bound" in r.output and "worst first" in r.output
    r = run("sigmoid", "--points", "200", "--json")
    assert r.exit_code == 1
    data = json.loads(r.output)
    assert data["passed"] is False and data["results"][0]["checks"][0]["failed"] > 0


def test_nan_and_inf_derivatives_fail_cleanly(monkeypatch):
    entry = activations.CATALOG["tanh"]

    def broken(x, p):
        d = entry.derivative(x, p)
        return np.where(x > 2, np.nan, np.where(x < -2, np.inf, d))

    monkeypatch.setitem(activations.CATALOG, "tanh", dataclasses.replace(entry, derivative=broken))
    r = run("tanh", "--points", "200", "--json")
    assert r.exit_code == 1, r.output
    check = json.loads(r.output)["results"][0]["checks"][0]
    assert check["failed"] > 0
    r = run("tanh", "--points", "200")
    assert r.exit_code == 1 and "Traceback" not in r.output


def test_wrong_subgradient_is_reported(monkeypatch):
    entry = activations.CATALOG["relu"]
    bad = dataclasses.replace(
        entry, derivative=lambda x, p: np.where(x == 0, 2.0, entry.derivative(x, p))
    )
    monkeypatch.setitem(activations.CATALOG, "relu", bad)
    r = run("relu", "--points", "100")
    assert r.exit_code == 1
    assert "outside the one-sided derivatives" in r.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--points", "0"], "--points"),
        (["--points", "-3"], "--points"),
        (["--points", "2.5"], "'2.5' is not a whole number"),
        (["--points", "nan"], "'nan' is not a whole number"),
        (["--points", "1e30"], "1e30 is not in the range 1<=x<="),
        (["--worst", "-1e0"], "-1e0 is not in the range x>=0"),
        (["--range", "1", "-1"], "MIN < MAX"),
        (["--range", "2", "2"], "MIN < MAX"),
        (["--range", "nan", "1"], "finite"),
        (["--range", "0"], "--range"),
        (["--step", "0"], "--step"),
        (["--step", "-1e-3"], "--step"),
        (["--safety", "0"], "--safety"),
        (["--safety", "-2"], "--safety"),
        (["--dtype", "float16"], "--dtype"),
        (["--order", "3"], "--order"),
        (["--distribution", "cauchy"], "--distribution"),
        (["reluu"], "unknown activation"),
        (["leaky_relu:slope=1"], "unknown parameter"),
        (["celu:alpha=-1"], "alpha"),
        (["relu", "--param", "alpha"], "no derivative for parameter 'alpha'"),
        (["elu", "--param", "alpha", "--no-params"], "exclude each other"),
        (["--plot", "/nonexistent-dir/x.png"], "does not exist"),
        (["--plot", "out.txt"], ".png"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args, message):
    r = run(*args)
    assert r.exit_code == 2, r.output
    lines = r.output.strip().splitlines()
    assert len(lines) == 1, r.output
    assert message in lines[0]
    assert "Traceback" not in r.output


@pytest.mark.parametrize("text", ["1e4", "10_000", "1.0e4", " 10000 "])
def test_counts_may_be_written_as_people_write_them(text):
    r = run("relu", "--no-params", "--points", text, "--json")
    assert r.exit_code == 0, r.output
    plain = json.loads(run("relu", "--no-params", "--points", "10000", "--json").stdout)
    assert json.loads(r.stdout)["results"][0]["points"] == plain["results"][0]["points"]


def test_plot_is_written_atomically(tmp_path):
    out = tmp_path / "grad.png"
    r = run("relu", "gelu", "--points", "200", "--plot", str(out))
    assert r.exit_code == 0, r.output
    assert out.stat().st_size > 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grad.png"]
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert f"Wrote {out}" in r.output


def test_plot_path_is_printed_as_it_is_not_as_markup(tmp_path):
    out = tmp_path / "[bold]grad.png"
    r = run("relu", "--points", "200", "--plot", str(out))
    assert r.exit_code == 0 and out.exists(), r.output
    assert f"Wrote {out}" in r.output


def test_same_command_same_numbers():
    a = json.loads(run("mish", "--json", "--seed", "3", "--points", "300").output)
    b = json.loads(run("mish", "--json", "--seed", "3", "--points", "300").output)
    for d in (a, b):
        for res in d["results"]:
            res.pop("seconds")
    assert a == b


def test_help_has_examples_and_needs_no_numpy():
    r = CliRunner().invoke(cli, ["gradcheck", "--help"])
    assert r.exit_code == 0 and "Examples:" in r.output
    code = (
        "import sys\n"
        "from actcheck.cli import cli\n"
        "try:\n    cli(['gradcheck', '--help'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'numpy' not in sys.modules and 'matplotlib' not in sys.modules\n"
    )
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("width", [80, 100, 160])
def test_table_fits_the_terminal_without_losing_a_column(width):
    """Names, kinks and verdicts survive an 80-column terminal (stacked layout under 110)."""
    from rich.console import Console

    import actcheck
    from actcheck import report

    results = [actcheck.gradcheck(s, points=200) for s in ("relu", "hardtanh", "softplus")]
    with open(os.devnull, "w") as sink:
        console = Console(width=width, record=True, color_system=None, file=sink)
        console.print(report.gradcheck_table(results, width=width))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    for needed in ("relu", "hardtanh", "softplus", "d/d(min_val)", "0: left", "-1: right", "pass"):
        assert needed in text, needed


def test_points_beyond_the_limit_are_refused():
    from actcheck import defaults

    r = run("relu", "--points", str(defaults.MAX_POINTS + 1))
    assert r.exit_code == 2
    assert "--points" in r.output


def test_a_streamed_run_reports_like_a_small_one_and_draws_no_bar_off_a_terminal(monkeypatch):
    from actcheck import catalogcheck
    from actcheck.cli import output

    monkeypatch.setattr(catalogcheck, "STREAM_POINTS", 5000)
    monkeypatch.setattr(output, "PROGRESS_AFTER", 0.0)
    r = run("relu", "--points", "20000", "--no-params")
    assert r.exit_code == 0, r.output
    assert "20,564" in r.output and "all passed" in r.output
    assert "━" not in r.output  # CliRunner is no terminal
    data = json.loads(run("relu", "--points", "20000", "--no-params", "--json").output)
    assert data["results"][0]["checks"][0]["points"] == 20564
    assert len(data["results"][0]["checks"][0]["worst"]) == 5


@pytest.mark.parametrize(
    ("args", "title"),
    [
        (["elu"], "f' and parameters"),
        (["elu", "--no-params"], "f',"),
        (["relu", "tanh"], "f',"),  # no parameter to check
        (["elu", "--order", "2"], "f'',"),
    ],
)
def test_the_title_says_what_was_checked(args, title):
    res = CliRunner().invoke(cli, ["gradcheck", *args, "--points", "200"], terminal_width=120)
    assert res.exit_code == 0, res.output
    assert f"actcheck gradcheck: {title}" in res.stdout.splitlines()[0]


def test_point_counts_are_never_cut_at_80_columns():
    """A long run's count (millions of points) keeps every digit in the compact table."""
    from rich.console import Console

    from actcheck import report
    from actcheck.catalogcheck import gradcheck

    results = [gradcheck("relu", points=5_000_000), gradcheck("elu", points=1000)]
    out = Console(width=80, record=True, force_terminal=False)
    out.print(report.gradcheck_table(results, width=80))
    text = out.export_text()
    assert "5,000,564" in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_a_bar_covers_every_activation_once_the_run_has_lasted(terminal):
    """On a terminal the bar appears once the run has lasted ``PROGRESS_AFTER`` (here at
    once), whatever the points per activation, and names the one being checked."""
    screen = terminal(0.0)
    r = run("relu", "tanh", "--points", "1000")
    assert r.exit_code == 0, r.output
    assert "gradcheck relu" in screen.getvalue() and "gradcheck tanh" in screen.getvalue()
