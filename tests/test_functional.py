"""chainrule.functional: activations, linear and the losses, checked against their
formulas, against central differences (float64) and at extreme logits."""
import math

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes
from scipy.special import erf, log_softmax as scipy_log_softmax, softmax as scipy_softmax

import chainrule.functional as F
from chainrule import Tensor, gradcheck

shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def sig(z):
    return 1 / (1 + np.exp(-z))


ACTIVATIONS = {
    "sigmoid": (F.sigmoid, sig),
    "tanh": (F.tanh, np.tanh),
    "relu": (F.relu, lambda z: np.maximum(z, 0)),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.1), lambda z: np.where(z > 0, z, 0.1 * z)),
    "elu": (lambda t: F.elu(t, 1.5), lambda z: np.where(z > 0, z, 1.5 * (np.exp(z) - 1))),
    "softplus": (F.softplus, lambda z: np.log1p(np.exp(z))),
    "silu": (F.silu, lambda z: z * sig(z)),
    "swish": (F.swish, lambda z: z * sig(z)),
    "mish": (F.mish, lambda z: z * np.tanh(np.log1p(np.exp(z)))),
    "gelu": (F.gelu, lambda z: 0.5 * z * (1 + erf(z / math.sqrt(2)))),
    "gelu_tanh": (lambda t: F.gelu(t, approximate="tanh"),
                  lambda z: 0.5 * z * (1 + np.tanh(math.sqrt(2 / math.pi) * (z + 0.044715 * z ** 3)))),
    "softmax": (F.softmax, lambda z: scipy_softmax(z, axis=-1)),
    "log_softmax": (F.log_softmax, lambda z: scipy_log_softmax(z, axis=-1)),
    "softmax_axis0": (lambda t: F.softmax(t, axis=0), lambda z: scipy_softmax(z, axis=0)),
    "log_softmax_axis0": (lambda t: F.log_softmax(t, axis=0), lambda z: scipy_log_softmax(z, axis=0)),
}


def off_the_kink(rng, shape):
    return rng.uniform(0.1, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(shape=shapes, seed=seeds)
def test_activation_value_and_gradient(name, shape, seed):
    function, reference = ACTIVATIONS[name]
    z = off_the_kink(np.random.default_rng(seed), shape)
    np.testing.assert_allclose(function(leaf(z)).data, reference(z), rtol=1e-12, atol=1e-12)
    assert gradcheck(function, leaf(z))


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "silu", "mish", "gelu", "softmax", "log_softmax"])
def test_activation_is_finite_with_finite_gradient_at_extreme_inputs(name):
    function, _ = ACTIVATIONS[name]
    z = leaf([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    out = function(z)
    out.sum().backward()
    assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(z.grad))



@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_its_relative_accuracy_far_into_the_negative_tail(dtype):
    z = np.array([-80.0, -30.0, -10.0], dtype=dtype)
    np.testing.assert_allclose(F.sigmoid(z).data, 1 / (1 + np.exp(-z.astype(np.float64))), rtol=1e-6)

def test_relu_gradient_is_zero_at_and_below_zero():
    z = leaf([-1.0, 0.0, 2.0])
    F.relu(z).sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, 1.0])


def test_activations_keep_float32():
    z = Tensor(np.linspace(-2, 2, 5, dtype=np.float32))
    for name, (function, _) in ACTIVATIONS.items():
        assert function(z).dtype == np.float32, name


def test_tensor_activation_methods_match_functional():
    z = Tensor([-1.0, 0.5])
    np.testing.assert_array_equal(z.relu().data, F.relu(z).data)
    np.testing.assert_array_equal(z.sigmoid().data, F.sigmoid(z).data)
    np.testing.assert_array_equal(z.tanh().data, F.tanh(z).data)


# ----- linear ------------------------------------------------------------------------
@pytest.mark.parametrize("x_shape", [(5, 3), (3,), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("with_bias", [True, False])
def test_linear_value_and_gradient(x_shape, with_bias):
    rng = np.random.default_rng(8)
    x, W, b = rng.standard_normal(x_shape), rng.standard_normal((3, 2)), rng.standard_normal(2)
    inputs = [leaf(x), leaf(W)] + ([leaf(b)] if with_bias else [])
    np.testing.assert_allclose(F.linear(*inputs).data, x @ W + (b if with_bias else 0))
    assert gradcheck(F.linear, *inputs)


def test_linear_with_wrong_shapes_names_them():
    with pytest.raises(ValueError, match=r"x has shape \(4, 3\), W has shape \(2, 5\)"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones((2, 5))))
    with pytest.raises(ValueError, match=r"W must be 2-D .* got shape \(3,\)"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones(3)))
    with pytest.raises(ValueError, match=r"b must have shape \(5,\), got \(4,\)"):
        F.linear(Tensor(np.ones((4, 3))), Tensor(np.ones((3, 5))), Tensor(np.ones(4)))


# ----- elementwise losses -----------------------------------------------------------
REDUCE = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}
ELEMENTWISE_LOSSES = {
    "mse_loss": (F.mse_loss, lambda d: d * d),
    "l1_loss": (F.l1_loss, np.abs),
    "huber_loss": (F.huber_loss, lambda d: np.where(np.abs(d) <= 1, 0.5 * d * d, np.abs(d) - 0.5)),
    "huber_loss_delta": (lambda x, y, reduction: F.huber_loss(x, y, reduction=reduction, delta=0.4),
                         lambda d: np.where(np.abs(d) <= 0.4, 0.5 * d * d, 0.4 * (np.abs(d) - 0.2))),
}


@pytest.mark.parametrize("name", list(ELEMENTWISE_LOSSES))
@pytest.mark.parametrize("reduction", list(REDUCE))
@given(shape=shapes, seed=seeds)
def test_elementwise_loss_value_and_gradient_for_input_and_target(name, reduction, shape, seed):
    loss, per_element = ELEMENTWISE_LOSSES[name]
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(shape)
    x = y + off_the_kink(rng, shape)
    np.testing.assert_allclose(loss(leaf(x), leaf(y), reduction=reduction).data, REDUCE[reduction](per_element(x - y)))
    assert gradcheck(lambda a, b: loss(a, b, reduction=reduction), leaf(x), leaf(y))


@pytest.mark.parametrize("reduction", list(REDUCE))
@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy_value_and_gradient(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    p, y = rng.uniform(0.05, 0.95, shape), rng.uniform(0, 1, shape)
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy(leaf(p), leaf(y), reduction=reduction).data,
                               REDUCE[reduction](expected))
    assert gradcheck(lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), leaf(p), leaf(y))


def test_binary_cross_entropy_at_probability_zero_and_one_is_finite():
    p = leaf([0.0, 1.0, 0.0, 1.0])
    loss = F.binary_cross_entropy(p, np.array([0.0, 1.0, 1.0, 0.0]), reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0])
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))


@pytest.mark.parametrize("reduction", list(REDUCE))
@given(shape=shapes, seed=seeds)
def test_binary_cross_entropy_with_logits_value_and_gradient(reduction, shape, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.uniform(-4, 4, shape), rng.uniform(0, 1, shape)
    p = sig(z)
    expected = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    np.testing.assert_allclose(F.binary_cross_entropy_with_logits(leaf(z), leaf(y), reduction=reduction).data,
                               REDUCE[reduction](expected), rtol=1e-10)
    assert gradcheck(lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction), leaf(z), leaf(y))


def test_binary_cross_entropy_with_logits_is_stable_at_logits_of_1000():
    z = leaf([-1000.0, 1000.0, -1000.0, 1000.0])
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = F.binary_cross_entropy_with_logits(z, y, reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 1000.0, 1000.0])
    loss.sum().backward()
    np.testing.assert_array_equal(z.grad, [0.0, 0.0, -1.0, 1.0])  # sigmoid(z) - y


# ----- cross-entropy --------------------------------------------------------------------
def reference_cross_entropy(z, target_probs):
    return -(target_probs * scipy_log_softmax(z, axis=1)).sum(axis=1)


@pytest.mark.parametrize("reduction", list(REDUCE))
@given(n=st.integers(1, 5), classes=st.integers(2, 5), seed=seeds)
def test_cross_entropy_with_class_indices_value_and_gradient(reduction, n, classes, seed):
    rng = np.random.default_rng(seed)
    z, labels = rng.standard_normal((n, classes)) * 3, rng.integers(0, classes, n)
    expected = reference_cross_entropy(z, np.eye(classes)[labels])
    np.testing.assert_allclose(F.cross_entropy(leaf(z), labels, reduction=reduction).data, REDUCE[reduction](expected))
    assert gradcheck(lambda t: F.cross_entropy(t, labels, reduction=reduction), leaf(z))


@pytest.mark.parametrize("reduction", list(REDUCE))
@given(n=st.integers(1, 5), classes=st.integers(2, 5), seed=seeds)
def test_cross_entropy_with_probability_targets_value_and_gradient(reduction, n, classes, seed):
    rng = np.random.default_rng(seed)
    z, y = rng.standard_normal((n, classes)) * 3, scipy_softmax(rng.standard_normal((n, classes)), axis=1)
    np.testing.assert_allclose(F.cross_entropy(leaf(z), y, reduction=reduction).data,
                               REDUCE[reduction](reference_cross_entropy(z, y)))
    assert gradcheck(lambda a, b: F.cross_entropy(a, b, reduction=reduction), leaf(z), leaf(y))


def test_cross_entropy_gradient_is_softmax_minus_one_hot_over_n():
    z = leaf([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    F.cross_entropy(z, np.array([2, 0])).backward()
    np.testing.assert_allclose(z.grad, (scipy_softmax(z.data, axis=1) - np.eye(3)[[2, 0]]) / 2)


def test_cross_entropy_with_one_hot_targets_equals_class_indices():
    z = np.random.default_rng(9).standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    a, b = leaf(z), leaf(z)
    F.cross_entropy(a, labels).backward()
    F.cross_entropy(b, np.eye(3)[labels]).backward()
    np.testing.assert_allclose(a.grad, b.grad)


def test_cross_entropy_accepts_a_python_list_of_labels():
    z = leaf(np.zeros((2, 4)))
    assert F.cross_entropy(z, [1, 3]).item() == pytest.approx(math.log(4))


def test_cross_entropy_is_stable_at_logits_of_1000():
    z = leaf([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]])
    loss = F.cross_entropy(z, np.array([1, 0]), reduction="none")
    np.testing.assert_allclose(loss.data, [2000.0, 2000.0 + math.log(2)])
    loss.sum().backward()
    np.testing.assert_allclose(z.grad, [[1.0, -1.0, 0.0], [-1.0, 0.5, 0.5]], atol=1e-12)


def test_cross_entropy_with_probability_targets_is_stable_at_logits_of_1000():
    z = leaf([[1000.0, -1000.0]])
    loss = F.cross_entropy(z, np.array([[0.5, 0.5]]))
    assert loss.item() == pytest.approx(1000.0)
    loss.backward()
    np.testing.assert_allclose(z.grad, [[0.5, -0.5]])


def test_log_softmax_at_logits_of_1000_is_finite():
    z = leaf([[1000.0, -1000.0]])
    out = F.log_softmax(z)
    np.testing.assert_allclose(out.data, [[0.0, -2000.0]])
    (out * np.array([[1.0, 0.0]])).sum().backward()
    np.testing.assert_allclose(z.grad, [[0.0, 0.0]], atol=1e-12)


# ----- bad input -----------------------------------------------------------------------
def test_unknown_reduction_lists_the_valid_ones():
    with pytest.raises(ValueError, match=r"reduction: expected one of \['mean', 'sum', 'none'\], got 'avg'"):
        F.mse_loss(Tensor([1.0]), Tensor([1.0]), reduction="avg")


@pytest.mark.parametrize("loss", [F.mse_loss, F.l1_loss, F.huber_loss, F.binary_cross_entropy,
                                  F.binary_cross_entropy_with_logits])
def test_loss_of_mismatched_shapes_names_both(loss):
    with pytest.raises(ValueError, match=r"input \(3,\) and target \(2,\)"):
        loss(Tensor([0.5, 0.5, 0.5]), np.array([0.0, 1.0]))


def test_binary_cross_entropy_refuses_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        F.binary_cross_entropy(Tensor([1.5]), np.array([1.0]))


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match="delta must be positive, got 0"):
        F.huber_loss(Tensor([1.0]), Tensor([1.0]), delta=0)


def test_gelu_approximate_must_be_known():
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        F.gelu(Tensor([1.0]), approximate="fast")


def test_cross_entropy_refuses_wrong_shapes_and_labels():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"logits of shape \(batch, classes\), got \(4,\)"):
        F.cross_entropy(Tensor(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match="target has 2 labels for 3 rows"):
        F.cross_entropy(z, np.array([0, 1]))
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 4\), got values in \[0, 4\]"):
        F.cross_entropy(z, np.array([0, 1, 4]))
    with pytest.raises(TypeError, match="class-index target must be integers"):
        F.cross_entropy(z, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"probability target must have the input's shape \(3, 4\), got \(3, 2\)"):
        F.cross_entropy(z, np.zeros((3, 2)))
