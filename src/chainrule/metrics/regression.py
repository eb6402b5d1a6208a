"""Regression metrics: per-sample errors averaged over the last axis, as Keras' loss
functions give them, then the weighted mean over samples; RMSE and R2."""
import warnings

from ..backend import xp
from .. import functional as F
from ..tensor import Tensor
from .base import EPSILON, Mean, MeanMetricWrapper, Metric, as_array, dense_pair, metric_function, squeeze_or_expand

_LOG2 = float(xp.log(2.0))


def _elementwise(loss, y_true, y_pred, **kwargs):
    """A chainrule loss primitive's per-element values (reduction 'none'), y_true aligned to y_pred."""
    y_true, y_pred = dense_pair(y_true, y_pred)
    return loss(Tensor(y_pred), y_true, reduction="none", **kwargs).data


@metric_function
def mean_squared_error(y_true, y_pred):
    """mean((y_pred - y_true)**2) over the last axis."""
    return _elementwise(F.mse_loss, y_true, y_pred).mean(axis=-1)


@metric_function
def mean_absolute_error(y_true, y_pred):
    """mean(|y_pred - y_true|) over the last axis."""
    return _elementwise(F.l1_loss, y_true, y_pred).mean(axis=-1)


@metric_function
def huber(y_true, y_pred, delta=1.0):
    """mean(d**2 / 2 if |d| <= delta else delta * (|d| - delta / 2)) over the last axis, d = y_pred - y_true."""
    return _elementwise(F.huber_loss, y_true, y_pred, delta=delta).mean(axis=-1)


@metric_function
def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(|y_true - y_pred| / max(|y_true|, eps)) over the last axis."""
    y_true, y_pred = dense_pair(y_true, y_pred)
    return 100.0 * xp.abs((y_true - y_pred) / xp.maximum(xp.abs(y_true), EPSILON)).mean(axis=-1)


@metric_function
def mean_squared_logarithmic_error(y_true, y_pred):
    """mean((log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1))**2) over the last axis."""
    y_true, y_pred = dense_pair(y_true, y_pred)
    d = xp.log1p(xp.maximum(y_pred, EPSILON)) - xp.log1p(xp.maximum(y_true, EPSILON))
    return (d * d).mean(axis=-1)


@metric_function
def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true))) over the last axis, as x + softplus(-2x) - log 2."""
    y_true, y_pred = dense_pair(y_true, y_pred)
    x = y_pred - y_true
    return (x + xp.logaddexp(0.0, -2.0 * x) - _LOG2).mean(axis=-1)


@metric_function
def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(y_true * y_pred) / (max(|y_true|, eps) max(|y_pred|, eps)) along ``axis``."""
    y_true, y_pred = dense_pair(y_true, y_pred)

    def unit(v):
        return v / xp.maximum(xp.sqrt((v * v).sum(axis=axis, keepdims=True)), EPSILON)
    return (unit(y_true) * unit(y_pred)).sum(axis=axis)


class MeanSquaredError(MeanMetricWrapper):
    """The mean of (y_pred - y_true)**2."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean of |y_pred - y_true|."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of 100 |y_true - y_pred| / |y_true|."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean of (log(1 + y_pred) - log(1 + y_true))**2."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class LogCoshError(MeanMetricWrapper):
    """The mean of log(cosh(y_pred - y_true))."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine of the angle between y_true and y_pred along ``axis``."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """sqrt(weighted mean of (y_pred - y_true)**2)."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = dense_pair(as_array(y_true), as_array(y_pred))
        super().update_state((y_pred - y_true) ** 2, sample_weight)

    def result(self):
        return xp.sqrt(super().result())


class R2Score(Metric):
    """R2 = 1 - sum(w (y - y_pred)**2) / sum(w (y - mean_w(y))**2) per output column, then
    aggregated ('uniform_average', 'variance_weighted_average' or None for each column);
    with ``num_regressors`` p > 0, the adjusted 1 - (1 - R2) (n - 1) / (n - p - 1)."""

    _AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in self._AGGREGATIONS:
            raise ValueError(f"class_aggregation: expected one of {list(self._AGGREGATIONS)}, got {class_aggregation!r}")
        if not num_regressors >= 0:
            raise ValueError(f"num_regressors: expected a number >= 0, got {num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self.columns = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = squeeze_or_expand(xp.asarray(as_array(y_true), dtype=float), as_array(y_pred))
        if y_true.ndim != 2 or y_pred.ndim != 2:
            raise ValueError(f"y_pred: R2Score expects 2D inputs (batch_size, output_dim), got y_true {y_true.shape} "
                             f"and y_pred {y_pred.shape}")
        if self.columns is None:
            self.columns = {key: self.add_variable((y_pred.shape[1],), "zeros", name=key)
                            for key in ("sum", "squared_sum", "residual", "count")}
        w = xp.ones(()) if sample_weight is None else as_array(sample_weight).astype(float)
        w = xp.broadcast_to(w[:, None] if w.ndim == 1 else w, y_true.shape)
        self.columns["sum"].assign_add((y_true * w).sum(axis=0))
        self.columns["squared_sum"].assign_add((y_true * y_true * w).sum(axis=0))
        self.columns["residual"].assign_add(((y_true - y_pred) ** 2 * w).sum(axis=0))
        self.columns["count"].assign_add(w.sum(axis=0))
        self.num_samples.assign_add(y_true.size)

    def result(self):
        if self.columns is None:
            return xp.float64(0.0)
        c = {key: v.value for key, v in self.columns.items()}
        with xp.errstate(divide="ignore", invalid="ignore"):
            total = c["squared_sum"] - c["sum"] * (c["sum"] / c["count"])
            raw = 1 - c["residual"] / total
        raw = xp.where(xp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        n, p = float(self.num_samples), self.num_regressors
        if p and p >= n - 1:
            warnings.warn(f"R2Score: {p} regressors for {n:g} samples leave no degrees of freedom; "
                          "reporting the plain R2 score", stacklevel=2)
        elif p:
            score = 1 - (1 - score) * (n - 1) / (n - p - 1)
        return score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
