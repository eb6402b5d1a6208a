"""Convolution layers: Conv1D and Conv2D (channels last, as Keras), over the fused
:class:`chainrule.primitives.convolution.Convolution` primitive."""
from .. import activations, arguments, constraints, initializers, regularizers
from .. import functional as F
from ..arguments import normalize_tuple
from ..primitives.convolution import check_padding, spatial_padding
from .base import Layer


class _Conv(Layer):
    """a = f(z), z = conv(x, kernel) + bias; kernel (*kernel_size, in_channels, filters).

    ``padding`` is 'valid', 'same' (Keras), or explicit zero padding of both sides
    of each spatial axis (an int or one int per axis, as PyTorch's ``padding``).
    """

    rank = None

    def __init__(self, filters, kernel_size, strides=1, padding="valid", dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        self.filters = arguments.positive_int(filters, "filters")
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = check_padding(padding, self.rank)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        super().__init__(**kwargs)
        self.use_bias = use_bias
        self.kernel = self.bias = None

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        spatial_padding(input_shape, self.kernel_size, self.strides, self.padding, self.dilation_rate, self.name)
        self.kernel = self.add_weight(name="kernel", shape=self.kernel_size + (input_shape[-1], self.filters),
                                      initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs, training=False):
        _check_rank(self, inputs.shape, self.rank)
        return self.activate(F.conv(inputs, self.kernel, self.bias, self.strides, self.padding,
                                         self.dilation_rate))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "dilation_rate": list(self.dilation_rate),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


def _check_rank(layer, shape, rank):
    """Inputs of a layer over ``rank`` spatial axes must be (batch, *spatial, channels)."""
    expected = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)"}[rank]
    if len(shape) != rank + 2:
        raise ValueError(f"{layer.name}: expected input of rank {rank + 2} {expected}, got shape {tuple(shape)}")


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); kernel (kernel_size, channels, filters)."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, channels, filters)."""

    rank = 2


__all__ = ["Conv1D", "Conv2D"]
