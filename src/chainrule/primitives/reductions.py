"""Reductions: sum, mean, max and min over axes (the Tensor methods), and the squared norm of a list of tensors."""
import numbers

from ..backend import xp
from ..tensor import Function
from .base import tensor_like


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    for ax in axes:
        if not -ndim <= ax < max(ndim, 1):
            raise ValueError(f"axis: expected an axis in [{-ndim}, {ndim}), got {ax}")
    return tuple(sorted(ax % ndim for ax in axes)) if ndim else ()


def _expand_reduced(g, axes, keepdims):
    """Give a reduced gradient back the reduced axes so it broadcasts to the input's shape."""
    if not keepdims and axes:
        g = xp.expand_dims(g, axes)
    return g


class Sum(Function):
    """z = sum(x, axis);  dx = g broadcast back over the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axes(axis, x.ndim)
        self.keepdims = keepdims
        return x.sum(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return xp.broadcast_to(_expand_reduced(g, self.axes, self.keepdims), self.shape)

    def jvp(self, t):
        return t.sum(axis=self.axes, keepdims=self.keepdims)


class Mean(Function):
    """z = mean(x, axis);  dx = g / n broadcast back, n the count averaged."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = _normalize_axes(axis, x.ndim)
        self.keepdims = keepdims
        self.count = 1
        for ax in self.axes:
            self.count *= x.shape[ax]
        return x.mean(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        g = _expand_reduced(g, self.axes, self.keepdims) / self.count
        return xp.broadcast_to(g, self.shape)

    def jvp(self, t):
        return t.mean(axis=self.axes, keepdims=self.keepdims)


class Max(Function):
    """z = max(x, axis);  dx = g at the maxima (shared equally among ties), 0 elsewhere."""

    reduce = staticmethod(xp.max)

    def forward(self, x, axis=None, keepdims=False):
        self.axes = _normalize_axes(axis, x.ndim)
        if x.size == 0:
            raise ValueError(f"{type(self).__name__.lower()}: cannot reduce an empty tensor of shape {x.shape}")
        out = self.reduce(x, axis=self.axes, keepdims=True)
        self.out_shape = out.shape if keepdims else tuple(n for i, n in enumerate(x.shape) if i not in self.axes)
        self.mask = x == out
        self.ties = self.mask.sum(axis=self.axes, keepdims=True)
        return out.reshape(self.out_shape)

    def backward(self, g):
        return self.mask * (g.reshape(self.ties.shape) / self.ties)

    def jvp(self, t):
        """dz = the mean of t over the tied maxima."""
        return ((self.mask * t).sum(axis=self.axes, keepdims=True) / self.ties).reshape(self.out_shape)


class Min(Max):
    """z = min(x, axis);  dx = g at the minima (shared equally among ties), 0 elsewhere."""

    reduce = staticmethod(xp.min)


class SquaredNorm(Function):
    """z = sum_i sum(x_i**2) over every input (the L2 penalty of a list of weights, one node);
    dx_i = 2 g x_i."""

    def forward(self, *xs):
        self.xs = xs
        total = 0.0
        for x in xs:
            flat = x.reshape(-1)
            total += flat.dot(flat)
        return xp.asarray(total, dtype=xs[0].dtype)

    def backward(self, g):
        scale = 2 * g
        return tuple(scale * x if need else None for x, need in zip(self.xs, self.needs_input_grad))

    def jvp(self, *ts):
        """dz = sum_i 2 sum(x_i * t_i)."""
        return xp.asarray(sum(2 * x.reshape(-1).dot(t.reshape(-1)) for x, t in zip(self.xs, ts)),
                          dtype=self.xs[0].dtype)


def squared_norm(*tensors):
    """sum of the squares of every entry of every tensor: ||x_1||^2 + ... + ||x_k||^2."""
    if not tensors:
        raise ValueError("squared_norm: expected at least one tensor, got none")
    return SquaredNorm.apply(*[tensor_like(t) for t in tensors])
