"""`actcheck train-xor` through click's CliRunner: outputs, exports, bad input, interruption."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from actcheck import xor
from actcheck.cli import cli

FAST = ["--seeds", "4", "--epochs", "30"]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def test_trains_prints_the_table_and_writes_everything(runner, tmp_path):
    args = ["train-xor", "relu", "prelu", *FAST, "-o", "loss.svg", "--decision-boundary", "b.png"]
    args += ["--histories", "r.npz", "--csv", "r.csv"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "solved" in res.output and "prelu" in res.output and "relu" in res.output
    assert "Wrote loss.svg, b.png, r.npz, r.csv" in res.output
    assert (tmp_path / "loss.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"
    # only the four outputs: no temporary files left behind
    assert sorted(os.listdir(tmp_path)) == ["b.png", "loss.svg", "r.csv", "r.npz"]


def test_default_chart_name_and_quiet(runner, tmp_path):
    res = runner.invoke(cli, ["train-xor", "tanh", *FAST, "--quiet"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "xor-loss.png").exists()
    assert "Wrote" not in res.output


def test_written_paths_are_printed_as_they_are_not_as_markup(runner, tmp_path):
    res = runner.invoke(cli, ["train-xor", "relu", *FAST, "-o", "[red]loss.png"])
    assert res.exit_code == 0, res.output
    assert "Wrote [red]loss.png" in res.output
    assert (tmp_path / "[red]loss.png").exists()


def test_json_on_stdout_holds_the_statistics(runner, tmp_path):
    res = runner.invoke(cli, ["train-xor", "relu", "prelu", *FAST, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # stdout holds the JSON and nothing else
    assert "Wrote xor-loss.png" in res.stderr and "solved" not in res.output
    assert data["config"]["epochs"] == 30 and data["config"]["threshold"] == 0.01
    relu, prelu = data["results"]
    assert relu["activation"] == "relu" and relu["seeds"] == 4
    direct = xor.train_xor("relu", seeds=4, epochs=30)
    assert relu["success_rate"] == direct.success_rate
    assert relu["per_seed"]["seed"] == [0, 1, 2, 3]
    assert relu["per_seed"]["final_loss"] == direct.final_loss.tolist()
    assert "losses" not in relu  # histories only when asked: --histories
    assert "slope" not in relu and prelu["slope"]["initial"] == 0.25
    assert sorted(os.listdir(tmp_path)) == ["xor-loss.png"]


def test_json_stays_small_with_many_seeds_and_epochs(runner):
    res = runner.invoke(cli, ["train-xor", "relu", "--seeds", "50", "--epochs", "400", "--json"])
    assert res.exit_code == 0, res.output
    assert len(res.stdout) < 20_000  # statistics only; 50 x 400 losses would be ~1 MB


def test_diverged_seeds_are_null_in_json(runner):
    res = runner.invoke(cli, ["train-xor", "relu", *FAST, "--lr", "1e200", "--json", "-q"])
    assert res.exit_code == 0, res.output
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout
    (relu,) = json.loads(res.stdout)["results"]
    assert relu["final_loss_median"] is None and None in relu["per_seed"]["final_loss"]


def test_histories_npz_contents(runner, tmp_path):
    import numpy as np

    res = runner.invoke(cli, ["train-xor", "relu", "prelu", *FAST, "--histories", "h.npz", "-q"])
    assert res.exit_code == 0, res.output
    with np.load(tmp_path / "h.npz") as h:
        direct = xor.train_xor("relu", seeds=4, epochs=30)
        np.testing.assert_array_equal(h["relu/losses"], direct.losses)
        assert h["relu/seeds"].tolist() == [0, 1, 2, 3] and h["prelu/slopes"].shape == (4, 31)
    first = (tmp_path / "h.npz").read_bytes()
    runner.invoke(cli, ["train-xor", "relu", "prelu", *FAST, "--histories", "h.npz", "-q"])
    assert (tmp_path / "h.npz").read_bytes() == first  # same arguments, same bytes


def test_csv_contents(runner, tmp_path):
    res = runner.invoke(cli, ["train-xor", "relu", "prelu", *FAST, "--csv", "r.csv", "-q"])
    assert res.exit_code == 0, res.output
    with open(tmp_path / "r.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    assert header[:8] == [
        "activation", "seed", "success", "final_loss", "epochs_to_threshold",
        "dead_init", "dead_final", "final_slope",
    ]  # fmt: skip
    assert header[-1] == "loss_29" and len(rows) == 1 + 2 * 4
    direct = xor.train_xor("prelu", seeds=4, epochs=30)
    row = rows[1 + 4 + 1]  # prelu, seed 1
    assert row[0] == "prelu" and row[1] == "1"
    assert [float(v) for v in row[8:]] == direct.losses[1].tolist()
    assert float(row[7]) == direct.weights["slope"][1]
    assert rows[1][7] == ""  # relu has no slope


def test_preset_classic_and_overrides(runner, tmp_path):
    res = runner.invoke(
        cli, ["train-xor", "relu", "--preset", "classic", "--seeds", "3", "--json", "-q"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["config"]["hidden"] == 30 and data["config"]["epochs"] == 200
    assert not data["config"]["bias"]
    res = runner.invoke(
        cli, ["train-xor", "relu", "--preset", "classic", "--epochs", "7", "--bias", "-q",
              "--seeds", "2", "--json"],
    )  # fmt: skip
    data = json.loads(res.stdout)
    assert data["config"]["epochs"] == 7 and data["config"]["bias"]
    assert data["config"]["lr"] == 0.002


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hidden", "0"], "hidden width must be a positive integer"),
        (["--hidden", "-2"], "hidden width must be a positive integer"),
        (["--epochs", "0"], "epochs must be a positive integer"),
        (["--seeds", "0"], "seeds must be a positive integer"),
        (["--seeds", "-5"], "seeds must be a positive integer"),
        (["--lr", "0"], "learning rate must be a positive number"),
        (["--lr", "-0.1"], "learning rate must be a positive number"),
        (["--lr", "nan"], "learning rate must be a positive number"),
        (["--threshold", "-1"], "loss threshold must be a positive number"),
        (["--first-seed", "-1"], "seeds must lie in"),
        (["--loss", "hinge"], "'hinge' is not one of"),
        (["--optimizer", "rmsprop"], "'rmsprop' is not one of"),
        (["--init", "zeros"], "'zeros' is not one of"),
        (["--epochs", "ten"], "'ten' is not a whole number"),
        (["--seeds", "2.5"], "'2.5' is not a whole number"),
        (["nosuch"], "unknown"),
        (["-o", "missing/dir/loss.png"], "does not exist"),
        (["-o", "."], "is a directory"),
        (["--histories", "missing/r.npz"], "does not exist"),
        (["--csv", "missing/r.csv"], "does not exist"),
        (["--decision-boundary", "missing/b.png"], "does not exist"),
    ],
)
def test_bad_input_one_line_exit_2_no_files(runner, tmp_path, args, message):
    res = runner.invoke(cli, ["train-xor", "relu", *FAST, *args])
    assert res.exit_code == 2, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:"), res.output
    assert message.lower() in lines[0].lower()
    assert "Traceback" not in res.output
    assert os.listdir(tmp_path) == []


def test_unwritable_directory(runner, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        res = runner.invoke(cli, ["train-xor", "relu", *FAST, "-o", str(locked / "x.png")])
        assert res.exit_code == 2 and "permission denied" in res.output
    finally:
        locked.chmod(0o700)


@pytest.mark.parametrize("stage", ["savefig", "png"])
def test_failed_write_leaves_no_partial_file(runner, tmp_path, monkeypatch, stage):
    """The disk fills up half-way: in matplotlib's savefig, or in the PNG writer after it."""
    from matplotlib.figure import Figure

    from actcheck import plotting

    def half_then_fail(fname):
        if hasattr(fname, "write"):  # savefig into actcheck's buffer
            fname.write(b"half a png")
        else:
            with open(fname, "wb") as fh:
                fh.write(b"half a png")
        raise OSError("disk full")

    if stage == "savefig":
        monkeypatch.setattr(Figure, "savefig", lambda self, fname, **kw: half_then_fail(fname))
    else:

        def chunks_then_full(rows, width, channels, dpi):
            yield b"half a png"
            raise OSError("disk full")

        monkeypatch.setattr(plotting, "_png_chunks", chunks_then_full)
    res = runner.invoke(cli, ["train-xor", "relu", *FAST, "-o", "loss.png"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines()[-1] == "Error: cannot write figure 'loss.png': disk full"
    assert os.listdir(tmp_path) == []


def test_ctrl_c_writes_what_was_computed_and_exits_130(runner, tmp_path, monkeypatch):
    real = xor.train_xor

    def interrupted(act, **kwargs):
        def hook(done):
            if act.name == "tanh" and done == 12:
                raise KeyboardInterrupt

        return real(act, **{**kwargs, "progress": hook})

    monkeypatch.setattr(xor, "train_xor", interrupted)
    args = ["train-xor", "relu", "tanh", "elu", *FAST, "--histories", "h.npz", "--csv", "r.csv"]
    res = runner.invoke(cli, args)
    assert res.exit_code == 130, res.output  # interrupted, what was computed still written
    assert "Interrupted" in res.output and "interrupted at" in res.output
    res = runner.invoke(cli, [*args, "--json"])
    assert res.exit_code == 130, res.output
    assert "Interrupted" in res.stderr
    data = json.loads(res.stdout)
    assert [r["activation"] for r in data["results"]] == ["relu", "tanh"]
    relu, tanh = data["results"]
    assert relu["epochs_completed"] == 30 and not relu["interrupted"]
    assert tanh["epochs_completed"] == 12 and tanh["interrupted"]
    with np.load(tmp_path / "h.npz") as h:
        assert h["tanh/losses"].shape == (4, 12) and "elu/losses" not in h
    assert (tmp_path / "xor-loss.png").exists() and (tmp_path / "r.csv").exists()


def test_help_has_examples():
    res = CliRunner().invoke(cli, ["train-xor", "--help"])
    assert res.exit_code == 0
    assert "Examples:" in res.output and "--preset" in res.output


def test_help_defaults_match_the_api_defaults():
    res = CliRunner().invoke(cli, ["train-xor", "--help"])
    text = " ".join(res.output.split())
    d = xor.DEFAULT
    assert f"Hidden width H. [default: {d.hidden}]" in text
    assert f"Learning rate. [default: {d.lr:g}]" in text
    assert f"Training iterations. [default: {d.epochs}]" in text
    assert f"[default: {d.loss}]" in text and f"[default: {d.optimizer}]" in text
    assert f"[default: {d.init}]" in text and f"[default: {d.dtype}]" in text
    assert "[default: bias]" in text and d.bias
    for loss, thr in xor.LOSS_THRESHOLDS.items():
        assert f"{thr:g} {loss}" in text


def test_one_epoch_float32_with_boundaries(runner, tmp_path):
    args = ["train-xor", "relu", "prelu", "--epochs", "1", "--seeds", "1", "--dtype", "float32"]
    res = runner.invoke(cli, [*args, "--decision-boundary", "b.png", "--no-bias", "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "b.png").exists() and (tmp_path / "xor-loss.png").exists()


def test_progress_bar_path(terminal):
    from actcheck import get
    from actcheck.cli.train_xor import train_all

    screen = terminal(0.0)
    config = xor.make_config(epochs=20)
    results = train_all([get("relu"), get("tanh")], config, 3, 0, show_progress=True)
    assert [r.epochs_completed for r in results] == [20, 20]
    assert "Tanh x 3 seeds" in screen.getvalue()  # drawn, then cleared (transient)


def test_a_short_run_draws_no_bar(terminal):
    """The bar waits for a run to last PROGRESS_AFTER seconds: a short one draws nothing."""
    from actcheck import get
    from actcheck.cli.output import late_bar
    from actcheck.cli.train_xor import train_all

    screen = terminal(60.0)
    train_all([get("relu")], xor.make_config(epochs=20), 3, 0, show_progress=True)
    assert screen.getvalue() == ""
    screen = terminal(0.0)
    with late_bar(10, "work") as update:
        update(5, "half way")
    assert "half way" in screen.getvalue()


@pytest.mark.parametrize("option", ["-o", "--decision-boundary"])
def test_bad_figure_extension_fails_before_training(tmp_path, option):
    result = CliRunner().invoke(
        cli, ["train-xor", "relu", "--seeds", "2", option, str(tmp_path / "x.gif")]
    )
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "use one of .png, .svg, .pdf" in result.output
    assert "solved" not in result.output  # no table: nothing was trained
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_before_the_first_epoch_writes_nothing(runner, tmp_path, monkeypatch):
    def interrupted(act, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(xor, "train_xor", interrupted)
    res = runner.invoke(cli, ["train-xor", "relu", *FAST, "--json"])
    assert res.exit_code == 130 and res.stdout == ""
    assert "nothing written" in res.stderr and os.listdir(tmp_path) == []
