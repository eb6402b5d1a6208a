"""Keras 3's other activations: float64 gradchecks, names, and sparsemax as the projection on the simplex."""
import numpy as np
import pytest

from chainrule import Tensor, activations, gradcheck

X = np.linspace(-4.0, 4.0, 24).reshape(4, 6) + 0.013
NAMES = ["selu", "celu", "relu6", "hard_sigmoid", "hard_silu", "hard_swish", "softsign", "exponential", "log_softmax",
         "glu", "sparsemax"]


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    gradcheck(activations.get(name), Tensor(X * 0.7, requires_grad=True))


@pytest.mark.parametrize("name", NAMES)
def test_name_resolves_and_serializes_back(name):
    fn = activations.get(name)
    assert fn is getattr(activations, name)
    assert activations.get(activations.serialize(fn)) is fn


def test_sparsemax_projects_each_row_on_the_simplex():
    out = activations.sparsemax(np.array([[0.1, 0.5, 0.2], [-1.0, 2.0, 0.0]])).data
    np.testing.assert_allclose(out, [[1 / 6, 17 / 30, 4 / 15], [0.0, 1.0, 0.0]])


def test_sparsemax_along_another_axis():
    np.testing.assert_allclose(activations.sparsemax(X, axis=0).data.sum(axis=0), np.ones(6))


def test_glu_halves_the_axis_and_rejects_an_odd_size():
    assert activations.glu(X).shape == (4, 3)
    with pytest.raises(ValueError, match="x: glu"):
        activations.glu(X[:, :5])


def test_keras_defaults():
    np.testing.assert_allclose(activations.selu(np.array([-1.0, 1.0])).data,
                               [1.0507009873554805 * 1.6732632423543772 * (np.exp(-1) - 1), 1.0507009873554805])
    assert activations.hard_sigmoid(np.array([0.0])).data[0] == 0.5
    np.testing.assert_allclose(activations.celu(np.array([-2.0]), alpha=2.0).data, [2 * (np.exp(-1) - 1)])
