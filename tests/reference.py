"""Independent high-precision references for the catalog, written naively in mpmath.

Each entry's ``reference`` (beside its code in actcheck/activations.py) is the
textbook (PyTorch-documented) definition, evaluated here at high precision so
that no stable-formula trick is needed; derivatives come from mpmath's numerical
differentiation of these definitions, not from actcheck's analytic formulas.
"""

from __future__ import annotations

import mpmath as mp

from actcheck.activations import CATALOG

DPS = 80


def forward(name: str, x, p: dict):
    """f(x) for entry ``name`` with parameters ``p`` (mpf in, mpf out): its ``reference``."""
    return CATALOG[name].reference(mp, mp.mpf(x), p)


def _step(x, kinks) -> mp.mpf:
    """A differentiation step far smaller than |x| and than the distance to any kink."""
    x = mp.mpf(x)
    h = mp.mpf(2) ** -90 * max(abs(x), mp.mpf(1))
    for k in kinks:
        d = abs(x - mp.mpf(k))
        if d > 0:
            h = min(h, d / 16)
    return h


def _dps(x) -> int:
    # exp tails: -1 + e^-700 needs ~300 more digits before anything is left to difference
    return DPS + min(int(0.9 * abs(float(x))), 900)


def derivative(name: str, x, p: dict, n: int = 1, kinks=()):
    """n-th derivative in x (away from kinks) by high-precision differencing."""
    with mp.workdps(_dps(x)):
        return mp.diff(lambda t: forward(name, t, p), mp.mpf(x), n, h=_step(x, kinks))


def param_derivative(name: str, x, p: dict, param: str):
    """d f / d param at x."""
    with mp.workdps(_dps(x)):
        v = mp.mpf(p[param])
        h = mp.mpf(2) ** -90 * max(abs(v), mp.mpf(1))

        def g(a):
            return forward(name, x, {**p, param: a})

        return mp.diff(g, v, 1, h=h)


def value(name: str, x, p: dict):
    with mp.workdps(_dps(x)):
        return forward(name, x, p)
