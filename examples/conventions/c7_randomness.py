"""Convention 7: layers that draw from np.random in forward (the mask or noise must be held fixed).

actcheck gradcheck --impl examples/conventions/c7_randomness.py:Dropout --arg p=0.3 --shape 16,8
actcheck gradcheck --impl examples/conventions/c7_randomness.py:DropoutNewMaskInBackward --arg p=0.3 --shape 16,8
actcheck gradcheck --impl examples/conventions/c7_randomness.py:RReLU --shape 16,8
actcheck gradcheck --impl examples/conventions/c7_randomness.py:GaussianNoise --arg stddev=0.1 --shape 16,8
"""

import numpy as np


class Dropout:
    """ML-From-Scratch style: forward_pass(X, training=True) / backward_pass(accum_grad)."""

    def __init__(self, p=0.2):
        self.p = p
        self._mask = None

    def forward_pass(self, X, training=True):
        c = 1 - self.p
        if training:
            self._mask = np.random.uniform(size=X.shape) > self.p
            c = self._mask
        return X * c

    def backward_pass(self, accum_grad):
        return accum_grad * self._mask


class DropoutNewMaskInBackward(Dropout):
    def backward_pass(self, accum_grad):
        mask = np.random.uniform(size=accum_grad.shape) > self.p  # bug: a fresh mask, not forward's
        return accum_grad * mask


class RReLU:
    """Randomized leaky ReLU: in training each negative input gets a slope drawn from U(lower, upper)."""

    def __init__(self, lower=1 / 8, upper=1 / 3):
        self.lower = lower
        self.upper = upper

    def forward(self, x, train_flg=True):
        if train_flg:
            self.slope = np.random.uniform(self.lower, self.upper, size=x.shape)
        else:
            self.slope = np.full(x.shape, (self.lower + self.upper) / 2)
        self.x = x
        return np.where(x >= 0, x, self.slope * x)

    def backward(self, dout):
        return dout * np.where(self.x >= 0, 1.0, self.slope)


class RReLUMeanSlopeInBackward(RReLU):
    def backward(self, dout):
        mean_slope = (self.lower + self.upper) / 2  # bug: the test-time slope, not the drawn ones
        return dout * np.where(self.x >= 0, 1.0, mean_slope)


class GaussianNoise:
    """Additive noise in training: y = x + N(0, stddev^2); dy/dx = 1."""

    def __init__(self, stddev):
        self.stddev = stddev

    def forward(self, x):
        return x + np.random.normal(0.0, self.stddev, size=x.shape)

    def backward(self, dout):
        return dout
