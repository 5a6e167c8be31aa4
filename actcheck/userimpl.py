"""Loading the user's own layer code and adapting it to one interface.

``load(spec)`` turns ``FILE.py:NAME`` or ``package.module:NAME`` into a Python
object (the file is imported by path with ``importlib``: this RUNS the user's
code, exactly as ``python FILE.py`` would; command-line text is never evaluated).
``adapt(obj, derivative)`` wraps what was loaded in a ``Layer``:

* ``ForwardBackwardLayer``: a class (instantiated without arguments) or an
  instance with ``forward(x)`` and ``backward(dout)``, the cs231n / "Deep
  Learning from Scratch" style; parameter gradients stored as attributes
  (``W``/``dW``, ``a``/``grad_a``, ``params['W']``/``grads['W']``);
* ``CachePairLayer``: cs231n-style ``NAME_forward(x) -> (out, cache)`` with its
  ``NAME_backward(dout, cache)``, found by name;
* ``FunctionLayer``: a function f with its elementwise derivative f';
* ``TorchLayer`` (torch optional, imported lazily): a ``torch.nn.Module``, a
  ``torch.autograd.Function`` subclass or a function on tensors, with the
  analytic side from autograd.

Every call into user code goes through ``Layer.call``, which turns an exception
into ``UserCodeError`` pointing at the user's own file and line, silences
numpy floating-point warnings (NaN and inf are detected by value instead), and
always hands the user a private copy of the arrays (mutations are detected by
comparing copies, see ``actcheck.implcheck``). numpy only; no click, no rich.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import importlib
import importlib.util
import inspect
import io
import math
import os
import re
import sys
import textwrap
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actcheck.errors import InputError

Array = np.ndarray

# attribute name -> gradient attribute names tried for it, in this order
_GRAD_NAMES = ("d{}", "d_{}", "grad_{}", "{}_grad", "grad{}", "g{}", "{}_gradient", "gradient_{}")
# containers of parameters / gradients in the cs231n / DLfS style
_PARAM_DICTS = (("params", "grads"), ("params", "gradients"), ("param", "grad"))


@dataclass
class UserCodeError(Exception):
    """An exception raised inside the user's code, located in the user's own file."""

    during: str  # "forward", "backward", "derivative", "loading", "constructor"
    exc_type: str
    message: str
    file: str | None = None
    line: int | None = None
    function: str | None = None
    code: str | None = None

    def __str__(self) -> str:
        return f"{self.exc_type}: {self.message}" + (f" at {self.where}" if self.file else "")

    @property
    def where(self) -> str:
        if not self.file:
            return self.during
        fn = f" in {self.function}()" if self.function else ""
        return f"{_short_path(self.file)}:{self.line}{fn}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "during": self.during,
            "exception": self.exc_type,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "code": self.code,
        }


def _library_dirs() -> tuple[str, ...]:
    import sysconfig

    paths = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    here = os.path.dirname(os.path.realpath(__file__))
    return tuple(os.path.realpath(p) + os.sep for p in paths | {here} if p)


def _is_user_file(filename: str) -> bool:
    """A real .py file outside the standard library, site-packages and actcheck."""
    if filename.startswith("<") or not filename.endswith(".py"):
        return False
    real = os.path.realpath(filename)
    return not real.startswith(_library_dirs()) and "site-packages" not in real


def _short_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return rel if not rel.startswith("..") else path


def user_error(exc: BaseException, during: str, files: set[str]) -> UserCodeError:
    """The deepest traceback frame in one of ``files`` (the user's), else the deepest frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    # the user's frames: in their files, or in any other file of theirs the code calls
    # (common/layers.py calling common/functions.py), but not in libraries or actcheck
    mine = [f for f in frames if os.path.realpath(f.filename) in files or _is_user_file(f.filename)]
    if not files:  # an installed module: any frame outside actcheck itself
        here = os.path.dirname(os.path.realpath(__file__))
        mine = [f for f in frames if not os.path.realpath(f.filename).startswith(here)]
    # no frame of the user's: the call itself failed (e.g. forward(x, t) given one argument)
    frame = mine[-1] if mine else None
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if frame is None:
        return UserCodeError(during, type(exc).__name__, msg)
    qualname = frame.name
    for f, lineno in traceback.walk_tb(exc.__traceback__):
        if f.f_code.co_filename == frame.filename and lineno == frame.lineno:
            qualname = getattr(f.f_code, "co_qualname", frame.name)  # Sigmoid.backward
    return UserCodeError(
        during,
        type(exc).__name__,
        msg,
        file=frame.filename,
        line=frame.lineno,
        function=qualname,
        code=(frame.line or "").strip() or None,
    )


# ---------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------


@dataclass
class Loaded:
    """What ``load`` found: the object, its name as given, and the user's source file."""

    obj: Any
    spec: str
    file: str | None
    owner: Any = None  # the class NAME's last part was found on (``Class.method``)


def _split_spec(spec: str) -> tuple[str, str]:
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise InputError(f"{spec!r}: expected FILE.py:NAME or package.module:NAME")
    if not name.replace("_", "a").replace(".", "a").isalnum() or name[0].isdigit():
        raise InputError(f"{spec!r}: {name!r} is not a Python name")
    return target, name


def _load_file(path: str, spec: str, cache: dict[str, Any] | None = None) -> tuple[Any, str]:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{spec!r}: no such file {path!r}")
    if p.suffix != ".py":
        raise InputError(f"{spec!r}: {path!r} is not a .py file")
    real = str(p.resolve())
    if cache is not None and real in cache:  # --impl and --derivative in one file: run it once
        return cache[real], real
    modname = f"_actcheck_user_{abs(hash(real)):x}"
    mspec = importlib.util.spec_from_file_location(modname, real)
    if mspec is None or mspec.loader is None:  # pragma: no cover - .py files always have one
        raise InputError(f"{spec!r}: cannot import {path!r}")
    module = importlib.util.module_from_spec(mspec)
    # the user's own directory first, so its sibling imports work as with `python FILE.py`,
    # then the directories its absolute imports resolve from (common/layers.py doing
    # `from common.functions import *`), kept for imports the code makes later
    # (computed once: the file may os.chdir() as it runs)
    roots = [str(p.resolve().parent), *import_roots(Path(real))]
    for r in reversed(roots):
        sys.path.insert(0, r)
    sys.modules[modname] = module
    try:
        with _quiet():
            mspec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(modname, None)
        err = user_error(exc, "loading", {real})
        raise InputError(f"{spec!r}: importing {path} raised {err}") from None
    finally:
        for r in roots[:1]:
            with contextlib.suppress(ValueError):  # the file may have edited sys.path itself
                sys.path.remove(r)
    if cache is not None:
        cache[real] = module
    return module, real


def import_roots(file: Path) -> list[str]:
    """Ancestor directories holding the top-level packages the file imports.

    ``from common.functions import *`` in ``dlfs/common/layers.py`` (or in
    ``dlfs/ch05/net.py``, which does ``sys.path.append(os.pardir)``) resolves from
    ``dlfs/``: the nearest ancestor with a ``common/`` package or ``common.py``.
    """
    try:
        tree = ast.parse(file.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError, OSError):
        return []
    tops = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    roots: list[str] = []
    for top in sorted(tops):
        try:
            if top in sys.builtin_module_names or importlib.util.find_spec(top) is not None:
                continue
        except (ImportError, ValueError):
            pass
        for parent in list(file.parents)[1:6]:
            if (parent / top).is_dir() or (parent / f"{top}.py").is_file():
                if str(parent) not in roots and str(parent) not in sys.path:
                    roots.append(str(parent))
                break
    return roots


def _load_module(name: str, spec: str) -> tuple[Any, str | None]:
    # like `python -m`: packages in the current directory are importable
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        with _quiet():
            module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and name.startswith(exc.name):
            raise InputError(f"{spec!r}: no module named {exc.name!r}") from None
        raise InputError(f"{spec!r}: importing {name} raised {exc!r}") from None
    except (Exception, SystemExit) as exc:
        err = user_error(exc, "loading", set())
        raise InputError(f"{spec!r}: importing {name} raised {err}") from None
    finally:
        if added:
            sys.path.remove(cwd)
    file = getattr(module, "__file__", None)
    return module, (os.path.realpath(file) if file else None)


def load(spec: str, cache: dict[str, Any] | None = None) -> Loaded:
    """Import ``FILE.py:NAME`` (by path) or ``package.module:NAME`` and return NAME.

    This runs the file's top-level code, afresh on every call (an edited file is
    re-read) unless ``cache`` already holds it. Raises InputError with one line.
    """
    target, name = _split_spec(spec)
    if target.endswith(".py") or os.sep in target or "/" in target:
        module, file = _load_file(target, spec, cache)
    else:
        module, file = _load_module(target, spec)
    obj: Any = module
    owner: Any = None
    for part in name.split("."):
        if not hasattr(obj, part):
            where = target if file is None else _short_path(file)
            have = sorted(
                n
                for n, v in vars(module).items()
                if not n.startswith("_")
                and (inspect.isclass(v) or callable(v))
                and getattr(v, "__module__", None) == module.__name__
            )
            hint = f" (it defines {', '.join(have)})" if have else ""
            raise InputError(f"{spec!r}: {where} has no {name!r}{hint}")
        owner, obj = obj, getattr(obj, part)
    src = _source_file(obj) or file
    return Loaded(obj, spec, src, owner if inspect.isclass(owner) else None)


def _source_file(obj: Any) -> str | None:
    try:
        f = inspect.getsourcefile(obj if inspect.isclass(obj) or callable(obj) else type(obj))
    except TypeError:
        return None
    return os.path.realpath(f) if f else None


class _quiet:
    """Silence numpy floating-point warnings and Python warnings raised by user code.

    With ``raise_fp`` overflow, 0/0 and x/0 raise FloatingPointError instead, which
    locates the user's line that made a NaN or inf.
    """

    def __init__(self, raise_fp: bool = False):
        self.raise_fp = raise_fp

    def __enter__(self) -> None:
        # the user's print()s are kept for the report (stdout may be carrying --json);
        # in actcheck.isolate's child the descriptors themselves are captured instead,
        # which also keeps what was printed just before the process died
        self._buf = io.StringIO()
        self._out = (
            contextlib.redirect_stdout(self._buf) if CAPTURE_PRINTS else contextlib.nullcontext()
        )
        self._out.__enter__()
        if self.raise_fp:
            self._err = np.seterr(all="raise", under="ignore")
        else:
            self._err = np.seterr(all="ignore")
        self._warn = warnings.catch_warnings()
        self._warn.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: object) -> None:
        self._warn.__exit__(*exc)
        np.seterr(**self._err)
        self._out.__exit__(*exc)
        _keep_printed(self._buf.getvalue())


CAPTURE_PRINTS = True  # False in actcheck.isolate's child, which captures file descriptors
_PRINTED: list[str] = []  # what the user's code printed, until ``take_printed``
_PRINTED_MAX = 4000  # characters kept


def _keep_printed(text: str) -> None:
    if text and sum(map(len, _PRINTED)) < _PRINTED_MAX:
        _PRINTED.append(text)


def take_printed() -> str:
    """What the user's code printed since the last call (at most about 4000 characters)."""
    text = "".join(_PRINTED)
    _PRINTED.clear()
    return text[:_PRINTED_MAX]


# ---------------------------------------------------------------------------
# The uniform interface
# ---------------------------------------------------------------------------


@dataclass
class ParamRef:
    """One learnable parameter: read it, write it, and read its gradient after backward."""

    name: str
    get: Callable[[], Array]
    set: Callable[[Array], None]
    grad: Callable[[], Any]
    scalar: bool = False
    source: str = ""  # where the gradient comes from, when not an attribute backward stores
    line: str = ""  # the user's line that computes the gradient, where it is known


@dataclass
class VJP:
    """The result of forward(x) followed by backward(dout)."""

    y: Array
    dx: Any  # parameters' gradients: ParamRef.grad() right after


class Layer:
    """One uniform view of the user's code.

    ``forward(x)`` -> y; ``vjp(x, dout)`` -> VJP (forward then backward with the
    given upstream gradient); ``params`` -> the learnable parameters found.
    Arrays are numpy arrays in and out; the user always receives copies.
    """

    kind = "layer"
    name = "?"
    arg_names: list[str] | None = None  # what --arg may name, where the usual words mislead
    batch_mean = False  # parameter gradients of the batch's mean: 1/m of the VJP's (set once)
    params: list[ParamRef]
    files: set[str]
    has_dx = True  # False for a whole model: only its parameters have gradients
    has_dout = True  # False when the analytic side is an elementwise derivative f'(x)
    raise_fp = False  # set while locating the line that produced a NaN or inf

    _rng: Any = None

    def call(self, during: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        if during == "forward":
            # a mask drawn from np.random (or torch) in forward is the same on every call:
            # the function is then deterministic, and a backward drawing its own mask is not
            if self._rng is None:
                self._rng = _rng_state()
            _set_rng_state(self._rng)
        try:
            with _quiet(self.raise_fp):
                return fn(*args, **kwargs)
        except (Exception, SystemExit) as exc:  # exit() in user code ends the check, not actcheck
            raise user_error(exc, during, self.files) from None
        except KeyboardInterrupt as stop:  # Ctrl-C while this code ran: the report says where
            if not hasattr(stop, "during"):
                stop.during = during  # type: ignore[attr-defined]
            raise

    def forward(self, x: Array) -> Array:  # pragma: no cover - abstract
        raise NotImplementedError

    def code_of(self, during: str) -> Any:
        """The user's function behind "forward", "backward" or "derivative" (None if none)."""
        return None

    def location(self, during: str) -> str | None:
        """``file:line in name()`` of the user's forward / backward / derivative."""
        fn = self.code_of(during)
        fn = getattr(fn, "__func__", fn)
        try:
            file = inspect.getsourcefile(fn)
            lines, line = inspect.getsourcelines(fn)
        except (TypeError, OSError):
            return None
        if not file:
            return None
        # the def, not a decorator above it (@staticmethod on a Function's backward)
        line += next((i for i, s in enumerate(lines) if s.lstrip().startswith("def ")), 0)
        return f"{_short_path(file)}:{line} in {getattr(fn, '__qualname__', '?')}()"

    def forward_raw(self, x: Array) -> Any:
        """forward on exactly this array (for mutation checks); may return a non-array."""
        return self.forward(x)

    def backward_raw(self, x: Array, dout: Array) -> Any:
        """forward(x.copy()) then backward on exactly this dout (for mutation checks)."""
        return self.vjp(x, dout).dx

    def vjp(self, x: Array, dout: Array) -> VJP:  # pragma: no cover - abstract
        raise NotImplementedError


def _rng_state() -> tuple[Any, Any]:
    torch = sys.modules.get("torch")
    return np.random.get_state(), (torch.random.get_rng_state() if torch else None)


def _set_rng_state(state: tuple[Any, Any]) -> None:
    np.random.set_state(state[0])
    torch = sys.modules.get("torch")
    if torch is not None and state[1] is not None:
        torch.random.set_rng_state(state[1])


def _as_output(value: Any, during: str) -> Any:
    if isinstance(value, tuple) and len(value) >= 1 and during == "backward":
        # backward returning (dx, dW, ...) tuples: dx first
        return value[0]
    return value


class ForwardBackwardLayer(Layer):
    kind = "forward/backward class"

    def __init__(
        self,
        obj: Any,
        name: str,
        files: set[str],
        methods: tuple[str, str] = ("forward", "backward"),
        kwargs: dict[str, Any] | None = None,
        backward: BackwardCall | None = None,
    ):
        self.obj = obj
        self.name = name
        self.files = files
        self.params = []
        self.methods = methods
        self.kwargs = dict(kwargs or {})
        self.backward_call = backward or BackwardCall({})
        if methods != ("forward", "backward"):
            self.kind = f"{methods[0]}/{methods[1]} class"
        self.kind += self.backward_call.words(methods[1])
        # a backward applying its own update: see _Updates
        rates = self.backward_call.rates
        self.updates = _Updates(obj, list(rates)) if rates else None
        # a loss layer's backward(dout=1): called without dout, then scaled by it (the
        # book's SoftmaxWithLoss ignores dout, which is right for the last layer)
        self.default_dout = _has_default(getattr(obj, methods[1]), 0)

    def _forward(self, x: Array) -> Any:
        out = self.call("forward", getattr(self.obj, self.methods[0]), x, **self.kwargs)
        if out is None:  # the nnfs book: forward stores self.output
            out = getattr(self.obj, "output", None)
        return _scalar_as_array(out)

    def _backward(self, x: Array, dout: Array) -> Any:
        if self.updates is None or not self.updates.names:
            return self._backward_with(x, dout, {})
        return self.updates.applied(lambda rates: self._backward_with(x, dout, rates))

    def _backward_with(self, x: Array, dout: Array, rates: dict[str, float]) -> Any:
        """backward at these learning rates (the others at 0), its result."""
        bc = self.backward_call
        kw = {**bc.kwargs, **{k: v for k, v in rates.items() if k in bc.rate_args}}
        for k in bc.rate_attrs:
            setattr(self.obj, k, rates.get(k, 0.0))
        try:
            return self._call_backward(x, dout, kw)
        finally:
            for k in bc.rate_attrs:
                setattr(self.obj, k, 0.0)

    def _call_backward(self, x: Array, dout: Array, kw: dict[str, Any]) -> Any:
        bwd = getattr(self.obj, self.methods[1])
        if self.default_dout and np.ndim(dout) == 0:
            dx = _as_output(self.call("backward", bwd, **kw), "backward")
            if isinstance(dx, np.ndarray) and dx.dtype.kind == "f":
                return (dx * dout).astype(dx.dtype)
            return dx
        first = (x.copy(), dout) if self.backward_call.takes_input else (dout,)
        dx = _as_output(self.call("backward", bwd, *first, **kw), "backward")
        if dx is None:  # the nnfs book: backward stores self.dinputs
            dx = getattr(self.obj, "dinputs", None)
        return dx

    def forward_raw(self, x: Array) -> Any:
        return self._forward(x)

    def code_of(self, during: str) -> Any:
        name = {"forward": self.methods[0], "backward": self.methods[1]}.get(during, during)
        return getattr(type(self.obj), name, None)

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def backward_raw(self, x: Array, dout: Array) -> Any:
        self.forward(x)
        return self._backward(x, dout)

    def vjp(self, x: Array, dout: Array) -> VJP:
        if self.updates is not None and not self.updates.probed:

            def run(rates: dict[str, float]) -> Any:
                self.forward(x)
                return self._backward_with(x, dout.copy(), rates)

            self.updates.probe(run)
        y = self.forward(x)
        return VJP(y, self._backward(x, dout.copy()))

    def candidate_params(self) -> list[ParamRef]:
        """Float array (or float) attributes that have a gradient attribute after backward,
        or that backward updates itself (``_Updates``)."""
        found: list[ParamRef] = []
        attrs = _attributes(self.obj)
        for pname, value in list(attrs.items()):
            if not _is_float_value(value):
                continue
            gname = _gradient_name(pname, attrs)
            if gname is not None:
                found.append(self._attr_param(pname, gname, np.ndim(value) == 0))
        for pdict, gdict in _PARAM_DICTS:
            ps, gs = attrs.get(pdict), attrs.get(gdict)
            if isinstance(ps, dict) and isinstance(gs, dict):
                for k, v in ps.items():
                    if k in gs and _is_float_value(v):
                        found.append(self._dict_param(pdict, gdict, k, np.ndim(v) == 0))
        if self.updates is not None:  # a gradient attribute, where there is one, comes first
            named = {p.name for p in found}
            for path in self.updates.names:
                ref = self._updated_param(path)
                if ref.name not in named:
                    found.append(ref)
        return found

    def _updated_param(self, path: AttrPath) -> ParamRef:
        updates = self.updates
        assert updates is not None
        scalar = np.ndim(updates.get(path)) == 0
        if len(path) > 1:
            ref = self._dict_param(path[0], path[0], path[1], scalar)
        else:
            ref = self._attr_param(path[0], path[0], scalar)
        return dataclasses.replace(
            ref,
            grad=lambda: updates.grads.get(path),
            source=f"read off the update backward applies ({updates.rates[0]} = 1, then undone)",
        )

    def _attr_param(self, pname: str, gname: str, scalar: bool) -> ParamRef:
        obj = self.obj

        def set_(v: Array) -> None:
            cur = getattr(obj, pname)
            if isinstance(cur, np.ndarray) and not scalar:
                cur[...] = v  # in place: the layer may hold other references to this array
            else:
                setattr(obj, pname, float(v))

        return ParamRef(
            pname,
            lambda: np.array(getattr(obj, pname), dtype=float if scalar else None),
            set_,
            lambda: getattr(obj, gname, None),
            scalar,
        )

    def _dict_param(self, pdict: str, gdict: str, key: str, scalar: bool) -> ParamRef:
        obj = self.obj

        def set_(v: Array) -> None:
            cur = getattr(obj, pdict)[key]
            if isinstance(cur, np.ndarray) and not scalar:
                cur[...] = v
            else:
                getattr(obj, pdict)[key] = float(v)

        return ParamRef(
            f"{pdict}[{key!r}]",
            lambda: np.array(getattr(obj, pdict)[key], dtype=float if scalar else None),
            set_,
            lambda: getattr(obj, gdict).get(key),
            scalar,
        )


AttrPath = tuple[Any, ...]  # an attribute ("W",) or a dict attribute's entry ("params", "W")


class _Updates:
    """What a ``backward(dout, learning_rate)`` that applies plain SGD (θ -= rate·g) to some
    parameters gives: their gradients g, read off an update made with rate 1 and undone.

    The parameters are float attributes and float entries of dict attributes (``AttrPath``).
    ``probe`` runs backward at rates 0, 1 and 2 from the same state, restored after each:
    a parameter is updated by SGD when rate 0 leaves it, and rate 2 moves it twice as far
    as rate 1 (to the rounding of its dtype). If rate 0 moves anything (an optimiser's
    state: momentum, Adam's moments), the update is not plain SGD and no gradient is read
    off it. ``names`` and ``dx_after_update`` (dx differs between rates 0 and 1: computed
    with the updated θ) are set once, by ``probe``; ``grads`` holds the last ``applied``
    backward's gradients.
    """

    def __init__(self, obj: Any, rates: list[str]):
        self.obj, self.rates = obj, rates
        self.probed = False
        self.names: list[AttrPath] = []
        self.dx_after_update = False
        self.grads: dict[AttrPath, Any] = {}

    @staticmethod
    def label(path: AttrPath) -> str:
        """As the report names the parameter: ``W``, ``params['W']``."""
        return path[0] if len(path) == 1 else f"{path[0]}[{path[1]!r}]"

    def get(self, path: AttrPath) -> Any:
        v = getattr(self.obj, path[0], None)
        return v.get(path[1]) if len(path) > 1 and isinstance(v, dict) else v

    def _set(self, path: AttrPath, value: Any) -> None:
        if len(path) > 1:
            getattr(self.obj, path[0])[path[1]] = value
        else:
            setattr(self.obj, path[0], value)

    def _state(self) -> dict[AttrPath, tuple[Any, Any]]:
        """Each float parameter: (the object held, a copy of its value)."""
        out: dict[AttrPath, tuple[Any, Any]] = {}
        for k, v in (vars(self.obj) if hasattr(self.obj, "__dict__") else {}).items():
            entries = v.items() if isinstance(v, dict) else [(None, v)]
            for key, e in entries:
                if _is_float_value(e):
                    path = (k,) if key is None else (k, key)
                    out[path] = (e, e.copy() if isinstance(e, np.ndarray) else e)
        return out

    def _restore(self, state: dict[AttrPath, tuple[Any, Any]]) -> None:
        for path, (ref, saved) in state.items():
            if isinstance(ref, np.ndarray) and ref.flags.writeable:
                ref[...] = saved  # updated in place (-=) or replaced: the original again
            self._set(path, ref)

    def _run(self, run: Callable[[dict[str, float]], Any], rate: float) -> tuple[dict, Any]:
        """One backward at this rate, undone: (path -> value before - after, its result)."""
        state = self._state()
        try:
            out = run(dict.fromkeys(self.rates, rate))
            out = np.array(out, copy=True) if isinstance(out, np.ndarray) else out
            moved = {}
            for path, (_, saved) in state.items():
                now = self.get(path)
                if _is_float_value(now) and np.shape(now) == np.shape(saved):
                    d = np.asarray(saved, np.float64) - np.asarray(now, np.float64)
                    if not (d == 0).all():
                        moved[path] = (d, saved)
            return moved, out
        finally:
            self._restore(state)

    def probe(self, run: Callable[[dict[str, float]], Any]) -> None:
        self.probed = True
        still, dx0 = self._run(run, 0.0)
        if still:
            return
        (one, dx1), (two, _) = self._run(run, 1.0), self._run(run, 2.0)
        # dx must not depend on the rate: computed after the update, it uses the new θ
        self.dx_after_update = isinstance(dx0, np.ndarray) and not (
            isinstance(dx1, np.ndarray) and dx1.shape == dx0.shape and (dx0 == dx1).all()
        )
        self.names = [p for p, (d, saved) in one.items() if p in two and _twice(d, *two[p])]

    def applied(self, backward: Callable[[dict[str, float]], Any]) -> Any:
        """backward at rate 1, its updates read off and undone; backward's result."""
        state = {p: v for p, v in self._state().items() if p in self.names}
        try:
            out = backward(dict.fromkeys(self.rates, 1.0))
            self.grads = {
                p: np.asarray(saved, np.float64) - np.asarray(self.get(p), np.float64)
                for p, (_, saved) in state.items()
            }
            return out
        finally:
            self._restore(state)


def _twice(d1: Array, d2: Array, saved: Any) -> bool:
    """d2 = 2·d1 to the rounding of θ - 2g and θ - g in θ's dtype."""
    dt = saved.dtype if isinstance(saved, np.ndarray) else np.dtype(np.float64)
    eps = float(np.finfo(dt).eps)
    room = 4 * eps * (np.abs(np.asarray(saved, np.float64)) + np.abs(d2)) + 1e-300
    with np.errstate(all="ignore"):
        return bool((np.abs(d2 - 2 * d1) <= room).all())


class NnfsLossLayer(ForwardBackwardLayer):
    """The nnfs book's losses: ``backward(dvalues, y_true)`` takes PREDICTIONS, not dout.

    ``Loss_CategoricalCrossentropy``: the loss is ``calculate(y_pred, y_true)`` (the mean
    of forward's per-sample losses) and ``backward(y_pred, y_true)`` sets its gradient in
    ``dinputs``; ``Activation_Softmax_Loss_CategoricalCrossentropy``: forward(x, y_true)
    returns the loss and ``backward(self.output, y_true)`` sets d loss / d x.
    """

    def __init__(self, obj: Any, name: str, files: set[str], label: str, y: Any):
        super().__init__(obj, name, files, kwargs={label: y})
        self.kind = "nnfs loss (backward(predictions, y_true))"
        self.label, self.y = label, y
        self.calculate = callable(getattr(obj, "calculate", None))

    def _forward(self, x: Array) -> Any:
        fn = self.obj.calculate if self.calculate else self.obj.forward
        return _scalar_as_array(self.call("forward", fn, x, self.y))

    def _backward(self, x: Array, dout: Array) -> Any:
        pred = x.copy() if self.calculate else getattr(self.obj, "output", None)
        self.call("backward", self.obj.backward, pred, self.y)
        dx = getattr(self.obj, "dinputs", None)
        if isinstance(dx, np.ndarray) and dx.dtype.kind == "f":
            return (dx * dout).astype(dx.dtype)
        return dx


def _nnfs_label(obj: Any) -> str | None:
    """y_true when backward(dvalues, y_true) shares its second parameter with forward."""
    b = _positional_names(getattr(obj, "backward", None))
    f = _positional_names(getattr(obj, "forward", None))
    return b[1] if len(b) == 2 and len(f) >= 2 and b[1] in f[1:] else None


def _has_default(fn: Any, index: int) -> bool:
    """Whether fn's index-th parameter (after self) has a default value."""
    try:
        ps = [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return False
    return len(ps) > index and ps[index].default is not inspect.Parameter.empty


def _gradient_name(pname: str, attrs: dict[str, Any]) -> str | None:
    """The attribute holding pname's gradient: dW for W, weight_grad for weights too."""
    bases = [pname, pname[:-1]] if len(pname) > 2 and pname.endswith("s") else [pname]
    for base in bases:
        for pattern in _GRAD_NAMES:
            gname = pattern.format(base)
            if gname in attrs and gname != pname:
                return gname
    return None


def _attributes(obj: Any) -> dict[str, Any]:
    """The instance's attributes and the values of its class's properties (``W`` -> ``self._W``)."""
    attrs = dict(vars(obj)) if hasattr(obj, "__dict__") else {}
    for name, _ in inspect.getmembers(type(obj), lambda v: isinstance(v, property)):
        if name not in attrs:
            try:
                with _quiet():
                    attrs[name] = getattr(obj, name)
            except Exception:  # a property that needs state the layer does not have yet
                continue
    return attrs


def _scalar_as_array(v: Any) -> Any:
    """A loss layer's float result as a 0-d array (its dout is then a 0-d array too)."""
    if isinstance(v, np.floating) or (isinstance(v, float) and not isinstance(v, bool)):
        return np.asarray(v)
    return v


def _is_float_value(v: Any) -> bool:
    if isinstance(v, float) and not isinstance(v, bool):
        return True
    return isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size > 0


class CachePairLayer(Layer):
    """cs231n style: ``NAME_forward(x, w, ...) -> (out, cache)``, ``NAME_backward(dout, cache)``
    (or ``NAME(x) -> (out, cache)``; a forward returning ``out`` alone has x for its cache).

    backward returns dx, or ``(dx, dw, db, ...)``: one gradient per float array input
    after x, in the order of forward's parameters. Those inputs are checked like
    parameters (``params``); the other arguments (dicts, ints, labels) are held fixed.
    backward's own arguments after (dout, cache) come from ``--arg`` too
    (deeplearning.ai's ``linear_activation_backward(dA, cache, activation)``).
    """

    kind = "forward/backward functions with a cache"

    def __init__(
        self,
        fwd: Callable,
        bwd: Callable,
        name: str,
        files: set[str],
        kwargs: dict[str, Any] | None = None,
        backward_kwargs: dict[str, Any] | None = None,
    ):
        self.fwd, self.bwd = fwd, bwd
        self.name = name
        self.files = files
        self.kwargs = dict(kwargs or {})
        self.backward_kwargs = dict(backward_kwargs or {})  # after (dout, cache)
        self.inputs = [k for k, v in self.kwargs.items() if _is_float_array(v)]
        self.params = [self._input_param(k) for k in self.inputs]
        self._cache: Any = None
        self._grads: dict[str, Any] = {}

    def _input_param(self, key: str) -> ParamRef:
        def set_(v: Array) -> None:
            self.kwargs[key] = np.asarray(v, dtype=self.kwargs[key].dtype)

        return ParamRef(
            key, lambda: self.kwargs[key].copy(), set_, lambda: self._grads.get(key), False
        )

    def code_of(self, during: str) -> Any:
        return self.fwd if during == "forward" else self.bwd

    def forward_raw(self, x: Array) -> Any:
        kw = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.kwargs.items()}
        out = self.call("forward", self.fwd, x, **kw)
        if isinstance(out, np.ndarray):  # relu(x) -> y with relu_backward(dout, x)
            self._cache = x
            return out
        if not (isinstance(out, tuple) and len(out) == 2):
            return out  # reported as "forward output" (not an array)
        y, self._cache = out
        return _scalar_as_array(y)

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def _backward(self, dout: Array) -> Any:
        # an argument forward takes too is passed as forward has it now
        kw = {k: self.kwargs.get(k, v) for k, v in self.backward_kwargs.items()}
        out = self.call("backward", self.bwd, dout, self._cache, **kw)
        self._grads = {}
        if isinstance(out, tuple):
            self._grads = dict(zip(self.inputs, out[1:], strict=False))
        return _as_output(out, "backward")

    def backward_raw(self, x: Array, dout: Array) -> Any:
        self.forward(x)
        return self._backward(dout)

    def vjp(self, x: Array, dout: Array) -> VJP:
        y = self.forward(x)
        return VJP(y, self._backward(dout.copy()))


class LossFunctionLayer(Layer):
    """cs231n losses: ``softmax_loss(x, y) -> (loss, dx)``; dx is the gradient of the loss."""

    kind = "loss function returning (loss, dx)"

    def __init__(self, fn: Callable, name: str, files: set[str], kwargs: dict[str, Any]):
        self.fn = fn
        self.name = name
        self.files = files
        self.kwargs = dict(kwargs)
        self.params = []

    def code_of(self, during: str) -> Any:
        return self.fn

    def _both(self, x: Array) -> tuple[Any, Any]:
        out = self.call("forward", self.fn, x, **self.kwargs)
        if isinstance(out, tuple) and len(out) == 2:
            return _scalar_as_array(out[0]), out[1]
        return out, None

    def forward_raw(self, x: Array) -> Any:
        return self._both(x)[0]

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def vjp(self, x: Array, dout: Array) -> VJP:
        y, dx = self._both(x.copy())
        if isinstance(dx, np.ndarray) and dx.dtype.kind == "f":
            dx = (dx * dout).astype(dx.dtype)
        return VJP(y, dx)


def _is_float_array(v: Any) -> bool:
    return isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size > 0


def _backward_partner(obj: Any) -> Callable | None:
    """relu_forward -> relu_backward in the same module (the cs231n naming), or relu ->
    relu_backward (deeplearning.ai's dnn_utils: relu(Z) -> (A, cache))."""
    fname = getattr(obj, "__name__", "")
    if not inspect.isfunction(obj):
        return None
    module = sys.modules.get(obj.__module__)
    # conv_forward_naive -> conv_backward_naive
    if "_forward" in fname:
        partner = getattr(module, fname.replace("_forward", "_backward", 1), None)
        return partner if callable(partner) else None
    partner = getattr(module, fname + "_backward", None)
    # (dout, cache): a one-argument relu_backward(x) would be a derivative, not this
    return partner if callable(partner) and len(_positional_names(partner)) >= 2 else None


class FunctionLayer(Layer):
    """f(x) with its elementwise derivative f'(x): dx = f'(x) * dout."""

    kind = "function + derivative"
    has_dout = False
    takes_output = False  # see derivative_of_output

    def __init__(
        self,
        f: Callable,
        df: Callable,
        name: str,
        files: set[str],
        kwargs: dict[str, Any] | None = None,
    ):
        self.f, self.df = f, df
        self.name = name
        self.files = files
        self.params = []
        self.kwargs = dict(kwargs or {})

    def forward_raw(self, x: Array) -> Any:
        return _scalar_as_array(self.call("forward", self.f, x, **self.kwargs))

    def code_of(self, during: str) -> Any:
        return self.f if during == "forward" else self.df

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def derivative_raw(self, x: Array) -> Any:
        at = x
        if self.takes_output:  # f'(x) = df(y), y = f(x): a tutorial's nonlin(l1, deriv=True)
            at = np.asarray(self.forward_raw(x.copy()))
        return self.call("derivative", self.df, at, **_accepted(self.df, self.kwargs))

    def derivative_of_output(self) -> None:
        """The derivative takes the output y = f(x), not x (set before the check)."""
        self.takes_output = True
        self.kind += ", its derivative taking y = f(x)"

    def backward_raw(self, x: Array, dout: Array) -> Any:
        return self.vjp(x, dout).dx

    def vjp(self, x: Array, dout: Array) -> VJP:
        y = self.forward(x)
        d = self.derivative_raw(x.copy())
        if isinstance(d, np.ndarray | float | int | np.generic):
            d = np.asarray(d)
            dx = d * dout if np.ndim(d) == 0 or d.shape == dout.shape else d
        else:
            dx = d
        return VJP(y, dx)


# ---------------------------------------------------------------------------
# Scalar autograd (micrograd's Value)
# ---------------------------------------------------------------------------


def _is_scalar_autograd(cls: Any) -> bool:
    """A micrograd-style scalar: ``cls(0.5)`` has numbers ``data`` and ``grad``, and
    ``backward()`` takes nothing."""
    if not inspect.isclass(cls) or not callable(getattr(cls, "backward", None)):
        return False
    if len(_positional_names(cls.backward)) > 1 or _has(cls, "forward"):
        return False
    try:
        with _quiet():
            v = cls(0.5)
    except Exception:
        return False
    return all(_is_number(getattr(v, k, None)) for k in ("data", "grad"))


def _scalar_operations(cls: type, spec: str) -> str:
    """What to name instead of a scalar autograd class or its backward: the methods that,
    called on ``cls(0.5)`` (with 3 for any other argument), give a value of their own."""
    ops: list[tuple[str, list[str]]] = []
    for n, fn in vars(cls).items():
        if not inspect.isfunction(fn) or n in ("backward", "__init__") or n.startswith("__r"):
            continue
        extra = [p.name for p in _params_of(fn)[1:] if p.default is p.empty]
        try:
            with _quiet():
                out = fn(cls(0.5), *(3 for _ in extra))
        except Exception:
            continue
        if _is_number(getattr(out, "data", None)):
            ops.append((n, extra))
    ops.sort(key=lambda op: (op[0].startswith("_"), bool(op[1])))  # plain unary ones first
    target = spec.rpartition(":")[0] or "FILE.py"
    example = ""
    if ops:
        name, extra = ops[0]
        args = "".join(f" --arg {e}=3" for e in extra)
        example = f" e.g. --impl {target}:{cls.__name__}.{name}{args}"
    names = ", ".join(n for n, _ in ops[:10]) + (", ..." if len(ops) > 10 else "")
    return (
        f"{cls.__name__} is a scalar autograd class (data, grad, backward()): name one of its "
        f"operations ({names or 'none found'}),{example}"
    ).rstrip(",")


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool)


class ScalarAutogradLayer(FunctionLayer):
    """``Value.tanh`` of a micrograd-style scalar class, as an elementwise f with its f':
    f(x) = Value(x).tanh().data, f'(x) = Value(x).grad after that output's backward(),
    one point at a time. ``accumulates`` tells a ``self.grad = ...`` from ``+=``.

    A binary operation's other operand (``__mul__``'s ``other``, from ``--arg other=3``)
    is checked too wherever the operation takes it as a Value: it is a parameter whose
    gradient is Σ dout·other.grad, each point with a fresh ``Value(3)`` as its operand.
    """

    def __init__(self, cls: type, method: str, name: str, files: set[str], a: Args):
        self.cls, self.method = cls, method
        missing: list[str] = []
        kw = a.bind(getattr(cls, method), 1, "call", missing)  # after self: __pow__'s exponent
        if missing:
            stray = sorted(set(a.values) - {p.name for p in _params_of(getattr(cls, method))})
            instead = f" (it takes no {', '.join(stray)})" if stray else ""
            raise InputError(
                f"{cls.__name__}.{method}() needs {', '.join(missing)}: add "
                + " ".join(f"--arg {m}=3" for m in missing)
                + instead
            )
        for k, v in kw.items():  # a scalar engine's operation takes numbers (or Values)
            if not _is_number(v):
                got = f"an array of shape {v.shape}" if isinstance(v, np.ndarray) else repr(v)
                raise InputError(f"--arg {k}: {cls.__name__}.{method}() takes a number, got {got}")
        super().__init__(self._values, self._grads, name, files, kw)
        self.kind = "scalar autograd: data, backward(), grad"
        # an operand that crashes the operation as a Value: checked as a number, and said
        self.operand_errors: dict[str, UserCodeError] = {}
        # Python calls a reflected operation (3 - v: v.__rsub__(3)) only with a number
        reflected = method in _REFLECTED
        self.operands = tuple(
            k for k, v in kw.items() if not reflected and _is_number(v) and self._takes_value(k)
        )
        self.params = [self._operand(k) for k in self.operands]
        self._last: tuple[Array, Array] | None = None  # the last vjp's (x, dout)

    def _takes_value(self, k: str) -> bool:
        """Whether the operation takes operand k as a Value and gives it a number grad.
        An operation that refuses one on purpose (micrograd's ``__pow__`` asserts a number
        exponent; ``self.data ** k`` has no Value) takes numbers only; one that crashes
        otherwise is noted in ``operand_errors``."""
        try:
            with _quiet():
                o = self.cls(float(self.kwargs[k]))
                self._out(self.cls(0.5), **{**self.kwargs, k: o}).backward()
        except (AssertionError, TypeError) as exc:
            if isinstance(exc, TypeError) and not _refuses_type(exc):
                self.operand_errors[k] = user_error(exc, "derivative", self.files)
            return False
        except Exception as exc:
            self.operand_errors[k] = user_error(exc, "derivative", self.files)
            return False
        return _is_number(o.grad)

    def _operand(self, k: str) -> ParamRef:
        def put(v: Array) -> None:
            self.kwargs[k] = float(v)

        return ParamRef(
            name=k,
            get=lambda: np.array(float(self.kwargs[k])),
            set=put,
            grad=lambda: self._operand_grad(k),
            scalar=True,
            source=f"as a {self.cls.__name__}: Σ dout·{k}.grad after backward()",
            line=self.grad_assignment(k, augmented=True) or "",
        )

    def vjp(self, x: Array, dout: Array) -> VJP:
        if self.operands:  # their gradients are read off this call, when asked for
            self._last = (x.copy(), dout.copy())
        return super().vjp(x, dout)

    def _operand_grad(self, k: str) -> float | None:
        """Σ dout·k.grad over the last vjp's points (a Python loop: only when asked)."""
        if self._last is None:
            return None
        x, dout = self._last

        def total() -> float:
            grads = (_as_numpy(lambda v: self._grads_at(v)[k], float(v)) for v in np.ravel(x))
            return sum(float(d) * g for d, g in zip(np.ravel(dout), grads, strict=True))

        return self.call("derivative", total)

    def code_of(self, during: str) -> Any:
        return getattr(self.cls, self.method)

    def _out(self, v: Any, **kw: Any) -> Any:
        out = getattr(v, self.method)(**kw)
        data = getattr(out, "data", None)
        if not (_is_number(data) or isinstance(data, complex)):
            got = f"{type(out).__name__} with data {type(data).__name__}"
            raise TypeError(f"{self.method}() returned {got}, not a {self.cls.__name__}")
        return out

    def _values(self, x: Array, **kw: Any) -> Array:
        flat = [float(v) for v in np.ravel(x)]  # a complex x raises: not complex-safe
        return np.array([self._data(v, kw) for v in flat], float).reshape(np.shape(x))

    def _data(self, v: float, kw: dict[str, Any]) -> float:
        return _as_numpy(lambda: self._out(self.cls(v), **kw).data)

    def _grads(self, x: Array, **kw: Any) -> Array:
        def grad(v: float) -> Any:
            node = self.cls(v)
            self._out(node, **kw).backward()
            return node.grad

        return np.array([_as_numpy(grad, float(v)) for v in np.ravel(x)]).reshape(np.shape(x))

    def accumulates(self, points: Sequence[float]) -> tuple[float, str, float, float] | None:
        """A point where a value feeding two outputs gets one gradient instead of the sum
        of both: (x, whose grad: "self" or an operand's name, with one output, with two);
        None if none. The two outputs are added up with the engine's own ``+`` and that
        sum backward()ed (an engine whose backward() zeroes every grad first is right);
        without a working ``+``, each output is backward()ed in turn."""
        for v in points:
            grads = self.call("derivative", self._one_and_two, float(v))
            if grads is None:  # outside the operation's domain here: nothing to add up
                continue
            for who, first in grads[0].items():
                both = grads[1][who]
                if _is_number(first) and first != 0 and both == first:
                    return float(v), who, float(first), float(both)
        return None

    def grad_assignment(self, who: str, augmented: bool = False) -> str | None:
        """``file:line in Value.exp(): self.grad = ...``: where the operation's own source
        sets ``who.grad`` with ``=`` (the line an accumulation bug is on), or with ``+=``
        too when ``augmented`` (the line that computes it); None if it has none."""
        fn = getattr(self.cls, self.method)
        try:
            lines, first = inspect.getsourcelines(fn)
            file = inspect.getsourcefile(fn)
            tree = ast.parse(textwrap.dedent("".join(lines)))
        except (TypeError, OSError, SyntaxError):
            return None
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else []
            if augmented and isinstance(node, ast.AugAssign):
                targets = [node.target]
            for t in targets:
                name = getattr(getattr(t, "value", None), "id", None)
                if isinstance(t, ast.Attribute) and t.attr == "grad" and name == who:
                    line = first + node.lineno - 1
                    code = lines[node.lineno - 1].strip()
                    return f"{_short_path(file or '?')}:{line} in {fn.__qualname__}(): {code}"
        return None

    def _fresh(self, v: float) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        """A new node at v, new operands, and the operation's arguments with them."""
        ops = {k: self.cls(float(self.kwargs[k])) for k in self.operands}
        return self.cls(v), ops, {**self.kwargs, **ops}

    def _grads_at(self, v: float) -> dict[str, Any]:
        """The grads of a new node at v ("self") and of new operands after the backward()
        of one output."""
        node, ops, kw = self._fresh(v)
        self._out(node, **kw).backward()
        return {"self": node.grad, **{k: o.grad for k, o in ops.items()}}

    def _one_and_two(self, v: float) -> list[dict[str, Any]] | None:
        """The grads of the node and its operands with one output, then with two; None
        where Python's math raises (outside the domain)."""
        try:
            one = self._grads_at(v)
            node, ops, kw = self._fresh(v)
            a, b = self._out(node, **kw), self._out(node, **kw)
            try:
                total = a + b
            except TypeError:  # no + of its own: backward() each output in turn
                a.backward()
                b.backward()
            else:
                total.backward()
        except (OverflowError, ZeroDivisionError, ValueError) as exc:
            if _python_math(exc) is None:
                raise
            return None
        return [one, {"self": node.grad, **{k: o.grad for k, o in ops.items()}}]


_REFLECTED = frozenset(
    f"__r{op}__" for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul")
)


def _refuses_type(exc: TypeError) -> bool:
    """A TypeError of Python's own operators for an operand type they do not take
    ("unsupported operand type(s) for ** or pow(): 'float' and 'Value'")."""
    text = str(exc)
    return "unsupported operand type" in text or "must be real number" in text


def _as_numpy(compute: Callable[..., Any], *args: Any) -> float:
    """A scalar engine's number as numpy would have it where Python's math differs (see
    ``_python_math``), and (-2)**0.5, complex in Python, as numpy's NaN."""
    try:
        v = compute(*args)
    except (OverflowError, ZeroDivisionError, ValueError) as exc:
        numpy_value = _python_math(exc)
        if numpy_value is None:
            raise
        return numpy_value
    return math.nan if isinstance(v, complex) else float(v)


def _python_math(exc: BaseException) -> float | None:
    """What numpy gives where Python's math raises: math.exp(1000) (OverflowError) and 1/0
    (ZeroDivisionError) inf, math.log(-1) (a domain error) NaN; None for any other error."""
    if isinstance(exc, OverflowError | ZeroDivisionError):
        return math.inf
    return math.nan if _domain_error(exc) else None


def _domain_error(exc: BaseException) -> bool:
    """math's ValueError for an argument outside its domain (3.11: "math domain error";
    3.13: "expected a positive input, got -1.0")."""
    text = str(exc)
    return isinstance(exc, ValueError) and ("math domain" in text or text.startswith("expected a "))


# ---------------------------------------------------------------------------
# torch (optional)
# ---------------------------------------------------------------------------


def _torch() -> Any:
    try:
        import torch
    except ImportError:
        return None
    return torch


class TorchLayer(Layer):
    """A torch.nn.Module, torch.autograd.Function or tensor function; autograd gives the vjp."""

    def __init__(
        self,
        fn: Callable,
        kind: str,
        name: str,
        files: set[str],
        module: Any = None,
        function: Any = None,
    ):
        self.fn = fn
        self.function = function  # the autograd.Function subclass, when it is one
        self.kind = kind
        self.name = name
        self.files = files
        self.module = module
        self.params = []
        self.kwargs: dict[str, Any] = {}
        self.dtype: Any = None

    def code_of(self, during: str) -> Any:
        if self.function is not None:
            return getattr(self.function, during, None)
        if self.module is not None:
            return type(self.module).forward if during == "forward" else None
        return self.fn if during == "forward" else None

    def to_dtype(self, dtype: np.dtype) -> None:
        torch = _torch()
        self.dtype = torch.float64 if dtype == np.float64 else torch.float32
        if self.module is not None:
            self.module.to(self.dtype)
            self.params = [
                self._param(n, p) for n, p in self.module.named_parameters() if p.requires_grad
            ]

    def _param(self, name: str, p: Any) -> ParamRef:
        torch = _torch()

        def set_(v: Array) -> None:
            with torch.no_grad():
                p.copy_(torch.as_tensor(np.asarray(v)).to(p.dtype))

        def grad() -> Any:
            return None if p.grad is None else p.grad.detach().cpu().numpy().copy()

        return ParamRef(name, lambda: p.detach().cpu().numpy().copy(), set_, grad, p.ndim == 0)

    def forward_raw(self, x: Array) -> Any:
        torch = _torch()
        t = torch.from_numpy(x)  # shares memory: in-place changes show in x
        with torch.no_grad():
            out = self.call("forward", self.fn, t, **self._kwargs_for(t))
        return out.detach().cpu().numpy().copy() if torch.is_tensor(out) else out

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def _vjp(self, x: Array, dout: Array, share_dout: bool) -> VJP:
        torch = _torch()
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        if self.module is not None:
            self.module.zero_grad(set_to_none=True)
        # a copy that is no leaf: an in-place activation (ReLU(inplace=True), a Function
        # with mark_dirty) may write into it, as it may into any layer's input in a model
        y = self.call("forward", self.fn, t.clone(), **self._kwargs_for(t))
        if not torch.is_tensor(y):
            return VJP(y, None)
        g = torch.from_numpy(dout if share_dout else dout.copy())
        if g.dtype != y.dtype or tuple(g.shape) != tuple(y.shape):
            raise UserCodeError(
                "forward",
                "ShapeError",
                f"forward returned a {tuple(y.shape)} {y.dtype} tensor for a {tuple(t.shape)} "
                f"{t.dtype} input",
            )
        self.call("backward", lambda: y.backward(g))
        dx = None if t.grad is None else t.grad.detach().numpy().copy()
        return VJP(y.detach().numpy().copy(), dx)

    def vjp(self, x: Array, dout: Array) -> VJP:
        return self._vjp(x, dout, share_dout=False)

    def backward_raw(self, x: Array, dout: Array) -> Any:
        return self._vjp(x, dout, share_dout=True).dx

    def _kwargs_for(self, t: Any) -> dict[str, Any]:
        """The --arg values for forward, float arrays as tensors of x's dtype."""
        return {k: _tensor_like(v, t) for k, v in self.kwargs.items()}

    def backward_twice(self, x: Array, dout: Array) -> tuple[Array, Array] | None:
        """dx from two backward passes over one forward's graph (retain_graph, as a
        second loss on the same output does); None where there is no dx."""
        torch = _torch()
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        y = self.call("forward", self.fn, t.clone(), **self._kwargs_for(t))
        if not torch.is_tensor(y) or not y.requires_grad:
            return None
        g = torch.from_numpy(dout.copy()).to(y.dtype)

        def grad(retain: bool) -> Array | None:
            (dx,) = torch.autograd.grad(y, t, g, retain_graph=retain, allow_unused=True)
            return None if dx is None else dx.detach().numpy().copy()

        first = self.call("backward", grad, True)
        second = self.call("backward", grad, False)
        return None if first is None or second is None else (first, second)


# ---------------------------------------------------------------------------
# Adapting
# ---------------------------------------------------------------------------


class ModelLayer(Layer):
    """A whole model: ``params`` (a dict of arrays) and a scalar ``loss(x, t)``.

    Its gradients come from ``gradient(x, t) -> grads`` (the "Deep Learning from
    Scratch" TwoLayerNet) or from ``loss(X, y) -> (loss, grads)`` (cs231n). There is
    no dx: every parameter is checked, and each layer of ``self.layers`` on its own.
    """

    kind = "model (params, loss)"
    has_dx = False
    loss_name: str | None = None  # the user's cost function, when it is one of its own

    def __init__(self, obj: Any, name: str, files: set[str], kwargs: dict[str, Any]):
        self.obj = obj
        self.name = name
        self.files = files
        self.kwargs = dict(kwargs)
        self._grads: dict[str, Any] = {}
        self._scale = 1.0
        self.gradient = getattr(obj, "gradient", None)
        ps = obj.params
        self.params = [self._param(k) for k, v in ps.items() if _is_float_array(v)]

    def _param(self, key: str) -> ParamRef:
        def set_(v: Array) -> None:
            self.obj.params[key][...] = v  # in place: the layers hold the same arrays

        def grad() -> Any:
            g = self._grads.get(key)
            return None if g is None else np.asarray(g) * self._scale

        return ParamRef(key, lambda: self.obj.params[key].copy(), set_, grad, False)

    def code_of(self, during: str) -> Any:
        fn = self.gradient if during == "backward" and self.gradient else self.obj.loss
        return getattr(fn, "__func__", fn)

    def forward_raw(self, x: Array) -> Any:
        out = self.call("forward", self.obj.loss, x, **self.kwargs)
        return _scalar_as_array(out[0] if isinstance(out, tuple) else out)

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def vjp(self, x: Array, dout: Array) -> VJP:
        if self.gradient is not None:
            y = self.forward(x)
            self.call("forward", lambda: None)  # the same RNG state for gradient's forward
            grads = self.call("backward", self.gradient, x.copy(), **self.kwargs)
        else:
            out = self.call("forward", self.obj.loss, x.copy(), **self.kwargs)
            y, grads = (_scalar_as_array(out[0]), out[1]) if isinstance(out, tuple) else (out, {})
        self._grads = dict(grads) if isinstance(grads, dict) else {}
        self._scale = float(dout)
        return VJP(y, None)

    def backward_raw(self, x: Array, dout: Array) -> Any:
        return self.vjp(x, dout).dx

    def sublayers(self, x: Array) -> list[tuple[str, Any, Array, dict[str, Any]]]:
        """(name, layer, its input, its other arguments) for each layer the loss runs."""
        found: dict[int, tuple[str, Any]] = {}
        layers = getattr(self.obj, "layers", None)
        items = layers.items() if isinstance(layers, dict) else enumerate(layers or ())
        for k, layer in items:
            found[id(layer)] = (
                str(k) if isinstance(k, str) else type(layer).__name__ + str(k),
                layer,
            )
        for k, v in vars(self.obj).items():
            if _is_layer_object(v) and id(v) not in found:
                found[id(v)] = (k, v)
        found = {i: nl for i, nl in found.items() if _is_layer_object(nl[1])}
        seen: list[tuple[str, Any, Array, dict[str, Any]]] = []

        def recorder(name: str, layer: Any, fwd: Callable) -> Callable:
            def forward(x_in: Any, *args: Any, **kw: Any) -> Any:
                if isinstance(x_in, np.ndarray) and not any(s[1] is layer for s in seen):
                    sig = _positional_names(fwd)[1 : 1 + len(args)]
                    given = {**dict(zip(sig, args, strict=False)), **kw}
                    seen.append((name, layer, x_in.copy(), given))
                return fwd(x_in, *args, **kw)

            return forward

        for name, layer in found.values():
            layer.forward = recorder(name, layer, layer.forward)
        try:
            self.forward(x)
        finally:
            for _, layer in found.values():
                vars(layer).pop("forward", None)
        return seen


def _is_layer_object(v: Any) -> bool:
    return (
        not inspect.isclass(v)
        and callable(getattr(v, "forward", None))
        and callable(getattr(v, "backward", None))
        and hasattr(v, "__dict__")
    )


# ---------------------------------------------------------------------------
# Adapting: arguments
# ---------------------------------------------------------------------------

# the training switch of dropout / batch norm (suggested as true when required)
TRAIN_FLAGS = ("train_flg", "training", "train", "is_training", "train_mode")
# backward(dout, learning_rate) that also applies the update: called with a rate of 0
LEARNING_RATES = ("learning_rate", "lr", "eta", "step_size", "learn_rate")
# backward(input, grad_output) (the YSDA / Coursera numpy-network notebooks): the layer's
# input comes first, then the gradient
_INPUT_NAMES = ("input", "inputs", "x", "input_data", "a_prev", "layer_input", "x_in")
_UPSTREAM_NAMES = ("grad_output", "grad_out", "output_gradient", "output_grad", "dout",
                   "grad", "gradient", "dy", "dvalues", "delta", "upstream", "prev_grad",
                   "grad_y", "d_out")  # fmt: skip
# f(x, deriv=False): one function for f and, with the switch on, f' (tutorials' nonlin)
DERIVATIVE_FLAGS = ("deriv", "derivative", "derive", "prime", "grad", "gradient", "backward")
# sizes actcheck can read off the input shape
_INPUT_SIZES = ("n_inputs", "input_size", "input_dim", "in_features", "n_in", "d_in")


def _params_of(fn: Any) -> list[inspect.Parameter]:
    try:
        return [
            p
            for p in inspect.signature(fn).parameters.values()
            if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return []


def _positional_names(fn: Any) -> list[str]:
    return [p.name for p in _params_of(fn)]


def _accepted(fn: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kwargs fn takes: those it names, or all of them when it takes ``**kwargs``."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return dict(kwargs)
    names = set(_positional_names(fn))
    return {k: v for k, v in kwargs.items() if k in names}


@dataclass
class Args:
    """The values of ``--arg`` and which of them a constructor or a call took."""

    values: dict[str, Any]
    shape: tuple[int, ...]
    used: set[str]

    def bind(self, fn: Any, skip: int, what: str, missing: list[str]) -> dict[str, Any]:
        """Keyword arguments for fn's parameters after the first ``skip`` (x)."""
        kw: dict[str, Any] = {}
        for p in _params_of(fn)[skip:]:
            if p.name in self.values:
                kw[p.name] = self.values[p.name]
                self.used.add(p.name)
            elif p.default is not p.empty:
                continue
            elif p.name in _INPUT_SIZES and len(self.shape) >= 2 and what == "constructor":
                kw[p.name] = int(np.prod(self.shape[1:]))
            else:
                missing.append(p.name)
        return kw

    def example(self, name: str) -> str:
        """A working ``--arg`` for a parameter called ``name`` (a guess from the name)."""
        d = int(np.prod(self.shape[1:])) if len(self.shape) >= 2 else 16
        low = name.lower()
        if low in TRAIN_FLAGS:
            v = "true"
        elif low in ("w", "weight", "weights") or (low[:1] == "w" and low[1:].isdigit()):
            v = f"randn:{d},16"
        elif low in ("b", "bias", "biases", "w0") or (low[:1] == "b" and low[1:].isdigit()):
            v = "zeros:16"
        elif low == "gamma":
            v = f"ones:{d}"
        elif low == "beta":
            v = f"zeros:{d}"
        elif low in ("t", "y", "y_true", "labels", "target", "targets"):
            v = "labels:10"
        elif low.endswith("_param") or low.endswith("_params"):
            v = "'{}'"
        elif "slope" in low:
            v = "0.01"
        elif low in ("inplace", "in_place"):
            v = "false"
        elif low in _RATE_LIKE:
            v = "0.5"
        elif any(k in low for k in ("size", "dim", "n_", "num", "pool", "stride", "pad", "c1")):
            v = "16" if "stride" not in low and "pad" not in low else "1"
        else:
            v = f"randn:{','.join(map(str, self.shape))}"
        return f"--arg {name}={v}"


# arguments that are a number between 0 and 1 (a probability, a rate, a penalty's weight)
_RATE_LIKE = ("p", "rate", "dropout_ratio", "alpha", "reg", "eps", "momentum", "keep_prob")
_RATE_LIKE += ("lambd", "lam", "lmbda", "l2_lambda")


def _need(name: str, missing: list[str], args: Args) -> InputError:
    return InputError(
        f"{name} needs {', '.join(missing)}: add " + " ".join(args.example(m) for m in missing)
    )


def _construct(cls: type, name: str, files: set[str], args: Args) -> Any:
    """cls(**the --arg values it takes); exit 2 naming what is missing."""
    if inspect.isabstract(cls):
        raise InputError(_kind_message(name, cls))
    missing: list[str] = []
    kw = args.bind(cls, 0, "constructor", missing)
    if missing:
        raise _need(cls.__name__, missing, args)
    try:
        with _quiet():
            return cls(**kw)
    except Exception as exc:
        err = user_error(exc, "constructor", files)
        given = ", ".join(f"{k}=..." for k in kw)
        hint = " (check the --arg values)" if kw else ""
        raise InputError(f"{name}: {cls.__name__}({given}) raised {err}{hint}") from None


@dataclass(frozen=True)
class BackwardCall:
    """How a layer's backward is called: ``backward([x,] dout, **kwargs)``.

    ``takes_input``: backward(input, grad_output). ``rate_args`` / ``rate_attrs``: the
    learning rates actcheck holds at 0 (backward parameters, or attributes of the layer
    that its backward reads: ``self.learning_rate``), none of them given with --arg.
    """

    kwargs: dict[str, Any]
    takes_input: bool = False
    rate_args: tuple[str, ...] = ()
    rate_attrs: tuple[str, ...] = ()

    @property
    def rates(self) -> tuple[str, ...]:
        return self.rate_args + self.rate_attrs

    def words(self, method: str) -> str:
        """What the report's header says of it ("" for a plain backward(dout))."""
        out = []
        if self.takes_input or self.rate_args:
            args = ["input"] if self.takes_input else []
            out.append(f"{method}({', '.join([*args, 'dout', *self.rate_args])})")
        out += [f"self.{k} = 0" for k in self.rate_attrs]
        return "".join(", " + w for w in out)


def _backward_call(inst: Any, method: str, name: str, args: Args) -> BackwardCall:
    """backward's parameters after dout (after input and dout for backward(input,
    grad_output)) from --arg; learning rates not given there, defaulted or not, held at 0
    so that a backward that also applies the update leaves the layer as it was."""
    fn = getattr(inst, method)
    names = [p.name.lower() for p in _params_of(fn)]
    takes_input = len(names) >= 2 and names[0] in _INPUT_NAMES and names[1] in _UPSTREAM_NAMES
    skip = 2 if takes_input else 1
    missing: list[str] = []
    kw = args.bind(fn, skip, "call", missing)
    rate_args = tuple(
        p.name
        for p in _params_of(fn)[skip:]
        if p.name.lower() in LEARNING_RATES and p.name not in kw
    )
    missing = [p for p in missing if p not in rate_args]
    if missing:
        raise _need(f"{getattr(fn, '__qualname__', name)}()", missing, args)
    attrs = vars(inst) if hasattr(inst, "__dict__") else {}
    rate_attrs = tuple(
        k for k, v in attrs.items()
        if k.lower() in LEARNING_RATES and k not in args.values
        and isinstance(v, int | float) and not isinstance(v, bool)
    )  # fmt: skip
    for k in rate_attrs:
        setattr(inst, k, 0.0)
    return BackwardCall({**kw, **dict.fromkeys(rate_args, 0.0)}, takes_input, rate_args, rate_attrs)


def _call_kwargs(fn: Any, name: str, args: Args, skip: int = 1) -> dict[str, Any]:
    missing: list[str] = []
    kw = args.bind(fn, skip, "call", missing)
    if missing:
        fname = getattr(fn, "__qualname__", name)
        raise _need(f"{fname}()", missing, args)
    return kw


# ---------------------------------------------------------------------------
# Adapting: which convention
# ---------------------------------------------------------------------------


def _files(*paths: str | None) -> set[str]:
    return {os.path.realpath(p) for p in paths if p}


def _has(obj: Any, *names: str) -> bool:
    return all(callable(getattr(obj, n, None)) for n in names)


# forward/backward under other names (ML-From-Scratch's first; the rest from tutorials)
_METHOD_PAIRS = (
    ("forward_pass", "backward_pass"),
    ("forward_propagation", "backward_propagation"),
    ("forward_prop", "backward_prop"),
    ("forward_prop", "backward"),
    ("fprop", "bprop"),
)


def _class_convention(obj: Any) -> str | None:
    """Which convention a class (or instance) follows, by its method names."""
    if isinstance(getattr(obj, "params", None), dict) and _has(obj, "loss"):
        return "model"
    if _has(obj, "forward", "backward"):
        return "forward/backward"
    for pair in _METHOD_PAIRS:
        if _has(obj, *pair):
            return "/".join(pair)
    if _has(obj, "fn", "grad"):
        return "fn/grad"
    if _has(obj, "loss", "gradient") and len(_positional_names(obj.loss)) == 2 + (
        inspect.isclass(obj)
    ):
        return "loss/gradient" if not inspect.isclass(obj) else "loss"
    if inspect.isclass(obj) and _has(obj, "loss"):
        return "loss"  # a model (params made in __init__) or loss(y, y_pred)
    if _has(obj, "gradient") and callable(obj) and not inspect.isclass(obj):
        return "__call__/gradient"
    if inspect.isclass(obj) and _has(obj, "gradient") and "__call__" in dir(obj):
        return "__call__/gradient"
    return None


def adapt(
    loaded: Loaded | Any,
    derivative: Loaded | Callable | None = None,
    args: dict[str, Any] | None = None,
    shape: tuple[int, ...] = (),
    order: int = 1,
) -> Layer:
    """Wrap the loaded object in a Layer. Raises InputError when it is of no usable kind.

    ``args``: the values for constructor and call parameters (``--arg``, built); one
    that nothing takes is refused. ``shape``: the input's (fills input sizes).
    """
    if not isinstance(loaded, Loaded):
        loaded = Loaded(loaded, getattr(loaded, "__name__", type(loaded).__name__), None)
        loaded.file = _source_file(loaded.obj)
    a = Args(dict(args or {}), tuple(shape), set())
    layer = _adapt(loaded, derivative, a, order)
    if order == 2 and not getattr(layer, "second_order", False):
        raise InputError(
            f"{loaded.spec}: --order 2 with --impl checks grad2 against grad (numpy-ml's "
            "fn/grad/grad2); for a function, point --impl at f' and --derivative at f''"
        )
    unused = sorted(set(a.values) - a.used)
    if unused:
        takes = getattr(layer, "arg_names", None)
        where = "(neither its constructor nor its forward call)"
        if takes:
            where = f"(it takes {', '.join(takes)})"
        raise InputError(
            f"--arg {unused[0]}: {loaded.spec} takes no parameter {unused[0]!r} {where}"
        )
    return layer


def _adapt(loaded: Loaded, derivative: Loaded | Callable | None, a: Args, order: int = 1) -> Layer:
    obj, name = loaded.obj, loaded.spec
    files = _files(loaded.file)
    dfun = derivative.obj if isinstance(derivative, Loaded) else derivative
    if isinstance(derivative, Loaded):
        files |= _files(derivative.file)
        if derivative.owner is not None and inspect.isfunction(dfun):
            dfun = getattr(_construct(derivative.owner, name, files, a), dfun.__name__)
    elif dfun is not None:
        files |= _files(_source_file(dfun))
    if loaded.owner is not None and inspect.isfunction(obj) and _is_scalar_autograd(loaded.owner):
        if dfun is not None:
            raise InputError(f"{name}: --derivative is only for plain numpy functions")
        if obj.__name__ == "backward":
            raise InputError(f"{name}: {_scalar_operations(loaded.owner, name)}")
        return ScalarAutogradLayer(loaded.owner, obj.__name__, name, files, a)
    if loaded.owner is not None and inspect.isfunction(obj):
        # Class.method written in the class body (not a staticmethod): bind an instance
        obj = getattr(_construct(loaded.owner, name, files, a), obj.__name__)
    torch = _torch() if "torch" in sys.modules or _mentions_torch(obj) else None

    if torch is not None:
        layer = _adapt_torch(torch, obj, name, files, a)
        if layer is not None:
            if dfun is not None:
                raise InputError(f"{name}: --derivative is only for plain numpy functions")
            return layer
    conv = _class_convention(obj) if not inspect.isfunction(obj) else None
    if conv is not None and not inspect.ismethod(obj):
        if dfun is not None:
            raise InputError(f"{name}: --derivative is only for plain functions, not layers")
        inst = _construct(obj, name, files, a) if inspect.isclass(obj) else obj
        conv = _class_convention(inst) or conv
        if conv == "loss":
            raise InputError(_kind_message(name, inst))
        return _adapt_object(inst, conv, name, files, a, order)
    if inspect.isclass(obj):
        if hasattr(obj, "forward") and not hasattr(obj, "backward"):
            raise InputError(f"{name}: class {obj.__name__} has forward() but no backward(dout)")
        raise InputError(_kind_message(name, obj))
    if hasattr(obj, "forward") and callable(obj.forward) and not inspect.isroutine(obj):
        raise InputError(f"{name}: has forward() but no backward(dout)")
    if callable(obj):
        return _adapt_function(obj, dfun, name, files, a)
    raise InputError(_kind_message(name, obj))


def _adapt_object(
    inst: Any, conv: str, name: str, files: set[str], a: Args, order: int = 1
) -> Layer:
    if conv == "model":
        return ModelLayer(inst, name, files, _call_kwargs(inst.loss, name, a))
    label = _nnfs_label(inst) if conv == "forward/backward" else None
    if label is not None:
        if label not in a.values:
            raise _need(f"{type(inst).__name__}.backward()", [label], a)
        a.used.add(label)
        return NnfsLossLayer(inst, name, files, label, a.values[label])
    if conv == "forward/backward" or tuple(conv.split("/")) in _METHOD_PAIRS:
        methods = ("forward", "backward") if conv == "forward/backward" else tuple(conv.split("/"))
        kw = _call_kwargs(getattr(inst, methods[0]), name, a)
        call = _backward_call(inst, methods[1], name, a)
        return ForwardBackwardLayer(inst, name, files, methods, kw, call)  # type: ignore[arg-type]
    if conv == "fn/grad":  # numpy-ml: grad checked against fn, grad2 against grad
        kw = _call_kwargs(inst.fn, name, a)
        if order == 2 and _has(inst, "grad2"):

            def grad(x: Array, **kw: Any) -> Any:
                g = inst.grad(x, **kw)  # numpy-ml's ReLU.grad returns ints: a value, as f
                return g.astype(x.dtype) if isinstance(g, np.ndarray) and g.dtype != x.dtype else g

            layer = FunctionLayer(grad, inst.grad2, name, files, kw)
            layer.kind = "grad/grad2 class"
            layer.code_of = lambda during: (  # type: ignore[method-assign]
                inst.grad if during == "forward" else inst.grad2
            )
            layer.second_order = True  # type: ignore[attr-defined]
            return layer
        layer = FunctionLayer(inst.fn, inst.grad, name, files, kw)
        layer.kind = "fn/grad class"
        return layer
    if conv == "loss/gradient":  # ML-From-Scratch: loss(y, y_pred); y_pred is differentiated
        names = _positional_names(inst.loss)
        if len(names) != 2:
            raise InputError(f"{name}: expected loss(y, y_pred), found loss({', '.join(names)})")
        y_name, p_name = names
        if y_name not in a.values:
            raise _need(f"{type(inst).__name__}.loss()", [y_name], a)
        a.used.add(y_name)
        y = a.values[y_name]

        def f(x: Array) -> Any:
            return inst.loss(y, x)

        def df(x: Array) -> Any:
            return inst.gradient(y, x)

        f.__qualname__ = type(inst).loss.__qualname__  # type: ignore[attr-defined]
        layer = FunctionLayer(f, df, name, files)
        layer.kind = f"loss(y, {p_name}) / gradient class"
        layer.code_of = lambda during: inst.loss if during == "forward" else inst.gradient  # type: ignore[method-assign]
        return layer
    # __call__/gradient (ML-From-Scratch activations)
    layer = FunctionLayer(inst, inst.gradient, name, files, _call_kwargs(inst.__call__, name, a))
    layer.kind = "__call__/gradient class"
    layer.code_of = lambda during: (  # type: ignore[method-assign]
        type(inst).__call__ if during == "forward" else type(inst).gradient
    )
    return layer


# ---------------------------------------------------------------------------
# deeplearning.ai's functional network: forward(X, parameters), compute_cost, backward
# ---------------------------------------------------------------------------

_FORWARD_OUTPUT_NAMES = ("AL", "A2", "A3", "A", "Y_hat", "yhat")  # what backward calls AL
_CACHE_NAMES = ("caches", "cache")
_COST_NAMES = ("compute_cost", "cost", "compute_loss")
_INIT_NAMES = ("initialize_parameters_deep", "initialize_parameters")
_INIT_DEFAULTS = {"n_h": 4, "n_y": 1}  # initialize_parameters(n_x, n_h, n_y); n_x from x
_HIDDEN = [5, 3, 1]  # initialize_parameters_deep's layer_dims after n_x


class FunctionalModel:
    """deeplearning.ai's network as functions, seen as a model (``params``, ``loss``,
    ``gradient``): ``L_model_forward(X, parameters) -> (AL, caches)``,
    ``compute_cost(AL, Y)`` and ``L_model_backward(AL, Y, caches) -> grads`` with
    ``grads["dW1"]`` the gradient of the cost in ``parameters["W1"]``. x is X, one column
    per example; Y is 0/1 labels, one row per output; backward's other arguments are
    bound by name (X, Y, parameters, cache)."""

    def __init__(
        self,
        fwd: Callable,
        bwd: Callable,
        cost: Callable,
        params: dict,
        y: Array,
        extra: dict[str, Any],
    ):
        self.fwd, self.bwd, self.cost = fwd, bwd, cost
        self.params = params
        self.y = y
        self.extra = extra  # --arg values for the functions' other arguments (lambd)

    def _forward(self, x: Array) -> tuple[Any, Any]:
        out = self.fwd(**_by_name(self.fwd, self.extra, X=x, Y=self.y, parameters=self.params))
        return out if isinstance(out, tuple) and len(out) == 2 else (out, None)

    def loss(self, x: Array) -> Any:
        al, _ = self._forward(x)
        return self.cost(**_by_name(self.cost, self.extra, AL=al, Y=self.y, parameters=self.params))

    def gradient(self, x: Array) -> dict[str, Any]:
        al, cache = self._forward(x)
        known = {"AL": al, "Y": self.y, "X": x, "cache": cache, "parameters": self.params}
        grads = self.bwd(**_by_name(self.bwd, self.extra, **known))
        if not isinstance(grads, dict):
            return {}
        # "dW1" is W1's gradient; "dA0", "dZ1" name no parameter
        return {k[1:]: v for k, v in grads.items() if k[:1] == "d" and k[1:] in self.params}


_MODEL_ALIASES = (
    {n: "AL" for n in _FORWARD_OUTPUT_NAMES}
    | {n: "cache" for n in _CACHE_NAMES}
    | {"parameters": "parameters", "params": "parameters", "X": "X", "Y": "Y"}
)


def _model_alias(param: str) -> str | None:
    """What a function's parameter called ``param`` is: a3, A2, AL, Y_hat -> "AL", ..."""
    if param in _MODEL_ALIASES:
        return _MODEL_ALIASES[param]
    return "AL" if re.fullmatch(r"(a\d*|al|y_?hat|probs?)", param.lower()) else None


def _by_name(fn: Callable, extra: dict[str, Any], **known: Any) -> dict[str, Any]:
    """fn's arguments from what the model has, by the names deeplearning.ai gives them,
    and from ``extra`` (--arg) for the rest."""
    kw = {}
    for p in _params_of(fn):
        if p.name in extra:
            kw[p.name] = extra[p.name]
        elif _model_alias(p.name) in known and p.default is p.empty:
            kw[p.name] = known[_model_alias(p.name)]
    return kw


def _model_extras(fns: Sequence[Callable], a: Args) -> dict[str, Any]:
    """The --arg values the functions take beyond X, Y, AL, caches and parameters; exit 2
    naming one that is missing (compute_cost_with_regularization's lambd)."""
    extra: dict[str, Any] = {}
    for fn in fns:
        missing: list[str] = []
        extra |= a.bind(fn, 0, "call", missing)
        unknown = [m for m in missing if _model_alias(m) is None]
        if unknown:
            raise _need(f"{fn.__name__}()", unknown[:1], a)
    return extra


def _functional_model(obj: Callable, name: str, files: set[str], a: Args) -> Layer | None:
    """The layer for deeplearning.ai's L_model_forward / L_model_backward (either named),
    or None when obj is not one of such a pair."""
    module = sys.modules.get(getattr(obj, "__module__", ""), None)
    fname = getattr(obj, "__name__", "")
    if module is None or not inspect.isfunction(obj):
        return None
    if "backward" in fname:
        bwd, (fwd, suffix) = obj, _partner(module, fname.replace("backward", "forward"))
    else:
        fwd, (bwd, suffix) = obj, _partner(module, fname.replace("forward", "backward"))
    if not (callable(fwd) and callable(bwd)) or fwd is bwd:
        return None
    fnames, bnames = _positional_names(fwd), _positional_names(bwd)
    if not ({"parameters", "params"} & set(fnames) and {"caches", "cache"} & set(bnames)):
        return None
    # backward_propagation_with_regularization goes with compute_cost_with_regularization
    costs = [n + suffix for n in _COST_NAMES if suffix] + list(_COST_NAMES)
    cost = next((getattr(module, n) for n in costs if callable(getattr(module, n, None))), None)
    init = next(
        (getattr(module, n) for n in _INIT_NAMES if callable(getattr(module, n, None))), None
    )
    if cost is None or init is None:
        what = "compute_cost(AL, Y)" if cost is None else "initialize_parameters_deep(layer_dims)"
        raise InputError(f"{name}: checking {fwd.__name__}/{bwd.__name__} needs {what} in its file")
    params = _initial_parameters(init, name, files, a)
    w1 = params.get("W1")
    if _is_float_array(w1) and w1.ndim == 2 and w1.shape[1] != a.shape[0]:
        raise InputError(
            f"{name}: W1 takes {w1.shape[1]} features a column but x has {a.shape[0]}: "
            f"add --shape {w1.shape[1]},{a.shape[1] if len(a.shape) > 1 else 32}"
        )
    extra = _model_extras((fwd, bwd, cost), a)
    model = FunctionalModel(fwd, bwd, cost, params, _labels(params, name, a, extra), extra)
    layer = ModelLayer(model, name, files, {})
    layer.kind = f"model as functions: {fwd.__name__}, {cost.__name__}, {bwd.__name__}"
    layer.loss_name = cost.__name__
    inits = ", ".join(p.name for p in _params_of(init))
    layer.arg_names = [f"{inits} for {init.__name__}()", "Y", *extra]
    layer.code_of = lambda during: bwd if during == "backward" else fwd  # type: ignore[method-assign]
    return layer


def _partner(module: Any, name: str) -> tuple[Any, str]:
    """The function called ``name`` in module, or, failing that, the one named by a prefix
    of it at an underscore (forward_propagation for backward_propagation_with_dropout's
    forward_propagation_with_dropout), with the suffix left over ("" or "_with_dropout")."""
    cut = len(name)
    while cut > 0:
        fn = getattr(module, name[:cut], None)
        if callable(fn):
            return fn, name[cut:]
        cut = name.rfind("_", 0, cut)
    return None, ""


def _labels(params: dict, name: str, a: Args, extra: dict[str, Any]) -> Array:
    """Y: ``--arg Y=...`` as given, else random 0/1 labels, one row per output of the last
    layer and one column per example."""
    n_y = int(np.shape(params.get(f"W{len(params) // 2}", np.zeros((1, 1))))[0])
    m = a.shape[1] if len(a.shape) >= 2 else 1
    given = extra.pop("Y", None)
    if given is None:
        return np.random.default_rng(0).integers(0, 2, (n_y, m)).astype(float)
    try:
        y = np.asarray(given, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{name}: Y must be numbers (0/1 labels), got {given!r}") from None
    if y.size != n_y * m:
        raise InputError(f"{name}: Y has {y.size} labels for {n_y} output(s) × {m} examples")
    return y.reshape(n_y, m)


def _initial_parameters(init: Callable, name: str, files: set[str], a: Args) -> dict:
    """initialize_parameters_deep(layer_dims) ([n_x, 5, 3, 1] unless --arg layer_dims
    says otherwise) or initialize_parameters(n_x, n_h, n_y); n_x is x's first size."""
    n_x = int(a.shape[0])
    dims = [n_x, *_HIDDEN]
    defaults = {**_INIT_DEFAULTS, "layer_dims": dims, "layers_dims": dims, "n_x": n_x}
    kw = {}
    for p in _params_of(init):
        if p.name in a.values:
            kw[p.name] = a.values[p.name]
            a.used.add(p.name)
        elif p.name in defaults:
            kw[p.name] = defaults[p.name]
        elif p.default is p.empty:
            raise _need(f"{init.__name__}()", [p.name], a)
    try:
        with _quiet():
            params = init(**kw)
    except Exception as exc:
        err = user_error(exc, "constructor", files)
        given = [k for k in kw if k in a.values]
        hint = f" (check --arg {', '.join(given)})" if given else ""
        raise InputError(f"{name}: {init.__name__}() raised {err}{hint}") from None
    if not isinstance(params, dict) or not any(_is_float_array(v) for v in params.values()):
        raise InputError(f"{name}: {init.__name__}() returned no dict of parameter arrays")
    empty = [k for k, v in params.items() if isinstance(v, np.ndarray) and v.size == 0]
    if empty:
        shape = np.shape(params[empty[0]])
        raise InputError(f"{name}: {init.__name__}() made {empty[0]} empty, of shape {shape}")
    return {k: np.array(v) if _is_float_array(v) else v for k, v in params.items()}


def _adapt_function(obj: Callable, dfun: Any, name: str, files: set[str], a: Args) -> Layer:
    model = None if dfun is not None else _functional_model(obj, name, files, a)
    if model is not None:
        return model
    try:
        kw = _call_kwargs(obj, name, a)
    except InputError as exc:
        known = dfun or _derivative_flag(obj, {}) or _backward_partner(obj)
        why = None if known else not_elementwise_message(name, obj)
        if why is None:
            raise
        # a loss(x, y) -> (loss, dx) is checkable once its labels are given
        raise InputError(
            f"{why}; or, if it returns (loss, dx): {str(exc).split(': ', 1)[1]}"
        ) from None
    if dfun is not None:
        if not callable(dfun):
            raise InputError("--derivative: not a function")
        return FunctionLayer(obj, dfun, name, files, kw)
    flag = _derivative_flag(obj, kw)
    if flag is not None:
        return _flagged_function(obj, flag, name, files, kw)
    partner = _backward_partner(obj)
    if partner is not None:
        # deeplearning.ai's linear_activation_backward(dA, cache, activation) takes the
        # activation its forward took: the same --arg value
        missing: list[str] = []
        bkw = a.bind(partner, 2, "call", missing)
        if missing:
            raise _need(f"{partner.__qualname__}()", missing, a)
        return CachePairLayer(obj, partner, name, files, kw, bkw)
    if _returns_loss_and_dx(obj, kw, a.shape):
        return LossFunctionLayer(obj, name, files, kw)
    tl = _torch_function(name, obj, files, kw)
    if tl is not None:
        return tl
    raise InputError(
        not_elementwise_message(name, obj)
        or f"{name}: a plain function needs --derivative FILE.py:NAME for its derivative "
        "(or must work on torch tensors, with torch installed)"
    )


def _derivative_flag(fn: Callable, kw: dict[str, Any]) -> str | None:
    """The name of a switch ``deriv=False`` after x that turns f into f' (not one the user
    set with --arg)."""
    for p in _params_of(fn)[1:]:
        if p.name.lower() in DERIVATIVE_FLAGS and p.default is False and p.name not in kw:
            return p.name
    return None


def _flagged_function(
    fn: Callable, flag: str, name: str, files: set[str], kw: dict[str, Any]
) -> FunctionLayer:
    """``fn(x)`` as f and ``fn(x, flag=True)`` as f', called on x (a tutorial's
    ``nonlin(l1, deriv=True)`` on the output y is diagnosed as such)."""

    @functools.wraps(fn)  # fn's signature: the call's other parameters reach it too
    def derivative(x: Array, **kwargs: Any) -> Any:
        return fn(x, **{**kwargs, flag: True})

    layer = FunctionLayer(fn, derivative, name, files, kw)
    layer.kind = f"function, {flag}=True for its derivative"
    layer.code_of = lambda during: fn  # type: ignore[method-assign]
    return layer


def _returns_loss_and_dx(fn: Callable, kw: dict[str, Any], shape: tuple[int, ...]) -> bool:
    """``softmax_loss(x, y) -> (loss, dx)``, tried once on a small input."""
    if not shape or not kw:
        return False
    x = np.random.default_rng(0).normal(0, 1, shape)
    try:
        with _quiet():
            out = fn(x, **kw)
    except Exception:
        return False
    return (
        isinstance(out, tuple)
        and len(out) == 2
        and np.ndim(out[0]) == 0
        and isinstance(out[1], np.ndarray)
        and out[1].shape == x.shape
    )


_EXPECTED = (
    "expected a class or instance with forward(x) and backward(dout) (or forward_pass/"
    "backward_pass, fn/grad, __call__/gradient), a model with params and loss(x, t), a "
    "function with --derivative or a switch f(x, deriv=False), or a torch Module / "
    "autograd.Function / tensor function"
)


def _kind_message(name: str, obj: Any) -> str:
    """What was found instead of a layer, and what to add or to name instead."""
    if inspect.isclass(obj):
        if _is_scalar_autograd(obj):
            return f"{name}: {_scalar_operations(obj, name)}"
        if inspect.isabstract(obj):
            concrete = sorted(c.__name__ for c in _subclasses(obj) if not inspect.isabstract(c))[:6]
            pick = f"; name a concrete subclass ({', '.join(concrete)})" if concrete else ""
            return (
                f"{name}: {obj.__name__} is an abstract class (abstract methods: "
                f"{', '.join(sorted(obj.__abstractmethods__))}){pick}"
            )
        methods = sorted(n for n, v in vars(obj).items() if callable(v) and not n.startswith("_"))[
            :8
        ]
        has = f" (it has {', '.join(methods)})" if methods else ""
        return (
            f"{name}: class {obj.__name__} has no forward(x) and backward(dout){has}: add them, "
            f"or {_EXPECTED.replace('expected ', 'name ')}"
        )
    return f"{name}: found {_described(obj)}, which is not a layer: {_EXPECTED}"


def _subclasses(cls: type) -> list[type]:
    out = []
    for c in cls.__subclasses__():
        out += [c, *_subclasses(c)]
    return out


def _described(obj: Any) -> str:
    """'a module', 'a float (3.14)', 'a dict with keys a, b'."""
    kind = type(obj).__name__
    art = "an" if kind[:1].lower() in "aeiou" else "a"
    if inspect.ismodule(obj):
        return f"the module {obj.__name__}"
    if isinstance(obj, int | float | complex | str | bool) or obj is None:
        return f"{art} {kind} ({obj!r:.40})"
    if isinstance(obj, dict):
        return f"a dict with keys {', '.join(map(str, list(obj)[:6]))}"
    return f"{art} {kind}"


def not_elementwise_message(name: str, fn: Callable) -> str | None:
    """Why --derivative cannot help a function that is not elementwise (softmax, a loss, conv).

    None when fn looks elementwise (or cannot be called on x alone): then f'(x) is the answer.
    """
    try:
        required = [
            p.name
            for p in inspect.signature(fn).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        required = []
    if len(required) > 1:
        return (
            f"{name}: takes {', '.join(required)}, so it is no elementwise f(x) and "
            f"--derivative does not apply; checking it needs {_BACKWARDS}"
        )
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (4, 5))
    try:
        with _quiet():
            y = fn(x.copy())
            x1 = x.copy()
            x1[0, 0] += 0.5
            y1 = fn(x1)
    except Exception:
        return None
    if isinstance(y, tuple) and len(y) == 2:
        why = "it returns a pair, like (loss, dx) or (out, cache)"
    elif np.ndim(y) == 0 and isinstance(y, np.ndarray | float | np.floating):
        why = "it returns a scalar, like a loss"
    elif not isinstance(y, np.ndarray) or not isinstance(y1, np.ndarray):
        return None
    elif y.shape != x.shape:
        why = f"a {x.shape} input gave a {y.shape} output"
    else:
        moved = np.abs(y1 - y) > 1e-12 * (1 + np.abs(y))
        moved[0, 0] = False
        if not moved.any():
            return None
        why = "each output depends on several inputs, like a softmax"
    return (
        f"{name}: not elementwise ({why}), so --derivative does not apply; checking it needs "
        f"{_BACKWARDS}"
    )


_BACKWARDS = (
    "its backward: a NAME_backward(dout, cache) beside NAME_forward, a class with "
    "forward(x) and backward(dout), a loss returning (loss, dx), or torch tensors; "
    "the file has none for it"
)


def _mentions_torch(obj: Any) -> bool:
    mod = getattr(obj if inspect.isclass(obj) or callable(obj) else type(obj), "__module__", "")
    m = sys.modules.get(mod or "")
    return m is not None and "torch" in vars(m)


def _adapt_torch(torch: Any, obj: Any, name: str, files: set[str], a: Args) -> Layer | None:
    if inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
        obj = _construct(obj, name, files, a)
    if isinstance(obj, torch.nn.Module):
        obj.eval()  # dropout / batch statistics off: the check needs a deterministic function
        layer = TorchLayer(obj, "torch.nn.Module", name, files, module=obj)
        layer.kwargs = _call_kwargs(obj.forward, name, a)
        return layer
    if inspect.isclass(obj) and issubclass(obj, torch.autograd.Function):
        extra = _function_args(obj, name, a)

        def apply(t: Any) -> Any:  # forward(ctx, x, a, ...): apply(x, a, ...), positionally
            return obj.apply(t, *(_tensor_like(v, t) for v in extra))

        return TorchLayer(apply, "torch.autograd.Function", name, files, function=obj)
    return None


def _function_args(fn_cls: Any, name: str, a: Args) -> list[Any]:
    """The --arg values for an autograd.Function's forward(ctx, x, ...) after x, in order
    (a default where one is not given before a given one); exit 2 naming a missing one."""
    params = _params_of(fn_cls.forward)[2:]
    missing: list[str] = []
    kw = a.bind(fn_cls.forward, 2, "call", missing)
    if missing:
        raise _need(f"{fn_cls.__name__}.forward()", missing, a)
    last = max((i for i, p in enumerate(params) if p.name in kw), default=-1)
    return [kw.get(p.name, p.default) for p in params[: last + 1]]


def _tensor_like(v: Any, t: Any) -> Any:
    """An --arg array as a tensor of x's dtype (a Function's forward computes with it)."""
    torch = _torch()
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return torch.as_tensor(v, dtype=t.dtype)
    return v


def _torch_function(
    name: str, fn: Callable, files: set[str], kw: dict[str, Any] | None = None
) -> Layer | None:
    torch = _torch()
    if torch is None:
        return None
    kw = kw or {}
    try:
        with _quiet():
            out = fn(torch.zeros(2, dtype=torch.float64, requires_grad=True), **kw)
    except Exception:
        return None
    # autograd must see through it (numpy functions on tensors lose the graph)
    if not torch.is_tensor(out) or not out.requires_grad:
        return None
    layer = TorchLayer(fn, "torch function", name, files)
    layer.kwargs = dict(kw)
    return layer


def load_layer(
    spec: str,
    derivative: str | None = None,
    args: dict[str, Any] | None = None,
    shape: tuple[int, ...] = (),
    order: int = 1,
) -> Layer:
    """``load`` + ``adapt`` for command-line specs. Raises InputError (one line)."""
    cache: dict[str, Any] = {}
    loaded = load(spec, cache)
    dloaded = load(derivative, cache) if derivative else None
    return adapt(loaded, dloaded, args, shape, order)
