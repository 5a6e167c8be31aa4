"""Train the 2-H-1 XOR network with any catalog activation, over many seeds at once.

The network, for the four XOR points X (4×2) with targets Y (4×1)::

    h = X W1 + b1          pre-activation, 4×H
    a = f(h)               hidden activation (any catalog entry)
    z = a w2 + b2          output, 4×1 (a logit for --loss bce)

and the losses, with r = z - Y::

    sse = Σ r²                          dL/dz = 2 r          (the classic script)
    mse = Σ r² / 4                      dL/dz = r / 2
    bce = Σ [softplus(z) - y z] / 4     dL/dz = (σ(z) - y) / 4

Backward pass, with the catalog's analytic f' (the code gradcheck verifies)::

    dL/dw2 = aᵀ dL/dz     dL/da = dL/dz w2ᵀ     dL/dh = dL/da ⊙ f'(h)     dL/dW1 = Xᵀ dL/dh
    dL/dθ  = Σ dL/da ⊙ ∂f/∂θ   (PReLU's slope θ = weight, learned per seed)

All seeds train together: hidden arrays are stacked as (4, S, H) so that X W1 for
every seed is one (4×2)·(2×S·H) matrix product, and no Python loop runs over seeds
inside an epoch. Seed s draws its initial weights from ``np.random.RandomState(s)``
(the legacy ``np.random.seed(s); np.random.randn`` stream), so ``preset="classic"``
reproduces the classic numpy script; every seed has its own stream, so a seed's
numbers do not depend on which other seeds train with it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np

from actcheck import defaults
from actcheck.activations import Activation, get, parse_spec
from actcheck.errors import InputError, too_big
from actcheck.primitives import sigmoid, softplus

try:
    # np.einsum is this C function behind numpy's dispatch layer, which costs ~0.8 us a
    # call: a sixth of each einsum in an epoch at 100 seeds (the loop makes three)
    from numpy._core.multiarray import c_einsum as _einsum
except ImportError:  # numpy 1.x
    _einsum = np.einsum

# ---------------------------------------------------------------------------
# Constants, in one place
# ---------------------------------------------------------------------------

X_XOR = ((0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0))
Y_XOR = (0.0, 1.0, 1.0, 0.0)
DECISION = 0.5  # a point is classified right when its output is on the target's side of 0.5

LOSSES = defaults.LOSSES
OPTIMIZERS = defaults.OPTIMIZERS
INITS = defaults.INITS
DTYPES = defaults.DTYPES
LOSS_THRESHOLDS = defaults.LOSS_THRESHOLDS

MOMENTUM = 0.9  # PyTorch's SGD convention: v = μ v + g, w -= lr v
ADAM_BETA1, ADAM_BETA2, ADAM_EPS = 0.9, 0.999, 1e-8  # PyTorch's defaults

_HUGE = np.finfo(np.float64).max
_HUGE_CUT = 1e300  # losses this large mean a diverged seed
# An RReLU run draws its random slopes this many epochs at a time (per seed).
_RANDOM_CHUNK = 64
# The loop sums each epoch's per-point loss terms into the history this many epochs at a
# time: one reduction per epoch was the costliest of its small numpy calls.
_LOSS_CHUNK = 16


@dataclass(frozen=True)
class XorConfig:
    """Everything that defines a run except the activation and the seeds."""

    hidden: int = defaults.XOR_HIDDEN
    bias: bool = defaults.XOR_BIAS
    loss: str = defaults.XOR_LOSS
    optimizer: str = defaults.XOR_OPTIMIZER
    lr: float = defaults.XOR_LR
    epochs: int = defaults.XOR_EPOCHS
    init: str = defaults.XOR_INIT
    dtype: str = defaults.DTYPE
    threshold: float | None = None  # None: LOSS_THRESHOLDS[loss]

    @property
    def loss_threshold(self) -> float:
        return LOSS_THRESHOLDS[self.loss] if self.threshold is None else self.threshold

    def to_dict(self) -> dict[str, Any]:
        """The fields, with ``threshold`` resolved to the loss threshold in use."""
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "threshold": self.loss_threshold,
        }


DEFAULT = XorConfig()
CONFIG_FIELDS = tuple(f.name for f in fields(XorConfig))
PRESETS: dict[str, XorConfig] = {
    # The classic numpy example: 2-30-1, no biases, randn weights, SSE, lr 0.002, 200 iterations.
    "classic": XorConfig(
        hidden=30, bias=False, loss="sse", optimizer="sgd", lr=0.002, epochs=200, init="normal"
    ),
}


def make_config(preset: str | None = None, **overrides: Any) -> XorConfig:
    """The preset's config (or the default) with the given non-None fields replaced, validated."""
    if preset is None:
        base = DEFAULT
    elif preset in PRESETS:
        base = PRESETS[preset]
    else:
        raise InputError(f"unknown preset {preset!r} (choose from {', '.join(PRESETS)})")
    known = {f.name for f in fields(XorConfig)}
    unknown = set(overrides) - known
    if unknown:
        raise InputError(f"unknown option(s): {', '.join(sorted(unknown))}")
    config = replace(base, **{k: v for k, v in overrides.items() if v is not None})
    _validate(config)
    return config


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise InputError(f"{name} must be a positive integer, got {value!r}")


def _choice(name: str, value: Any, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"unknown {name} {value!r} (choose from {', '.join(choices)})")


def _validate(c: XorConfig) -> None:
    _positive_int("hidden width", c.hidden)
    _positive_int("epochs", c.epochs)
    _choice("loss", c.loss, LOSSES)
    _choice("optimizer", c.optimizer, OPTIMIZERS)
    _choice("init", c.init, INITS)
    _choice("dtype", c.dtype, DTYPES)
    if not (isinstance(c.lr, int | float) and np.isfinite(c.lr) and c.lr > 0):
        raise InputError(f"learning rate must be a positive number, got {c.lr!r}")
    if c.threshold is not None and not (np.isfinite(c.threshold) and c.threshold > 0):
        raise InputError(f"loss threshold must be a positive number, got {c.threshold!r}")


# ---------------------------------------------------------------------------
# Statistics (pure functions, used by the result and tested on their own)
# ---------------------------------------------------------------------------


def correct(outputs: np.ndarray, targets: Any = Y_XOR) -> np.ndarray:
    """(..., 4) outputs -> (...) bool: every point strictly on its target's side of 0.5."""
    t = np.asarray(targets) > DECISION
    out = np.asarray(outputs)
    right = np.where(t, out > DECISION, out < DECISION)
    return right.all(axis=-1)


def dead_fraction(pre: np.ndarray) -> np.ndarray:
    """(4, S, H) pre-activations -> (S,): share of hidden units with h <= 0 on all four inputs."""
    return (pre <= 0).all(axis=0).mean(axis=-1)


def epochs_to_threshold(losses: np.ndarray, threshold: float) -> np.ndarray:
    """(S, T) losses -> (S,): first t with losses[s, t] <= threshold, or -1 where none is."""
    below = losses <= threshold
    first = below.argmax(axis=1)
    return np.where(below.any(axis=1), first, -1)


def _sortable(v: np.ndarray) -> np.ndarray:
    # a diverged seed (NaN or inf loss) ranks as the worst, not as "missing"
    return np.where(np.isnan(v), np.inf, v)


def quantiles(v: np.ndarray, qs: Any, axis: int | None = None) -> np.ndarray:
    """np.quantile that ranks NaN and inf (diverged seeds) above every finite value.

    They stand in as the largest float during interpolation (inf would make
    0·inf = NaN), and any quantile that lands among them is inf.
    """
    w = np.asarray(v, dtype=np.float64)
    w = np.where(np.isfinite(w), w, _HUGE)
    q = np.quantile(w, qs, axis=axis)
    return np.where(q >= _HUGE_CUT, np.inf, q)


# ---------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------


@dataclass
class XorResult:
    """One activation trained over seeds ``seeds``; arrays are indexed by seed first.

    ``losses[s, t]`` is the training loss in iteration t before that iteration's
    update (as the classic script records it); the final statistics evaluate the
    weights after the last update in evaluation mode (RReLU with its mean slope).
    """

    activation: Activation
    config: XorConfig
    seeds: np.ndarray  # (S,) int
    losses: np.ndarray  # (S, epochs_completed)
    epochs_completed: int
    interrupted: bool
    outputs: np.ndarray  # (S, 4): output per point after training (σ(z) for bce)
    final_loss: np.ndarray  # (S,)
    dead_init: np.ndarray  # (S,) fraction of dead hidden units at initialisation
    dead_final: np.ndarray  # (S,) and after training
    weights: dict[str, np.ndarray]  # final w1 (S,2,H), b1 (S,H), w2 (S,H), b2 (S,), [slope (S,)]
    slopes: np.ndarray | None = None  # PReLU: (S, epochs_completed + 1) slope before each update

    # -- per-seed statistics ----------------------------------------------------
    @property
    def success(self) -> np.ndarray:
        """(S,) bool: all four points on the right side of 0.5 after training."""
        return correct(self.outputs) & np.isfinite(self.final_loss)

    @property
    def threshold(self) -> float:
        return self.config.loss_threshold

    @property
    def epochs_to_threshold(self) -> np.ndarray:
        """(S,) first iteration whose loss is <= the threshold, -1 where none is."""
        return epochs_to_threshold(self.losses, self.threshold)

    # -- summaries ---------------------------------------------------------------
    @property
    def success_rate(self) -> float:
        return float(self.success.mean())

    @property
    def never_reached(self) -> int:
        return int((self.epochs_to_threshold < 0).sum())

    @property
    def median_epochs_to_threshold(self) -> float | None:
        """Median over the seeds that reach the threshold (None when none does)."""
        e = self.epochs_to_threshold
        e = e[e >= 0]
        return float(np.median(e)) if e.size else None

    def final_loss_quartiles(self) -> tuple[float, float, float]:
        q1, med, q3 = quantiles(self.final_loss, [0.25, 0.5, 0.75])
        return float(q1), float(med), float(q3)

    def loss_quartiles(self) -> np.ndarray:
        """(3, epochs_completed): 25th, 50th and 75th percentile of the loss across seeds."""
        if self.epochs_completed == 0:
            return np.empty((3, 0))
        return quantiles(self.losses, [0.25, 0.5, 0.75], axis=0)

    def slope_quartiles(self) -> np.ndarray | None:
        """PReLU: (3, epochs_completed + 1) quartiles of the learned slope, else None."""
        return None if self.slopes is None else quantiles(self.slopes, [0.25, 0.5, 0.75], axis=0)

    @property
    def representative(self) -> int:
        """Index of the seed with the median final loss (lower middle for an even count)."""
        order = np.argsort(_sortable(self.final_loss), kind="stable")
        return int(order[(len(order) - 1) // 2])

    def predict(self, points: Any, index: int | None = None) -> np.ndarray:
        """Network output (σ(z) for bce) at ``points`` (N, 2) for seed index ``index``."""
        i = self.representative if index is None else index
        p = np.asarray(points, dtype=np.float64)
        w = {k: v[i].astype(np.float64) for k, v in self.weights.items()}
        learned = {"weight": w["slope"]} if "slope" in w else {}
        with np.errstate(all="ignore"):
            a = self.activation.raw(**learned).forward(p @ w["w1"] + w["b1"])
            z = a @ w["w2"] + w["b2"]
            return sigmoid(z) if self.config.loss == "bce" else z

    def summary(self) -> str:
        """One line: e.g. ``relu: 87% of 100 seeds solved, median 412 epochs to loss <= 0.01``."""
        med = self.median_epochs_to_threshold
        reached = "never" if med is None else f"median {med:.0f} epochs"
        text = (
            f"{self.activation.spec}: {100 * self.success_rate:.0f}% of {len(self.seeds)} seeds "
            f"solved, {reached} to loss <= {self.threshold:g}, "
            f"final loss median {self.final_loss_quartiles()[1]:.2g}"
        )
        if self.interrupted:
            text += f" (interrupted at epoch {self.epochs_completed})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The statistics and the per-seed statistics (``per_seed``); no loss histories
        (``histories`` has them). Diverged seeds give NaN, which JSON writes as null."""
        q1, med, q3 = self.final_loss_quartiles()
        out = {
            "activation": self.activation.spec,
            "label": self.activation.label,
            "seeds": len(self.seeds),
            "first_seed": int(self.seeds[0]) if len(self.seeds) else None,
            "epochs_completed": self.epochs_completed,
            "interrupted": self.interrupted,
            "success_rate": self.success_rate,
            "threshold": self.threshold,
            "median_epochs_to_threshold": self.median_epochs_to_threshold,
            "never_reached_threshold": self.never_reached,
            "final_loss_median": med,
            "final_loss_q1": q1,
            "final_loss_q3": q3,
            "final_loss_iqr": q3 - q1,
            "dead_init": float(self.dead_init.mean()),
            "dead_final": float(self.dead_final.mean()),
        }
        if self.slopes is not None:
            s0, s1 = self.slopes[:, 0], self.slopes[:, -1]
            fq1, fmed, fq3 = quantiles(s1, [0.25, 0.5, 0.75])
            out["slope"] = {
                "initial": float(np.median(s0)),
                "final_median": float(fmed),
                "final_q1": float(fq1),
                "final_q3": float(fq3),
                "final_min": float(np.min(_sortable(s1))),
                "final_max": float(np.max(_sortable(s1))),
            }
        out["per_seed"] = {k: v.tolist() for k, v in self.per_seed().items()}
        return out

    def per_seed(self) -> dict[str, np.ndarray]:
        """Per-seed arrays: seed, success, final loss, epochs to threshold, dead units, slope."""
        data = {
            "seed": self.seeds,
            "success": self.success,
            "final_loss": self.final_loss,
            "epochs_to_threshold": self.epochs_to_threshold,
            "dead_init": self.dead_init,
            "dead_final": self.dead_final,
        }
        if self.slopes is not None:
            data["final_slope"] = self.slopes[:, -1]
        return data


def histories(results: Sequence[XorResult]) -> dict[str, np.ndarray]:
    """Per-seed histories by name: ``SPEC/seeds`` (S,), ``SPEC/losses`` (S, epochs) and,
    for PReLU, ``SPEC/slopes`` (S, epochs + 1); SPEC is the activation as typed."""
    out: dict[str, np.ndarray] = {}
    for r in results:
        spec = r.activation.spec
        out[f"{spec}/seeds"] = r.seeds
        out[f"{spec}/losses"] = r.losses
        if r.slopes is not None:
            out[f"{spec}/slopes"] = r.slopes
    return out


# ---------------------------------------------------------------------------
# Building blocks of the trainer
# ---------------------------------------------------------------------------


def _init_weights(
    seeds: np.ndarray,
    hidden: int,
    init: str,
    dtype: np.dtype,
    stop: list[bool] | None = None,
    streams: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[np.random.RandomState]]:
    """w1 (2, S, H) and w2 (S, H) from each seed's legacy stream, plus, with ``streams``,
    the streams themselves (positioned after these draws; else an empty list).

    Seed s draws ``randn(2, H)`` then ``randn(H, 1)`` from ``RandomState(s)``,
    the same numbers as ``np.random.seed(s); np.random.randn(...)``, without
    touching numpy's global state; He and Xavier rescale the same draws. ``stop[0]``
    set (Ctrl-C) raises KeyboardInterrupt: nothing of this activation is computed yet.
    """
    stop = stop if stop is not None else [False]
    kept: list[np.random.RandomState] = []
    # Making a RandomState costs ~90 us (it first seeds itself from OS entropy), a tenth
    # of a 2000-epoch run; reseeding one costs ~1.5 us and gives the same stream.
    shared = np.random.RandomState(0)
    w1 = np.empty((2, len(seeds), hidden))
    w2 = np.empty((len(seeds), hidden))
    for i, s in enumerate(seeds):  # setup only; the epochs below never loop over seeds
        if stop[0]:
            raise KeyboardInterrupt
        if streams:
            rs = np.random.RandomState(int(s))
            kept.append(rs)
        else:
            rs = shared
            rs.seed(int(s))
        w1[:, i, :] = rs.randn(2, hidden)
        w2[i, :] = rs.randn(hidden, 1)[:, 0]
    fan_in1, fan_out1, fan_in2, fan_out2 = 2, hidden, hidden, 1
    if init == "he":
        w1 *= np.sqrt(2.0 / fan_in1)
        w2 *= np.sqrt(2.0 / fan_in2)
    elif init == "xavier":
        w1 *= np.sqrt(2.0 / (fan_in1 + fan_out1))
        w2 *= np.sqrt(2.0 / (fan_in2 + fan_out2))
    return w1.astype(dtype), w2.astype(dtype), kept


class _SeedStreams:
    """An ``rng`` for ``Activation.train_forward`` whose draws come from each seed's own stream.

    ``uniform(low, high, (4, S, H))`` gives seed s's block from seed s's
    RandomState, drawn ``_RANDOM_CHUNK`` epochs at a time, so a seed's slopes do
    not depend on which other seeds train alongside it.
    """

    def __init__(self, streams: list[np.random.RandomState], hidden: int, dtype: np.dtype):
        self.streams, self.hidden, self.dtype = streams, hidden, dtype
        self.buffer = np.empty((0,))
        self.next = 0

    def uniform(self, low: float, high: float, size: tuple[int, ...]) -> np.ndarray:
        if self.next == len(self.buffer):
            blocks = [rs.random_sample((_RANDOM_CHUNK, 4, self.hidden)) for rs in self.streams]
            self.buffer = np.stack(blocks, axis=2)  # (chunk, 4, S, H)
            self.next = 0
        # a trainer that leaves out the (0, 0) input asks for fewer rows: draw for it all the same
        u = self.buffer[self.next][4 - size[0] :]
        self.next += 1
        return (low + (high - low) * u).astype(self.dtype, copy=False).reshape(size)


class _Hidden:
    """The hidden activation with a learned (per-seed) PReLU slope bound in.

    Calls the catalog entry's own forward and derivative functions through
    ``Activation.raw`` (the code ``Activation.derivative`` wraps and gradcheck
    verifies) without the public wrapper's NaN guard, which would cost extra
    passes per epoch; a diverged seed shows up as a non-finite loss instead.
    """

    # training mode, h -> (f(h), f'(h)) with fresh randomness where f has any: one of the
    # _train_* methods, chosen in __init__ (the loop calls it every epoch)
    train: Callable[[np.ndarray, _SeedStreams], tuple[np.ndarray, np.ndarray]]

    def __init__(self, act: Activation, slope: np.ndarray | None):
        self.act = act
        self.slope = slope  # (S, 1) view, updated in place by the optimiser
        self.fn = act.raw(weight=slope) if slope is not None else act.raw()
        self.forward, self.derivative = self.fn.forward, self.fn.derivative
        self.a: np.ndarray | None = None  # f(h) of a homogeneous f, rewritten every epoch
        if act.stochastic:
            self.train = self._train_random
        elif act.homogeneous:
            self.train = self._train_homogeneous
        else:
            self.train = self._train_plain

    def _train_random(self, h: np.ndarray, rng: _SeedStreams) -> tuple[np.ndarray, np.ndarray]:
        return self.act.train_forward(h, rng)

    def _train_homogeneous(self, h: np.ndarray, rng: _SeedStreams) -> tuple[np.ndarray, np.ndarray]:
        # f(h) = h·f'(h) for this family (the catalog's promise): one product, not a forward
        d = self.derivative(h)
        if self.a is None:
            self.a = np.empty_like(h)  # the loop passes the same h every epoch
        return np.multiply(h, d, out=self.a), d

    def _train_plain(self, h: np.ndarray, rng: _SeedStreams) -> tuple[np.ndarray, np.ndarray]:
        return self.forward(h), self.derivative(h)

    def eval(self, h: np.ndarray) -> np.ndarray:
        return np.asarray(self.forward(h))

    def dslope(self, h: np.ndarray) -> np.ndarray:
        return self.fn.param_derivative("weight", h)


def _loss_terms_and_grad(
    z: np.ndarray, y: np.ndarray, kind: str, g: np.ndarray, terms: np.ndarray
) -> None:
    """For outputs z (4, S): each point's term of the loss into ``terms`` (4, S), which
    ``_loss_from_terms`` sums, and dL/dz into g (4, S)."""
    np.subtract(z, y, out=g)
    if kind == "bce":
        # -y log σ(z) - (1-y) log σ(-z) = softplus(z) - y z: no overflow for any z
        np.subtract(softplus(z), y * z, out=terms)
        np.subtract(sigmoid(z), y, out=g)
        g /= 4
        return
    np.square(g, out=terms)
    if kind == "mse":
        g *= 0.5
    else:
        np.add(g, g, out=g)  # 2 g to the bit, without converting a Python float every call


def _loss_from_terms(terms: np.ndarray, kind: str, out: np.ndarray | None = None) -> np.ndarray:
    """Loss per seed from ``_loss_terms_and_grad``'s terms: (..., 4, S) -> (..., S).

    The sum runs over the points in order whatever the leading shape, so that one call
    may sum many epochs' terms (the trainer's loop sums ``_LOSS_CHUNK`` at a time).
    """
    loss = np.add.reduce(terms, axis=-2, out=out)
    if kind != "sse":
        loss /= 4
    return loss


class _Optimizer:
    """SGD, SGD with momentum, or Adam over a list of arrays, updated in place from
    their gradients (arrays the trainer rewrites every epoch)."""

    def __init__(self, kind: str, lr: float, params: list[np.ndarray], grads: list[np.ndarray]):
        self.kind, self.lr, self.t = kind, lr, 0
        n_state = {"sgd": 0, "momentum": 1, "adam": 2}[kind]
        # (weights, gradient, state, scratch) per array, zipped once: a zip per step costs
        # ~0.5 us, more than a numpy call
        self.work = [
            (p, g, [np.zeros_like(p) for _ in range(n_state)], np.empty_like(p))
            for p, g in zip(params, grads, strict=True)
        ]
        # lr in the weights' dtype, as a 0-d array: a Python float is converted at every
        # call (~0.2 us); the product is the same, in that dtype
        self.lr_array = np.array(lr, params[0].dtype)

    def step(self) -> None:
        self.t += 1
        if self.kind == "sgd":  # the classic preset's: no state, two calls per array
            for p, g, _, tmp in self.work:
                np.multiply(g, self.lr_array, out=tmp)
                p -= tmp
            return
        for p, g, st, tmp in self.work:
            if self.kind == "momentum":
                (v,) = st
                v *= MOMENTUM
                v += g
                np.multiply(v, self.lr, out=tmp)
            else:
                m, v = st
                m *= ADAM_BETA1
                m += (1 - ADAM_BETA1) * g
                v *= ADAM_BETA2
                np.multiply(g, g, out=tmp)
                tmp *= 1 - ADAM_BETA2
                v += tmp
                # PyTorch's arrangement: w -= (lr / bc1) m / (sqrt(v) / sqrt(bc2) + eps)
                bc1, bc2 = 1 - ADAM_BETA1**self.t, 1 - ADAM_BETA2**self.t
                np.sqrt(v, out=tmp)
                tmp /= np.sqrt(bc2)
                tmp += ADAM_EPS
                np.divide(m, tmp, out=tmp)
                tmp *= self.lr / bc1
            p -= tmp


@contextmanager
def _ctrl_c_between_epochs() -> Iterator[list[bool]]:
    """Turn Ctrl-C (and SIGTERM, where it raises KeyboardInterrupt too) into a flag the loop
    checks between epochs (main thread only).

    Without it a KeyboardInterrupt could land between the update of W1 and w2,
    leaving a half-updated network to report on. The setup checks the flag as well
    (``_init_weights``), so a large run stops at once.
    """
    flag = [False]
    main = threading.current_thread() is threading.main_thread()
    ours = [
        sig
        for sig in (signal.SIGINT, signal.SIGTERM)
        if main and signal.getsignal(sig) is signal.default_int_handler
    ]

    def handler(signum: int, frame: Any) -> None:
        flag[0] = True

    previous = {sig: signal.signal(sig, handler) for sig in ours}
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def check_seeds(seeds: int, first_seed: int) -> None:
    """Seeds first_seed .. first_seed+seeds-1 must be valid RandomState seeds (0 .. 2**32-1)."""
    _positive_int("seeds", seeds)
    if isinstance(first_seed, bool) or not isinstance(first_seed, int | np.integer):
        raise InputError(f"first seed must be an integer, got {first_seed!r}")
    if first_seed < 0 or first_seed + seeds > 2**32:
        last = first_seed + seeds - 1
        raise InputError(f"seeds must lie in 0 .. 2**32-1, got {first_seed} .. {last}")


def memory_estimate(config: XorConfig, seeds: int, activations: int = 1) -> int:
    """Bytes the training of ``activations`` activations over ``seeds`` seeds holds at its peak.

    Per activation: the loss (and PReLU slope) histories, seeds x epochs, kept for the
    result; while one trains, its losses once more (an interrupted run copies the epochs
    completed out of the full-size history), ~40 seeds x hidden work arrays (batch of 4,
    weights, gradients, optimizer state), RReLU's block of random slopes and the loss
    terms of ``_LOSS_CHUNK`` epochs.
    """
    item = np.dtype(config.dtype).itemsize
    histories = 2 * seeds * (config.epochs + 1) * item
    work = seeds * config.epochs * item + seeds * config.hidden * (
        40 * item + 24 + _RANDOM_CHUNK * 4 * 8
    )
    work += seeds * _LOSS_CHUNK * 4 * item
    return activations * histories + work


def check_size(config: XorConfig, seeds: int, activations: int = 1) -> None:
    """InputError, before any work, when the run would need more than ``MEMORY_LIMIT`` bytes."""
    need = memory_estimate(config, seeds, activations)
    if need > defaults.MEMORY_LIMIT:
        what = f"{seeds} seeds x {config.epochs} epochs x {config.hidden} hidden units"
        raise too_big(what, need, "use fewer seeds, epochs or hidden units")


def _as_activation(activation: str | Activation) -> Activation:
    if isinstance(activation, Activation):
        return activation
    return parse_spec(activation) if ":" in activation else get(activation)


# ---------------------------------------------------------------------------
# The trainer
# ---------------------------------------------------------------------------


def train_xor(
    activation: str | Activation,
    *,
    seeds: int = defaults.XOR_SEEDS,
    first_seed: int = defaults.XOR_FIRST_SEED,
    preset: str | None = None,
    epochs: int | None = None,
    hidden: int | None = None,
    bias: bool | None = None,
    loss: str | None = None,
    optimizer: str | None = None,
    lr: float | None = None,
    init: str | None = None,
    dtype: str | None = None,
    threshold: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> XorResult:
    """Train the 2-H-1 XOR net with hidden activation ``activation`` for seeds
    ``first_seed .. first_seed + seeds - 1``, all at once.

    ``preset="classic"`` starts from the classic script's setup (see ``PRESETS``);
    explicit arguments override the preset (or ``DEFAULT``). ``progress(done)`` is
    called after every epoch; a KeyboardInterrupt raised by it, or Ctrl-C, stops
    training after the current epoch and the result holds what was computed
    (``interrupted=True``, ``epochs_completed``).
    """
    act = _as_activation(activation)
    check_seeds(seeds, first_seed)
    config = make_config(
        preset,
        epochs=epochs,
        hidden=hidden,
        bias=bias,
        loss=loss,
        optimizer=optimizer,
        lr=lr,
        init=init,
        dtype=dtype,
        threshold=threshold,
    )
    check_size(config, seeds)
    seed_ids = np.arange(first_seed, first_seed + seeds, dtype=np.int64)
    with np.errstate(all="ignore"), _ctrl_c_between_epochs() as stop:
        return _train(act, config, seed_ids, progress, stop)


class _Batch:
    """Both layers' weights and the per-epoch buffers, laid out for the epoch loop.

    ``h`` and ``gh`` hold the pre-activations and dL/dh of the inputs the hidden layer
    works on: all four, or the last three where ``skip`` is 1 (below). With biases,
    W1 (3, S, H; b1 is its third row, against a column of ones in X) is an array of
    its own, and one matrix product gives X W1 + b1 and one gives both dL/dW1 and
    dL/db1. Without biases the XOR inputs turn those products into copies and sums:
    the pre-activations at (0, 1) and (1, 0) are W1's rows themselves, so W1 lives
    *in* ``h`` (``h[-3]`` is W1[1], ``h[-2]`` is W1[0], updated in place by the
    optimiser), ``h[-1] = h[-3] + h[-2]`` at (1, 1), h = 0 at (0, 0), and
    dL/dW1 = (dL/dh[-2] + dL/dh[-1], dL/dh[-3] + dL/dh[-1]): the numbers the matrix
    products give, as each is a sum of at most two non-zero terms, rounded once.

    ``skip`` is 1 where the (0, 0) input then adds nothing to any output or gradient
    (see ``_vanishes_at_zero``): the hidden layer leaves it out, and w2 shares one
    buffer with W1 ([w2, W1[1], W1[0], h at (1, 1)]; the gradients likewise), so that
    the optimiser updates both layers in one pass (``weights`` and ``grads``).
    """

    def __init__(self, x: np.ndarray, w1: np.ndarray, w2: np.ndarray, bias: bool, skip: int):
        dt, (_, S, H) = w1.dtype, w1.shape
        self.bias, self.skip = bias, skip
        self.x, self.xt = x, np.ascontiguousarray(x.T)
        self.gh = np.empty((4 - skip, S, H), dt)
        if bias:
            self.h, self.w1, self.w2 = np.empty((4, S, H), dt), w1, w2
            self.weights = [w1, w2]
            self.grads = [np.empty_like(w1), np.empty_like(w2)]
        elif skip:
            both, grads = np.empty((4, S, H), dt), np.empty((3, S, H), dt)
            both[0], both[1:3] = w2, w1[::-1]
            self.h, self.w1, self.w2 = both[1:], both[1:3], both[0]
            self.weights, self.grads = [both[:3]], [grads]
        else:
            self.h = np.empty((4, S, H), dt)
            self.h[0], self.h[1:3] = 0, w1[::-1]
            self.w1, self.w2 = self.h[1:3], w2
            self.weights = [self.w1, w2]
            self.grads = [np.empty_like(w1), np.empty_like(w2)]
        self.gw1, self.gw2 = (self.grads[0][1:3], self.grads[0][0]) if skip else self.grads
        # b2 and its gradient, with biases (b1 is W1's third row)
        self.b2, self.gb2 = (np.zeros(S, dt), np.empty(S, dt)) if bias else (None, None)
        if bias:
            self.weights.append(self.b2)
            self.grads.append(self.gb2)
        # the views every epoch reads and writes, made once (each costs a dispatch)
        self.flat = [a.reshape(len(a), -1) for a in (self.w1, self.h, self.gh, self.gw1)]
        self.rows = [self.h[-3], self.h[-2], self.h[-1], self.gh[-3], self.gh[-2], self.gh[-1]]
        self.rows += [self.gw1[0], self.gw1[1]]

    def forward(self) -> None:
        """X W1 (+ b1) into ``h``."""
        if self.bias:
            w1f, h2, _, _ = self.flat
            np.matmul(self.x, w1f, out=h2)
        else:
            h1, h2, h3 = self.rows[:3]
            np.add(h1, h2, out=h3)

    def backward(self) -> None:
        """dL/dW1 (and dL/db1) from dL/dh in ``gh``."""
        if self.bias:
            _, _, gh2, gw1f = self.flat
            np.matmul(self.xt, gh2, out=gw1f)
        else:
            _, _, _, gh1, gh2, gh3, gw10, gw11 = self.rows
            np.add(gh1, gh3, out=gw10)
            np.add(gh2, gh3, out=gw11)

    def first_layer(self) -> np.ndarray:
        """W1 as ``_init_weights`` lays it out (with b1 as a third row): (2 or 3, S, H), a copy."""
        return self.w1.copy() if self.bias else self.w1[::-1].copy()


def _vanishes_at_zero(hidden: _Hidden, dt: np.dtype) -> bool:
    """f(±0) = 0, in training and evaluation mode, and ∂f/∂θ(±0) = 0 for a learned θ,
    all as the catalog computes them in dtype ``dt``.

    Then the (0, 0) input of a network without biases, whose pre-activation is ±0 at
    every epoch, gives output 0 and adds nothing to any gradient: leaving it out of
    the hidden layer's work changes no number (but a zero's sign, which nothing reads)
    while the weights are finite. (Once a weight of a diverging seed overflows to ±inf,
    the matrix product's 0·inf made all of that seed's numbers NaN from then on; without
    the product they may read inf, or stay finite where f(±inf) is.)
    """
    zero = np.array([[0.0, -0.0]], dt)
    values = [hidden.eval(zero)]
    if hidden.act.stochastic:
        values.append(hidden.act.train_forward(zero, np.random.default_rng(0))[0])
    if hidden.slope is not None:
        values.append(hidden.dslope(zero))
    return all(np.all(v == 0) for v in values)


def _train(
    act: Activation,
    c: XorConfig,
    seed_ids: np.ndarray,
    progress: Callable[[int], None] | None,
    stop: list[bool],
) -> XorResult:
    dt = np.dtype(c.dtype)
    S, H, T = len(seed_ids), c.hidden, c.epochs
    x = np.array(X_XOR, dtype=dt)
    y = np.array(Y_XOR, dtype=dt)[:, None]  # (4, 1), broadcast over seeds

    w1, w2, streams = _init_weights(seed_ids, H, c.init, dt, stop, streams=act.stochastic)
    if c.bias:
        x = np.hstack([x, np.ones((4, 1), dt)])
        w1 = np.concatenate([w1, np.zeros((1, S, H), dt)])
    learns_slope = "weight" in act.learnable_params
    slope = np.full((S, 1), act.params["weight"], dt) if learns_slope else None
    hidden_act = _Hidden(act, slope)
    skip = int(not c.bias and _vanishes_at_zero(hidden_act, dt))
    batch = _Batch(x, w1, w2, c.bias, skip)
    dead_init = dead_fraction(_pre_activation(x, w1))

    params = batch.weights + ([slope] if slope is not None else [])
    grads = batch.grads + ([np.empty_like(slope)] if slope is not None else [])
    opt = _Optimizer(c.optimizer, c.lr, params, grads)
    history = np.empty((S, T), dt)  # seed-major, the result's layout: each epoch writes a column
    slopes = np.empty((S, T + 1), dt) if slope is not None else None
    rng = _SeedStreams(streams, H, dt)
    done, interrupted = _epochs(
        batch, hidden_act, rng, y, c, grads, opt, history, slopes, progress, stop
    )

    if slopes is not None:
        slopes[:, done] = slope[:, 0]
        slopes = slopes[:, : done + 1]
    # evaluation mode: deterministic forward (RReLU's mean slope), weights after the last update
    w1, w2 = batch.first_layer(), batch.w2.copy()
    b2 = batch.b2 if c.bias else np.zeros(S, dt)
    h = _pre_activation(x, w1)
    z = np.einsum("isj,sj->is", hidden_act.eval(h), w2)
    if c.bias:
        z += b2
    terms = np.empty_like(z)
    _loss_terms_and_grad(z, y, c.loss, np.empty_like(z), terms)
    final_loss = _loss_from_terms(terms, c.loss)
    weights = {
        "w1": w1[:2].transpose(1, 0, 2).copy(),
        "b1": w1[2].copy() if c.bias else np.zeros((S, H), dt),
        "w2": w2,
        "b2": b2,
    }
    if slope is not None:
        weights["slope"] = slope[:, 0].copy()
    return XorResult(
        activation=act,
        config=c,
        seeds=seed_ids,
        losses=np.ascontiguousarray(history[:, :done]),
        epochs_completed=done,
        interrupted=interrupted,
        outputs=(sigmoid(z) if c.loss == "bce" else z).T.copy(),
        final_loss=final_loss,
        dead_init=dead_init,
        dead_final=dead_fraction(h),
        weights=weights,
        slopes=slopes,
    )


def _pre_activation(x: np.ndarray, w1: np.ndarray) -> np.ndarray:
    """X W1 (+ b1): (4, S, H) from W1 (2 or 3, S, H)."""
    return np.matmul(x, w1.reshape(len(w1), -1)).reshape(4, *w1.shape[1:])


def _epochs(
    batch: _Batch,
    hidden_act: _Hidden,
    rng: _SeedStreams,
    y: np.ndarray,
    c: XorConfig,
    grads: list[np.ndarray],
    opt: _Optimizer,
    history: np.ndarray,
    slopes: np.ndarray | None,
    progress: Callable[[int], None] | None,
    stop: list[bool],
) -> tuple[int, bool]:
    """Train for up to ``c.epochs`` epochs, writing ``history[:, t]`` (``_LOSS_CHUNK`` epochs
    at a time, and the epochs done at the end) and ``slopes[:, t]``;
    returns the number of epochs completed and whether Ctrl-C or a KeyboardInterrupt
    stopped the loop (after that many)."""
    h, gh, w2, gw2, b2, gb2 = batch.h, batch.gh, batch.w2, batch.gw2, batch.b2, batch.gb2
    skip, slope, gslope = batch.skip, hidden_act.slope, grads[-1]
    z = np.zeros((4, len(w2)), w2.dtype)  # row 0 stays 0 where the (0, 0) input is skipped
    g, zs, tmp = np.empty_like(z), z[skip:], np.empty_like(gh)
    gs, y = g[skip:], np.broadcast_to(y, z.shape).copy()  # z - y without a broadcast
    terms = np.empty((_LOSS_CHUNK, *z.shape), z.dtype)  # of epochs t0 .. t, not yet summed
    term_rows = list(terms)  # views made once
    done, t0, interrupted = 0, 0, False
    try:
        for t in range(c.epochs):
            if slopes is not None:
                slopes[:, t] = slope[:, 0]
            batch.forward()
            a, d = hidden_act.train(h, rng)
            _einsum("isj,sj->is", a, w2, out=zs)
            if b2 is not None:
                z += b2
            _loss_terms_and_grad(z, y, c.loss, g, term_rows[t - t0])
            _einsum("isj,is->sj", a, gs, out=gw2)
            _einsum("is,sj->isj", gs, w2, out=gh)  # dL/da
            if slope is not None:
                # Σ over units, then over the points: a fixed order whatever the seed count
                np.multiply(gh, hidden_act.dslope(h), out=tmp)
                np.add.reduce(tmp, axis=2, out=zs)  # np.sum without its dispatch
                np.add.reduce(zs, axis=0, out=gslope[:, 0])
            gh *= d  # dL/dh
            batch.backward()
            if b2 is not None:
                np.add.reduce(g, axis=0, out=gb2)
            opt.step()
            done = t + 1
            if done - t0 == _LOSS_CHUNK:
                _loss_from_terms(terms, c.loss, out=history[:, t0:done].T)
                t0 = done
            if progress is not None:
                progress(done)
            if stop[0]:
                raise KeyboardInterrupt
    except KeyboardInterrupt:
        interrupted = True
    _loss_from_terms(terms[: done - t0], c.loss, out=history[:, t0:done].T)
    return done, interrupted
