"""Gradient-check cost, side by side in one process: actcheck vs torch vs a per-element loop.

For each catalog function, on the same N float64 points (default 1,000,000, x ~ N(0, 3²)):

* actcheck   - ``actcheck.gradcheck(act, x=x, params=False).passed``: the full per-point check
               (Richardson central differences, error bound and verdict at every point,
               one-sided differences at kinks).
* torch fast - ``torch.autograd.gradcheck(fn, (x,), fast_mode=True)`` with torch's own
               kernel (fast mode compares ONE random projection u·J·v, not every point).
* torch same - the same, with ``fn`` a ``torch.autograd.Function`` around actcheck's numpy
               forward/derivative: both checkers then check the same implementation.
* loop       - a cs231n-style per-element loop (perturb x[i], call f on the whole array,
               twice per element) on a small N, scaled linearly to N. The real loop is
               quadratic in N, so the scaled figure is a lower bound.

Also times ``actcheck gradcheck`` (all defaults) as a command, minus interpreter start.

First, issue 12's targets, each tool as users run it (defaults; actcheck's thread pool
over all cores, torch with its default thread count), on N generated points:

* d/dx only: ``actcheck.gradcheck(name, points=N, params=False).passed`` vs
  ``torch.autograd.gradcheck(fn, (x,), fast_mode=True)`` on N float64 points:
  ratio actcheck / torch <= 1.0 for every function (aim 0.5);
* the default check (parameter derivatives included) within 2x torch fast mode.

Run:  python benchmarks/bench_gradcheck.py [--n 1000000] [--loop-n 2000] [--repeat 3] [NAMES]
      python benchmarks/bench_gradcheck.py --targets-only   (just the targets)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np

import actcheck
from actcheck.activations import Activation
from actcheck.catalogcheck import gradcheck


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls, and the last call's result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def interleaved(
    contenders: dict[str, Callable[[], object]], repeat: int
) -> tuple[dict[str, float], dict[str, object]]:
    """Run the contenders in turn, ``repeat`` rounds: load spikes hit all of them alike."""
    best = dict.fromkeys(contenders, float("inf"))
    out: dict[str, object] = {}
    for _ in range(repeat):
        for key, fn in contenders.items():
            time.sleep(SETTLE)
            t, out[key] = timed(fn, 1)
            best[key] = min(best[key], t)
    return best, out


# A pause before each timed call: torch's OpenMP workers keep spinning for a while after
# each parallel region, and a contender timed in that while shares the cores with them
SETTLE = 0.05


def loop_check(act: Activation, x: np.ndarray) -> np.ndarray:
    """cs231n's eval_numerical_gradient_array: one element at a time, f on the whole array."""
    h = 1e-5
    x = x.copy()
    dout = np.ones_like(x)
    grad = np.zeros_like(x)
    for i in range(x.size):
        old = x[i]
        x[i] = old + h
        pos = act.forward(x)
        x[i] = old - h
        neg = act.forward(x)
        x[i] = old
        grad[i] = np.sum((pos - neg) * dout) / (2 * h)
    return np.abs(grad - act.derivative(x)) <= 1e-5 + 1e-3 * np.abs(grad)


def torch_native(act: Activation):
    import torch
    import torch.nn.functional as F

    p = act.params
    table = {
        "relu": F.relu,
        "leaky_relu": lambda t: F.leaky_relu(t, p.get("negative_slope", 0.01)),
        "prelu": lambda t: F.prelu(t, torch.tensor([p.get("weight", 0.25)], dtype=t.dtype)),
        "rrelu": lambda t: F.rrelu(t, p.get("lower", 0.125), p.get("upper", 1 / 3), False),
        "elu": lambda t: F.elu(t, p.get("alpha", 1.0)),
        "selu": F.selu,
        "celu": lambda t: F.celu(t, p.get("alpha", 1.0)),
        "gelu": lambda t: F.gelu(t, approximate=p.get("approximate", "none")),
        "silu": F.silu,
        "mish": F.mish,
        "softplus": lambda t: F.softplus(t, p.get("beta", 1.0), p.get("threshold", 20.0)),
        "relu6": F.relu6,
        "hardtanh": lambda t: F.hardtanh(t, p.get("min_val", -1.0), p.get("max_val", 1.0)),
        "hardswish": F.hardswish,
        "hardsigmoid": F.hardsigmoid,
        "softsign": F.softsign,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
    }
    return table.get(act.name)


def torch_same(act: Activation):
    import torch

    class Same(torch.autograd.Function):
        @staticmethod
        def forward(ctx, t):
            ctx.save_for_backward(t)
            return torch.from_numpy(act.forward(t.detach().numpy()))

        @staticmethod
        def backward(ctx, g):
            (t,) = ctx.saved_tensors
            return g * torch.from_numpy(act.derivative(t.detach().numpy()))

    return Same.apply


def torch_check(fn, xt) -> str:
    import torch

    try:
        ok = torch.autograd.gradcheck(fn, (xt,), fast_mode=True, raise_exception=False)
    except Exception as err:  # pragma: no cover - report, don't crash the table
        return type(err).__name__
    del torch
    return "pass" if ok else "FAIL"


def judged(result):
    """The result with its verdict taken, as a user takes it (``.passed``): torch's
    gradcheck returns its verdict, so the timed call does too."""
    result.passed  # noqa: B018 - the verdict is part of the time
    return result


def cli_seconds(repeat: int) -> tuple[float, float]:
    def wall(cmd: list[str]) -> float:
        return timed(lambda: subprocess.run(cmd, capture_output=True, check=False), repeat)[0]

    base = wall([sys.executable, "-c", "pass"])
    full = wall([sys.executable, "-m", "actcheck", "gradcheck"])
    return full, base


TARGET_DX = 1.0  # actcheck d/dx / torch fast mode, every function (aim: AIM_DX)
AIM_DX = 0.5
TARGET_PARAMS = 2.0  # actcheck with parameter derivatives / torch fast mode, every function


def targets(names: list[str], n: int, repeat: int) -> None:
    """Issue 12's targets: each tool with its own defaults, side by side, ratios and verdicts."""
    import torch

    from actcheck import catalogcheck

    # (main before issue 12 had no thread pool: one thread)
    threads = catalogcheck._cores() if hasattr(catalogcheck, "_cores") else 1
    rng = np.random.default_rng(0)
    xt = torch.from_numpy(rng.uniform(-6.0, 6.0, n)).requires_grad_()
    print(
        f"targets: {n:,} points; actcheck {threads} threads (its default: the cores it may "
        f"use), torch {torch.get_num_threads()} threads (its default); best of {repeat}, "
        "interleaved"
    )
    head = (
        f"{'activation':<12} {'d/dx':>8} {'+params':>8} {'torch fast':>11} "
        f"{'d/dx ratio':>10} {'params ratio':>12}  verdicts"
    )
    print(head)
    print("-" * len(head))
    worst_dx = worst_p = 0.0
    for name in names:
        act = actcheck.get(name)
        fn = torch_native(act)
        if fn is None:
            continue
        best, out = interleaved(
            {
                "dx": lambda a=act: judged(gradcheck(a, points=n, params=False)),
                "all": lambda a=act: judged(gradcheck(a, points=n)),
                "torch": lambda f=fn: torch_check(f, xt),
            },
            repeat,
        )
        r_dx, r_p = best["dx"] / best["torch"], best["all"] / best["torch"]
        worst_dx, worst_p = max(worst_dx, r_dx), max(worst_p, r_p)
        verdicts = f"actcheck {'pass' if out['all'].passed else 'FAIL'}, torch {out['torch']}"
        flag = "" if r_dx <= TARGET_DX and r_p <= TARGET_PARAMS else "  <- MISSED"
        print(
            f"{name:<12} {best['dx'] * 1e3:6.0f}ms {best['all'] * 1e3:6.0f}ms "
            f"{best['torch'] * 1e3:9.0f}ms {r_dx:10.2f} {r_p:12.2f}  {verdicts}{flag}"
        )

    def verdict(worst: float, target: float) -> str:
        return f"{'met' if worst <= target else 'MISSED'} (worst ratio {worst:.2f})"

    print(f"target d/dx <= {TARGET_DX:g}x torch fast mode, every function: ", end="")
    print(verdict(worst_dx, TARGET_DX) + f"; aim {AIM_DX:g}x: " + verdict(worst_dx, AIM_DX))
    print(f"target with parameters <= {TARGET_PARAMS:g}x torch fast mode, every function: ", end="")
    print(verdict(worst_p, TARGET_PARAMS))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", default=actcheck.names())
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--loop-n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--targets-only", action="store_true")
    args = parser.parse_args()

    try:
        import torch

        have_torch = True
    except ImportError:
        have_torch = False
    if have_torch:
        targets(args.names, args.n, args.repeat)
        if args.targets_only:
            return
        torch.set_num_threads(1)  # like actcheck below: one core, a fair comparison

    rng = np.random.default_rng(0)
    x = 3.0 * rng.standard_normal(args.n)
    x_loop = x[: args.loop_n].copy()
    xt = torch.from_numpy(x).requires_grad_() if have_torch else None
    print(
        f"N = {args.n:,} float64 points, loop on {args.loop_n:,} scaled x{args.n / args.loop_n:g}; "
        "actcheck and torch on 1 thread each"
    )
    print(f"numpy {np.__version__}" + (f", torch {torch.__version__}" if have_torch else ""))
    head = (
        f"{'activation':<12} {'actcheck':>9} {'torch fast':>11} {'ratio':>6} "
        f"{'torch same':>11} {'ratio':>6} {'loop (scaled)':>14} {'ratio':>7}  verdicts"
    )
    print(head)
    print("-" * len(head))
    rows = []
    for name in args.names:
        act = actcheck.get(name)
        contenders = {"a": lambda a=act: judged(gradcheck(a, x=x, params=False, threads=1))}
        if have_torch:
            fn = torch_native(act)
            if fn is not None:
                contenders["n"] = lambda f=fn: torch_check(f, xt)
            same = torch_same(act)
            contenders["s"] = lambda f=same: torch_check(f, xt)
        best, out = interleaved(contenders, args.repeat)
        t_act, a_ok = best["a"], "pass" if out["a"].passed else "FAIL"
        t_native, n_ok = best.get("n", float("nan")), out.get("n", "-")
        t_same, s_ok = best.get("s", float("nan")), out.get("s", "-")
        t_loop = timed(lambda a=act: loop_check(a, x_loop), 1)[0] * args.n / args.loop_n
        rows.append((name, t_act, t_native, t_same, t_loop))
        print(
            f"{name:<12} {t_act * 1e3:7.0f}ms {t_native * 1e3:9.0f}ms {t_native / t_act:6.2f} "
            f"{t_same * 1e3:9.0f}ms {t_same / t_act:6.2f} {t_loop:12.1f} s {t_loop / t_act:7.0f}"
            f"  actcheck {a_ok}, torch {n_ok}/{s_ok}"
        )
    r = np.array([row[1:] for row in rows])
    geo = np.exp(np.nanmean(np.log(r[:, 1:] / r[:, :1]), axis=0))
    print(
        f"geometric mean of ratios (contender time / actcheck time): torch fast {geo[0]:.2f}, "
        f"torch same {geo[1]:.2f}, loop {geo[2]:.0f}"
    )
    full, base = cli_seconds(args.repeat)
    print(
        f"'actcheck gradcheck' (defaults, whole catalog): {full:.2f} s wall, "
        f"interpreter start {base:.2f} s, difference {full - base:.2f} s"
    )


if __name__ == "__main__":
    main()
