"""Metrics: the Keras subclassing contract, names, configs, sample weights, sequences and bad arguments."""
import numpy as np
import pytest

from chainrule import losses, metrics
from chainrule.layers import Dense
from chainrule.models import Sequential


class BinaryTruePositives(metrics.Metric):
    """Counts y_true == 1 predicted >= 0.5, weighted: a custom metric written as the Keras guide writes one."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="tp")
        self.batches = self.add_weight(shape=(), initializer="ones", name="batches")

    def update_state(self, y_true, y_pred, sample_weight=None):
        hits = (np.asarray(y_true) == 1) & (np.asarray(y_pred) >= 0.5)
        hits = hits.astype("float64") * (1.0 if sample_weight is None else np.asarray(sample_weight))
        self.true_positives.assign_add(hits.sum())
        self.batches.assign(self.batches + 1)

    def result(self):
        return self.true_positives


Y_TRUE = np.array([1, 1, 0, 1])
Y_PRED = np.array([0.9, 0.2, 0.8, 0.6])


# ----- the subclassing contract -----------------------------------------------------------------
def test_a_keras_style_subclass_accumulates_over_batches():
    metric = BinaryTruePositives()
    metric.update_state(Y_TRUE[:2], Y_PRED[:2])
    metric.update_state(Y_TRUE[2:], Y_PRED[2:], sample_weight=[1.0, 0.5])
    assert metrics.result_value(metric) == 1.5
    assert metric.batches.numpy() == 3.0


def test_reset_state_puts_every_variable_back_to_its_initializer():
    metric = BinaryTruePositives()
    metric.update_state(Y_TRUE, Y_PRED)
    metric.reset_state()
    assert (metric.true_positives.numpy(), metric.batches.numpy()) == (0.0, 1.0)
    assert [v.name for v in metric.variables] == ["tp", "batches"]


def test_calling_a_metric_updates_it_and_returns_the_result():
    assert float(BinaryTruePositives()(Y_TRUE, Y_PRED)) == 2.0


def test_a_variable_assigns_in_place_and_computes_like_an_array():
    v = BinaryTruePositives().true_positives
    v.assign(3.0)
    v.assign_sub(1.0)
    v.assign_add(np.float32(0.5))
    assert v.value == 2.5 and float(v) == 2.5 and isinstance(v.numpy(), np.ndarray)
    assert v * 2 == 5.0 and 1 + v == 3.5 and np.sqrt(v) == pytest.approx(2.5 ** 0.5)
    with pytest.raises(ValueError, match=r"tp: expected a value of shape \(\)"):
        v.assign(np.ones(3))


def test_a_subclass_that_skips_super_init_is_told_so():
    class Forgetful(metrics.Metric):
        def __init__(self):
            self.total = self.add_variable(shape=(), initializer="zeros")

    with pytest.raises(RuntimeError, match=r"Forgetful: call super\(\).__init__\(\)"):
        Forgetful()


def test_a_custom_metric_round_trips_through_its_config():
    restored = metrics.get(metrics.serialize(BinaryTruePositives(name="btp")))
    assert type(restored) is BinaryTruePositives and restored.name == "btp"


def test_result_value_gives_python_floats():
    precision = metrics.Precision(thresholds=[0.3, 0.7])
    precision.update_state(Y_TRUE, Y_PRED)
    assert metrics.result_value(precision) == [2 / 3, 0.5]
    assert type(metrics.result_value(metrics.Mean())) is float


# ----- configs ---------------------------------------------------------------------------------
CONFIGURED = [
    metrics.Accuracy(name="a"), metrics.BinaryAccuracy(threshold=0.3), metrics.CategoricalAccuracy(dtype="float32"),
    metrics.SparseCategoricalAccuracy(), metrics.TopKCategoricalAccuracy(k=3),
    metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True),
    metrics.AUC(num_thresholds=7, curve="PR", summation_method="minoring", multi_label=True, num_labels=3,
                label_weights=[1.0, 2.0, 0.5], from_logits=True),
    metrics.AUC(thresholds=[0.25, 0.75]), metrics.Precision(thresholds=[0.2, 0.4], top_k=2, class_id=1),
    metrics.Recall(thresholds=0.7), metrics.TruePositives(thresholds=[0.1]), metrics.FalsePositives(),
    metrics.TrueNegatives(), metrics.FalseNegatives(thresholds=0.9),
    metrics.PrecisionAtRecall(0.4, num_thresholds=10, class_id=2), metrics.RecallAtPrecision(0.6),
    metrics.SensitivityAtSpecificity(0.3), metrics.SpecificityAtSensitivity(0.8, num_thresholds=5),
    metrics.Mean(name="m"), metrics.Sum(), metrics.MeanMetricWrapper(metrics.huber, name="h", delta=2.0),
    metrics.RootMeanSquaredError(), metrics.MeanAbsoluteError(), metrics.MeanSquaredError(),
    metrics.MeanAbsolutePercentageError(), metrics.MeanSquaredLogarithmicError(), metrics.CosineSimilarity(axis=1),
    metrics.LogCoshError(), metrics.R2Score(class_aggregation=None, num_regressors=2),
    metrics.F1Score(average="macro", threshold=0.4), metrics.FBetaScore(average="weighted", beta=2.0),
    metrics.IoU(4, [0, 3], ignore_class=1, sparse_y_pred=False), metrics.MeanIoU(3, axis=1),
    metrics.OneHotIoU(4, [2]), metrics.OneHotMeanIoU(5, sparse_y_pred=True), metrics.BinaryIoU([1], threshold=0.3),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
    metrics.CategoricalCrossentropy(label_smoothing=0.2, axis=1),
    metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0),
]


@pytest.mark.parametrize("metric", CONFIGURED, ids=lambda m: type(m).__name__)
def test_config_round_trips(metric):
    restored = metrics.get(metrics.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == metric.get_config()


def test_every_exported_metric_class_has_a_round_trip_case():
    exported = {name for name in metrics.__all__ if isinstance(getattr(metrics, name), type)}
    assert exported - {"Metric", "Variable"} <= {type(m).__name__ for m in CONFIGURED}


def test_a_wrapped_custom_function_cannot_be_restored_and_says_why():
    def ratio(y_true, y_pred):
        return y_pred / y_true

    with pytest.raises(ValueError, match=r"fn: 'ratio' is not a chainrule metric function"):
        metrics.get(metrics.serialize(ratio))


# ----- names -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("mse", metrics.MeanSquaredError), ("mae", metrics.MeanAbsoluteError), ("mape", metrics.MeanAbsolutePercentageError),
    ("msle", metrics.MeanSquaredLogarithmicError), ("auc", metrics.AUC), ("AUC", metrics.AUC),
    ("r2_score", metrics.R2Score), ("F1Score", metrics.F1Score), ("logcosh", metrics.LogCoshError),
    ("binary_crossentropy", metrics.BinaryCrossentropy), ("bce", metrics.BinaryCrossentropy),
    ("categorical_crossentropy", metrics.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", metrics.SparseCategoricalCrossentropy), ("huber", metrics.MeanMetricWrapper),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy), ("mean_io_u", None)])
def test_metrics_are_found_by_keras_names(name, cls):
    if cls is None:
        with pytest.raises(ValueError, match=r"metrics: 'mean_io_u' needs arguments .*num_classes.*; pass an instance"):
            metrics.get(name)
        return
    assert type(metrics.get(name)) is cls


def test_a_short_name_names_the_metric_and_a_class_name_keeps_the_default():
    assert (metrics.get("mse").name, metrics.get("MeanSquaredError").name) == ("mse", "mean_squared_error")


def test_a_metric_class_or_a_loss_is_accepted():
    assert type(metrics.get(metrics.Recall)) is metrics.Recall
    metric = metrics.get(losses.BinaryCrossentropy(from_logits=True))
    assert type(metric) is metrics.BinaryCrossentropy and metric.from_logits


def test_a_plain_function_is_wrapped_under_its_name():
    def absolute_error(y_true, y_pred):
        return np.abs(y_true - y_pred)

    metric = metrics.get(absolute_error)
    metric.update_state(np.array([[1.0], [2.0]]), np.array([[1.5], [1.0]]), sample_weight=[3.0, 1.0])
    assert metric.name == "absolute_error" and metrics.result_value(metric) == pytest.approx((1.5 + 1.0) / 4)


def test_unknown_names_list_the_valid_names_and_classes():
    with pytest.raises(ValueError, match=r"unknown name 'f1'; valid names: acc, accuracy, auc, .*; or a class name "
                                         r"\(or its snake_case form\): AUC, Accuracy, "):
        metrics.get("f1")


# ----- sample weights and sequences -----------------------------------------------------------------
def test_sample_weights_give_the_weighted_mean():
    metric = metrics.BinaryAccuracy()
    metric.update_state([[1], [0], [1]], [[0.9], [0.2], [0.1]], sample_weight=[1.0, 1.0, 2.0])
    metric.update_state([[0]], [[0.7]], sample_weight=[0.0])
    assert metrics.result_value(metric) == pytest.approx(2 / 4)


def test_sequence_outputs_are_averaged_per_timestep():
    y_pred = np.array([[[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [[0.3, 0.7], [0.4, 0.6], [0.5, 0.5]]])
    y_true = np.array([[0, 1, 1], [1, 0, 0]])
    assert float(metrics.SparseCategoricalAccuracy()(y_true, y_pred)) == pytest.approx(4 / 6)
    onehot = metrics.CategoricalAccuracy()(np.eye(2)[y_true], y_pred)
    assert metrics.result_value(metrics.CategoricalAccuracy()) == 0.0 and float(onehot) == pytest.approx(4 / 6)
    weighted = metrics.SparseCategoricalAccuracy()(y_true, y_pred, sample_weight=[[1, 1, 0], [0, 0, 2]])
    assert float(weighted) == pytest.approx(4 / 4)


def test_the_confusion_counts_weigh_each_entry():
    metric = metrics.TruePositives(thresholds=[0.5, 0.85])
    metric.update_state(Y_TRUE, Y_PRED, sample_weight=[2.0, 1.0, 1.0, 0.5])
    np.testing.assert_allclose(metric.result(), [2.5, 2.0])


def test_auc_of_a_perfect_ranking_is_one_and_of_a_reversed_one_zero():
    y = np.array([0, 0, 1, 1])
    assert float(metrics.AUC()(y, [0.1, 0.2, 0.7, 0.9])) == pytest.approx(1.0, abs=1e-6)
    assert float(metrics.AUC()(y, [0.9, 0.7, 0.2, 0.1])) == pytest.approx(0.0, abs=1e-6)


def test_mse_on_integer_labels_compares_one_hot_rows():
    metric = metrics.get("mse")
    metric.update_state(np.array([1, 0]), np.array([[0.2, 0.8], [0.6, 0.4]]))
    assert float(metric.result()) == pytest.approx(np.mean([0.04, 0.04, 0.16, 0.16]))


# ----- bad arguments ---------------------------------------------------------------------------
@pytest.mark.parametrize("build, message", [
    (lambda: metrics.Precision(thresholds=[0.5, 1.5]), r"thresholds: expected values in \[0, 1\], got \[0.5, 1.5\]"),
    (lambda: metrics.Recall(thresholds=-0.1), r"thresholds: expected values in \[0, 1\]"),
    (lambda: metrics.AUC(thresholds=[2.0]), r"thresholds: expected values in \[0, 1\]"),
    (lambda: metrics.Precision(top_k=-1), r"top_k: expected a positive int, got -1"),
    (lambda: metrics.Recall(class_id=-2), r"class_id: expected a non-negative int, got -2"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), r"k: expected a positive int, got 0"),
    (lambda: metrics.AUC(num_thresholds=1), r"num_thresholds: expected an int >= 2, got 1"),
    (lambda: metrics.AUC(curve="DET"), r"curve: expected one of 'ROC', 'PR', 'PRGAIN', got 'DET'"),
    (lambda: metrics.AUC(summation_method="simpson"), r"summation_method: expected one of"),
    (lambda: metrics.AUC(num_labels=3), r"num_labels: is needed only when multi_label is True"),
    (lambda: metrics.PrecisionAtRecall(1.2), r"recall: expected a value in \[0, 1\], got 1.2"),
    (lambda: metrics.SensitivityAtSpecificity(0.5, num_thresholds=0), r"num_thresholds: expected an int >= 1"),
    (lambda: metrics.F1Score(average="mean"), r"average: expected one of \[None, 'micro', 'macro', 'weighted'\]"),
    (lambda: metrics.FBetaScore(beta=0.0), r"beta: expected a finite number > 0"),
    (lambda: metrics.F1Score(threshold=1.5), r"threshold: expected a finite number > 0 and <= 1"),
    (lambda: metrics.IoU(3, [0, 3]), r"target_class_ids: expected ids in \[0, 3\), got \[0, 3\]"),
    (lambda: metrics.MeanIoU(0), r"num_classes: expected a positive int, got 0"),
    (lambda: metrics.R2Score(class_aggregation="mean"), r"class_aggregation: expected one of"),
    (lambda: metrics.R2Score(num_regressors=-1), r"num_regressors: expected a number >= 0"),
    (lambda: metrics.get("accuracy_top"), r"metrics: unknown name 'accuracy_top'"),
    (lambda: metrics.get({"class_name": "Nope"}), r"metrics: unknown class 'Nope'; valid classes: AUC, "),
])
def test_bad_arguments_raise_a_value_error_naming_the_argument(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_r2_and_f_scores_need_two_dimensional_inputs():
    with pytest.raises(ValueError, match=r"y_pred: R2Score expects 2D inputs"):
        metrics.R2Score().update_state(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match=r"y_pred: F1Score expects 2D inputs"):
        metrics.F1Score().update_state(np.zeros(3), np.zeros(3))


# ----- in a model ------------------------------------------------------------------------------
def test_a_model_trains_and_evaluates_with_keras_metrics_and_a_custom_one():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy", "auc", metrics.Recall(thresholds=0.4),
                                                          BinaryTruePositives()])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "auc", "recall", "binary_true_positives"}
    logs = model.evaluate(x, y, return_dict=True)
    assert 0.0 <= float(logs["auc"]) <= 1.0 and float(logs["binary_true_positives"]) <= y.sum()
