"""Fit the rational approximation behind ``actcheck.primitives.normal_cdf`` (needs mpmath).

G(y) = Q(y)·e^{y²/2}, Q(y) = 1 - Φ(y) the upper tail, is smooth and positive on [0, 40]
(beyond 40, Q underflows in float64). It is fitted as P(y)/R(y) of degrees NUM and DEN with
R(0) = 1, by weighted linear least squares on Chebyshev nodes, re-weighted so that the
relative error is what gets minimised (Sanathanan-Koerner iteration), in 60-digit
arithmetic. Prints the coefficients (lowest degree first) and the largest relative
error of the rounded coefficients on a dense grid.

    python tools/fit_normal_cdf.py
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 60
NUM, DEN = 10, 11  # degrees of P and R (all 22 coefficients come out positive)
LO, HI = 0, 40
NODES = 15 * (NUM + DEN)
ITERATIONS = 10


def g(y: mp.mpf) -> mp.mpf:
    return mp.erfc(y / mp.sqrt(2)) / 2 * mp.exp(y * y / 2)


def fit() -> tuple[list[mp.mpf], list[mp.mpf]]:
    a, b = mp.mpf(LO), mp.mpf(HI)
    ys = [(a + b) / 2 + (b - a) / 2 * mp.cos(mp.pi * (k + 0.5) / NODES) for k in range(NODES)]
    gs = [g(y) for y in ys]
    weights = [1 / v for v in gs]
    for _ in range(ITERATIONS):
        lhs = mp.matrix(NODES, NUM + 1 + DEN)
        rhs = mp.matrix(NODES, 1)
        for i, (y, v) in enumerate(zip(ys, gs, strict=True)):
            for j in range(NUM + 1):
                lhs[i, j] = weights[i] * y**j
            for j in range(1, DEN + 1):
                lhs[i, NUM + j] = -weights[i] * v * y**j
            rhs[i] = weights[i] * v
        sol, _residual = mp.qr_solve(lhs, rhs)
        p = [sol[j] for j in range(NUM + 1)]
        r = [mp.mpf(1)] + [sol[NUM + j] for j in range(1, DEN + 1)]
        weights = [1 / abs(v * mp.polyval(r[::-1], y)) for y, v in zip(ys, gs, strict=True)]
    return p, r


def rational(p: list[float], r: list[float], y: mp.mpf) -> mp.mpf:
    return mp.polyval([mp.mpf(c) for c in p[::-1]], y) / mp.polyval([mp.mpf(c) for c in r[::-1]], y)


def main() -> None:
    p, r = fit()
    pf, rf = [float(c) for c in p], [float(c) for c in r]
    grid = (mp.mpf(LO) + (HI - LO) * mp.mpf(k) / 8000 for k in range(8001))
    worst = max(abs(rational(pf, rf, y) / g(y) - 1) for y in grid)
    print("P =", tuple(pf))
    print("R =", tuple(rf))
    print(f"largest relative error of P/R (coefficients rounded to float64): {float(worst):.2e}")


if __name__ == "__main__":
    main()
