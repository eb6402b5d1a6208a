"""Losses by name and as classes (Keras names), each the batch mean of a per-sample loss.

``loss(y_true, y_pred)`` returns a scalar Tensor. A cross-entropy on probabilities
names the output activation it inverts (``logits_activation``): when ``y_pred`` is
that activation's output, marked with its logits z (``chainrule.activations``), the
loss takes z and ``call_on_logits`` applies the fused, stable primitive, so the
output delta is exactly dL/dz = (o - y) / n. ``fuses(y_pred)`` is that decision,
made in this one place (explain asks it too).
"""
import inspect
import re

from . import functional as F
from .backend import xp
from .primitives.base import tensor_like
from .tensor import get_default_dtype

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before a log, as in Keras


class Loss:
    """L = mean over the batch of l(y_true, y_pred); with ``sample_weight`` w (one per sample, or per
    time step), L = sum(w * l) / (number of values of l), Keras' 'sum_over_batch_size'."""

    logits_activation = None
    call_takes_reduction = True
    elementwise = False   # True: call(..., "none") gives one value per output entry, averaged over the last axis

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.call_takes_reduction = "reduction" in inspect.signature(cls.call).parameters

    def __init__(self, name=None):
        self.name = name or re.sub(r"(?<!^)(?=[A-Z])", "_", type(self).__name__).lower()

    def __call__(self, y_true, y_pred, sample_weight=None):
        y_pred = tensor_like(y_pred)
        if sample_weight is None:
            value = self.call(y_true, y_pred)
            return value.mean() if value.ndim else value    # a Keras-style call gives one value per sample
        values = self.values(y_true, y_pred)
        weights = xp.asarray(sample_weight, dtype=values.dtype)
        while weights.ndim > values.ndim and weights.shape[-1] == 1:    # (n, 1) weights for (n,) values
            weights = weights[..., 0]
        weights = weights.reshape(weights.shape + (1,) * (values.ndim - weights.ndim))
        return (values * tensor_like(xp.broadcast_to(weights, values.shape))).sum() * (1.0 / values.size)

    def call(self, y_true, y_pred, reduction="mean"):
        """The loss, reduced by ``reduction``: 'mean' (a scalar) or 'none'."""
        raise NotImplementedError

    def values(self, y_true, y_pred):
        """l per sample (per time step for sequence outputs), before the batch mean."""
        if not self.call_takes_reduction:      # a subclass written the Keras way returns them from call
            return tensor_like(self.call(y_true, y_pred))
        values = self.call(y_true, y_pred, "none")
        return values.mean(axis=-1) if self.elementwise else values

    def fuses(self, y_pred):
        """Whether this loss takes ``y_pred``'s logits z instead of ``y_pred`` (a fused output)."""
        return False

    def call_on_logits(self, y_true, logits):
        """The loss of ``logits_activation(logits)``, computed from the logits by the fused primitive."""
        raise NotImplementedError

    def prepare_targets(self, y, output_shape):
        """``y`` as this loss reads it for outputs of per-sample shape ``output_shape``:
        float targets of that shape. As Keras does, a trailing axis of 1 may be added or
        dropped ((n,) targets for (n, 1) outputs); any other shape is a ValueError naming ``y``,
        never a silent reshape."""
        y = y.astype(get_default_dtype(), copy=False)
        output_shape = tuple(output_shape)
        if y.shape[1:] == output_shape:
            return y
        if y.ndim >= 1 and (y.shape[1:] + (1,) == output_shape or y.shape[1:] == output_shape + (1,)):
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

    elementwise = True

    def call(self, y_true, y_pred, reduction="mean"):
        return F.mse_loss(y_pred, y_true, reduction)


class MeanAbsoluteError(Loss):
    """L = mean(|y_pred - y_true|)."""

    elementwise = True

    def call(self, y_true, y_pred, reduction="mean"):
        return F.l1_loss(y_pred, y_true, reduction)


class Huber(Loss):
    """L = mean(d**2 / 2 if |d| <= delta else delta * (|d| - delta / 2)), d = y_pred - y_true."""

    elementwise = True

    def __init__(self, delta=1.0, name=None):
        super().__init__(name)
        if not delta > 0:
            raise ValueError(f"delta: expected a positive number, got {delta!r}")
        self.delta = float(delta)

    def call(self, y_true, y_pred, reduction="mean"):
        return F.huber_loss(y_pred, y_true, reduction, delta=self.delta)

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

    def call(self, y_true, y_pred, reduction="mean"):
        if self.from_logits:
            return self.call_on_logits(y_true, y_pred, reduction)
        if self.fuses(y_pred):
            return self.call_on_logits(y_true, y_pred.logits, reduction)
        return self.call_on_probabilities(y_true, y_pred, reduction)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


class BinaryCrossentropy(_CrossEntropy):
    """L = -mean(y log p + (1 - y) log(1 - p));  on logits z, p = sigmoid(z) and dL/dz = (p - y) / n."""

    logits_activation = "sigmoid"
    elementwise = True

    def call_on_probabilities(self, y_true, y_pred, reduction="mean"):
        return F.binary_cross_entropy(y_pred.clip(EPSILON, 1 - EPSILON), y_true, reduction)

    def call_on_logits(self, y_true, logits, reduction="mean"):
        return F.binary_cross_entropy_with_logits(logits, y_true, reduction)

    def prepare_targets(self, y, output_shape):
        y = super().prepare_targets(y, output_shape)
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError(f"y: binary_crossentropy expects targets in [0, 1], got values in [{y.min()}, {y.max()}]")
        return y


class CategoricalCrossentropy(_CrossEntropy):
    """L = -mean_i sum_c y_ic log p_ic for one-hot (or probability) targets;
    on logits z, p = softmax(z) and dL/dz = (p - y) / n. Outputs (n, T, C) are n * T classifications."""

    logits_activation = "softmax"

    def call_on_probabilities(self, y_true, y_pred, reduction="mean"):
        p = (y_pred / y_pred.sum(axis=-1, keepdims=True)).clip(EPSILON, 1 - EPSILON)
        values = -(tensor_like(y_true) * p.log()).sum(axis=-1)
        return values.mean() if reduction == "mean" else values

    def call_on_logits(self, y_true, logits, reduction="mean"):
        return _per_row(F.cross_entropy, logits, y_true, reduction, y_true.shape[-1:])

    def prepare_targets(self, y, output_shape):
        if y.shape[1:] != tuple(output_shape):
            raise ValueError(f"y: categorical_crossentropy expects one-hot targets of shape "
                             f"(n, {', '.join(map(str, output_shape))}) matching the output, got shape {y.shape}"
                             + ("; for integer class labels use sparse_categorical_crossentropy"
                                if y.shape[1:] == tuple(output_shape[:-1]) else ""))
        return y.astype(get_default_dtype(), copy=False)


class SparseCategoricalCrossentropy(_CrossEntropy):
    """L = -mean_i log p_i[y_i] for integer class labels y_i in [0, classes);
    on logits z, p = softmax(z) and dL/dz = (p - onehot(y)) / n. Outputs (n, T, C) take labels (n, T)."""

    logits_activation = "softmax"

    def call_on_probabilities(self, y_true, y_pred, reduction="mean"):
        rows = y_pred.reshape(-1, y_pred.shape[-1])
        labels = y_true.reshape(-1)
        values = -rows[xp.arange(len(labels)), labels].clip(EPSILON, 1 - EPSILON).log()
        return values.mean() if reduction == "mean" else values.reshape(y_true.shape)

    def call_on_logits(self, y_true, logits, reduction="mean"):
        return _per_row(F.cross_entropy, logits, y_true, reduction, ())

    def prepare_targets(self, y, output_shape):
        if y.ndim == len(output_shape) + 1 and y.shape[-1] == 1 and output_shape[-1] != 1:
            y = y[..., 0]
        if len(output_shape) < 1 or y.shape[1:] != tuple(output_shape[:-1]):
            raise ValueError(f"y: sparse_categorical_crossentropy expects integer labels of shape "
                             f"(n{''.join(f', {d}' for d in output_shape[:-1])}) for outputs of shape "
                             f"(n, {', '.join(map(str, output_shape))}), got y of shape {y.shape}")
        if y.dtype.kind == "f" and not xp.array_equal(y, xp.round(y)):
            raise ValueError("y: sparse_categorical_crossentropy expects integer class labels, got non-integer values")
        classes = output_shape[-1]
        if y.size and (y.min() < 0 or y.max() >= classes):
            raise ValueError(f"y: labels must be in [0, {classes}) for an output of {classes} units, "
                             f"got values in [{y.min():g}, {y.max():g}]")
        return y.astype(xp.intp)


def _per_row(loss_fn, logits, targets, reduction, target_tail):
    """``loss_fn`` on (rows, classes) logits: outputs (n, T, C) are flattened to n * T rows, and the
    'none' values put back in (n, T)."""
    if logits.ndim == 2:
        return loss_fn(logits, targets, reduction)
    rows = logits.reshape(-1, logits.shape[-1])
    values = loss_fn(rows, targets.reshape((-1, *target_tail)), reduction)
    return values if reduction == "mean" else values.reshape(logits.shape[:-1])


class LossFunctionWrapper(Loss):
    """A plain function ``fn(y_true, y_pred)`` used as a loss (as Keras accepts in compile): it returns
    the loss per sample (or per entry), averaged over the batch here, or a scalar."""

    def __init__(self, fn, name=None):
        super().__init__(name or getattr(fn, "__name__", "custom_loss"))
        self.fn = fn

    def call(self, y_true, y_pred, reduction="mean"):
        values = tensor_like(self.fn(tensor_like(y_true), y_pred))
        return values.mean() if reduction == "mean" and values.ndim else values


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

