"""Activation functions by name (Keras identifiers), each a chainrule.functional primitive.

``sigmoid`` and ``softmax`` mark their output with its logits z (``output.logits``,
as Keras keeps ``_keras_logits``), so a cross-entropy given the output takes z and
its fused primitive instead: the output delta is then exactly (o - y) / n.
"""
from . import functional as F
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


_BY_NAME = {
    "linear": linear, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "softplus": softplus, "swish": silu, "silu": silu, "mish": mish, "gelu": gelu, "softmax": softmax,
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

