"""Every primitive op of the Tensor (chainrule.primitives): values as NumPy computes them, gradients
checked against central differences in float64 on random shapes."""
import numpy as np
import pytest
from hypothesis import assume, given, strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, broadcastable_shapes, mutually_broadcastable_shapes

import chainrule as cr
from chainrule import Tensor, gradcheck
from chainrule.primitives.base import sum_rows, unbroadcast

shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
seeds = st.integers(0, 2**32 - 1)


def leaf(array):
    return Tensor(np.asarray(array, dtype=np.float64), requires_grad=True)


def away_from_zero(rng, shape, margin=0.2):
    """Values with |x| >= margin: finite differences stay off the kink at 0."""
    u = rng.uniform(margin, 2.0, size=shape)
    return u * rng.choice([-1.0, 1.0], size=shape)


def distinct(rng, shape):
    """Values at least 0.1 apart, so max/min/sort have no accidental near-ties."""
    n = int(np.prod(shape, dtype=int))
    return (rng.permutation(n) * 0.1 - n * 0.05).reshape(shape)


def two_broadcasting(draw_shapes, seed):
    rng = np.random.default_rng(seed)
    shape_a, shape_b = draw_shapes.input_shapes
    return rng.standard_normal(shape_a), rng.standard_normal(shape_b)


pairs = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


# ----- elementwise arithmetic --------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
], ids=["add", "sub", "mul"])
@given(pair=pairs, seed=seeds)
def test_binary_op_gradient_with_both_operands_broadcast(op, pair, seed):
    a, b = two_broadcasting(pair, seed)
    assert gradcheck(op, leaf(a), leaf(b))


@given(pair=pairs, seed=seeds)
def test_div_gradient_with_broadcasting(pair, seed):
    a, b = two_broadcasting(pair, seed)
    b = np.sign(b) * (np.abs(b) + 0.5)
    assert gradcheck(lambda x, y: x / y, leaf(a), leaf(b))


@given(pair=pairs, seed=seeds)
def test_pow_of_two_tensors_gradient(pair, seed):
    a, b = two_broadcasting(pair, seed)
    assert gradcheck(lambda x, y: x ** y, leaf(np.abs(a) + 0.5), leaf(b))


@pytest.mark.parametrize("exponent", [2, 3, 0.5, -1.5])
@given(shape=shapes, seed=seeds)
def test_pow_by_constant_gradient(exponent, shape, seed):
    x = np.random.default_rng(seed).uniform(0.5, 2.0, size=shape)
    assert gradcheck(lambda t: t ** exponent, leaf(x))


@pytest.mark.parametrize("op", [
    lambda x: x + 2.5, lambda x: 2.5 + x, lambda x: x - 2.5, lambda x: 2.5 - x,
    lambda x: x * 3.0, lambda x: 3.0 * x, lambda x: x / 3.0, lambda x: 3.0 / x, lambda x: 2.0 ** x, lambda x: -x,
], ids=["x+c", "c+x", "x-c", "c-x", "x*c", "c*x", "x/c", "c/x", "c**x", "neg"])
@given(shape=shapes, seed=seeds)
def test_op_with_python_scalar_operand_gradient(op, shape, seed):
    x = away_from_zero(np.random.default_rng(seed), shape, margin=0.5)
    assert gradcheck(op, leaf(x))


def test_python_scalar_operand_keeps_the_tensor_dtype():
    x = Tensor(np.ones(3, dtype=np.float32))
    assert (x * 2.5).dtype == np.float32
    assert (1 / x).dtype == np.float32


def test_binary_op_of_a_python_scalar_and_an_array_gives_a_tensor_of_the_array_dtype():
    out = cr.maximum(0.0, np.array([-1.0, 2.0]))
    assert isinstance(out, Tensor) and out.dtype == np.float64
    np.testing.assert_array_equal(out.data, [0.0, 2.0])
    np.testing.assert_array_equal(cr.where(np.array([True, False]), 1.0, np.zeros(2)).data, [1.0, 0.0])


def test_numpy_scalar_operand_keeps_its_dtype():
    assert (Tensor(np.ones(2, dtype=np.float32)) * np.float64(2.0)).dtype == np.float64


def test_scalar_tensor_operand_broadcasts_and_its_gradient_is_the_sum():
    x = leaf(np.arange(6.0).reshape(2, 3))
    s = leaf(2.0)
    (x * s).sum().backward()
    assert s.grad.shape == ()
    assert s.grad == pytest.approx(15.0)
    np.testing.assert_allclose(x.grad, np.full((2, 3), 2.0))


def test_ndarray_on_the_left_defers_to_the_tensor_operator():
    x = leaf(np.ones(3))
    y = np.arange(3.0) * x
    assert isinstance(y, Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [0.0, 1.0, 2.0])


# ----- matmul --------------------------------------------------------------------
@pytest.mark.parametrize("shape_a, shape_b", [
    ((3, 4), (4, 2)),
    ((4,), (4,)),
    ((4,), (4, 2)),
    ((3, 4), (4,)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (3, 4, 2)),
    ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
], ids=str)
def test_matmul_gradient_including_1d_and_broadcast_batch_axes(shape_a, shape_b):
    rng = np.random.default_rng(1)
    a, b = leaf(rng.standard_normal(shape_a)), leaf(rng.standard_normal(shape_b))
    out = a @ b
    np.testing.assert_allclose(out.data, a.data @ b.data)
    assert gradcheck(lambda x, y: x @ y, a, b)


@given(batch=broadcastable_shapes((2, 3), min_dims=0, max_dims=2, max_side=3),
       n=st.integers(1, 3), k=st.integers(1, 3), m=st.integers(1, 3), seed=seeds)
def test_batched_matmul_gradient_on_random_batch_shapes(batch, n, k, m, seed):
    rng = np.random.default_rng(seed)
    a = leaf(rng.standard_normal((2, 3) + (n, k)))
    b = leaf(rng.standard_normal(batch + (k, m)))
    assert gradcheck(lambda x, y: x @ y, a, b)


def test_matmul_output_of_two_vectors_is_a_0d_ndarray():
    out = Tensor([1.0, 2.0]) @ Tensor([3.0, 4.0])
    assert isinstance(out.data, np.ndarray) and out.shape == () and out.item() == 11.0


# ----- reductions ----------------------------------------------------------------
axis_cases = [None, 0, -1, (0, 1)]


@pytest.mark.parametrize("reduce", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", axis_cases, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
@given(shape=array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4), seed=seeds)
def test_reduction_value_and_gradient(reduce, axis, keepdims, shape, seed):
    x = distinct(np.random.default_rng(seed), shape)
    out = getattr(leaf(x), reduce)(axis=axis, keepdims=keepdims)
    expected = getattr(np, reduce)(x, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected)
    np.testing.assert_allclose(out.data, expected)
    assert gradcheck(lambda t: getattr(t, reduce)(axis=axis, keepdims=keepdims), leaf(x))


@pytest.mark.parametrize("reduce", ["max", "min"])
def test_max_and_min_share_the_gradient_equally_among_ties(reduce):
    x = leaf([[1.0, 5.0, 5.0], [-2.0, -2.0, -2.0]] if reduce == "max" else [[-5.0, -5.0, 1.0], [2.0, 2.0, 2.0]])
    getattr(x, reduce)(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]] if reduce == "max"
                               else [[0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])


def test_max_of_the_whole_tensor_with_a_tie_splits_the_gradient():
    x = leaf([3.0, 1.0, 3.0])
    x.max().backward()
    np.testing.assert_allclose(x.grad, [0.5, 0.0, 0.5])


def test_mean_gradient_is_one_over_the_count():
    x = leaf(np.ones((2, 5)))
    x.mean(axis=1).sum().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 5), 0.2))


# ----- elementwise functions -----------------------------------------------------
@pytest.mark.parametrize("name, make", [
    ("exp", lambda rng, s: rng.uniform(-2, 2, s)),
    ("log", lambda rng, s: rng.uniform(0.2, 3, s)),
    ("sqrt", lambda rng, s: rng.uniform(0.2, 3, s)),
    ("abs", away_from_zero),
], ids=lambda v: v if isinstance(v, str) else "")
@given(shape=shapes, seed=seeds)
def test_elementwise_function_value_and_gradient(name, make, shape, seed):
    x = make(np.random.default_rng(seed), shape)
    np.testing.assert_allclose(getattr(leaf(x), name)().data, getattr(np, name)(x))
    assert gradcheck(lambda t: getattr(t, name)(), leaf(x))


@pytest.mark.parametrize("low, high", [(-0.5, 0.5), (None, 0.3), (-0.3, None)], ids=str)
def test_clip_passes_gradient_only_inside_the_bounds(low, high):
    x = leaf([-1.0, -0.4, 0.0, 0.4, 1.0])
    out = x.clip(low, high)
    np.testing.assert_allclose(out.data, np.clip(x.data, low, high))
    out.sum().backward()
    inside = np.ones(5, bool)
    if low is not None:
        inside &= x.data >= low
    if high is not None:
        inside &= x.data <= high
    np.testing.assert_allclose(x.grad, inside.astype(float))
    assert gradcheck(lambda t: t.clip(low, high), leaf([-1.0, -0.41, 0.07, 0.43, 1.0]))


# ----- shape ---------------------------------------------------------------------
def test_reshape_gradient_and_minus_one():
    x = leaf(np.arange(12.0).reshape(3, 4))
    assert x.reshape(2, -1).shape == (2, 6)
    assert x.reshape((4, 3)).shape == (4, 3)
    assert gradcheck(lambda t: t.reshape(2, 3, 2) * np.arange(12.0).reshape(2, 3, 2), x)


@pytest.mark.parametrize("axes", [None, (1, 0, 2), (2, 0, 1), (-1, 0, 1), (0, -1, -2)], ids=str)
def test_transpose_value_and_gradient(axes):
    x = np.random.default_rng(2).standard_normal((2, 3, 4))
    out = leaf(x).transpose(axes) if axes else leaf(x).transpose()
    np.testing.assert_array_equal(out.data, np.transpose(x, axes))
    assert gradcheck(lambda t: t.transpose(axes) if axes else t.transpose(), leaf(x))


def test_T_reverses_axes_and_its_gradient_has_the_input_shape():
    x = leaf(np.arange(6.0).reshape(2, 3))
    assert x.T.shape == (3, 2)
    (x.T * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_allclose(x.grad, np.arange(6.0).reshape(3, 2).T)


@pytest.mark.parametrize("start, end, shape", [(0, -1, (24,)), (1, -1, (2, 12)), (0, 1, (6, 4)), (1, 2, (2, 12))])
def test_flatten_merges_the_given_dimensions(start, end, shape):
    x = leaf(np.arange(24.0).reshape(2, 3, 4))
    out = x.flatten(start, end)
    assert out.shape == shape
    assert gradcheck(lambda t: t.flatten(start, end) * np.arange(24.0).reshape(shape), x)


# ----- indexing ------------------------------------------------------------------
@pytest.mark.parametrize("index", [
    1, -1, slice(1, 3), (slice(None), 2), (Ellipsis, 0), (None, 1), (slice(None, None, -1), slice(0, 3, 2)),
], ids=str)
def test_basic_indexing_value_and_gradient(index):
    x = np.random.default_rng(3).standard_normal((4, 3))
    np.testing.assert_array_equal(leaf(x)[index].data, x[index])
    assert gradcheck(lambda t: t[index], leaf(x))


def test_integer_array_indexing_adds_the_gradient_of_repeated_indices():
    x = leaf([10.0, 20.0, 30.0])
    out = x[np.array([0, 2, 0, 0])]
    np.testing.assert_array_equal(out.data, [10.0, 30.0, 10.0, 10.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 0.0, 1.0])


@pytest.mark.parametrize("index", [
    [2, 0, 2], (np.array([0, 1, 1]), np.array([2, 2, 0])), (slice(None), [1, 1]), np.array([True, False, True, True]),
], ids=["list", "two-arrays", "slice-and-list", "boolean-mask"])
def test_integer_array_indexing_gradient(index):
    x = np.random.default_rng(4).standard_normal((4, 3))
    np.testing.assert_array_equal(leaf(x)[index].data, x[index])
    assert gradcheck(lambda t: t[index], leaf(x))


def test_indexing_with_an_integer_tensor():
    x = leaf([1.0, 2.0, 3.0])
    out = x[Tensor(np.array([2, 2]))]
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 2.0])


# ----- joining, where, maximum, pad ---------------------------------------------
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_value_and_gradient(axis):
    rng = np.random.default_rng(5)
    sizes = [1, 2, 3]
    parts = [rng.standard_normal((2, 3, n) if axis == -1 else (n, 3, 2) if axis == 0 else (2, n, 2)) for n in sizes]
    np.testing.assert_array_equal(cr.concatenate([leaf(p) for p in parts], axis=axis).data,
                                  np.concatenate(parts, axis=axis))
    assert gradcheck(lambda *ts: cr.concatenate(list(ts), axis=axis), *[leaf(p) for p in parts])


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack_value_and_gradient(axis):
    rng = np.random.default_rng(6)
    parts = [rng.standard_normal((2, 3)) for _ in range(3)]
    np.testing.assert_array_equal(cr.stack([leaf(p) for p in parts], axis=axis).data, np.stack(parts, axis=axis))
    assert gradcheck(lambda *ts: cr.stack(list(ts), axis=axis), *[leaf(p) for p in parts])


def test_concatenate_with_a_constant_array_gives_gradient_only_to_the_tensor():
    x = leaf(np.ones((2, 2)))
    out = cr.concatenate([x, np.zeros((1, 2))])
    assert out.shape == (3, 2)
    (out * np.arange(6.0).reshape(3, 2)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [2.0, 3.0]])


@given(shapes3=mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), seed=seeds)
def test_where_routes_the_gradient_by_the_condition_with_broadcasting(shapes3, seed):
    rng = np.random.default_rng(seed)
    shape_c, shape_a, shape_b = shapes3.input_shapes
    condition = rng.random(shape_c) > 0.5
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    np.testing.assert_array_equal(cr.where(condition, leaf(a), leaf(b)).data, np.where(condition, a, b))
    assert gradcheck(lambda x, y: cr.where(condition, x, y), leaf(a), leaf(b))


@given(pair=pairs, seed=seeds)
def test_maximum_value_and_gradient_with_broadcasting(pair, seed):
    a, b = two_broadcasting(pair, seed)
    a_, b_ = np.broadcast_arrays(a, b)
    assume(np.all(np.abs(a_ - b_) > 1e-3))  # finite differences must not straddle the kink
    np.testing.assert_array_equal(cr.maximum(leaf(a), leaf(b)).data, np.maximum(a, b))
    assert gradcheck(cr.maximum, leaf(a), leaf(b))


def test_maximum_splits_the_gradient_on_ties():
    a, b = leaf([1.0, 2.0, 3.0]), leaf([3.0, 2.0, 1.0])
    cr.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(b.grad, [1.0, 0.5, 0.0])


@pytest.mark.parametrize("width", [((1, 2), (0, 3)), (1, 2), ((2, 0), (1, 1))], ids=str)
def test_pad_value_and_gradient(width):
    x = np.random.default_rng(7).standard_normal((2, 3))
    np.testing.assert_array_equal(cr.pad(leaf(x), width, value=1.5).data,
                                  np.pad(x, width, mode="constant", constant_values=1.5))
    assert gradcheck(lambda t: cr.pad(t, width), leaf(x))


# ----- values drawn by hypothesis -------------------------------------------------
@given(x=arrays(np.float64, shapes, elements=st.floats(-3, 3)), y=arrays(np.float64, shapes, elements=st.floats(-3, 3)))
def test_composite_expression_gradient_on_hypothesis_values(x, y):
    assert gradcheck(lambda a, b: (a * a.exp()).sum() + (b.tanh() * 2).sum() * a.mean(), leaf(x), leaf(y))


# ----- bad input -------------------------------------------------------------------
@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
def test_broadcast_mismatch_names_the_op_and_both_shapes(op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"\(2, 3\) and \(4,\)"):
        eval(f"a {op} b")


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) are not aligned"):
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))


def test_matmul_of_a_0d_tensor_is_refused():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_matmul_batch_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(3, 4, 5\)"):
        Tensor(np.ones((2, 3, 4))) @ Tensor(np.ones((3, 4, 5)))


def test_where_shape_mismatch_names_the_shapes():
    with pytest.raises(ValueError, match=r"where: shapes \(2,\) and \(3,\) and \(4,\)"):
        cr.where(np.ones(4, bool), np.ones(2), Tensor(np.ones(3)))


def test_reshape_to_a_wrong_size_names_both_shapes():
    with pytest.raises(ValueError, match=r"cannot reshape shape \(2, 3\) \(6 elements\) into \(4, 2\)"):
        Tensor(np.ones((2, 3))).reshape(4, 2)


def test_transpose_with_wrong_axes_is_refused():
    with pytest.raises(ValueError, match=r"permutation of range\(2\)"):
        Tensor(np.ones((2, 3))).transpose(0, 0)


def test_reduction_axis_out_of_range_is_refused():
    with pytest.raises(ValueError, match=r"axis: expected an axis in \[-2, 2\), got 2"):
        Tensor(np.ones((2, 3))).sum(axis=2)


def test_max_of_an_empty_tensor_is_refused():
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0,\)"):
        Tensor(np.ones(0)).max()


def test_clip_without_bounds_is_refused():
    with pytest.raises(ValueError, match="clip: expected at least one of min and max"):
        Tensor([1.0]).clip()


def test_concatenate_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\) and \(2, 4\) differ outside axis 0"):
        cr.concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))])


def test_concatenate_of_nothing_is_refused():
    with pytest.raises(TypeError, match="concatenate: expected a non-empty list"):
        cr.concatenate([])


def test_stack_of_unequal_shapes_names_both_shapes():
    with pytest.raises(ValueError, match=r"stack: expected tensors of equal shape, got \(2,\) and \(3,\)"):
        cr.stack([Tensor(np.ones(2)), Tensor(np.ones(3))])


def test_negative_pad_width_is_refused():
    with pytest.raises(ValueError, match="pad: expected non-negative pad widths"):
        cr.pad(Tensor(np.ones(3)), (-1, 1))


# ----- helpers -------------------------------------------------------------------
@given(shape=array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=4),
       leading=array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4), seed=seeds)
def test_unbroadcast_sums_the_leading_axes_back_to_the_shape(shape, leading, seed):
    grad = np.random.default_rng(seed).standard_normal(leading + shape)
    np.testing.assert_allclose(unbroadcast(grad, shape), grad.sum(axis=tuple(range(len(leading)))), atol=1e-12)


def test_unbroadcast_sums_stretched_axes_and_keeps_them():
    grad = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(unbroadcast(grad, (3, 1)), grad.sum(axis=(0, 2)).reshape(3, 1))


def test_broadcast_gradient_of_an_empty_batch_is_zero():
    b = Tensor(np.ones(3), requires_grad=True)
    (Tensor(np.ones((0, 3))) + b).sum().backward()
    np.testing.assert_array_equal(b.grad, np.zeros(3))


def test_sum_rows_equals_numpy_sum_over_axis_0():
    matrix = np.random.default_rng(10).standard_normal((5, 3)).astype(np.float32)
    out = sum_rows(matrix)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, matrix.sum(axis=0), rtol=1e-6)
