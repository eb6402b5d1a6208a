"""Activation functions by name (Keras identifiers), each a chainrule.functional primitive.

``sigmoid`` and ``softmax`` mark their output with its logits z (``output.logits``,
as Keras keeps ``_keras_logits``), so a cross-entropy given the output takes z and
its fused primitive instead: the output delta is then exactly (o - y) / n.
"""

from . import functional as F
from .backend import xp
from .functional import elu, gelu, mish, relu, silu, softplus, tanh
from .tensor import Tensor

swish = silu



def leaky_relu(x, negative_slope=0.2):
    """a = z for z > 0, negative_slope * z otherwise (Keras' default slope 0.2; chainrule.functional's
    ``leaky_relu`` keeps PyTorch's 0.01)."""
    return F.leaky_relu(x, negative_slope)


def _with_logits(output, z, activation):
    if isinstance(output, Tensor) and isinstance(z, Tensor):
        output.logits, output.logits_activation = z, activation
    return output


def sigmoid(x):
    """a = 1 / (1 + exp(-z)), the output marked with its logits z."""
    return _with_logits(F.sigmoid(x), x, "sigmoid")


def softmax(x, axis=-1):
    """a_i = exp(z_i) / sum_j exp(z_j) over ``axis``; over the last axis the output is marked with its logits z."""
    return _with_logits(F.softmax(x, axis), x, "softmax") if axis in (-1, _last_axis(x)) else F.softmax(x, axis)


def _last_axis(x):
    return getattr(x, "ndim", 0) - 1


def linear(x):
    """a = z."""
    return x


SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def selu(x):
    """a = scale * (z if z > 0 else alpha * (exp(z) - 1)), alpha = 1.67326..., scale = 1.05070...
    (self-normalizing: keeps zero mean and unit variance through lecun_normal layers)."""
    return F.elu(x, SELU_ALPHA) * SELU_SCALE


def celu(x, alpha=1.0):
    """a = z if z > 0 else alpha * (exp(z / alpha) - 1), i.e. alpha * elu(z / alpha)."""
    return F.elu(x * (1.0 / alpha), 1.0) * alpha


def relu6(x):
    """a = min(max(z, 0), 6)."""
    return _as_tensor(x).clip(0.0, 6.0)


def hard_sigmoid(x):
    """a = relu6(z + 3) / 6: 0 below -3, 1 above 3, linear between."""
    return (_as_tensor(x) + 3.0).clip(0.0, 6.0) * (1.0 / 6.0)


def hard_silu(x):
    """a = z * hard_sigmoid(z) (hard swish)."""
    return _as_tensor(x) * hard_sigmoid(x)


def softsign(x):
    """a = z / (1 + |z|)."""
    x = _as_tensor(x)
    return x / (x.abs() + 1.0)


def exponential(x):
    """a = exp(z)."""
    return _as_tensor(x).exp()


def log_softmax(x, axis=-1):
    """a_i = z_i - log(sum_j exp(z_j)) over ``axis``."""
    return F.log_softmax(x, axis)


def glu(x, axis=-1):
    """Gated linear unit: ``x`` split in halves u, v along ``axis`` (even size), a = u * sigmoid(v)."""
    x = _as_tensor(x)
    size = x.shape[axis]
    if size % 2:
        raise ValueError(f"x: glu splits axis {axis} in two halves; its size must be even, got {size}")
    head = (slice(None),) * (axis % x.ndim)
    return x[head + (slice(0, size // 2),)] * F.sigmoid(x[head + (slice(size // 2, None),)])


def sparsemax(x, axis=-1):
    """a = max(z - tau, 0), tau the threshold that makes sum(a) = 1 over ``axis``: with z sorted
    descending, k = the number of z_(i) with 1 + i * z_(i) > sum_{j <= i} z_(j), tau = (sum of the k
    largest - 1) / k. The support is constant near z, so the graph's gradient is sparsemax's Jacobian."""
    x = _as_tensor(x)
    z = xp.moveaxis(x.data, axis, -1)
    ordered = -xp.sort(-z, axis=-1)
    ranks = xp.arange(1, z.shape[-1] + 1)
    count = (1 + ranks * ordered > xp.cumsum(ordered, axis=-1)).sum(axis=-1, keepdims=True)
    threshold = xp.take_along_axis(ordered, count - 1, axis=-1)
    support = xp.moveaxis(z >= threshold, -1, axis)
    count = xp.moveaxis(count, -1, axis)
    tau = ((x * support.astype(x.dtype)).sum(axis=axis, keepdims=True) - 1.0) * (1.0 / count.astype(x.dtype))
    return F.relu(x - tau)


hard_swish = hard_silu


def _as_tensor(x):
    return x if isinstance(x, Tensor) else Tensor(x)


_BY_NAME = {
    "linear": linear, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "softplus": softplus, "swish": silu, "silu": silu, "mish": mish, "gelu": gelu, "softmax": softmax,
    "selu": selu, "celu": celu, "relu6": relu6, "hard_sigmoid": hard_sigmoid, "hard_silu": hard_silu,
    "hard_swish": hard_silu, "softsign": softsign, "exponential": exponential, "log_softmax": log_softmax,
    "glu": glu, "sparsemax": sparsemax,
}


def names():
    """The names ``get`` accepts."""
    return sorted(_BY_NAME)


def get(identifier):
    """The activation function for a name (None means linear) or a callable."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(f"activation: unknown name {identifier!r}; valid names: {', '.join(sorted(_BY_NAME))}")
        return _BY_NAME[identifier]
    if callable(identifier):
        return identifier
    raise TypeError(f"activation: expected a name or a callable, got {type(identifier).__name__}")


def serialize(activation):
    """The name ``get`` maps back to ``activation``."""
    for name, fn in _BY_NAME.items():
        if fn is activation:
            return "swish" if name == "silu" else name
    raise ValueError(f"activation: cannot serialize {activation!r}; use one of {', '.join(sorted(_BY_NAME))}")

