"""F-scores: F_beta = (1 + beta**2) P R / (beta**2 P + R) from per-class counts, as Keras computes them."""
from ..arguments import check_number
from ..backend import xp
from .base import EPSILON, Metric, as_array


class FBetaScore(Metric):
    """F_beta per class (``average=None``), over pooled counts ('micro'), the plain mean of
    the classes' scores ('macro') or their mean weighted by each class's true count
    ('weighted'). y_pred counts as positive where it exceeds ``threshold``, or, with
    ``threshold=None``, where it is its row's maximum (and nonzero). Inputs are (n, classes)."""

    _AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if average not in self._AVERAGES:
            raise ValueError(f"average: expected one of {list(self._AVERAGES)}, got {average!r}")
        self.average = average
        self.beta = check_number("beta", beta, minimum=0, min_open=True)
        self.threshold = None if threshold is None else check_number("threshold", threshold, 0, 1, min_open=True)
        self.counts = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = xp.asarray(as_array(y_true), dtype=float), as_array(y_pred)
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"y_pred: {type(self).__name__} expects 2D inputs (batch_size, classes), "
                             f"got y_true {y_true.shape} and y_pred {y_pred.shape}")
        if self.counts is None:
            shape = () if self.average == "micro" else (y_pred.shape[1],)
            self.counts = {key: self.add_variable(shape, "zeros", name=key)
                           for key in ("true_positives", "false_positives", "false_negatives", "intermediate_weights")}
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (xp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(float)
        w = xp.ones((len(y_true), 1)) if sample_weight is None else xp.asarray(as_array(sample_weight), float)[:, None]
        axis = None if self.average == "micro" else 0
        for key, value in (("true_positives", predicted * y_true), ("false_positives", predicted * (1 - y_true)),
                           ("false_negatives", (1 - predicted) * y_true), ("intermediate_weights", y_true)):
            self.counts[key].assign_add((value * w).sum(axis=axis))

    def result(self):
        if self.counts is None:
            return xp.float64(0.0)
        tp, fp, fn, support = (v.value for v in self.counts.values())
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * precision * recall / (b2 * precision + recall + EPSILON)
        if self.average == "weighted":
            return (score * support / (support.sum() + EPSILON)).sum()
        return score.mean() if self.average is not None else score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """F_1 = 2 P R / (P + R)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
