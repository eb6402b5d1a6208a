"""Every primitive's function, named as in ``torch.nn.functional``: the public face
of :mod:`chainrule.primitives`, where each is defined beside its backward and jvp.

The losses on logits are fused and numerically stable: their backward is
(softmax(z) - y) / n and (sigmoid(z) - y) / n, with no NaN or Inf even for
logits of +-1000.
"""
from .primitives.activations import (elu, gelu, leaky_relu, log_softmax, mish, relu, sigmoid, silu, softmax,
                                     softplus, swish, tanh)
from .primitives.convolution import conv, conv1d, conv2d, pool
from .primitives.elementwise import add, div, maximum, mul, power, sub, where
from .primitives.linalg import linear, matmul
from .primitives.losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, huber_loss,
                                l1_loss, mse_loss)
from .primitives.normalization import batch_norm, batch_statistics, layer_norm
from .primitives.reductions import squared_norm
from .primitives.recurrent import GRUStep, LSTMStep, SimpleRNNStep, recurrence
from .primitives.reshaping import concatenate, getitem, pad, stack

__all__ = [
    "GRUStep", "LSTMStep", "SimpleRNNStep", "add", "batch_norm", "batch_statistics", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "concatenate", "conv", "conv1d", "conv2d", "cross_entropy", "div", "elu",
    "gelu", "getitem", "huber_loss", "l1_loss", "layer_norm", "leaky_relu", "linear", "log_softmax", "matmul",
    "maximum", "mish", "mse_loss", "mul", "pad", "pool", "power", "recurrence", "relu", "sigmoid", "silu", "softmax",
    "softplus", "squared_norm", "stack", "sub", "swish", "tanh", "where",
]
