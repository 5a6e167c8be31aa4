"""Layers for tests/test_userimpl*.py: correct ones and realistic bugs."""

import math

import numpy as np


def hs(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def dhs_narrow(x):
    return np.where((x > -3) & (x < 3.3), 1 / 6, 0.0)


def relu(x):
    return np.maximum(x, 0)


def drelu_kink(x):
    return np.where(x > 0, 1.0, np.where(x < 0, 0.0, 2.0))


def leaky(x):
    return np.where(x > 0, x, 0.2 * x)


def dleaky_kink0(x):
    return np.where(x > 0, 1.0, np.where(x < 0, 0.2, 0.0))


def tanh(x):
    return np.tanh(x)


def dtanh_f(x):
    return np.tanh(x)


class TanhForgot:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return 1 - self.y**2


class TanhSign:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return -dout * (1 - self.y**2)


class TanhTwice:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return 2 * dout * (1 - self.y**2)


class Raises:
    def forward(self, x):
        self.x = x
        return x * 2

    def backward(self, dout):
        return dout * self.mask


class XInplace:
    def forward(self, x):
        x[x < 0] = 0
        self.x = x
        return x

    def backward(self, dout):
        return dout * (self.x > 0)


class Affine:
    def __init__(self):
        rng = np.random.default_rng(1)
        self.W = rng.normal(size=(32, 8))
        self.b = rng.normal(size=8)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


class AffineBadDb(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = dout.mean(axis=0)
        return dx


class AffineMean(Affine):
    """dW and db of the batch's mean (deeplearning.ai's convention, in cs231n's layout)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW /= len(dout)
        self.db /= len(dout)
        return dx


class AffineNanDb(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db[0] = np.nan  # bug: one entry went NaN (a 0/0 somewhere): it must not pass
        return dx


class BadShape:
    def forward(self, x):
        self.x = x
        return x * 2

    def backward(self, dout):
        return (2 * dout).sum(axis=0)


class Dropout:
    def forward(self, x):
        self.m = np.random.rand(*x.shape) > 0.5
        return x * self.m

    def backward(self, dout):
        return dout * self.m


class DropoutFreshMaskInBackward(Dropout):
    def backward(self, dout):  # bug: a new mask, not forward's
        return dout * (np.random.rand(*dout.shape) > 0.5)


class BatchNorm:
    def forward(self, x):
        self.mu = x.mean(0)
        self.xc = x - self.mu
        self.var = (self.xc**2).mean(0)
        self.std = np.sqrt(self.var + 1e-5)
        self.y = self.xc / self.std
        return self.y

    def backward(self, dout):
        return (dout - dout.mean(0) - self.y * (dout * self.y).mean(0)) / self.std


class BatchNormBad(BatchNorm):
    def backward(self, dout):
        return (dout - dout.mean(0)) / self.std


def bad_forward(x):
    raise ValueError("shapes do not line up")


class ForwardRaises:
    def forward(self, x):
        return self.helper(x)

    def helper(self, x):
        return x @ np.ones((3, 3))  # matmul of (64, 32) with (3, 3)

    def backward(self, dout):
        return dout


class NeedsArgs:
    def __init__(self, n):
        self.n = n

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout


class NoBackward:
    def forward(self, x):
        return x


def numpy_only(x):
    return np.tanh(x)


def cube(x):
    return x**3


def dcube(x):
    return 3 * x**2


class SquaresDout:
    def forward(self, x):
        self.x = x
        return 2 * x

    def backward(self, dout):
        return 2 * dout * np.abs(dout)  # bug: nonlinear in dout


class ReturnsList:
    def forward(self, x):
        return x.tolist()

    def backward(self, dout):
        return dout


class Overflow:
    def forward(self, x):
        self.x = x
        return np.exp(x * 100)

    def backward(self, dout):
        return dout * 100 * np.exp(self.x * 100)


class PerChannelPReLU:
    def __init__(self):
        self.alpha = np.full(32, 0.25)

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        self.dalpha = np.sum(dout * np.where(self.x > 0, 0.0, self.x), axis=0)
        return dout * np.where(self.x > 0, 1.0, self.alpha)


class PerChannelPReLUNoSum(PerChannelPReLU):
    def backward(self, dout):
        dx = super().backward(dout)
        self.dalpha = dout * np.where(self.x > 0, 0.0, self.x)  # bug: no sum over the batch
        return dx


class DictParams:
    """cs231n style: params / grads dictionaries."""

    def __init__(self):
        self.params = {"W": np.linspace(-1, 1, 32 * 4).reshape(32, 4)}
        self.grads = {}

    def forward(self, x):
        self.x = x
        return np.tanh(x @ self.params["W"])

    def backward(self, dout):
        y = np.tanh(self.x @ self.params["W"])
        g = dout * (1 - y**2)
        self.grads["W"] = -(self.x.T @ g)  # bug: sign
        return g @ self.params["W"].T


class Hardswish:
    def forward(self, x):
        self.x = x
        return x * np.clip(x + 3, 0, 6) / 6

    def backward(self, dout):
        x = self.x
        return dout * np.where(x < -3, 0.0, np.where(x > 3, 1.0, (2 * x + 3) / 6))


class Gelu:
    """tanh-approximate GELU: smooth, checked to float32 without false alarms."""

    def forward(self, x):
        self.x = x
        self.u = 0.7978845608028654 * (x + 0.044715 * x**3)
        self.t = np.tanh(self.u)
        return 0.5 * x * (1 + self.t)

    def backward(self, dout):
        x, t = self.x, self.t
        du = 0.7978845608028654 * (1 + 3 * 0.044715 * x**2)
        return dout * (0.5 * (1 + t) + 0.5 * x * (1 - t**2) * du)


class TanhPlusConst:
    def forward(self, x):
        self.y = np.tanh(x)
        return self.y

    def backward(self, dout):
        return dout * (1 - self.y**2 + 1e-3)  # bug: a stray constant


class L2Loss:
    """A loss layer: forward returns a float, backward(dout) scales by the upstream scalar."""

    def forward(self, x):
        self.x = x
        return 0.5 * np.sum(x * x)

    def backward(self, dout=1.0):
        return dout * self.x


class ReluKink2:
    """ReLU whose backward returns 2 at x == 0 (outside the one-sided derivatives 0 and 1)."""

    def forward(self, x):
        self.x = x
        return np.maximum(x, 0)

    def backward(self, dout):
        return dout * np.where(self.x > 0, 1.0, np.where(self.x < 0, 0.0, 2.0))


class HardSigmoidNarrow:
    """Hard sigmoid with a typo in backward: 3.3 where 3 is meant."""

    def forward(self, x):
        self.x = x
        return np.clip(x / 6 + 0.5, 0, 1)

    def backward(self, dout):
        return dout * np.where((self.x > -3) & (self.x < 3.3), 1 / 6, 0.0)


class IntOut:
    def forward(self, x):
        return (x > 0).astype(int)

    def backward(self, dout):
        return dout * 0


class ComplexOut:
    def forward(self, x):
        return x + 0j

    def backward(self, dout):
        return dout


class NoneOut:
    def forward(self, x):
        pass

    def backward(self, dout):
        return dout


class IntDx:
    def forward(self, x):
        return x * 2.0

    def backward(self, dout):
        return (dout > 0).astype(int)


class ListDx:
    def forward(self, x):
        return x * 2.0

    def backward(self, dout):
        return (2 * dout).tolist()


class Float16:
    def forward(self, x):
        return (x * 2).astype(np.float16)

    def backward(self, dout):
        return (dout * 2).astype(np.float16)


class Recursion:
    def forward(self, x):
        return self.forward(x)

    def backward(self, dout):
        return dout


def relu_forward(x):
    """cs231n style: the output and a cache for the backward pass."""
    out = np.maximum(0, x)
    return out, x


def relu_backward(dout, cache):
    x = cache
    return dout * (x > 0)


def sigmoid_forward(x):
    out = 1 / (1 + np.exp(-x))
    return out, out


def sigmoid_backward(dout, cache):
    s = 1 / (1 + np.exp(-cache))  # bug: the cache already holds sigmoid(x)
    return dout * s * (1 - s)


def nonlin(x, deriv=False):
    """A tutorial's sigmoid with its derivative behind a switch, written in the output:
    right for nonlin(l1, deriv=True) with l1 = nonlin(...), wrong on x."""
    if deriv:
        return x * (1 - x)
    return 1 / (1 + np.exp(-x))


def tanh_switch(x, derivative=False):
    """The switch with the derivative in x: correct."""
    t = np.tanh(x)
    return 1 - t * t if derivative else t


def relu_switch(x, deriv=False):
    """The switch, with a factor of 2 in the derivative."""
    return 2.0 * (x > 0) if deriv else np.maximum(x, 0)


def sigmoid_of_output(y):
    """σ' as a function of y = σ(x), paired with a sigmoid through --derivative."""
    return y * (1 - y)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Net:
    """A class whose activation is a method with the switch (the method is named)."""

    def act(self, x, deriv=False):
        t = np.tanh(x)
        return 1 - t * t if deriv else t


# backward(output_gradient, learning_rate) applying its own SGD update (a popular
# from-scratch tutorial: column vectors, x of shape (input_size, 1))


class SgdDense:
    def __init__(self, input_size=3, output_size=2):
        rng = np.random.default_rng(1)
        self.weights = rng.normal(size=(output_size, input_size))
        self.bias = rng.normal(size=(output_size, 1))

    def forward(self, input):
        self.input = input
        return np.dot(self.weights, self.input) + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return input_gradient


class SgdDenseRebinds(SgdDense):
    """The update by assignment (a new array), not in place."""

    def backward(self, output_gradient, learning_rate):
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights = self.weights - learning_rate * np.dot(output_gradient, self.input.T)
        self.bias = self.bias - learning_rate * output_gradient
        return input_gradient


class SgdDenseUpdatesFirst(SgdDense):
    def backward(self, output_gradient, learning_rate):
        self.weights -= learning_rate * np.dot(output_gradient, self.input.T)
        self.bias -= learning_rate * output_gradient
        return np.dot(self.weights.T, output_gradient)


class SgdDenseBiasTwice(SgdDense):
    def backward(self, output_gradient, learning_rate):
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.weights -= learning_rate * np.dot(output_gradient, self.input.T)
        self.bias -= 2 * learning_rate * output_gradient
        return input_gradient


class AdamDense(SgdDense):
    """Adam's moments kept in the layer: its update is not the gradient."""

    def __init__(self, input_size=3, output_size=2):
        super().__init__(input_size, output_size)
        self.m = np.zeros_like(self.weights)
        self.v = np.zeros_like(self.weights)

    def backward(self, output_gradient, learning_rate):
        g = np.dot(output_gradient, self.input.T)
        input_gradient = np.dot(self.weights.T, output_gradient)
        self.m = 0.9 * self.m + 0.1 * g
        self.v = 0.999 * self.v + 0.001 * g * g
        self.weights -= learning_rate * self.m / (np.sqrt(self.v) + 1e-8)
        return input_gradient


class SgdTanh:
    """An activation whose backward takes the rate too (and updates nothing)."""

    def forward(self, input):
        self.input = input
        return np.tanh(input)

    def backward(self, output_gradient, learning_rate):
        return output_gradient * (1 - np.tanh(self.input) ** 2)


class NeedsMomentum(SgdTanh):
    def backward(self, output_gradient, learning_rate, momentum):
        return output_gradient * (1 - np.tanh(self.input) ** 2)


class SgdDenseDefaultRate(SgdDense):
    def backward(self, output_gradient, lr=0.01):
        return super().backward(output_gradient, lr)


class LinearGradientNames:
    """Gradients stored as weights_gradient / bias_gradient."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.weights = rng.normal(size=(5, 3))
        self.bias = np.zeros(3)

    def forward(self, x):
        self.x = x
        return x @ self.weights + self.bias

    def backward(self, grad):
        self.weights_gradient = self.x.T @ grad
        self.bias_gradient = grad.sum(axis=0)
        return grad @ self.weights.T


# backward(input, grad_output) with the rate held by the layer (a numpy-network notebook
# of several courses)


class InputFirstReLU:
    def forward(self, input):
        return np.maximum(0, input)

    def backward(self, input, grad_output):
        return grad_output * (input > 0)


class InputFirstDense:
    def __init__(self, input_units=5, output_units=3, learning_rate=0.1):
        self.learning_rate = learning_rate
        rng = np.random.default_rng(2)
        self.weights = rng.normal(size=(input_units, output_units))
        self.biases = np.zeros(output_units)

    def forward(self, input):
        return input @ self.weights + self.biases

    def backward(self, input, grad_output):
        grad_input = grad_output @ self.weights.T
        self.weights = self.weights - self.learning_rate * (input.T @ grad_output)
        self.biases = self.biases - self.learning_rate * grad_output.sum(axis=0)
        return grad_input


class InputFirstDenseMeanBias(InputFirstDense):
    """Bug: the bias gradient averaged over the batch."""

    def backward(self, input, grad_output):
        grad_input = grad_output @ self.weights.T
        self.weights = self.weights - self.learning_rate * (input.T @ grad_output)
        self.biases = self.biases - self.learning_rate * grad_output.mean(axis=0)
        return grad_input


class ForwardPropLayer:
    """forward_prop / backward, the weights' gradient named in the singular."""

    def __init__(self):
        rng = np.random.default_rng(3)
        self.weights = rng.normal(size=(3, 4))
        self.biases = rng.normal(size=(3, 1))

    def forward_prop(self, x):
        self.input = x
        return self.weights @ x + self.biases

    def backward(self, dz):
        self.weight_grad = dz @ self.input.T
        self.biases_grad = dz.sum(axis=1, keepdims=True)
        return self.weights.T @ dz


class FpropTanh:
    def fprop(self, x):
        self.y = np.tanh(x)
        return self.y

    def bprop(self, dy):
        return dy * (1 - self.y**2)


def leaky_switch(x, alpha, deriv=False):
    """A switch beside a parameter the call needs (--arg alpha=...)."""
    if deriv:
        return np.where(x > 0, 1.0, alpha)
    return np.where(x > 0, x, alpha * x)


class DictSgdAffine:
    """cs231n-style params dict, updated by backward(dout, lr)."""

    def __init__(self):
        rng = np.random.default_rng(4)
        self.params = {"W": rng.normal(size=(5, 3)), "b": np.zeros(3)}

    def forward(self, x):
        self.x = x
        return x @ self.params["W"] + self.params["b"]

    def backward(self, dout, lr):
        dx = dout @ self.params["W"].T
        self.params["W"] -= lr * (self.x.T @ dout)
        self.params["b"] -= lr * dout.sum(axis=0)
        return dx


class SgdDense32(SgdDense):
    """float32 weights: θ - g rounds in float32."""

    def __init__(self):
        super().__init__()
        self.weights = self.weights.astype(np.float32)
        self.bias = self.bias.astype(np.float32)


# deeplearning.ai's dnn_utils: relu(Z) -> (A, cache), relu_backward(dA, cache)


def dl_relu(Z):
    return np.maximum(0, Z), Z


def dl_relu_backward(dA, cache):
    dZ = np.array(dA, copy=True)
    dZ[cache <= 0] = 0
    return dZ


def dl_sigmoid(Z):
    return 1 / (1 + np.exp(-Z)), Z


def dl_sigmoid_backward(dA, cache):
    s = 1 / (1 + np.exp(-cache))
    return dA * s  # bug: the factor (1 - s) is missing


def plain_relu(x):
    return np.maximum(0, x)


def plain_relu_backward(dout, x):
    """A backward that takes x itself for its cache."""
    return dout * (x > 0)


def dl_linear_forward(A, W, b):
    """deeplearning.ai's column layout: A is (features, m)."""
    return W @ A + b, (A, W, b)


def dl_linear_backward(dZ, cache):
    A_prev, W, _ = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * dZ @ A_prev.T
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    return W.T @ dZ, dW, db


# ---------------------------------------------------------------------------
# micrograd-style scalar engine with binary operations (the other operand's grad)
# ---------------------------------------------------------------------------


class Scalar:
    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = set(_children)

    @staticmethod
    def _wrap(other):
        return other if isinstance(other, Scalar) else Scalar(other)

    def __add__(self, other):
        other = self._wrap(other)
        out = Scalar(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __sub__(self, other):
        other = self._wrap(other)
        out = Scalar(self.data - other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad = -out.grad  # bug: = where += is needed

        out._backward = _backward
        return out

    def __truediv__(self, other):
        other = self._wrap(other)
        out = Scalar(self.data / other.data, (self, other))

        def _backward():
            self.grad += out.grad / other.data
            other.grad += self.data / other.data**2 * out.grad  # bug: the sign

        out._backward = _backward
        return out

    def __pow__(self, other):
        if isinstance(other, int | float):
            out = Scalar(self.data**other, (self,))

            def _backward():
                self.grad += other * self.data ** (other - 1) * out.grad

        else:  # a Scalar exponent, as micrograd's later engine allows
            out = Scalar(self.data**other.data, (self, other))

            def _backward():
                self.grad += other.data * self.data ** (other.data - 1) * out.grad
                other.grad += self.data**other.data * math.log(self.data) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if v not in seen:
                seen.add(v)
                for child in v._prev:
                    visit(child)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


class ZeroingValue:
    """An engine whose backward() zeroes every grad of the graph first (leaves too), then
    accumulates: right, though a second backward() of another output starts again."""

    def __init__(self, data, _children=()):
        self.data = data
        self.grad = 0.0
        self._backward = lambda: None
        self._prev = tuple(_children)

    def __add__(self, other):
        other = other if isinstance(other, ZeroingValue) else ZeroingValue(other)
        out = ZeroingValue(self.data + other.data, (self, other))

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __radd__(self, other):  # 3 + v: Python calls it only with a number
        return self + other

    def tanh(self):
        t = math.tanh(self.data)
        out = ZeroingValue(t, (self,))

        def _backward():
            self.grad += (1 - t * t) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for child in v._prev:
                    visit(child)
                order.append(v)

        visit(self)
        for v in order:
            v.grad = 0.0
        self.grad = 1.0
        for v in reversed(order):
            v._backward()


class NoNegScalar(Scalar):
    """__sub__ as self + (-other), with no __neg__: right for a number, a TypeError for a
    Value, which is how a graph calls it."""

    def __sub__(self, other):
        return self + (-other)
