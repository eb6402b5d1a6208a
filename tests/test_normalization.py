"""Batch and layer normalization primitives (chainrule.nn_ops)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn_ops


def tensor(rng, *shape):
    return cr.Tensor(rng.standard_normal(shape), requires_grad=True)


def test_batch_norm_in_training_uses_the_batch_statistics_per_channel(rng):
    x = rng.standard_normal((6, 4, 3)) * 3 + 2
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out = nn_ops.batch_norm(x, gamma, beta, eps=1e-3)
    flat = x.reshape(-1, 3)
    expected = (x - flat.mean(axis=0)) / np.sqrt(flat.var(axis=0) + 1e-3) * gamma + beta
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


def test_batch_norm_in_inference_uses_the_given_statistics(rng):
    x = rng.standard_normal((5, 2))
    out = nn_ops.batch_norm(x, np.ones(2), np.zeros(2), mean=np.array([1.0, -1.0]), var=np.array([4.0, 0.25]),
                            eps=0.0, training=False)
    np.testing.assert_allclose(out.data, (x - [1.0, -1.0]) / [2.0, 0.5], atol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 2)])
def test_batch_norm_training_gradcheck(rng, shape):
    x, gamma, beta = tensor(rng, *shape), tensor(rng, shape[-1]), tensor(rng, shape[-1])
    assert cr.gradcheck(lambda x, g, b: nn_ops.batch_norm(x, g, b), x, gamma, beta)


def test_batch_norm_inference_gradcheck(rng):
    x, gamma, beta = tensor(rng, 4, 3), tensor(rng, 3), tensor(rng, 3)
    mean, var = rng.standard_normal(3), rng.random(3) + 0.5
    assert cr.gradcheck(lambda x, g, b: nn_ops.batch_norm(x, g, b, mean, var, training=False), x, gamma, beta)


def test_batch_norm_inference_needs_the_moving_statistics(rng):
    with pytest.raises(ValueError, match="moving mean and var"):
        nn_ops.batch_norm(rng.standard_normal((2, 2)), np.ones(2), np.zeros(2), training=False)


def test_layer_norm_normalizes_each_sample_over_its_last_axis(rng):
    x = rng.standard_normal((3, 4, 5)) * 2 - 1
    gamma, beta = rng.standard_normal(5), rng.standard_normal(5)
    out = nn_ops.layer_norm(x, gamma, beta, eps=1e-3)
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3) * gamma + beta
    np.testing.assert_allclose(out.data, expected, atol=1e-12)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4)])
def test_layer_norm_gradcheck(rng, shape):
    x, gamma, beta = tensor(rng, *shape), tensor(rng, shape[-1]), tensor(rng, shape[-1])
    assert cr.gradcheck(lambda x, g, b: nn_ops.layer_norm(x, g, b), x, gamma, beta)
