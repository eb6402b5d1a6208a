"""BatchNormalization and LayerNormalization over the last (channel) axis, as Keras' defaults."""
from .. import functional as F
from .. import initializers
from ..tensor import Tensor
from .base import Layer


class _Normalization(Layer):
    """Learned scale gamma (ones) and offset beta (zeros), one per channel of the last axis;
    with ``scale=False`` / ``center=False`` they are the constants 1 and 0."""

    def __init__(self, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones",
                 **kwargs):
        if not epsilon > 0:
            raise ValueError(f"epsilon: expected a positive number, got {epsilon!r}")
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        super().__init__(**kwargs)
        self.epsilon, self.center, self.scale = float(epsilon), bool(center), bool(scale)

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"{self.name}: expected input of rank >= 2 (batch, ..., channels), got shape "
                             f"{tuple(input_shape)}")
        channels = (input_shape[-1],)
        self.gamma = (self.add_weight(name="gamma", shape=channels, initializer=self.gamma_initializer) if self.scale
                      else Tensor(initializers.get("ones")(channels, dtype=self.dtype)))
        self.beta = (self.add_weight(name="beta", shape=channels, initializer=self.beta_initializer) if self.center
                     else Tensor(initializers.get("zeros")(channels, dtype=self.dtype)))

    def _check_channels(self, inputs):
        if inputs.ndim < 2 or inputs.shape[-1] != self.gamma.shape[0]:
            raise ValueError(f"{self.name}: expected inputs (batch, ..., {self.gamma.shape[0]}), got shape {inputs.shape}")

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}


class BatchNormalization(_Normalization):
    """y = gamma * (x - mean) / sqrt(var + epsilon) + beta per channel.

    Training (``training=True``): mean and var are the batch's (over every axis but
    the last) and the moving statistics, non-trainable weights saved with the model,
    move towards them: moving <- momentum * moving + (1 - momentum) * batch.
    Inference: the moving statistics are used.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"momentum: expected a number in [0, 1], got {momentum!r}")
        super().__init__(epsilon, center, scale, **kwargs)
        self.momentum = float(momentum)

    def build(self, input_shape):
        super().build(input_shape)
        channels = (input_shape[-1],)
        self.moving_mean = self.add_weight(name="moving_mean", shape=channels, initializer="zeros", trainable=False)
        self.moving_variance = self.add_weight(name="moving_variance", shape=channels, initializer="ones",
                                               trainable=False)

    def call(self, inputs, training=False):
        """Training mode only when ``training`` and the layer is trainable: a frozen BatchNormalization
        (``trainable = False``) runs in inference mode, its moving statistics used and left as they are."""
        self._check_channels(inputs)
        training = training and self.trainable
        return F.batch_norm(inputs, self.gamma, self.beta, self.moving_mean.data, self.moving_variance.data,
                            eps=self.epsilon, training=bool(training), momentum=self.momentum)

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum}


class LayerNormalization(_Normalization):
    """y = gamma * (x - mean) / sqrt(var + epsilon) + beta, statistics over each sample's last axis."""

    def call(self, inputs, training=False):
        """Training mode only when ``training`` and the layer is trainable: a frozen BatchNormalization
        (``trainable = False``) runs in inference mode, its moving statistics used and left as they are."""
        self._check_channels(inputs)
        training = training and self.trainable
        return F.layer_norm(inputs, self.gamma, self.beta, eps=self.epsilon)


__all__ = ["BatchNormalization", "LayerNormalization"]
