"""Convention 3 (flags) and 7 (randomness): layers whose forward takes a training flag.

    actcheck gradcheck --impl examples/conventions/c3_flags.py:Dropout --shape 8,10            # passes
    actcheck gradcheck --impl examples/conventions/c3_flags.py:Dropout --arg dropout_ratio=0.3 --arg train_flg=true
    actcheck gradcheck --impl examples/conventions/c3_flags.py:InvertedDropout --arg p=0.2 --arg training=true
    actcheck gradcheck --impl examples/conventions/c3_flags.py:InvertedDropoutNoScale --arg p=0.2 --arg training=true

The masks come from np.random in forward: checked with the mask held fixed, these are plain linear maps.
"""

import numpy as np


class Dropout:
    """ "Deep Learning from Scratch" style: forward(x, train_flg=True); test time scales instead."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class DropoutUnmasked(Dropout):
    def backward(self, dout):
        return dout  # bug: the dropped units got no gradient in forward's output, they must get none back


class InvertedDropout:
    """forward(inputs, training) with the flag positional and required, Keras-call style."""

    def __init__(self, p):
        self.p = p  # probability of dropping a unit

    def forward(self, inputs, training):
        if not training:
            self.scale = np.ones_like(inputs)
            return inputs
        keep = np.random.uniform(size=inputs.shape) >= self.p
        self.scale = keep / (1.0 - self.p)
        return inputs * self.scale

    def backward(self, dout):
        return dout * self.scale


class InvertedDropoutNoScale(InvertedDropout):
    def backward(self, dout):
        return dout * (self.scale > 0)  # bug: forgets the 1/(1-p) applied in forward
