"""Primitive ops: each forward beside its backward (vector-Jacobian product)
and its jvp (Jacobian-vector product, forward mode).

Notation: ``g`` is dL/d(output); each backward returns dL/d(input) per input.
``t``, ``ta``, ``tb`` are the inputs' tangents; each jvp returns the output's tangent.
Binary ops broadcast as NumPy does, and backward sums the gradient back to
each input's shape (:func:`unbroadcast`).
"""
import functools
import math
import numbers

from .backend import xp, ndarray
from .tensor import Function, Tensor, as_array


_PYTHON_SCALARS = (float, int, bool)


def tensor_like(value, like=None):
    """Wrap a constant as a Tensor; a Python scalar takes ``like``'s float dtype
    (``like`` a Tensor or an array), other data as :func:`as_array` converts it."""
    if isinstance(value, Tensor):
        return value
    if type(value) in _PYTHON_SCALARS:
        dtype = getattr(like, "dtype", None)
        if dtype is not None and dtype.kind == "f":
            return Tensor._result(xp.asarray(value, dtype=dtype), None)
    return Tensor._result(as_array(value), None)


def unbroadcast(grad, shape):
    """Sum ``grad`` over the axes that broadcasting added or stretched, to ``shape``."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    size = math.prod(shape)
    if grad.shape[extra:] == shape and size:  # only leading axes were added: sum the rows of (rows, size)
        return sum_rows(grad.reshape(-1, size)).reshape(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    return grad.sum(axis=axes).reshape(shape)


def sum_rows(matrix):
    """matrix.sum(axis=0) for a 2-D matrix, computed as ones @ matrix: one BLAS
    call, 3 to 5 times faster than NumPy's reduction on small arrays."""
    return _ones(matrix.shape[0], matrix.dtype).dot(matrix)


@functools.lru_cache(maxsize=64)
def _ones(n, dtype):
    ones = xp.ones(n, dtype=dtype)
    ones.flags.writeable = False
    return ones


class SymmetricJacobian(Function):
    """A one-input op whose Jacobian J is symmetric, as every elementwise op's
    (diagonal) is: then J t = J^T t, and jvp is backward applied to the tangent."""

    def jvp(self, t):
        return self.backward(t)


# ----- elementwise arithmetic ------------------------------------------------
class Add(Function):
    """z = a + b;  da = g,  db = g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if need_a else None,
                unbroadcast(g, self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return ta + tb


class Sub(Function):
    """z = a - b;  da = g,  db = -g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if need_a else None,
                -unbroadcast(g, self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return ta - tb


class Mul(Function):
    """z = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * self.b, self.a.shape) if need_a else None,
                unbroadcast(g * self.a, self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return ta * self.b + self.a * tb


class Div(Function):
    """z = a / b;  da = g / b,  db = -g * a / b**2."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        grad_a = g / self.b
        return (unbroadcast(grad_a, self.a.shape) if need_a else None,
                unbroadcast(-grad_a * self.a / self.b, self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return (ta - self.a / self.b * tb) / self.b


class PowScalar(SymmetricJacobian):
    """z = x ** p for a constant p;  dx = g * p * x**(p-1)."""

    def forward(self, x, exponent):
        self.x, self.exponent = x, exponent
        return x ** exponent

    def backward(self, g):
        p = self.exponent
        return g * p * self.x ** (p - 1)


class Pow(Function):
    """z = a ** b (both tensors);  da = g * b * a**(b-1),  db = g * z * log(a)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        grad_a = unbroadcast(g * b * a ** (b - 1), a.shape) if need_a else None
        grad_b = unbroadcast(g * self._dout_db(), b.shape) if need_b else None
        return grad_a, grad_b

    def jvp(self, ta, tb):
        return ta * self.b * self.a ** (self.b - 1) + tb * self._dout_db()

    def _dout_db(self):
        """d(a**b)/db = a**b * log(a), taken as 0 where a <= 0."""
        a = self.a
        log_a = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
        return self.out * log_a


class Neg(SymmetricJacobian):
    """z = -x;  dx = -g."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


def add(a, b):
    return _broadcasting(Add, a, b)


def sub(a, b):
    return _broadcasting(Sub, a, b)


def mul(a, b):
    return _broadcasting(Mul, a, b)


def div(a, b):
    return _broadcasting(Div, a, b)


def power(base, exponent):
    if isinstance(exponent, numbers.Number) and not isinstance(base, numbers.Number):
        return PowScalar.apply(tensor_like(base), exponent=exponent)
    return _broadcasting(Pow, base, exponent)


def _pair(a, b):
    """Wrap the two operands of a binary op, giving a scalar the other's dtype."""
    if not isinstance(a, Tensor):
        a = tensor_like(a, b)
    if not isinstance(b, Tensor):
        b = tensor_like(b, a)
    return a, b


def _broadcasting(function, a, b, **params):
    """Apply a binary op whose operands broadcast; a shape mismatch names the op and both shapes."""
    if type(a) is not Tensor or type(b) is not Tensor:
        a, b = _pair(a, b)
    try:
        return function.apply(a, b, **params)
    except ValueError:
        shapes = [a.shape, b.shape] + ([params["condition"].shape] if "condition" in params else [])
        try:
            xp.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"{function.__name__.lower()}: shapes {' and '.join(map(str, shapes))} "
                             "cannot be broadcast together") from None
        raise


# ----- matrix product --------------------------------------------------------
class MatMul(Function):
    """z = a @ b (batched, broadcast over leading axes);
    da = g @ b^T,  db = a^T @ g  (summed over broadcast batch axes)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return _matmul(a, b)

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        if b.ndim == 1:  # a vector operand is a one-column (b) or one-row (a) matrix
            b, g = b[:, None], g[..., None]
        if a.ndim == 1:
            a, g = a[None, :], g[..., None, :]
        grad_a = unbroadcast(_matmul(g, b.swapaxes(-1, -2)), a.shape).reshape(self.a.shape) if need_a else None
        grad_b = unbroadcast(_matmul(a.swapaxes(-1, -2), g), b.shape).reshape(self.b.shape) if need_b else None
        return grad_a, grad_b

    def jvp(self, ta, tb):
        return _matmul(ta, self.b) + _matmul(self.a, tb)


def _matmul(a, b):
    """a @ b on arrays. ``a.dot(b)`` computes the same when b has at most 2 axes
    and is several times faster on small arrays (no gufunc dispatch)."""
    return a.dot(b) if b.ndim <= 2 else a @ b


def matmul(a, b):
    a, b = _pair(a, b)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: "
                         f"{inner_a} (last axis of the first) != {inner_b} (the second's rows)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {sa} and {sb} cannot be broadcast together") from None


# ----- reductions ------------------------------------------------------------
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


# ----- elementwise functions -------------------------------------------------
class Exp(SymmetricJacobian):
    """z = exp(x);  dx = g * z."""

    def forward(self, x):
        self.out = xp.exp(x)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(SymmetricJacobian):
    """z = log(x);  dx = g / x."""

    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, g):
        return g / self.x


class Sqrt(SymmetricJacobian):
    """z = sqrt(x);  dx = g / (2 z)."""

    def forward(self, x):
        self.out = xp.sqrt(x)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Abs(SymmetricJacobian):
    """z = |x|;  dx = g * sign(x)."""

    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, g):
        return g * xp.sign(self.x)


class Clip(SymmetricJacobian):
    """z = clip(x, low, high);  dx = g where low <= x <= high, else 0."""

    def forward(self, x, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip: expected at least one of min and max, got neither")
        self.inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return xp.clip(x, low, high)

    def backward(self, g):
        return g * self.inside


# ----- shape -----------------------------------------------------------------
class Reshape(Function):
    """z = reshape(x, shape);  dx = reshape(g, x.shape)."""

    def forward(self, x, shape):
        self.shape, self.new_shape = x.shape, shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape shape {x.shape} ({x.size} elements) into {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.shape)

    def jvp(self, t):
        return t.reshape(self.new_shape)


class Transpose(Function):
    """z = transpose(x, axes);  dx = transpose(g, inverse(axes))."""

    def forward(self, x, axes=None):
        if axes is None:
            self.axes = tuple(reversed(range(x.ndim)))
        else:
            self.axes = tuple(ax % x.ndim if -x.ndim <= ax < x.ndim else ax for ax in axes)
            if sorted(self.axes) != list(range(x.ndim)):
                raise ValueError(f"transpose: axes must be a permutation of range({x.ndim}) for shape {x.shape}, "
                                 f"got {tuple(axes)}")
        return x.transpose(self.axes)

    def backward(self, g):
        return g.transpose(tuple(xp.argsort(self.axes)))

    def jvp(self, t):
        return t.transpose(self.axes)


def _is_advanced(index):
    parts = index if isinstance(index, tuple) else (index,)
    return any(isinstance(p, (list, ndarray)) for p in parts)


class GetItem(Function):
    """z = x[index];  dx = zeros with g scattered at index (repeated indices add up)."""

    def forward(self, x, index):
        self.shape, self.dtype, self.index = x.shape, x.dtype, index
        return x[index]

    def backward(self, g):
        grad = xp.zeros(self.shape, dtype=g.dtype)
        if _is_advanced(self.index):
            xp.add.at(grad, self.index, g)
        else:
            grad[self.index] = g
        return grad

    def jvp(self, t):
        return t[self.index]


def getitem(x, index):
    if isinstance(index, tuple):
        index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
    elif isinstance(index, Tensor):
        index = index.data
    return GetItem.apply(x, index=index)


class Concatenate(Function):
    """z = concatenate(xs, axis);  dx_i = the slice of g that x_i filled."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.splits = xp.cumsum([a.shape[axis] for a in arrays])[:-1]
        return xp.concatenate(arrays, axis=axis)

    def backward(self, g):
        parts = xp.split(g, self.splits, axis=self.axis)
        return tuple(p if need else None for p, need in zip(parts, self.needs_input_grad))

    def jvp(self, *tangents):
        return xp.concatenate(tangents, axis=self.axis)


class Stack(Function):
    """z = stack(xs, axis);  dx_i = g taken at position i of the new axis."""

    def forward(self, *arrays, axis=0):
        self.axis = axis
        return xp.stack(arrays, axis=axis)

    def backward(self, g):
        return tuple(xp.take(g, i, axis=self.axis) if need else None
                     for i, need in enumerate(self.needs_input_grad))

    def jvp(self, *tangents):
        return xp.stack(tangents, axis=self.axis)


class Where(Function):
    """z = where(cond, a, b);  da = g where cond, db = g where not cond."""

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return xp.where(condition, a, b)

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        zero = xp.zeros((), dtype=g.dtype)
        return (unbroadcast(xp.where(self.condition, g, zero), self.shapes[0]) if need_a else None,
                unbroadcast(xp.where(self.condition, zero, g), self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return xp.where(self.condition, ta, tb)


class Maximum(Function):
    """z = maximum(a, b);  g goes to the larger input, split equally on ties."""

    def forward(self, a, b):
        self.a, self.b = a, b
        out = xp.maximum(a, b)
        self.share_a = ((a > b) + 0.5 * (a == b)).astype(out.dtype)
        return out

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * self.share_a, self.a.shape) if need_a else None,
                unbroadcast(g * (1 - self.share_a), self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return ta * self.share_a + tb * (1 - self.share_a)


class Pad(Function):
    """z = pad(x, pad_width, constant);  dx = the centre of g that x filled."""

    def forward(self, x, pad_width, value=0.0):
        self.pad_width = pad_width
        self.crop = tuple(slice(before, before + n) for (before, _), n in zip(pad_width, x.shape))
        return xp.pad(x, pad_width, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.crop]

    def jvp(self, t):
        return xp.pad(t, self.pad_width, mode="constant")


def _tensors(values, name):
    if not isinstance(values, (list, tuple)) or not values:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors, got {type(values).__name__}")
    first = next((v for v in values if isinstance(v, Tensor)), None)
    return [tensor_like(v, first) for v in values]


def concatenate(tensors, axis=0):
    """Join tensors along an existing axis."""
    tensors = _tensors(tensors, "concatenate")
    ref = tensors[0].shape
    if not ref:
        raise ValueError("concatenate: expected tensors with at least 1 dimension, got a 0-d tensor")
    if not -len(ref) <= axis < len(ref):
        raise ValueError(f"concatenate: axis {axis} is out of range for shape {ref}")
    for t in tensors[1:]:
        if t.ndim != len(ref) or any(a != b for i, (a, b) in enumerate(zip(ref, t.shape)) if i != axis % len(ref)):
            raise ValueError(f"concatenate: shapes {ref} and {t.shape} differ outside axis {axis}")
    return Concatenate.apply(*tensors, axis=axis)


def stack(tensors, axis=0):
    """Join tensors of equal shape along a new axis."""
    tensors = _tensors(tensors, "stack")
    for t in tensors[1:]:
        if t.shape != tensors[0].shape:
            raise ValueError(f"stack: expected tensors of equal shape, got {tensors[0].shape} and {t.shape}")
    if not -tensors[0].ndim - 1 <= axis <= tensors[0].ndim:
        raise ValueError(f"stack: axis {axis} is out of range for stacking tensors of shape {tensors[0].shape}")
    return Stack.apply(*tensors, axis=axis)


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` holds, else ``b`` (no gradient to the condition)."""
    condition = xp.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return _broadcasting(Where, a, b, condition=condition)


def maximum(a, b):
    """Elementwise maximum of two tensors."""
    return _broadcasting(Maximum, a, b)


def pad(x, pad_width, value=0.0):
    """Pad with a constant; ``pad_width`` as NumPy: ((before, after), ...) per axis,
    or one (before, after) pair for every axis."""
    x = tensor_like(x)
    width = xp.broadcast_to(xp.asarray(pad_width, dtype=int), (x.ndim, 2))
    if (width < 0).any():
        raise ValueError(f"pad: expected non-negative pad widths, got {xp.asarray(pad_width).tolist()}")
    return Pad.apply(x, pad_width=tuple(map(tuple, width.tolist())), value=value)
