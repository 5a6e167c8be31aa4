"""Buggy twins of common/layers.py, importing the same package helpers.

actcheck gradcheck --impl examples/conventions/pkg/common/buggy_layers.py:Sigmoid          # misses a factor y
actcheck gradcheck --impl examples/conventions/pkg/common/buggy_layers.py:Affine --arg W=randn:20,10 --arg b=zeros:10 --shape 8,20
"""

import numpy as np
from common.functions import *
from common.layers import Affine as _Affine


class Sigmoid:
    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out)  # bug: dy/dx = y(1 - y)


class Affine(_Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = np.sum(dout, axis=1)  # bug: sums over the classes, not the batch
        return dx
