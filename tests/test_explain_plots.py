"""Pictures: each file is written with its fixed size, small networks drawn, large ones summarised."""
import numpy as np
import pytest
from PIL import Image

import chainrule
from chainrule.explain import GradientMonitor, animate, load_example, plot_gradient_flow, plot_history, plot_network
from chainrule.explain import plots, trace
from chainrule.layers import Dense
from chainrule.models import Sequential


def size_of(path):
    with Image.open(path) as image:
        return image.size


def test_plot_network_writes_a_png_of_the_fixed_size(tmp_path):
    path = plot_network(load_example("mazur").trace(), tmp_path / "network.png")
    assert size_of(path) == plots.NETWORK_SIZE


def test_plot_network_summarises_a_network_too_large_to_draw(tmp_path):
    chainrule.utils.set_random_seed(0)
    model = Sequential([Dense(40, activation="relu", input_dim=5)] + [Dense(40, activation="relu") for _ in range(7)]
                       + [Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    run = trace(model, np.ones((2, 5)), np.array([[1.0], [0.0]]))
    assert plots._Layout(run).summarised
    assert size_of(plot_network(run, tmp_path / "large.png")) == plots.NETWORK_SIZE


def test_animate_writes_one_frame_per_layer_forward_then_backward(tmp_path):
    run = load_example("two-hidden-log-loss").trace()
    path = animate(run, tmp_path / "passes.gif")
    with Image.open(path) as image:
        assert image.size == plots.ANIMATION_SIZE
        assert image.n_frames == 2 * len(run.layers) + 1


def test_plot_history_draws_the_loss_and_metrics(tmp_path):
    history = {"loss": [0.9, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.4], "accuracy": [0.5, 0.7, 0.9]}
    assert size_of(plot_history(history, tmp_path / "history.png")) == plots.HISTORY_SIZE


def test_plot_history_refuses_a_history_without_loss(tmp_path):
    with pytest.raises(ValueError, match="loss"):
        plot_history({"accuracy": [0.5]}, tmp_path / "history.png")


def test_plot_gradient_flow_draws_one_panel_per_monitor(tmp_path, rng):
    chainrule.utils.set_random_seed(0)
    model = Sequential([Dense(6, activation="tanh", input_dim=3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    monitor = GradientMonitor()
    model.fit(rng.standard_normal((16, 3)), rng.standard_normal((16, 1)), epochs=2, verbose=0, callbacks=[monitor])
    assert size_of(plot_gradient_flow(monitor, tmp_path / "one.png")) == plots.FLOW_PANEL_SIZE
    wide = plot_gradient_flow({"a": monitor, "b": monitor}, tmp_path / "two.png")
    assert size_of(wide) == (2 * plots.FLOW_PANEL_SIZE[0], plots.FLOW_PANEL_SIZE[1])


def test_plot_gradient_flow_needs_a_monitor_that_watched_fit(tmp_path):
    with pytest.raises(ValueError, match="fit"):
        plot_gradient_flow(GradientMonitor(), tmp_path / "flow.png")
