"""Metrics (Keras 3 names, arguments and numerics): running values over the batches of an epoch, on arrays.

A metric accumulates state in ``update_state(y_true, y_pred, sample_weight=None)`` and
reports ``result()``; the model resets it at each epoch and logs ``result_value(metric)``,
a Python float. ``y_true`` arrives in the form the compiled loss reads (integer labels
for the sparse loss, one-hot or float targets otherwise), ``y_pred`` is the model's output;
sequence outputs (n, T, C) are averaged per timestep. ``get`` resolves names, classes,
config dicts, functions and instances; 'accuracy' is the accuracy that fits the loss.

    base           Metric, its Variable, Mean, Sum, MeanMetricWrapper
    accuracy       Accuracy, BinaryAccuracy, CategoricalAccuracy, ..., the top-k accuracies
    regression     MSE, MAE, MAPE, MSLE, RMSE, cosine similarity, log-cosh, R2
    probabilistic  the cross-entropies as metrics
    confusion      TP/FP/TN/FN, Precision, Recall, the "X at Y" metrics, AUC
    fscore, iou    F-beta and F1; IoU, MeanIoU and their one-hot and binary forms
"""
from .. import losses
from .accuracy import (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                       SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, accuracy, binary_accuracy,
                       categorical_accuracy, sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                       top_k_categorical_accuracy)
from .base import Mean, MeanMetricWrapper, Metric, Sum, Variable, as_array, snake_case
from .confusion import (AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall, RecallAtPrecision,
                        SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives, TruePositives)
from .fscore import F1Score, FBetaScore
from .iou import IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from .probabilistic import (BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
                            binary_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy)
from .regression import (CosineSimilarity, LogCoshError, MeanAbsoluteError, MeanAbsolutePercentageError,
                         MeanSquaredError, MeanSquaredLogarithmicError, R2Score, RootMeanSquaredError,
                         cosine_similarity, huber, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                         mean_squared_error, mean_squared_logarithmic_error)

mse = mean_squared_error
mae = mean_absolute_error
mape = mean_absolute_percentage_error
msle = mean_squared_logarithmic_error


def _huber(name="huber", dtype=None, delta=1.0):
    return MeanMetricWrapper(huber, name=name, dtype=dtype, delta=delta)


# Keras' names for its metric functions and their aliases; every class is also found
# by its name and its snake_case form ('AUC', 'auc', 'R2Score', 'r2_score').
_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "logcosh": LogCoshError, "cosine_similarity": CosineSimilarity, "huber": _huber,
    "bce": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall,
}
_ACCURACY_NAMES = ("accuracy", "acc")


def _metric_classes():
    """Every Metric subclass defined so far (a user's too), by class name."""
    found, todo = {}, [Metric]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if not sub.__name__.startswith("_"):
                found.setdefault(sub.__name__, sub)
            todo.append(sub)
    return found


def get(identifier, loss=None, output_units=None):
    """A Metric from an instance, a Metric class, a name, a config dict or a function
    ``fn(y_true, y_pred)`` returning per-sample values (wrapped in MeanMetricWrapper under
    its name). 'accuracy' (or 'acc') becomes the accuracy that fits the loss, as in Keras:
    sparse for sparse_categorical_crossentropy, binary for binary_crossentropy or a single
    output unit, categorical otherwise. A name becomes the metric's name."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        return _from_name(identifier, loss, output_units)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, losses.Loss):
        return _from_loss(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier, name=getattr(identifier, "name", None) or getattr(identifier, "__name__", None))
    raise TypeError(f"metrics: expected a name, a config dict, a Metric or a function, got {type(identifier).__name__}")


def _from_name(name, loss, output_units):
    if name in _ACCURACY_NAMES:
        return _accuracy_for(loss, output_units)(name=name)
    if name in _BY_NAME:
        return _BY_NAME[name](name=name)
    classes = _metric_classes()
    cls = classes.get(name) or {snake_case(class_name): c for class_name, c in classes.items()}.get(name)
    if cls is not None:
        try:
            return cls()
        except TypeError as error:
            raise ValueError(f"metrics: {name!r} needs arguments ({error}); pass an instance, "
                             f"e.g. {cls.__name__}(...)") from None
    public = sorted(c for c in classes if c not in ("Metric", "Variable"))
    raise ValueError(f"metrics: unknown name {name!r}; valid names: {', '.join(sorted({*_BY_NAME, *_ACCURACY_NAMES}))}; "
                     f"or a class name (or its snake_case form): {', '.join(public)}")


def _from_loss(loss):
    """The metric computing ``loss`` per sample (so batches and sample weights count as Keras counts them)."""
    kind = {losses.MeanSquaredError: MeanSquaredError, losses.MeanAbsoluteError: MeanAbsoluteError,
            losses.BinaryCrossentropy: BinaryCrossentropy, losses.CategoricalCrossentropy: CategoricalCrossentropy,
            losses.SparseCategoricalCrossentropy: SparseCategoricalCrossentropy}
    if type(loss) in kind:
        options = {"from_logits": loss.from_logits} if hasattr(loss, "from_logits") else {}
        return kind[type(loss)](name=loss.name, **options)
    if isinstance(loss, losses.Huber):
        return _huber(name=loss.name, delta=loss.delta)
    return MeanMetricWrapper(getattr(loss, "fn", loss), name=loss.name)


def _accuracy_for(loss, output_units):
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return SparseCategoricalAccuracy
    if isinstance(loss, losses.BinaryCrossentropy) or output_units == 1:
        if getattr(loss, "from_logits", False):
            return lambda name: BinaryAccuracy(name, threshold=0.0)
        return BinaryAccuracy
    return CategoricalAccuracy


def serialize(metric):
    """{'class_name', 'config'}: what ``get`` (or ``deserialize``) rebuilds the metric from;
    a plain function is serialized as its MeanMetricWrapper."""
    metric = get(metric)
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """The Metric a ``serialize`` dict describes (a user's Metric subclass too, once defined)."""
    name = config.get("class_name")
    classes = _metric_classes()
    if name not in classes:
        raise ValueError(f"metrics: unknown class {name!r}; valid classes: {', '.join(sorted(classes))}")
    return classes[name].from_config(config.get("config", {}))


def result_value(metric):
    """``metric.result()`` as the model logs it: a Python float, or a list of floats for a
    metric with several values (per threshold or per class)."""
    value = as_array(metric.result())
    return float(value.reshape(())) if value.size == 1 else value.astype(float).tolist()


__all__ = [
    "AUC", "Accuracy", "BinaryAccuracy", "BinaryCrossentropy", "BinaryIoU", "CategoricalAccuracy",
    "CategoricalCrossentropy", "CosineSimilarity", "F1Score", "FBetaScore", "FalseNegatives", "FalsePositives", "IoU",
    "LogCoshError", "Mean", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanIoU", "MeanMetricWrapper",
    "MeanSquaredError", "MeanSquaredLogarithmicError", "Metric", "OneHotIoU", "OneHotMeanIoU", "Precision",
    "PrecisionAtRecall", "R2Score", "Recall", "RecallAtPrecision", "RootMeanSquaredError", "SensitivityAtSpecificity",
    "SparseCategoricalAccuracy", "SparseCategoricalCrossentropy", "SparseTopKCategoricalAccuracy",
    "SpecificityAtSensitivity", "Sum", "TopKCategoricalAccuracy", "TrueNegatives", "TruePositives", "Variable",
    "accuracy", "binary_accuracy", "binary_crossentropy", "categorical_accuracy", "categorical_crossentropy",
    "cosine_similarity", "deserialize", "get", "huber", "log_cosh", "mae", "mape", "mean_absolute_error",
    "mean_absolute_percentage_error", "mean_squared_error", "mean_squared_logarithmic_error", "mse", "msle",
    "result_value", "serialize", "sparse_categorical_accuracy", "sparse_categorical_crossentropy",
    "sparse_top_k_categorical_accuracy", "top_k_categorical_accuracy",
]
