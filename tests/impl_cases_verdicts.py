"""Layers for tests/test_impl_verdicts.py: the wrong verdicts of issue 10, each reproduced.

Kept apart from impl_cases.py so that work on the conventions (issue 10) merges cleanly.
"""

import abc

import numpy as np


class Identity:
    """Caches its input and returns it: self.x is no parameter."""

    def forward(self, x):
        self.x = x
        return x

    def backward(self, dout):
        self.dx = dout
        return dout


class Flatten:
    def forward(self, x):
        self.x = x
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        self.dx = dout.reshape(self.shape)
        return self.dx


class MeanSquareLoss:
    """A scalar loss: sum(x²)/N."""

    def forward(self, x):
        self.x = x
        return np.sum(x**2) / x.shape[0]

    def backward(self, dout):
        return dout * 2 * self.x / self.x.shape[0]


class MeanSquareLossNoN(MeanSquareLoss):
    """Ignores dout and forgets /N."""

    def backward(self, dout):
        return 2 * self.x


class Scale:
    """y = x · w with w behind a property (stored in self._w)."""

    def __init__(self):
        self._w = np.linspace(-1.5, 2.0, 10)
        self._dw = None

    @property
    def w(self):
        return self._w

    @property
    def dw(self):
        return self._dw

    def forward(self, x):
        self.x = x
        return x * self._w

    def backward(self, dout):
        self._dw = np.sum(dout * self.x, axis=0)
        return dout * self._w


class ScaleWrongDw(Scale):
    def backward(self, dout):
        self._dw = 3 * np.sum(dout * self.x, axis=0)
        return dout * self._w


class SoftplusNaive:
    """log(exp(x) + 1): inf for x >= 710 (float64), about 89 (float32)."""

    def forward(self, x):
        self.x = x
        return np.log(np.exp(x) + 1)

    def backward(self, dout):
        e = np.exp(self.x)
        return dout * e / (e + 1)


class SoftplusStable:
    def forward(self, x):
        self.x = x
        return np.logaddexp(0, x)

    def backward(self, dout):
        return dout * 0.5 * (1 + np.tanh(self.x / 2))


class Exp:
    """exp overflows because the true value does: no failure."""

    def forward(self, x):
        self.y = np.exp(x)
        return self.y

    def backward(self, dout):
        return dout * self.y


SELU_A, SELU_S = 1.6732632423543772, 1.0507009873554805


def selu_grad(x):
    """SELU': jumps at 0 (from 1.7581 to 1.0507)."""
    return np.where(x > 0, SELU_S, SELU_S * SELU_A * np.exp(x))


def selu_grad2(x):
    return np.where(x > 0, 0.0, SELU_S * SELU_A * np.exp(x))


def selu_grad2_right_at_0(x):
    """Another valid convention at the jump: 0 (the right side's value)."""
    return np.where(x >= 0, 0.0, SELU_S * SELU_A * np.exp(x))


def hard_sigmoid_grad(x):
    """The hard sigmoid's f': jumps at ±3."""
    return np.where((x > -3) & (x < 3), 1 / 6, 0.0).astype(x.dtype)


def hard_sigmoid_grad2(x):
    return np.full_like(x, -1.0)  # wrong everywhere


def hard_sigmoid_grad2_ok(x):
    return np.zeros_like(x)


class ActivationBase(abc.ABC):
    """numpy-ml style: abstract, with concrete subclasses."""

    @abc.abstractmethod
    def fn(self, z): ...

    @abc.abstractmethod
    def grad(self, x): ...


class Linear(ActivationBase):
    def fn(self, z):
        return z

    def grad(self, x):
        return np.ones_like(x)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def mean_square(x):
    return np.mean(x**2)


class StoresOutput:
    """nnfs style without the adapter: forward stores self.output and returns nothing."""

    def forward(self, x):
        self.output = 2 * x

    def backward(self, dout):
        return 2 * dout
