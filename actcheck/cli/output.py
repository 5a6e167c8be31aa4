"""Where the commands' output goes: the console, JSON on stdout, files written atomically.

Every output file is checked before any work (``check_output``) and written through
``write_output`` / ``write_figure``, so a failed write is one line and exit code 2.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from actcheck.cli.core import EXIT_INTERRUPTED, BadInput

# a pipe or a file: wide enough to keep every column of the widest table
PIPE_WIDTH = 120


def console(stderr: bool = False, wide_when_piped: bool = False) -> Any:
    """The rich console of a command (stderr for messages beside ``--json``)."""
    from rich.console import Console

    out = Console(highlight=False, stderr=stderr)
    if wide_when_piped and not out.is_terminal:
        out.width = max(out.width, PIPE_WIDTH)
    return out


def echo_json(data: Any) -> None:
    """``data`` (or its ``to_dict()``) as strict JSON on stdout: NaN and infinities as null."""
    from actcheck.jsonout import dumps

    click.echo(dumps(data))


def _reason(err: BaseException) -> Any:
    return getattr(err, "strerror", None) or err


def check_output(path: str | None, what: str, *, figure: bool = False) -> None:
    """Fail now, not after the work, when ``path`` cannot be written (or is no figure format)."""
    if path is None:
        return
    from actcheck.files import check_writable

    try:
        check_writable(path)
        if figure:
            from actcheck.plotting import output_format

            output_format(path)
    except (OSError, ValueError) as err:
        raise BadInput(f"cannot write {what} {path!r}: {_reason(err)}") from None


def write_output(path: str, what: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` into a temporary file beside ``path``, then rename it over ``path``."""
    from actcheck.files import write_atomically

    try:
        write_atomically(path, write)
    except (OSError, ValueError) as err:
        raise BadInput(f"cannot write {what} {path!r}: {err}") from None


def write_text(path: str, what: str, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            fh.write(text)

    write_output(path, what, write)


def write_figure(fig: Any, path: str, what: str, dpi: float) -> None:
    """plotting.save_figure, with a failure reported as one line and exit code 2."""
    from actcheck import plotting

    try:
        plotting.save_figure(fig, path, dpi=dpi)
    except (OSError, ValueError) as err:
        raise BadInput(f"cannot write {what} {path!r}: {_reason(err)}") from None


def exit_failed() -> None:
    """A check failed: exit code 1, the only place that produces it."""
    sys.exit(1)


def exit_interrupted() -> None:
    """Interrupted (Ctrl-C) after what was computed was written: exit code 130."""
    sys.exit(EXIT_INTERRUPTED)
