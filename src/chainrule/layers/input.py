"""``Input(shape)``: the placeholder a functional model starts from."""
from .base import SymbolicTensor


def Input(shape, name=None):
    """A placeholder for a batch of samples of ``shape`` (the batch axis is left out, as in Keras).

    Call layers on it to describe a network, then ``Model(inputs, outputs)``;
    ``Sequential([Input((4,)), Dense(3)])`` also takes it as the input shape.
    """
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    for n in shape:
        if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
            raise ValueError(f"shape: expected a tuple of positive ints (batch axis left out), got {shape}")
    placeholder = SymbolicTensor(shape)
    placeholder.name = name
    return placeholder


__all__ = ["Input"]
