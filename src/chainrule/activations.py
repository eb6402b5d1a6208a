"""Activation functions by name (Keras identifiers), each a chainrule.functional primitive."""
from .functional import elu, gelu, leaky_relu, mish, relu, sigmoid, silu, softmax, softplus, tanh

swish = silu


def linear(x):
    """a = z."""
    return x


_BY_NAME = {
    "linear": linear, "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "softplus": softplus, "swish": silu, "silu": silu, "mish": mish, "gelu": gelu, "softmax": softmax,
}


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

