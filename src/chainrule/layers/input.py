"""``Input(shape)``: the placeholder a functional model starts from; ``InputLayer``, the same as a layer."""
from .. import arguments
from .base import Layer, SymbolicTensor


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
    placeholder = SymbolicTensor(arguments.sample_shape(shape, "shape"), dtype=dtype, name=name)
    placeholder.input_layer = InputLayer(shape=placeholder.shape[1:], batch_size=batch_size, dtype=dtype, name=name)
    placeholder.input_layer.set_symbolic_call(placeholder, placeholder)
    placeholder.input_layer.output_shape = placeholder.shape
    return placeholder




class InputLayer(Layer):
    """The input of a model as a layer (Keras' ``InputLayer``): a = x, for samples of ``shape`` (or
    ``batch_shape`` without its batch axis); first in a Sequential it gives the model its input shape."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, input_tensor=None,
                 name=None, **kwargs):
        if sparse:
            raise ValueError("sparse: chainrule has no sparse tensors, got sparse=True")
        if input_tensor is not None:
            raise ValueError("input_tensor: not supported; give shape (or call layers on Input(shape))")
        if (shape is None) == (batch_shape is None):
            raise ValueError(f"shape: expected exactly one of shape and batch_shape, got shape={shape!r}, "
                             f"batch_shape={batch_shape!r}")
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
        self.batch_size = None if batch_size is None else arguments.positive_int(batch_size, "batch_size")
        super().__init__(name=name, input_shape=shape, dtype=dtype, **kwargs)

    def call(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        shape = config.pop("input_shape")
        return {**config, "batch_shape": [self.batch_size, *shape]}


__all__ = ["Input", "InputLayer"]
