"""Reshape: a new shape for each sample, the batch axis kept."""
from .base import Layer


class Reshape(Layer):
    """(batch, ...) -> (batch, *target_shape); one entry of ``target_shape`` may be -1."""

    def __init__(self, target_shape, **kwargs):
        target_shape = (target_shape,) if isinstance(target_shape, int) else tuple(target_shape)
        if not target_shape or any(not isinstance(n, int) or (n <= 0 and n != -1) for n in target_shape) \
                or target_shape.count(-1) > 1:
            raise ValueError(f"target_shape: expected positive ints and at most one -1, got {target_shape!r}")
        super().__init__(**kwargs)
        self.target_shape = target_shape

    def call(self, inputs, training=False):
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


__all__ = ["Reshape"]
