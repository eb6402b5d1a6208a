import numpy as np
import pytest

import chainrule as cr
from chainrule import initializers
from chainrule.layers import Dense
from chainrule.utils import set_random_seed


def test_random_uniform_draws_within_its_bounds_and_spans_them():
    set_random_seed(0)
    values = initializers.RandomUniform(-0.2, 0.3)((200, 50))
    assert values.shape == (200, 50) and values.dtype == np.float32
    assert values.min() >= -0.2 and values.max() <= 0.3
    assert values.min() < -0.19 and values.max() > 0.29
    assert abs(values.mean() - 0.05) < 0.01


def test_random_uniform_is_reproducible_under_a_seed():
    set_random_seed(3)
    first = initializers.RandomUniform(-1, 1)((4, 5))
    set_random_seed(3)
    np.testing.assert_array_equal(first, initializers.RandomUniform(-1, 1)((4, 5)))


def test_random_uniform_defaults_to_keras_bounds():
    assert initializers.RandomUniform().get_config() == {"minval": -0.05, "maxval": 0.05}


def test_random_uniform_round_trips_through_its_config_and_name():
    config = initializers.serialize(initializers.RandomUniform(-0.5, 0.25))
    assert config == {"class_name": "random_uniform", "config": {"minval": -0.5, "maxval": 0.25}}
    rebuilt = initializers.get(config)
    assert isinstance(rebuilt, initializers.RandomUniform)
    assert (rebuilt.minval, rebuilt.maxval) == (-0.5, 0.25)
    assert isinstance(initializers.get("RandomUniform"), initializers.RandomUniform)


def test_random_uniform_rejects_empty_interval():
    with pytest.raises(ValueError, match="minval < maxval"):
        initializers.RandomUniform(0.1, 0.1)


def test_dense_layer_uses_random_uniform_for_kernel_and_bias():
    set_random_seed(1)
    layer = Dense(30, kernel_initializer=initializers.RandomUniform(-0.1, 0.1),
                  bias_initializer=initializers.RandomUniform(0.5, 0.6))
    layer(cr.Tensor(np.zeros((1, 20), dtype=np.float32)))
    assert np.abs(layer.kernel.data).max() <= 0.1
    assert layer.bias.data.min() >= 0.5 and layer.bias.data.max() <= 0.6


def test_random_normal_draws_with_keras_defaults():
    values = initializers.get("random_normal")((200, 200), dtype="float64")
    assert abs(values.mean()) < 0.002 and abs(values.std() - 0.05) < 0.002
    config = initializers.serialize(initializers.RandomNormal(1.0, 0.5))
    assert initializers.get(config).get_config() == {"mean": 1.0, "stddev": 0.5}
