"""Convention 5: method names other than forward/backward.

numpy-ml style: fn(z) / grad(x) / grad2(x) (grad checked against fn, grad2 against grad);
ML-From-Scratch style: __call__(x) / gradient(x) and layers with forward_pass / backward_pass;
Class.method and instance.method names.

    actcheck gradcheck --impl examples/conventions/c5_method_names.py:Sigmoid
    actcheck gradcheck --impl examples/conventions/c5_method_names.py:Sigmoid --order 2
    actcheck gradcheck --impl examples/conventions/c5_method_names.py:LeakyReLU --arg alpha=0.1
    actcheck gradcheck --impl examples/conventions/c5_method_names.py:Dense --arg n_units=5 --arg 'input_shape=[8]' --shape 16,8
    actcheck gradcheck --impl examples/conventions/c5_method_names.py:Activations.sigmoid \
        --derivative examples/conventions/c5_method_names.py:Activations.sigmoid_prime
    actcheck gradcheck --impl examples/conventions/c5_method_names.py:act.tanh \
        --derivative examples/conventions/c5_method_names.py:act.tanh_prime
"""

import numpy as np

# ---- numpy-ml style: fn / grad / grad2 -------------------------------------------------------


class ActivationBase:
    def __call__(self, z):
        if z.ndim == 1:
            z = z.reshape(1, -1)
        return self.fn(z)


class Sigmoid(ActivationBase):
    def fn(self, z):
        return 1 / (1 + np.exp(-z))

    def grad(self, x):
        s = self.fn(x)
        return s * (1 - s)

    def grad2(self, x):
        s = self.fn(x)
        return s * (1 - s) * (1 - 2 * s)


class Tanh(ActivationBase):
    def fn(self, z):
        return np.tanh(z)

    def grad(self, x):
        return 1 - np.tanh(x) ** 2

    def grad2(self, x):
        t = np.tanh(x)
        return -2 * t * (1 - t**2)


class ELU(ActivationBase):
    def __init__(self, alpha=1.0):
        self.alpha = alpha

    def fn(self, z):
        return np.where(z > 0, z, self.alpha * (np.exp(z) - 1))

    def grad(self, x):
        return np.where(x > 0, np.ones_like(x), self.alpha * np.exp(x))

    def grad2(self, x):
        return np.where(x > 0, np.zeros_like(x), self.alpha * np.exp(x))


class SigmoidWrongGrad2(Sigmoid):
    def grad2(self, x):
        s = self.fn(x)
        return s * (1 - s) * (1 - s)  # bug: d/dx of s(1-s) is s(1-s)(1-2s)


class TanhWrongGrad(Tanh):
    def grad(self, x):
        return 1 - np.tanh(x)  # bug: the square is missing


# ---- ML-From-Scratch style: __call__ / gradient, forward_pass / backward_pass -----------------


class MLFSSigmoid:
    def __call__(self, x):
        return 1 / (1 + np.exp(-x))

    def gradient(self, x):
        return self.__call__(x) * (1 - self.__call__(x))


class LeakyReLU:
    def __init__(self, alpha=0.2):
        self.alpha = alpha

    def __call__(self, x):
        return np.where(x >= 0, x, self.alpha * x)

    def gradient(self, x):
        return np.where(x >= 0, 1, self.alpha)


class SoftPlusWrongSign:
    def __call__(self, x):
        return np.logaddexp(0, x)

    def gradient(self, x):
        return 1 / (1 + np.exp(x))  # bug: that is sigmoid(-x); the derivative is sigmoid(x)


class Dense:
    """A fully connected layer; forward_pass(X, training=True), backward_pass(accum_grad) -> dX.

    The weight gradients are kept (grad_W, grad_w0) for an optimizer to apply after backward.
    """

    def __init__(self, n_units, input_shape):
        self.n_units = n_units
        self.input_shape = tuple(input_shape)
        limit = 1 / np.sqrt(self.input_shape[0])
        self.W = np.random.uniform(-limit, limit, (self.input_shape[0], n_units))
        self.w0 = np.zeros((1, n_units))
        self.layer_input = None

    def forward_pass(self, X, training=True):
        self.layer_input = X
        return X.dot(self.W) + self.w0

    def backward_pass(self, accum_grad):
        self.grad_W = self.layer_input.T.dot(accum_grad)
        self.grad_w0 = np.sum(accum_grad, axis=0, keepdims=True)
        return accum_grad.dot(self.W.T)


class DenseStepInBackward(Dense):
    """An SGD step taken inside backward_pass, and dX computed with the already-updated W."""

    learning_rate = 0.01

    def backward_pass(self, accum_grad):
        self.grad_W = self.layer_input.T.dot(accum_grad)
        self.grad_w0 = np.sum(accum_grad, axis=0, keepdims=True)
        self.W = self.W - self.learning_rate * self.grad_W  # bug: parameters change during backward
        self.w0 = self.w0 - self.learning_rate * self.grad_w0
        return accum_grad.dot(self.W.T)


# ---- Class.method and instance.method ---------------------------------------------------------


class Activations:
    @staticmethod
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def sigmoid_prime(x):
        s = 1 / (1 + np.exp(-x))
        return s * (1 - s)

    @staticmethod
    def swish(x):
        return x / (1 + np.exp(-x))

    @staticmethod
    def swish_prime(x):
        s = 1 / (1 + np.exp(-x))
        return s * (1 + x * (1 - s))

    @staticmethod
    def swish_prime_wrong(x):
        s = 1 / (1 + np.exp(-x))
        return s + x * s * s  # bug: sigma'(x) = s(1 - s), not s^2

    def tanh(self, x):
        return np.tanh(x)

    def tanh_prime(self, x):
        return 1.0 - np.tanh(x) ** 2


act = Activations()
