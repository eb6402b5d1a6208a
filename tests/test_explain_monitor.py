"""GradientMonitor: per-layer gradient norms during fit, vanishing and exploding warnings; forward vs reverse mode."""
import warnings

import numpy as np
import pytest

import chainrule
from chainrule.explain import GradientMonitor
from chainrule.explain.modes import compare_modes
from chainrule.explain.monitor import vanishing_comparison
from chainrule.layers import Dense
from chainrule.models import Sequential
from chainrule.optimizers import SGD


def deep_network(activation, initializer, depth=10, width=16, seed=0):
    chainrule.utils.set_random_seed(seed)
    layers = [Dense(width, activation=activation, kernel_initializer=initializer, input_dim=8)]
    layers += [Dense(width, activation=activation, kernel_initializer=initializer) for _ in range(depth - 2)]
    model = Sequential(layers + [Dense(1, activation="sigmoid")])
    model.compile(optimizer=SGD(learning_rate=0.05), loss="binary_crossentropy")
    return model


@pytest.fixture
def data(rng):
    x = rng.standard_normal((64, 8))
    return x, (x.sum(axis=1, keepdims=True) > 0).astype(float)


def test_monitor_warns_about_vanishing_gradients_in_a_deep_sigmoid_network(data):
    monitor = GradientMonitor()
    with pytest.warns(RuntimeWarning, match="vanishing gradients"):
        deep_network("sigmoid", "glorot_uniform").fit(*data, epochs=2, batch_size=32, verbose=0, callbacks=[monitor])
    assert monitor.vanishing and not monitor.exploding
    assert len(monitor.norms) == 2 and len(monitor.norms[0]) == 10
    assert monitor.ratios[0] == pytest.approx(monitor.norms[0][0] / monitor.norms[0][-1])
    assert monitor.ratios[0] < 1e-3


def test_monitor_stays_quiet_for_a_relu_network_with_he_init(data):
    monitor = GradientMonitor()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        deep_network("relu", "he_normal").fit(*data, epochs=2, batch_size=32, verbose=0, callbacks=[monitor])
    assert not monitor.vanishing and not monitor.exploding
    assert 1e-2 < min(monitor.ratios)


def test_monitor_warns_about_exploding_gradients(data):
    def scaled_identity(shape, dtype="float32"):   # each layer multiplies the backward delta by 4
        return 4 * np.eye(*shape, dtype=dtype)

    model = Sequential([Dense(8, activation="tanh", input_dim=8, kernel_initializer=scaled_identity)] +
                       [Dense(8, activation="tanh", kernel_initializer=scaled_identity) for _ in range(5)] +
                       [Dense(1, kernel_initializer=scaled_identity)])
    model.compile(optimizer=SGD(learning_rate=1e-9), loss="mse")
    monitor = GradientMonitor()
    x, y = data
    with pytest.warns(RuntimeWarning, match="exploding gradients"):
        model.fit(1e-4 * x, y, epochs=1, batch_size=64, verbose=0, callbacks=[monitor])
    assert monitor.exploding and monitor.ratios[0] > 1e3


def test_monitor_records_the_gradients_fit_applied(data):
    model = deep_network("tanh", "glorot_uniform", depth=3)
    monitor = GradientMonitor()
    model.fit(*data, epochs=1, batch_size=64, verbose=0, callbacks=[monitor])
    first = model.layers[0]
    expected = np.sqrt(np.sum(first.kernel.grad ** 2) + np.sum(first.bias.grad ** 2))
    assert monitor.norms[0][0] == pytest.approx(expected)
    assert monitor.layer_names == [layer.name for layer in model.layers]


def test_monitor_thresholds_are_validated():
    with pytest.raises(ValueError, match="vanishing"):
        GradientMonitor(vanishing=2.0)


def test_vanishing_comparison_contrasts_sigmoid_with_relu():
    monitors = vanishing_comparison(epochs=1, samples=64)
    assert monitors["sigmoid"].vanishing
    assert not monitors["relu"].vanishing


def test_forward_mode_and_backpropagation_agree_while_the_cost_ratio_grows():
    results = compare_modes(sizes=((2, 3), (4, 6), (6, 10)), batch=4)
    assert all(r.max_difference < 1e-10 for r in results)
    assert results[0].parameters < results[1].parameters < results[2].parameters
    assert results[0].cost_ratio < results[1].cost_ratio < results[2].cost_ratio
    assert all(r.parameters <= r.cost_ratio < 1.5 * r.parameters for r in results)
