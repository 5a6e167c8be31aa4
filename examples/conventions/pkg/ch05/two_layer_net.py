"""A chapter script that reaches the package with sys.path.append(os.pardir), as the book's do.

os.pardir is relative to the working directory: the book runs `cd ch05; python train_neuralnet.py`.

    actcheck gradcheck --impl examples/conventions/pkg/ch05/two_layer_net.py:TwoLayerNet \
        --arg input_size=20 --arg hidden_size=10 --arg output_size=5 --arg t=onehot:5 --shape 8,20
"""

import os
import sys

sys.path.append(os.pardir)
from collections import OrderedDict

import numpy as np
from common.layers import *


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }
        self.layers = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Sigmoid1"] = self.hidden_activation()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])
        self.lastLayer = SoftmaxWithLoss()

    def hidden_activation(self):
        return Sigmoid()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

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
