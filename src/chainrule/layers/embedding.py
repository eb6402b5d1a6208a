"""Embedding: integer indices to dense vectors."""
from .. import arguments, initializers
from ..backend import xp
from .base import Layer


class Embedding(Layer):
    """a[b, t, :] = embeddings[x[b, t]], embeddings (input_dim, output_dim);
    d embeddings[i] = sum of the gradients of the positions that hold index i."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="glorot_uniform", **kwargs):
        self.input_dim = arguments.positive_int(input_dim, "input_dim")
        self.output_dim = arguments.positive_int(output_dim, "output_dim")
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        super().__init__(**kwargs)
        self.embeddings = None

    def build(self, input_shape):
        self.embeddings = self.add_weight(name="embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer)

    def call(self, inputs, training=False):
        indices = inputs.data
        if indices.dtype.kind == "f" and xp.all(indices == xp.round(indices)):
            indices = indices.astype(xp.intp)
        if indices.dtype.kind not in "iu":
            raise TypeError(f"{self.name}: expected integer indices, got dtype {inputs.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= self.input_dim):
            raise ValueError(f"{self.name}: expected indices in [0, {self.input_dim}), got values in "
                             f"[{indices.min()}, {indices.max()}]")
        return self.embeddings[indices]

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer)}


__all__ = ["Embedding"]
