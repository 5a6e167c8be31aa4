"""Convention 2: cs231n-style layer functions with several inputs, a gradient for each.

NAME_forward(inputs..., param_dict) -> (out, cache) and NAME_backward(dout, cache) -> (dx, dw, ...).
Every float array input has a gradient to check:

    actcheck gradcheck --impl examples/conventions/c2_cs231n/layers.py:affine_forward \
        --arg w=randn:6,5 --arg b=randn:5 --shape 4,2,3
    actcheck gradcheck --impl examples/conventions/c2_cs231n/layers.py:batchnorm_forward \
        --arg gamma=randn:10 --arg beta=randn:10 --arg 'bn_param={"mode": "train"}' --shape 8,10
    actcheck gradcheck --impl examples/conventions/c2_cs231n/layers.py:conv_forward_naive \
        --arg w=randn:4,3,3,3 --arg b=randn:4 --arg 'conv_param={"stride": 2, "pad": 1}' --shape 2,3,7,7
    actcheck gradcheck --impl examples/conventions/c2_cs231n/layers.py:softmax_loss --arg y=labels:10 --shape 16,10

Written for actcheck's test material in the style of the assignment's layers.py.
"""

import numpy as np


def affine_forward(x, w, b):
    """out = x.reshape(N, D) @ w + b for x of shape (N, d_1, ..., d_k), D = d_1 * ... * d_k."""
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db


def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Train mode: normalise with the batch mean and variance; test mode: with the running ones."""
    mode = bn_param["mode"]
    eps = bn_param.get("eps", 1e-5)
    momentum = bn_param.get("momentum", 0.9)
    n, d = x.shape
    running_mean = bn_param.get("running_mean", np.zeros(d, dtype=x.dtype))
    running_var = bn_param.get("running_var", np.zeros(d, dtype=x.dtype))
    if mode == "train":
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        std = np.sqrt(var + eps)
        x_hat = (x - mu) / std
        out = gamma * x_hat + beta
        running_mean = momentum * running_mean + (1 - momentum) * mu
        running_var = momentum * running_var + (1 - momentum) * var
        cache = (x_hat, gamma, std)
    elif mode == "test":
        std = np.sqrt(running_var + eps)
        x_hat = (x - running_mean) / std
        out = gamma * x_hat + beta
        cache = None
    else:
        raise ValueError(f'Invalid forward batchnorm mode "{mode}"')
    bn_param["running_mean"] = running_mean
    bn_param["running_var"] = running_var
    return out, cache


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) / (n * std)
    return dx, dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout; p is the probability of KEEPING a unit. A 'seed' makes the mask repeatable."""
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    mask = None
    if mode == "train":
        mask = (np.random.rand(*x.shape) < p) / p
        out = x * mask
    else:
        out = x
    cache = (dropout_param, mask)
    return out.astype(x.dtype, copy=False), cache


def dropout_backward(dout, cache):
    dropout_param, mask = cache
    if dropout_param["mode"] == "train":
        return dout * mask
    return dout


def conv_forward_naive(x, w, b, conv_param):
    """x (N, C, H, W), w (F, C, HH, WW), b (F,) -> (N, F, H', W'); loops over output positions."""
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out = 1 + (h + 2 * pad - hh) // stride
    w_out = 1 + (wd + 2 * pad - ww) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, f, h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x_pad[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    cache = (x, w, b, conv_param)
    return out, cache


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, h, wd = x.shape
    _, _, hh, ww = w.shape
    _, _, h_out, w_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(h_out):
        for j in range(w_out):
            hs, ws = i * stride, j * stride
            window = x_pad[:, :, hs : hs + hh, ws : ws + ww]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dx_pad[:, :, hs : hs + hh, ws : ws + ww] += np.tensordot(
                dout[:, :, i, j], w, axes=([1], [0])
            )
    dx = dx_pad[:, :, pad : pad + h, pad : pad + wd]
    return dx, dw, db


def max_pool_forward_naive(x, pool_param):
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    n, c, h, w = x.shape
    h_out = 1 + (h - ph) // stride
    w_out = 1 + (w - pw) // stride
    out = np.zeros((n, c, h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            out[:, :, i, j] = x[
                :, :, i * stride : i * stride + ph, j * stride : j * stride + pw
            ].max(axis=(2, 3))
    cache = (x, pool_param)
    return out, cache


def max_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    _, _, h_out, w_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(h_out):
        for j in range(w_out):
            window = x[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw]
            is_max = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += (
                is_max * dout[:, :, i, j][:, :, None, None]
            )
    return dx


def svm_loss(x, y):
    """Multiclass hinge loss, averaged over the batch -> (loss, dx)."""
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = np.sum(margins) / n
    positive = (margins > 0).astype(x.dtype)
    dx = positive.copy()
    dx[rows, y] -= positive.sum(axis=1)
    dx /= n
    return loss, dx


def softmax_loss(x, y):
    """Softmax cross-entropy averaged over the batch -> (loss, dx); y holds class indices."""
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    probs = np.exp(log_probs)
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx
