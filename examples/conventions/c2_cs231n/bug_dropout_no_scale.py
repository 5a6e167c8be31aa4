"""cs231n-style inverted dropout whose backward forgets the 1/p scale (the mask is kept as booleans).

    actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_dropout_no_scale.py:dropout_forward \
        --arg 'dropout_param={"mode": "train", "p": 0.5, "seed": 0}' --shape 8,10
"""

import numpy as np


def dropout_forward(x, dropout_param):
    p, mode = dropout_param["p"], dropout_param["mode"]
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    keep = None
    if mode == "train":
        keep = np.random.rand(*x.shape) < p
        out = x * keep / p
    else:
        out = x
    return out, (dropout_param, keep)


def dropout_backward(dout, cache):
    dropout_param, keep = cache
    if dropout_param["mode"] == "train":
        return dout * keep  # bug: forward scaled by 1/p, backward must too
    return dout
