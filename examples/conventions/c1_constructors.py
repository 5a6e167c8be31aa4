"""Convention 1: layers whose constructor takes arguments ("Deep Learning from Scratch" style).

The weights come from the command line, as a student would build the layer by hand:

    actcheck gradcheck --impl examples/conventions/c1_constructors.py:Affine \
        --arg W=randn:20,10 --arg b=zeros:10 --shape 8,20               # passes
    actcheck gradcheck --impl examples/conventions/c1_constructors.py:AffineMeanBias \
        --arg W=randn:20,10 --arg b=zeros:10 --shape 8,20               # db has a 1/N too many

Written for actcheck's test material; the shapes and names follow the book's common/layers.py.
"""

import numpy as np


def im2col(images, filter_h, filter_w, stride=1, pad=0):
    """(N, C, H, W) -> (N*out_h*out_w, C*filter_h*filter_w): one row per filter position."""
    n, c, h, w = images.shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    padded = np.pad(images, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    cols = np.zeros((n, c, filter_h, filter_w, out_h, out_w), dtype=images.dtype)
    for dy in range(filter_h):
        for dx in range(filter_w):
            cols[:, :, dy, dx] = padded[
                :, :, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride
            ]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * out_h * out_w, -1)


def col2im(cols, input_shape, filter_h, filter_w, stride=1, pad=0):
    """The adjoint of im2col: overlapping windows add up."""
    n, c, h, w = input_shape
    out_h = (h + 2 * pad - filter_h) // stride + 1
    out_w = (w + 2 * pad - filter_w) // stride + 1
    cols = cols.reshape(n, out_h, out_w, c, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    padded = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=cols.dtype)
    for dy in range(filter_h):
        for dx in range(filter_w):
            padded[:, :, dy : dy + stride * out_h : stride, dx : dx + stride * out_w : stride] += (
                cols[:, :, dy, dx]
            )
    return padded[:, :, pad : h + pad, pad : w + pad]


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class AffineMeanBias(Affine):
    def backward(self, dout):
        dx = super().backward(dout)
        self.db = np.mean(dout, axis=0)  # bug: the bias is shared by the batch, its gradient sums
        return dx


class AffineWeightDecay(Affine):
    """The L2 penalty lambda*||W||^2 belongs to the loss; this layer adds its gradient in backward."""

    def __init__(self, W, b, weight_decay_lambda):
        super().__init__(W, b)
        self.weight_decay_lambda = weight_decay_lambda

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW + 2 * self.weight_decay_lambda * self.W  # bug: not part of forward
        return dx


class BatchNormalization:
    """forward(x, train_flg=True) normalises over the batch; running statistics for inference."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.running_mean = running_mean
        self.running_var = running_var
        self.eps = 1e-7

    def forward(self, x, train_flg=True):
        if self.running_mean is None:
            self.running_mean = np.zeros(x.shape[1], dtype=x.dtype)
            self.running_var = np.zeros(x.shape[1], dtype=x.dtype)
        if not train_flg:
            xn = (x - self.running_mean) / np.sqrt(self.running_var + self.eps)
            return self.gamma * xn + self.beta
        mu = x.mean(axis=0)
        self.xc = x - mu
        var = np.mean(self.xc**2, axis=0)
        self.std = np.sqrt(var + self.eps)
        self.xn = self.xc / self.std
        self.batch_size = x.shape[0]
        self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
        self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        return self.gamma * self.xn + self.beta

    def backward(self, dout):
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum(dxn * self.xc / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc = dxc + (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        return dxc - dmu / self.batch_size


class BatchNormalizationNoVariancePath(BatchNormalization):
    def backward(self, dout):
        self.dbeta = dout.sum(axis=0)
        self.dgamma = np.sum(self.xn * dout, axis=0)
        dxc = self.gamma * dout / self.std  # bug: treats std as a constant (no dvar term)
        return dxc - np.sum(dxc, axis=0) / self.batch_size


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W = W
        self.b = b
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        out_h = (h + 2 * self.pad - fh) // self.stride + 1
        out_w = (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = np.dot(self.col, self.col_W) + self.b
        return out.reshape(n, out_h, out_w, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class ConvolutionNoTranspose(Convolution):
    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dx = super().backward(dout)
        flat = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.dW = np.dot(self.col.T, flat).reshape(
            fn, c, fh, fw
        )  # bug: (C*FH*FW, FN) not transposed
        return dx


class Pooling:
    """Max pooling over pool_h x pool_w windows."""

    def __init__(self, pool_h, pool_w, stride=2, pad=0):
        self.pool_h = pool_h
        self.pool_w = pool_w
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        n, c, h, w = x.shape
        out_h = (h + 2 * self.pad - self.pool_h) // self.stride + 1
        out_w = (w + 2 * self.pad - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x = x
        self.arg_max = np.argmax(col, axis=1)
        out = np.max(col, axis=1)
        return out.reshape(n, out_h, out_w, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, pool_size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max] = dout.ravel()
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class PoolingAverageBackward(Pooling):
    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        pool_size = self.pool_h * self.pool_w
        # bug: spreads dout over the window as average pooling would; max pooling routes it to the max
        dmax = np.repeat(dout.reshape(-1, 1) / pool_size, pool_size, axis=1)
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)
