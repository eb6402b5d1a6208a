"""Losses by name and as classes (Keras names), each the batch mean of a per-sample loss.

``loss(y_true, y_pred)`` returns a scalar Tensor. A cross-entropy on probabilities
names the output activation it inverts (``logits_activation``): when ``y_pred`` is
that activation's output, marked with its logits z (``chainrule.activations``), the
loss takes z and ``call_on_logits`` applies the fused, stable primitive, so the
output delta is exactly dL/dz = (o - y) / n. ``fuses(y_pred)`` is that decision,
made in this one place (explain asks it too).
"""
import math
import re

from . import functional as F
from .backend import xp
from .primitives.base import tensor_like
from .tensor import get_default_dtype

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before a log, as in Keras


class Loss:
    """L = mean over the batch of l(y_true, y_pred)."""

    logits_activation = None

    def __init__(self, name=None):
        self.name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def __call__(self, y_true, y_pred):
        return self.call(y_true, tensor_like(y_pred))

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def fuses(self, y_pred):
        """Whether this loss takes ``y_pred``'s logits z instead of ``y_pred`` (a fused output)."""
        return False

    def call_on_logits(self, y_true, logits):
        """The loss of ``logits_activation(logits)``, computed from the logits by the fused primitive."""
        raise NotImplementedError

    def prepare_targets(self, y, output_shape):
        """``y`` as this loss reads it for outputs of per-sample shape ``output_shape``:
        float targets of that shape. Raises ValueError naming ``y`` otherwise."""
        y = y.astype(get_default_dtype(), copy=False)
        if y.shape[1:] == tuple(output_shape):
            return y
        if y.ndim >= 1 and math.prod(y.shape[1:]) == math.prod(output_shape):
            return y.reshape((len(y), *output_shape))
        raise ValueError(f"y: {self.name} expects targets of shape (n, {', '.join(map(str, output_shape))}) "
                         f"to match the model's output, got shape {y.shape}")

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(Loss):
    """L = mean((y_pred - y_true)**2)."""

    def call(self, y_true, y_pred):
        return F.mse_loss(y_pred, y_true)


class MeanAbsoluteError(Loss):
    """L = mean(|y_pred - y_true|)."""

    def call(self, y_true, y_pred):
        return F.l1_loss(y_pred, y_true)


class Huber(Loss):
    """L = mean(d**2 / 2 if |d| <= delta else delta * (|d| - delta / 2)), d = y_pred - y_true."""

    def __init__(self, delta=1.0, name=None):
        super().__init__(name)
        if not delta > 0:
            raise ValueError(f"delta: expected a positive number, got {delta!r}")
        self.delta = float(delta)

    def call(self, y_true, y_pred):
        return F.huber_loss(y_pred, y_true, delta=self.delta)

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


class _CrossEntropy(Loss):
    """A log loss: on probabilities, or on logits with ``from_logits=True``."""

    def __init__(self, from_logits=False, name=None):
        super().__init__(name)
        self.from_logits = bool(from_logits)
        if from_logits:
            self.logits_activation = None

    def fuses(self, y_pred):
        return (not self.from_logits and self.logits_activation is not None
                and getattr(y_pred, "logits_activation", None) == self.logits_activation)

    def call(self, y_true, y_pred):
        if self.from_logits:
            return self.call_on_logits(y_true, y_pred)
        if self.fuses(y_pred):
            return self.call_on_logits(y_true, y_pred.logits)
        return self.call_on_probabilities(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(_CrossEntropy):
    """L = -mean(y log p + (1 - y) log(1 - p));  on logits z, p = sigmoid(z) and dL/dz = (p - y) / n."""

    logits_activation = "sigmoid"

    def call_on_probabilities(self, y_true, y_pred):
        return F.binary_cross_entropy(y_pred.clip(EPSILON, 1 - EPSILON), y_true)

    def call_on_logits(self, y_true, logits):
        return F.binary_cross_entropy_with_logits(logits, y_true)

    def prepare_targets(self, y, output_shape):
        y = super().prepare_targets(y, output_shape)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"y: binary_crossentropy expects targets in [0, 1], got values in [{y.min()}, {y.max()}]")
        return y


class CategoricalCrossentropy(_CrossEntropy):
    """L = -mean_i sum_c y_ic log p_ic for one-hot (or probability) targets;
    on logits z, p = softmax(z) and dL/dz = (p - y) / n."""

    logits_activation = "softmax"

    def call_on_probabilities(self, y_true, y_pred):
        p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(EPSILON, 1 - EPSILON)
        return -(tensor_like(y_true) * p.log()).sum(axis=-1).mean()

    def call_on_logits(self, y_true, logits):
        return F.cross_entropy(logits, y_true)

    def prepare_targets(self, y, output_shape):
        if y.ndim != 2 or (y.shape[1],) != tuple(output_shape):
            raise ValueError(f"y: categorical_crossentropy expects one-hot targets of shape (n, {output_shape[-1]}) "
                             f"matching the output's {output_shape[-1]} units, got shape {y.shape}"
                             + ("; for integer class labels use sparse_categorical_crossentropy" if y.ndim == 1 else ""))
        return y.astype(get_default_dtype(), copy=False)


class SparseCategoricalCrossentropy(_CrossEntropy):
    """L = -mean_i log p_i[y_i] for integer class labels y_i in [0, classes);
    on logits z, p = softmax(z) and dL/dz = (p - onehot(y)) / n."""

    logits_activation = "softmax"

    def call_on_probabilities(self, y_true, y_pred):
        picked = y_pred[xp.arange(len(y_true)), y_true]
        return -picked.clip(EPSILON, 1 - EPSILON).log().mean()

    def call_on_logits(self, y_true, logits):
        return F.cross_entropy(logits, y_true)

    def prepare_targets(self, y, output_shape):
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1 or len(output_shape) != 1:
            raise ValueError(f"y: sparse_categorical_crossentropy expects integer labels of shape (n,) for outputs of "
                             f"shape (n, classes), got y of shape {y.shape} for outputs (n, {', '.join(map(str, output_shape))})")
        if y.dtype.kind == "f" and not xp.array_equal(y, xp.round(y)):
            raise ValueError("y: sparse_categorical_crossentropy expects integer class labels, got non-integer values")
        classes = output_shape[0]
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(f"y: labels must be in [0, {classes}) for an output of {classes} units, "
                             f"got values in [{y.min():g}, {y.max():g}]")
        return y.astype(xp.intp)


class LossFunctionWrapper(Loss):
    """A plain function ``fn(y_true, y_pred) -> scalar Tensor`` used as a loss (as Keras accepts in compile)."""

    def __init__(self, fn, name=None):
        super().__init__(name or getattr(fn, "__name__", "custom_loss"))
        self.fn = fn

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred)


mse = mean_squared_error = MeanSquaredError
mae = mean_absolute_error = MeanAbsoluteError
huber = Huber
binary_crossentropy = BinaryCrossentropy
categorical_crossentropy = CategoricalCrossentropy
sparse_categorical_crossentropy = SparseCategoricalCrossentropy

_BY_NAME = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "huber": Huber, "huber_loss": Huber,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}


def get(identifier):
    """A Loss from a name ('mse', 'categorical_crossentropy', ...), a config dict, an instance
    or a function ``fn(y_true, y_pred)`` returning a scalar Tensor."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str):
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        if identifier in _CLASSES:
            return _CLASSES[identifier]()
        raise ValueError(f"loss: unknown name {identifier!r}; valid names: {', '.join(sorted(_BY_NAME))}")
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in _CLASSES:
            raise ValueError(f"loss: unknown class {name!r}; valid classes: {', '.join(sorted(_CLASSES))}")
        return _CLASSES[name].from_config(identifier.get("config", {}))
    if callable(identifier):
        return LossFunctionWrapper(identifier)
    raise TypeError(f"loss: expected a name, a config dict, a Loss or a function, got {type(identifier).__name__}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}

