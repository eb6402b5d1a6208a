"""Every metric agrees with Keras 3 (JAX backend): the same batches, with and without sample
weights, give the same result within float32 rounding. Skipped where keras is not installed."""
import os
import zlib

import numpy as np
import pytest

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras")

from chainrule import metrics  # noqa: E402

pytestmark = pytest.mark.keras_oracle

BATCHES = (12, 10, 8)
N, CLASSES, STEPS = sum(BATCHES), 5, 4


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def data(kind, rng):
    """(y_true, y_pred) float32 arrays of N samples for a kind of problem."""
    z = rng.normal(size=(N, CLASSES)).astype(np.float32)
    labels = rng.integers(0, CLASSES, size=N)
    if kind == "binary":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), rng.uniform(size=(N, 1)).astype(np.float32)
    if kind == "binary_logits":
        return rng.integers(0, 2, size=(N, 1)).astype(np.float32), z[:, :1] * 3
    if kind == "multilabel":
        return rng.integers(0, 2, size=(N, 4)).astype(np.float32), rng.uniform(size=(N, 4)).astype(np.float32)
    if kind == "onehot":
        return np.eye(CLASSES, dtype=np.float32)[labels], softmax(z).astype(np.float32)
    if kind == "onehot_logits":
        return np.eye(CLASSES, dtype=np.float32)[labels], z
    if kind == "sparse":
        return labels, softmax(z).astype(np.float32)
    if kind == "sparse_logits":
        return labels, z
    if kind == "labels":
        return labels, np.where(rng.uniform(size=N) < 0.6, labels, rng.integers(0, CLASSES, size=N))
    if kind == "regression":
        y = rng.uniform(0.5, 3.0, size=(N, 3)).astype(np.float32)
        return y, (y + rng.normal(scale=0.5, size=(N, 3))).astype(np.float32)
    if kind == "seq_sparse":
        zs = rng.normal(size=(N, STEPS, CLASSES)).astype(np.float32)
        return rng.integers(0, CLASSES, size=(N, STEPS)), softmax(zs).astype(np.float32)
    if kind == "seq_onehot":
        zs = rng.normal(size=(N, STEPS, CLASSES)).astype(np.float32)
        return np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, size=(N, STEPS))], softmax(zs).astype(np.float32)
    raise ValueError(kind)


# (class name, constructor arguments, data kind): the same class and arguments in both libraries.
CASES = [
    ("Accuracy", {}, "labels"),
    ("BinaryAccuracy", {}, "binary"),
    ("BinaryAccuracy", {"threshold": 0.3}, "multilabel"),
    ("CategoricalAccuracy", {}, "onehot"),
    ("CategoricalAccuracy", {}, "seq_onehot"),
    ("SparseCategoricalAccuracy", {}, "sparse"),
    ("SparseCategoricalAccuracy", {}, "seq_sparse"),
    ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("TopKCategoricalAccuracy", {"k": 3}, "seq_onehot"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "seq_sparse"),
    ("AUC", {}, "binary"),
    ("AUC", {"curve": "PR"}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "minoring", "num_thresholds": 50}, "multilabel"),
    ("AUC", {"summation_method": "majoring"}, "multilabel"),
    ("AUC", {"multi_label": True}, "multilabel"),
    ("AUC", {"multi_label": True, "curve": "PR", "label_weights": [0.5, 1.0, 2.0, 0.0]}, "multilabel"),
    ("AUC", {"label_weights": [0.5, 1.0, 2.0, 0.0]}, "multilabel"),
    ("AUC", {"thresholds": [0.2, 0.5, 0.9, 0.35]}, "binary"),
    ("AUC", {"from_logits": True}, "binary_logits"),
    ("AUC", {"curve": "PRGAIN"}, "binary"),
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.3, 0.5, 0.8]}, "multilabel"),
    ("Precision", {"top_k": 2}, "onehot"),
    ("Precision", {"class_id": 2, "thresholds": 0.25}, "onehot"),
    ("Precision", {"top_k": 2, "class_id": 1, "thresholds": 0.1}, "onehot"),
    ("Recall", {}, "binary"),
    ("Recall", {"thresholds": [0.7, 0.2]}, "multilabel"),
    ("Recall", {"top_k": 3}, "onehot"),
    ("Recall", {"class_id": 0}, "onehot"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": [0.25, 0.75]}, "multilabel"),
    ("TrueNegatives", {}, "multilabel"),
    ("FalseNegatives", {"thresholds": 0.6}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.6}, "binary"),
    ("PrecisionAtRecall", {"recall": 0.8, "num_thresholds": 20, "class_id": 1}, "onehot"),
    ("RecallAtPrecision", {"precision": 0.5}, "binary"),
    ("SensitivityAtSpecificity", {"specificity": 0.5}, "multilabel"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 1}, "binary"),
    ("MeanSquaredError", {}, "regression"),
    ("RootMeanSquaredError", {}, "regression"),
    ("MeanAbsoluteError", {}, "regression"),
    ("MeanAbsolutePercentageError", {}, "regression"),
    ("MeanSquaredLogarithmicError", {}, "regression"),
    ("CosineSimilarity", {}, "regression"),
    ("LogCoshError", {}, "regression"),
    ("R2Score", {}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"num_regressors": 2}, "regression"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "micro", "threshold": 0.3}, "multilabel"),
    ("F1Score", {"average": "macro"}, "onehot"),
    ("F1Score", {"average": "weighted", "threshold": 0.5}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "macro", "threshold": 0.4}, "multilabel"),
    ("FBetaScore", {"beta": 0.5}, "onehot"),
    ("IoU", {"num_classes": CLASSES, "target_class_ids": [0, 2]}, "labels"),
    ("IoU", {"num_classes": CLASSES, "target_class_ids": [1, 3], "ignore_class": 3}, "labels"),
    ("MeanIoU", {"num_classes": CLASSES}, "labels"),
    ("OneHotIoU", {"num_classes": CLASSES, "target_class_ids": [1, 4]}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": CLASSES}, "onehot"),
    ("BinaryIoU", {"threshold": 0.4}, "binary"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"label_smoothing": 0.1}, "multilabel"),
    ("BinaryCrossentropy", {"from_logits": True}, "binary_logits"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("CategoricalCrossentropy", {"from_logits": True}, "onehot_logits"),
    ("CategoricalCrossentropy", {}, "seq_onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("SparseCategoricalCrossentropy", {"from_logits": True}, "sparse_logits"),
    ("SparseCategoricalCrossentropy", {}, "seq_sparse"),
]


def case_id(case):
    name, kwargs, kind = case
    return f"{name}-{kind}" + "".join(f"-{k}={v}" for k, v in kwargs.items())


def run(metric, y_true, y_pred, weights):
    start = 0
    for size in BATCHES:
        window = slice(start, start + size)
        metric.update_state(y_true[window], y_pred[window], None if weights is None else weights[window])
        start += size
    return np.asarray(metric.result(), dtype=np.float64)


def sample_weights(name, kind, rng):
    if name.endswith("IoU"):  # Keras casts IoU weights to int
        return rng.integers(0, 3, size=N).astype(np.float32)
    if kind.startswith("seq"):
        return rng.uniform(0, 2, size=(N, STEPS)).astype(np.float32)
    return rng.uniform(0, 2, size=N).astype(np.float32)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_metric_matches_keras(case, weighted):
    name, kwargs, kind = case
    rng = np.random.default_rng(zlib.crc32(case_id(case).encode()))
    y_true, y_pred = data(kind, rng)
    weights = sample_weights(name, kind, rng) if weighted else None
    ours = run(getattr(metrics, name)(**kwargs), y_true, y_pred, weights)
    theirs = run(getattr(keras.metrics, name)(**kwargs), y_true, y_pred, weights)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name, kind", [("mse", "regression"), ("mae", "regression"), ("mape", "regression"),
                                        ("msle", "regression"), ("binary_crossentropy", "binary"),
                                        ("categorical_crossentropy", "onehot"), ("auc", "binary"),
                                        ("precision", "binary"), ("recall", "binary"),
                                        ("sparse_categorical_accuracy", "sparse"), ("cosine_similarity", "regression")])
def test_metric_names_match_keras(name, kind):
    rng = np.random.default_rng(7)
    y_true, y_pred = data(kind, rng)
    weights = rng.uniform(0, 2, size=N).astype(np.float32)
    ours = run(metrics.get(name), y_true, y_pred, weights)
    theirs = run(keras.metrics.get(name), y_true, y_pred, weights)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("kind", ["regression", "seq_sparse"])
def test_mean_and_sum_match_keras(kind):
    rng = np.random.default_rng(3)
    values = data(kind, rng)[1]
    weights = rng.uniform(0, 2, size=N).astype(np.float32)
    for name in ("Mean", "Sum"):
        ours, theirs = getattr(metrics, name)(), getattr(keras.metrics, name)()
        for metric in (ours, theirs):
            metric.update_state(values[:12], weights[:12])
            metric.update_state(values[12:])
        np.testing.assert_allclose(np.asarray(ours.result()), np.asarray(theirs.result()), rtol=2e-5)


def test_a_wrapped_function_matches_keras():
    def squared_log_ratio(y_true, y_pred):
        return np.mean(np.log(y_pred / y_true) ** 2, axis=-1)

    rng = np.random.default_rng(5)
    y_true, y_pred = data("regression", rng)
    y_pred = np.abs(y_pred) + 0.1
    weights = rng.uniform(0, 2, size=N).astype(np.float32)
    ours = run(metrics.MeanMetricWrapper(squared_log_ratio), y_true, y_pred, weights)
    theirs = run(keras.metrics.MeanMetricWrapper(squared_log_ratio), y_true, y_pred, weights)
    np.testing.assert_allclose(ours, theirs, rtol=2e-5)
