"""Two more ways tutorials write layers (see docs/user-code.md).

1. A backward that takes the learning rate and applies the update itself:
   actcheck calls it with a rate of 0, then reads the gradients off an update made
   with a rate of 1 and undoes it.
2. One function for f and, behind a switch, its derivative.
"""

import numpy as np


class Dense:
    """Column vectors: x has shape (input_size, 1)."""

    def __init__(self, input_size=4, output_size=3):
        self.weights = np.random.randn(output_size, input_size)
        self.bias = np.random.randn(output_size, 1)

    def forward(self, input):
        self.input = input
        return self.weights @ input + self.bias

    def backward(self, output_gradient, learning_rate):
        weights_gradient = output_gradient @ self.input.T
        input_gradient = self.weights.T @ output_gradient
        self.weights -= learning_rate * weights_gradient
        self.bias -= learning_rate * output_gradient
        return input_gradient


class DenseLateGradient(Dense):
    """Bug: the input gradient is computed after the update, with the new weights."""

    def backward(self, output_gradient, learning_rate):
        self.weights -= learning_rate * (output_gradient @ self.input.T)
        self.bias -= learning_rate * output_gradient
        return self.weights.T @ output_gradient


def tanh(x, derivative=False):
    t = np.tanh(x)
    return 1 - t**2 if derivative else t


def nonlin(x, deriv=False):
    """The derivative is written in the output: nonlin(l1, deriv=True) with l1 = nonlin(...)."""
    if deriv:
        return x * (1 - x)
    return 1 / (1 + np.exp(-x))
