"""cs231n-style affine pair whose dw is averaged over the batch (the loss already averages).

    actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_affine_dw.py:affine_forward \
        --arg w=randn:6,5 --arg b=randn:5 --shape 4,2,3      # fails: dw is 1/N too small
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(n, -1).T.dot(dout) / n  # bug: averaged twice
    db = np.sum(dout, axis=0)
    return dx, dw, db
