"""chainrule's layers against Keras 3's (JAX backend, float64): the same weights in Keras' get_weights()
order (random values set on both), the same input, the same output.
Skipped when keras or jax is not installed (``pip install chainrule[keras_oracle]``)."""
import numpy as np
import pytest
from keras_jax import keras

from chainrule import layers
from chainrule.tensor import default_dtype

pytestmark = pytest.mark.keras_oracle

rng = np.random.default_rng(11)
SEQUENCE = rng.standard_normal((2, 5, 4))
IMAGES = rng.standard_normal((2, 5, 6, 3))

# name: (the layer written once against a layers module, its input(s))
CASES = {
    "MultiHeadAttention": (lambda m: m.MultiHeadAttention(2, 3, output_shape=5), (SEQUENCE, SEQUENCE[:, :3])),
    "MultiHeadAttention_causal": (lambda m: m.MultiHeadAttention(3, 2, use_bias=False), (SEQUENCE, SEQUENCE)),
    "Conv1DTranspose_valid": (lambda m: m.Conv1DTranspose(3, 3, strides=2), SEQUENCE),
    "Conv1DTranspose_same": (lambda m: m.Conv1DTranspose(2, 4, strides=3, padding="same"), SEQUENCE),
    "Conv2DTranspose_output_padding": (lambda m: m.Conv2DTranspose(2, (3, 2), strides=2, output_padding=1,
                                                                   dilation_rate=1), IMAGES),
    "SeparableConv1D": (lambda m: m.SeparableConv1D(3, 2, depth_multiplier=2, padding="same"), SEQUENCE),
    "DepthwiseConv2D": (lambda m: m.DepthwiseConv2D((2, 3), depth_multiplier=2, strides=(1, 2)), IMAGES),
    "Conv2D_groups": (lambda m: m.Conv2D(4, 2, groups=2), rng.standard_normal((2, 4, 5, 6))),
    "Conv2D_channels_first": (lambda m: m.Conv2D(2, 2, data_format="channels_first"), IMAGES),
    "Conv3D": (lambda m: m.Conv3D(2, 2, padding="same"), IMAGES[..., None]),
    "GroupNormalization": (lambda m: m.GroupNormalization(groups=3, epsilon=1e-3), rng.standard_normal((2, 4, 6))),
    "BatchNormalization_axis": (lambda m: m.BatchNormalization(axis=1), SEQUENCE),
    "UnitNormalization": (lambda m: m.UnitNormalization(), SEQUENCE),
    "UpSampling2D": (lambda m: m.UpSampling2D((2, 3)), IMAGES),
    "ZeroPadding2D": (lambda m: m.ZeroPadding2D(((1, 0), (2, 1))), IMAGES),
    "Cropping2D": (lambda m: m.Cropping2D(((1, 0), (2, 1))), IMAGES),
    "TimeDistributed_Dense": (lambda m: m.TimeDistributed(m.Dense(3)), SEQUENCE),
    "PReLU": (lambda m: m.PReLU(shared_axes=[1]), SEQUENCE),
    "ReLU": (lambda m: m.ReLU(max_value=0.8, negative_slope=0.1, threshold=0.2), SEQUENCE),
    "ELU_LeakyReLU": (lambda m: m.LeakyReLU(), SEQUENCE),
    "Softmax_axes": (lambda m: m.Softmax(axis=(1, 2)), SEQUENCE),
    "Attention_scaled": (lambda m: m.Attention(use_scale=True), [SEQUENCE, SEQUENCE[:, :3]]),
    "Attention_concat": (lambda m: m.Attention(score_mode="concat"), [SEQUENCE, SEQUENCE[:, :3], SEQUENCE[:, 1:4]]),
    "AdditiveAttention": (lambda m: m.AdditiveAttention(), [SEQUENCE, SEQUENCE[:, :3]]),
    "Permute": (lambda m: m.Permute((2, 1)), SEQUENCE),
    "Flatten_channels_first": (lambda m: m.Flatten(data_format="channels_first"), IMAGES),
    "MaxPooling3D": (lambda m: m.MaxPooling3D(2, padding="same"), IMAGES[..., None]),
    "AveragePooling3D": (lambda m: m.AveragePooling3D((2, 2, 1), strides=1), IMAGES[..., None]),
    "CategoryEncoding": (lambda m: m.CategoryEncoding(5, output_mode="count"), np.array([[1, 1, 4], [0, 2, 2]])),
}
# Keras runs some of these in float32 whatever the layer's dtype (sublayers, attention, normalization)
TOLERANCE = dict(rtol=1e-6, atol=1e-6)
CALL_OPTIONS = {"MultiHeadAttention_causal": {"use_causal_mask": True}}


def _call(layer, inputs, **options):
    return layer(*inputs, **options) if isinstance(inputs, tuple) else layer(inputs, **options)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras_with_the_same_weights(name):
    make, inputs = CASES[name]
    theirs = make(keras.layers)
    if hasattr(theirs, "dtype_policy"):
        theirs = type(theirs).from_config({**theirs.get_config(), "dtype": "float64"})
    with default_dtype("float64"):
        ours = make(layers)
    _call(theirs, inputs, **CALL_OPTIONS.get(name, {}))
    _call(ours, inputs, **CALL_OPTIONS.get(name, {}))
    weights = [rng.standard_normal(w.shape) * 0.5 + (1.0 if "gamma" in w.path else 0.0) for w in theirs.weights]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    expected = np.asarray(_call(theirs, inputs, **CALL_OPTIONS.get(name, {})))
    np.testing.assert_allclose(_call(ours, inputs, **CALL_OPTIONS.get(name, {})).data, expected, **TOLERANCE)


def test_normalization_after_adapt_matches_keras_and_keeps_its_weight_order():
    data = rng.standard_normal((20, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    theirs, ours = keras.layers.Normalization(dtype="float64"), layers.Normalization(dtype="float64")
    theirs.adapt(data)
    ours.adapt(data)
    assert list(ours.named_weights()) == [w.path.split("/", 1)[1] for w in theirs.weights]
    for mine, reference in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):  # Keras leaves count at 0
        np.testing.assert_allclose(mine, reference, rtol=1e-10)
    np.testing.assert_allclose(ours(data[:4]).data, np.asarray(theirs(data[:4])), rtol=1e-9)


def test_multi_head_attention_weights_come_in_keras_order_with_keras_shapes():
    theirs, ours = keras.layers.MultiHeadAttention(2, 3, output_shape=2), layers.MultiHeadAttention(2, 3, output_shape=2)
    theirs(SEQUENCE, SEQUENCE)
    ours(SEQUENCE, SEQUENCE)
    assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    assert list(ours.named_weights()) == [w.path.split("/", 1)[1] for w in theirs.weights]


def test_multi_head_attention_with_a_mask_matches_keras():
    theirs = keras.layers.MultiHeadAttention(2, 3, dtype="float64")
    ours = layers.MultiHeadAttention(2, 3, dtype="float64")
    mask = rng.random((2, 5, 5)) > 0.4
    mask[:, :, 0] = True
    theirs(SEQUENCE, SEQUENCE)
    ours(SEQUENCE, SEQUENCE)
    ours.set_weights(theirs.get_weights())
    out, scores = ours(SEQUENCE, SEQUENCE, attention_mask=mask, return_attention_scores=True)
    out_k, scores_k = theirs(SEQUENCE, SEQUENCE, attention_mask=mask, return_attention_scores=True)
    np.testing.assert_allclose(out.data, np.asarray(out_k), **TOLERANCE)
    np.testing.assert_allclose(scores.data, np.asarray(scores_k), **TOLERANCE)
