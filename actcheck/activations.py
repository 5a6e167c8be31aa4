"""The activation catalog: one registry, as data.

Each entry is one block below: an activation's helpers, forward, derivatives
(in x, twice, and in every continuous parameter), kinks as a function of the
parameters with their conventions, formulas as LaTeX-style text, its colour in
figures and its mpmath reference definition. Every command, table, plot and test
iterates over ``CATALOG`` and reaches an entry through ``Activation``; adding an
activation means adding one ``register(Entry(...))`` block here (or calling
``register`` from outside: the commands then know it by name).

Conventions:

* Parameter names and defaults are PyTorch's (``torch.nn.functional``).
* At a kink, ``derivative`` returns what PyTorch's backward returns there
  (measured with PyTorch 2.13, see docs/activations.md), except where PyTorch's
  value is only a rounding artifact (CELU's float32 ``1/alpha``).
* All formulas are written to be stable in float32 and float64: no overflow,
  invalid or divide-by-zero warnings for any input, ±inf gives the limit, and
  NaN propagates. Gradual underflow to a subnormal or zero is the correctly
  rounded result and is not an error.
"""

from __future__ import annotations

import colorsys
import difflib
import functools
import math
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

import numpy as np

from actcheck.errors import InputError
from actcheck.primitives import (
    PDF_SAT,
    SAT,
    at_least,
    at_most,
    expit,
    normal_cdf,
    normal_cdf_pdf,
    normal_pdf,
    sech2,
    sigmoid,
    softplus,
)

Array = np.ndarray
Params = Mapping[str, Any]


class ActivationError(InputError):
    """An unknown activation or parameter, or a parameter out of its range."""


# ---------------------------------------------------------------------------
# Parameters and kinks, as data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One parameter of an activation, with its allowed range.

    ``low``/``high`` bound a numeric parameter (open bounds unless the matching
    ``*_closed`` is set); ``choices`` makes it a choice among strings.
    ``differentiable`` parameters get a derivative in ``param_derivatives``.
    """

    name: str
    default: float | str
    doc: str
    low: float = -math.inf
    high: float = math.inf
    low_closed: bool = False
    high_closed: bool = False
    nonzero: bool = False
    choices: tuple[str, ...] | None = None
    differentiable: bool = True
    learnable: bool = False
    # (dtype, probe extent) -> (smallest, largest) non-zero |value| the check resolves,
    # on top of representability: see ``check_domain``
    limits: Callable[[str, float], tuple[float, float]] | None = None
    # a position on the x axis (a clamp, a threshold) only compares with x: it may round
    # to 0 in float32; every other parameter multiplies and must keep a non-zero value
    position: bool = False

    def describe_range(self) -> str:
        if self.choices is not None:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        parts = []
        if self.low > -math.inf:
            parts.append(f"{'>=' if self.low_closed else '>'} {_fmt(self.low)}")
        if self.high < math.inf:
            parts.append(f"{'<=' if self.high_closed else '<'} {_fmt(self.high)}")
        if self.nonzero:
            parts.append("!= 0")
        return " and ".join(parts) if parts else "any finite number"

    def describe_accepted(self) -> str:
        """``describe_range`` with what a check resolves per dtype, e.g. ``> 0 (float64: ...)``."""
        if self.limits is None:
            return self.describe_range()
        dtypes = ("float64", "float32")
        spans = (f"{dt}: {_span(*self.limits(dt, PROBE_EXTENT))}" for dt in dtypes)
        return f"{self.describe_range()} ({'; '.join(spans)})"

    def to_dict(self, value: float | str) -> dict[str, Any]:
        """This parameter, with the ``value`` an activation binds, as plain data."""
        return {
            "name": self.name,
            "value": value,
            "default": self.default,
            "range": self.describe_accepted(),
            "differentiable": self.differentiable and self.choices is None,
            "learnable": self.learnable,
            "doc": self.doc,
        }

    def check(self, value: Any, activation: str) -> float | str:
        """Return ``value`` converted to this parameter's type, or raise ActivationError."""
        where = f"{activation}: parameter {self.name}"
        if self.choices is not None:
            if isinstance(value, str) and value in self.choices:
                return value
            raise ActivationError(f"{where} must be {self.describe_range()}, got {value!r}")
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise ActivationError(f"{where} must be a number, got {value!r}")
        v = float(value)
        ok = math.isfinite(v)
        ok = ok and (v >= self.low if self.low_closed else v > self.low)
        ok = ok and (v <= self.high if self.high_closed else v < self.high)
        ok = ok and not (self.nonzero and v == 0.0)
        if not ok:
            raise ActivationError(f"{where} must be {self.describe_range()}, got {_fmt(v)}")
        return v


# ---------------------------------------------------------------------------
# The domain the check resolves, per dtype (docs/activations.md, "Accepted ranges")
# ---------------------------------------------------------------------------

# gradcheck's probes reach |x| = 1e30, or the range where that is wider
PROBE_EXTENT = 1e30
# Parameters and kinks stay below 1/16 of the dtype's largest value, so that a
# difference stencil θ ± 3h and the check's sums cannot overflow
HEADROOM = 16.0
# The shortest length scale (celu's alpha, softplus's 1/beta) the check resolves: its
# difference steps are ε^(1/3)·max(|x|, 1) and ε^(1/3)·max(|θ|, 1), 6e-6 and 5e-3
SHORTEST_SCALE = {"float64": 1e-3, "float32": 1e-2}


def _slope_limits(dtype: str, extent: float) -> tuple[float, float]:
    """A slope a keeps a·x finite at every probe: |a| <= max/(10·extent)."""
    return 0.0, float(np.finfo(dtype).max) / (10 * extent)


def _scale_limits(dtype: str, extent: float) -> tuple[float, float]:
    """A length scale at least SHORTEST_SCALE."""
    return SHORTEST_SCALE[dtype], math.inf


def _sharpness_limits(dtype: str, extent: float) -> tuple[float, float]:
    """A sharpness β (length scale 1/β) between SHORTEST_SCALE and its inverse."""
    return SHORTEST_SCALE[dtype], 1 / SHORTEST_SCALE[dtype]


def _span(lo: float, hi: float) -> str:
    """A ``limits`` pair as text: ``0.001 to 1e+03``, ``>= 0.01``, ``|v| <= 3.4e+07``."""
    if lo > 0 and hi < math.inf:
        return f"{lo:.3g} to {hi:.3g}"
    return f">= {lo:.3g}" if lo > 0 else f"|v| <= {hi:.3g}"


def _limit_text(name: str, lo: float, hi: float) -> str:
    if lo > 0 and hi < math.inf:
        return f"{name} must be between {lo:.3g} and {hi:.3g}"
    return f"{name} must be at least {lo:.3g}" if lo > 0 else f"|{name}| must be at most {hi:.3g}"


def check_domain(
    entry: Entry, p: Params, dtype: str = "float64", extent: float = PROBE_EXTENT
) -> None:
    """Raise ActivationError unless the check resolves these parameters in ``dtype``.

    Every non-zero parameter keeps a non-zero value in the dtype (a position may be
    any number: it only compares with x), is at most 1/HEADROOM of the dtype's largest
    value and lies within its ``limits``; every kink is finite and at most that large.
    Outside this domain a correct function can fail a check.
    """
    fi = np.finfo(dtype)
    tiny, big = float(fi.smallest_subnormal), float(fi.max) / HEADROOM
    for prm in entry.params:
        v = p[prm.name]
        if prm.choices is not None or not isinstance(v, float | int):
            continue
        where = f"{entry.name}: {prm.name}={_fmt(v)}"
        if v != 0 and abs(v) < tiny and not prm.position:
            raise ActivationError(f"{where} is not representable in {dtype} (it rounds to 0 there)")
        if abs(v) > big:
            raise ActivationError(
                f"{where} is too large for {dtype} (at most {big:.2g}, 1/16 of its largest value)"
            )
        lo, hi = prm.limits(dtype, extent) if prm.limits else (0.0, math.inf)
        if v != 0 and not lo <= abs(v) <= hi:
            raise ActivationError(
                f"{where} is beyond what the check resolves in {dtype}: "
                + _limit_text(prm.name, lo, hi)
            )
    with np.errstate(all="ignore"):  # judged just below
        kinks = entry.kinks(p)
    for k in kinks:
        finite = all(math.isfinite(v) for v in (k.x, k.left, k.right, k.jump))
        if not finite or abs(k.x) > big:
            raise ActivationError(
                f"{entry.name}: these parameters put a kink at x={k.x:.3g}, beyond {dtype}'s "
                f"range for a check (|x| <= {big:.2g})"
            )


class Convention(StrEnum):
    """Which value a derivative takes at a kink; the values are the words output uses."""

    LEFT = "the left derivative"
    RIGHT = "the right derivative"
    MIDPOINT = "the midpoint"
    BETWEEN = "between the one-sided derivatives"


@dataclass(frozen=True)
class Kink:
    """A point where a derivative jumps.

    ``order`` 1: f' jumps at ``x`` (``left``/``right`` are the one-sided
    derivatives f'(x-)/f'(x+), ``convention`` says which value ``derivative``
    returns there). ``order`` 2: f is C1 at ``x`` but f'' jumps (the fields then
    describe f''). ``jump`` is f(x+) - f(x-), non-zero only where the function
    itself jumps (PyTorch's softplus switching to the identity).
    """

    x: float
    left: float
    right: float
    convention: Convention
    order: int = 1
    jump: float = 0.0

    def __post_init__(self) -> None:
        if self.convention is Convention.BETWEEN:
            raise ValueError("a declared kink names its value: left, right or midpoint")

    @property
    def value(self) -> float:
        """What ``derivative`` returns at ``x``: f'(x-), f'(x+) or their mean."""
        if self.convention is Convention.LEFT:
            return self.left
        if self.convention is Convention.RIGHT:
            return self.right
        return 0.5 * (self.left + self.right)

    def summary(self, name: str = "f") -> str:
        """E.g. ``relu'(0) = 0, the left derivative``."""
        prime = "'" * self.order
        return f"{name}{prime}({_fmt(self.x)}) = {_fmt(self.value)}, {self.convention}"

    def to_dict(self, name: str = "f") -> dict[str, Any]:
        """Plain data; ``text`` is ``summary(name)``."""
        return {
            "x": self.x,
            "order": self.order,
            "left": self.left,
            "right": self.right,
            "value": self.value,
            "jump": self.jump,
            "convention": self.convention,
            "text": self.summary(name),
        }


# ---------------------------------------------------------------------------
# The entry type and the registry
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One catalog entry. ``p`` below is the dict of validated parameters.

    ``train(x, p, rng)``, for an entry with randomness in training mode only,
    returns (y, dy/dx) with fresh randomness (``forward`` is evaluation mode).
    ``reference(mp, x, p)`` is the textbook definition written naively in
    mpmath (``mp`` is the mpmath module, ``x`` an mpf): the independent value
    the tests compare every formula against, so the catalog never imports mpmath.
    ``color`` is the entry's colour in every figure (empty: one derived from the
    name). ``aliases`` are extra names ``get`` accepts (the title always is one).
    ``homogeneous``: f(x) = x·f'(x) for every finite x, in floating point as in exact
    arithmetic (f is positively homogeneous of degree 1, the ReLU family; a zero may
    come out with the other sign), so a trainer that needs both may compute f'(x) and
    then f(x) with one multiplication. The tests hold every entry that says so to it.
    """

    name: str
    title: str
    pytorch: str
    formula: str | Callable[[Params], str]
    derivative_formula: str | Callable[[Params], str]
    forward: Callable[[Array, Params], Array]
    derivative: Callable[[Array, Params], Array]
    second_derivative: Callable[[Array, Params], Array]
    reference: Callable[[Any, Any, Params], Any]
    color: str = ""
    params: tuple[Param, ...] = ()
    param_derivatives: Mapping[str, Callable[[Array, Params], Array]] = field(default_factory=dict)
    kinks: Callable[[Params], list[Kink]] = lambda p: []
    validate: Callable[[Params], str | None] = lambda p: None
    note: str = ""
    train: Callable[[Array, Params, np.random.Generator], tuple[Array, Array]] | None = None
    aliases: tuple[str, ...] = ()
    homogeneous: bool = False


CATALOG: dict[str, Entry] = {}
_ALIASES: dict[str, str] = {}


def _keys(entry: Entry) -> set[str]:
    return {entry.title.lower()} | {a.lower() for a in entry.aliases}


def register(entry: Entry) -> Entry:
    """Add ``entry`` to the catalog (last in order): every command then knows it by name."""
    taken = ({entry.name} | _keys(entry)) & (CATALOG.keys() | _ALIASES.keys())
    if taken:
        raise ActivationError(f"cannot register {entry.name!r}: {', '.join(sorted(taken))} taken")
    CATALOG[entry.name] = entry
    _ALIASES.update(dict.fromkeys(_keys(entry) - {entry.name}, entry.name))
    return entry


def unregister(name: str) -> Entry:
    """Remove entry ``name`` from the catalog (the inverse of ``register``) and return it."""
    entry = CATALOG.pop(name)
    for key in _keys(entry):
        _ALIASES.pop(key, None)
    return entry


# ---------------------------------------------------------------------------
# Helpers shared by several entries (the stable primitives are in actcheck.primitives)
# ---------------------------------------------------------------------------


def _scaled(c: float, y: Array) -> Array:
    """c·y where |c| may exceed 1: past the dtype's range ±inf is the correctly rounded result."""
    with np.errstate(over="ignore"):
        return c * y


def _pick(cond: Array, yes: Any, no: Any) -> Array:
    """np.where(cond, yes, no) in no's dtype, written over ``no`` (a fresh array nothing else
    holds). For a ``cond`` rarely true: a masked copy takes half the time of np.where's
    three-array select, but where cond is true for about half the points in random order,
    a mispredicted branch per point makes it slower than np.where."""
    out = np.asarray(no)  # a 0-d result of arithmetic is a scalar: this makes it an array
    np.copyto(out, yes, where=cond)
    return out


def _zeros(x: Array) -> Array:
    return np.zeros_like(x)


def _step(cond: Array, x: Array) -> Array:
    return cond.astype(x.dtype)


def _min0(x: Array) -> Array:
    return np.minimum(x, 0)


def _clamp(mp: Any, x: Any, lo: Any, hi: Any) -> Any:
    return min(max(x, mp.mpf(lo)), mp.mpf(hi))


# The leaky family: x for x > 0, slope·x below, kink at 0 with the slope (x > 0 selects 1).
def _leaky_kinks(slope: float) -> list[Kink]:
    return [Kink(0.0, slope, 1.0, Convention.LEFT)]


def _leaky_forward(x: Array, a: float) -> Array:
    if np.ndim(a) == 0 and 0 < a <= 1:
        # max(x, a·x): the same bits without a branch per point (np.where costs 8x more on
        # points in random order, where the branch is mispredicted)
        return np.maximum(x, _scaled(a, x))
    return np.where(x > 0, x, _scaled(a, x))


def _leaky_derivative(x: Array, a: float) -> Array:
    if np.ndim(a) == 0 and 0 < a <= 1:  # max(a, [x > 0]) = 1 or a: no branch per point
        return np.clip((x > 0).astype(x.dtype), x.dtype.type(a), np.inf)
    one = x.dtype.type(1)  # both branches in x's dtype: no float64 array to cast back
    return np.where(x > 0, one, x.dtype.type(a))


def _elu_neg(x: Array) -> Array:
    """expm1(min(x, 0)): the negative branch of ELU and SELU."""
    return np.expm1(np.minimum(x, 0))


_SLOPE = "slope for x < 0"

# ---------------------------------------------------------------------------
# The entries, in catalog order: each block is everything about one activation
# ---------------------------------------------------------------------------

register(
    Entry(
        name="relu",
        title="ReLU",
        pytorch="torch.nn.functional.relu",
        formula=r"\max(0,\,x)",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ 0",
        forward=lambda x, p: np.maximum(x, 0),
        derivative=lambda x, p: _step(x > 0, x),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: max(mp.mpf(0), x),
        color="#1f77b4",
        homogeneous=True,
        kinks=lambda p: _leaky_kinks(0.0),
    )
)

register(
    Entry(
        name="leaky_relu",
        title="LeakyReLU",
        pytorch="torch.nn.functional.leaky_relu",
        formula=r"x\ \mathrm{if}\ x>0\ \mathrm{else}\ a x",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ a",
        params=(Param("negative_slope", 0.01, _SLOPE, limits=_slope_limits),),
        forward=lambda x, p: _leaky_forward(x, p["negative_slope"]),
        derivative=lambda x, p: _leaky_derivative(x, p["negative_slope"]),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: x if x > 0 else mp.mpf(p["negative_slope"]) * x,
        color="#ff7f0e",
        param_derivatives={"negative_slope": lambda x, p: _min0(x)},
        homogeneous=True,
        kinks=lambda p: _leaky_kinks(p["negative_slope"]),
        note="a = negative_slope. Writing it as max(a x, x) is right only for a <= 1.",
    )
)

register(
    Entry(
        name="prelu",
        title="PReLU",
        pytorch="torch.nn.functional.prelu",
        formula=r"x\ \mathrm{if}\ x>0\ \mathrm{else}\ w x",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ w",
        params=(
            Param(
                "weight", 0.25, "learnable slope for x < 0", learnable=True, limits=_slope_limits
            ),
        ),
        forward=lambda x, p: _leaky_forward(x, p["weight"]),
        derivative=lambda x, p: _leaky_derivative(x, p["weight"]),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: x if x > 0 else mp.mpf(p["weight"]) * x,
        color="#2ca02c",
        param_derivatives={"weight": lambda x, p: _min0(x)},
        homogeneous=True,
        kinks=lambda p: _leaky_kinks(p["weight"]),
        note="One shared weight (PyTorch's num_parameters=1); dy/dw = min(x, 0).",
    )
)


def _rrelu_slope(p: Params) -> float:
    return 0.5 * (p["lower"] + p["upper"])


def _rrelu_train(x: Array, p: Params, rng: np.random.Generator) -> tuple[Array, Array]:
    """PyTorch's training mode: one slope r ~ U(lower, upper) per element with x < 0."""
    r = rng.uniform(p["lower"], p["upper"], size=x.shape).astype(x.dtype)
    slope = np.where(x >= 0, 1, r).astype(x.dtype)
    return x * slope, slope


def _rrelu_check(p: Params) -> str | None:
    if p["lower"] > p["upper"]:
        return (
            f"rrelu: lower must be <= upper, got lower={_fmt(p['lower'])}, upper={_fmt(p['upper'])}"
        )
    return None


register(
    Entry(
        name="rrelu",
        title="RReLU",
        pytorch="torch.nn.functional.rrelu",
        formula=r"x\ \mathrm{if}\ x\geq 0\ \mathrm{else}\ r x,\ r=\frac{l+u}{2}",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ \frac{l+u}{2}",
        params=(
            Param("lower", 1 / 8, "lower bound of the sampled slope", limits=_slope_limits),
            Param("upper", 1 / 3, "upper bound of the sampled slope", limits=_slope_limits),
        ),
        forward=lambda x, p: _leaky_forward(x, _rrelu_slope(p)),
        derivative=lambda x, p: _leaky_derivative(x, _rrelu_slope(p)),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: (
            x if x >= 0 else (mp.mpf(p["lower"]) + mp.mpf(p["upper"])) / 2 * x
        ),
        color="#d62728",
        param_derivatives={
            "lower": lambda x, p: 0.5 * _min0(x),
            "upper": lambda x, p: 0.5 * _min0(x),
        },
        homogeneous=True,
        kinks=lambda p: _leaky_kinks(_rrelu_slope(p)),
        validate=_rrelu_check,
        note=(
            "Evaluation mode (deterministic): slope (l+u)/2. Training mode samples "
            "r ~ U(l, u) per element; see Activation.train_forward."
        ),
        train=_rrelu_train,
    )
)

register(
    Entry(
        name="elu",
        title="ELU",
        pytorch="torch.nn.functional.elu",
        formula=r"x\ \mathrm{if}\ x>0\ \mathrm{else}\ \alpha(e^{x}-1)",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ \alpha e^{x}",
        params=(Param("alpha", 1.0, "saturation value for x -> -inf is -alpha"),),
        forward=lambda x, p: np.where(x > 0, x, p["alpha"] * _elu_neg(x)),
        # e^{min(x, 0)}: e^{±0} = 1, so at_most's sign of a zero cannot matter
        derivative=lambda x, p: np.where(x > 0, 1, p["alpha"] * np.exp(at_most(x, 0.0))).astype(
            x.dtype, copy=False
        ),
        second_derivative=lambda x, p: np.where(
            x > 0, 0, p["alpha"] * np.exp(np.minimum(x, 0))
        ).astype(x.dtype),
        reference=lambda mp, x, p: x if x > 0 else mp.mpf(p["alpha"]) * mp.expm1(x),
        color="#9467bd",
        param_derivatives={"alpha": lambda x, p: np.where(x > 0, 0, _elu_neg(x)).astype(x.dtype)},
        kinks=lambda p: [
            Kink(0.0, p["alpha"], 1.0, Convention.LEFT),
            Kink(0.0, p["alpha"], 0.0, Convention.LEFT, order=2),
        ],
    )
)

# PyTorch's SELU constants (torch/nn/functional.py docs, the SELU paper), as text so
# that the mpmath reference reads them at full precision
_SELU_ALPHA_TEXT = "1.6732632423543772848170429916717"
_SELU_SCALE_TEXT = "1.0507009873554804934193349852946"
_SELU_ALPHA = float(_SELU_ALPHA_TEXT)
_SELU_SCALE = float(_SELU_SCALE_TEXT)
_SELU_LEFT = _SELU_SCALE * _SELU_ALPHA


def _selu_reference(mp: Any, x: Any, p: Params) -> Any:
    alpha, scale = mp.mpf(_SELU_ALPHA_TEXT), mp.mpf(_SELU_SCALE_TEXT)
    return scale * (x if x > 0 else alpha * mp.expm1(x))


register(
    Entry(
        name="selu",
        title="SELU",
        pytorch="torch.nn.functional.selu",
        formula=r"\lambda\,(x\ \mathrm{if}\ x>0\ \mathrm{else}\ \alpha(e^{x}-1))",
        derivative_formula=r"\lambda\ \mathrm{if}\ x>0\ \mathrm{else}\ \lambda\alpha e^{x}",
        forward=lambda x, p: _scaled(_SELU_SCALE, np.where(x > 0, x, _SELU_ALPHA * _elu_neg(x))),
        derivative=lambda x, p: np.where(
            x > 0, _SELU_SCALE, _SELU_LEFT * np.exp(at_most(x, 0.0))
        ).astype(x.dtype, copy=False),
        second_derivative=lambda x, p: np.where(
            x > 0, 0, _SELU_LEFT * np.exp(np.minimum(x, 0))
        ).astype(x.dtype),
        reference=_selu_reference,
        color="#8c564b",
        kinks=lambda p: [Kink(0.0, _SELU_LEFT, _SELU_SCALE, Convention.LEFT)],
        note="λ = 1.0507009873554805, α = 1.6732632423543772 (fixed, from the SELU paper).",
    )
)


def _celu_t(x: Array, a: float) -> Array:
    """min(x, 0)/alpha, clipped at -800 first so a tiny alpha cannot overflow the division."""
    floor = -min(SAT * a, float(np.finfo(x.dtype).max))  # a huge alpha: no clip, and no overflow
    # np.minimum, not at_most: it turns -0 into +0, and celu(-0) is +0 as before
    t = at_least(np.minimum(x, 0), floor)
    return t if a == 1 else t / a  # t/1 is t, bit for bit


def _celu_forward(x: Array, p: Params) -> Array:
    a = p["alpha"]
    return np.where(x > 0, x, a * np.expm1(_celu_t(x, a)))


def _expm1_minus_texp(t: Array) -> Array:
    """expm1(t) - t·e^t for t <= 0, without the cancellation near 0.

    Near 0 both terms are ≈ t and the difference is -t²/2 - t³/3 - ..., so the Taylor
    series sum_{n>=2} (1-n) t^n / n! (Horner, 19 terms) is used for |t| < 0.5, on those
    points only.
    """
    tc = at_least(np.ravel(t), -SAT)  # flat, so that 0-d input has a buffer too
    out = np.exp(tc)
    out *= tc
    np.subtract(np.expm1(tc), out, out=out)
    small = np.flatnonzero(np.abs(tc) < 0.5)
    if small.size:
        ts = tc[small]
        acc = np.full(ts.size, _TEXP_SERIES[-1], dtype=tc.dtype)
        for c in _TEXP_SERIES[-2::-1]:
            acc *= ts
            acc += c
        acc *= ts
        acc *= ts
        acc += 0.0  # +0 at t = ±0, as the sum of the series gives
        out[small] = acc
    return out.reshape(np.shape(t))


# (1 - n)/n! for n = 2 .. 20, the coefficients of t^2 .. t^20 in expm1(t) - t·e^t
_TEXP_SERIES = tuple((1 - n) / math.factorial(n) for n in range(2, 21))


register(
    Entry(
        name="celu",
        title="CELU",
        pytorch="torch.nn.functional.celu",
        formula=r"x\ \mathrm{if}\ x>0\ \mathrm{else}\ \alpha(e^{x/\alpha}-1)",
        derivative_formula=r"1\ \mathrm{if}\ x>0\ \mathrm{else}\ e^{x/\alpha}",
        params=(Param("alpha", 1.0, "saturation value -alpha", low=0.0, limits=_scale_limits),),
        forward=_celu_forward,
        derivative=lambda x, p: np.where(x > 0, 1, np.exp(_celu_t(x, p["alpha"]))).astype(
            x.dtype, copy=False
        ),
        second_derivative=lambda x, p: np.where(
            x > 0, 0, np.exp(_celu_t(x, p["alpha"])) / p["alpha"]
        ).astype(x.dtype),
        reference=lambda mp, x, p: (
            x if x > 0 else mp.mpf(p["alpha"]) * mp.expm1(x / mp.mpf(p["alpha"]))
        ),
        color="#e377c2",
        param_derivatives={
            "alpha": lambda x, p: np.where(
                x > 0, 0, _expm1_minus_texp(_celu_t(x, p["alpha"]))
            ).astype(x.dtype)
        },
        kinks=lambda p: [Kink(0.0, 1 / p["alpha"], 0.0, Convention.LEFT, order=2)],
        note=(
            "C1 at 0 for every alpha, so celu'(0) = 1. PyTorch 2.13 returns "
            "0.999999985 for alpha=0.1 because it rounds 1/alpha to float32; "
            "actcheck returns the exact 1."
        ),
    )
)

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715
# Past 1e4 the tanh form has saturated (σ(2·0.0357·1e12) is exactly 0 or 1) and x³ could
# overflow float32, so x is clipped there; the erf form needs only SAT
_GELU_SAT = 1.0e4


def _gelu_tanh_parts(x: Array) -> tuple[Array, Array, Array, Array, Array]:
    """x clipped, u = √(2/π)(x + 0.044715x³), u', σ(2u), σ(-2u)."""
    xc = np.clip(x, -_GELU_SAT, _GELU_SAT)
    u = _SQRT_2_OVER_PI * (xc + _GELU_C * xc * xc * xc)
    du = _SQRT_2_OVER_PI * (1 + 3 * _GELU_C * xc * xc)
    s, sm = sigmoid(2 * u), sigmoid(-2 * u)
    return xc, u, du, s, sm


def _gelu_forward(x: Array, p: Params) -> Array:
    if p["approximate"] == "tanh":
        xc = np.clip(x, -_GELU_SAT, _GELU_SAT)
        u = _SQRT_2_OVER_PI * (xc + _GELU_C * xc * xc * xc)
        # 0.5(1+tanh u) = σ(2u): no cancellation in the left tail
        return at_least(x, -_GELU_SAT) * sigmoid(2 * u)
    y = normal_cdf(x)
    with np.errstate(invalid="ignore"):
        y *= x
    if np.isnan(y.min()):  # -inf·Φ(-inf) = -inf·0: gelu(-inf) is the limit, -0
        y[np.isneginf(x)] = -0.0
    return y


def _gelu_derivative(x: Array, p: Params) -> Array:
    if p["approximate"] == "tanh":
        xc, _u, du, s, sm = _gelu_tanh_parts(x)
        return s + 2 * xc * s * sm * du
    cdf, pdf = normal_cdf_pdf(x)  # one e^{-x²/2} for both
    pdf *= np.clip(x, -PDF_SAT, PDF_SAT)  # φ is 0 beyond; clipping keeps ±inf·0 from NaN
    cdf += pdf
    return cdf


def _gelu_second(x: Array, p: Params) -> Array:
    if p["approximate"] == "tanh":
        xc, u, du, s, sm = _gelu_tanh_parts(x)
        d2u = 6 * _SQRT_2_OVER_PI * _GELU_C * xc
        ss = s * sm
        return 4 * ss * du + 2 * xc * ss * (-2 * np.tanh(u) * du * du + d2u)
    xc = np.clip(x, -PDF_SAT, PDF_SAT)
    return normal_pdf(x) * (2 - xc * xc)


def _gelu_reference(mp: Any, x: Any, p: Params) -> Any:
    if p["approximate"] == "tanh":
        u = mp.sqrt(2 / mp.pi) * (x + mp.mpf("0.044715") * x**3)
        # 0.5(1+tanh u) == 1/(1+e^{-2u}) exactly; this form needs no extra digits in the tail
        return x / (1 + mp.exp(-2 * u))
    return x * mp.ncdf(x)


register(
    Entry(
        name="gelu",
        title="GELU",
        pytorch="torch.nn.functional.gelu",
        formula=lambda p: (
            r"x\,\sigma(2u),\ u=\sqrt{2/\pi}\,(x+0.044715x^3)"
            if p["approximate"] == "tanh"
            else r"x\,\Phi(x)=\frac{x}{2}(1+\mathrm{erf}(x/\sqrt{2}))"
        ),
        derivative_formula=lambda p: (
            r"\sigma(2u)+2x\,\sigma(2u)\,\sigma(-2u)\,u'"
            if p["approximate"] == "tanh"
            else r"\Phi(x)+x\,\phi(x)"
        ),
        params=(
            Param(
                "approximate",
                "none",
                "'none': exact erf form; 'tanh': tanh approximation",
                choices=("none", "tanh"),
                differentiable=False,
            ),
        ),
        forward=_gelu_forward,
        derivative=_gelu_derivative,
        second_derivative=_gelu_second,
        reference=_gelu_reference,
        color="#7f7f7f",
    )
)


def _silu_derivative(x: Array, p: Params) -> Array:
    """σ(x) + x σ'(x), both from one e = e^{-|x|} (σ' = e/(1+e)²)."""
    xc = np.clip(x, -SAT, SAT)
    e = np.exp(-np.abs(x))
    d = 1 + e
    tail = e / d  # σ(-|x|)
    s = np.where(x >= 0, 1 - tail, tail)
    return s + xc * (tail / d)


def _silu_second(x: Array, p: Params) -> Array:
    xc = np.clip(x, -SAT, SAT)
    ss = sigmoid(x) * sigmoid(-x)
    # 1 - 2σ(x) = -tanh(x/2)
    return ss * (2 - xc * np.tanh(0.5 * xc))


register(
    Entry(
        name="silu",
        title="SiLU",
        pytorch="torch.nn.functional.silu",
        formula=r"x\,\sigma(x)",
        derivative_formula=r"\sigma(x)\,(1+x(1-\sigma(x)))",
        forward=lambda x, p: at_least(x, -SAT) * expit(x),
        derivative=_silu_derivative,
        second_derivative=_silu_second,
        reference=lambda mp, x, p: x / (1 + mp.exp(-x)),
        color="#bcbd22",
        note="Also called swish (with beta = 1).",
        aliases=("swish",),
    )
)


def _mish_parts(x: Array) -> tuple[Array, Array]:
    """tanh(softplus(x)) and sech²(softplus(x)) from e^x without overflow.

    With w = 1+e^x: tanh = (w²-1)/(w²+1), sech² = 4w²/(w²+1)². For x > 0 both
    are rewritten in n = e^{-x} so nothing overflows and nothing cancels.
    """
    e = np.exp(at_most(x, 0.0))  # e^{±0} = 1: the sign of a zero cannot matter
    n = np.exp(-at_least(x, 0.0))
    pos = x > 0
    # x <= 0: w² - 1 = e(e+2)
    ee = e * (e + 2)
    t_neg = ee / (ee + 2)
    w2 = (1 + e) * (1 + e)
    q_neg = 4 * w2 / ((w2 + 1) * (w2 + 1))
    # x > 0: divide through by e^{2x}; w² e^{-2x} = (1+n)², 1 e^{-2x} = n²
    a = (1 + n) * (1 + n)
    nn = n * n
    t_pos = (a - nn) / (a + nn)
    q_pos = 4 * a * nn / ((a + nn) * (a + nn))
    return np.where(pos, t_pos, t_neg), np.where(pos, q_pos, q_neg)


def _mish_forward(x: Array, p: Params) -> Array:
    # tanh damps the rounding of softplus (its condition number is <= 1): a few ulps, 3 passes
    return at_least(x, -SAT) * np.tanh(softplus(x))


def _mish_derivative(x: Array, p: Params) -> Array:
    t, q = _mish_parts(x)
    xc = np.clip(x, -SAT, SAT)
    return t + xc * q * sigmoid(x)


def _mish_second(x: Array, p: Params) -> Array:
    t, q = _mish_parts(x)
    xc = np.clip(x, -SAT, SAT)
    s, sm = sigmoid(x), sigmoid(-x)
    return q * s * (2 + xc * (sm - 2 * t * s))


register(
    Entry(
        name="mish",
        title="Mish",
        pytorch="torch.nn.functional.mish",
        formula=r"x\,\tanh(\ln(1+e^{x}))",
        derivative_formula=r"\tanh(s)+x\,\sigma(x)\,\mathrm{sech}^2(s),\ s=\ln(1+e^{x})",
        forward=_mish_forward,
        derivative=_mish_derivative,
        second_derivative=_mish_second,
        reference=lambda mp, x, p: x * mp.tanh(mp.log1p(mp.exp(x))),
        color="#17becf",
    )
)


def _softplus_z(x: Array, p: Params) -> tuple[Array, Array]:
    """(z, above): z = βx clipped so βx cannot overflow, and PyTorch's switch βx > threshold.

    Below the switch, z is clipped at -1e4 where e^z is already 0 in every dtype.
    """
    b, thr = p["beta"], p["threshold"]
    fmax = float(np.finfo(x.dtype).max)
    big = 0.5 * fmax / max(b, 1.0)  # half, so rounding of β·big cannot reach inf
    if b == 1:  # β·x is x, bit for bit, and cannot overflow: no products (the default)
        return np.clip(x, -1e4, min(thr, big)), x > thr
    # in place: each fresh array costs page faults as well as a pass
    bx = np.clip(x, -big, big)
    bx *= b
    above = bx > thr
    z = np.clip(x, -1e4 / b if b > 1e-300 else -fmax, min(thr / b, big))
    z *= b
    return z, above


def _softplus_forward(x: Array, p: Params) -> Array:
    if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d input: nothing to write into
        return _softplus_forward(x.reshape(1), p).reshape(())
    z, above = _softplus_z(x, p)
    # softplus(z)/β in place: max(z, 0) + log1p(e^{-|z|}), then x where PyTorch switches
    t = np.abs(z)
    np.negative(t, out=t)
    np.exp(t, out=t)
    np.log1p(t, out=t)
    at_least(z, 0.0, out=z)  # t > 0 wherever z is ±0, so the sign of that zero is lost
    z += t
    if p["beta"] != 1:  # z/1 is z
        z /= p["beta"]
    np.copyto(z, x, where=above)
    return z


def _softplus_derivative(x: Array, p: Params) -> Array:
    z, above = _softplus_z(x, p)
    return _pick(above, 1, sigmoid(z)).astype(x.dtype, copy=False)


def _softplus_second(x: Array, p: Params) -> Array:
    z, above = _softplus_z(x, p)
    return np.where(above, 0, p["beta"] * sigmoid(z) * sigmoid(-z)).astype(x.dtype)


def _softplus_dbeta(x: Array, p: Params) -> Array:
    """d/dβ [softplus(βx)/β] = (z σ(z) - softplus(z))/β², z = βx, arranged to avoid cancellation."""
    if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d input: nothing to write into
        return _softplus_dbeta(x.reshape(1), p).reshape(())
    b = p["beta"]
    z, above = _softplus_z(x, p)
    w = np.abs(z)
    e = np.log1p(np.exp(-w))
    # z > 0: zσ(z) - z - log1p(e^{-z}) = -zσ(-z) - log1p(e^{-z}); z <= 0: zσ(z) - log1p(e^z);
    # both are w·σ(w) - log1p(e^w) with w = -|z|: one sigmoid for the two branches
    np.negative(w, out=w)
    body = sigmoid(w)
    body *= w
    body -= e
    if b != 1:  # body/1 is body
        body /= b * b
    return _pick(above, 0, body).astype(x.dtype, copy=False)


def _softplus_kinks(p: Params) -> list[Kink]:
    b, thr = p["beta"], p["threshold"]
    t = np.float64(thr)
    left = float(sigmoid(t))
    # f(x+) - f(x-) at x = thr/β: identity minus softplus, = -log1p(e^{-thr})/β
    jump = float(-np.log1p(np.exp(-abs(t))) / b) if thr > 0 else float((thr - softplus(t)) / b)
    return [Kink(thr / b, left, 1.0, Convention.LEFT, jump=jump)]


def _softplus_reference(mp: Any, x: Any, p: Params) -> Any:
    b, t = mp.mpf(p["beta"]), mp.mpf(p["threshold"])
    return x if b * x > t else mp.log1p(mp.exp(b * x)) / b


register(
    Entry(
        name="softplus",
        title="Softplus",
        pytorch="torch.nn.functional.softplus",
        formula=r"\frac{1}{\beta}\ln(1+e^{\beta x})\ \mathrm{if}\ \beta x\leq t\ \mathrm{else}\ x",
        derivative_formula=r"\sigma(\beta x)\ \mathrm{if}\ \beta x\leq t\ \mathrm{else}\ 1",
        params=(
            Param("beta", 1.0, "sharpness", low=0.0, limits=_sharpness_limits),
            Param(
                "threshold",
                20.0,
                "above beta*x > threshold PyTorch returns x itself",
                differentiable=False,
                position=True,
            ),
        ),
        forward=_softplus_forward,
        derivative=_softplus_derivative,
        second_derivative=_softplus_second,
        reference=_softplus_reference,
        color="#393b79",
        param_derivatives={"beta": _softplus_dbeta},
        kinks=_softplus_kinks,
        note=(
            "PyTorch switches to the identity where beta*x > threshold, so the "
            "function jumps by -log1p(e^-threshold)/beta (-2.06e-9 at the default) "
            "and the derivative from σ(threshold) to 1 at x = threshold/beta."
        ),
    )
)

register(
    Entry(
        name="relu6",
        title="ReLU6",
        pytorch="torch.nn.functional.relu6",
        formula=r"\min(\max(0,\,x),\,6)",
        derivative_formula=r"1\ \mathrm{if}\ 0<x<6\ \mathrm{else}\ 0",
        forward=lambda x, p: np.clip(x, 0, 6),
        derivative=lambda x, p: _step((x > 0) & (x < 6), x),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: _clamp(mp, x, 0, 6),
        color="#800000",
        kinks=lambda p: [
            Kink(0.0, 0.0, 1.0, Convention.LEFT),
            Kink(6.0, 1.0, 0.0, Convention.RIGHT),
        ],
    )
)


def _hardtanh_check(p: Params) -> str | None:
    if p["min_val"] >= p["max_val"]:
        return (
            f"hardtanh: min_val must be less than max_val, "
            f"got min_val={_fmt(p['min_val'])}, max_val={_fmt(p['max_val'])}"
        )
    return None


register(
    Entry(
        name="hardtanh",
        title="Hardtanh",
        pytorch="torch.nn.functional.hardtanh",
        formula=r"\min(\max(x,\,m_0),\,m_1)",
        derivative_formula=r"1\ \mathrm{if}\ m_0<x<m_1\ \mathrm{else}\ 0",
        params=(
            Param("min_val", -1.0, "lower clamp m_0", position=True),
            Param("max_val", 1.0, "upper clamp m_1", position=True),
        ),
        forward=lambda x, p: np.clip(x, p["min_val"], p["max_val"]),
        derivative=lambda x, p: _step((x > p["min_val"]) & (x < p["max_val"]), x),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: _clamp(mp, x, p["min_val"], p["max_val"]),
        color="#637939",
        param_derivatives={
            "min_val": lambda x, p: _step(x <= p["min_val"], x),
            "max_val": lambda x, p: _step(x >= p["max_val"], x),
        },
        kinks=lambda p: [
            Kink(p["min_val"], 0.0, 1.0, Convention.LEFT),
            Kink(p["max_val"], 1.0, 0.0, Convention.RIGHT),
        ],
        validate=_hardtanh_check,
        note="At a clamp, dy/dx = 0 and the clamp's own parameter takes the gradient 1.",
    )
)


def _hardswish_forward(x: Array, p: Params) -> Array:
    if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d input: nothing to write into
        return _hardswish_forward(x.reshape(1), p).reshape(())
    # x·(x+3)/6 everywhere (PyTorch's order of operations), then the outer branches over it
    # without a branch per point: min(x·(x+3)/6, u) with u = x for x >= 0 and -0.0 below.
    # x >= 3: x·(x+3)/6 >= x, so x (also where the product overflows); 0 <= x < 3: it is
    # <= x; -3 < x < 0: it is negative; x <= -3: it is >= 0 (inf at -inf), so -0.0, the
    # sign x·0/6 keeps in PyTorch. The same bits as masked copies (checked on 2^22 floats
    # around ±3, 0, 1.5 and 6 in both dtypes), which on points in random order cost 10x.
    y = x + 3
    with np.errstate(over="ignore", invalid="ignore"):
        y *= x
    y /= 6
    np.minimum(y, np.clip(x, -0.0, np.inf), out=y)
    return y


def _hardsigmoid_forward(x: Array, p: Params) -> Array:
    """clip(x + 3, 0, 6)/6, in one buffer."""
    if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d input: nothing to write into
        return _hardsigmoid_forward(x.reshape(1), p).reshape(())
    y = np.add(x, 3)
    np.clip(y, 0, 6, out=y)
    y /= 6
    return y


def _hardswish_derivative(x: Array, p: Params) -> Array:
    # PyTorch 2.13 takes the outer branch at both kinks: 0 at -3, 1 at +3
    if x.ndim == 0:  # numpy gives scalars, not arrays, for 0-d input: nothing to write into
        return _hardswish_derivative(x.reshape(1), p).reshape(())
    d = x / 3  # in place from here: x/3 + 1/2 inside, then the outer branches
    d += 0.5
    np.copyto(d, 0.0, where=x <= -3)
    np.copyto(d, 1.0, where=x >= 3)
    return d


register(
    Entry(
        name="hardswish",
        title="Hardswish",
        pytorch="torch.nn.functional.hardswish",
        formula=r"x\,\frac{\min(\max(0,\,x+3),\,6)}{6}",
        derivative_formula=r"0\ (x\leq -3),\ \ \frac{2x+3}{6}\ (-3<x<3),\ \ 1\ (x\geq 3)",
        forward=_hardswish_forward,
        derivative=_hardswish_derivative,
        second_derivative=lambda x, p: np.where((x > -3) & (x < 3), 1 / 3, 0).astype(x.dtype),
        reference=lambda mp, x, p: x * _clamp(mp, x + 3, 0, 6) / 6,
        color="#a6761d",
        kinks=lambda p: [
            Kink(-3.0, 0.0, -0.5, Convention.LEFT),
            Kink(3.0, 1.5, 1.0, Convention.RIGHT),
        ],
    )
)

register(
    Entry(
        name="hardsigmoid",
        title="Hardsigmoid",
        pytorch="torch.nn.functional.hardsigmoid",
        formula=r"\frac{\min(\max(0,\,x+3),\,6)}{6}",
        derivative_formula=r"\frac{1}{6}\ \mathrm{if}\ -3<x<3\ \mathrm{else}\ 0",
        forward=_hardsigmoid_forward,
        # the mask times 1/6: 1/6 or +0, as np.where gives, without a branch per point
        derivative=lambda x, p: ((x > -3) & (x < 3)) * x.dtype.type(1 / 6),
        second_derivative=lambda x, p: _zeros(x),
        reference=lambda mp, x, p: _clamp(mp, x + 3, 0, 6) / 6,
        color="#1b9e77",
        kinks=lambda p: [
            Kink(-3.0, 0.0, 1 / 6, Convention.LEFT),
            Kink(3.0, 1 / 6, 0.0, Convention.RIGHT),
        ],
    )
)


def _softsign_forward(x: Array, p: Params) -> Array:
    fmax = np.finfo(x.dtype).max
    xc = np.clip(x, -fmax, fmax)
    return xc / (1 + np.abs(xc))


def _softsign_derivative(x: Array, p: Params) -> Array:
    r = 1 / (1 + np.abs(x))
    return r * r


def _softsign_second(x: Array, p: Params) -> Array:
    r = 1 / (1 + np.abs(x))
    return -2 * np.sign(x) * r * r * r


register(
    Entry(
        name="softsign",
        title="Softsign",
        pytorch="torch.nn.functional.softsign",
        formula=r"\frac{x}{1+|x|}",
        derivative_formula=r"\frac{1}{(1+|x|)^2}",
        forward=_softsign_forward,
        derivative=_softsign_derivative,
        second_derivative=_softsign_second,
        reference=lambda mp, x, p: x / (1 + abs(x)),
        color="#7b4173",
        kinks=lambda p: [Kink(0.0, 2.0, -2.0, Convention.MIDPOINT, order=2)],
    )
)


def _sigmoid_derivative(x: Array, p: Params) -> Array:
    """σ'(x) = σ(x)σ(-x) = e/(1+e)², e = e^{-|x|}: symmetric, so one exp serves both signs."""
    e = np.exp(-np.abs(x))
    d = 1 + e
    return e / (d * d)


register(
    Entry(
        name="sigmoid",
        title="Sigmoid",
        pytorch="torch.sigmoid",
        formula=r"\sigma(x)=\frac{1}{1+e^{-x}}",
        derivative_formula=r"\sigma(x)\,(1-\sigma(x))",
        forward=lambda x, p: expit(x),
        derivative=_sigmoid_derivative,
        # σ'' = σ'·(1 - 2σ) = -σ'·tanh(x/2)
        second_derivative=lambda x, p: -_sigmoid_derivative(x, p) * np.tanh(0.5 * x),
        reference=lambda mp, x, p: 1 / (1 + mp.exp(-x)),
        color="#66c2a5",
    )
)

register(
    Entry(
        name="tanh",
        title="Tanh",
        pytorch="torch.tanh",
        formula=r"\tanh(x)",
        derivative_formula=r"1-\tanh^2(x)",
        forward=lambda x, p: np.tanh(x),
        derivative=lambda x, p: sech2(x),
        second_derivative=lambda x, p: -2 * np.tanh(x) * sech2(x),
        reference=lambda mp, x, p: mp.tanh(x),
        color="#f0027f",
        note="1 - tanh² is computed as sech², which keeps its tail for |x| > 19.",
    )
)


# ---------------------------------------------------------------------------
# The public object
# ---------------------------------------------------------------------------


def _fmt(v: float | str) -> str:
    """Shortest faithful text of a parameter value (0.01, 0.125, 1e-05, 'tanh')."""
    if isinstance(v, str):
        return v
    if float(v).is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


def _short(v: float | str) -> str:
    return v if isinstance(v, str) else f"{v:.4g}"


def _as_array(x: Any) -> Array:
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    raise TypeError(f"actcheck activations take real numbers, got an array of dtype {a.dtype}")


class Activation:
    """A catalog entry with its parameters bound. Build one with ``actcheck.get``.

    Every method takes an array (or scalar) of any shape and returns the same
    shape and float dtype (integers become float64).
    """

    def __init__(self, entry: Entry, params: Mapping[str, Any]):
        self.entry = entry
        self.params: dict[str, float | str] = dict(params)

    # -- identity -----------------------------------------------------------
    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def title(self) -> str:
        return self.entry.title

    @property
    def label(self) -> str:
        """Display name with parameters, e.g. ``LeakyReLU(negative_slope=0.01)``."""
        args = ", ".join(f"{k}={_short(v)}" for k, v in self.params.items())
        return f"{self.title}({args})"

    @property
    def spec(self) -> str:
        """Command-line text that rebuilds this activation, e.g. ``elu:alpha=2``."""
        changed = {k: v for k, v in self.params.items() if v != _param(self.entry, k).default}
        if not changed:
            return self.name
        return self.name + ":" + ",".join(f"{k}={_fmt(v)}" for k, v in changed.items())

    @property
    def color(self) -> str:
        """The colour of this activation in every figure, as ``#rrggbb``."""
        return color_of(self.name)

    @property
    def stochastic(self) -> bool:
        """True where training mode draws randomness (RReLU): see ``train_forward``."""
        return self.entry.train is not None

    @property
    def homogeneous(self) -> bool:
        """True where f(x) = x·f'(x) for every finite x (the ReLU family): see ``Entry``."""
        return self.entry.homogeneous

    @property
    def learnable_params(self) -> tuple[str, ...]:
        """Parameters a network learns (PReLU's weight), in catalog order."""
        return tuple(prm.name for prm in self.entry.params if prm.learnable)

    @property
    def differentiable_params(self) -> tuple[str, ...]:
        """Parameters with a derivative (``param_derivatives``), in catalog order."""
        has = self.entry.param_derivatives
        return tuple(p.name for p in self.entry.params if p.differentiable and p.name in has)

    @property
    def formula(self) -> str:
        """y = f(x) as LaTeX-style text (matplotlib mathtext can draw it)."""
        f = self.entry.formula
        return f if isinstance(f, str) else f(self.params)

    @property
    def derivative_formula(self) -> str:
        f = self.entry.derivative_formula
        return f if isinstance(f, str) else f(self.params)

    def __repr__(self) -> str:
        return f"actcheck.get({self.spec!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Activation)
            and other.entry is self.entry
            and other.params == self.params
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(self.params.items())))

    def with_params(self, **changes: Any) -> Activation:
        """A copy with some parameters changed (validated)."""
        return get(self.name, **{**self.params, **changes})

    def check_dtype(self, dtype: str = "float64", extent: float = PROBE_EXTENT) -> None:
        """Raise ActivationError unless a check in ``dtype`` over probes up to |x| = ``extent``
        resolves these parameters (``get`` already checked float64 at the default extent)."""
        check_domain(self.entry, self.params, dtype, extent)

    # -- numerics -----------------------------------------------------------
    def _apply(self, fn: Callable[[Array, Params], Array], x: Any, nan_free: bool = False) -> Array:
        a = _as_array(x)
        out = np.asarray(fn(a, self.params)).astype(a.dtype, copy=False)
        if out.shape != a.shape:
            out = np.broadcast_to(out, a.shape).copy()
        # comparisons send NaN down a branch; NaN in must give NaN out. min() is NaN exactly
        # when some element is: one read of the input instead of a mask for every call
        if not nan_free and a.size and np.isnan(a.min()):
            out = np.where(np.isnan(a), a, out)
        return out[()] if out.ndim == 0 else out

    def checked_pair(self, order: int = 1, nan_free: bool = False) -> tuple[Callable, Callable]:
        """What a check of derivative ``order`` compares: (f, f') for 1, (f', f'') for 2.

        With ``nan_free`` (inputs known to hold no NaN: generated probes and their
        stencils) the two skip the NaN guard, a read of the whole input at every call.
        """
        fns = (self.entry.forward, self.entry.derivative, self.entry.second_derivative)
        lo, hi = fns[order - 1], fns[order]
        return (functools.partial(self._apply, lo, nan_free=nan_free),
                functools.partial(self._apply, hi, nan_free=nan_free))  # fmt: skip

    def forward(self, x: Any) -> Array:
        """y = f(x), elementwise."""
        return self._apply(self.entry.forward, x)

    __call__ = forward

    def derivative(self, x: Any) -> Array:
        """dy/dx, with PyTorch's value at each kink (see ``kinks``)."""
        return self._apply(self.entry.derivative, x)

    def second_derivative(self, x: Any) -> Array:
        """d²y/dx², exact away from the kinks; at a kink, the branch ``derivative`` uses."""
        return self._apply(self.entry.second_derivative, x)

    def param_derivatives(self, x: Any) -> dict[str, Array]:
        """dy/dθ for every differentiable parameter θ, elementwise."""
        return {k: self._apply(fn, x) for k, fn in self.entry.param_derivatives.items()}

    def raw(self, **params: Any) -> RawActivation:
        """The entry's own functions with these parameters bound, for hot loops.

        No dtype conversion and no NaN guard, and ``params`` (overriding this
        activation's) are not validated: a parameter may be an array that
        broadcasts against x, such as one learned PReLU slope per seed.
        """
        return RawActivation(self.entry, {**self.params, **params})

    def train_forward(self, x: Any, rng: np.random.Generator) -> tuple[Array, Array]:
        """Training-mode forward: (y, dy/dx) with fresh randomness where the function has any.

        The entry's ``train`` draws it (RReLU: one slope per element, as PyTorch's
        training mode); every other entry is deterministic and returns
        (forward(x), derivative(x)).
        """
        if self.entry.train is None:
            return self.forward(x), self.derivative(x)
        return self.entry.train(_as_array(x), self.params, rng)

    # -- structure ------------------------------------------------------------
    @property
    def kinks(self) -> tuple[Kink, ...]:
        """Kinks for the current parameters (a kink whose sides agree is no kink)."""
        return _shown_kinks(self.entry.kinks(self.params))

    @property
    def declared_kinks(self) -> tuple[Kink, ...]:
        """``kinks``, plus the order-2 kinks that sit where an order-1 kink already is.

        (ELU's f'' jumps at 0 too, which ``kinks`` folds into the order-1 kink there.)
        """
        declared = self.entry.kinks(self.params)
        shown = _shown_kinks(declared)
        return shown + tuple(k for k in declared if _is_kink(k) and k not in shown)

    @property
    def smoothness(self) -> float:
        """Largest k with f in C^k: -1 where f jumps, 0, 1, or math.inf."""
        orders = [(-1 if k.jump else k.order - 1) for k in self.kinks]
        return float(min(orders)) if orders else math.inf

    @property
    def smoothness_label(self) -> str:
        s = self.smoothness
        if s == math.inf:
            return "C∞"
        if s < 0:
            jumps = [k for k in self.kinks if k.jump]
            return "; ".join(f"C∞ but jumps {k.jump:.3g} at x={_fmt(k.x)}" for k in jumps)
        return f"C{int(s)}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-ready) about this activation and its parameters."""
        return {
            "name": self.name,
            "title": self.title,
            "label": self.label,
            "spec": self.spec,
            "pytorch": self.entry.pytorch,
            "params": [prm.to_dict(self.params[prm.name]) for prm in self.entry.params],
            "smoothness": self.smoothness_label,
            "smoothness_order": None if self.smoothness == math.inf else int(self.smoothness),
            "kinks": [k.to_dict(self.name) for k in self.kinks],
            "formula": self.formula,
            "derivative_formula": self.derivative_formula,
            "note": self.entry.note,
        }


def _is_kink(k: Kink) -> bool:
    return k.left != k.right or (k.order == 1 and k.jump != 0.0)


def _shown_kinks(declared: list[Kink]) -> tuple[Kink, ...]:
    """Real kinks sorted by x, an order-2 one only where no order-1 kink sits."""
    first = [k for k in declared if k.order == 1 and _is_kink(k)]
    at = {k.x for k in first}
    second = [k for k in declared if k.order == 2 and _is_kink(k) and k.x not in at]
    return tuple(sorted(first + second, key=lambda k: (k.x, k.order)))


@dataclass(frozen=True)
class RawActivation:
    """An entry's functions with parameters bound, unwrapped (see ``Activation.raw``)."""

    entry: Entry
    params: Mapping[str, Any]

    def forward(self, x: Array) -> Array:
        return self.entry.forward(x, self.params)

    def derivative(self, x: Array) -> Array:
        return self.entry.derivative(x, self.params)

    def param_derivative(self, name: str, x: Array) -> Array:
        return self.entry.param_derivatives[name](x, self.params)


def color_of(name: str) -> str:
    """The figure colour of entry ``name``, or a stable one for a name without its own.

    The fallback's hue comes from the name's CRC32, so any number of entries get a colour.
    """
    entry = CATALOG.get(name)
    if entry is not None and entry.color:
        return entry.color
    hue = zlib.crc32(name.encode()) / 2**32
    r, g, b = colorsys.hsv_to_rgb(hue, 0.7, 0.75)
    return f"#{round(255 * r):02x}{round(255 * g):02x}{round(255 * b):02x}"


# ---------------------------------------------------------------------------
# Lookup
# ---------------------------------------------------------------------------


def names() -> list[str]:
    """Names of every catalog entry, in catalog order."""
    return list(CATALOG)


def _param(entry: Entry, name: str) -> Param:
    for prm in entry.params:
        if prm.name == name:
            return prm
    raise KeyError(name)


def _suggest(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    close += [o for o in options if len(word) >= 3 and word in o and o not in close]
    return f" Did you mean {' or '.join(close)}?" if close else ""


def resolve(name: str) -> Entry:
    """The catalog entry for ``name`` (case-insensitive; PyTorch titles and '-' accepted)."""
    key = name.strip().lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key in CATALOG:
        return CATALOG[key]
    raise ActivationError(
        f"unknown activation {name!r}.{_suggest(key, names())} Known: {', '.join(names())}"
    )


def get(name: str, **params: Any) -> Activation:
    """The activation ``name`` with ``params`` (PyTorch's names), validated.

    ``name`` may also be a full spec such as ``"elu:alpha=2"``; keyword
    arguments then override what it sets.

    >>> get("leaky_relu", negative_slope=0.2).derivative(-1.0)
    np.float64(0.2)
    """
    if ":" in name:
        return parse_spec(name).with_params(**params) if params else parse_spec(name)
    entry = resolve(name)
    known = [prm.name for prm in entry.params]
    for key in params:
        if key not in known:
            valid = f"its parameters are {', '.join(known)}" if known else "it has no parameters"
            raise ActivationError(
                f"{entry.name}: unknown parameter {key!r}.{_suggest(key, known)} ({valid})"
            )
    bound = {
        prm.name: prm.check(params.get(prm.name, prm.default), entry.name) for prm in entry.params
    }
    problem = entry.validate(bound)
    if problem:
        raise ActivationError(problem)
    check_domain(entry, bound)
    return Activation(entry, bound)


def _parse_value(text: str, prm: Param, activation: str) -> float | str:
    if prm.choices is not None:
        return text
    try:
        return float(text)
    except ValueError:
        pass
    try:
        # '1/8' reads as a number: exact fractions are common for rrelu's bounds
        return float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise ActivationError(
            f"{activation}: parameter {prm.name} must be a number, got {text!r}"
        ) from None


def parse_spec(text: str) -> Activation:
    """Build an activation from command-line text: ``name`` or ``name:key=value,key=value``.

    Values are read as numbers (``0.2``, ``1e-3``, ``1/8``) or, for choice
    parameters, as one of the choices; nothing is ever evaluated as code.
    """
    name, sep, rest = text.partition(":")
    entry = resolve(name)
    params: dict[str, float | str] = {}
    if sep and not rest.strip():
        raise ActivationError(f"{text!r}: expected parameters after ':', e.g. elu:alpha=2")
    for item in rest.split(",") if rest.strip() else []:
        key, eq, value = (s.strip() for s in item.partition("="))
        if not eq or not key or not value:
            raise ActivationError(
                f"{text!r}: expected key=value, got {item.strip()!r} "
                "(e.g. leaky_relu:negative_slope=0.2)"
            )
        if key in params:
            raise ActivationError(f"{text!r}: parameter {key} given twice")
        try:
            prm = _param(entry, key)
        except KeyError:
            known = [q.name for q in entry.params]
            valid = f"its parameters are {', '.join(known)}" if known else "it has no parameters"
            raise ActivationError(
                f"{entry.name}: unknown parameter {key!r}.{_suggest(key, known)} ({valid})"
            ) from None
        params[key] = _parse_value(value, prm, entry.name)
    return get(entry.name, **params)
