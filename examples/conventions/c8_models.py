"""Convention 8: whole models.

"Deep Learning from Scratch" style: TwoLayerNet(input_size, hidden_size, output_size) with params,
loss(x, t), gradient(x, t) and its layers in self.layers (an OrderedDict) plus self.lastLayer.
cs231n style: TwoLayerNetCS(input_dim, hidden_dim, num_classes, weight_scale, reg) whose loss(X, y)
returns (loss, grads).

    actcheck gradcheck --impl examples/conventions/c8_models.py:TwoLayerNet \
        --arg input_size=20 --arg hidden_size=10 --arg output_size=5 --arg t=onehot:5 --shape 8,20
    actcheck gradcheck --impl examples/conventions/c8_models.py:TwoLayerNetBuggyAffine2 \
        --arg input_size=20 --arg hidden_size=10 --arg output_size=5 --arg t=onehot:5 --shape 8,20
        # -> Affine2: dW wrong (1/N too small), the other layers pass
    actcheck gradcheck --impl examples/conventions/c8_models.py:TwoLayerNetCS \
        --arg input_dim=20 --arg hidden_dim=10 --arg num_classes=5 --arg reg=0.1 --arg y=labels:5 --shape 8,20
"""

from collections import OrderedDict

import numpy as np


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b

    def forward(self, x):
        self.x = x
        return np.dot(x, self.W) + self.b

    def backward(self, dout):
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return np.dot(dout, self.W.T)


class AffineMeanGradients(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        n = self.x.shape[0]
        self.dW = self.dW / n  # bug: SoftmaxWithLoss already divided by N
        return dx


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, t)

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:
            return (self.y - self.t) / batch_size
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


class TwoLayerNet:
    affine2_class = Affine

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        # the layers share the arrays in self.params: perturbing params["W1"] moves Affine1
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = self.affine2_class(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        if t.ndim != 1:
            t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        return {
            "W1": self.layers["Affine1"].dW,
            "b1": self.layers["Affine1"].db,
            "W2": self.layers["Affine2"].dW,
            "b2": self.layers["Affine2"].db,
        }


class TwoLayerNetBuggyAffine2(TwoLayerNet):
    affine2_class = AffineMeanGradients


class TwoLayerNetCS:
    """cs231n style: affine - relu - affine - softmax, L2 regularisation 0.5 * reg * sum(W^2)."""

    def __init__(
        self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0
    ):
        self.reg = reg
        self.params = {
            "W1": weight_scale * np.random.randn(input_dim, hidden_dim),
            "b1": np.zeros(hidden_dim),
            "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
            "b2": np.zeros(num_classes),
        }

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        n = X.shape[0]
        hidden_in = X.reshape(n, -1).dot(W1) + b1
        hidden = np.maximum(0, hidden_in)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(n), y].mean() + self.reg_loss(W1, W2)
        dscores = np.exp(log_probs)
        dscores[np.arange(n), y] -= 1
        dscores /= n
        grads = {"W2": hidden.T.dot(dscores) + self.reg * W2, "b2": dscores.sum(axis=0)}
        dhidden = dscores.dot(W2.T)
        grads.update(self.hidden_grads(X.reshape(n, -1), hidden_in, dhidden, W1))
        return loss, grads

    def reg_loss(self, W1, W2):
        return 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

    def hidden_grads(self, X, hidden_in, dhidden, W1):
        dhidden_in = dhidden * (hidden_in > 0)
        return {"W1": X.T.dot(dhidden_in) + self.reg * W1, "b1": dhidden_in.sum(axis=0)}


class TwoLayerNetCSRegFactor(TwoLayerNetCS):
    def reg_loss(self, W1, W2):
        return self.reg * (
            np.sum(W1 * W1) + np.sum(W2 * W2)
        )  # bug: the 0.5 is gone, grads still reg*W


class TwoLayerNetCSBiasBeforeMask(TwoLayerNetCS):
    def hidden_grads(self, X, hidden_in, dhidden, W1):
        grads = super().hidden_grads(X, hidden_in, dhidden, W1)
        grads["b1"] = dhidden.sum(axis=0)  # bug: the ReLU mask is applied after summing, not before
        return grads
