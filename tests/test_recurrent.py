"""Recurrent cells and backpropagation through time: chainrule.nn_ops against the gate equations."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn_ops


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
    out = nn_ops.recurrence(xw, h0, [U], nn_ops.SimpleRNNStep)
    np.testing.assert_allclose(out.data, reference_simple_rnn(xw, h0, U), atol=1e-12)


def test_gru_recurrence_equals_the_gate_equations(rng):
    xw, h0 = rng.standard_normal((3, 5, 6)), rng.standard_normal((3, 2))
    U, b_rec = rng.standard_normal((2, 6)), rng.standard_normal(6)
    out = nn_ops.recurrence(xw, h0, [U, b_rec], nn_ops.GRUStep)
    np.testing.assert_allclose(out.data, reference_gru(xw, h0, U, b_rec), atol=1e-12)


def test_lstm_recurrence_equals_the_gate_equations(rng):
    xw, state0, U = rng.standard_normal((3, 5, 12)), rng.standard_normal((3, 6)), rng.standard_normal((3, 12))
    out = nn_ops.recurrence(xw, state0, [U], nn_ops.LSTMStep)
    np.testing.assert_allclose(out.data, reference_lstm(xw, state0[:, :3], state0[:, 3:], U), atol=1e-12)


def test_reverse_recurrence_reads_the_steps_last_to_first(rng):
    xw, h0, U = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3)), rng.standard_normal((3, 3))
    out = nn_ops.recurrence(xw, h0, [U], nn_ops.SimpleRNNStep, reverse=True)
    np.testing.assert_allclose(out.data, reference_simple_rnn(xw[:, ::-1], h0, U), atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_simple_rnn_step_and_recurrence_gradcheck(rng, reverse):
    xw, h0, U = tensor(rng, 2, 4, 3), tensor(rng, 2, 3), tensor(rng, 3, 3)
    assert cr.gradcheck(lambda *a: nn_ops.SimpleRNNStep.apply(*a), tensor(rng, 2, 3), h0, U)
    assert cr.gradcheck(lambda xw, h0, U: nn_ops.recurrence(xw, h0, [U], nn_ops.SimpleRNNStep, reverse), xw, h0, U)


@pytest.mark.parametrize("reverse", [False, True])
def test_gru_step_and_recurrence_gradcheck(rng, reverse):
    xw, h0, U, b_rec = tensor(rng, 2, 4, 9), tensor(rng, 2, 3), tensor(rng, 3, 9), tensor(rng, 9)
    assert cr.gradcheck(lambda *a: nn_ops.GRUStep.apply(*a), tensor(rng, 2, 9), h0, U, b_rec)
    assert cr.gradcheck(lambda xw, h0, U, b: nn_ops.recurrence(xw, h0, [U, b], nn_ops.GRUStep, reverse),
                        xw, h0, U, b_rec)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_step_and_recurrence_gradcheck(rng, reverse):
    xw, state0, U = tensor(rng, 2, 4, 8), tensor(rng, 2, 4), tensor(rng, 2, 8)
    assert cr.gradcheck(lambda *a: nn_ops.LSTMStep.apply(*a), tensor(rng, 2, 8), state0, U)
    assert cr.gradcheck(lambda xw, s, U: nn_ops.recurrence(xw, s, [U], nn_ops.LSTMStep, reverse), xw, state0, U)


def test_recurrence_gradient_reaches_the_first_step_through_time(rng):
    xw, h0, U = tensor(rng, 1, 6, 2), tensor(rng, 1, 2), tensor(rng, 2, 2)
    out = nn_ops.recurrence(xw, h0, [U], nn_ops.SimpleRNNStep)
    out[:, -1].sum().backward()
    assert np.all(xw.grad[:, 0] != 0)
    assert np.all(h0.grad != 0)


def test_recurrence_rejects_inputs_that_are_not_sequences(rng):
    with pytest.raises(ValueError, match=r"\(batch, steps, gates\)"):
        nn_ops.recurrence(rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), [np.eye(4)],
                          nn_ops.SimpleRNNStep)
