"""Losses (values, gradients, the fused output delta) and metrics."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import losses, metrics
from chainrule.layers import Activation, Dense
from chainrule.models import Sequential

Y_PRED = np.array([[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]])
Y_ONEHOT = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
Y_LABELS = np.array([1, 2])


def value(loss, y_true, y_pred):
    return float(loss(y_true, cr.Tensor(np.asarray(y_pred, dtype=np.float64))).data)


# ----- values -------------------------------------------------------------------------
def test_mse_is_the_mean_squared_difference():
    assert value(losses.get("mse"), Y_ONEHOT, Y_PRED) == pytest.approx(np.mean((Y_PRED - Y_ONEHOT) ** 2))


def test_mae_is_the_mean_absolute_difference():
    assert value(losses.MeanAbsoluteError(), Y_ONEHOT, Y_PRED) == pytest.approx(np.mean(np.abs(Y_PRED - Y_ONEHOT)))


def test_huber_is_quadratic_within_delta_and_linear_beyond():
    d = np.array([[0.5, -3.0]])
    expected = np.mean([0.5 * 0.5 ** 2, 1.0 * (3.0 - 0.5)])
    assert value(losses.Huber(delta=1.0), np.zeros((1, 2)), d) == pytest.approx(expected)


def test_binary_crossentropy_on_probabilities():
    p, y = np.array([[0.9], [0.2]]), np.array([[1.0], [0.0]])
    assert value(losses.get("binary_crossentropy"), y, p) == pytest.approx(-np.mean(np.log([0.9, 0.8])))


def test_categorical_crossentropy_on_probabilities():
    expected = -np.mean(np.log([0.7, 0.2]))
    assert value(losses.get("categorical_crossentropy"), Y_ONEHOT, Y_PRED) == pytest.approx(expected)


def test_sparse_categorical_crossentropy_on_probabilities():
    expected = -np.mean(np.log([0.7, 0.2]))
    assert value(losses.get("sparse_categorical_crossentropy"), Y_LABELS, Y_PRED) == pytest.approx(expected)


def test_probabilities_are_clipped_so_a_zero_probability_gives_a_finite_loss():
    p = np.array([[1.0, 0.0, 0.0]])
    assert value(losses.CategoricalCrossentropy(), np.array([[0.0, 1.0, 0.0]]), p) == pytest.approx(-np.log(1e-7), rel=1e-6)


@pytest.mark.parametrize("loss_class, y_true", [
    (losses.CategoricalCrossentropy, Y_ONEHOT), (losses.SparseCategoricalCrossentropy, Y_LABELS)])
def test_from_logits_equals_the_loss_of_the_softmax(loss_class, y_true):
    logits = np.log(Y_PRED) + 3.0
    assert value(loss_class(from_logits=True), y_true, logits) == pytest.approx(value(loss_class(), y_true, Y_PRED))


def test_binary_from_logits_equals_the_loss_of_the_sigmoid():
    z, y = np.array([[2.0], [-1.0]]), np.array([[1.0], [0.0]])
    p = 1 / (1 + np.exp(-z))
    assert value(losses.BinaryCrossentropy(from_logits=True), y, z) == pytest.approx(value(losses.BinaryCrossentropy(), y, p))


@pytest.mark.parametrize("loss, y_true", [
    (losses.MeanSquaredError(), Y_ONEHOT), (losses.MeanAbsoluteError(), Y_ONEHOT + 0.05), (losses.Huber(0.3), Y_ONEHOT),
    (losses.BinaryCrossentropy(), Y_ONEHOT), (losses.CategoricalCrossentropy(), Y_ONEHOT),
    (losses.SparseCategoricalCrossentropy(), Y_LABELS), (losses.BinaryCrossentropy(from_logits=True), Y_ONEHOT),
    (losses.CategoricalCrossentropy(from_logits=True), Y_ONEHOT),
    (losses.SparseCategoricalCrossentropy(from_logits=True), Y_LABELS)], ids=lambda v: getattr(v, "name", ""))
def test_each_loss_passes_gradcheck(loss, y_true):
    assert cr.gradcheck(lambda p: loss(y_true, p), cr.Tensor(Y_PRED, requires_grad=True))


# ----- names and configs ------------------------------------------------------------------
@pytest.mark.parametrize("name, cls", [
    ("mse", losses.MeanSquaredError), ("mean_squared_error", losses.MeanSquaredError), ("mae", losses.MeanAbsoluteError),
    ("huber", losses.Huber), ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy)])
def test_losses_are_found_by_keras_name(name, cls):
    loss = losses.get(name)
    assert type(loss) is cls and loss.name == name


def test_unknown_loss_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"loss: unknown name 'crossentropy'; valid names: binary_crossentropy, .*mse"):
        losses.get("crossentropy")


def test_loss_config_round_trips():
    loss = losses.get(losses.serialize(losses.CategoricalCrossentropy(from_logits=True)))
    assert isinstance(loss, losses.CategoricalCrossentropy) and loss.from_logits


# ----- the fused output: dL/dz = (o - y) / n exactly ------------------------------------------
def model_output(model, x, y):
    """(L, the model's output tensor) of one compute_loss pass, the output kept by a forward hook."""
    kept = []
    handle = model.register_forward_hook(lambda model, inputs, output: kept.append(output))
    loss = model.compute_loss(x, y, training=True)
    handle.remove()
    return loss, kept[0]


def output_delta(model, x, y):
    """dL/dz at the output (the logits the output carries), read from the graph, and the model's output o."""
    loss, output = model_output(model, x, y)
    z = output.logits.retain_grad()
    loss.backward()
    return z.grad, model.predict(x)


@pytest.fixture
def x():
    return np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)


def test_softmax_with_categorical_crossentropy_gives_delta_o_minus_y_over_n(x):
    model = Sequential([Dense(4, activation="softmax", input_dim=3)])
    model.compile("sgd", "categorical_crossentropy")
    y = np.eye(4, dtype=np.float32)[[0, 3, 1, 1, 2]]
    delta, o = output_delta(model, x, y)
    np.testing.assert_allclose(delta, (o - y) / 5, rtol=1e-6, atol=1e-9)


def test_softmax_with_sparse_categorical_crossentropy_gives_delta_o_minus_y_over_n(x):
    model = Sequential([Dense(4, activation="softmax", input_dim=3)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    labels = np.array([0, 3, 1, 1, 2])
    delta, o = output_delta(model, x, labels)
    np.testing.assert_allclose(delta, (o - np.eye(4)[labels]) / 5, rtol=1e-6, atol=1e-9)


def test_sigmoid_with_binary_crossentropy_gives_delta_o_minus_y_over_n(x):
    model = Sequential([Dense(1, activation="sigmoid", input_dim=3)])
    model.compile("sgd", "binary_crossentropy")
    y = np.array([[1.0], [0.0], [1.0], [1.0], [0.0]], dtype=np.float32)
    delta, o = output_delta(model, x, y)
    np.testing.assert_allclose(delta, (o - y) / 5, rtol=1e-6, atol=1e-9)


def test_a_separate_softmax_activation_layer_is_fused_too(x):
    model = Sequential([Dense(4, input_dim=3), Activation("softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    labels = np.array([0, 3, 1, 1, 2])
    delta, o = output_delta(model, x, labels)
    np.testing.assert_allclose(delta, (o - np.eye(4)[labels]) / 5, rtol=1e-6, atol=1e-9)


def test_fused_output_stays_finite_for_saturated_logits():
    model = Sequential([Dense(2, activation="softmax", input_dim=1)])
    model.set_weights([np.array([[1000.0, -1000.0]]), np.zeros(2)])
    model.compile("sgd", "sparse_categorical_crossentropy")
    loss = model.compute_loss(np.ones((1, 1)), np.array([1]))
    assert float(loss.data) == pytest.approx(2000.0)
    delta, o = output_delta(model, np.ones((1, 1)), np.array([1]))
    np.testing.assert_allclose(delta, [[1.0, -1.0]])


def test_unmatched_activation_and_loss_use_the_probabilities():
    model = Sequential([Dense(2, activation="softmax", input_dim=1)])
    model.compile("sgd", "mse")
    assert not model.loss.fuses(model_output(model, np.ones((2, 1)), np.ones((2, 2)))[1])
    model.compile("sgd", "binary_crossentropy")
    assert not model.loss.fuses(model_output(model, np.ones((2, 1)), np.ones((2, 2)))[1])
    model.compile("sgd", "categorical_crossentropy")
    assert model.loss.fuses(model_output(model, np.ones((2, 1)), np.eye(2))[1])


# ----- metrics --------------------------------------------------------------------------------
def result(metric, y_true, y_pred):
    metric.update_state(np.asarray(y_true), np.asarray(y_pred))
    return metric.result()


def test_categorical_accuracy_compares_argmaxes():
    assert result(metrics.CategoricalAccuracy(), Y_ONEHOT, Y_PRED) == 0.5


def test_sparse_categorical_accuracy_compares_argmax_with_labels():
    assert result(metrics.SparseCategoricalAccuracy(), Y_LABELS, Y_PRED) == 0.5


def test_binary_accuracy_thresholds_at_one_half():
    assert result(metrics.BinaryAccuracy(), [[1], [0], [1]], [[0.6], [0.7], [0.4]]) == pytest.approx(1 / 3)


def test_metric_values_accumulate_over_batches_until_reset():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state(np.array([1]), np.array([[0.1, 0.9]]))
    metric.update_state(np.array([0, 0, 0]), np.array([[0.1, 0.9]] * 3))
    assert metric.result() == 0.25
    metric.reset_state()
    assert metric.result() == 0.0


def test_precision_and_recall_count_thresholded_predictions():
    y_true, y_pred = [[1], [1], [0], [0], [1]], [[0.9], [0.2], [0.8], [0.1], [0.7]]
    assert result(metrics.Precision(), y_true, y_pred) == pytest.approx(2 / 3)
    assert result(metrics.Recall(), y_true, y_pred) == pytest.approx(2 / 3)


def test_mae_and_mse_metrics_compare_labels_as_one_hot_rows():
    assert result(metrics.get("mae"), Y_LABELS, Y_PRED) == pytest.approx(np.mean(np.abs(Y_PRED - Y_ONEHOT)))
    assert result(metrics.get("mse"), Y_ONEHOT, Y_PRED) == pytest.approx(np.mean((Y_PRED - Y_ONEHOT) ** 2))


@pytest.mark.parametrize("loss, units, expected", [
    ("sparse_categorical_crossentropy", 3, metrics.SparseCategoricalAccuracy),
    ("categorical_crossentropy", 3, metrics.CategoricalAccuracy),
    ("binary_crossentropy", 1, metrics.BinaryAccuracy),
    ("mse", 1, metrics.BinaryAccuracy),
    ("mse", 4, metrics.CategoricalAccuracy)])
def test_accuracy_is_chosen_from_the_loss_as_keras_does(loss, units, expected):
    metric = metrics.get("accuracy", losses.get(loss), units)
    assert type(metric) is expected and metric.name == "accuracy"


def test_binary_accuracy_for_a_logits_loss_thresholds_at_zero():
    metric = metrics.get("accuracy", losses.BinaryCrossentropy(from_logits=True), 1)
    assert result(metric, [[1], [0]], [[0.3], [-0.3]]) == 1.0


def test_unknown_metric_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"metrics: unknown name 'f1'; valid names: acc, accuracy, .*precision, recall"):
        metrics.get("f1")


def test_compiled_metrics_report_under_the_given_names():
    model = Sequential([Dense(3, activation="softmax", input_dim=2)])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["acc", "precision", metrics.Recall(name="rec")])
    assert model.metrics_names == ["loss", "acc", "precision", "rec"]


def test_a_plain_function_can_be_the_loss():
    def squared_error_sum(y_true, y_pred):
        return ((y_pred - y_true) ** 2).sum()

    model = Sequential([Dense(1, input_dim=2, kernel_initializer="ones")])
    model.compile("sgd", loss=squared_error_sum)
    assert model.loss.name == "squared_error_sum"
    x, y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    assert float(model.compute_loss(x, y).data) == pytest.approx((3.0 - 1.0) ** 2)
