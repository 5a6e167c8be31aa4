"""The XOR trainer: the classic script as oracle, gradients by finite differences,
seed batching, determinism, statistics on hand-built cases, interruption."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import actcheck
from actcheck.errors import InputError
from actcheck.xor import (
    LOSS_THRESHOLDS,
    correct,
    dead_fraction,
    epochs_to_threshold,
    quantiles,
    train_xor,
)

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float)
Y = np.array([[0], [1], [1], [0]], float)


def classic(seed: int, epochs: int = 200, mask_at_zero: bool = False) -> np.ndarray:
    """The classic numpy XOR script, verbatim, recording each iteration's loss.

    ``mask_at_zero`` masks the gradient where h <= 0 (the catalog's relu'(0) = 0)
    instead of the script's h < 0.
    """
    np.random.seed(seed)
    x, y = X.copy(), Y.copy()
    w1 = np.random.randn(2, 30)
    w2 = np.random.randn(30, 1)
    losses = []
    for _ in range(epochs):
        h = x.dot(w1)
        h_relu = np.maximum(h, 0)
        y_pred = h_relu.dot(w2)
        loss = np.square(y_pred - y).sum()
        losses.append(loss)
        grad_y_pred = 2.0 * (y_pred - y)
        grad_w2 = h_relu.T.dot(grad_y_pred)
        grad_h = grad_y_pred.dot(w2.T)
        if mask_at_zero:
            grad_h[h <= 0] = 0
        else:
            grad_h[h < 0] = 0
        grad_w1 = x.T.dot(grad_h)
        w1 -= 0.002 * grad_w1
        w2 -= 0.002 * grad_w2
    return np.array(losses)


SEEDS = [0, 1, 2, 3, 7, 42, 1234]

# ---------------------------------------------------------------------------
# The classic preset
# ---------------------------------------------------------------------------


def test_classic_preset_reproduces_the_script():
    state = np.random.get_state()
    result = train_xor("relu", seeds=8, first_seed=0, preset="classic")
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global stream untouched
    assert result.losses.shape == (8, 200)
    for s in range(8):
        np.testing.assert_allclose(result.losses[s], classic(s), rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", [42, 1234])
def test_classic_preset_other_seeds(seed):
    result = train_xor("relu", seeds=1, first_seed=seed, preset="classic")
    np.testing.assert_allclose(result.losses[0], classic(seed), rtol=0, atol=1e-12)


def test_mask_at_zero_does_not_matter_for_xor():
    # Without biases h = x W1 is exactly 0 on the input (0, 0), where the script
    # passes the gradient and relu'(0) = 0 does not. That row of dL/dh is then
    # multiplied by x = (0, 0) in dL/dW1 = x^T dL/dh, so it never reaches a weight.
    np.random.seed(3)
    h = X.dot(np.random.randn(2, 30))
    assert (h[0] == 0).all() and (h[1:] != 0).all()
    for s in SEEDS[:4]:
        np.testing.assert_array_equal(classic(s), classic(s, mask_at_zero=True))


def test_explicit_arguments_override_the_preset():
    r = train_xor("relu", seeds=2, preset="classic", epochs=10, hidden=5)
    assert r.losses.shape == (2, 10)
    assert r.weights["w2"].shape == (2, 5)
    assert r.config.lr == 0.002 and not r.config.bias


# ---------------------------------------------------------------------------
# Seed batching and determinism
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["relu", "prelu", "rrelu", "elu", "sigmoid"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_seed_batching_equals_single_seed_runs(name, optimizer):
    kw = dict(epochs=40, hidden=5, optimizer=optimizer, lr=0.02)
    batch = train_xor(name, seeds=5, first_seed=10, **kw)
    for i in range(5):
        one = train_xor(name, seeds=1, first_seed=10 + i, **kw)
        np.testing.assert_array_equal(batch.losses[i], one.losses[0])
        np.testing.assert_array_equal(batch.final_loss[i], one.final_loss[0])
        for key, w in batch.weights.items():
            np.testing.assert_array_equal(w[i], one.weights[key][0])


def test_seed_batching_in_a_large_batch():
    big = train_xor("prelu", seeds=200, epochs=30, hidden=30, optimizer="adam", lr=0.01)
    for i in (0, 117, 199):
        one = train_xor(
            "prelu", seeds=1, first_seed=i, epochs=30, hidden=30, optimizer="adam", lr=0.01
        )
        np.testing.assert_array_equal(big.losses[i], one.losses[0])
        np.testing.assert_array_equal(big.slopes[i], one.slopes[0])


@pytest.mark.parametrize("name", ["rrelu", "prelu", "tanh"])
def test_deterministic_bit_for_bit(name):
    a = train_xor(name, seeds=4, epochs=30, loss="bce", optimizer="momentum")
    b = train_xor(name, seeds=4, epochs=30, loss="bce", optimizer="momentum")
    np.testing.assert_array_equal(a.losses, b.losses)
    np.testing.assert_array_equal(a.outputs, b.outputs)


def test_accepts_name_spec_and_activation():
    a = train_xor("leaky_relu:negative_slope=0.2", seeds=2, epochs=5)
    b = train_xor(actcheck.get("leaky_relu", negative_slope=0.2), seeds=2, epochs=5)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert train_xor("LeakyReLU", seeds=1, epochs=1).activation.name == "leaky_relu"
    assert actcheck.train_xor is train_xor


def test_float32():
    r = train_xor("tanh", seeds=3, epochs=20, dtype="float32")
    assert r.losses.dtype == np.float32 and np.isfinite(r.losses).all()


def plain_trainer(name: str, seeds: int, epochs: int, bias: bool, dtype: str) -> np.ndarray:
    """The trainer without its shortcuts: X W1 over all four inputs as one matrix product,
    the catalog's forward and derivative on every row, dL/dW1 as Xᵀ dL/dh (SSE, SGD)."""
    act, dt, hidden, lr = actcheck.get(name), np.dtype(dtype), 6, 0.01
    w1 = np.empty((2, seeds, hidden))
    w2 = np.empty((seeds, hidden))
    for i in range(seeds):
        rs = np.random.RandomState(i)
        w1[:, i], w2[i] = rs.randn(2, hidden), rs.randn(hidden, 1)[:, 0]
    w1, w2 = w1.astype(dt), w2.astype(dt)
    x = X.astype(dt)
    if bias:
        x = np.hstack([x, np.ones((4, 1), dt)])
        w1 = np.concatenate([w1, np.zeros((1, seeds, hidden), dt)])
    b2, y = np.zeros(seeds, dt), Y.astype(dt)
    slope = np.full((seeds, 1), act.params["weight"], dt) if name == "prelu" else None
    fn = act.raw(weight=slope) if slope is not None else act.raw()
    losses = np.empty((seeds, epochs), dt)
    for t in range(epochs):
        h = np.matmul(x, w1.reshape(len(w1), -1)).reshape(4, seeds, hidden)
        a, d = fn.forward(h), fn.derivative(h)
        z = np.einsum("isj,sj->is", a, w2) + (b2 if bias else 0)
        r = z - y
        losses[:, t] = np.square(r).sum(axis=0)
        g = r * 2.0
        gw2 = np.einsum("isj,is->sj", a, g)
        gh = g[:, :, None] * w2
        grads = []
        if slope is not None:
            grads.append(np.sum(np.sum(gh * fn.param_derivative("weight", h), axis=2), axis=0))
        gh *= d
        gw1 = np.matmul(x.T, gh.reshape(4, -1)).reshape(w1.shape)
        w1 -= gw1 * lr
        w2 -= gw2 * lr
        if bias:
            b2 -= g.sum(axis=0) * lr
        if slope is not None:
            slope[:, 0] -= grads[0] * lr
    return losses


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "prelu", "elu", "sigmoid", "softplus"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_shortcuts_change_no_number(name, bias, dtype):
    # Without biases the trainer replaces the products with X by copies and sums, skips the
    # (0, 0) input where f(0) = 0 and computes a homogeneous f as h·f'(h): bit for bit the same.
    kw = dict(epochs=60, hidden=6, bias=bias, loss="sse", optimizer="sgd", lr=0.01)
    got = train_xor(name, seeds=5, init="normal", dtype=dtype, **kw)
    assert np.isfinite(got.losses).all()
    np.testing.assert_array_equal(got.losses, plain_trainer(name, 5, 60, bias, dtype))


# ---------------------------------------------------------------------------
# Gradients: one SGD step against central differences of the loss
# ---------------------------------------------------------------------------


def _initial_weights(seed: int, hidden: int, init: str = "he"):
    rs = np.random.RandomState(seed)
    w1, w2 = rs.randn(2, hidden), rs.randn(hidden, 1)[:, 0]
    if init == "he":
        w1, w2 = w1 * 1.0, w2 * np.sqrt(2.0 / hidden)
    return {"w1": w1, "b1": np.zeros(hidden), "w2": w2, "b2": np.zeros(()), "slope": None}


def _loss(act, w, loss):
    fn = act.raw(weight=w["slope"]) if w["slope"] is not None else act.raw()
    z = fn.forward(X @ w["w1"] + w["b1"]) @ w["w2"] + w["b2"]
    r = z - Y[:, 0]
    if loss == "sse":
        return np.sum(r * r)
    if loss == "mse":
        return np.sum(r * r) / 4
    return np.sum(np.logaddexp(0, z) - Y[:, 0] * z) / 4


@pytest.mark.parametrize(
    ("name", "loss"),
    [("prelu", "sse"), ("prelu", "bce"), ("tanh", "mse"), ("elu", "bce"), ("softplus", "sse")],
)
def test_one_sgd_step_follows_the_finite_difference_gradient(name, loss):
    # the second step: at initialisation b1 = 0 puts h exactly on PReLU's kink for
    # the input (0, 0), where a central difference straddles the kink
    act, seed, hidden, lr, eps = actcheck.get(name), 5, 3, 1e-3, 1e-6
    kw = dict(seeds=1, first_seed=seed, hidden=hidden, lr=lr, loss=loss)
    one, two = train_xor(act, epochs=1, **kw), train_xor(act, epochs=2, **kw)

    def weights(r):
        w = {k: np.array(r.weights[k][0], float) for k in ("w1", "b1", "w2", "b2")}
        w["slope"] = np.array(r.weights["slope"][0]) if "slope" in r.weights else None
        return w

    w, after = weights(one), weights(two)
    np.testing.assert_allclose(two.losses[0, 1], _loss(act, w, loss), rtol=1e-13)
    for key in ("w1", "b1", "w2", "b2", "slope"):
        if w[key] is None:
            continue
        analytic = (w[key] - after[key]) / lr
        numeric = np.zeros_like(w[key])
        for idx in np.ndindex(np.shape(w[key])):
            plus = {k: (v.copy() if v is not None else None) for k, v in w.items()}
            minus = {k: (v.copy() if v is not None else None) for k, v in w.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            numeric[idx] = (_loss(act, plus, loss) - _loss(act, minus, loss)) / (2 * eps)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8, err_msg=key)


def test_first_loss_matches_the_initial_weights():
    for name in ("prelu", "relu"):
        act = actcheck.get(name)
        r = train_xor(act, seeds=1, first_seed=5, epochs=1, hidden=3)
        w = _initial_weights(5, 3)
        if name == "prelu":
            w["slope"] = np.float64(0.25)
        np.testing.assert_allclose(r.losses[0, 0], _loss(act, w, "sse"), rtol=1e-13)


def test_prelu_slope_is_learned_and_reported():
    r = train_xor("prelu", seeds=6, epochs=50, hidden=3)
    assert r.slopes.shape == (6, 51)
    assert (r.slopes[:, 0] == 0.25).all()
    np.testing.assert_array_equal(r.slopes[:, -1], r.weights["slope"])
    assert not np.allclose(r.slopes[:, -1], 0.25)
    assert set(r.to_dict()["slope"]) >= {"initial", "final_median", "final_q1", "final_q3"}
    assert train_xor("relu", seeds=1, epochs=2).slopes is None


def test_rrelu_trains_with_sampled_slopes_and_evaluates_with_the_mean():
    rr = train_xor("rrelu", seeds=4, epochs=30, hidden=6)
    mean = actcheck.get("leaky_relu", negative_slope=(1 / 8 + 1 / 3) / 2)
    # training losses differ from a fixed slope, but the reported final loss is the
    # evaluation-mode (mean slope) loss of the trained weights
    lk = train_xor(mean, seeds=4, epochs=30, hidden=6)
    assert not np.array_equal(rr.losses, lk.losses)
    for i in range(4):
        w = {k: rr.weights[k][i] for k in ("w1", "b1", "w2", "b2")}
        w["slope"] = None
        np.testing.assert_allclose(rr.final_loss[i], _loss(mean, w, "sse"), rtol=1e-12)
    # lower == upper: sampling a constant slope is the leaky ReLU with that slope
    fixed = train_xor("rrelu:lower=0.2,upper=0.2", seeds=3, epochs=30, hidden=6)
    leaky = train_xor("leaky_relu:negative_slope=0.2", seeds=3, epochs=30, hidden=6)
    np.testing.assert_allclose(fixed.losses, leaky.losses, rtol=1e-12)


# ---------------------------------------------------------------------------
# Every optimiser, loss and initialisation trains
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("loss", ["sse", "mse", "bce"])
def test_optimizers_and_losses_decrease_the_loss(optimizer, loss):
    lr = {"sgd": 0.1, "momentum": 0.02, "adam": 0.02}[optimizer] * (2 if loss != "sse" else 0.5)
    r = train_xor("tanh", seeds=8, epochs=300, hidden=8, optimizer=optimizer, loss=loss, lr=lr)
    assert np.median(r.final_loss) < 0.5 * np.median(r.losses[:, 0])
    assert r.success_rate >= 0.5


@pytest.mark.parametrize("init", ["normal", "he", "xavier"])
def test_inits_train(init):
    r = train_xor("tanh", seeds=8, epochs=300, hidden=8, init=init, lr=0.05)
    assert np.median(r.final_loss) < 0.5 * np.median(r.losses[:, 0])


def test_init_scales():
    normal = train_xor("relu", seeds=1, epochs=1, hidden=8, init="normal", lr=1e-300)
    xavier = train_xor("relu", seeds=1, epochs=1, hidden=8, init="xavier", lr=1e-300)
    np.testing.assert_allclose(xavier.weights["w1"], normal.weights["w1"] * np.sqrt(2 / 10))
    np.testing.assert_allclose(xavier.weights["w2"], normal.weights["w2"] * np.sqrt(2 / 9))


# ---------------------------------------------------------------------------
# Statistics on hand-built cases
# ---------------------------------------------------------------------------


def test_correct_needs_every_point_on_its_side():
    assert correct([0.1, 0.9, 0.7, 0.4])
    assert not correct([0.1, 0.9, 0.7, 0.5])  # exactly 0.5 is on neither side
    assert not correct([0.6, 0.9, 0.7, 0.1])
    np.testing.assert_array_equal(correct([[0, 1, 1, 0], [1, 0, 0, 1]]), [True, False])


def test_dead_fraction():
    pre = np.ones((4, 2, 4))
    pre[:, 0, :2] = -1.0  # seed 0: units 0 and 1 negative everywhere
    pre[:3, 0, 2] = 0.0  # unit 2: zero on three inputs but positive on one: alive
    pre[:, 1, 3] = 0.0  # seed 1: unit 3 exactly zero on all four: dead (h <= 0)
    np.testing.assert_array_equal(dead_fraction(pre), [0.5, 0.25])


def test_epochs_to_threshold_and_never():
    losses = np.array([[1.0, 0.5, 0.01, 0.001], [1.0, 1.0, 1.0, 1.0], [0.0, 1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(epochs_to_threshold(losses, 0.01), [2, -1, 0])


def test_quantiles_rank_nan_as_worst():
    np.testing.assert_array_equal(quantiles(np.array([1.0, np.nan, 3.0]), [0.5, 1.0]), [3, np.inf])


def test_result_statistics_are_consistent():
    r = train_xor("relu", seeds=20, epochs=200, hidden=2)
    s = r.to_dict()
    assert s["success_rate"] == r.success.mean()
    assert 0 < s["success_rate"] < 1  # H = 2 ReLU fails on some seeds
    assert s["never_reached_threshold"] == int((r.epochs_to_threshold < 0).sum())
    assert s["threshold"] == LOSS_THRESHOLDS["sse"]
    assert s["final_loss_q1"] <= s["final_loss_median"] <= s["final_loss_q3"]
    # a seed whose two hidden units are both dead at the end has a constant output
    dead = r.dead_final == 1.0
    assert not r.success[dead].any()
    assert 0 <= r.representative < 20


def test_diverged_seeds_count_as_failures_without_warnings():
    r = train_xor("relu", seeds=4, epochs=200, hidden=30, lr=5.0)
    assert not r.success.any()
    assert np.isinf(r.final_loss_quartiles()[1])


# ---------------------------------------------------------------------------
# Interruption
# ---------------------------------------------------------------------------


def test_keyboard_interrupt_from_the_progress_hook_keeps_what_was_computed():
    def hook(done):
        if done == 7:
            raise KeyboardInterrupt

    r = train_xor("prelu", seeds=3, epochs=100, progress=hook)
    full = train_xor("prelu", seeds=3, epochs=100)
    assert r.interrupted and r.epochs_completed == 7
    assert r.losses.shape == (3, 7) and r.slopes.shape == (3, 8)
    np.testing.assert_array_equal(r.losses, full.losses[:, :7])
    assert np.isfinite(r.final_loss).all()


def test_ctrl_c_stops_between_epochs():
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT handled by the test runner")

    def hook(done):
        if done == 4:
            os.kill(os.getpid(), signal.SIGINT)

    r = train_xor("relu", seeds=2, epochs=50, progress=hook)
    assert r.interrupted and r.epochs_completed == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# ---------------------------------------------------------------------------
# Bad arguments
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hidden": 0},
        {"hidden": -3},
        {"epochs": 0},
        {"seeds": 0},
        {"seeds": -1},
        {"lr": 0.0},
        {"lr": -0.1},
        {"lr": float("nan")},
        {"loss": "hinge"},
        {"optimizer": "rmsprop"},
        {"init": "orthogonal"},
        {"dtype": "float16"},
        {"preset": "modern"},
        {"first_seed": -1},
        {"threshold": 0.0},
    ],
)
def test_bad_arguments_raise_input_error(kwargs):
    with pytest.raises(InputError):
        train_xor("relu", **{"seeds": 1, **kwargs})


def test_summary_is_one_line_and_to_dict_has_per_seed_statistics():
    r = train_xor("relu", seeds=4, epochs=30)
    line = r.summary()
    assert "\n" not in line and line.startswith("relu: ") and "of 4 seeds solved" in line
    d = r.to_dict()
    assert d["per_seed"]["seed"] == [0, 1, 2, 3] and len(d["per_seed"]["final_loss"]) == 4
    assert "losses" not in d  # histories are separate: actcheck.xor.histories
    assert r.config.to_dict()["threshold"] == LOSS_THRESHOLDS["sse"]


def test_histories_by_activation_spec():
    from actcheck.xor import histories

    results = [train_xor("relu", seeds=3, epochs=5), train_xor("prelu", seeds=3, epochs=5)]
    h = histories(results)
    assert sorted(h) == ["prelu/losses", "prelu/seeds", "prelu/slopes", "relu/losses", "relu/seeds"]
    assert h["relu/losses"].shape == (3, 5) and h["prelu/slopes"].shape == (3, 6)
