"""chainrule.ops (keras.ops) and chainrule.random: every differentiable op's gradient checked against
central differences in float64, its jvp against the gradient, einsum's own VJP on many subscripts,
the ops without gradient, and errors that name the argument."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import array_shapes

import chainrule as keras
from chainrule import Tensor, gradcheck, ops
from op_inputs import A, B, DISTINCT, IMAGES, KERNEL, LABELS, OFF_KINK, ONE_HOT, POSITIVE, PROBS, SEQUENCE

seeds = st.integers(0, 2**32 - 1)
rng0 = np.random.default_rng(7)

DIFFERENTIABLE = {
    "abs": (ops.abs, [OFF_KINK]),
    "add": (ops.add, [A, B[0]]),
    "subtract": (ops.subtract, [A, B]),
    "multiply": (ops.multiply, [A, B[:, :1]]),
    "divide": (ops.divide, [A, POSITIVE]),
    "power": (ops.power, [POSITIVE, B]),
    "maximum": (ops.maximum, [DISTINCT, A]),
    "minimum": (ops.minimum, [DISTINCT, A]),
    "negative": (ops.negative, [A]),
    "square": (ops.square, [A]),
    "sqrt": (ops.sqrt, [POSITIVE]),
    "rsqrt": (ops.rsqrt, [POSITIVE]),
    "exp": (ops.exp, [A]),
    "log": (ops.log, [POSITIVE]),
    "log1p": (ops.log1p, [POSITIVE]),
    "sin": (ops.sin, [A]),
    "cos": (ops.cos, [A]),
    "erf": (ops.erf, [A]),
    "clip": (lambda x: ops.clip(x, -0.5, 0.5), [OFF_KINK]),
    "where": (lambda a, b: ops.where(A > 0, a, b), [A, B]),
    "sum_axis": (lambda x: ops.sum(x, axis=1), [A]),
    "mean_keepdims": (lambda x: ops.mean(x, axis=0, keepdims=True), [A]),
    "var": (lambda x: ops.var(x, axis=-1), [A]),
    "std": (ops.std, [A]),
    "max_initial": (lambda x: ops.max(x, axis=0, initial=0.1), [DISTINCT]),
    "min": (lambda x: ops.min(x, axis=1), [DISTINCT]),
    "prod": (lambda x: ops.prod(x, axis=0), [A]),
    "prod_with_a_zero": (ops.prod, [np.array([[1.5, 0.0], [2.0, -0.5]])]),
    "cumsum_axis": (lambda x: ops.cumsum(x, axis=1), [A]),
    "cumsum_flat": (ops.cumsum, [A]),
    "logsumexp": (lambda x: ops.logsumexp(x, axis=1, keepdims=True), [A]),
    "sort": (ops.sort, [DISTINCT]),
    "sort_axis0": (lambda x: ops.sort(x, axis=0), [DISTINCT]),
    "top_k": (lambda x: ops.top_k(x, 2)[0], [DISTINCT]),
    "take_repeated": (lambda x: ops.take(x, np.array([[0, 2], [0, -1]]), axis=1), [A]),
    "take_flat": (lambda x: ops.take(x, np.array([5, 0, 5])), [A]),
    "take_along_axis": (lambda x: ops.take_along_axis(x, np.array([[0], [3], [3]]), axis=1), [A]),
    "reshape": (lambda x: ops.reshape(x, (2, -1)), [A]),
    "transpose": (ops.transpose, [A]),
    "swapaxes": (lambda x: ops.swapaxes(x, 0, -1), [SEQUENCE]),
    "moveaxis": (lambda x: ops.moveaxis(x, 0, -1), [SEQUENCE]),
    "expand_dims": (lambda x: ops.expand_dims(x, (0, -1)), [A]),
    "squeeze": (lambda x: ops.squeeze(x, 0), [A[None]]),
    "broadcast_to": (lambda x: ops.broadcast_to(x, (2, 3, 4)), [A[:1]]),
    "concatenate": (lambda a, b: ops.concatenate([a, b], axis=1), [A, B]),
    "stack": (lambda a, b: ops.stack([a, b], axis=-1), [A, B]),
    "split": (lambda x: ops.split(x, [1, 3], axis=1)[1], [A]),
    "flip": (lambda x: ops.flip(x, axis=1), [A]),
    "flip_all": (ops.flip, [A]),
    "tile": (lambda x: ops.tile(x, (2, 1, 3)), [A]),
    "tril": (lambda x: ops.tril(x, -1), [A]),
    "triu": (lambda x: ops.triu(x, 1), [A]),
    "matmul": (ops.matmul, [A, B.T]),
    "dot_nd": (ops.dot, [SEQUENCE, rng0.standard_normal((2, 3, 2))]),
    "dot_vector": (ops.dot, [A, B[0]]),
    "einsum": (lambda a, b: ops.einsum("ij,kj->ik", a, b), [A, B]),
    "relu": (ops.relu, [OFF_KINK]),
    "sigmoid": (ops.sigmoid, [A]),
    "tanh": (ops.tanh, [A]),
    "softplus": (ops.softplus, [A]),
    "silu": (ops.silu, [A]),
    "gelu": (ops.gelu, [A]),
    "gelu_exact": (lambda x: ops.gelu(x, approximate=False), [A]),
    "softmax": (lambda x: ops.softmax(x, axis=0), [A]),
    "log_softmax": (ops.log_softmax, [A]),
    "binary_crossentropy": (ops.binary_crossentropy, [PROBS, PROBS[::-1]]),
    "binary_crossentropy_logits": (lambda t, z: ops.binary_crossentropy(t, z, from_logits=True), [PROBS, A]),
    "categorical_crossentropy": (lambda p: ops.categorical_crossentropy(ONE_HOT, p), [PROBS]),
    "categorical_crossentropy_logits": (lambda t, z: ops.categorical_crossentropy(t, z, from_logits=True),
                                        [PROBS, A]),
    "sparse_categorical_crossentropy": (lambda p: ops.sparse_categorical_crossentropy(LABELS, p), [PROBS]),
    "sparse_categorical_crossentropy_logits": (
        lambda z: ops.sparse_categorical_crossentropy(LABELS[:, None], z, from_logits=True), [A]),
    "conv": (lambda x, k: ops.conv(x, k, strides=(2, 1), padding="same"), [IMAGES, KERNEL]),
    "conv_channels_first": (lambda x, k: ops.conv(x, k, data_format="channels_first", dilation_rate=2),
                            [SEQUENCE.transpose(0, 2, 1), rng0.standard_normal((2, 3, 4))]),
    "depthwise_conv": (lambda x, k: ops.depthwise_conv(x, k, padding="same"), [IMAGES, KERNEL]),
    "depthwise_conv_1d": (lambda x, k: ops.depthwise_conv(x, k, strides=2), [SEQUENCE,
                                                                              rng0.standard_normal((2, 3, 2))]),
    "max_pool": (lambda x: ops.max_pool(x, 2, padding="same"), [IMAGES]),
    "average_pool": (lambda x: ops.average_pool(x, 3, strides=1), [SEQUENCE]),
    "dropout": (lambda x: keras.random.dropout(x, 0.5, seed=3), [A]),
    "shuffle": (lambda x: keras.random.shuffle(x, axis=1, seed=3), [A]),
}


def leaves(arrays):
    return [Tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]


@pytest.mark.parametrize("name", list(DIFFERENTIABLE))
def test_op_gradient_matches_finite_differences(name):
    fn, arrays = DIFFERENTIABLE[name]
    assert gradcheck(fn, *leaves(arrays))


LINEAR_OR_ELEMENTWISE = ["add", "multiply", "divide", "sin", "cos", "erf", "log1p", "minimum", "prod",
                         "prod_with_a_zero", "cumsum_axis", "logsumexp", "sort", "take_repeated", "broadcast_to",
                         "flip", "tile", "einsum", "dot_nd", "depthwise_conv"]


@pytest.mark.parametrize("name", LINEAR_OR_ELEMENTWISE)
def test_op_jvp_equals_gradient_dot_tangent(name):
    """Forward mode agrees with reverse mode: <J v, u> = <v, J^T u>."""
    fn, arrays = DIFFERENTIABLE[name]
    rng = np.random.default_rng(1)
    primals = [np.asarray(a, dtype=np.float64) for a in arrays]
    tangents = [rng.standard_normal(p.shape) for p in primals]
    out, tangent_out = keras.jvp(fn, tuple(primals), tuple(tangents))
    cotangent = rng.standard_normal(out.shape)
    inputs = leaves(primals)
    fn(*inputs).backward(cotangent)
    expected = sum(float((x.grad * v).sum()) for x, v in zip(inputs, tangents))
    assert float((tangent_out.data * cotangent).sum()) == pytest.approx(expected, rel=1e-10, abs=1e-10)


# ----- einsum ----------------------------------------------------------------------
EINSUM_CASES = {
    "matmul": ("ij,jk->ik", [(2, 3), (3, 4)]),
    "batched_matmul": ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    "outer": ("i,j->ij", [(3,), (4,)]),
    "trace": ("ii->", [(3, 3)]),
    "diagonal": ("ii->i", [(3, 3)]),
    "transpose": ("ij->ji", [(2, 3)]),
    "sum_all": ("ij->", [(2, 3)]),
    "implicit_inner": ("ij,ij", [(2, 3), (2, 3)]),
    "implicit_transpose": ("ba", [(2, 3)]),
    "ellipsis_broadcast": ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 4)]),
    "three_operands": ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    "repeated_in_one_operand": ("iij,j->ij", [(3, 3, 2), (2,)]),
    "letter_only_in_one_operand": ("ij,k->ij", [(2, 3), (4,)]),
    "attention_scores": ("bqhd,bkhd->bhqk", [(2, 3, 2, 4), (2, 5, 2, 4)]),
}


@pytest.mark.parametrize("name", list(EINSUM_CASES))
def test_einsum_values_match_numpy_and_its_vjp_matches_finite_differences(name):
    subscripts, shapes = EINSUM_CASES[name]
    rng = np.random.default_rng(0)
    inputs = leaves([rng.standard_normal(s) for s in shapes])
    np.testing.assert_allclose(ops.einsum(subscripts, *inputs).data, np.einsum(subscripts, *[x.data for x in inputs]))
    assert gradcheck(lambda *xs: ops.einsum(subscripts, *xs), *inputs)


@given(n=st.integers(1, 3), m=st.integers(1, 3), k=st.integers(1, 3), batch=array_shapes(min_dims=0, max_dims=2,
                                                                                       max_side=2), seed=seeds)
def test_einsum_batched_matmul_gradient_on_random_shapes(n, m, k, batch, seed):
    rng = np.random.default_rng(seed)
    a, b = leaves([rng.standard_normal(batch + (n, m)), rng.standard_normal(batch + (m, k))])
    assert gradcheck(lambda x, y: ops.einsum("...nm,...mk->...nk", x, y), a, b)


@pytest.mark.parametrize("subscripts, shapes, message", [
    ("ij,jk->ik", [(2, 3), (4, 4)], "index 'j' has size 3"),
    ("ij,jk", [(2, 3)], "name 2 operand"),
    ("ijk->i", [(2, 3)], "names 3 axes but operand 0 has shape"),
    ("ij->ik", [(2, 3)], "output index 'k'"),
    ("i1->i", [(2, 3)], "expected letters"),
])
def test_einsum_rejects_subscripts_that_do_not_match_the_operands(subscripts, shapes, message):
    with pytest.raises(ValueError, match=message):
        ops.einsum(subscripts, *[np.ones(s) for s in shapes])


# ----- ops without a gradient ------------------------------------------------------------
def test_comparisons_and_arg_ops_return_tensors_that_do_not_require_grad():
    x = Tensor(DISTINCT, requires_grad=True)
    for out in [ops.equal(x, 0.0), ops.greater(x, 0.0), ops.less_equal(x, x), ops.argmax(x, axis=1),
                ops.argsort(x), ops.sign(x), ops.round(x), ops.floor(x), ops.all(x > 0), ops.any(x > 0, axis=0)]:
        assert isinstance(out, Tensor) and not out.requires_grad


def test_arg_ops_return_int32_indices_as_keras():
    assert ops.argmax(DISTINCT).dtype == np.int32
    np.testing.assert_array_equal(ops.argmin(DISTINCT, axis=0, keepdims=True).data,
                                  DISTINCT.argmin(axis=0)[None])
    np.testing.assert_array_equal(ops.argsort(np.array([2.0, 1.0, 2.0])).data, [1, 0, 2])


def test_constructors_take_keras_default_dtypes():
    assert ops.zeros((2, 3)).dtype == keras.get_default_dtype()
    assert ops.arange(5).dtype == np.int32 and ops.arange(0.0, 1.0, 0.25).dtype == keras.get_default_dtype()
    assert ops.full((2,), 3).dtype == keras.get_default_dtype()
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.ones_like(np.zeros(3, dtype=np.int64)).dtype == np.int64
    np.testing.assert_array_equal(ops.identity(3).data, np.eye(3))


def test_one_hot_gives_zero_rows_for_out_of_range_indices_and_takes_an_axis():
    np.testing.assert_array_equal(ops.one_hot(np.array([0, 2, -1]), 3).data, [[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    assert ops.one_hot(np.array([[0, 1]]), 4, axis=0).shape == (4, 1, 2)


def test_where_with_only_a_condition_gives_the_indices_where_it_holds():
    rows, cols = ops.where(np.array([[True, False], [False, True]]))
    np.testing.assert_array_equal(rows.data, [0, 1])
    np.testing.assert_array_equal(cols.data, [0, 1])


def test_convert_to_numpy_returns_an_ndarray():
    assert isinstance(ops.convert_to_numpy(Tensor([1.0, 2.0])), np.ndarray)


def test_cast_between_floats_passes_the_gradient_back_in_the_input_dtype():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = ops.cast(x, "float32")
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad, [2.0, 4.0])
    assert not ops.cast(x, "int32").requires_grad
    _, tangent = keras.jvp(lambda t: ops.cast(t, "float32"), (np.array([1.0]),), (np.array([3.0]),))
    assert tangent.dtype == np.float32 and tangent.item() == 3.0


def test_keras_ops_is_reachable_from_the_package():
    assert keras.ops.matmul(np.eye(2), np.ones((2, 1))).shape == (2, 1)


# ----- errors ------------------------------------------------------------------------
@pytest.mark.parametrize("call, error, message", [
    (lambda: ops.sum(A, axis=2), ValueError, "axis: expected an axis in"),
    (lambda: ops.argmax(A, axis=-3), ValueError, "axis: expected an axis in"),
    (lambda: ops.flip(A, axis=5), ValueError, "axis"),
    (lambda: ops.take(A, np.array([4]), axis=1), ValueError, r"take: indices must be in \[-4, 4\)"),
    (lambda: ops.take(A, np.array([0.5])), TypeError, "indices must be integers"),
    (lambda: ops.split(A, 3, axis=1), ValueError, "indices_or_sections"),
    (lambda: ops.squeeze(A, 0), ValueError, "squeeze: axis 0 has size 3"),
    (lambda: ops.broadcast_to(A, (3, 5)), ValueError, "broadcast_to"),
    (lambda: ops.top_k(A, 5), ValueError, "top_k: k must be"),
    (lambda: ops.zeros((2, -1)), ValueError, "shape: expected a tuple of non-negative ints"),
    (lambda: ops.zeros(3, dtype="float128x"), TypeError, "dtype"),
    (lambda: ops.one_hot(np.array([0.5]), 3), TypeError, "integer class indices"),
    (lambda: ops.binary_crossentropy(PROBS, PROBS[:2]), ValueError, "target and output must have the same shape"),
    (lambda: ops.sparse_categorical_crossentropy(LABELS[:2], A), ValueError, "target.shape=\\(2,\\)"),
    (lambda: ops.conv(IMAGES, KERNEL, padding="full"), ValueError, "padding: expected 'valid' or 'same'"),
    (lambda: ops.conv(IMAGES, KERNEL, data_format="NHWC"), ValueError, "data_format"),
    (lambda: ops.conv(SEQUENCE, KERNEL), ValueError, "expected input of rank 4"),
    (lambda: ops.depthwise_conv(IMAGES, KERNEL[:, :, :2]), ValueError, "input has 3 channels"),
    (lambda: ops.where(A > 0, A), ValueError, "where: expected both x1 and x2"),
    (lambda: ops.moveaxis(A, (0, 1), 0), ValueError, "moveaxis"),
])
def test_bad_arguments_raise_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


# ----- chainrule.random --------------------------------------------------------------
def test_random_draws_with_an_int_seed_repeat_and_with_a_seed_generator_advance():
    np.testing.assert_array_equal(keras.random.normal((3,), seed=5).data, keras.random.normal((3,), seed=5).data)
    generator = keras.random.SeedGenerator(5)
    first, second = keras.random.uniform((3,), seed=generator), keras.random.uniform((3,), seed=generator)
    assert not np.array_equal(first.data, second.data)
    again = keras.random.SeedGenerator(5)
    np.testing.assert_array_equal(keras.random.uniform((3,), seed=again).data, first.data)


def test_random_without_a_seed_follows_set_random_seed():
    keras.utils.set_random_seed(11)
    first = keras.random.normal((4,))
    keras.utils.set_random_seed(11)
    np.testing.assert_array_equal(keras.random.normal((4,)).data, first.data)


def test_random_draws_follow_their_distributions():
    samples = keras.random.normal((20000,), mean=2.0, stddev=0.5, seed=0).data
    assert samples.mean() == pytest.approx(2.0, abs=0.02) and samples.std() == pytest.approx(0.5, abs=0.02)
    uniform = keras.random.uniform((20000,), minval=-1.0, maxval=3.0, seed=0).data
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and uniform.mean() == pytest.approx(1.0, abs=0.05)
    integers = keras.random.randint((1000,), 2, 5, seed=0)
    assert integers.dtype == np.int32 and set(np.unique(integers.data)) == {2, 3, 4}


def test_dropout_zeroes_about_rate_of_the_entries_and_scales_the_rest():
    out = keras.random.dropout(np.ones((100, 100)), 0.3, seed=0).data
    assert np.mean(out == 0) == pytest.approx(0.3, abs=0.02)
    np.testing.assert_allclose(out[out != 0], 1 / 0.7)


def test_dropout_noise_shape_shares_the_mask_along_its_axes_of_one():
    out = keras.random.dropout(np.ones((4, 50)), 0.5, noise_shape=(None, 1), seed=0).data
    assert all(len(np.unique(row)) == 1 for row in out)


def test_shuffle_permutes_along_the_axis():
    x = np.arange(20.0).reshape(10, 2)
    out = keras.random.shuffle(x, seed=1).data
    np.testing.assert_array_equal(np.sort(out[:, 0]), x[:, 0])
    np.testing.assert_array_equal(out[:, 1] - out[:, 0], 1.0)


@pytest.mark.parametrize("call, error, message", [
    (lambda: keras.random.normal((2,), seed="a"), ValueError, "seed: expected an int, a SeedGenerator or None"),
    (lambda: keras.random.normal((2,), dtype="int32"), TypeError, "dtype: expected a floating dtype"),
    (lambda: keras.random.randint((2,), 0, 3, dtype="float32"), TypeError, "dtype: expected an integer dtype"),
    (lambda: keras.random.uniform((2,), 1.0, 0.0), ValueError, "minval < maxval"),
    (lambda: keras.random.dropout(A, 1.5), ValueError, "rate"),
    (lambda: keras.random.SeedGenerator(-1), ValueError, "seed"),
])
def test_random_bad_arguments_raise_naming_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()
