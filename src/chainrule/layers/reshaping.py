"""Reshaping layers: Reshape, RepeatVector, Permute, and the spatial ones (channels last unless
``data_format='channels_first'``): Cropping1D/2D, ZeroPadding1D/2D, UpSampling1D/2D."""
from .. import functional as F
from ..arguments import is_int, non_negative_int, positive_int
from .base import Layer
from .layout import channels_back, channels_last, data_format_argument


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


class RepeatVector(Layer):
    """(batch, features) -> (batch, n, features): a[b, i] = x[b] for each of the n steps; dx = sum over i of g."""

    def __init__(self, n, **kwargs):
        self.n = positive_int(n, "n")
        super().__init__(**kwargs)

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"{self.name}: expected input of rank 2 (batch, features), got shape {inputs.shape}")
        return F.broadcast_to(inputs.reshape(inputs.shape[0], 1, inputs.shape[1]),
                              (inputs.shape[0], self.n, inputs.shape[1]))

    def get_config(self):
        return {**super().get_config(), "n": self.n}


class Permute(Layer):
    """a = x with its non-batch axes reordered: ``dims`` a permutation of 1..rank-1 (the batch axis is 0)."""

    def __init__(self, dims, **kwargs):
        dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(f"dims: expected a permutation of 1..{len(dims)} (axis 0 is the batch), got {dims!r}")
        self.dims = dims
        super().__init__(**kwargs)

    def call(self, inputs):
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(f"{self.name}: dims {self.dims} expects input of rank {len(self.dims) + 1}, got shape "
                             f"{inputs.shape}")
        return inputs.transpose(0, *self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": list(self.dims)}


def _pairs(value, rank, name):
    """(before, after) per spatial axis from an int (both sides of every axis), ``rank`` ints (both
    sides of each axis) or ``rank`` pairs; a 1-D layer also takes one pair."""
    if is_int(value):
        pairs = ((value, value),) * rank
    elif rank == 1 and len(value) == 2 and all(is_int(v) for v in value):
        pairs = (tuple(value),)
    elif len(value) == rank and all(is_int(v) for v in value):
        pairs = tuple((v, v) for v in value)
    elif len(value) == rank and all(len(v) == 2 for v in value):
        pairs = tuple(tuple(v) for v in value)
    else:
        raise ValueError(f"{name}: expected an int, {rank} ints or {rank} pairs of ints, got {value!r}")
    return tuple((non_negative_int(a, name), non_negative_int(b, name)) for a, b in pairs)


class _Spatial(Layer):
    """A layer over the ``rank`` spatial axes of (batch, *spatial, channels) or, with
    ``data_format='channels_first'``, (batch, channels, *spatial)."""

    rank = None

    def __init__(self, data_format=None, **kwargs):
        self.data_format = data_format_argument(data_format)
        super().__init__(**kwargs)

    def call(self, inputs):
        if inputs.ndim != self.rank + 2:
            raise ValueError(f"{self.name}: expected input of rank {self.rank + 2} (batch, {self.rank} spatial axes, "
                             f"channels), got shape {inputs.shape}")
        return channels_back(self.spatial(channels_last(inputs, self.data_format)), self.data_format)

    def get_config(self):
        config = super().get_config()
        return {**config, "data_format": self.data_format} if self.rank > 1 else config


class _Cropping(_Spatial):
    """a = x without ``cropping`` = (before, after) entries at the ends of each spatial axis; dx = g padded with 0."""

    def __init__(self, cropping, **kwargs):
        self.cropping = _pairs(cropping, self.rank, "cropping")
        super().__init__(**kwargs)

    def spatial(self, x):
        for axis, ((before, after), n) in enumerate(zip(self.cropping, x.shape[1:-1])):
            if before + after >= n:
                raise ValueError(f"{self.name}: cropping {self.cropping} leaves nothing of spatial axis {axis} "
                                 f"(length {n})")
        return x[(slice(None),) + tuple(slice(before, n - after) for (before, after), n
                                        in zip(self.cropping, x.shape[1:-1]))]

    def get_config(self):
        cropping = list(self.cropping[0]) if self.rank == 1 else [list(pair) for pair in self.cropping]
        return {**super().get_config(), "cropping": cropping}


class Cropping1D(_Cropping):
    """Crops (start, end) steps of (batch, steps, channels)."""

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Crops ((top, bottom), (left, right)) of (batch, height, width, channels)."""

    rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format=data_format, **kwargs)


class _ZeroPadding(_Spatial):
    """a = x with ``padding`` = (before, after) zeros added at the ends of each spatial axis; dx = the centre of g."""

    def __init__(self, padding, **kwargs):
        self.padding = _pairs(padding, self.rank, "padding")
        super().__init__(**kwargs)

    def spatial(self, x):
        return F.pad(x, ((0, 0),) + self.padding + ((0, 0),))

    def get_config(self):
        padding = list(self.padding[0]) if self.rank == 1 else [list(pair) for pair in self.padding]
        return {**super().get_config(), "padding": padding}


class ZeroPadding1D(_ZeroPadding):
    """Pads (batch, steps, channels) with (start, end) zero steps."""

    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Pads (batch, height, width, channels) with ((top, bottom), (left, right)) rows and columns of zeros."""

    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format=data_format, **kwargs)


def repeat(x, count, axis):
    """x with each entry along ``axis`` repeated ``count`` times in place (np.repeat); dx sums each run of g."""
    shape = x.shape
    spread = F.broadcast_to(x.reshape(shape[:axis + 1] + (1,) + shape[axis + 1:]),
                            shape[:axis + 1] + (count,) + shape[axis + 1:])
    return spread.reshape(shape[:axis] + (shape[axis] * count,) + shape[axis + 1:])


class UpSampling1D(_Spatial):
    """a[b, t] = x[b, t // size]: each step repeated ``size`` times."""

    rank = 1

    def __init__(self, size=2, **kwargs):
        self.size = positive_int(size, "size")
        super().__init__(**kwargs)

    def spatial(self, x):
        return repeat(x, self.size, 1)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(_Spatial):
    """a[b, i, j] = x[b, i // size_h, j // size_w] (nearest-neighbour interpolation, the only one supported)."""

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        size = (size, size) if is_int(size) else tuple(size)
        if len(size) != 2:
            raise ValueError(f"size: expected an int or 2 ints, got {size!r}")
        self.size = tuple(positive_int(n, "size") for n in size)
        if interpolation != "nearest":
            raise ValueError(f"interpolation: chainrule supports only 'nearest', got {interpolation!r}")
        self.interpolation = interpolation
        super().__init__(data_format=data_format, **kwargs)

    def spatial(self, x):
        return repeat(repeat(x, self.size[0], 1), self.size[1], 2)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size), "interpolation": self.interpolation}


__all__ = ["Cropping1D", "Cropping2D", "Permute", "RepeatVector", "Reshape", "UpSampling1D", "UpSampling2D",
           "ZeroPadding1D", "ZeroPadding2D"]
