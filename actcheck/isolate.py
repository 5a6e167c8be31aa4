"""Running the user's code where it can neither fake a pass nor break actcheck.

``check_impl_isolated`` runs ``implcheck.check_impl`` in a child interpreter
(``python -m actcheck.isolate FOLDER``); the CLI's ``--impl`` uses it, the Python
API (``actcheck.check_impl``) stays in-process for pytest. What the child gives:

* the verdict only comes from a result the child wrote: ``os._exit(0)``, a crash,
  a kill or a hang (``timeout``) is a failed check naming what the code was doing
  ("your code ended the process (os._exit(0)) during forward");
* the child's stdout and stderr are files, not the terminal: ``os.write(1, ...)``
  cannot corrupt ``--json``; what the code printed is reported in a row;
* ``os.chdir`` at import, ``raise GeneratorExit`` or any BaseException, changes to
  the parent's state: none reach actcheck's process;
* numpy patched at import (``nnfs.init()`` replaces ``np.dot``): the child swaps the
  patched attributes in only while the user's code runs (``_NumpyGuard``), so
  actcheck's own numerics always see the numpy they were written for;
* Ctrl-C (or SIGTERM) in the parent asks the child to stop (``STOP_SIGNAL``): it
  writes the rows done so far, which the parent raises as ``actcheck.Interrupted``;
  a child that does not answer within ``STOP_GRACE`` seconds is killed.

Only plain data comes back: the parent unpickles nothing outside actcheck, numpy
and the standard containers, so no class of the user's is ever imported here.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from actcheck import defaults

_ACTCHECK_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ACTCHECK = "comparing"  # the phase while actcheck's own code runs in the child
_PRINTED_CHARS = 4000  # characters of it kept in the JSON
# how the parent asks the child to stop and write what it has (None: no such signal here),
# and how long it waits for that before killing it
STOP_SIGNAL = getattr(signal, "SIGUSR1", None)
STOP_GRACE = 3.0


class _ChildEnded(Exception):
    """The child stopped without writing a result: ``reason`` says how, ``during`` when."""

    def __init__(self, reason: str, during: str, printed: str = ""):
        super().__init__(reason)
        self.reason, self.during, self.printed = reason, during, printed


def check_impl_isolated(
    target: str,
    *args: Any,
    timeout: float = defaults.IMPL_TIMEOUT,
    waiting: Callable[[str], object] | None = None,
    **kwargs: Any,
) -> Any:
    """``check_impl(target, *args, **kwargs)`` in a child process; an ``ImplResult``.

    A child that ends, crashes or runs past ``timeout`` seconds gives a failed
    result with one row saying so. InputError from the child is raised here.
    Ctrl-C (KeyboardInterrupt) asks the child to stop: ``actcheck.Interrupted`` with the
    rows done, or (no answer, no row yet) the KeyboardInterrupt itself.
    ``waiting(phase)``: called about every 0.2 s while the child runs, with what it is
    doing ("loading", "forward", "backward", ..., or "comparing" for actcheck's own work).
    """
    from actcheck.implcheck import check_impl

    shape = tuple(kwargs.get("shape", defaults.IMPL_SHAPE))
    check_size(shape)
    try:
        result, printed = run_isolated(check_impl, (target, *args), kwargs, timeout, waiting)
    except _ChildEnded as ended:
        printed = ended.printed
        result = _ended_result(target, shape, kwargs, ended)
    return _with_printed(result, printed)


# bytes the check holds at its peak per element of x: its per-point work is in float64
# whatever the dtype. Measured (examples/sigmoid.py): a peak of 659 MB at (1000, 1000),
# growing by 632 bytes an element from (100, 1000) to (400, 1000), about 80 float64 arrays
# the size of x (the four probe batches' per-point results and the figures over them, the
# engine's stencil, the layer's own arrays). A margin on top.
_BYTES_PER_ELEMENT = 768
MAX_DIMENSIONS = 32  # numpy's limit is 64, and the Jacobian of an N-d input is 2N-d


def check_size(shape: tuple[int, ...]) -> None:
    """InputError, before the child starts, for a shape the check could not hold in memory."""
    import math

    from actcheck.errors import InputError, too_big

    if len(shape) > MAX_DIMENSIONS:
        raise InputError(f"--shape has {len(shape)} dimensions; at most {MAX_DIMENSIONS}")
    need = math.prod(int(s) for s in shape) * _BYTES_PER_ELEMENT
    if need > defaults.MEMORY_LIMIT:
        most = defaults.MEMORY_LIMIT // _BYTES_PER_ELEMENT
        shown = ",".join(map(str, shape))
        raise too_big(f"--shape {shown}", need, f"use at most {most:,} elements")


def run_isolated(
    func: Any,
    args: tuple,
    kwargs: dict[str, Any],
    timeout: float,
    waiting: Callable[[str], object] | None = None,
) -> tuple[Any, str]:
    """``func(*args, **kwargs)`` in a fresh interpreter: (its value, what the child printed);
    ``waiting(phase)`` as the child runs (see ``check_impl_isolated``)."""
    with tempfile.TemporaryDirectory(prefix="actcheck-child-") as folder:
        job = {
            "func": (func.__module__, func.__qualname__),
            "args": args,
            "kwargs": kwargs,
            "sys_path": [p or os.getcwd() for p in sys.path],
            "cwd": os.getcwd(),
        }
        try:
            data = pickle.dumps(job)
        except (pickle.PicklingError, TypeError, AttributeError):
            # an argument that cannot cross to a child (a lambda, say): check in this process,
            # without the child's protections, rather than not at all
            return func(*args, **kwargs), ""
        with open(os.path.join(folder, "job"), "wb") as fh:
            fh.write(data)
        out_path = os.path.join(folder, "printed")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [_ACTCHECK_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env.pop("MPLBACKEND", None)
        env["PYTHONUNBUFFERED"] = "1"  # what the code printed before a crash is kept
        with open(out_path, "wb") as printed:
            child = subprocess.Popen(
                [sys.executable, "-m", "actcheck.isolate", folder],
                stdin=subprocess.DEVNULL,
                stdout=printed,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own group: a timeout kills what it started too
            )
            try:
                rc = _wait(child, timeout, waiting and (lambda: waiting(_phase(folder))))
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM: the rows done so far, if it answers
                part = _stopped(child, folder)
                if part is None:
                    raise
                from actcheck.errors import Interrupted

                part = _with_printed(part, _read_text(out_path))
                raise Interrupted(part.summary(), part) from None
            except BaseException:
                _kill(child)
                raise
        text = _read_text(out_path)
        outcome = _read_outcome(os.path.join(folder, "result"))
        if outcome is None:
            during = _phase(folder)
            raise _ChildEnded(_how_it_ended(rc, timeout, during), during, text)
    kind, value = outcome
    if kind == "input_error":
        from actcheck.errors import InputError

        raise InputError(value)
    if kind == "raised":
        raise _ChildEnded(value["reason"], value["during"], text)
    if kind != "ok":  # "interrupted" without being asked: never a result to pass on
        raise _ChildEnded("the check stopped without being asked to", _ACTCHECK, text)
    return value, text


def _stopped(child: subprocess.Popen, folder: str) -> Any:
    """Ask the child to stop (``STOP_SIGNAL``) and wait ``STOP_GRACE`` seconds for the rows
    it had: the interrupted result, or None (it did not answer, or had no row yet). The
    child is gone either way, a second Ctrl-C included."""
    try:
        if STOP_SIGNAL is None or child.poll() is not None:
            return None
        with contextlib.suppress(OSError):
            os.kill(child.pid, STOP_SIGNAL)
        try:
            child.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:  # its code ignores the signal, or is stuck in C
            return None
        outcome = _read_outcome(os.path.join(folder, "result"))
        # "ok": the check had just finished, and its whole result stands
        return outcome[1] if outcome is not None and outcome[0] in ("interrupted", "ok") else None
    finally:
        _kill(child)


def _wait(
    child: subprocess.Popen, timeout: float, tick: Callable[[], object] | None = None
) -> int | None:
    """The child's exit status, or None after killing it at ``timeout`` seconds; ``tick()``
    between the short waits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            # short waits: a signal handler (SIGTERM -> KeyboardInterrupt) runs between them
            return child.wait(timeout=min(0.2, max(0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                _kill(child)
                return None
            if tick is not None:
                tick()


def _kill(child: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        child.kill()
    child.wait()


def _how_it_ended(rc: int | None, timeout: float, during: str) -> str:
    if rc is None and during == _ACTCHECK:
        return (
            f"the check did not finish within {timeout:g} s (--timeout; your code was not "
            "running: give a larger --timeout or a smaller --shape)"
        )
    if rc is None:
        return f"your code did not finish within {timeout:g} s (--timeout)"
    if rc == 0:
        return "your code ended the process (os._exit(0))"
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = f"signal {-rc}"
        return f"your code's process was killed by {name}"
    return f"your code ended the process with exit status {rc}"


def _phase(folder: str) -> str:
    try:
        with open(os.path.join(folder, "phase"), "rb") as fh:
            return fh.read().decode("ascii", "replace").strip() or _ACTCHECK
    except OSError:
        return _ACTCHECK


def _read_text(path: str) -> str:
    with open(path, "rb") as fh:
        data = fh.read(_PRINTED_CHARS * 4)
    return data.decode("utf-8", "replace")


class _PlainUnpickler(pickle.Unpickler):
    """Only actcheck's, numpy's and the standard library's plain types: never a user class."""

    _MODULES = ("actcheck.", "numpy", "builtins", "collections", "copyreg", "_codecs")

    def find_class(self, module: str, name: str) -> Any:
        if module == "actcheck" or module.startswith(self._MODULES):
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")


def _read_outcome(path: str) -> tuple[str, Any] | None:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError:
        return None
    if not data:
        return None
    try:
        return _PlainUnpickler(io.BytesIO(data)).load()
    except Exception as err:  # a result that is not plain data: the user's objects in it
        return "raised", {"reason": f"its result could not be read back ({err})", "during": "?"}


def _during_words(during: str) -> str:
    if during == _ACTCHECK:
        return "while actcheck compared"
    if during in ("loading", "?"):
        return "while loading it"
    return f"during {during}"


def doing(phase: str) -> str:
    """A phase ``waiting`` receives, as what the child is doing ("your backward is running")."""
    if phase == _ACTCHECK:
        return "actcheck is comparing"
    if phase in ("loading", "?"):
        return "loading your file"
    return f"your {phase} is running"


def _ended_result(target: str, shape: tuple, kwargs: dict[str, Any], ended: _ChildEnded) -> Any:
    from actcheck.implcheck import Check, ImplResult

    row = Check(
        "process",
        "fail",
        ended.reason
        if ended.reason.startswith("the check")
        else f"{ended.reason} " + _during_words(ended.during),
        where=ended.during,
        bug=ended.reason,
        stats={"during": ended.during},
        fatal=True,
    )
    return ImplResult(
        str(target),
        "?",
        tuple(int(s) for s in shape),
        str(kwargs.get("dtype", defaults.DTYPE)),
        int(kwargs.get("seed", defaults.IMPL_SEED)),
        checks=(row,),
    )


def _with_printed(result: Any, printed: str) -> Any:
    """``result`` carrying what the user's code printed (``ImplResult.printed``: the
    report shows it as a note after the checks, ``--json`` as ``printed``)."""
    import dataclasses

    if not printed.strip():
        return result
    return dataclasses.replace(result, printed=printed[:_PRINTED_CHARS])


# ---------------------------------------------------------------------------
# The child
# ---------------------------------------------------------------------------


class _NumpyGuard:
    """numpy as actcheck imported it, except while the user's code runs.

    Snapshot numpy's namespaces and error state before the user's file is loaded;
    afterwards whatever the file changed (``np.dot = ...``, ``np.seterr``) is put
    back in place around each call of the user's code only.
    """

    def __init__(self) -> None:
        import numpy as np

        self.np = np
        self.spaces = [np, np.random, np.linalg]
        self.pristine = [dict(vars(m)) for m in self.spaces]
        self.pristine_err = np.geterr()
        self.cwd = os.getcwd()
        self.user: list[dict[str, Any]] | None = None

    def _changes(self) -> list[dict[str, Any]]:
        return [
            {k: v for k, v in vars(m).items() if k in before and before[k] is not v}
            for m, before in zip(self.spaces, self.pristine, strict=True)
        ]

    def user_mode(self) -> Any:
        """A context: the user's numpy and folder inside, actcheck's outside."""
        if self.user is None:  # the first call after loading: learn what the file changed
            self.user = self._changes()
            self.user_err = self.np.geterr()
            self.user_cwd = os.getcwd()
            self.actcheck_mode()
        return self._inside()

    @contextlib.contextmanager
    def _inside(self) -> Any:
        assert self.user is not None
        for m, changed in zip(self.spaces, self.user, strict=True):
            for k, v in changed.items():
                setattr(m, k, v)
        self.np.seterr(**self.user_err)
        with contextlib.suppress(OSError):
            os.chdir(self.user_cwd)
        try:
            yield
        finally:
            self.user = self._changes()  # the user's code may patch more as it runs
            self.user_err = self.np.geterr()
            self.user_cwd = os.getcwd()
            self.actcheck_mode()

    def actcheck_mode(self) -> None:
        for m, before in zip(self.spaces, self.pristine, strict=True):
            # names the file added (or numpy's lazily imported submodules) stay: actcheck never
            # looks them up
            now = vars(m)
            for k, v in before.items():
                if now.get(k, _MISSING) is not v:
                    setattr(m, k, v)
        self.np.seterr(**self.pristine_err)
        with contextlib.suppress(OSError):
            os.chdir(self.cwd)


_MISSING = object()


def _watch_parent(parent: int) -> None:
    """End the child when the parent is gone (killed with SIGKILL, say): no orphan keeps running."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


def _child(folder: str) -> None:
    with open(os.path.join(folder, "job"), "rb") as fh:
        job = pickle.load(fh)
    sys.argv[1:] = []  # a file that parses sys.argv at import sees no arguments, as with python -c
    sys.path[:] = job["sys_path"]
    os.chdir(job["cwd"])
    parent = os.getppid()
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    # Ctrl-C reaches the parent, which asks this process to stop (STOP_SIGNAL: the rows done
    # so far are written) and then kills its group
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    asked: list[bool] = []  # a KeyboardInterrupt the parent did not ask for is the code's own

    def stop(signum: int, frame: Any) -> None:
        asked.append(True)
        raise KeyboardInterrupt

    if STOP_SIGNAL is not None:
        signal.signal(STOP_SIGNAL, stop)
    if not sys.warnoptions:  # as in the parent: numpy's warnings are not "your code printed"
        import warnings

        warnings.simplefilter("ignore")
    result_path = os.path.join(folder, "result")
    phase_fd = os.open(os.path.join(folder, "phase"), os.O_WRONLY | os.O_CREAT, 0o600)

    def phase(name: str) -> None:
        os.pwrite(phase_fd, name.encode("ascii", "replace").ljust(32), 0)

    phase(_ACTCHECK)
    import importlib

    module_name, qualname = job["func"]
    func: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        func = getattr(func, part)
    guard = _NumpyGuard()
    from actcheck import userimpl

    userimpl.CAPTURE_PRINTS = False  # stdout and stderr are a file here: nothing is lost in a crash
    original_call = userimpl.Layer.call
    current = ["loading"]

    def call(self: Any, during: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        current[0] = during
        phase(during)
        try:
            with guard.user_mode():
                return original_call(self, during, fn, *args, **kwargs)
        finally:
            phase(_ACTCHECK)  # a timeout from here on is not the user's code's

    userimpl.Layer.call = call  # type: ignore[method-assign]
    _learn_after_loading(guard, userimpl, phase)
    try:
        outcome: tuple[str, Any] = ("ok", func(*job["args"], **job["kwargs"]))
    except BaseException as err:  # whatever the user's code raised is reported
        outcome = _raised(err, current[0], bool(asked))
    guard.actcheck_mode()
    data = pickle.dumps(outcome)
    fd = os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.close(fd)
    sys.stdout.flush()
    os._exit(0)  # skip atexit handlers the user's code may have registered


def _learn_after_loading(guard: _NumpyGuard, userimpl: Any, phase: Any) -> None:
    """Learn what loading the user's file changed as soon as it is loaded (before any numerics)."""
    original_load = userimpl.load

    def load(*args: Any, **kwargs: Any) -> Any:
        phase("loading")
        try:
            return original_load(*args, **kwargs)
        finally:
            phase(_ACTCHECK)
            with guard.user_mode():
                pass

    userimpl.load = load
    check = sys.modules.get("actcheck.implcheck.check")
    if check is not None and getattr(check, "load", None) is original_load:
        check.load = load


def _raised(err: BaseException, during: str, asked: bool = False) -> tuple[str, Any]:
    """The outcome of an exception out of the check: ``asked``, the parent's request to stop
    (an ``Interrupted`` then carries the rows done); any other is the user's code's."""
    from actcheck.errors import InputError, Interrupted

    if isinstance(err, InputError):
        return "input_error", str(err)
    if isinstance(err, Interrupted) and asked:
        return "interrupted", err.result
    if isinstance(err, KeyboardInterrupt):  # raised by the code itself: no pass comes of it
        err = KeyboardInterrupt()
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    what = type(err).__name__ + (f": {message}" if message else "")
    return "raised", {"reason": f"your code raised {what}", "during": during}


if __name__ == "__main__":
    _child(sys.argv[1])
