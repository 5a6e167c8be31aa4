"""cs231n-style batchnorm whose backward swaps dgamma and dbeta.

    actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_batchnorm_swapped.py:batchnorm_forward \
        --arg gamma=randn:10 --arg beta=randn:10 --arg 'bn_param={"mode": "train"}' --shape 8,10
"""

import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    std = np.sqrt(x.var(axis=0) + eps)
    x_hat = (x - mu) / std
    return gamma * x_hat + beta, (x_hat, gamma, std)


def batchnorm_backward(dout, cache):
    x_hat, gamma, std = cache
    n = dout.shape[0]
    dgamma = dout.sum(axis=0)  # bug: this is dbeta
    dbeta = np.sum(dout * x_hat, axis=0)  # bug: this is dgamma
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * np.sum(dx_hat * x_hat, axis=0)) / (n * std)
    return dx, dgamma, dbeta
