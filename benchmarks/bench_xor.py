"""Side-by-side timing of XOR training: actcheck's seed-batched numpy trainer, the
classic one-network-at-a-time numpy loop, and seed-batched PyTorch on the CPU.

    python benchmarks/bench_xor.py [--seeds 100] [--big-seeds 1000] [--epochs 2000]
                                   [--classic-seeds 10] [--threads 1]

Every contender trains the classic setup (2-30-1 ReLU net, no biases, SSE, SGD
lr 0.002, randn init from each seed's legacy stream) for the same seeds and
epochs and is timed in this one process; the classic loop trains a fraction of
the seeds and its time is scaled per seed-epoch. All contenders run on the same
number of threads (BLAS and torch), one by default. The script checks that the
contenders' loss histories agree before it prints times, then checks the targets
of issue 12: at most 0.5 us per seed-epoch at --seeds, less per seed-epoch at
--big-seeds, and at least 25 times the classic loop's speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time


def _args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--big-seeds", type=int, default=1000, help="ReLU again at this many seeds")
    p.add_argument("--epochs", type=int, default=2000)
    p.add_argument("--hidden", type=int, default=30)
    p.add_argument("--classic-seeds", type=int, default=10)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    return p.parse_args()


ARGS = _args()
# thread counts must be fixed before numpy (and its BLAS) is imported
for var in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402

from actcheck import train_xor  # noqa: E402

LR = 0.002
X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
Y = np.array([[0], [1], [1], [0]], float)


def classic_loop(seeds: range, epochs: int, hidden: int) -> np.ndarray:
    """The classic script, one network after another (the arithmetic actcheck batches)."""
    out = np.empty((len(seeds), epochs))
    for i, s in enumerate(seeds):
        rs = np.random.RandomState(s)
        w1, w2 = rs.randn(2, hidden), rs.randn(hidden, 1)
        for t in range(epochs):
            h = X.dot(w1)
            h_relu = np.maximum(h, 0)
            y_pred = h_relu.dot(w2)
            out[i, t] = np.square(y_pred - Y).sum()
            grad_y_pred = 2.0 * (y_pred - Y)
            grad_w2 = h_relu.T.dot(grad_y_pred)
            grad_h = grad_y_pred.dot(w2.T)
            grad_h[h < 0] = 0
            grad_w1 = X.T.dot(grad_h)
            w1 -= LR * grad_w1
            w2 -= LR * grad_w2
    return out


def initial_weights(seeds: range, hidden: int) -> tuple[np.ndarray, np.ndarray]:
    w1 = np.empty((len(seeds), 2, hidden))
    w2 = np.empty((len(seeds), hidden, 1))
    for i, s in enumerate(seeds):
        rs = np.random.RandomState(s)
        w1[i], w2[i] = rs.randn(2, hidden), rs.randn(hidden, 1)
    return w1, w2


def torch_manual(seeds: range, epochs: int, hidden: int) -> np.ndarray:
    """Seed-batched torch: (S,4,H) stacks, torch.matmul/bmm, hand-written backward, in place."""
    import torch

    w1n, w2n = initial_weights(seeds, hidden)
    w1, w2 = torch.from_numpy(w1n), torch.from_numpy(w2n)
    x = torch.from_numpy(X).expand(len(seeds), 4, 2)
    xt = x.transpose(1, 2)
    y = torch.from_numpy(Y)
    losses = torch.empty(len(seeds), epochs, dtype=torch.float64)
    with torch.no_grad():
        for t in range(epochs):
            h = torch.bmm(x, w1)
            a = torch.relu(h)
            y_pred = torch.bmm(a, w2)
            r = y_pred - y
            losses[:, t] = r.square().sum(dim=(1, 2))
            g = r.mul_(2.0)
            grad_w2 = torch.bmm(a.transpose(1, 2), g)
            grad_h = torch.bmm(g, w2.transpose(1, 2)).mul_(h > 0)
            grad_w1 = torch.bmm(xt, grad_h)
            w1.sub_(grad_w1, alpha=LR)
            w2.sub_(grad_w2, alpha=LR)
    return losses.numpy()


def torch_autograd(seeds: range, epochs: int, hidden: int) -> np.ndarray:
    """Seed-batched torch with autograd computing the gradients."""
    import torch

    w1n, w2n = initial_weights(seeds, hidden)
    w1 = torch.from_numpy(w1n).requires_grad_()
    w2 = torch.from_numpy(w2n).requires_grad_()
    x = torch.from_numpy(X).expand(len(seeds), 4, 2)
    y = torch.from_numpy(Y)
    losses = torch.empty(len(seeds), epochs, dtype=torch.float64)
    for t in range(epochs):
        per_seed = (torch.relu(x @ w1) @ w2 - y).square().sum(dim=(1, 2))
        losses[:, t] = per_seed.detach()
        per_seed.sum().backward()
        with torch.no_grad():
            w1.sub_(w1.grad, alpha=LR)
            w2.sub_(w2.grad, alpha=LR)
            w1.grad = None
            w2.grad = None
    return losses.numpy()


def best_time(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    S, T, H = ARGS.seeds, ARGS.epochs, ARGS.hidden
    seeds = range(S)
    rows: list[tuple[str, float, int]] = []  # name, seconds, seed-epochs

    def ours(name: str, **kw):
        return lambda: train_xor(name, seeds=S, epochs=T, hidden=H, preset="classic", **kw)

    t, res = best_time(ours("relu"), ARGS.repeat)
    reference = res.losses
    rows.append(("actcheck relu (seed-batched numpy)", t, S * T))
    for name in ("leaky_relu", "tanh", "sigmoid", "elu", "prelu", "rrelu"):
        t, _ = best_time(ours(name), ARGS.repeat)
        rows.append((f"actcheck {name}", t, S * T))
    t, _ = best_time(ours("relu", bias=True), ARGS.repeat)
    rows.append(("actcheck relu, with biases", t, S * T))
    t, _ = best_time(ours("relu", dtype="float32"), ARGS.repeat)
    rows.append(("actcheck relu, float32", t, S * T))

    t, _ = best_time(
        lambda: train_xor("relu", seeds=ARGS.big_seeds, epochs=T, hidden=H, preset="classic"),
        ARGS.repeat,
    )
    rows.append((f"actcheck relu, {ARGS.big_seeds} seeds", t, ARGS.big_seeds * T))
    big = t / (ARGS.big_seeds * T)

    k = min(ARGS.classic_seeds, S)
    t, classic = best_time(lambda: classic_loop(range(k), T, H), 1)
    np.testing.assert_allclose(classic, reference[:k], rtol=0, atol=1e-9)
    rows.append((f"classic loop, one net at a time ({k} seeds, scaled)", t, k * T))

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(ARGS.threads)
        t, out = best_time(lambda: torch_manual(seeds, T, H), ARGS.repeat)
        np.testing.assert_allclose(out, reference, rtol=0, atol=1e-9)
        rows.append((f"torch {torch.__version__} seed-batched, manual backward", t, S * T))
        t, out = best_time(lambda: torch_autograd(seeds, T, H), ARGS.repeat)
        np.testing.assert_allclose(out, reference, rtol=0, atol=1e-9)
        rows.append(("torch seed-batched, autograd", t, S * T))

    base = rows[0][1] / rows[0][2]
    print(f"XOR 2-{H}-1, {S} seeds x {T} epochs, {ARGS.threads} thread(s), numpy {np.__version__}")
    print(f"{'contender':58s} {'us/seed-epoch':>14s} {'vs actcheck relu':>17s}")
    for name, secs, work in rows:
        per = secs / work
        print(f"{name:58s} {per * 1e6:14.3f} {per / base:16.1f}x")
    classic_per = next(secs / work for name, secs, work in rows if name.startswith("classic"))
    targets = [
        (f"<= 0.5 us per seed-epoch at {S} seeds", f"{base * 1e6:.3f} us", base <= 0.5e-6),
        (
            f"less per seed-epoch at {ARGS.big_seeds} seeds than at {S}",
            f"{big * 1e6:.3f} us ({big / base:.2f}x)",
            big < base,
        ),
        (">= 25x the classic loop", f"{classic_per / base:.1f}x", classic_per / base >= 25),
    ]
    print("\ntargets (issue 12)")
    for what, measured, met in targets:
        print(f"  {what:44s} {measured:>20s}  {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
