"""Cross-entropies as metrics: Keras' per-sample log losses, averaged over samples.

On probabilities, p is clipped to [eps, 1 - eps] before the log (for the categorical
forms after normalising each row to sum 1), as in Keras; on logits
(``from_logits=True``) chainrule's fused, stable primitives give the values.
"""
from .. import functional as F
from ..backend import xp
from ..tensor import Tensor
from .base import EPSILON, MeanMetricWrapper, as_float, dense_pair, metric_function


def _class_axis_last(y_pred, axis):
    return y_pred if axis in (-1, y_pred.ndim - 1) else xp.moveaxis(y_pred, axis, -1)


def _categorical_log_loss(y_true, y_pred, from_logits):
    """-sum(y_true * log p) over the last axis, p = softmax(y_pred) or y_pred normalised and clipped."""
    if from_logits:
        classes = y_pred.shape[-1]
        rows = F.cross_entropy(Tensor(y_pred.reshape(-1, classes)), y_true.reshape(-1, classes), reduction="none")
        return rows.data.reshape(y_pred.shape[:-1])
    p = xp.clip(y_pred / y_pred.sum(axis=-1, keepdims=True), EPSILON, 1 - EPSILON)
    return -(y_true * xp.log(p)).sum(axis=-1)


@metric_function
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """mean(-(y log p + (1 - y) log(1 - p))) over ``axis``, y smoothed towards 1/2 by ``label_smoothing``."""
    y_true, y_pred = dense_pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = F.binary_cross_entropy_with_logits(Tensor(y_pred), y_true, reduction="none").data
    else:
        values = F.binary_cross_entropy(Tensor(xp.clip(y_pred, EPSILON, 1 - EPSILON)), y_true, reduction="none").data
    return values.mean(axis=axis)


@metric_function
def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum_c y_c log p_c along ``axis`` for one-hot (or probability) targets, smoothed
    towards 1/classes by ``label_smoothing``."""
    y_true, y_pred = dense_pair(_class_axis_last(y_true, axis), _class_axis_last(y_pred, axis))
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    return _categorical_log_loss(y_true, y_pred, from_logits)


@metric_function
def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None, axis=-1):
    """-log p[label] for integer labels; labels equal to ``ignore_class`` give 0."""
    y_pred = as_float(_class_axis_last(y_pred, axis))
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    labels = y_true.astype(xp.intp)
    valid = labels != ignore_class if ignore_class is not None else xp.ones(labels.shape, dtype=bool)
    one_hot = xp.eye(y_pred.shape[-1], dtype=y_pred.dtype)[xp.where(valid, labels, 0)]
    with xp.errstate(invalid="ignore", divide="ignore"):
        values = _categorical_log_loss(one_hot, y_pred, from_logits)
    return xp.where(valid, values, 0.0)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary log loss of y_pred (probabilities, or logits with ``from_logits``)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False, label_smoothing=0):
        super().__init__(binary_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)
        self.from_logits, self.label_smoothing = from_logits, label_smoothing


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical log loss for one-hot targets."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False, label_smoothing=0, axis=-1):
        super().__init__(categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean categorical log loss for integer labels."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False, ignore_class=None,
                 axis=-1):
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype, from_logits=from_logits,
                         ignore_class=ignore_class, axis=axis)
        self.from_logits, self.ignore_class, self.axis = from_logits, ignore_class, axis
