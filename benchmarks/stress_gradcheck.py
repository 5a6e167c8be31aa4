"""Sweeps too slow for the test suite: no false alarms over random parameters, and no
missed bugs over deliberately broken derivatives.

1. False alarms: 25 random draws of every parameterised entry (leaky_relu, prelu, elu,
   celu, softplus with beta from 0.01 to 300, hardtanh with widths down to 1e-3, rrelu)
   plus the whole catalog, in float64 and float32, orders 1 and 2, ranges ±6 and ±50.
   Every configuration must pass.
2. Missed bugs: every catalog function with its derivative scaled by (1 + e), shifted
   by e, wrong by 0.05 on 0.5 < x < 0.55, or sign-flipped (e = 0.1 % in float64, 2 % in
   float32). Every one must fail.

Run:  python benchmarks/stress_gradcheck.py  (a few seconds)
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

import actcheck
from actcheck.activations import Activation
from actcheck.catalogcheck import gradcheck
from actcheck.errors import InputError


def random_specs(rng: np.random.Generator, draws: int) -> list[Activation]:
    specs = []
    for _ in range(draws):
        lo = float(rng.uniform(-10, 1))
        lower = float(rng.uniform(0, 1))
        specs += [
            actcheck.get("leaky_relu", negative_slope=float(rng.uniform(0, 10))),
            actcheck.get("prelu", weight=float(rng.uniform(-3, 3))),
            actcheck.get("elu", alpha=float(rng.uniform(0.01, 10))),
            actcheck.get("celu", alpha=float(rng.uniform(0.01, 10))),
            actcheck.get(
                "softplus",
                beta=float(10 ** rng.uniform(-2, 2.5)),
                threshold=float(rng.uniform(0.5, 40)),
            ),
            actcheck.get("hardtanh", min_val=lo, max_val=lo + float(10 ** rng.uniform(-3, 1))),
            actcheck.get("rrelu", lower=lower, upper=lower + float(rng.uniform(0, 1))),
        ]
    specs += [actcheck.get(n) for n in actcheck.names()]
    specs.append(actcheck.get("gelu", approximate="tanh"))
    return specs


def false_alarms(draws: int = 25) -> tuple[int, int, int]:
    specs = random_specs(np.random.default_rng(123), draws)
    runs = failed = refused = 0
    grid = itertools.product(specs, ["float64", "float32"], [1, 2], [(-6, 6), (-50, 50)])
    for act, dtype, order, x_range in grid:
        runs += 1
        try:
            r = gradcheck(act, dtype=dtype, order=order, points=500, x_range=x_range)
        except InputError:  # parameters outside what the check resolves in this dtype
            refused += 1
            continue
        if not r.passed:
            failed += 1
            print(f"FALSE ALARM {act.spec} {dtype} order {order} range {x_range}")
            print(r.summary())
    return failed, runs, refused


def missed_bugs() -> tuple[int, int]:
    runs = missed = 0
    for name in actcheck.names():
        act = actcheck.get(name)
        d = act.entry.derivative
        for dtype, e in [("float64", 1e-3), ("float32", 2e-2)]:
            bugs = {
                "scale": lambda x, p, d=d, e=e: (1 + e) * d(x, p),
                "shift": lambda x, p, d=d, e=e: d(x, p) + e,
                "narrow": lambda x, p, d=d: np.where(
                    (x > 0.5) & (x < 0.55), d(x, p) + 0.05, d(x, p)
                ),
                "sign": lambda x, p, d=d: -d(x, p),
            }
            for bug, fn in bugs.items():
                broken = Activation(dataclasses.replace(act.entry, derivative=fn), act.params)
                r = gradcheck(broken, dtype=dtype, points=2000, params=False)
                runs += 1
                if r.passed:
                    missed += 1
                    print(f"MISSED {name} {dtype} {bug}")
    return missed, runs


def main() -> None:
    failed, runs, refused = false_alarms()
    print(
        f"false alarms: {failed} of {runs} configurations"
        + (f" ({refused} refused up front as outside what the check resolves)" if refused else "")
    )
    missed, runs = missed_bugs()
    print(f"missed bugs: {missed} of {runs} broken derivatives")


if __name__ == "__main__":
    main()
