"""Sequential, functional and subclassed models: training, the worked example, modes, bad input."""
import io
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import callbacks, optimizers, regularizers
from chainrule.layers import Dense, Dropout, Input
from chainrule.models import Model, NotCompiledError, Sequential
from chainrule.utils import set_random_seed


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def blobs(n=120, seed=0):
    """Two separable Gaussian blobs in 2-D with labels 0 and 1."""
    generator = np.random.default_rng(seed)
    y = np.arange(n) % 2
    x = generator.normal(size=(n, 2)) * 0.5 + np.where(y[:, None] == 1, 1.5, -1.5)
    return x.astype(np.float32), y


def three_classes(n=150, seed=0):
    generator = np.random.default_rng(seed)
    y = np.arange(n) % 3
    centers = np.array([[0, 3], [3, -2], [-3, -2]])
    return (centers[y] + generator.normal(size=(n, 2)) * 0.6).astype(np.float32), y


def mlp(units=8, classes=3, activation="softmax"):
    return Sequential([Dense(units, activation="tanh", input_dim=2), Dense(classes, activation=activation)])


# ----- the worked example: a 2-2-1 sigmoid network, MSE, SGD lr 0.5 -------------
X1 = np.array([[0.05, 0.10]])
Y1 = np.array([[0.01]])
W1 = np.array([[0.15, 0.25], [0.20, 0.30]])  # kernel (in, out): W1[i, j] joins input i to hidden unit j
B1 = np.array([0.35, 0.35])
W2 = np.array([[0.40], [0.45]])
B2 = np.array([0.60])


def worked_example_model():
    model = Sequential([Dense(2, activation="sigmoid", input_dim=2), Dense(1, activation="sigmoid")])
    model.set_weights([W1, B1, W2, B2])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
    return model


def hand_computed_step():
    """Forward pass, deltas by the delta rule and the SGD update, all by hand."""
    a1 = sigmoid(X1 @ W1 + B1)
    o = sigmoid(a1 @ W2 + B2)
    n = Y1.size
    delta2 = 2 * (o - Y1) / n * o * (1 - o)         # dL/dz2 = dL/do * sigma'(z2)
    delta1 = (delta2 @ W2.T) * a1 * (1 - a1)         # delta = (delta_next @ W_next.T) * f'(z)
    return {"a1": a1, "o": o, "delta1": delta1, "delta2": delta2,
            "W1": W1 - 0.5 * X1.T @ delta1, "B1": B1 - 0.5 * delta1.sum(0),
            "W2": W2 - 0.5 * a1.T @ delta2, "B2": B2 - 0.5 * delta2.sum(0)}


def test_worked_example_forward_gives_the_hand_computed_output():
    model = worked_example_model()
    expected = hand_computed_step()
    np.testing.assert_allclose(model.predict(X1), expected["o"], rtol=1e-6)
    np.testing.assert_allclose(model.predict(X1), [[0.75136507]], rtol=1e-6)


def test_worked_example_deltas_match_the_delta_rule():
    model = worked_example_model()
    outputs = {}
    for layer in model.layers:
        layer.register_forward_hook(lambda layer, inputs, output: outputs.setdefault(layer.name, output))
    loss = model.compute_loss(X1, Y1, training=True)
    hidden, output = (outputs[layer.name] for layer in model.layers)
    z1, z2 = hidden.preactivation.retain_grad(), output.preactivation.retain_grad()
    loss.backward()
    expected = hand_computed_step()
    np.testing.assert_allclose(z2.grad, expected["delta2"], rtol=1e-5)
    np.testing.assert_allclose(z1.grad, expected["delta1"], rtol=1e-5)


def test_worked_example_one_sgd_step_gives_the_hand_computed_weights():
    model = worked_example_model()
    loss = model.train_on_batch(X1, Y1)
    expected = hand_computed_step()
    assert loss == pytest.approx(float(((expected["o"] - Y1) ** 2).mean()), rel=1e-6)
    for got, name in zip(model.get_weights(), ("W1", "B1", "W2", "B2")):
        np.testing.assert_allclose(got, expected[name], rtol=1e-5, err_msg=name)


# ----- convergence ----------------------------------------------------------------
@pytest.mark.parametrize("optimizer", [
    optimizers.SGD(learning_rate=0.1, momentum=0.9), optimizers.RMSprop(learning_rate=0.01), optimizers.Adam(0.01),
    optimizers.AdamW(learning_rate=0.01), optimizers.Adagrad(learning_rate=0.1)], ids=lambda o: type(o).__name__)
def test_training_converges_with_each_optimizer(optimizer):
    set_random_seed(1)
    x, y = three_classes()
    model = mlp()
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    assert model.evaluate(x, y)[1] >= 0.95


def test_xor_is_solved_by_a_2_2_1_sigmoid_network_with_sgd():
    set_random_seed(3)
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    model = Sequential([Dense(2, activation="sigmoid", input_dim=2), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.SGD(learning_rate=2.0, momentum=0.9), loss="binary_crossentropy")
    model.fit(x, y, epochs=1500, batch_size=len(x), verbose=0)
    np.testing.assert_array_equal((model.predict(x)[:, 0] > 0.5).astype(int), y)


# ----- batch, stochastic and mini-batch modes ------------------------------------
class BatchSizes(callbacks.Callback):
    def __init__(self):
        self.steps = 0

    def on_batch_end(self, batch, logs=None):
        self.steps += 1


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (20, 1), (1, 20), (6, 4), (100, 1)])
def test_batch_size_sets_the_steps_per_epoch(batch_size, steps_per_epoch):
    x, y = blobs(20)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    counter = BatchSizes()
    model.fit(x, y, batch_size=batch_size, epochs=3, verbose=0, callbacks=[counter])
    assert counter.steps == 3 * steps_per_epoch
    assert model.optimizer.iterations == 3 * steps_per_epoch


def twin_sgd_models():
    """Two compiled copies of one two-class MLP (same weights, SGD 0.1)."""
    first, second = mlp(classes=2), mlp(classes=2)
    second.set_weights(first.get_weights())
    for model in (first, second):
        model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return first, second


def test_batch_gradient_descent_step_uses_the_gradient_of_the_whole_set():
    x, y = blobs(10)
    full, by_fit = twin_sgd_models()
    full.train_on_batch(x, y)
    by_fit.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    for a, b in zip(full.get_weights(), by_fit.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_stochastic_mode_takes_one_step_per_sample_in_order_without_shuffle():
    x, y = blobs(4)
    stepped, by_fit = twin_sgd_models()
    for i in range(4):
        stepped.train_on_batch(x[i:i + 1], y[i:i + 1])
    by_fit.fit(x, y, batch_size=1, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(stepped.get_weights(), by_fit.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_history_loss_is_the_sample_weighted_mean_of_the_batch_losses():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(model.evaluate(x, y, batch_size=10), rel=1e-6)


# ----- determinism ------------------------------------------------------------------
def train_once(seed):
    set_random_seed(seed)
    x, y = three_classes()
    model = Sequential([Dense(8, activation="relu", input_dim=2), Dropout(0.2), Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    return history.history["loss"], model.get_weights()


def test_training_is_reproducible_under_set_random_seed():
    loss_a, weights_a = train_once(7)
    loss_b, weights_b = train_once(7)
    assert loss_a == loss_b
    for a, b in zip(weights_a, weights_b):
        np.testing.assert_array_equal(a, b)


def test_different_seeds_give_different_initial_weights():
    set_random_seed(1)
    a = mlp().get_weights()[0]
    set_random_seed(2)
    assert not np.array_equal(a, mlp().get_weights()[0])


# ----- the API ------------------------------------------------------------------------
def test_fit_returns_history_with_loss_metrics_and_their_val_forms():
    x, y = three_classes()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy", "mse"])
    history = model.fit(x, y, epochs=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "mse", "val_loss", "val_accuracy", "val_mse"}
    assert history.epoch == [0, 1]
    assert model.history is history


def test_validation_data_is_evaluated_at_each_epoch_end():
    x, y = three_classes()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:100], y[:100], epochs=2, validation_data=(x[100:], y[100:]), verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(model.evaluate(x[100:], y[100:])[0], rel=1e-6)


def test_initial_epoch_starts_the_epoch_count():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model.fit(x, y, epochs=5, initial_epoch=3, verbose=0).epoch == [3, 4]


def test_evaluate_returns_the_loss_alone_without_metrics():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(model.evaluate(x, y), float)


def test_evaluate_returns_loss_and_metrics_in_compile_order():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy", "mae"])
    loss, accuracy, mae = model.evaluate(x, y)
    probabilities = model.predict(x)
    assert accuracy == pytest.approx(np.mean(probabilities.argmax(1) == y))
    assert loss == pytest.approx(-np.mean(np.log(probabilities[np.arange(10), y])), rel=1e-5)


def test_predict_returns_an_ndarray_of_outputs_for_every_sample():
    x, _ = three_classes(70)
    model = mlp()
    out = model.predict(x, batch_size=32)
    assert isinstance(out, np.ndarray) and out.shape == (70, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out.sum(1), 1, rtol=1e-5)


def test_inputs_are_cast_to_float32():
    model = Sequential([Dense(2, input_dim=2)])
    assert model.predict(np.array([[1, 2]], dtype=np.int64)).dtype == np.float32


def test_test_on_batch_does_not_change_weights():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = model.get_weights()
    loss, accuracy = model.test_on_batch(x, y)
    assert [loss, accuracy] == pytest.approx(model.evaluate(x, y))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_compute_loss_is_the_loss_that_train_on_batch_steps_on():
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile(optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    loss = model.compute_loss(x, y, training=True)
    assert isinstance(loss, cr.Tensor) and loss.shape == ()
    assert model.train_on_batch(x, y) == pytest.approx(float(loss.data), rel=1e-6)


def test_compute_loss_adds_the_regularization_penalty():
    x, y = blobs(10)
    model = Sequential([Dense(2, activation="softmax", input_dim=2, kernel_regularizer=regularizers.L2(0.1))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    kernel = model.layers[0].kernel.data
    probabilities = model.predict(x)
    data_loss = -np.mean(np.log(probabilities[np.arange(10), y]))
    expected = data_loss + 0.1 * np.sum(kernel.astype(np.float64) ** 2)
    assert float(model.compute_loss(x, y).data) == pytest.approx(expected, rel=1e-5)


def test_model_loss_attribute_is_the_compiled_loss_object():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    assert isinstance(model.loss, cr.losses.CategoricalCrossentropy)


def test_weights_and_trainable_weights_list_every_layer_in_order():
    model = mlp(units=4)
    assert [w.shape for w in model.weights] == [(2, 4), (4,), (4, 3), (3,)]
    model.layers[0].trainable = False
    assert [w.shape for w in model.trainable_weights] == [(4, 3), (3,)]


def test_frozen_layer_is_not_updated_by_fit():
    x, y = three_classes()
    model = mlp()
    model.layers[0].trainable = False
    before = model.layers[0].get_weights()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(before[0], model.layers[0].get_weights()[0])


def test_set_weights_then_get_weights_round_trips_hand_set_values():
    model = worked_example_model()
    for got, want in zip(model.get_weights(), [W1, B1, W2, B2]):
        np.testing.assert_allclose(got, want, rtol=1e-7)
        assert got.dtype == np.float32


def test_layers_are_built_lazily_on_first_call_without_input_dim():
    model = Sequential([Dense(3), Dense(1)])
    assert model.weights == []
    model.predict(np.zeros((2, 5)))
    assert [w.shape for w in model.weights] == [(5, 3), (3,), (3, 1), (1,)]


def test_input_gives_a_sequential_model_its_input_shape():
    model = Sequential([Input((4,)), Dense(2)])
    assert model.layers[0].kernel.shape == (4, 2)


def test_functional_model_trains_and_predicts():
    set_random_seed(0)
    inputs = Input((2,))
    hidden = Dense(8, activation="tanh")(inputs)
    outputs = Dense(3, activation="softmax")(hidden)
    model = Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = three_classes()
    model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert model.evaluate(x, y)[1] >= 0.9
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]   # as Keras 3


class TwoLayerNet(Model):
    def __init__(self):
        super().__init__()
        self.hidden = Dense(8, activation="tanh")
        self.out = Dense(3, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))


def test_subclassed_model_trains_with_layers_as_attributes():
    set_random_seed(0)
    model = TwoLayerNet()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, y = three_classes()
    model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert model.layers == [model.hidden, model.out]
    assert len(model.trainable_weights) == 4
    assert model.evaluate(x, y)[1] >= 0.9


def test_stop_training_set_by_a_callback_ends_fit():
    class StopAfterFirstEpoch(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.stop_training = True

    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert model.fit(x, y, epochs=5, verbose=0, callbacks=[StopAfterFirstEpoch()]).epoch == [0]


def test_summary_lists_layers_output_shapes_and_parameter_counts(capsys):
    model = mlp(units=4)
    text = model.summary()
    assert "dense" in text and "(None, 4)" in text and "(None, 3)" in text
    assert "Total params: 27" in text and "Trainable params: 27" in text
    assert capsys.readouterr().out.strip() == text


def test_fit_prints_one_plain_line_per_epoch_off_a_terminal(capsys):
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=1)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Epoch 1/2") and "loss:" in lines[0] and "accuracy:" in lines[0]


def test_fit_with_verbose_0_prints_nothing(capsys):
    x, y = blobs(10)
    model = mlp(classes=2)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


# ----- bad input: each raises before any weight changes ---------------------------------
@pytest.fixture
def compiled():
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def assert_rejected(model, error, match, x, y, **kwargs):
    before = model.get_weights()
    with pytest.raises(error, match=match):
        model.fit(x, y, verbose=0, **kwargs)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0


def test_x_and_y_of_different_lengths_are_rejected(compiled):
    x, y = three_classes(30)
    assert_rejected(compiled, ValueError, r"x and y.*30 in x and 29 in y", x, y[:29])


def test_feature_count_not_matching_the_built_input_is_rejected(compiled):
    assert_rejected(compiled, ValueError, r"x: expected samples of shape \(2,\).*got samples of shape \(3,\)",
                    np.zeros((5, 3)), np.zeros(5, dtype=int))


def test_sparse_labels_outside_the_classes_are_rejected(compiled):
    assert_rejected(compiled, ValueError, r"y: labels must be in \[0, 3\).*\[0, 3\]", np.zeros((4, 2)), np.arange(4))


def test_negative_sparse_labels_are_rejected(compiled):
    assert_rejected(compiled, ValueError, r"y: labels must be in \[0, 3\)", np.zeros((2, 2)), np.array([0, -1]))


def test_one_hot_y_of_the_wrong_width_is_rejected():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    assert_rejected(model, ValueError, r"y: categorical_crossentropy expects one-hot targets of shape \(n, 3\).*\(4, 4\)",
                    np.zeros((4, 2)), np.eye(4))


def test_integer_labels_with_categorical_crossentropy_point_to_the_sparse_loss():
    model = mlp()
    model.compile("sgd", "categorical_crossentropy")
    assert_rejected(model, ValueError, "sparse_categorical_crossentropy", np.zeros((4, 2)), np.arange(4) % 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_x_is_rejected(compiled, bad):
    x = np.zeros((4, 2))
    x[2, 1] = bad
    assert_rejected(compiled, ValueError, r"x: expected finite values.*sample 2", x, np.zeros(4, dtype=int))


def test_nan_in_y_is_rejected():
    model = mlp(classes=1, activation="linear")
    model.compile("sgd", "mse")
    assert_rejected(model, ValueError, "y: expected finite values", np.zeros((3, 2)), np.array([0.0, np.nan, 1.0]))


def test_empty_x_is_rejected(compiled):
    assert_rejected(compiled, ValueError, "x: expected at least one sample", np.zeros((0, 2)), np.zeros(0, dtype=int))


def test_string_x_is_rejected(compiled):
    assert_rejected(compiled, TypeError, "x: expected numeric", np.array([["a", "b"]]), np.zeros(1, dtype=int))


def test_object_y_is_rejected(compiled):
    assert_rejected(compiled, TypeError, "y: expected numeric", np.zeros((2, 2)), np.array([1, None], dtype=object))


def test_fit_before_compile_is_rejected():
    with pytest.raises(ValueError, match=r"fit: the model must be compiled first"):
        mlp().fit(np.zeros((2, 2)), np.zeros(2))
    assert issubclass(NotCompiledError, RuntimeError)


@pytest.mark.parametrize("argument, match", [
    ({"loss": "mse_typo"}, r"loss: unknown name 'mse_typo'; valid names: .*binary_crossentropy.*mse"),
    ({"optimizer": "adamm"}, r"optimizer: unknown name 'adamm'; valid names: .*adam.*sgd"),
    ({"metrics": ["acuracy"]}, r"metrics: unknown name 'acuracy'; valid names: .*accuracy.*recall"),
])
def test_unknown_names_in_compile_list_the_valid_ones(argument, match):
    with pytest.raises(ValueError, match=match):
        mlp().compile(**{"optimizer": "sgd", "loss": "mse", **argument})


def test_unknown_activation_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"activation: unknown name 'rleu'; valid names: .*relu.*sigmoid"):
        Dense(2, activation="rleu")


def test_set_weights_with_the_wrong_count_is_rejected():
    model = mlp()
    before = model.get_weights()
    with pytest.raises(ValueError, match="expects 4 arrays, got 3"):
        model.set_weights(before[:3])


def test_set_weights_with_a_wrong_shape_is_rejected_before_any_change():
    model = mlp(units=4)
    before = model.get_weights()
    bad = [w + 1 for w in before[:3]] + [np.zeros(5)]
    with pytest.raises(ValueError, match=r"expects shape \(3,\), got \(5,\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, match", [
    ({"batch_size": 0}, "batch_size: expected a positive int or None, got 0"),
    ({"epochs": -1}, "epochs: expected a non-negative int, got -1"),
    ({"validation_split": 1.0}, r"validation_split: expected a float in \[0, 1\)"),
])
def test_bad_fit_arguments_are_rejected(compiled, kwargs, match):
    x, y = three_classes(12)
    assert_rejected(compiled, ValueError, match, x, y, **kwargs)



def test_build_creates_the_weights_for_an_input_shape():
    model = Sequential([Dense(3), Dense(1)])
    model.build((None, 5))
    assert [w.shape for w in model.weights] == [(5, 3), (3,), (3, 1), (1,)]



def test_summary_on_a_terminal_draws_a_rich_table(monkeypatch):
    class FakeTerminal(io.StringIO):
        def isatty(self):
            return True

    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    text = mlp(units=4).summary()
    drawn = terminal.getvalue()
    assert "Layer (type)" in drawn and "Total params: 27" in drawn and "━" in drawn
    assert "━" not in text
