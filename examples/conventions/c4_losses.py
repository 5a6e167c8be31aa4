"""Convention 4: loss layers ("Deep Learning from Scratch" and ML-From-Scratch style).

SoftmaxWithLoss.forward(x, t) returns a scalar; backward(dout=1) ignores dout, which is right for the
last layer. cross_entropy_error adds 1e-7 inside the log, so the exact derivative of forward differs
from (y - t) / N by about 1e-7 / y: a few 1e-7 relative at ordinary logits (correct code, must pass),
much more where a probability of the true class nears 1e-7 (very confident, very wrong logits).

    actcheck gradcheck --impl examples/conventions/c4_losses.py:SoftmaxWithLoss --arg t=onehot:10 --shape 16,10
    actcheck gradcheck --impl examples/conventions/c4_losses.py:SoftmaxWithLoss --arg t=labels:10 --shape 16,10
    actcheck gradcheck --impl examples/conventions/c4_losses.py:SoftmaxWithLossNoMean --arg t=onehot:10 --shape 16,10
    actcheck gradcheck --impl examples/conventions/c4_losses.py:SquareLoss --arg y=randn:16,3 --shape 16,3
"""

import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    """-sum(t * log(y + 1e-7)) / N; t one-hot or class labels."""
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot -> labels
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class SoftmaxWithLossUsesDout(SoftmaxWithLoss):
    """The same loss usable mid-graph: dout scales the gradient."""

    def backward(self, dout=1):
        return dout * super().backward()


class SoftmaxWithLossNoMean(SoftmaxWithLoss):
    def backward(self, dout=1):
        if self.t.size == self.y.size:
            return (
                self.y - self.t
            )  # bug: forward averages over the batch, backward must divide by N
        dx = self.y.copy()
        dx[np.arange(self.t.shape[0]), self.t] -= 1
        return dx


class SoftmaxWithLossWrongSign(SoftmaxWithLoss):
    def backward(self, dout=1):
        return (self.t - self.y) / self.t.shape[0]  # bug: sign (one-hot t only)


class SoftmaxWithLossWrongFactor(SoftmaxWithLoss):
    def backward(self, dout=1):
        return (self.y - self.t) / self.y.size  # bug: divides by N * classes, forward by N


class SquareLoss:
    """ML-From-Scratch style: loss(y, y_pred) per element; gradient(y, y_pred) is d loss / d y_pred."""

    def loss(self, y, y_pred):
        return 0.5 * np.power(y - y_pred, 2)

    def gradient(self, y, y_pred):
        return -(y - y_pred)


class SquareLossWrongSign(SquareLoss):
    def gradient(self, y, y_pred):
        return y - y_pred  # bug: derivative taken with respect to y, not y_pred


class CrossEntropy:
    """ML-From-Scratch style binary cross-entropy per element; p in (0, 1), y in {0, 1}."""

    def loss(self, y, p):
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return -y * np.log(p) - (1 - y) * np.log(1 - p)

    def gradient(self, y, p):
        p = np.clip(p, 1e-15, 1 - 1e-15)
        return -(y / p) + (1 - y) / (1 - p)
