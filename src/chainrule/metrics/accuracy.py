"""Accuracies: the mean of per-sample matches (1.0 or 0.0), as Keras computes them.

Every function takes ``(y_true, y_pred)`` arrays and returns the matches, one per
sample, or one per sample and timestep for sequence outputs ``(n, T, C)``.
"""
from ..arguments import positive_int
from ..backend import xp
from .base import MeanMetricWrapper, metric_function, squeeze_or_expand


@metric_function
def accuracy(y_true, y_pred):
    """y_true == y_pred."""
    y_true, y_pred = squeeze_or_expand(y_true, y_pred)
    return (y_true == y_pred).astype(float)


@metric_function
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """y_true == [y_pred > threshold]."""
    y_true, y_pred = squeeze_or_expand(y_true, y_pred)
    return (y_true == (y_pred > threshold).astype(y_true.dtype)).astype(float)


@metric_function
def categorical_accuracy(y_true, y_pred):
    """argmax(y_true) == argmax(y_pred), over the last axis."""
    return (y_true.argmax(axis=-1) == y_pred.argmax(axis=-1)).astype(float)


def _labels(y_true, y_pred):
    """Integer labels shaped as y_pred without its class axis (a trailing size-1 axis dropped)."""
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


@metric_function
def sparse_categorical_accuracy(y_true, y_pred):
    """y_true == argmax(y_pred) for integer labels."""
    return (_labels(y_true, y_pred) == y_pred.argmax(axis=-1)).astype(float)


def in_top_k(labels, y_pred, k):
    """Whether each label's score ranks within the k largest of its row: fewer than k
    scores strictly exceed it (a NaN score never does)."""
    picked = xp.take_along_axis(y_pred, labels.astype(xp.intp)[..., None], axis=-1)
    picked = xp.where(xp.isnan(picked), -xp.inf, picked)
    return (y_pred > picked).sum(axis=-1) < k


@metric_function
def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """argmax(y_true) among the k largest scores of y_pred."""
    return in_top_k(y_true.argmax(axis=-1), y_pred, k).astype(float)


@metric_function
def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """The label among the k largest scores of y_pred (or, ``from_sorted_ids``, among
    the first k ids of y_pred, ids sorted by score)."""
    labels = _labels(y_true, y_pred)
    if from_sorted_ids:
        return (y_pred[..., :k] == labels[..., None]).any(axis=-1).astype(float)
    return in_top_k(labels, y_pred, k).astype(float)


class Accuracy(MeanMetricWrapper):
    """How often y_pred equals y_true."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often [y_pred > threshold] equals the binary y_true."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold


class CategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals argmax(y_true) (one-hot targets)."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_pred) equals the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often argmax(y_true) is among the k highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = positive_int(k, "k")
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k highest scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None, from_sorted_ids=False):
        self.k = positive_int(k, "k")
        self.from_sorted_ids = bool(from_sorted_ids)
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)
