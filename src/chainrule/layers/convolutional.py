"""Convolution layers (channels last unless ``data_format='channels_first'``, Keras weight layouts):
Conv1D/2D/3D (with ``groups``), Conv1DTranspose/2DTranspose, SeparableConv1D/2D and
DepthwiseConv1D/2D, over the fused convolution primitives of :mod:`chainrule.functional`."""
from .. import activations, arguments, ops, regularizers
from .. import functional as F
from ..arguments import normalize_tuple
from ..primitives.convolution import LAYOUTS, check_padding, spatial_padding
from .base import Layer
from .core import regularize_activity, weight_arguments, weight_arguments_config
from .layout import channels_back, channels_last, data_format_argument, shape_last


def check_rank(layer, shape, rank):
    """Inputs of a layer over ``rank`` spatial axes must be (batch, *spatial, channels) (or channels first)."""
    if len(shape) != rank + 2:
        raise ValueError(f"{layer.name}: expected input of rank {rank + 2} {LAYOUTS[rank]}, got shape {tuple(shape)}")


def with_bias(z, bias):
    return z if bias is None else z + bias


class _BaseConv(Layer):
    """a = f(z), z = a convolution of x by the layer's kernels plus the bias (``convolve``, computed
    channels last); the arguments every convolution shares, their checks and their config."""

    rank = None

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, bias_initializer="zeros", bias_regularizer=None, activity_regularizer=None,
                 bias_constraint=None, **kwargs):
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = normalize_tuple(strides, self.rank, "strides")
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate")
        self.padding = check_padding(padding, self.rank)
        self.data_format = data_format_argument(data_format)
        self.activation = activations.get(activation)
        weight_arguments(self, "bias", bias_initializer, bias_regularizer, bias_constraint)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        super().__init__(**kwargs)
        self.use_bias = bool(use_bias)
        self.bias = None

    def build(self, input_shape):
        check_rank(self, input_shape, self.rank)
        shape = shape_last(input_shape, self.data_format)
        spatial_padding(shape, self.kernel_size, self.strides, self.padding, self.dilation_rate, self.name)
        self.build_kernels(shape[-1])
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.output_channels(shape[-1]),),
                                        initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def call(self, inputs, training=False):
        check_rank(self, inputs.shape, self.rank)
        z = self.convolve(channels_last(inputs, self.data_format), self.bias)
        return regularize_activity(self, self.activate(channels_back(z, self.data_format)))

    def _kernel(self, name, shape, initializer, regularizer, constraint):
        return self.add_weight(name=name, shape=shape, initializer=initializer, regularizer=regularizer,
                               constraint=constraint)

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding if isinstance(self.padding, str) else list(self.padding),
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_arguments_config(self, "bias"),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer)}


class _Conv(_BaseConv):
    """z = conv(x, kernel); kernel (*kernel_size, in_channels / groups, filters).

    ``padding`` is 'valid', 'same' (Keras), or explicit zero padding of both sides
    of each spatial axis (an int or one int per axis, as PyTorch's ``padding``).
    With ``groups`` g the channels split into g groups, group i of the filters seeing
    only group i of the inputs.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        self.filters = arguments.positive_int(filters, "filters")
        self.groups = arguments.positive_int(groups, "groups")
        if self.filters % self.groups:
            raise ValueError(f"groups: expected a divisor of filters={self.filters}, got {groups!r}")
        weight_arguments(self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.kernel = None

    def build_kernels(self, channels):
        if channels % self.groups:
            raise ValueError(f"{self.name}: {channels} input channels do not split into groups={self.groups}")
        self.kernel = self._kernel("kernel", self.kernel_size + (channels // self.groups, self.filters),
                                   self.kernel_initializer, self.kernel_regularizer, self.kernel_constraint)

    def output_channels(self, channels):
        return self.filters

    def convolve(self, x, bias):
        params = dict(strides=self.strides, padding=self.padding, dilation=self.dilation_rate)
        if self.groups == 1:
            return F.conv(x, self.kernel, bias, **params)
        size, width = self.kernel.shape[-2], self.filters // self.groups
        return with_bias(F.concatenate([F.conv(x[..., g * size:(g + 1) * size],
                                               self.kernel[..., g * width:(g + 1) * width], **params)
                                        for g in range(self.groups)], axis=-1), bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                **weight_arguments_config(self, "kernel")}


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); kernel (kernel_size, channels, filters)."""

    rank = 1


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, channels, filters)."""

    rank = 2


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, height, width, channels); kernel (kd, kh, kw, channels, filters)."""

    rank = 3


class _ConvTranspose(_BaseConv):
    """z = conv_transpose(x, kernel), the adjoint of a convolution with these strides: kernel
    (*kernel_size, filters, in_channels); each spatial length n becomes n * stride ('same') or
    (n - 1) * stride + max(span, stride) ('valid'), plus ``output_padding`` when given
    (see :func:`chainrule.ops.conv_transpose`)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        self.filters = arguments.positive_int(filters, "filters")
        self.output_padding = None if output_padding is None else tuple(
            arguments.non_negative_int(n, "output_padding")
            for n in ((output_padding,) * self.rank if arguments.is_int(output_padding) else output_padding))
        if not isinstance(padding, str):
            raise ValueError(f"padding: expected 'valid' or 'same' for a transposed convolution, got {padding!r}")
        weight_arguments(self, "kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.kernel = None

    def build(self, input_shape):
        check_rank(self, input_shape, self.rank)
        self.build_kernels(shape_last(input_shape, self.data_format)[-1])
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def build_kernels(self, channels):
        self.kernel = self._kernel("kernel", self.kernel_size + (self.filters, channels), self.kernel_initializer,
                                   self.kernel_regularizer, self.kernel_constraint)

    def convolve(self, x, bias):
        return with_bias(ops.conv_transpose(x, self.kernel, self.strides, self.padding, self.output_padding,
                                            dilation_rate=self.dilation_rate), bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "output_padding": None if self.output_padding is None else list(self.output_padding),
                **weight_arguments_config(self, "kernel")}


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution over (batch, steps, channels); kernel (kernel_size, filters, channels)."""

    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution over (batch, height, width, channels); kernel (kh, kw, filters, channels)."""

    rank = 2


class _DepthwiseConv(_BaseConv):
    """z[..., c * M + m] = channel c convolved with its own filter m, M = ``depth_multiplier``;
    kernel (*kernel_size, in_channels, M), bias (in_channels * M,)."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1, data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None, **kwargs):
        self.depth_multiplier = arguments.positive_int(depth_multiplier, "depth_multiplier")
        weight_arguments(self, "depthwise", depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.kernel = None

    def build_kernels(self, channels):
        self.kernel = self._kernel("kernel", self.kernel_size + (channels, self.depth_multiplier),
                                   self.depthwise_initializer, self.depthwise_regularizer, self.depthwise_constraint)

    def output_channels(self, channels):
        return channels * self.depth_multiplier

    def convolve(self, x, bias):
        return with_bias(F.depthwise_conv(x, self.kernel, self.strides, self.padding, self.dilation_rate), bias)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **weight_arguments_config(self, "depthwise")}


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution over (batch, steps, channels)."""

    rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution over (batch, height, width, channels)."""

    rank = 2


class _SeparableConv(_BaseConv):
    """z = pointwise(depthwise(x)): the depthwise convolution (kernel (*kernel_size, in_channels, M),
    M = ``depth_multiplier``), then a 1x1 convolution (kernel (*ones, in_channels * M, filters))."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None, dilation_rate=1,
                 depth_multiplier=1, activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None, **kwargs):
        self.filters = arguments.positive_int(filters, "filters")
        self.depth_multiplier = arguments.positive_int(depth_multiplier, "depth_multiplier")
        weight_arguments(self, "depthwise", depthwise_initializer, depthwise_regularizer, depthwise_constraint)
        weight_arguments(self, "pointwise", pointwise_initializer, pointwise_regularizer, pointwise_constraint)
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation, use_bias,
                         bias_initializer, bias_regularizer, activity_regularizer, bias_constraint, **kwargs)
        self.depthwise_kernel = self.pointwise_kernel = None

    def build_kernels(self, channels):
        self.depthwise_kernel = self._kernel(
            "depthwise_kernel", self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            self.depthwise_regularizer, self.depthwise_constraint)
        self.pointwise_kernel = self._kernel(
            "pointwise_kernel", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            self.pointwise_initializer, self.pointwise_regularizer, self.pointwise_constraint)

    def output_channels(self, channels):
        return self.filters

    def convolve(self, x, bias):
        depthwise = F.depthwise_conv(x, self.depthwise_kernel, self.strides, self.padding, self.dilation_rate)
        return F.conv(depthwise, self.pointwise_kernel, bias)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "depth_multiplier": self.depth_multiplier,
                **weight_arguments_config(self, "depthwise"), **weight_arguments_config(self, "pointwise")}


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution over (batch, steps, channels)."""

    rank = 1


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution over (batch, height, width, channels)."""

    rank = 2


__all__ = ["Conv1D", "Conv1DTranspose", "Conv2D", "Conv2DTranspose", "Conv3D", "DepthwiseConv1D", "DepthwiseConv2D",
           "SeparableConv1D", "SeparableConv2D"]
