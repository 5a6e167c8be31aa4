"""Where the commands' output goes: the console, JSON on stdout, files written atomically.

Every output file is checked before any work (``check_output``) and written through
``write_output`` / ``write_figure``, so a failed write is one line and exit code 2:
``cannot write WHAT 'PATH': REASON``. ``-`` names stdout wherever a file is named;
then stdout holds that file alone (``stdout_taken``) and messages go to stderr.
Commands write their files first and print after, so a closed stdout loses nothing.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import click

from actcheck.cli.core import EXIT_INTERRUPTED, BadInput, earn

STDOUT = "-"  # as actcheck.files names it (not imported here: --help stays fast)

# a pipe or a file: wide enough to keep every column of the widest table
PIPE_WIDTH = 120
# COLUMNS=0 or a very narrow terminal: lay tables out this wide and let the terminal wrap
# the lines, rather than dropping columns
MIN_WIDTH = 80

# what an ASCII-only stdout shows for the report's few non-ASCII characters
ASCII = {
    "→": "->", "·": "*", "×": "x", "±": "+-", "≤": "<=", "≥": ">=", "≈": "~", "−": "-",
    "…": "...", "–": "-", "—": "-", "′": "'", "″": "''", "√": "sqrt", "∞": "inf",
    "σ": "sigma", "φ": "phi", "Φ": "Phi", "α": "alpha", "β": "beta", "λ": "lambda",
    "ε": "eps", "Σ": "sum", "⁻": "^-", "¹": "^1", "²": "^2", "³": "^3", "½": "1/2",
}  # fmt: skip
_ERRORS = "actcheck-ascii"

_show_backend: list[str | None] = [None]


def set_show_backend(name: str | None) -> None:
    """The MPLBACKEND the user had set: only ``--show`` uses it."""
    _show_backend[0] = name


def show_backend() -> str | None:
    return _show_backend[0]


def _ascii_stand_in(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeEncodeError):
        raise err
    bad = err.object[err.start : err.end]
    return "".join(ASCII.get(c, "?") for c in bad), err.end


def ascii_fallbacks(streams: Iterable[Any] | None = None) -> None:
    """Streams that cannot encode everything actcheck prints get ASCII stand-ins (``ASCII``)."""
    try:
        codecs.lookup_error(_ERRORS)
    except LookupError:
        codecs.register_error(_ERRORS, _ascii_stand_in)
    for stream in streams if streams is not None else (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
        if encoding.startswith("utf") or not hasattr(stream, "reconfigure"):
            continue
        with contextlib.suppress(OSError, ValueError):
            stream.reconfigure(errors=_ERRORS)


def console(stderr: bool = False, wide_when_piped: bool = False) -> Any:
    """The rich console of a command (stderr for messages beside ``--json``)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit with 1 ("a check failed"); core.Command ends the run quietly
            self.quiet = True
            raise BrokenPipeError

    out = _Console(highlight=False, stderr=stderr)
    if wide_when_piped and not out.is_terminal:
        out.width = max(out.width, PIPE_WIDTH)
    if out.width < MIN_WIDTH:
        out.width = MIN_WIDTH
    return out


# a bar appears only once a run has lasted this long: a short run draws nothing, not a flash
PROGRESS_AFTER = 1.0


@contextlib.contextmanager
def _late(live: Any) -> Iterator[Callable[[], float]]:
    """``due()``: the seconds the run has lasted, starting ``live`` (a rich Progress or
    Status, transient) once they reach ``PROGRESS_AFTER``; stopped on the way out."""
    import time

    began = time.monotonic()
    shown = False

    def due() -> float:
        nonlocal shown
        elapsed = time.monotonic() - began
        if not shown and elapsed >= PROGRESS_AFTER:
            live.start()
            shown = True
        return elapsed

    try:
        yield due
    finally:
        if shown:
            live.stop()


@contextlib.contextmanager
def late_bar(total: int, description: str) -> Iterator[Callable[..., None]]:
    """A transient progress bar on stderr, drawn on a terminal only and only once the run has
    lasted ``PROGRESS_AFTER`` seconds. Yields ``update(completed, description=None)``."""
    out = console(stderr=True)
    if not out.is_terminal:
        yield lambda completed, description=None: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(), transient=True, console=out,
    )  # fmt: skip
    task = bar.add_task(description, total=total)
    with _late(bar) as due:

        def update(completed: int, description: str | None = None) -> None:
            named = {"description": description} if description else {}
            bar.update(task, completed=completed, **named)
            due()

        yield update


@contextlib.contextmanager
def late_status(what: str) -> Iterator[Callable[[str], None]]:
    """A transient spinner line on stderr, ``WHAT: NOW (N s)``, drawn on a terminal only and
    once the run has lasted ``PROGRESS_AFTER`` seconds. Yields ``update(now)``."""
    out = console(stderr=True)
    if not out.is_terminal:
        yield lambda now: None
        return
    status = out.status(what)
    with _late(status) as due:
        yield lambda now: status.update(f"{what}: {now} ({due():.0f} s)")


def echo_json(data: Any) -> None:
    """``data`` (or its ``to_dict()``) as strict JSON on stdout: NaN and infinities as null."""
    from actcheck.jsonout import dumps

    click.echo(dumps(data))


def stdout_taken(as_json: bool, **paths: str | None) -> bool:
    """Whether stdout holds a file or the JSON (then messages go to stderr).

    ``paths``: option name -> the path given. Two outputs on stdout (``-`` twice, or
    ``-`` beside ``--json``) cannot be told apart: bad input.
    """
    on_stdout = [f"--{name.replace('_', '-')} {p}" for name, p in paths.items() if _on_stdout(p)]
    if as_json:
        on_stdout.append("--json")
    if len(on_stdout) > 1:
        raise BadInput(f"{' and '.join(on_stdout)} would both write to stdout; choose one")
    return bool(on_stdout)


def _on_stdout(path: str | None) -> bool:
    """``-``, or another name for what stdout is (``/dev/stdout``; ``-o x.png > x.png``)."""
    if path is None:
        return False
    if path == STDOUT:
        return True
    try:
        return os.path.samestat(os.stat(path), os.fstat(sys.stdout.fileno()))
    except (OSError, ValueError, AttributeError):
        return False


def _reason(err: BaseException) -> str:
    """``No space left on device`` -> ``no space left on device``; no ``[Errno 28]``."""
    text = getattr(err, "strerror", None) or str(err) or type(err).__name__
    if text.startswith("[Errno"):
        text = text.split("] ", 1)[-1]
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


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


@contextlib.contextmanager
def _writing(path: str, what: str) -> Iterator[None]:
    """A failed write of ``what`` to ``path`` as one line and exit code 2; a closed stdout
    (``-``) is left to ``core.Command``, which stops quietly."""
    try:
        yield
    except BrokenPipeError:
        if path != STDOUT:
            raise BadInput(f"cannot write {what} {path!r}: its reader went away") from None
        raise
    except (OSError, ValueError) as err:
        raise BadInput(f"cannot write {what} {path!r}: {_reason(err)}") from None


def write_output(path: str, what: str, write: Callable[[str], None]) -> None:
    """``write(tmp)`` into a temporary file, then to where ``path`` leads (files.py)."""
    from actcheck.files import write_atomically

    with _writing(path, what):
        write_atomically(path, write)


def write_text(path: str, what: str, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as fh:
            fh.write(text)

    write_output(path, what, write)


def write_figure(fig: Any, path: str, what: str, dpi: float) -> None:
    """plotting.save_figure, with a failure reported as one line and exit code 2."""
    from actcheck import plotting

    with _writing(path, what):
        plotting.save_figure(fig, path, dpi=dpi)


def exit_failed() -> None:
    """A check failed: exit code 1, the only place that produces it."""
    sys.exit(1)


def exit_interrupted() -> None:
    """Interrupted (Ctrl-C, SIGTERM) after what was computed was written: exit code 130."""
    sys.exit(EXIT_INTERRUPTED)


def verdict(passed: bool, interrupted: bool = False) -> None:
    """Record the code the run has earned before printing it (a closed stdout keeps it)."""
    earn(EXIT_INTERRUPTED if interrupted else 0 if passed else 1)


def exit_with_verdict(passed: bool, interrupted: bool = False) -> None:
    """Exit 130 when interrupted, 1 when a check failed, else return (exit 0)."""
    if interrupted:
        exit_interrupted()
    if not passed:
        exit_failed()


def open_show_backend() -> None:
    """Switch pyplot to the MPLBACKEND the user had set, for ``--show`` (BadInput if unusable)."""
    name = show_backend()
    if not name:
        return
    import matplotlib.pyplot as plt

    try:
        plt.switch_backend(name)
    except (ImportError, ValueError, RuntimeError) as err:
        raise BadInput(f"--show: MPLBACKEND={name} cannot be used: {_reason(err)}") from None
