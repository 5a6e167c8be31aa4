"""cs231n-style loss functions -> (loss, dx), each with a classic bug.

actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_losses.py:softmax_loss --arg y=labels:10 --shape 16,10
actcheck gradcheck --impl examples/conventions/c2_cs231n/bug_losses.py:svm_loss --arg y=labels:10 --shape 16,10
"""

import numpy as np


def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= np.sum(probs, axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(n), y])) / n
    dx = probs.copy()
    dx[np.arange(n), y] -= 1  # bug: the loss is a mean, dx is never divided by N
    return loss, dx


def svm_loss(x, y):
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1.0)
    margins[rows, y] = 0
    loss = np.sum(margins) / n
    dx = (margins > 0).astype(x.dtype)
    dx[rows, y] -= 1  # bug: the correct class loses 1 per positive margin, not 1 in all
    dx /= n
    return loss, dx
