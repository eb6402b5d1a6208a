"""Recurrent cells and backpropagation through time: chainrule.functional against the gate equations."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import layers
from chainrule.models import Sequential
from chainrule.utils import set_random_seed
from layer_checks import assert_config_round_trip, layer_gradcheck, save_load_round_trip


def tensor(rng, *shape, scale=1.0):
    return cr.Tensor(scale * rng.standard_normal(shape), requires_grad=True)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def reference_simple_rnn(xw, h, U):
    states = []
    for t in range(xw.shape[1]):
        h = np.tanh(xw[:, t] + h @ U)
        states.append(h)
    return np.stack(states, axis=1)


def reference_gru(xw, h, U, b_rec):
    """Keras GRU, reset_after=True, gate order z, r, h."""
    units = h.shape[1]
    W_z, W_r, W_h = U[:, :units], U[:, units:2 * units], U[:, 2 * units:]
    b_z, b_r, b_h = b_rec[:units], b_rec[units:2 * units], b_rec[2 * units:]
    states = []
    for t in range(xw.shape[1]):
        x_z, x_r, x_h = xw[:, t, :units], xw[:, t, units:2 * units], xw[:, t, 2 * units:]
        z = sigmoid(x_z + h @ W_z + b_z)
        r = sigmoid(x_r + h @ W_r + b_r)
        candidate = np.tanh(x_h + r * (h @ W_h + b_h))
        h = z * h + (1 - z) * candidate
        states.append(h)
    return np.stack(states, axis=1)


def reference_lstm(xw, h, c, U):
    """Keras LSTM, gate order i, f, c, o; returns [h, c] per step."""
    units = h.shape[1]
    states = []
    for t in range(xw.shape[1]):
        a = xw[:, t] + h @ U
        i = sigmoid(a[:, :units])
        f = sigmoid(a[:, units:2 * units])
        g = np.tanh(a[:, 2 * units:3 * units])
        o = sigmoid(a[:, 3 * units:])
        c = f * c + i * g
        h = o * np.tanh(c)
        states.append(np.concatenate([h, c], axis=1))
    return np.stack(states, axis=1)


def test_simple_rnn_recurrence_equals_the_loop_reference(rng):
    xw, h0, U = rng.standard_normal((3, 5, 4)), rng.standard_normal((3, 4)), rng.standard_normal((4, 4))
    out = F.recurrence(xw, h0, [U], F.SimpleRNNStep)
    np.testing.assert_allclose(out.data, reference_simple_rnn(xw, h0, U), atol=1e-12)


def test_gru_recurrence_equals_the_gate_equations(rng):
    xw, h0 = rng.standard_normal((3, 5, 6)), rng.standard_normal((3, 2))
    U, b_rec = rng.standard_normal((2, 6)), rng.standard_normal(6)
    out = F.recurrence(xw, h0, [U, b_rec], F.GRUStep)
    np.testing.assert_allclose(out.data, reference_gru(xw, h0, U, b_rec), atol=1e-12)


def test_lstm_recurrence_equals_the_gate_equations(rng):
    xw, state0, U = rng.standard_normal((3, 5, 12)), rng.standard_normal((3, 6)), rng.standard_normal((3, 12))
    out = F.recurrence(xw, state0, [U], F.LSTMStep)
    np.testing.assert_allclose(out.data, reference_lstm(xw, state0[:, :3], state0[:, 3:], U), atol=1e-12)


def test_reverse_recurrence_reads_the_steps_last_to_first(rng):
    xw, h0, U = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
    out = F.recurrence(xw, h0, [U], F.SimpleRNNStep, reverse=True)
    np.testing.assert_allclose(out.data, reference_simple_rnn(xw[:, ::-1], h0, U), atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_simple_rnn_step_and_recurrence_gradcheck(rng, reverse):
    xw, h0, U = tensor(rng, 2, 4, 3), tensor(rng, 2, 3), tensor(rng, 3, 3)
    assert cr.gradcheck(lambda *a: F.SimpleRNNStep.apply(*a), tensor(rng, 2, 3), h0, U)
    assert cr.gradcheck(lambda xw, h0, U: F.recurrence(xw, h0, [U], F.SimpleRNNStep, reverse), xw, h0, U)


@pytest.mark.parametrize("reverse", [False, True])
def test_gru_step_and_recurrence_gradcheck(rng, reverse):
    xw, h0, U, b_rec = tensor(rng, 2, 4, 9), tensor(rng, 2, 3), tensor(rng, 3, 9), tensor(rng, 9)
    assert cr.gradcheck(lambda *a: F.GRUStep.apply(*a), tensor(rng, 2, 9), h0, U, b_rec)
    assert cr.gradcheck(lambda xw, h0, U, b: F.recurrence(xw, h0, [U, b], F.GRUStep, reverse),
                        xw, h0, U, b_rec)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_step_and_recurrence_gradcheck(rng, reverse):
    xw, state0, U = tensor(rng, 2, 4, 8), tensor(rng, 2, 4), tensor(rng, 2, 8)
    assert cr.gradcheck(lambda *a: F.LSTMStep.apply(*a), tensor(rng, 2, 8), state0, U)
    assert cr.gradcheck(lambda xw, s, U: F.recurrence(xw, s, [U], F.LSTMStep, reverse), xw, state0, U)


def test_recurrence_gradient_reaches_the_first_step_through_time(rng):
    xw, h0, U = tensor(rng, 1, 6, 2), tensor(rng, 1, 2), tensor(rng, 2, 2)
    out = F.recurrence(xw, h0, [U], F.SimpleRNNStep)
    out[:, -1].sum().backward()
    assert np.all(xw.grad[:, 0] != 0)
    assert np.all(h0.grad != 0)


def test_recurrence_rejects_inputs_that_are_not_sequences(rng):
    with pytest.raises(ValueError, match=r"\(batch, steps, gates\)"):
        F.recurrence(rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), [np.eye(4)],
                          F.SimpleRNNStep)


# ----- layers ----------------------------------------------------------------
RNN_LAYERS = [layers.SimpleRNN, layers.GRU, layers.LSTM]


@pytest.mark.parametrize("rnn", RNN_LAYERS)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_recurrent_layer_gradcheck(rng, rnn, return_sequences, go_backwards):
    layer = rnn(3, return_sequences=return_sequences, go_backwards=go_backwards, dtype="float64")
    assert layer_gradcheck(layer, rng.standard_normal((2, 4, 2)))


@pytest.mark.parametrize("rnn", RNN_LAYERS)
@pytest.mark.parametrize("merge_mode", ["concat", "sum"])
def test_bidirectional_layer_gradcheck(rng, rnn, merge_mode):
    layer = layers.Bidirectional(rnn(2, return_sequences=True, dtype="float64"), merge_mode=merge_mode)
    assert layer_gradcheck(layer, rng.standard_normal((2, 3, 2)))


def test_gru_layer_equals_the_gate_equations_with_keras_weight_layout(rng):
    layer = layers.GRU(3, return_sequences=True, dtype="float64")
    x = rng.standard_normal((2, 5, 4))
    layer(x)
    layer.bias.data[:] = rng.standard_normal((2, 9))
    xw = x @ layer.kernel.data + layer.bias.data[0]
    expected = reference_gru(xw, np.zeros((2, 3)), layer.recurrent_kernel.data, layer.bias.data[1])
    np.testing.assert_allclose(layer(x).data, expected, atol=1e-12)


def test_lstm_layer_returns_the_last_output_and_both_states(rng):
    layer = layers.LSTM(3, return_state=True, dtype="float64")
    x = rng.standard_normal((2, 5, 4))
    output, h, c = layer(x)
    xw = x @ layer.kernel.data + layer.bias.data
    states = reference_lstm(xw, np.zeros((2, 3)), np.zeros((2, 3)), layer.recurrent_kernel.data)
    np.testing.assert_allclose(output.data, states[:, -1, :3], atol=1e-12)
    np.testing.assert_allclose(h.data, states[:, -1, :3], atol=1e-12)
    np.testing.assert_allclose(c.data, states[:, -1, 3:], atol=1e-12)


def test_lstm_forget_gate_bias_starts_at_one():
    layer = layers.LSTM(2)
    layer(np.zeros((1, 3, 1)))
    np.testing.assert_array_equal(layer.bias.data, [0, 0, 1, 1, 0, 0, 0, 0])


def test_recurrent_kernel_starts_orthogonal():
    layer = layers.SimpleRNN(4)
    layer(np.zeros((1, 2, 3)))
    U = layer.recurrent_kernel.data.astype(np.float64)
    np.testing.assert_allclose(U.T @ U, np.eye(4), atol=1e-5)


def test_go_backwards_returns_the_sequence_in_reading_order(rng):
    forward = layers.SimpleRNN(2, return_sequences=True)
    x = rng.standard_normal((1, 4, 3)).astype(np.float32)
    out = forward(x).data
    backward = layers.SimpleRNN(2, return_sequences=True, go_backwards=True)
    backward(x)
    backward.set_weights(forward.get_weights())
    np.testing.assert_allclose(backward(x[:, ::-1]).data, out, atol=1e-6)


def test_bidirectional_concatenates_forward_and_time_aligned_backward_outputs(rng):
    layer = layers.Bidirectional(layers.GRU(2, return_sequences=True))
    x = rng.standard_normal((2, 5, 3)).astype(np.float32)
    out = layer(x).data
    forward = layer.forward_layer(x).data
    backward = layer.backward_layer(x).data
    np.testing.assert_allclose(out, np.concatenate([forward, backward[:, ::-1]], axis=-1))
    assert layer.backward_layer.go_backwards and len(layer.weights) == 6


def test_bidirectional_with_return_state_gives_both_directions_states(rng):
    out = layers.Bidirectional(layers.LSTM(2, return_state=True))(rng.standard_normal((2, 4, 3)))
    assert [o.shape for o in out] == [(2, 4), (2, 2), (2, 2), (2, 2), (2, 2)]


def state_model(return_sequences=False):
    """Functional model whose output reads the LSTM's forward cell state c (entry 2 of 5)."""
    from chainrule.models import Model
    inputs = layers.Input((4, 3))
    entries = layers.Bidirectional(layers.LSTM(2, return_sequences=return_sequences, return_state=True))(inputs)
    return Model(inputs, layers.Dense(1)(entries[2])), entries


def test_functional_model_takes_one_entry_of_a_return_state_layer(rng):
    model, entries = state_model()
    assert [e.shape for e in entries] == [(None, 4), (None, 2), (None, 2), (None, 2), (None, 2)]
    assert [e.output_index for e in entries] == [0, 1, 2, 3, 4] and len({id(e.call) for e in entries}) == 1
    x = rng.standard_normal((5, 4, 3)).astype(np.float32)
    _, bidirectional, dense = model.layers
    expected = dense(bidirectional(x)[2]).data
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)


def test_functional_model_on_a_state_trains_the_forward_direction_only(rng):
    model, _ = state_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.standard_normal((5, 4, 3)), rng.standard_normal((5, 1))
    model.compute_loss(x, y).backward()
    forward, backward = model.layers[1].forward_layer, model.layers[1].backward_layer
    assert all(np.abs(w.grad).sum() > 0 for w in forward.trainable_weights)
    assert all(w.grad is None or not np.any(w.grad) for w in backward.trainable_weights)


def test_functional_model_with_return_state_survives_save_and_load(rng, tmp_path):
    from chainrule.models import load_model
    model, _ = state_model(return_sequences=True)
    model.compile(optimizer="adam", loss="mse")
    x = rng.standard_normal((5, 4, 3)).astype(np.float32)
    model.fit(x, rng.standard_normal((5, 1)), epochs=2, verbose=0)
    model.save(tmp_path / "model.safetensors")
    loaded = load_model(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_recurrent_layer_rejects_2d_input_naming_the_expected_layout_before_building(rng):
    layer = layers.GRU(3)
    with pytest.raises(ValueError, match=r"\(batch, steps, features\)"):
        layer(rng.standard_normal((4, 10)))
    assert not layer.built and layer.weights == []


def test_recurrent_layer_rejects_sequences_of_different_lengths(rng):
    layer = layers.SimpleRNN(2)
    with pytest.raises(ValueError, match=r"same number of steps, got lengths \[3, 5\]"):
        layer([rng.standard_normal((3, 2)), rng.standard_normal((5, 2))])
    assert layer.weights == []


@pytest.mark.parametrize("rnn", RNN_LAYERS)
def test_recurrent_layer_rejects_non_positive_units(rnn):
    with pytest.raises(ValueError, match="units"):
        rnn(0)


def test_bidirectional_rejects_a_layer_that_is_not_recurrent():
    with pytest.raises(TypeError, match="SimpleRNN, GRU or LSTM"):
        layers.Bidirectional(layers.Dense(3))


@pytest.mark.parametrize("layer", [layers.SimpleRNN(3), layers.GRU(2, return_sequences=True, go_backwards=True),
                                   layers.LSTM(2, unit_forget_bias=False),
                                   layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="ave")])
def test_recurrent_layers_config_round_trip_gives_the_same_output(rng, layer):
    x = rng.standard_normal((2, 4, 3)).astype(np.float32)
    assert_config_round_trip(layer, x)


def test_embedding_looks_up_rows_and_sums_gradients_of_repeated_indices():
    layer = layers.Embedding(5, 2, dtype="float64")
    indices = np.array([[1, 3, 1]])
    out = layer(indices)
    np.testing.assert_array_equal(out.data, layer.embeddings.data[[[1, 3, 1]]])
    out.sum().backward()
    np.testing.assert_array_equal(layer.embeddings.grad[:, 0], [0, 2, 0, 1, 0])


def test_embedding_gradcheck(rng):
    layer = layers.Embedding(4, 3, dtype="float64")
    assert layer_gradcheck(layer, np.array([[0, 2, 2], [3, 1, 0]]), input_grad=False)


def test_embedding_rejects_out_of_range_indices():
    with pytest.raises(ValueError, match=r"indices in \[0, 4\)"):
        layers.Embedding(4, 2)(np.array([[1, 4]]))


def test_small_gru_learns_which_half_of_the_sequence_holds_the_spike():
    set_random_seed(0)
    data_rng = np.random.default_rng(1)
    x = data_rng.normal(0, 0.1, (300, 10, 1)).astype(np.float32)
    y = data_rng.integers(0, 2, 300)
    positions = np.where(y == 0, data_rng.integers(0, 4, 300), data_rng.integers(6, 10, 300))
    x[np.arange(300), positions, 0] += 1.0
    model = Sequential([layers.GRU(8, input_shape=(10, 1)), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:250], y[:250], epochs=40, batch_size=25, verbose=0)
    loss, accuracy = model.evaluate(x[250:], y[250:])
    assert accuracy >= 0.95


@pytest.mark.parametrize("make_layer", [
    lambda: layers.SimpleRNN(3, return_sequences=True), lambda: layers.GRU(3, go_backwards=True),
    lambda: layers.LSTM(2, return_sequences=True, unit_forget_bias=False),
    lambda: layers.Bidirectional(layers.GRU(2, return_sequences=True), merge_mode="sum")])
def test_recurrent_layers_survive_save_and_load(rng, tmp_path, make_layer):
    before, after = save_load_round_trip(make_layer(), rng.standard_normal((4, 5, 2)).astype(np.float32),
                                         tmp_path / "model.safetensors")
    np.testing.assert_array_equal(after, before)


def test_embedding_survives_save_and_load(rng, tmp_path):
    from chainrule.models import Sequential, load_model

    model = Sequential([layers.Embedding(6, 3), layers.GRU(2)])
    x = rng.integers(0, 6, (4, 5))
    before = model.predict(x)
    model.save(tmp_path / "model.safetensors")
    np.testing.assert_array_equal(load_model(tmp_path / "model.safetensors").predict(x), before)
