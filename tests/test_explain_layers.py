"""chainrule.explain.trace on conv, pooling, normalization, recurrent and embedding models:
a delta for every layer, every weight's gradient, the finite-difference check, the renderings."""
import io
import json

import numpy as np
import pytest
from rich.console import Console

from chainrule import layers
from chainrule.explain import trace
from chainrule.tensor import default_dtype
from chainrule.models import Sequential
from chainrule.utils import set_random_seed


@pytest.fixture
def float64():
    with default_dtype(np.float64):
        yield


def conv1d_model(rng):
    model = Sequential([layers.Conv1D(2, 3, activation="tanh", input_shape=(7, 2)), layers.MaxPooling1D(2),
                        layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model, rng.standard_normal((3, 7, 2)), rng.integers(0, 2, 3)


def conv2d_batchnorm_model(rng):
    model = Sequential([layers.Conv2D(2, 2, activation="relu", input_shape=(4, 4, 1)), layers.BatchNormalization(),
                        layers.GlobalAveragePooling2D(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    batchnorm = model.layers[1]
    batchnorm.moving_mean.data = np.array([0.1, -0.2])
    batchnorm.moving_variance.data = np.array([0.5, 2.0])
    batchnorm.gamma.data = np.array([1.5, 0.7])
    batchnorm.beta.data = np.array([0.2, -0.1])
    return model, rng.standard_normal((2, 4, 4, 1)), rng.standard_normal((2, 1))


def gru_model(rng):
    model = Sequential([layers.GRU(3, input_shape=(4, 2)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.layers[0].bias.data = 0.3 * rng.standard_normal((2, 9))
    return model, rng.standard_normal((2, 4, 2)), np.array([[1.0], [0.0]])


def lstm_sequences_model(rng):
    model = Sequential([layers.LSTM(2, return_sequences=True, input_shape=(3, 2)), layers.Flatten(),
                        layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model, rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2))


def bidirectional_model(rng):
    model = Sequential([layers.Bidirectional(layers.SimpleRNN(2), input_shape=(3, 2)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    return model, rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2))


def embedding_model(rng):
    model = Sequential([layers.Embedding(5, 3, input_shape=(4,)), layers.GlobalAveragePooling1D(),
                        layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return model, np.array([[0, 4, 2, 2], [1, 3, 0, 4]]), np.array([2, 0])


MODELS = [conv1d_model, conv2d_batchnorm_model, gru_model, lstm_sequences_model, bidirectional_model,
          embedding_model]


@pytest.fixture(params=MODELS, ids=[m.__name__ for m in MODELS])
def traced(request, rng, float64):
    set_random_seed(0)
    model, x, y = request.param(rng)
    return model, x, y, trace(model, x, y)


def engine_pass(model, x, y):
    """The engine's own backward pass, each layer's z (the pre-activation its output is marked
    with, else its output) kept by a forward hook: ({layer name: dL/dz}, {id of weight: dL/dweight})."""
    kept = {}

    def keep(layer, inputs, output):
        first = output[0] if isinstance(output, list) else output
        kept[layer.name] = first.preactivation if first.preactivation is not None else output

    handles = [layer.register_forward_hook(keep) for layer in model.layers]
    try:
        loss = model.compute_loss(x, y, training=False)
        for z in kept.values():
            z.retain_grad()
        loss.backward()
        return ({name: z.grad for name, z in kept.items()},
                {id(w): np.array(w.grad) for w in model.weights if w.grad is not None})
    finally:
        for handle in handles:
            handle.remove()
        for w in model.weights:
            w.grad = None


def test_every_layer_has_a_delta_of_its_z_shape(traced):
    model, _, _, run = traced
    assert [r.name for r in run.layers] == [layer.name for layer in model.layers]
    for record in run.layers:
        assert record.delta is not None, record.name
        assert record.delta.shape == record.z.shape, record.name


def test_a_layer_without_a_pre_activation_has_its_output_as_z(traced):
    model, _, _, run = traced
    recording_z = (layers.Dense, layers.Conv1D, layers.Conv2D, layers.GRU, layers.LSTM)
    for layer, record in zip(model.layers, run.layers):
        if not isinstance(layer, recording_z):
            assert record.z is record.a, record.name


def test_deltas_and_gradients_equal_the_engines_backward_pass(traced):
    model, x, y, run = traced
    deltas, grads = engine_pass(model, x, y)
    for layer, record in zip(model.layers, run.layers):
        np.testing.assert_allclose(record.delta, deltas[layer.name], rtol=1e-12, atol=1e-15)
        assert len(record.grads) == len(layer.trainable_weights)
        for name, weight in layer.named_weights().items():
            if not weight.requires_grad:
                continue
            np.testing.assert_allclose(record.grads[name], grads[id(weight)], rtol=1e-12, atol=1e-15)


def test_check_agrees_with_finite_differences(traced):
    _, _, _, run = traced
    report = run.check()
    assert report.ok, str(report)
    assert sum(r.quantity == "delta" for r in report.rows) == sum(r.delta.size for r in run.layers)


def test_renderings_summarise_every_layer(traced):
    _, _, _, run = traced
    text = run.to_markdown()
    for record in run.layers:
        assert record.name in text
    buffer = io.StringIO()
    run.show(console=Console(file=buffer, width=160))
    assert run.layers[0].name in buffer.getvalue()
    data = json.loads(run.to_json())
    assert data["loss"] == pytest.approx(run.loss)
    assert [layer["name"] for layer in data["layers"]] == [r.name for r in run.layers]


def test_weightless_first_layers_get_the_delta_of_their_output(rng, float64):
    model = Sequential([layers.Flatten(input_shape=(2, 3)), layers.Dropout(0.5), layers.Dense(2, activation="tanh")])
    model.compile(optimizer="sgd", loss="mse")
    run = trace(model, rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 2)))
    flatten, dropout, dense = run.layers
    np.testing.assert_allclose(dropout.delta, dense.delta @ dense.kernel.T, rtol=1e-12)
    np.testing.assert_allclose(flatten.delta, dropout.delta, rtol=1e-12)
    assert flatten.kernel is None and flatten.grad_kernel is None and flatten.grads == {}
    assert run.check().ok


def test_check_fails_on_a_corrupted_delta_of_a_convolution(rng, float64):
    model, x, y = conv1d_model(rng)
    run = trace(model, x, y)
    run.layers[0].delta[1, 2, 0] += 1e-4
    assert [(f.layer, f.quantity, f.index) for f in run.check().failures] == [(run.layers[0].name, "delta", (1, 2, 0))]


def test_check_fails_on_a_corrupted_recurrent_kernel_gradient(rng, float64):
    model, x, y = gru_model(rng)
    run = trace(model, x, y)
    run.layers[0].grads["recurrent_kernel"][2, 5] += 1e-4
    assert [(f.quantity, f.index) for f in run.check().failures] == [("recurrent_kernel", (2, 5))]


def test_records_expose_every_weight_and_its_gradient_by_name(rng, float64):
    set_random_seed(0)
    model, x, y = bidirectional_model(rng)
    run = trace(model, x, y)
    bidirectional = run.layers[0]
    inner = model.layers[0].forward_layer.name[len("forward_"):]
    assert sorted(bidirectional.grads) == sorted(f"{direction}_{inner}/{name}" for direction in ("backward", "forward")
                                                 for name in ("kernel", "recurrent_kernel", "bias"))
    assert bidirectional.kernel is None and bidirectional.grad_bias is None
    dense = run.layers[1]
    assert dense.grad_kernel is dense.grads["kernel"]
    np.testing.assert_array_equal(dense.kernel, model.layers[1].kernel.data)


def test_step_updates_every_weight_of_a_recurrent_model(rng, float64):
    set_random_seed(0)
    model, x, y = gru_model(rng)
    run = trace(model, x, y)
    weights, after = run.step(0.1)
    gru = run.layers[0]
    assert sorted(weights[0]) == ["bias", "kernel", "recurrent_kernel"]
    np.testing.assert_allclose(weights[0]["recurrent_kernel"],
                               gru.weights["recurrent_kernel"] - 0.1 * gru.grads["recurrent_kernel"])
    np.testing.assert_allclose(after.layers[0].weights["recurrent_kernel"], weights[0]["recurrent_kernel"])
    assert after.loss < run.loss
    np.testing.assert_array_equal(model.layers[0].recurrent_kernel.data, gru.weights["recurrent_kernel"])


def test_markdown_summarises_arrays_by_shape_norm_and_first_values(rng, float64):
    set_random_seed(0)
    model, x, y = conv2d_batchnorm_model(rng)
    run = trace(model, x, y, learning_rate=0.1)
    text = run.to_markdown()
    delta = run.layers[0].delta
    first = ", ".join(f"{v:.6g}" for v in delta.ravel()[:4])
    assert f"(2, 3, 3, 2) ‖·‖ {np.linalg.norm(delta):.6g}: [{first}, …]" in text
    for phase in ("Forward pass", "Backward pass", "Gradients", "Update"):
        assert f"### {phase}" in text
    assert f"| 2: {run.layers[1].name} | gamma |" in text


def test_json_summarises_arrays_of_more_than_1024_values(rng, float64):
    model = Sequential([layers.Flatten(input_shape=(40, 30)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = rng.standard_normal((2, 40, 30))
    data = json.loads(trace(model, x, rng.standard_normal((2, 1))).to_json())
    assert data["inputs"]["shape"] == [2, 40, 30]
    assert data["inputs"]["norm"] == pytest.approx(np.linalg.norm(x))
    assert data["inputs"]["first"] == pytest.approx(x.ravel()[:8].tolist())
    assert data["layers"][1]["grads"]["kernel"]["shape"] == [1200, 1]
    assert data["layers"][1]["grads"]["bias"] == pytest.approx(data["layers"][1]["grad_bias"])


def test_cli_explains_and_checks_a_saved_convolutional_model(tmp_path, capsys):
    from chainrule.cli import main

    set_random_seed(0)
    model = Sequential([layers.Conv1D(2, 2, activation="tanh", input_shape=(4, 1)), layers.GlobalMaxPooling1D(),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    model.save(str(tmp_path / "model.safetensors"))
    status = main(["explain", "--model", str(tmp_path / "model.safetensors"), "--input", "0.5,-1,0,2;1,2,-1,0",
                   "--target", "1;0", "--check", "--format", "markdown", "--learning-rate", "0.5"])
    assert status == 0
    out = capsys.readouterr().out
    assert "| 1: conv1d" in out and "### Backward pass" in out and "check passed" in out


def test_plot_network_summarises_a_network_with_other_layers_layer_by_layer(tmp_path, rng, float64):
    from PIL import Image

    from chainrule.explain import animate, plot_network, plots

    set_random_seed(0)
    model, x, y = conv2d_batchnorm_model(rng)
    run = trace(model, x, y)
    assert plots._Layout(run).summarised
    with Image.open(plot_network(run, tmp_path / "network.png")) as image:
        assert image.size == plots.NETWORK_SIZE
    with Image.open(animate(run, tmp_path / "passes.gif")) as image:
        assert image.n_frames == 2 * len(run.layers) + 1


def bidirectional_state_model(rng):
    """Functional model reading the forward GRU's final state: a layer whose output is a list."""
    from chainrule.models import Model
    inputs = layers.Input((3, 2))
    _, forward_state, _ = layers.Bidirectional(layers.GRU(2, return_state=True))(inputs)
    model = Model(inputs, layers.Dense(2, activation="tanh")(forward_state))
    model.compile(optimizer="sgd", loss="mse")
    return model, rng.standard_normal((2, 3, 2)), rng.standard_normal((2, 2))


def test_a_layer_returning_a_list_gets_one_delta_per_entry(rng, float64):
    set_random_seed(0)
    model, x, y = bidirectional_state_model(rng)
    run = trace(model, x, y)
    bidirectional, dense = run.layers
    assert [d.shape for d in bidirectional.delta] == [a.shape for a in bidirectional.a] == [(2, 4), (2, 2), (2, 2)]
    np.testing.assert_allclose(bidirectional.delta[1], dense.delta @ dense.kernel.T, rtol=1e-12)
    assert not bidirectional.delta[0].any() and not bidirectional.delta[2].any()   # entries the loss does not use
    report = run.check()
    assert report.ok, str(report)
    assert sum(r.quantity == "delta[1]" for r in report.rows) == 4


def test_check_names_the_entry_of_a_corrupted_list_delta(rng, float64):
    set_random_seed(0)
    model, x, y = bidirectional_state_model(rng)
    run = trace(model, x, y)
    run.layers[0].delta[1][0, 1] += 1e-4
    assert [(f.quantity, f.index) for f in run.check().failures] == [("delta[1]", (0, 1))]


def test_renderings_and_plots_of_a_layer_returning_a_list(rng, float64, tmp_path):
    from chainrule.explain import plot_network
    set_random_seed(0)
    model, x, y = bidirectional_state_model(rng)
    run = trace(model, x, y)
    text = run.to_markdown()
    norm = np.sqrt(sum(np.sum(d * d) for d in run.layers[0].delta))
    assert f"| 1: {run.layers[0].name} | {norm:.6g} |" in text
    data = json.loads(run.to_json())
    assert [np.shape(d) for d in data["layers"][0]["delta"]] == [(2, 4), (2, 2), (2, 2)]
    plot_network(run, tmp_path / "network.png")
    assert (tmp_path / "network.png").stat().st_size > 0
