"""Batch and layer normalization primitives (chainrule.functional)."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import layers
from layer_checks import layer_gradcheck, save_load_round_trip


def tensor(rng, *shape):
    return cr.Tensor(rng.standard_normal(shape), requires_grad=True)


def test_batch_norm_in_training_uses_the_batch_statistics_per_channel(rng):
    x = rng.standard_normal((6, 4, 3)) * 3 + 2
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out = F.batch_norm(x, gamma, beta, eps=1e-3)
    flat = x.reshape(-1, 3)
    expected = (x - flat.mean(axis=0)) / np.sqrt(flat.var(axis=0) + 1e-3) * gamma + beta
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_batch_norm_in_inference_uses_the_given_statistics(rng):
    x = rng.standard_normal((5, 2))
    out = F.batch_norm(x, np.ones(2), np.zeros(2), mean=np.array([1.0, -1.0]), var=np.array([4.0, 0.25]),
                            eps=0.0, training=False)
    np.testing.assert_allclose(out.data, (x - [1.0, -1.0]) / [2.0, 0.5], atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batch_norm_training_gradcheck(rng, shape):
    x, gamma, beta = tensor(rng, *shape), tensor(rng, shape[-1]), tensor(rng, shape[-1])
    assert cr.gradcheck(lambda x, g, b: F.batch_norm(x, g, b), x, gamma, beta)


def test_batch_norm_inference_gradcheck(rng):
    x, gamma, beta = tensor(rng, 4, 3), tensor(rng, 3), tensor(rng, 3)
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    assert cr.gradcheck(lambda x, g, b: F.batch_norm(x, g, b, mean, var, training=False), x, gamma, beta)



def test_batch_norm_with_momentum_moves_the_given_statistics_towards_the_batch(rng):
    x = rng.standard_normal((8, 2)) * 2 + 5
    mean, var = np.zeros(2), np.ones(2)
    out = F.batch_norm(x, np.ones(2), np.zeros(2), mean, var, eps=1e-3, momentum=0.9)
    np.testing.assert_allclose(mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(var, 0.9 + 0.1 * x.var(axis=0))
    np.testing.assert_allclose(out.data, (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-3), atol=1e-12)


def test_batch_norm_with_momentum_needs_the_moving_statistics(rng):
    with pytest.raises(ValueError, match="momentum needs the moving mean and var"):
        F.batch_norm(rng.standard_normal((2, 2)), np.ones(2), np.zeros(2), momentum=0.9)

def test_batch_norm_inference_needs_the_moving_statistics(rng):
    with pytest.raises(ValueError, match="moving mean and var"):
        F.batch_norm(rng.standard_normal((2, 2)), np.ones(2), np.zeros(2), training=False)


def test_layer_norm_normalizes_each_sample_over_its_last_axis(rng):
    x = rng.standard_normal((3, 4, 5)) * 2 - 1
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    out = F.layer_norm(x, gamma, beta, eps=1e-3)
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * gamma + beta
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_layer_norm_gradcheck(rng, shape):
    x, gamma, beta = tensor(rng, *shape), tensor(rng, shape[-1]), tensor(rng, shape[-1])
    assert cr.gradcheck(lambda x, g, b: F.layer_norm(x, g, b), x, gamma, beta)


# ----- layers ----------------------------------------------------------------
def test_batch_normalization_layer_training_gradcheck(rng):
    layer = layers.BatchNormalization(dtype="float64")
    assert layer_gradcheck(layer, rng.standard_normal((5, 3, 2)), training=True)


def test_batch_normalization_layer_inference_gradcheck(rng):
    layer = layers.BatchNormalization(dtype="float64")
    assert layer_gradcheck(layer, rng.standard_normal((5, 2)), training=False)


def test_layer_normalization_layer_gradcheck(rng):
    assert layer_gradcheck(layers.LayerNormalization(dtype="float64"), rng.standard_normal((3, 4)))


def test_batch_normalization_moves_its_statistics_only_in_training(rng):
    layer = layers.BatchNormalization(momentum=0.9, dtype="float64")
    x = rng.standard_normal((8, 2)) * 2 + 5
    layer(x, training=False)
    np.testing.assert_array_equal(layer.moving_mean.data, [0, 0])
    layer(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.data, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.moving_variance.data, 0.9 + 0.1 * x.var(axis=0))


def test_batch_normalization_in_inference_normalizes_with_the_moving_statistics(rng):
    layer = layers.BatchNormalization(epsilon=1e-3, dtype="float64")
    x = rng.standard_normal((4, 2))
    layer(x)
    layer.set_weights([np.array([2.0, 1.0]), np.array([0.5, 0.0]), np.array([1.0, -1.0]), np.array([4.0, 1.0])])
    expected = (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 1.0]) + 1e-3) * [2.0, 1.0] + [0.5, 0.0]
    np.testing.assert_allclose(layer(x, training=False).data, expected)


def test_batch_normalization_moving_statistics_are_non_trainable_weights():
    layer = layers.BatchNormalization()
    layer(np.zeros((2, 3)))
    assert layer.weight_names == [f"{layer.name}/{n}" for n in ("gamma", "beta", "moving_mean", "moving_variance")]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_normalization_without_center_and_scale_has_no_weights(rng):
    layer = layers.LayerNormalization(center=False, scale=False)
    x = rng.standard_normal((2, 5))
    out = layer(x)
    assert layer.weights == []
    np.testing.assert_allclose(out.data.mean(axis=-1), 0, atol=1e-6)


def test_batch_normalization_rejects_inputs_with_another_channel_count(rng):
    layer = layers.BatchNormalization()
    layer(rng.standard_normal((2, 3)))
    with pytest.raises(ValueError, match=r"\(batch, \.\.\., 3\)"):
        layer(rng.standard_normal((2, 4)))


@pytest.mark.parametrize("layer", [layers.BatchNormalization(momentum=0.5, epsilon=0.01), layers.LayerNormalization()])
def test_normalization_layers_config_round_trip_gives_the_same_output(rng, layer):
    x = rng.standard_normal((4, 3)).astype(np.float32)
    layer(x, training=True)
    out = layer(x).data
    clone = type(layer).from_config(layer.get_config())
    clone(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_array_equal(clone(x).data, out)


@pytest.mark.parametrize("make_layer", [lambda: layers.BatchNormalization(momentum=0.5),
                                        lambda: layers.LayerNormalization(center=False)])
def test_normalization_layers_survive_save_and_load_with_their_moving_statistics(rng, tmp_path, make_layer):
    layer = make_layer()
    x = (rng.standard_normal((6, 3)) * 2 + 1).astype(np.float32)
    before, after = save_load_round_trip(layer, x, tmp_path / "model.safetensors")
    np.testing.assert_array_equal(after, before)
    if isinstance(layer, layers.BatchNormalization):
        assert not np.allclose(layer.moving_mean.data, 0)
