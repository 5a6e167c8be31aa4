"""The rules every command shares (actcheck/cli/core.py): exit codes, --json, scoped options."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from actcheck.cli import cli
from actcheck.cli.core import Command, ScopedOption, only_in_scope
from actcheck.errors import InputError


def _command(raise_: BaseException) -> click.Command:
    @click.command(cls=Command)
    def boom() -> None:
        raise raise_

    return boom


def test_input_error_is_one_line_and_exit_2():
    res = CliRunner().invoke(_command(InputError("bad --thing: use 1..3")))
    assert res.exit_code == 2
    assert res.output == "Error: bad --thing: use 1..3\n"


def test_other_errors_are_not_called_bad_input():
    res = CliRunner().invoke(_command(ValueError("a bug in actcheck")))
    assert res.exit_code == 1 and isinstance(res.exception, ValueError)


def test_ctrl_c_exits_130_not_1(monkeypatch):
    from actcheck import report

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "activation_table", interrupted)
    res = CliRunner().invoke(cli, ["list", "relu"])
    assert res.exit_code == 130 and "Interrupted." in res.stderr


def test_scoped_options_are_refused_outside_their_scope_without_a_list():
    @click.command(cls=Command)
    @click.option("--mode", default="a")
    @click.option("--only-b", cls=ScopedOption, scope="b", type=int, default=0)
    @click.pass_context
    def cmd(ctx: click.Context, **_: object) -> None:
        kept = only_in_scope(
            ctx, ctx.params["mode"], {"a": "needs --mode a", "b": "needs --mode b"}
        )
        click.echo(sorted(kept))

    runner = CliRunner()
    assert runner.invoke(cmd, ["--mode", "b", "--only-b", "3"]).output == "['mode', 'only_b']\n"
    assert runner.invoke(cmd, []).output == "['mode']\n"  # left at its default: fine
    res = runner.invoke(cmd, ["--only-b", "3"])
    assert res.exit_code == 2 and res.output == "Error: --only-b needs --mode b\n"


@pytest.mark.parametrize(
    "args",
    [
        ["list", "relu", "--json"],
        ["gradcheck", "relu", "--points", "50", "--json"],
        ["train-xor", "relu", "--seeds", "2", "--epochs", "5", "--json"],
    ],
)
def test_json_is_all_that_stdout_holds(args, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    json.loads(res.stdout)  # the whole of stdout parses
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout
