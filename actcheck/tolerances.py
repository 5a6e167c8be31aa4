"""The one error model's constants: one row per dtype, overridable per call.

Every numerical derivative in actcheck (catalog checks, user-code checks, the
numerical markers on plots) is taken and judged with these numbers and nowhere
else. Callers override single fields the way JAX's ``check_grads`` merges a
tolerance dict into its defaults::

    tolerances("float32", safety=8.0)
    actcheck.gradcheck("elu", tolerances={"safety": 8.0})

What each constant means (ε is the dtype's machine epsilon, h the step):

* the step is h = 2^⌊log2(step·max(|x|, step_floor))⌋ (``step`` = ε^{1/3});
* a numerical derivative's bound is ``safety·(truncation + round-off)``, with
  round-off ``f_ulps·ε·(|f| + |x f'|)/h`` summed over the difference's terms;
* the analytic value may carry its own rounding, ``analytic_ulps·ε·(|f'| + |f|/max(|x|,1))``;
* a point within ``kink_ulps`` ulps of a declared kink (other than 0) is *at* the
  kink: the branch condition of computed switch points may flip that close;
* a point is *suspect* (gets one-sided derivatives) when its truncation estimate
  exceeds ``suspect_rel`` of the derivative's scale, or its bend ``suspect_bend``
  steps of it; suspect points also get a central difference with step h/``refine``;
* the complex step Im f(x + iη)/η uses η = ``cs_step``·max(|x|, 1), is trusted to
  ``cs_ulps``·ε and is tried on ``cs_probes`` points with ``cs_probe_low`` <= |x| <=
  ``cs_probe_high`` first.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from actcheck import defaults
from actcheck.errors import InputError


@dataclass(frozen=True)
class Tolerances:
    """The constants of the error model for one dtype (see the module docstring)."""

    step: float  # relative difference step: ε^{1/3} balances truncation O(h²) and round-off ε/h
    step_floor: float  # steps are relative to max(|x|, step_floor): features at scale ~1
    f_ulps: float  # assumed error of an f evaluation, in ε·(|f| + |x f'|)
    analytic_ulps: float  # allowed rounding of the analytic derivative
    safety: float  # multiplies the estimated numerical error
    suspect_rel: float  # relative truncation estimate above which a point gets one-sided checks
    suspect_bend: float  # ... and the bend (relative, in steps) above which it does
    refine: float  # suspect points also get a central difference with step h/refine
    kink_ulps: int  # a point this many ulps from a declared kink is at the kink
    kink_report_gap: float  # detected kink points closer than this many steps form one kink
    rel_floor: float  # relative errors are taken against max(|f'|, rel_floor·max|f'|)
    cs_step: float  # complex step η, relative to max(|x|, 1)
    cs_ulps: float  # error of a complex-step derivative, in ε·(|f'| + |f|/max(|x|,1))
    cs_probes: int  # points used to decide whether f is complex-safe
    cs_probe_low: float  # ... taken with cs_probe_low <= |x| <= cs_probe_high
    cs_probe_high: float


_COMMON: dict[str, Any] = {
    "step_floor": 1.0,
    "f_ulps": 4.0,
    "analytic_ulps": 32.0,
    "safety": defaults.SAFETY,
    "suspect_rel": 1e-6,
    "suspect_bend": 30.0,
    "refine": 8.0,
    "kink_ulps": 4,
    "kink_report_gap": 4.0,
    "rel_floor": 1e-6,
    "cs_ulps": 8.0,
    "cs_probes": 8,
    "cs_probe_low": 1e-3,
    "cs_probe_high": 20.0,
}

# the table: one row per dtype
TOLERANCES: dict[str, Tolerances] = {
    "float64": Tolerances(step=(2.0**-52) ** (1 / 3), cs_step=1e-20, **_COMMON),
    "float32": Tolerances(step=(2.0**-23) ** (1 / 3), cs_step=1e-10, **_COMMON),
}

FIELDS = tuple(f.name for f in dataclasses.fields(Tolerances))

Overrides = Mapping[str, float] | Tolerances | None


def tolerances(dtype: Any = "float64", **overrides: float) -> Tolerances:
    """The row for ``dtype`` (a name or numpy dtype), with ``overrides`` merged in."""
    name = getattr(dtype, "name", None) or str(dtype)
    if name not in TOLERANCES:
        raise InputError(f"no tolerances for dtype {name!r} (have {', '.join(TOLERANCES)})")
    unknown = sorted(set(overrides) - set(FIELDS))
    if unknown:
        raise InputError(f"unknown tolerance {unknown[0]!r} (have {', '.join(FIELDS)})")
    row = dataclasses.replace(TOLERANCES[name], **overrides)
    for key in ("step", "safety", "step_floor", "f_ulps", "analytic_ulps", "refine", "cs_step"):
        value = getattr(row, key)
        try:
            positive = 0 < float(value) < float("inf")
        except (TypeError, ValueError):
            positive = False
        if not positive:
            raise InputError(f"{key} must be a positive number, got {value!r}")
    return row


def merged(dtype: Any, overrides: Overrides = None, **explicit: float | None) -> Tolerances:
    """The row for ``dtype`` with a caller's ``tolerances=`` and explicit keywords merged in.

    ``overrides`` is a dict of fields (JAX style) or a whole ``Tolerances`` row;
    ``explicit`` holds keyword arguments such as ``safety=`` and ``step=`` that
    win over it when not None.
    """
    given = {k: v for k, v in explicit.items() if v is not None}
    if isinstance(overrides, Tolerances) and not given:
        try:
            return _validated(overrides)  # a whole row: the engine passes one on every block
        except TypeError:  # an unhashable field: validated (and refused) below
            pass
    if isinstance(overrides, Tolerances):
        base = dataclasses.asdict(overrides)
    else:
        base = dict(overrides or {})
    base.update(given)
    return tolerances(dtype, **base)


@functools.lru_cache(maxsize=256)
def _validated(row: Tolerances) -> Tolerances:
    """``row`` once it has passed ``tolerances``' checks (every field given, so the dtype's
    own row does not show through), validated once per distinct row."""
    return tolerances("float64", **dataclasses.asdict(row))


# ---------------------------------------------------------------------------
# Directional differences (user-code checks: Jacobians, projections, parameters)
# ---------------------------------------------------------------------------
# A derivative along a direction through a whole forward call (Σ u·y summed over
# many entries) rounds like the terms it is summed from, not like one f(x): these
# constants belong to ``numdiff.central_along``; its mismatch factor is ``safety``.


@dataclass(frozen=True)
class DirectionalTolerances:
    """Constants of ``numdiff.central_along`` and the user-code checks for one dtype."""

    step: float  # step relative to max(|x|, 1) rounded up to a power of two
    roundoff_ulps: float  # round-off of a difference quotient: this many ε·(max|g| + scale)/h
    analytic_ulps: float  # the analytic side's own rounding, in ε of the checked dtype
    noise_ulps: float  # a forward's noise, in ε·max|y|, floors a per-point numerical derivative
    argument_ulps: float  # rounding of arguments inside f' (w·x in w·cos(w·x)), in ε·|x|·|f''|


DIRECTIONAL: dict[str, DirectionalTolerances] = {
    # Richardson makes the truncation O(h^4): a small step keeps the window around a kink tiny
    "float64": DirectionalTolerances(2.0**-20, 16.0, 64.0, 16.0, 4.0),
    "float32": DirectionalTolerances(2.0**-8, 16.0, 32.0, 16.0, 4.0),
}


def directional(dtype: Any = "float64", **overrides: float) -> DirectionalTolerances:
    """The directional row for ``dtype``, with ``overrides`` merged in."""
    name = getattr(dtype, "name", None) or str(dtype)
    if name not in DIRECTIONAL:
        raise InputError(f"no tolerances for dtype {name!r} (have {', '.join(DIRECTIONAL)})")
    if not overrides:  # the hot path: called once per direction
        return DIRECTIONAL[name]
    known = {f.name for f in dataclasses.fields(DirectionalTolerances)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise InputError(f"unknown tolerance {unknown[0]!r} (have {', '.join(sorted(known))})")
    return dataclasses.replace(DIRECTIONAL[name], **overrides)
