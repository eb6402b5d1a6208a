"""chainrule: backpropagation, complete and fast, on NumPy.

The core is :class:`Tensor`, which records the ops applied to it and computes
exact gradients by reverse accumulation on ``backward()``. The package is also
Keras 3's top level: ``import chainrule as keras`` gives ``keras.Sequential``,
``keras.Model``, ``keras.Input`` and the modules ``layers``, ``models``,
``optimizers``, ``losses``, ``metrics``, ``callbacks``, ``activations``,
``initializers``, ``regularizers``, ``constraints``, ``saving`` and ``utils``.
"""
from .tensor import (AnomalyError, Function, Tensor, detect_anomaly, enable_grad, get_default_dtype,
                     is_grad_enabled, no_grad, set_default_dtype)
from .functional import concatenate, maximum, pad, stack, where
from .gradcheck import GradcheckError, gradcheck
from .forward_mode import jvp
from . import (activations, callbacks, constraints, initializers, layers, losses, metrics, models, ops, optimizers,
               random, regularizers, saving, utils)
from .layers import Input
from .models import Model, Sequential

from .version import __version__

__all__ = [
    "AnomalyError", "Function", "GradcheckError", "Tensor", "concatenate", "detect_anomaly", "enable_grad",
    "get_default_dtype", "gradcheck", "is_grad_enabled", "jvp", "maximum", "no_grad", "pad", "set_default_dtype",
    "stack", "where", "Input", "Model", "Sequential", "activations", "callbacks", "constraints", "initializers",
    "layers", "losses", "metrics", "models", "ops", "optimizers", "random", "regularizers", "saving", "utils",
]
