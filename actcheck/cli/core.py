"""What every command shares: one-line usage errors, bad input -> exit 2, options scoped
to a mode of a command, a closed stdout.

Exit codes (README, "What actcheck promises"): 0 all passed; 1 a check failed
(``output.exit_failed``, the only source of 1); 2 bad input or usage (``BadInput``,
and the library's ``InputError`` mapped in ``Command.invoke``); 130 interrupted
(``EXIT_INTERRUPTED``: Ctrl-C or SIGTERM, here or after a command wrote what it had
computed). A closed stdout (``| head -1``) ends the run quietly with the code it had
earned (``earn``) when the pipe closed.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from actcheck.errors import InputError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
_EARNED = "actcheck.earned"


def earn(code: int) -> None:
    """Record the exit code the run has earned so far (0, 1 or 130), for a closed stdout."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.find_root().meta[_EARNED] = code


def _stdout_closed(ctx: click.Context) -> None:
    """The reader of stdout went away: stop quietly with the code earned so far."""
    _silence(sys.stdout)  # later writes (and the interpreter's last flush) go nowhere
    code = ctx.find_root().meta.get(_EARNED, 0)
    if code == 1:
        from actcheck.cli.output import exit_failed

        exit_failed()
    sys.exit(code)


def _silence(*streams: Any) -> None:
    """Point ``streams`` at /dev/null: later writes and the interpreter's last flush succeed."""
    for stream in streams:
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass


class _ShownQuietly(click.ClickException):
    def show(self, file: Any = None) -> None:
        try:
            super().show(file)
        except OSError:  # stderr closed (`2>&1 | true`): the exit code still tells what happened
            _silence(sys.stdout, sys.stderr)


class BadInput(_ShownQuietly):
    """Bad input found after parsing: ``Error: <one line>`` on stderr, exit code 2."""

    exit_code = 2


class UsageError(_ShownQuietly, click.UsageError):
    """click's usage error (exit code 2), shown as one line."""


def _one_line(err: click.UsageError) -> click.UsageError:
    # click prints usage + hint + message; one clear line with a pointer to --help reads better
    ctx = err.ctx
    if ctx is not None:
        # a plain UsageError: BadParameter.format_message would prefix "Invalid value for" again
        return UsageError(f"{err.format_message()} (see '{ctx.command_path} --help')")
    return UsageError(err.format_message())


class _OneLineUsage(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None
        except BrokenPipeError:  # --help | head -1
            _stdout_closed(ctx)
            raise  # not reached


class Command(_OneLineUsage):
    """A command whose usage errors are one line and whose library InputErrors exit 2."""

    def invoke(self, ctx: click.Context) -> Any:
        # the one place where the library's "bad input" becomes exit code 2
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            # click would say "Aborted!" and exit 1, which means "a check failed"
            click.echo("Interrupted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except MemoryError:
            raise BadInput(
                "not enough memory for this run; ask for fewer points, seeds, epochs or samples"
            ) from None
        except BrokenPipeError:
            _stdout_closed(ctx)
        except Exception as err:
            if isinstance(err, click.ClickException) or not isinstance(err, InputError):
                raise
            raise BadInput(str(err)) from None


class Group(_OneLineUsage, click.Group):
    command_class = Command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as err:
            raise _one_line(err) from None


class ScopedOption(click.Option):
    """An option that belongs to one mode of its command (``scope``), e.g. ``"impl"``.

    A command with modes calls ``only_in_scope``: an option of another mode given on the
    command line is a usage error, so nothing given is silently ignored. The scope is
    declared beside the option itself, so there is no list of names to keep in step.
    """

    def __init__(self, *args: Any, scope: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.scope = scope


def only_in_scope(ctx: click.Context, scope: str, why: dict[str, str]) -> dict[str, Any]:
    """The parameters of ``scope`` (and the unscoped ones) from ``ctx.params``.

    An option of another scope given explicitly raises BadInput with ``why[its scope]``,
    e.g. ``{"impl": "needs --impl FILE.py:NAME", "catalog": "does not apply to --impl"}``.
    """
    from click.core import ParameterSource

    kept: dict[str, Any] = {}
    for param in ctx.command.params:
        other = getattr(param, "scope", scope)
        if other == scope:
            kept[param.name] = ctx.params[param.name]
        elif ctx.get_parameter_source(param.name) not in (ParameterSource.DEFAULT, None):
            raise BadInput(f"{param.opts[0]} {why[other]}")
    return kept
