"""Custom PyTorch activations as public code writes them, for tests/test_userimpl_torch.py
(imported only where torch is installed)."""

import torch


class MishSavedGrad(torch.autograd.Function):
    """Mish with its derivative computed in forward and saved on ctx; backward multiplies
    the saved tensor in place, so a second backward over the graph is wrong."""

    @staticmethod
    def forward(ctx, x):
        sp = torch.nn.functional.softplus(x)
        tsp = torch.tanh(sp)
        ctx.grad = tsp + x * torch.sigmoid(x) * (1 - tsp * tsp)
        return x * tsp

    @staticmethod
    def backward(ctx, grad_output):
        grad = ctx.grad
        grad *= grad_output  # bug: changes what forward saved
        return grad


class MishClean(MishSavedGrad):
    @staticmethod
    def backward(ctx, grad_output):
        return ctx.grad * grad_output


class SnakeFunction(torch.autograd.Function):
    """x + sin²(a·x)/a with a per-feature a given to apply (Snake, Ziyin et al. 2020)."""

    @staticmethod
    def forward(ctx, x, a):
        ctx.save_for_backward(x, a)
        return x + torch.sin(a * x) ** 2 / a

    @staticmethod
    def backward(ctx, grad_output):
        x, a = ctx.saved_tensors
        return grad_output * (1 + torch.sin(2 * a * x)), None


class InplaceReLU(torch.nn.Module):
    def forward(self, x):
        return torch.relu_(x)


class Snake(torch.nn.Module):
    """Snake as a module whose forward takes the per-feature a: forward(x, a)."""

    def forward(self, x, a):
        return SnakeFunction.apply(x, a)


class RandomSlope(torch.nn.Module):
    """A parameter drawn from torch's global generator when the layer is made: the check
    must draw the same one every run."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.rand(32) + 0.5)

    def forward(self, x):
        return torch.where(x > 0, x, self.a * x)
