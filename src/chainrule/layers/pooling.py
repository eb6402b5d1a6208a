"""Pooling layers (channels last, as Keras): max and average over windows, and global."""
from .. import functional as F
from ..arguments import normalize_tuple
from ..primitives.convolution import check_padding, spatial_padding
from .base import Layer
from .convolutional import _check_rank


class _Pooling(Layer):
    """z = max or mean of each window; ``strides`` default to ``pool_size``;
    'same' padding is left out of both the max and the mean (as Keras)."""

    rank = None
    kind = None

    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else normalize_tuple(strides, self.rank, "strides")
        self.padding = check_padding(padding, self.rank)
        super().__init__(**kwargs)

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        spatial_padding(input_shape, self.pool_size, self.strides, self.padding, (1,) * self.rank, self.name)

    def call(self, inputs, training=False):
        _check_rank(self, inputs.shape, self.rank)
        return F.pool(inputs, self.pool_size, self.strides, self.padding, self.kind, self.rank)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding)}


def _max_and_average(base, name):
    """The four concrete layers of ``base``: max and average over 1 and 2 spatial axes.
    ``name`` is formatted with kind ('Max' or 'Average') and rank (1 or 2)."""
    for kind, title in (("max", "Max"), ("avg", "Average")):
        for rank in (1, 2):
            class_name = name.format(kind=title, rank=rank)
            doc = f"{title} over {rank} spatial {'axis' if rank == 1 else 'axes'}: {base.__doc__}"
            yield type(base)(class_name, (base,), {"rank": rank, "kind": kind, "__doc__": doc,
                                                   "__module__": __name__, "__qualname__": class_name})


MaxPooling1D, MaxPooling2D, AveragePooling1D, AveragePooling2D = _max_and_average(_Pooling, "{kind}Pooling{rank}D")


class _GlobalPooling(Layer):
    """z[b, c] = max or mean of x[b, ..., c] over every spatial axis."""

    rank = None
    kind = None

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)

    def call(self, inputs, training=False):
        _check_rank(self, inputs.shape, self.rank)
        axes = tuple(range(1, 1 + self.rank))
        return inputs.max(axis=axes) if self.kind == "max" else inputs.mean(axis=axes)


GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D = _max_and_average(
    _GlobalPooling, "Global{kind}Pooling{rank}D")


__all__ = ["AveragePooling1D", "AveragePooling2D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalMaxPooling1D", "GlobalMaxPooling2D", "MaxPooling1D", "MaxPooling2D"]
