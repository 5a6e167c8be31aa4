"""The wrong verdicts issue 10 saw on real code, each as a small example.

actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:Identity           # passes (x cached, returned)
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:Flatten --shape 4,3,5,5
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:SELU --order 2     # grad jumps at 0: not a failure
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:HardSigmoid --order 2
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:SoftPlusNaive --range -1000 1000   # overflow
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:Chatty --json     # stdout holds JSON only
actcheck gradcheck --impl examples/conventions/wrong_verdicts.py:AffineProperties --arg W=randn:8,4 --arg b=randn:4 --shape 16,8
"""

from abc import ABC, abstractmethod

import numpy as np

print("wrong_verdicts.py: loading my layers")  # module-level output, as tutorials' files often have


class Layer(ABC):
    """An abstract base: --impl at it should say what was found and what to add."""

    @abstractmethod
    def forward(self, x): ...

    @abstractmethod
    def backward(self, dout): ...


class Identity(Layer):
    def forward(self, x):
        self.x = x  # a cached input, not a parameter
        return x

    def backward(self, dout):
        return dout


class Flatten:
    def forward(self, x):
        self.x = x
        self.original_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dout):
        return dout.reshape(self.original_shape)


class SELU:
    """numpy-ml style fn / grad / grad2. grad jumps at 0 (scale vs scale*alpha), so grad2 has no value there."""

    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def __call__(self, z):
        return self.fn(z)

    def fn(self, z):
        return self.scale * np.where(z > 0, z, self.alpha * (np.exp(z) - 1))

    def grad(self, x):
        return np.where(x > 0, self.scale, self.scale * self.alpha * np.exp(x))

    def grad2(self, x):
        return np.where(x > 0, 0.0, self.scale * self.alpha * np.exp(x))


class HardSigmoid:
    """PyTorch's definition x/6 + 1/2 clipped to [0, 1]; grad jumps at +-3, grad2 is 0 elsewhere."""

    def __call__(self, z):
        return self.fn(z)

    def fn(self, z):
        return np.clip(z / 6 + 0.5, 0.0, 1.0)

    def grad(self, x):
        return np.where((x > -3) & (x < 3), 1 / 6, 0.0)

    def grad2(self, x):
        return np.zeros_like(x)


class SoftPlusNaive:
    """log(1 + e^x) written directly: e^x overflows at x >= 710 in float64, at about 89 in float32."""

    def fn(self, z):
        return np.log(np.exp(z) + 1)

    def grad(self, x):
        exp_x = np.exp(x)
        return exp_x / (exp_x + 1)  # inf / inf = nan in the tail


class SoftPlusStable:
    def fn(self, z):
        return np.logaddexp(0, z)

    def grad(self, x):
        return 0.5 * (1 + np.tanh(0.5 * x))  # sigmoid, no overflow


class Exp:
    """Correct; the absolute error of a derivative near e^700 is huge, the relative one is 1e-16."""

    def forward(self, x):
        self.out = np.exp(x)
        return self.out

    def backward(self, dout):
        return dout * self.out


class Swish:
    """Smooth everywhere: no kink may be reported."""

    def forward(self, x):
        self.x = x
        self.s = 0.5 * (1 + np.tanh(0.5 * x))
        return x * self.s

    def backward(self, dout):
        return dout * self.s * (1 + self.x * (1 - self.s))


class Chatty:
    """Correct, but prints from forward and backward: the report (and --json's stdout) must stay clean."""

    def forward(self, x):
        print("forward: x.shape =", x.shape)
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        print("backward: dout.mean() =", dout.mean())
        return dout * (1 - self.out**2)


class AffineProperties:
    """Parameters exposed as properties over a dict, Keras/autograd-library style."""

    def __init__(self, W, b):
        self._params = {"W": W, "b": b}
        self._grads = {}

    @property
    def W(self):
        return self._params["W"]

    @property
    def b(self):
        return self._params["b"]

    @property
    def dW(self):
        return self._grads["W"]

    @property
    def db(self):
        return self._grads["b"]

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self._grads["W"] = self.x.T @ dout
        self._grads["b"] = dout.sum(axis=0)
        return dout @ self.W.T


class AffinePropertiesWrongDW(AffineProperties):
    def backward(self, dout):
        dx = super().backward(dout)
        self._grads["W"] = self.x.T @ np.abs(dout)  # bug: abs() left over from debugging
        return dx


class SigmoidIgnoresDout:
    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return self.out * (1 - self.out)  # bug: the local derivative, never multiplied by dout


class TanhHalfFloat32:
    def forward(self, x):
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout):
        out32 = self.out.astype(np.float32)  # bug: part of the computation runs in float32
        return dout * (1 - out32 * out32).astype(dout.dtype)
