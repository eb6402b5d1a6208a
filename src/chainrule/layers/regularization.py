"""Noise and dropout layers (active only in training; the identity otherwise): GaussianNoise,
GaussianDropout, AlphaDropout, SpatialDropout1D/2D (Dropout itself is in ``core``)."""
import math

from .. import arguments, random
from .base import Layer
from .core import Dropout, seed_generator
from .layout import data_format_argument


class _Noise(Layer):
    """A layer that draws noise in training from its own seed (the global generator when ``seed`` is None)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = seed_generator(seed)

    def call(self, inputs, training=False):
        return self.noisy(inputs) if training else inputs

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class GaussianNoise(_Noise):
    """In training a = x + n, n ~ N(0, stddev**2) per entry; da = g."""

    def __init__(self, stddev, seed=None, **kwargs):
        self.stddev = arguments.check_number("stddev", stddev, 0.0)
        super().__init__(seed, **kwargs)

    def noisy(self, inputs):
        return inputs + random.normal(inputs.shape, 0.0, self.stddev, inputs.dtype, self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev}


class GaussianDropout(_Noise):
    """In training a = x * m, m ~ N(1, rate / (1 - rate)) per entry; da = g * m."""

    def __init__(self, rate, seed=None, **kwargs):
        self.rate = arguments.check_number("rate", rate, 0.0, 1.0, max_open=True)
        super().__init__(seed, **kwargs)

    def noisy(self, inputs):
        if self.rate == 0:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * random.normal(inputs.shape, 1.0, stddev, inputs.dtype, self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


class AlphaDropout(_Noise):
    """Dropout that keeps SELU's zero mean and unit variance: in training, with keep ~ Bernoulli(1 - rate)
    and alpha' = -alpha_selu * scale_selu, a = A * (x * keep + alpha' * (1 - keep)) + B, where
    A = ((1 - rate) * (1 + rate * alpha'^2))^(-1/2) and B = -A * alpha' * rate; da = g * A * keep."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        self.rate = arguments.check_number("rate", rate, 0.0, 1.0, max_open=True)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        super().__init__(seed, **kwargs)

    def noisy(self, inputs):
        if self.rate == 0:
            return inputs
        alpha = -SELU_ALPHA * SELU_SCALE
        shape = inputs.shape if self.noise_shape is None else tuple(
            n if n is not None else inputs.shape[i] for i, n in enumerate(self.noise_shape))
        keep = (random.uniform(shape, dtype=inputs.dtype, seed=self.seed_generator).data >= self.rate)
        keep = keep.astype(inputs.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha ** 2)) ** -0.5
        b = -a * alpha * self.rate
        return inputs * (a * keep) + (a * alpha * (1 - keep) + b)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class SpatialDropout1D(Dropout):
    """Dropout of whole channels of (batch, steps, channels): one mask entry per (sample, channel)."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def noise_shape_for(self, inputs):
        if inputs.ndim != 3:
            raise ValueError(f"{self.name}: expected input of rank 3 (batch, steps, channels), got shape "
                             f"{inputs.shape}")
        return (inputs.shape[0], 1, inputs.shape[2])

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout2D(SpatialDropout1D):
    """Dropout of whole feature maps of (batch, height, width, channels) (or channels first): one mask
    entry per (sample, channel)."""

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        self.data_format = data_format_argument(data_format)
        super().__init__(rate, seed=seed, **kwargs)

    def noise_shape_for(self, inputs):
        if inputs.ndim != 4:
            raise ValueError(f"{self.name}: expected input of rank 4 (batch, height, width, channels), got shape "
                             f"{inputs.shape}")
        if self.data_format == "channels_first":
            return (inputs.shape[0], inputs.shape[1], 1, 1)
        return (inputs.shape[0], 1, 1, inputs.shape[3])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


__all__ = ["AlphaDropout", "GaussianDropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D"]
