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

import contextlib
import importlib
import importlib.util
import inspect
import io
import os
import sys
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from actcheck.errors import InputError

Array = np.ndarray

# attribute name -> gradient attribute names tried for it, in this order
_GRAD_NAMES = ("d{}", "d_{}", "grad_{}", "{}_grad", "grad{}", "g{}")
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
    # the user's own directory first, so its sibling imports work as with `python FILE.py`
    sys.path.insert(0, str(p.resolve().parent))
    sys.modules[modname] = module
    try:
        with _quiet():
            mspec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(modname, None)
        err = user_error(exc, "loading", {real})
        raise InputError(f"{spec!r}: importing {path} raised {err}") from None
    finally:
        sys.path.remove(str(p.resolve().parent))
    if cache is not None:
        cache[real] = module
    return module, real


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
        obj = getattr(obj, part)
    src = _source_file(obj) or file
    return Loaded(obj, spec, src)


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
        # the user's print()s are kept for the report (stdout may be carrying --json)
        self._buf = io.StringIO()
        self._out = contextlib.redirect_stdout(self._buf)
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
    params: list[ParamRef]
    files: set[str]
    has_dout = True  # False when the analytic side is an elementwise derivative f'(x)
    raise_fp = False  # set while locating the line that produced a NaN or inf

    def call(self, during: str, fn: Callable, *args: Any) -> Any:
        try:
            with _quiet(self.raise_fp):
                return fn(*args)
        except (Exception, SystemExit) as exc:  # exit() in user code ends the check, not actcheck
            raise user_error(exc, during, self.files) from None

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
            _, line = inspect.getsourcelines(fn)
        except (TypeError, OSError):
            return None
        if not file:
            return None
        return f"{_short_path(file)}:{line} in {getattr(fn, '__qualname__', '?')}()"

    def forward_raw(self, x: Array) -> Any:
        """forward on exactly this array (for mutation checks); may return a non-array."""
        return self.forward(x)

    def backward_raw(self, x: Array, dout: Array) -> Any:
        """forward(x.copy()) then backward on exactly this dout (for mutation checks)."""
        return self.vjp(x, dout).dx

    def vjp(self, x: Array, dout: Array) -> VJP:  # pragma: no cover - abstract
        raise NotImplementedError


def _as_output(value: Any, during: str) -> Any:
    if isinstance(value, tuple) and len(value) >= 1 and during == "backward":
        # backward returning (dx, dW, ...) tuples: dx first
        return value[0]
    return value


class ForwardBackwardLayer(Layer):
    kind = "forward/backward class"

    def __init__(self, obj: Any, name: str, files: set[str]):
        self.obj = obj
        self.name = name
        self.files = files
        self.params = []

    def forward_raw(self, x: Array) -> Any:
        return _scalar_as_array(self.call("forward", self.obj.forward, x))

    def code_of(self, during: str) -> Any:
        return getattr(type(self.obj), during, None)

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def backward_raw(self, x: Array, dout: Array) -> Any:
        self.forward(x)
        return _as_output(self.call("backward", self.obj.backward, dout), "backward")

    def vjp(self, x: Array, dout: Array) -> VJP:
        y = self.forward(x)
        dx = _as_output(self.call("backward", self.obj.backward, dout.copy()), "backward")
        return VJP(y, dx)

    def candidate_params(self) -> list[ParamRef]:
        """Float array (or float) attributes that have a gradient attribute after backward."""
        found: list[ParamRef] = []
        attrs = _attributes(self.obj)
        for pname, value in list(attrs.items()):
            if not _is_float_value(value):
                continue
            for pattern in _GRAD_NAMES:
                gname = pattern.format(pname)
                if gname in attrs and gname != pname:
                    found.append(self._attr_param(pname, gname, np.ndim(value) == 0))
                    break
        for pdict, gdict in _PARAM_DICTS:
            ps, gs = attrs.get(pdict), attrs.get(gdict)
            if isinstance(ps, dict) and isinstance(gs, dict):
                for k, v in ps.items():
                    if k in gs and _is_float_value(v):
                        found.append(self._dict_param(pdict, gdict, k, np.ndim(v) == 0))
        return found

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
    """cs231n style: ``NAME_forward(x) -> (out, cache)``, ``NAME_backward(dout, cache) -> dx``."""

    kind = "forward/backward functions with a cache"

    def __init__(self, fwd: Callable, bwd: Callable, name: str, files: set[str]):
        self.fwd, self.bwd = fwd, bwd
        self.name = name
        self.files = files
        self.params = []
        self._cache: Any = None

    def code_of(self, during: str) -> Any:
        return self.fwd if during == "forward" else self.bwd

    def forward_raw(self, x: Array) -> Any:
        out = self.call("forward", self.fwd, x)
        if not (isinstance(out, tuple) and len(out) == 2):
            return out  # reported as "forward output" (not an array)
        y, self._cache = out
        return _scalar_as_array(y)

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def backward_raw(self, x: Array, dout: Array) -> Any:
        self.forward(x)
        return _as_output(self.call("backward", self.bwd, dout, self._cache), "backward")

    def vjp(self, x: Array, dout: Array) -> VJP:
        y = self.forward(x)
        dx = _as_output(self.call("backward", self.bwd, dout.copy(), self._cache), "backward")
        return VJP(y, dx)


def _backward_partner(obj: Any) -> Callable | None:
    """relu_forward -> relu_backward in the same module (the cs231n naming)."""
    fname = getattr(obj, "__name__", "")
    if not (inspect.isfunction(obj) and fname.endswith("_forward")):
        return None
    module = sys.modules.get(obj.__module__)
    partner = getattr(module, fname[: -len("_forward")] + "_backward", None)
    return partner if callable(partner) else None


class FunctionLayer(Layer):
    """f(x) with its elementwise derivative f'(x): dx = f'(x) * dout."""

    kind = "function + derivative"
    has_dout = False

    def __init__(self, f: Callable, df: Callable, name: str, files: set[str]):
        self.f, self.df = f, df
        self.name = name
        self.files = files
        self.params = []

    def forward_raw(self, x: Array) -> Any:
        return _scalar_as_array(self.call("forward", self.f, x))

    def code_of(self, during: str) -> Any:
        return self.f if during == "forward" else self.df

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def derivative_raw(self, x: Array) -> Any:
        return self.call("derivative", self.df, x)

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
            out = self.call("forward", self.fn, t)
        return out.detach().cpu().numpy().copy() if torch.is_tensor(out) else out

    def forward(self, x: Array) -> Array:
        return self.forward_raw(x.copy())

    def _vjp(self, x: Array, dout: Array, share_dout: bool) -> VJP:
        torch = _torch()
        t = torch.from_numpy(x.copy()).requires_grad_(True)
        if self.module is not None:
            self.module.zero_grad(set_to_none=True)
        y = self.call("forward", self.fn, t)
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


# ---------------------------------------------------------------------------
# Adapting
# ---------------------------------------------------------------------------


def _files(*paths: str | None) -> set[str]:
    return {os.path.realpath(p) for p in paths if p}


def _instantiate(cls: type, name: str, files: set[str]) -> Any:
    try:
        sig = inspect.signature(cls)
        required = [
            p.name
            for p in sig.parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        required = []
    if required:
        raise InputError(
            f"{name}: the class needs arguments ({', '.join(required)}); give defaults or "
            "point --impl at an instance created in the file"
        )
    try:
        with _quiet():
            return cls()
    except Exception as exc:
        raise InputError(
            f"{name}: {name}() raised {user_error(exc, 'constructor', files)}"
        ) from None


def adapt(loaded: Loaded | Any, derivative: Loaded | Callable | None = None) -> Layer:
    """Wrap the loaded object in a Layer. Raises InputError when it is of no usable kind."""
    if not isinstance(loaded, Loaded):
        loaded = Loaded(loaded, getattr(loaded, "__name__", type(loaded).__name__), None)
        loaded.file = _source_file(loaded.obj)
    obj, name = loaded.obj, loaded.spec
    files = _files(loaded.file)
    dfun = derivative.obj if isinstance(derivative, Loaded) else derivative
    if isinstance(derivative, Loaded):
        files |= _files(derivative.file)
    elif dfun is not None:
        files |= _files(_source_file(dfun))
    torch = _torch() if "torch" in sys.modules or _mentions_torch(obj) else None

    if torch is not None:
        layer = _adapt_torch(torch, obj, name, files)
        if layer is not None:
            if dfun is not None:
                raise InputError(f"{name}: --derivative is only for plain numpy functions")
            return layer
    if inspect.isclass(obj):
        if hasattr(obj, "forward") and not hasattr(obj, "backward"):
            raise InputError(f"{name}: class {obj.__name__} has forward() but no backward(dout)")
        if not (hasattr(obj, "forward") and hasattr(obj, "backward")):
            raise InputError(_kind_message(name, obj))
        obj = _instantiate(obj, name, files)
    if hasattr(obj, "forward") and callable(obj.forward) and not inspect.isfunction(obj):
        if not (hasattr(obj, "backward") and callable(obj.backward)):
            raise InputError(f"{name}: has forward() but no backward(dout)")
        if dfun is not None:
            raise InputError(f"{name}: --derivative is only for plain functions, not layers")
        return ForwardBackwardLayer(obj, name, files)
    if callable(obj):
        if dfun is not None:
            if not callable(dfun):
                raise InputError("--derivative: not a function")
            return FunctionLayer(obj, dfun, name, files)
        partner = _backward_partner(obj)
        if partner is not None:
            return CachePairLayer(obj, partner, name, files)
        tl = _torch_function(name, obj, files)
        if tl is not None:
            return tl
        raise InputError(
            not_elementwise_message(name, obj)
            or f"{name}: a plain function needs --derivative FILE.py:NAME for its derivative "
            "(or must work on torch tensors, with torch installed)"
        )
    raise InputError(_kind_message(name, obj))


_EXPECTED = (
    "expected a class or instance with forward(x) and backward(dout), a function with "
    "--derivative, or a torch Module / autograd.Function / tensor function"
)


def _kind_message(name: str, obj: Any) -> str:
    """What was found instead of a layer, and what to add or to name instead."""
    if inspect.isclass(obj):
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


def _adapt_torch(torch: Any, obj: Any, name: str, files: set[str]) -> Layer | None:
    if inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
        obj = _instantiate(obj, name, files)
    if isinstance(obj, torch.nn.Module):
        obj.eval()  # dropout / batch statistics off: the check needs a deterministic function
        return TorchLayer(obj, "torch.nn.Module", name, files, module=obj)
    if inspect.isclass(obj) and issubclass(obj, torch.autograd.Function):
        return TorchLayer(obj.apply, "torch.autograd.Function", name, files, function=obj)
    return None


def _torch_function(name: str, fn: Callable, files: set[str]) -> Layer | None:
    torch = _torch()
    if torch is None:
        return None
    try:
        with _quiet():
            out = fn(torch.zeros(2, dtype=torch.float64, requires_grad=True))
    except Exception:
        return None
    # autograd must see through it (numpy functions on tensors lose the graph)
    if not torch.is_tensor(out) or not out.requires_grad:
        return None
    return TorchLayer(fn, "torch function", name, files)


def load_layer(spec: str, derivative: str | None = None) -> Layer:
    """``load`` + ``adapt`` for command-line specs. Raises InputError (one line)."""
    cache: dict[str, Any] = {}
    loaded = load(spec, cache)
    dloaded = load(derivative, cache) if derivative else None
    return adapt(loaded, dloaded)
