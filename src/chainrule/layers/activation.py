"""Activation layers with parameters (Keras 3 names and defaults): ReLU, LeakyReLU, PReLU, ELU, Softmax."""
from .. import arguments, constraints, initializers, regularizers
from .. import functional as F
from .base import Layer


class ReLU(Layer):
    """a = min(x, max_value) for x >= threshold, negative_slope * (x - threshold) otherwise;
    da = g where threshold <= x < max_value, g * negative_slope below the threshold, 0 above max_value."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        if max_value is not None:
            max_value = arguments.check_number("max_value", max_value, 0.0)
        self.max_value = max_value
        self.negative_slope = arguments.check_number("negative_slope", negative_slope, 0.0)
        self.threshold = arguments.check_number("threshold", threshold)
        super().__init__(**kwargs)

    def call(self, inputs):
        if self.negative_slope == 0 and self.threshold == 0:
            out = F.relu(inputs)
        else:
            out = F.where(inputs.data >= self.threshold, inputs, (inputs - self.threshold) * self.negative_slope)
        return out if self.max_value is None else F.minimum(out, self.max_value)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}


class LeakyReLU(Layer):
    """a = x for x > 0, negative_slope * x otherwise (Keras' default slope 0.3)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        self.negative_slope = arguments.check_number("negative_slope", negative_slope, 0.0)
        super().__init__(**kwargs)

    def call(self, inputs):
        return F.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """a = relu(x) - alpha * relu(-x) with a learned alpha of shape input_shape[1:] (1 along
    ``shared_axes``, 1-indexed as in Keras); d alpha = -sum of g * relu(-x) over the shared entries."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None, shared_axes=None,
                 **kwargs):
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        self.shared_axes = None if shared_axes is None else (
            [shared_axes] if arguments.is_int(shared_axes) else [int(a) for a in shared_axes])
        super().__init__(**kwargs)
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if not 1 <= axis <= len(shape):
                raise ValueError(f"shared_axes: expected axes in [1, {len(shape)}] for inputs of shape "
                                 f"{tuple(input_shape)}, got {self.shared_axes}")
            shape[axis - 1] = 1
        self.alpha = self.add_weight(name="alpha", shape=tuple(shape), initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer, constraint=self.alpha_constraint)

    def call(self, inputs):
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def get_config(self):
        return {**super().get_config(), "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint), "shared_axes": self.shared_axes}


class ELU(Layer):
    """a = x for x > 0, alpha * (exp(x) - 1) otherwise."""

    def __init__(self, alpha=1.0, **kwargs):
        self.alpha = arguments.check_number("alpha", alpha)
        super().__init__(**kwargs)

    def call(self, inputs):
        return F.elu(inputs, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(Layer):
    """a_i = exp(x_i) / sum_j exp(x_j) along ``axis`` (an int or a tuple of axes)."""

    def __init__(self, axis=-1, **kwargs):
        self.axis = axis if arguments.is_int(axis) else tuple(int(a) for a in axis)
        super().__init__(**kwargs)

    def call(self, inputs):
        return F.softmax(inputs, self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis if arguments.is_int(self.axis) else list(self.axis)}


__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
