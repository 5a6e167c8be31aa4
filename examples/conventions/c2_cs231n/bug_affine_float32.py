"""cs231n-style affine pair whose dx is computed in float32 (a leftover .astype from a speed-up).

    actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_affine_float32.py:affine_forward \
        --arg w=randn:6,5 --arg b=randn:5 --shape 4,6      # fails in float64: float32-sized errors in dx
"""

import numpy as np


def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    # bug: the product runs in float32, then is cast back; dx carries ~1e-7 relative error
    dx = dout.astype(np.float32).dot(w.T.astype(np.float32)).astype(x.dtype).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db
