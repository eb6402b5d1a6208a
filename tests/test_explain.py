"""chainrule.explain: traces, finite-difference checks, chain-rule products, worked examples."""
import io
import json

import numpy as np
import pytest

import chainrule
from chainrule.explain import chain, list_examples, load_example, trace
from chainrule.explain.examples import compare_expected
from chainrule.layers import Dense
from chainrule.models import Sequential
from chainrule.optimizers import SGD

HIDDEN_ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish", "mish", "gelu", "linear"]
# (loss, output activation, output units, targets maker)
LOSSES = [
    ("mse", "linear", 2, lambda rng, n: rng.standard_normal((n, 2))),
    ("mse", "sigmoid", 2, lambda rng, n: rng.random((n, 2))),
    ("mse", "softmax", 3, lambda rng, n: np.eye(3)[rng.integers(0, 3, n)]),
    ("mae", "tanh", 2, lambda rng, n: rng.uniform(-0.9, 0.9, (n, 2))),
    ("huber", "linear", 1, lambda rng, n: 3 * rng.standard_normal((n, 1))),
    ("binary_crossentropy", "sigmoid", 2, lambda rng, n: rng.integers(0, 2, (n, 2)).astype(float)),
    ("categorical_crossentropy", "softmax", 3, lambda rng, n: np.eye(3)[rng.integers(0, 3, n)]),
    ("sparse_categorical_crossentropy", "softmax", 3, lambda rng, n: rng.integers(0, 3, n)),
]


@pytest.fixture
def float64():
    previous = chainrule.get_default_dtype()
    chainrule.set_default_dtype("float64")
    yield
    chainrule.set_default_dtype(previous)


def make_network(rng, hidden="tanh", loss="mse", output="linear", units=2, widths=(4, 3), inputs=3, seed=0):
    chainrule.utils.set_random_seed(seed)
    layers = [Dense(widths[0], activation=hidden, input_dim=inputs, dtype="float64")]
    layers += [Dense(w, activation=hidden, dtype="float64") for w in widths[1:]]
    model = Sequential(layers + [Dense(units, activation=output, dtype="float64")])
    for layer in model.layers:
        layer.bias.data = 0.3 * rng.standard_normal(layer.bias.shape)   # non-zero biases, so every unit differs
    model.compile(optimizer=SGD(learning_rate=0.1), loss=loss)
    return model


def fit_gradients(model, x, y, learning_rate=0.1):
    """The gradients fit applied in one full-batch SGD step: (W_before - W_after) / lr."""
    before = [w.data.copy() for w in model.weights]
    model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    gradients = [(b - w.data) / learning_rate for b, w in zip(before, model.weights)]
    for w, b in zip(model.weights, before):
        w.data = b
    return gradients


def trace_gradients(run):
    return [g for r in run.layers for g in (r.grad_kernel, r.grad_bias)]


# ----- trace -----------------------------------------------------------------------------------
@pytest.mark.parametrize("hidden", HIDDEN_ACTIVATIONS)
def test_trace_gradients_equal_the_ones_fit_applies_for_every_activation(hidden, rng, float64):
    model = make_network(rng, hidden=hidden)
    x, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    run = trace(model, x, y)
    for traced, applied in zip(trace_gradients(run), fit_gradients(model, x, y)):
        np.testing.assert_allclose(traced, applied, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("loss, output, units, targets", LOSSES, ids=[f"{l}-{o}" for l, o, _, _ in LOSSES])
def test_trace_gradients_equal_the_ones_fit_applies_for_every_loss(loss, output, units, targets, rng, float64):
    model = make_network(rng, hidden="sigmoid", loss=loss, output=output, units=units)
    x, y = rng.standard_normal((6, 3)), targets(rng, 6)
    run = trace(model, x, y)
    for traced, applied in zip(trace_gradients(run), fit_gradients(model, x, y)):
        np.testing.assert_allclose(traced, applied, rtol=1e-10, atol=1e-13)
    assert run.check().ok


def test_trace_records_the_forward_pass_of_each_layer(rng, float64):
    model = make_network(rng, hidden="tanh")
    x = rng.standard_normal((4, 3))
    run = trace(model, x, rng.standard_normal((4, 2)))
    first = run.layers[0]
    np.testing.assert_allclose(first.z, x @ first.kernel + first.bias)
    np.testing.assert_allclose(first.a, np.tanh(first.z))
    np.testing.assert_array_equal(run.layers[1].inputs, first.a)
    np.testing.assert_allclose(run.output, model.predict(x))
    assert [r.name for r in run.layers] == [layer.name for layer in model.layers]


def test_trace_gradient_of_each_kernel_is_a_prev_transposed_times_delta(rng):
    model = make_network(rng, hidden="relu")
    run = trace(model, rng.standard_normal((5, 3)), rng.standard_normal((5, 2)))
    for record in run.layers:
        np.testing.assert_allclose(record.grad_kernel, record.inputs.T @ record.delta, rtol=1e-12)
        np.testing.assert_allclose(record.grad_bias, record.delta.sum(axis=0), rtol=1e-12)


def test_delta_rule_links_consecutive_layers(rng):
    model = make_network(rng, hidden="sigmoid")
    run = trace(model, rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))
    hidden, following = run.layers[1], run.layers[2]
    np.testing.assert_allclose(hidden.delta, (following.delta @ following.kernel.T) * hidden.a * (1 - hidden.a))


def test_trace_leaves_the_model_weights_and_grads_as_they_were(rng):
    model = make_network(rng)
    before = [w.data.copy() for w in model.weights]
    model.weights[0].grad = np.ones_like(model.weights[0].data)
    trace(model, rng.standard_normal((2, 3)), rng.standard_normal((2, 2)))
    assert all(np.array_equal(w.data, b) for w, b in zip(model.weights, before))
    np.testing.assert_array_equal(model.weights[0].grad, 1.0)
    assert all(w.grad is None for w in model.weights[1:])
    assert all(not layer._forward_hooks and not layer._forward_pre_hooks for layer in model.layers)


def test_trace_of_a_float32_model_passes_the_float64_check(rng):
    chainrule.utils.set_random_seed(1)
    model = Sequential([Dense(4, activation="tanh", input_dim=3), Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    run = trace(model, rng.standard_normal((4, 3)).astype(np.float32), np.array([0, 2, 1, 2]))
    assert run.layers[0].grad_kernel.dtype == np.float32
    assert run.check().ok


def test_check_fails_on_a_corrupted_gradient(rng):
    run = trace(make_network(rng), rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))
    run.layers[0].grad_kernel[1, 2] += 1e-3
    report = run.check()
    assert not report.ok
    assert [(f.layer, f.quantity, f.index) for f in report.failures] == [(run.layers[0].name, "kernel", (1, 2))]
    assert "FAILED" in str(report)


def test_check_fails_on_a_corrupted_delta(rng):
    run = trace(make_network(rng), rng.standard_normal((3, 3)), rng.standard_normal((3, 2)))
    run.layers[1].delta[2, 0] *= 1.01
    assert [(f.quantity, f.index) for f in run.check().failures] == [("delta", (2, 0))]


def test_check_covers_every_delta_and_gradient(rng):
    model = make_network(rng, widths=(4,))
    report = trace(model, rng.standard_normal((2, 3)), rng.standard_normal((2, 2))).check()
    assert len(report.rows) == model.count_params() + 2 * (4 + 2)
    assert report.max_error < 1e-8


def test_step_applies_gradient_descent_and_traces_the_next_pass(rng):
    model = make_network(rng)
    x, y = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    run = trace(model, x, y)
    weights, after = run.step(0.05)
    np.testing.assert_allclose(weights[0]["kernel"], run.layers[0].kernel - 0.05 * run.layers[0].grad_kernel)
    np.testing.assert_allclose(after.layers[0].kernel, weights[0]["kernel"])
    assert after.loss < run.loss
    np.testing.assert_array_equal(model.layers[0].kernel.data, run.layers[0].kernel)


def test_step_without_a_learning_rate_is_refused(rng):
    model = make_network(rng)
    model.compile(optimizer="adam", loss="mse")
    run = trace(model, rng.standard_normal((2, 3)), rng.standard_normal((2, 2)))
    with pytest.raises(ValueError, match="learning_rate"):
        run.step()


def test_renderings_show_every_phase(rng):
    from rich.console import Console

    run = trace(make_network(rng), rng.standard_normal((1, 3)), rng.standard_normal((1, 2)), learning_rate=0.1)
    text = run.to_markdown()
    for phase in ("Forward pass", "Output delta", "Delta rule, layer 2", "Delta rule, layer 1", "Gradients", "Update"):
        assert phase in text
    buffer = io.StringIO()
    run.show(console=Console(file=buffer, width=200))
    assert "Delta rule, layer 1" in buffer.getvalue()
    data = json.loads(run.to_json())
    assert data["loss"] == pytest.approx(run.loss)
    np.testing.assert_allclose(data["layers"][0]["delta"], run.layers[0].delta)


# ----- worked examples -------------------------------------------------------------------------
def test_every_example_loads_and_passes_its_check():
    assert list_examples() == ["mazur", "one-two-one", "single-neuron", "two-hidden-log-loss", "xor"]
    for name in list_examples():
        assert load_example(name).trace().check().ok, name


def test_mazur_example_reproduces_the_total_error_and_the_updated_w5():
    example = load_example("mazur")
    run = example.trace()
    assert run.loss == pytest.approx(0.298371109, abs=1e-9)
    weights, _ = run.step()
    assert weights[1]["kernel"][0, 0] == pytest.approx(0.35891648, abs=1e-8)
    assert all(agrees for *_, agrees in compare_expected(run, example.names, example.expected))


def test_two_hidden_layer_example_moves_the_output_towards_the_label():
    run = load_example("two-hidden-log-loss").trace()
    after = run.step().trace
    assert after.output[0, 0] > run.output[0, 0]
    np.testing.assert_allclose(run.layers[-1].delta, run.output - 1.0)   # log loss + sigmoid: delta = o - y
    deltas = [np.abs(r.delta).max() for r in run.layers]
    assert deltas[0] < deltas[1] < deltas[2]                               # shrinking towards the input


def test_compare_expected_flags_a_wrong_source_number():
    example = load_example("mazur")
    rows = compare_expected(example.trace(), example.names, {"after_step": {"w5": 0.36}})
    assert rows[0][0] == "w5 after one step" and not rows[0][3]


# ----- chain -------------------------------------------------------------------------------------
def test_chain_for_a_first_layer_weight_keeps_every_factor():
    example = load_example("one-two-one")
    result = chain(example.model, example.x, example.y, layer=0, index=(0, 0), names=example.names)
    assert result.formula == "dE/dw11 = 2(o - y) · o(1 - o) · w21 · h1(1 - h1) · x1"
    assert result.value == pytest.approx(example.trace().layers[0].grad_kernel[0, 0], rel=1e-12)
    assert result.value == pytest.approx(result.engine_value, rel=1e-12)
    h1 = 1 / (1 + np.exp(-0.8 * 0.5))
    assert [f.value for f in result.paths[0].factors][2:] == pytest.approx([0.6, h1 * (1 - h1), 0.5])


def test_chain_sums_the_paths_through_every_output():
    example = load_example("mazur")
    result = chain(example.model, example.x, example.y, layer=0, index=(0, 0), names=example.names)
    assert [p.units for p in result.paths] == [["h1", "o1"], ["h1", "o2"]]
    assert result.value == pytest.approx(0.000438568, abs=1e-9)
    assert result.value == pytest.approx(result.engine_value, rel=1e-12)


@pytest.mark.parametrize("loss, output, units, targets", LOSSES[::2], ids=[l for l, *_ in LOSSES[::2]])
def test_chain_equals_the_engine_gradient_for_every_weight_of_a_deep_network(loss, output, units, targets, rng,
                                                                              float64):
    model = make_network(rng, hidden="tanh", loss=loss, output=output, units=units, widths=(3, 3, 2))
    x, y = rng.standard_normal((2, 3)), targets(rng, 2)
    run = trace(model, x, y)
    for layer, record in enumerate(run.layers):
        for i, j in np.ndindex(*record.kernel.shape):
            assert chain(model, x, y, layer, (i, j)).value == pytest.approx(record.grad_kernel[i, j], rel=1e-9,
                                                                            abs=1e-14)
        last = record.bias.size - 1
        assert chain(model, x, y, layer, (last,)).value == pytest.approx(record.grad_bias[last], rel=1e-9, abs=1e-14)


def test_chain_rendering_lists_every_factor_with_its_value():
    example = load_example("one-two-one")
    text = chain(example.model, example.x, example.y, names=example.names).to_markdown()
    for row in ("| 2(o - y) | ∂E/∂o |", "| w21 | ∂z_o/∂h1 | 0.6 |", "| h1(1 - h1) |", "| x1 | ∂z_h1/∂w11 | 0.5 |"):
        assert row in text


def test_chain_refuses_an_index_outside_the_kernel(rng):
    model = make_network(rng)
    with pytest.raises(ValueError, match="index"):
        chain(model, np.ones((1, 3)), np.ones((1, 2)), layer=0, index=(3, 0))
    with pytest.raises(ValueError, match="layer"):
        chain(model, np.ones((1, 3)), np.ones((1, 2)), layer=5)


def test_trace_builds_a_model_given_no_input_shape(rng):
    model = Sequential([Dense(3, activation="tanh"), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    run = trace(model, rng.standard_normal((2, 4)), rng.standard_normal((2, 1)))
    assert run.layers[0].kernel.shape == (4, 3)
    assert all(w.grad is None for w in model.weights)
