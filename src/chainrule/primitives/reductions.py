"""Reductions: sum, mean, max and min over axes (the Tensor methods), prod, logsumexp,
the running sum cumsum, and the squared norm of a list of tensors."""
from ..backend import xp
from ..tensor import Function
from .base import normalize_axes, tensor_like


def _expand_reduced(g, axes, keepdims):
    """Give a reduced gradient back the reduced axes so it broadcasts to the input's shape."""
    if not keepdims and axes:
        g = xp.expand_dims(g, axes)
    return g


class Sum(Function):
    """z = sum(x, axis);  dx = g broadcast back over the summed axes."""

    def forward(self, x, axis=None, keepdims=False):
        self.shape = x.shape
        self.axes = normalize_axes(axis, x.ndim)
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
        self.axes = normalize_axes(axis, x.ndim)
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
        self.axes = normalize_axes(axis, x.ndim)
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


class Prod(Function):
    """z = prod(x, axis);  dx_i = g * (the product of the other elements reduced with x_i),
    computed from running products on both sides, so a zero in x gives no division by zero."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes(axis, x.ndim)
        self.keepdims = keepdims
        kept = tuple(i for i in range(x.ndim) if i not in self.axes)
        order = kept + self.axes
        rows = x.transpose(order).reshape([x.shape[i] for i in kept] + [-1])
        before = xp.cumprod(xp.concatenate([xp.ones_like(rows[..., :1]), rows[..., :-1]], axis=-1), axis=-1)
        after = xp.cumprod(xp.concatenate([xp.ones_like(rows[..., :1]), rows[..., :0:-1]], axis=-1), axis=-1)
        others = before * after[..., ::-1]
        self.others = others.reshape([x.shape[i] for i in order]).transpose(xp.argsort(order))
        return x.prod(axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return _expand_reduced(g, self.axes, self.keepdims) * self.others

    def jvp(self, t):
        return (self.others * t).sum(axis=self.axes, keepdims=self.keepdims)


class LogSumExp(Function):
    """z = log(sum(exp(x), axis)), computed as m + log(sum(exp(x - m))) with m the max;
    dx = g * exp(x - z) (g times the softmax of x over the axes)."""

    def forward(self, x, axis=None, keepdims=False):
        self.axes = normalize_axes(axis, x.ndim)
        self.keepdims = keepdims
        peak = x.max(axis=self.axes, keepdims=True) if x.size else xp.zeros((1,) * x.ndim, dtype=x.dtype)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        out = peak + xp.log(xp.exp(x - peak).sum(axis=self.axes, keepdims=True))
        with xp.errstate(invalid="ignore"):
            self.softmax = xp.exp(x - out)
        return out if keepdims else out.reshape([n for i, n in enumerate(x.shape) if i not in self.axes])

    def backward(self, g):
        return _expand_reduced(g, self.axes, self.keepdims) * self.softmax

    def jvp(self, t):
        return (self.softmax * t).sum(axis=self.axes, keepdims=self.keepdims)


class CumSum(Function):
    """z_i = sum_{j <= i} x_j along axis;  dx_i = sum_{j >= i} g_j (the running sum of g from the end)."""

    def forward(self, x, axis=0):
        self.axis = axis
        return xp.cumsum(x, axis=axis)

    def backward(self, g):
        return xp.flip(xp.cumsum(xp.flip(g, self.axis), axis=self.axis), self.axis)

    def jvp(self, t):
        return xp.cumsum(t, axis=self.axis)


def prod(x, axis=None, keepdims=False):
    return Prod.apply(tensor_like(x), axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return LogSumExp.apply(tensor_like(x), axis=axis, keepdims=keepdims)


def cumsum(x, axis=None):
    """Running sum along ``axis``; over the flattened tensor when ``axis`` is None (as NumPy)."""
    x = tensor_like(x)
    if axis is None:
        return CumSum.apply(x.reshape(-1), axis=0)
    normalize_axes(axis, x.ndim)
    return CumSum.apply(x, axis=axis)


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
