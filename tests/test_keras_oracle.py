"""chainrule.ops against Keras 3's keras.ops (JAX backend, float64) on the same inputs: the same
signatures, the same values, and the same gradients (jax.grad of sum(op * cotangent)).
Skipped when keras or jax is not installed (``pip install chainrule[keras_oracle]``)."""
import inspect

import numpy as np
import pytest
from keras_jax import jax, keras

import chainrule as cr
from op_inputs import A, B, DISTINCT, IMAGES, KERNEL, LABELS, ONE_HOT, POSITIVE, PROBS, SEQUENCE

pytestmark = pytest.mark.keras_oracle

rng0 = np.random.default_rng(7)

# name: (op written once against an ops module, its float64 inputs; all of them are differentiated)
DIFFERENTIABLE = {
    "abs": (lambda o, x: o.abs(x), [A]),
    "add": (lambda o, x, y: o.add(x, y), [A, B[0]]),
    "divide": (lambda o, x, y: o.divide(x, y), [A, POSITIVE]),
    "power": (lambda o, x, y: o.power(x, y), [POSITIVE, B]),
    "maximum": (lambda o, x, y: o.maximum(x, y), [DISTINCT, A]),
    "minimum": (lambda o, x, y: o.minimum(x, y), [DISTINCT, A]),
    "rsqrt": (lambda o, x: o.rsqrt(x), [POSITIVE]),
    "log1p": (lambda o, x: o.log1p(x), [POSITIVE]),
    "sin_cos": (lambda o, x: o.sin(x) * o.cos(x), [A]),
    "erf": (lambda o, x: o.erf(x), [A]),
    "clip": (lambda o, x: o.clip(x, -0.5, 0.5), [DISTINCT]),
    "square_sqrt": (lambda o, x: o.sqrt(o.square(x) + 1.0), [A]),
    "var": (lambda o, x: o.var(x, axis=1), [A]),
    "std_keepdims": (lambda o, x: o.std(x, axis=0, keepdims=True), [A]),
    "prod": (lambda o, x: o.prod(x, axis=1), [A]),
    "cumsum": (lambda o, x: o.cumsum(x, axis=0), [A]),
    "cumsum_flat": (lambda o, x: o.cumsum(x), [A]),
    "logsumexp": (lambda o, x: o.logsumexp(x, axis=-1), [A * 10]),
    "max_min": (lambda o, x: o.max(x, axis=0) - o.min(x, axis=1, keepdims=True), [DISTINCT]),
    "mean": (lambda o, x: o.mean(x, axis=(0, 1)), [A]),
    "sort": (lambda o, x: o.sort(x, axis=0), [DISTINCT]),
    "top_k": (lambda o, x: o.top_k(x, 3)[0], [DISTINCT]),
    "take": (lambda o, x: o.take(x, np.array([[0, 3], [3, 1]]), axis=1), [A]),
    "take_flat": (lambda o, x: o.take(x, np.array([11, 0, 11])), [A]),
    "take_along_axis": (lambda o, x: o.take_along_axis(x, np.array([[0, 2, 2, 1]]), axis=0), [A]),
    "tile": (lambda o, x: o.tile(x, (2, 1, 2)), [A]),
    "flip": (lambda o, x: o.flip(x, axis=1), [A]),
    "tril_triu": (lambda o, x: o.tril(x, 1) * 2 + o.triu(x, -1), [A]),
    "moveaxis_expand_squeeze": (lambda o, x: o.squeeze(o.expand_dims(o.moveaxis(x, 0, -1), 0)), [SEQUENCE]),
    "swapaxes_reshape": (lambda o, x: o.reshape(o.swapaxes(x, 0, 2), (3, -1)), [SEQUENCE]),
    "broadcast_to": (lambda o, x: o.broadcast_to(x, (2, 3, 4)), [A[:1]]),
    "split_concatenate": (lambda o, x: o.concatenate(o.split(x, 2, axis=1)[::-1], axis=0), [A]),
    "stack": (lambda o, x, y: o.stack([x, y], axis=1), [A, B]),
    "where": (lambda o, x, y: o.where(A > 0, x, y), [A, B]),
    "matmul": (lambda o, x, y: o.matmul(x, y), [A, B.T]),
    "dot": (lambda o, x, y: o.dot(x, y), [SEQUENCE, rng0.standard_normal((4, 3, 2))]),
    "einsum_batched": (lambda o, x, y: o.einsum("bij,bkj->bik", x, y), [SEQUENCE, SEQUENCE[:, :4]]),
    "einsum_trace": (lambda o, x: o.einsum("ii", x), [A[:3, :3]]),
    "einsum_outer_ellipsis": (lambda o, x, y: o.einsum("...i,j->...ij", x, y), [A, B[0]]),
    "relu_sigmoid_tanh": (lambda o, x: o.relu(x) + o.sigmoid(x) * o.tanh(x), [DISTINCT]),
    "softplus_silu": (lambda o, x: o.softplus(x) - o.silu(x), [A * 5]),
    "gelu": (lambda o, x: o.gelu(x), [A * 3]),
    "gelu_exact": (lambda o, x: o.gelu(x, approximate=False), [A * 3]),
    "softmax": (lambda o, x: o.softmax(x, axis=0), [A]),
    "log_softmax": (lambda o, x: o.log_softmax(x), [A * 10]),
    "binary_crossentropy": (lambda o, t, p: o.binary_crossentropy(t, p), [PROBS[::-1], PROBS]),
    "binary_crossentropy_logits": (lambda o, t, z: o.binary_crossentropy(t, z, from_logits=True), [PROBS, A * 5]),
    "categorical_crossentropy": (lambda o, p: o.categorical_crossentropy(ONE_HOT, p), [PROBS]),
    "categorical_crossentropy_logits": (
        lambda o, t, z: o.categorical_crossentropy(t, z, from_logits=True), [PROBS, A * 5]),
    "sparse_categorical_crossentropy": (lambda o, p: o.sparse_categorical_crossentropy(LABELS, p), [PROBS]),
    "sparse_categorical_crossentropy_logits": (
        lambda o, z: o.sparse_categorical_crossentropy(LABELS, z, from_logits=True), [A]),
    "conv_same_strided": (lambda o, x, k: o.conv(x, k, strides=2, padding="same"), [IMAGES, KERNEL]),
    "conv_dilated_1d": (lambda o, x, k: o.conv(x, k, dilation_rate=2), [SEQUENCE, rng0.standard_normal((2, 3, 4))]),
    "conv_channels_first": (lambda o, x, k: o.conv(x, k, data_format="channels_first"),
                            [IMAGES.transpose(0, 3, 1, 2), KERNEL]),
    "depthwise_conv": (lambda o, x, k: o.depthwise_conv(x, k, padding="same"), [IMAGES, KERNEL]),
    "depthwise_conv_1d_strided": (lambda o, x, k: o.depthwise_conv(x, k, strides=2),
                                  [SEQUENCE, rng0.standard_normal((3, 3, 2))]),
    "max_pool": (lambda o, x: o.max_pool(x, 2, strides=2, padding="same"), [IMAGES]),
    "average_pool_same": (lambda o, x: o.average_pool(x, (3, 2), strides=(2, 1), padding="same"), [IMAGES]),
    "average_pool_1d": (lambda o, x: o.average_pool(x, 3, strides=2), [SEQUENCE]),
}


# Keras computes these in float32 even for float64 inputs (its dtype rules give sin, cos, tanh and
# the mean a float32 result or accumulator), so they agree to float32 precision only.
KERAS_COMPUTES_IN_FLOAT32 = {"sin_cos", "var", "mean", "relu_sigmoid_tanh"}


def chainrule_value_and_grads(fn, arrays, cotangent_seed=0):
    inputs = [cr.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(cr.ops, *inputs)
    cotangent = np.random.default_rng(cotangent_seed).standard_normal(out.shape)
    out.backward(cotangent)
    return out.data, [x.grad for x in inputs], cotangent


def keras_value_and_grads(fn, arrays, cotangent):
    value = np.asarray(fn(keras.ops, *arrays))
    grads = jax.grad(lambda *xs: (fn(keras.ops, *xs) * cotangent).sum(), argnums=tuple(range(len(arrays))))(
        *[jax.numpy.asarray(a) for a in arrays])
    return value, [np.asarray(g) for g in grads]


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_values_and_gradients_agree_with_keras_ops(name):
    fn, arrays = DIFFERENTIABLE[name]
    ours, our_grads, cotangent = chainrule_value_and_grads(fn, arrays)
    theirs, their_grads = keras_value_and_grads(fn, arrays, cotangent)
    rtol, atol = (1e-6, 1e-7) if name in KERAS_COMPUTES_IN_FLOAT32 else (1e-10, 1e-12)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)
    for i, (g, h) in enumerate(zip(our_grads, their_grads)):
        np.testing.assert_allclose(g, h, rtol=10 * rtol, atol=atol, err_msg=f"gradient of input {i}")


# name: (op against an ops module); compared by value and dtype
WITHOUT_GRADIENT = {
    "argmax": lambda o: o.argmax(DISTINCT, axis=1),
    "argmin_flat": lambda o: o.argmin(DISTINCT),
    "argsort": lambda o: o.argsort(np.array([[2.0, 1.0, 2.0, 0.0]])),
    "top_k_indices": lambda o: o.top_k(np.array([1.0, 3.0, 2.0, 3.0]), 2)[1],
    "comparisons": lambda o: o.stack([o.equal(A, B), o.not_equal(A, B), o.greater(A, B), o.greater_equal(A, 0.0),
                                      o.less(A, B), o.less_equal(A, 0.0)]),
    "all_any": lambda o: o.stack([o.all(A > -1, axis=0), o.any(A > 1, axis=0)]),
    "sign_floor_round": lambda o: o.stack([o.sign(A), o.floor(A), o.round(np.array([0.5, 1.5, 2.5, -0.5]) + 0 * A)]),
    "round_decimals": lambda o: o.round(A, decimals=2),
    "one_hot": lambda o: o.one_hot(np.array([0, 2, -1, 5]), 4),
    "one_hot_axis0": lambda o: o.one_hot(np.array([[0, 1]]), 3, axis=0),
    "arange_int": lambda o: o.arange(2, 11, 3),
    "arange_float": lambda o: o.arange(0.0, 1.0, 0.25),
    "linspace": lambda o: o.linspace(0.0, 1.0, 7),
    "linspace_no_endpoint": lambda o: o.linspace(-1.0, 1.0, 4, endpoint=False),
    "eye": lambda o: o.eye(3, 4, k=1),
    "identity": lambda o: o.identity(3),
    "full": lambda o: o.full((2, 3), 7),
    "zeros_ones": lambda o: o.zeros((2, 2)) + o.ones((2, 2)),
    "zeros_like_ones_like": lambda o: o.stack([o.zeros_like(A), o.ones_like(A)]),
    "where_indices": lambda o: o.where(np.array([[True, False], [False, True]]))[1],
    "cast_to_int": lambda o: o.cast(A * 3, "int32"),
}


@pytest.mark.parametrize("name", list(WITHOUT_GRADIENT))
def test_ops_without_gradient_agree_with_keras_ops_in_value_and_dtype(name):
    fn = WITHOUT_GRADIENT[name]
    ours, theirs = fn(cr.ops), fn(keras.ops)
    np.testing.assert_allclose(ours.data, np.asarray(theirs), rtol=1e-6)
    assert np.dtype(ours.dtype).kind == np.dtype(theirs.dtype).kind


def test_shape_and_convert_to_numpy_agree_with_keras_ops():
    assert cr.ops.shape(A) == tuple(keras.ops.shape(A))
    np.testing.assert_array_equal(cr.ops.convert_to_numpy(cr.ops.convert_to_tensor(A)),
                                  keras.ops.convert_to_numpy(keras.ops.convert_to_tensor(A)))


@pytest.mark.parametrize("name", cr.ops.__all__)
def test_every_op_has_keras_signature(name):
    assert parameters(getattr(cr.ops, name)) == parameters(getattr(keras.ops, name))


@pytest.mark.parametrize("name", ["normal", "uniform", "randint", "dropout", "shuffle"])
def test_every_random_function_has_keras_signature(name):
    assert parameters(getattr(cr.random, name)) == parameters(getattr(keras.random, name))


def parameters(function):
    """Names and defaults, leaving out a ``**kwargs`` passed on to the backend (keras.ops.einsum's)."""
    return [(p.name, p.default) for p in inspect.signature(function).parameters.values()
            if p.kind is not inspect.Parameter.VAR_KEYWORD]


def test_dropout_scales_kept_entries_as_keras():
    ours = cr.random.dropout(np.ones((50, 50)), 0.25, seed=1).data
    theirs = np.asarray(keras.random.dropout(np.ones((50, 50)), 0.25, seed=1))
    assert set(np.unique(ours)) == set(np.unique(theirs)) == {0.0, 1 / 0.75}
