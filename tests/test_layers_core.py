"""Core layers (Dense, Activation, Dropout, Flatten, Input), the layer registry and regularizers."""
import numpy as np
import pytest
from layer_checks import layer_gradcheck

import chainrule as cr
from chainrule import regularizers
from chainrule.layers import Activation, Dense, Dropout, Flatten, Input, Layer, SymbolicTensor, get_layer_class
from chainrule.utils import set_random_seed


# ----- Dense ----------------------------------------------------------------------
def test_dense_creates_its_weights_lazily_on_first_call():
    layer = Dense(3)
    assert not layer.built and layer.weights == []
    layer(np.zeros((2, 5), dtype=np.float32))
    assert layer.kernel.shape == (5, 3) and layer.bias.shape == (3,)
    assert [w.dtype for w in layer.weights] == [np.float32, np.float32]


def test_dense_computes_activation_of_x_kernel_plus_bias():
    layer = Dense(2, activation="tanh")
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    layer(x)
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2) / 10
    layer.set_weights([kernel, np.array([0.5, -0.5])])
    np.testing.assert_allclose(layer(x).data, np.tanh(x @ kernel + [0.5, -0.5]), rtol=1e-6)


def test_dense_without_bias_has_only_a_kernel():
    layer = Dense(4, use_bias=False)
    layer(np.zeros((1, 2)))
    assert [w.shape for w in layer.weights] == [(2, 4)]


def test_dense_initializers_are_applied():
    layer = Dense(3, kernel_initializer="ones", bias_initializer=cr.initializers.Constant(0.5))
    layer(np.zeros((1, 2)))
    np.testing.assert_array_equal(layer.kernel.data, np.ones((2, 3)))
    np.testing.assert_array_equal(layer.bias.data, [0.5, 0.5, 0.5])


def test_dense_marks_its_output_with_the_pre_activation():
    layer = Dense(2, activation="relu")
    x = np.array([[1.0, -1.0]])
    output = layer(x)
    np.testing.assert_allclose(output.preactivation.data, x @ layer.kernel.data)
    np.testing.assert_allclose(output.data, np.maximum(output.preactivation.data, 0))


@pytest.mark.parametrize("activation", ["linear", "sigmoid", "tanh", "relu", "softmax", "gelu"])
def test_dense_passes_gradcheck(activation):
    set_random_seed(0)
    layer = Dense(3, activation=activation, dtype="float64", bias_initializer="glorot_uniform")
    assert layer_gradcheck(layer, np.random.default_rng(0).normal(size=(4, 5)))


def test_dense_rejects_inputs_with_the_wrong_feature_count():
    layer = Dense(2)
    layer(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"expected inputs with 3 features \(last axis\), got shape \(1, 4\)"):
        layer(np.zeros((1, 4)))


@pytest.mark.parametrize("units", [0, -1, 2.5, "3", True])
def test_dense_rejects_a_non_positive_int_unit_count(units):
    with pytest.raises(ValueError, match="units: expected a positive int"):
        Dense(units)


def test_input_dim_and_input_shape_set_the_shape_hint():
    assert Dense(2, input_dim=7).input_shape_hint == (7,)
    assert Dense(2, input_shape=(7,)).input_shape_hint == (7,)
    with pytest.raises(ValueError, match="input_shape: expected a tuple of positive ints"):
        Dense(2, input_shape=(0,))


# ----- Activation, Dropout, Flatten -------------------------------------------------------
def test_activation_layer_applies_the_named_function():
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_allclose(Activation("relu")(x).data, [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(Activation("sigmoid")(x).data, 1 / (1 + np.exp(-x)), rtol=1e-6)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softmax", "elu", "swish", "mish"])
def test_activation_layer_passes_gradcheck(activation):
    assert layer_gradcheck(Activation(activation, dtype="float64"), np.random.default_rng(1).normal(size=(3, 4)))


def test_dropout_is_the_identity_outside_training():
    x = np.ones((4, 5), dtype=np.float32)
    np.testing.assert_array_equal(Dropout(0.5)(x).data, x)


def test_dropout_in_training_zeroes_units_and_scales_the_rest_by_one_over_keep():
    set_random_seed(0)
    out = Dropout(0.25)(np.ones((200, 50), dtype=np.float32), training=True).data
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert (out == 0).mean() == pytest.approx(0.25, abs=0.02)


def test_dropout_gradient_is_the_same_mask_and_scale():
    set_random_seed(0)
    x = cr.Tensor(np.ones((3, 8)), requires_grad=True)
    out = Dropout(0.5)(x, training=True)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, out.data)


def test_dropout_rejects_a_rate_outside_zero_to_one():
    with pytest.raises(ValueError, match=r"rate: expected a float in \[0, 1\), got 1"):
        Dropout(1)


def test_flatten_merges_all_but_the_batch_axis():
    assert Flatten()(np.zeros((2, 3, 4))).shape == (2, 12)


def test_flatten_passes_gradcheck():
    assert layer_gradcheck(Flatten(dtype="float64"), np.random.default_rng(2).normal(size=(2, 3, 2)))


# ----- Input and symbolic calls --------------------------------------------------------------
def test_input_is_a_placeholder_with_a_batch_axis():
    placeholder = Input((3, 4))
    assert isinstance(placeholder, SymbolicTensor) and placeholder.shape == (None, 3, 4)


def test_calling_a_layer_on_a_placeholder_builds_it_and_gives_the_output_shape():
    layer = Dense(5)
    out = Flatten()(layer(Input((2, 3))))
    assert layer.kernel.shape == (3, 5) and out.shape == (None, 10)


def test_input_rejects_a_bad_shape():
    with pytest.raises(ValueError, match=r"shape: expected a tuple of positive ints"):
        Input((0, 2))


# ----- the registry and configs --------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    Dense(3, activation="relu", input_dim=2, kernel_regularizer=regularizers.L1L2(0.1, 0.2), use_bias=False),
    Activation("softmax"), Dropout(0.3), Flatten()], ids=lambda layer: type(layer).__name__)
def test_layer_config_round_trips_through_the_registry(layer):
    config = layer.get_config()
    rebuilt = get_layer_class(type(layer).__name__).from_config(config)
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == config


def test_a_layer_of_ones_own_is_found_only_when_registered_or_given():
    class Custom(Layer):
        def call(self, inputs, training=False):
            return inputs

    with pytest.raises(ValueError, match="unknown class name 'Custom'.*register_keras_serializable"):
        get_layer_class("Custom")
    assert get_layer_class("Custom", custom_objects={"Custom": Custom}) is Custom


def test_a_class_of_ones_own_called_dense_does_not_replace_chainrules():
    class Dense(Layer):    # noqa: F811  (the point of the test: the same name as chainrule's)
        pass

    from chainrule.layers.core import Dense as BuiltIn
    assert get_layer_class("Dense") is BuiltIn


def test_unknown_layer_class_name_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"layer: unknown class name 'Dense2'; chainrule's layers are .*Dense, .*Flatten"):
        get_layer_class("Dense2")


# ----- regularizers ---------------------------------------------------------------------------
W = np.array([[1.0, -2.0], [0.5, 0.0]])


@pytest.mark.parametrize("regularizer, expected", [
    (regularizers.L1(), 0.01 * 3.5), (regularizers.L2(), 0.01 * 5.25),
    (regularizers.L1L2(l1=0.1, l2=0.2), 0.1 * 3.5 + 0.2 * 5.25)])
def test_regularizer_penalty_values_with_keras_defaults(regularizer, expected):
    assert float(regularizer(cr.Tensor(W)).data) == pytest.approx(expected)


def test_regularizers_are_found_by_name():
    assert type(regularizers.get("l2")) is regularizers.L2 and regularizers.get("l2").l2 == 0.01
    with pytest.raises(ValueError, match="regularizer: unknown name 'l3'; valid names:"):
        regularizers.get("l3")


def test_kernel_regularizer_gradient_reaches_the_kernel():
    layer = Dense(2, use_bias=False, kernel_regularizer="l2")
    layer(np.zeros((1, 2)))
    layer.set_weights([W])
    layer.regularization_loss().backward()
    np.testing.assert_allclose(layer.kernel.grad, 2 * 0.01 * W, rtol=1e-6)


def test_regularizer_passes_gradcheck():
    penalty = regularizers.L1L2(l1=0.1, l2=0.3)
    assert cr.gradcheck(penalty, cr.Tensor(W + 0.1, requires_grad=True))


def test_a_layer_without_regularizers_has_no_penalty():
    layer = Dense(2)
    layer(np.zeros((1, 2)))
    assert layer.regularization_loss() is None


def test_bias_regularizer_penalizes_the_bias():
    layer = Dense(2, bias_regularizer=regularizers.L1(0.5), bias_initializer=cr.initializers.Constant(-2.0))
    layer(np.zeros((1, 3)))
    assert float(layer.regularization_loss().data) == pytest.approx(0.5 * 4.0)


def test_an_all_zero_l1l2_adds_a_zero_penalty():
    assert float(regularizers.L1L2()(cr.Tensor(W)).data) == 0.0
