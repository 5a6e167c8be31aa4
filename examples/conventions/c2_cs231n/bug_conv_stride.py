"""Naive cs231n-style convolution whose backward forgets the stride (right only for stride 1).

    actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_conv_stride.py:conv_forward_naive \
        --arg w=randn:4,3,3,3 --arg b=randn:4 --arg 'conv_param={"stride": 2, "pad": 1}' --shape 2,3,7,7
"""

import numpy as np


def conv_forward_naive(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    n, c, h, wd = x.shape
    f, _, hh, ww = w.shape
    h_out = 1 + (h + 2 * pad - hh) // stride
    w_out = 1 + (wd + 2 * pad - ww) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, f, h_out, w_out), dtype=x.dtype)
    for i in range(h_out):
        for j in range(w_out):
            window = x_pad[:, :, i * stride : i * stride + hh, j * stride : j * stride + ww]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, conv_param)


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    pad = conv_param["pad"]
    _, _, h, wd = x.shape
    _, _, hh, ww = w.shape
    _, _, h_out, w_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    db = dout.sum(axis=(0, 2, 3))
    for i in range(h_out):
        for j in range(w_out):
            hs, ws = i, j  # bug: should be i * stride, j * stride
            window = x_pad[:, :, hs : hs + hh, ws : ws + ww]
            dw += np.tensordot(dout[:, :, i, j], window, axes=([0], [0]))
            dx_pad[:, :, hs : hs + hh, ws : ws + ww] += np.tensordot(
                dout[:, :, i, j], w, axes=([1], [0])
            )
    return dx_pad[:, :, pad : pad + h, pad : pad + wd], dw, db
