"""Layers importing their helpers from the package, as the book's common/layers.py does.

actcheck gradcheck --impl examples/conventions/pkg/common/layers.py:Relu
actcheck gradcheck --impl examples/conventions/pkg/common/layers.py:Sigmoid
actcheck gradcheck --impl examples/conventions/pkg/common/layers.py:Affine --arg W=randn:20,10 --arg b=zeros:10 --shape 8,20
actcheck gradcheck --impl examples/conventions/pkg/common/layers.py:SoftmaxWithLoss --arg t=onehot:10 --shape 16,10
"""

import numpy as np
from common.functions import *


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


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


class SoftmaxWithLoss:
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
