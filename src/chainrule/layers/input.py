"""``Input(shape)``: the placeholder a functional model starts from."""
from .. import arguments
from .base import SymbolicTensor


def Input(shape=None, batch_size=None, dtype=None, batch_shape=None, name=None):
    """A placeholder for a batch of samples of ``shape`` (the batch axis left out, as in Keras;
    ``None`` for a length known only at run time, e.g. ``(None, 8)`` for sequences of any length),
    or of ``batch_shape`` (the batch axis included). Call layers on it to describe a network, then
    ``Model(inputs, outputs)``; ``Sequential([Input((4,)), Dense(3)])`` also takes it as the input shape.
    ``dtype``: the dtype of the data ('int32' for the indices an Embedding reads)."""
    if (shape is None) == (batch_shape is None):
        raise ValueError(f"shape: expected exactly one of shape and batch_shape, got shape={shape!r}, "
                         f"batch_shape={batch_shape!r}")
    if batch_shape is not None:
        if not isinstance(batch_shape, (list, tuple)) or not batch_shape:
            raise ValueError(f"batch_shape: expected a tuple (batch, *shape), got {batch_shape!r}")
        shape = tuple(batch_shape)[1:]
    if batch_size is not None:
        arguments.positive_int(batch_size, "batch_size")
    return SymbolicTensor(arguments.sample_shape(shape, "shape"), dtype=dtype, name=name)


__all__ = ["Input"]
