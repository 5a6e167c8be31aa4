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


class ExpReal(Exp):
    """exp of x's real part: not complex-safe, so judged by real differences, whose
    relative error (~1e-10) is an absolute one of ~1e7 where exp(40) = 2.4e17."""

    def forward(self, x):
        self.y = np.exp(np.real(x))
        return self.y


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
    """Forward stores its result and returns nothing."""

    def forward(self, x):
        self.result = 2 * x

    def backward(self, dout):
        return 2 * dout


def tanh(x):
    return np.tanh(x)


def dtanh_float32(x):
    """Right formula, computed in float32."""
    return (1 - np.tanh(x.astype(np.float32)) ** 2).astype(x.dtype)


def gelu(x):
    from scipy.special import erf

    return 0.5 * x * (1 + erf(x / np.sqrt(2)))


def dgelu_tanh_form(x):
    """The derivative of GELU's tanh approximation: off by < 1e-3 everywhere."""
    c = np.sqrt(2 / np.pi)
    t = np.tanh(c * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t**2) * c * (1 + 3 * 0.044715 * x**2)


class DenseL2:
    """nnfs style: the L2 penalty's gradient 2λW added in backward."""

    def __init__(self, lam=5e-3):
        self.W = np.random.default_rng(0).normal(size=(10, 5))
        self.lam = lam

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        self.dW = self.x.T @ dout + 2 * self.lam * self.W
        return dout @ self.W.T


class DenseL1(DenseL2):
    def backward(self, dout):
        self.dW = self.x.T @ dout + self.lam * np.sign(self.W)
        return dout @ self.W.T


class DenseOptimizerStep:
    """ML-From-Scratch style: backward updates W after computing dx with the old W."""

    def __init__(self):
        self.W = np.random.default_rng(0).normal(size=(10, 5))

    def forward(self, x):
        self.x = x
        return x @ self.W

    def backward(self, dout):
        W = self.W
        self.dW = self.x.T @ dout
        self.W = self.W - 0.01 * self.dW
        return dout @ W.T


class DenseAccumulates(DenseOptimizerStep):
    """Accumulates dW across calls: a wrong gradient, not an optimizer step."""

    def __init__(self):
        super().__init__()
        self.dW = np.zeros_like(self.W)

    def backward(self, dout):
        self.dW += self.x.T @ dout
        return dout @ self.W.T


def dgelu(x):
    from scipy.special import erf

    return 0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)


def sigmoid_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


def sigmoid_grad2(x):
    """Correct; at x = 30 both it and grad are ~1e-13, where grad's rounding is ~1e-16."""
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s) * (1 - 2 * s)
