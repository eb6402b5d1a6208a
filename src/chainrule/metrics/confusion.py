"""Thresholded confusion counts and the metrics read from them: TP/FP/TN/FN, precision,
recall, the four "X at Y" metrics and AUC, with Keras' arguments and numerics.

A prediction is positive at threshold t when y_pred > t; a label is positive when
y_true != 0. Each count is the sum of sample weights (1 without) over the entries in
its cell, one count per threshold (and per label with ``multi_label``).
"""
from ..arguments import is_int, non_negative_int, positive_int
from ..backend import xp
from .base import EPSILON, Metric, as_array, as_float, divide_no_nan, squeeze_or_expand

NEG_INF = -1e10  # the score given to entries outside the top k, as in Keras


def parse_thresholds(thresholds, default):
    """``thresholds`` (a number or a list, each in [0, 1]; None for ``default``) as a list of floats."""
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]
    bad = [t for t in values if t is None or not 0 <= t <= 1]
    if bad or not values:
        raise ValueError(f"thresholds: expected values in [0, 1], got {thresholds!r}")
    return [float(t) for t in values]


def evenly_spaced_thresholds(num_thresholds):
    """[0, 1/(m-1), ..., 1] for m = num_thresholds, built as Keras builds them."""
    inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
    return [0.0] + inner + [1.0]


def _top_k_mask(y_pred, k):
    """True at the k largest scores of each row (the lower index first among ties)."""
    order = xp.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    mask = xp.zeros(y_pred.shape, dtype=bool)
    xp.put_along_axis(mask, order, True, axis=-1)
    return mask


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None, class_id=None,
                     multi_label=False, label_weights=None):
    """{'tp', 'fp', 'tn', 'fn'}: weighted counts at each threshold, shape (T,), or (T, labels)
    with ``multi_label``. ``top_k`` keeps only each row's k highest scores as candidates,
    ``class_id`` keeps one column; ``label_weights`` weigh the columns (without multi_label).

    Counting is one pass: each prediction's number of thresholds below it, k, is found by
    binary search; a histogram of k, summed from the top, gives the positives at every threshold."""
    y_pred, y_true = squeeze_or_expand(as_float(as_array(y_pred)), as_array(y_true))
    weights = xp.ones(()) if sample_weight is None else xp.asarray(as_array(sample_weight), dtype=float)
    if sample_weight is not None:
        _, weights = squeeze_or_expand(y_true, weights[..., None], expand_rank_1=False)
    candidates = _top_k_mask(y_pred, top_k) if top_k is not None else xp.ones(y_pred.shape, dtype=bool)
    if class_id is not None:
        if y_pred.ndim < 2:
            raise ValueError(f"class_id: needs y_pred of shape (n, classes), got shape {y_pred.shape}")
        y_true, y_pred, candidates = (a[..., class_id, None] for a in (y_true, y_pred, candidates))
    weights = xp.broadcast_to(weights, y_pred.shape)
    if label_weights is not None and not multi_label:
        weights = weights * xp.broadcast_to(xp.asarray(label_weights, dtype=float), y_pred.shape)
    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(f"multi_label: expects y_pred of shape (n, labels), got shape {y_pred.shape}")
        columns = y_pred.shape[1]
    else:
        y_true, y_pred, weights, candidates = (a.reshape(-1, 1) for a in (y_true, y_pred, weights, candidates))
        columns = 1

    thresholds = xp.asarray(thresholds, dtype=float)
    order = xp.argsort(thresholds, kind="stable")
    count = len(thresholds)
    below = xp.searchsorted(thresholds[order], y_pred, side="left")
    below = xp.where(xp.isnan(y_pred) | ~candidates, 0, below)
    slot = below + xp.arange(columns) * (count + 1)
    positive = y_true != 0

    def predicted_positive(w):
        """sum of w over predictions above each threshold, shape (T, columns), thresholds in the given order."""
        histogram = xp.bincount(slot.ravel(), w.ravel(), minlength=columns * (count + 1)).reshape(columns, count + 1)
        above = xp.cumsum(histogram[:, ::-1], axis=1)[:, ::-1][:, 1:]
        out = xp.empty_like(above)
        out[:, order] = above
        return out.T

    w_pos, w_neg = xp.where(positive, weights, 0.0), xp.where(positive, 0.0, weights)
    tp, fp = predicted_positive(w_pos), predicted_positive(w_neg)
    fn, tn = w_pos.sum(axis=0) - tp, w_neg.sum(axis=0) - fp
    counts = {"tp": tp, "fp": fp, "tn": tn, "fn": fn}
    return counts if multi_label else {key: value[:, 0] for key, value in counts.items()}


class _ConfusionMetric(Metric):
    """A metric holding some of the four counts (``cells``) at ``self.thresholds``."""

    cells = ("tp", "fp", "tn", "fn")
    _names = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives", "fn": "false_negatives"}

    def _add_counts(self, shape):
        for cell in self.cells:
            setattr(self, self._names[cell], self.add_variable(shape, "zeros", name=self._names[cell]))

    def _accumulate(self, y_true, y_pred, sample_weight, **options):
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, **options)
        for cell in self.cells:
            getattr(self, self._names[cell]).assign_add(counts[cell])

    def _per_threshold(self, values):
        """One value per threshold, or a scalar for a single threshold."""
        return values[0] if len(self.thresholds) == 1 else values


class _ConditionCount(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self.accumulator = self.add_variable((len(self.thresholds),), "zeros", name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.accumulator.assign_add(confusion_counts(y_true, y_pred, self.thresholds, sample_weight)[self.cell])

    def result(self):
        return self._per_threshold(self.accumulator.numpy())

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConditionCount):
    """The weighted count of y_true != 0 with y_pred > threshold."""
    cell = "tp"


class FalsePositives(_ConditionCount):
    """The weighted count of y_true == 0 with y_pred > threshold."""
    cell = "fp"


class TrueNegatives(_ConditionCount):
    """The weighted count of y_true == 0 with y_pred <= threshold."""
    cell = "tn"


class FalseNegatives(_ConditionCount):
    """The weighted count of y_true != 0 with y_pred <= threshold."""
    cell = "fn"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else positive_int(top_k, "top_k")
        self.class_id = None if class_id is None else non_negative_int(class_id, "class_id")
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._add_counts((len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """TP / (TP + FP) (0 when nothing is predicted positive)."""

    cells = ("tp", "fp")

    def result(self):
        return self._per_threshold(divide_no_nan(self.true_positives, self.true_positives + self.false_positives))


class Recall(_PrecisionRecall):
    """TP / (TP + FN) (0 when nothing is positive)."""

    cells = ("tp", "fn")

    def result(self):
        return self._per_threshold(divide_no_nan(self.true_positives, self.true_positives + self.false_negatives))


def _check_num_thresholds(num_thresholds, minimum):
    if not is_int(num_thresholds) or num_thresholds < minimum:
        raise ValueError(f"num_thresholds: expected an int >= {minimum}, got {num_thresholds!r}")
    return int(num_thresholds)


class _AtConstraint(_ConfusionMetric):
    """The best ``dependent`` rate among the thresholds whose ``constrained`` rate is at least
    ``value`` (0 when none is), over ``num_thresholds`` evenly spaced thresholds."""

    constraint = None  # the constructor argument naming the constrained rate

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        if not 0 <= value <= 1:
            raise ValueError(f"{self.constraint}: expected a value in [0, 1], got {value!r}")
        self.value = value
        self.num_thresholds = _check_num_thresholds(num_thresholds, 1)
        self.class_id = None if class_id is None else non_negative_int(class_id, "class_id")
        self.thresholds = [0.5] if num_thresholds == 1 else evenly_spaced_thresholds(num_thresholds)
        self._add_counts((len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._accumulate(y_true, y_pred, sample_weight, class_id=self.class_id)

    def rates(self):
        tp, fp, tn, fn = (v.value for v in (self.true_positives, self.false_positives,
                                              self.true_negatives, self.false_negatives))
        return {"recall": divide_no_nan(tp, tp + fn), "precision": divide_no_nan(tp, tp + fp),
                "sensitivity": divide_no_nan(tp, tp + fn), "specificity": divide_no_nan(tn, tn + fp)}

    def result(self):
        rates = self.rates()
        feasible = rates[self.constraint] >= self.value
        return xp.max(xp.where(feasible, rates[self.dependent], 0.0), initial=0.0)

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds, self.constraint: self.value,
                "class_id": self.class_id}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) where specificity >= ``specificity``."""

    constraint, dependent = "specificity", "sensitivity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)
        self.specificity = specificity


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where sensitivity >= ``sensitivity``."""

    constraint, dependent = "sensitivity", "specificity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)
        self.sensitivity = sensitivity


class PrecisionAtRecall(_AtConstraint):
    """The best precision where recall >= ``recall``."""

    constraint, dependent = "recall", "precision"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)
        self.recall = recall


class RecallAtPrecision(_AtConstraint):
    """The best recall where precision >= ``precision``."""

    constraint, dependent = "precision", "recall"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
        self.precision = precision


class AUC(_ConfusionMetric):
    """Area under the ROC or PR curve, a Riemann sum over ``num_thresholds`` thresholds
    (-eps, the evenly spaced inner ones or the given ``thresholds``, 1 + eps).

    ``summation_method``: 'interpolation' (trapezoids for ROC; for PR, Davis & Goadrich's
    interpolation of the counts, not of precision), 'minoring' or 'majoring' (the lower or
    higher of each interval's ends). ``multi_label`` keeps one curve per label and averages
    the areas (weighted by ``label_weights``); otherwise labels are flattened and
    ``label_weights`` weigh the entries. ``from_logits`` applies a sigmoid to y_pred first."""

    _CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
    _SUMMATIONS = ("interpolation", "minoring", "majoring")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation", name=None, dtype=None,
                 thresholds=None, multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        super().__init__(name=name, dtype=dtype)
        if str(curve).lower() not in self._CURVES:
            raise ValueError(f"curve: expected one of 'ROC', 'PR', 'PRGAIN', got {curve!r}")
        if str(summation_method).lower() not in self._SUMMATIONS:
            raise ValueError(f"summation_method: expected one of {list(self._SUMMATIONS)}, got {summation_method!r}")
        self.curve = self._CURVES[str(curve).lower()]
        self.summation_method = str(summation_method).lower()
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(parse_thresholds(thresholds, None))
            self.num_thresholds = len(inner) + 2
        else:
            self.num_thresholds = _check_num_thresholds(num_thresholds, 2)
            inner = evenly_spaced_thresholds(self.num_thresholds)[1:-1]
        self.thresholds = [0.0 - EPSILON, *inner, 1.0 + EPSILON]
        self.multi_label = bool(multi_label)
        if num_labels is not None and not self.multi_label:
            raise ValueError("num_labels: is needed only when multi_label is True")
        self.num_labels = None if num_labels is None else positive_int(num_labels, "num_labels")
        self.label_weights = None if label_weights is None else [float(w) for w in as_array(label_weights).ravel()]
        self.from_logits = bool(from_logits)
        self._built = False
        if not self.multi_label or self.num_labels:
            self._build(self.num_labels)

    def _build(self, labels):
        self._add_counts((self.num_thresholds, labels) if self.multi_label else (self.num_thresholds,))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = as_float(as_array(y_pred))
        if not self._built:
            if y_pred.ndim != 2:
                raise ValueError(f"multi_label: AUC expects y_pred of shape (n, labels), got shape {y_pred.shape}")
            self._build(y_pred.shape[1])
        if self.from_logits:
            y_pred = 0.5 * (1 + xp.tanh(0.5 * y_pred))
        self._accumulate(y_true, y_pred, sample_weight, multi_label=self.multi_label,
                         label_weights=None if self.multi_label else self.label_weights)

    def _interpolated_pr_area(self, tp, fp, fn):
        """Each interval's area under precision = tp / p with tp linear in p, integrated exactly."""
        p = tp + fp
        dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
        slope = divide_no_nan(dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, divide_no_nan(p[:-1], xp.maximum(p[1:], 0)), 1.0)
        return divide_no_nan(slope * (dtp + intercept * xp.log(ratio)), xp.maximum(tp[1:] + fn[1:], 0))

    def result(self):
        if not self._built:
            return xp.float64(0.0)
        tp, fp, tn, fn = (v.value for v in (self.true_positives, self.false_positives,
                                              self.true_negatives, self.false_negatives))
        if self.curve == "PR" and self.summation_method == "interpolation":
            terms = self._interpolated_pr_area(tp, fp, fn)
        else:
            recall = divide_no_nan(tp, tp + fn)
            if self.curve == "ROC":
                x, y = divide_no_nan(fp, fp + tn), recall
            elif self.curve == "PR":
                x, y = recall, divide_no_nan(tp, tp + fp)
            else:
                scale = divide_no_nan(tp + fn, tn + fp)
                x = xp.maximum(xp.where(tp == 0, 0.0, 1.0 - scale * divide_no_nan(fn, tp)), 0.0)
                y = xp.where(tp == 0, 1.0, 1.0 - scale * divide_no_nan(fp, tp))
            heights = {"interpolation": (y[:-1] + y[1:]) / 2, "minoring": xp.minimum(y[:-1], y[1:]),
                       "majoring": xp.maximum(y[:-1], y[1:])}[self.summation_method]
            terms = (x[:-1] - x[1:]) * heights
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return by_label.mean()
        weights = xp.asarray(self.label_weights)
        return divide_no_nan((by_label * weights).sum(), weights.sum())[()]

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "label_weights": self.label_weights, "from_logits": self.from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
