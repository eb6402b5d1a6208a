"""Metrics (Keras names): running values over the batches of an epoch, on plain arrays.

A metric accumulates sums in ``update_state(y_true, y_pred)`` and reports
``result()``; the model resets it at each epoch. ``y_true`` arrives in the form
the compiled loss reads (integer labels for the sparse loss, one-hot or
float targets otherwise), ``y_pred`` is the model's output.
"""
from .backend import xp


def _as_dense(y_true, y_pred):
    """``y_true`` in ``y_pred``'s shape: integer labels become one-hot rows."""
    if y_true.ndim == 1 and y_pred.ndim == 2 and y_pred.shape[1] > 1:
        return xp.eye(y_pred.shape[1], dtype=y_pred.dtype)[y_true]
    return y_true.reshape(y_pred.shape)


class Metric:
    def __init__(self, name=None):
        self.name = name or self.default_name
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0

    def update_state(self, y_true, y_pred):
        values = self.values(y_true, y_pred)
        self.total += float(values.sum())
        self.count += values.size

    def result(self):
        return self.total / self.count if self.count else 0.0

    def get_config(self):
        return {"name": self.name}


class BinaryAccuracy(Metric):
    """mean([y_pred > threshold] == y_true)."""

    default_name = "binary_accuracy"

    def __init__(self, name=None, threshold=0.5):
        self.threshold = threshold
        super().__init__(name)

    def values(self, y_true, y_pred):
        return (y_pred > self.threshold) == (y_true > 0.5)

    def get_config(self):
        return {"name": self.name, "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """mean(argmax(y_pred) == argmax(y_true)) for one-hot targets."""

    default_name = "categorical_accuracy"

    def values(self, y_true, y_pred):
        return y_pred.argmax(axis=-1) == y_true.argmax(axis=-1)


class SparseCategoricalAccuracy(Metric):
    """mean(argmax(y_pred) == y_true) for integer labels."""

    default_name = "sparse_categorical_accuracy"

    def values(self, y_true, y_pred):
        return y_pred.argmax(axis=-1) == y_true


class MeanSquaredError(Metric):
    """mean((y_pred - y_true)**2) (integer labels compared as one-hot rows)."""

    default_name = "mean_squared_error"

    def values(self, y_true, y_pred):
        d = y_pred - _as_dense(y_true, y_pred)
        return d * d


class MeanAbsoluteError(Metric):
    """mean(|y_pred - y_true|)."""

    default_name = "mean_absolute_error"

    def values(self, y_true, y_pred):
        return xp.abs(y_pred - _as_dense(y_true, y_pred))


class _Confusion(Metric):
    """Counts of true positives, false positives and false negatives, with
    y_pred > threshold as the positive prediction (each output unit its own
    binary decision; integer labels are one-hot encoded first)."""

    def __init__(self, name=None, thresholds=0.5):
        self.threshold = thresholds
        super().__init__(name)

    def reset_state(self):
        self.true_positives = self.false_positives = self.false_negatives = 0

    def update_state(self, y_true, y_pred):
        actual = _as_dense(y_true, y_pred) > 0.5
        predicted = y_pred > self.threshold
        self.true_positives += int((actual & predicted).sum())
        self.false_positives += int((~actual & predicted).sum())
        self.false_negatives += int((actual & ~predicted).sum())

    def get_config(self):
        return {"name": self.name, "thresholds": self.threshold}


class Precision(_Confusion):
    """TP / (TP + FP)."""

    default_name = "precision"

    def result(self):
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 0.0


class Recall(_Confusion):
    """TP / (TP + FN)."""

    default_name = "recall"

    def result(self):
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 0.0


_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "precision": Precision, "recall": Recall,
}
_ACCURACY_NAMES = ("accuracy", "acc")
_CLASSES = {cls.__name__: cls for cls in set(_BY_NAME.values())}


def get(identifier, loss=None, output_units=None):
    """A Metric from a name, a config dict or an instance. 'accuracy' (or 'acc')
    becomes the accuracy that fits the loss, as in Keras: sparse for
    sparse_categorical_crossentropy, binary for binary_crossentropy or a single
    output unit, categorical otherwise."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        if identifier in _ACCURACY_NAMES:
            return _accuracy_for(loss, output_units)(name=identifier)
        if identifier in _BY_NAME:
            return _BY_NAME[identifier](name=identifier)
        valid = sorted({*_BY_NAME, *_ACCURACY_NAMES})
        raise ValueError(f"metrics: unknown name {identifier!r}; valid names: {', '.join(valid)}")
    if isinstance(identifier, dict):
        name = identifier.get("class_name")
        if name not in _CLASSES:
            raise ValueError(f"metrics: unknown class {name!r}; valid classes: {', '.join(sorted(_CLASSES))}")
        return _CLASSES[name](**identifier.get("config", {}))
    raise TypeError(f"metrics: expected a name, a config dict or a Metric, got {type(identifier).__name__}")


def _accuracy_for(loss, output_units):
    from . import losses
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy
    if isinstance(loss, losses.BinaryCrossentropy) or output_units == 1:
        if getattr(loss, "from_logits", False):
            return lambda name: BinaryAccuracy(name, threshold=0.0)
        return BinaryAccuracy
    return CategoricalAccuracy


def serialize(metric):
    return {"class_name": type(metric).__name__, "config": metric.get_config()}
