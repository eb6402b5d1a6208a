"""Tensor: construction and dtypes, the reverse sweep (ordering, accumulation,
freeing), no_grad, retain_grad, detect_anomaly and the errors for bad input."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule import AnomalyError, Tensor


@pytest.fixture
def float64_default():
    cr.set_default_dtype(np.float64)
    yield
    cr.set_default_dtype(np.float32)


# ----- construction and dtype -------------------------------------------------------
def test_python_scalars_and_lists_become_float32():
    assert Tensor(3).dtype == np.float32
    assert Tensor(2.5).dtype == np.float32
    assert Tensor([1, 2, 3]).dtype == np.float32
    assert Tensor([[1.0, 2.0]]).dtype == np.float32


def test_set_default_dtype_changes_what_python_data_becomes(float64_default):
    assert cr.get_default_dtype() == np.float64
    assert Tensor([1, 2]).dtype == np.float64
    assert (Tensor(np.ones(2)) * 2.0).dtype == np.float64


def test_set_default_dtype_refuses_a_non_float_dtype():
    with pytest.raises(TypeError, match="set_default_dtype: expected a floating dtype .* got int32"):
        cr.set_default_dtype(np.int32)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.bool_])
def test_arrays_keep_their_dtype(dtype):
    assert Tensor(np.zeros(3, dtype=dtype)).dtype == dtype


def test_explicit_dtype_converts():
    assert Tensor([1, 2], dtype=np.float64).dtype == np.float64
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32


def test_tensor_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and len(t) == 2
    assert isinstance(t.numpy(), np.ndarray)
    assert Tensor(4.0).item() == 4.0
    assert t.is_leaf and t.grad is None and not t.requires_grad
    assert "requires_grad=True" in repr(Tensor([1.0], requires_grad=True))


@pytest.mark.parametrize("data, kind", [
    (np.array([object(), object()]), "object"), ("hello", "string"), (np.array(["a", "b"]), "string"),
    (np.array([1 + 2j]), "complex"), (3 + 1j, "complex"),
])
def test_object_string_and_complex_data_are_refused(data, kind):
    with pytest.raises(TypeError, match=f"data: expected numeric .* got {kind}"):
        Tensor(data)


@pytest.mark.parametrize("dtype", [np.int64, np.int8, np.bool_])
def test_integer_tensors_cannot_require_grad(dtype):
    with pytest.raises(TypeError, match=f"requires_grad: only floating tensors can require grad, got dtype {np.dtype(dtype)}"):
        Tensor(np.zeros(2, dtype=dtype), requires_grad=True)
    with pytest.raises(TypeError, match="only floating tensors"):
        Tensor(np.zeros(2, dtype=dtype)).requires_grad_()


def test_op_outputs_hold_ndarrays_even_for_full_reductions():
    t = Tensor(np.ones((2, 3)), requires_grad=True)
    for out in (t.sum(), t.mean(), t.max(), t[0, 0]):
        assert type(out.data) is np.ndarray and out.shape == ()


# ----- backward --------------------------------------------------------------------------
def test_readme_example_gives_gradients_of_every_parameter_shape():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    W = Tensor(rng.standard_normal((3, 2)), requires_grad=True)
    F.cross_entropy(x @ W, np.array([0, 1, 1, 0])).backward()
    assert W.grad.shape == (3, 2) and x.grad.shape == (4, 3)
    assert cr.gradcheck(lambda a, b: F.cross_entropy(a @ b, np.array([0, 1, 1, 0])), x, W)


def test_shared_subexpression_accumulates_every_path():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x + x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data + 1)


@pytest.mark.parametrize("shape", [(), (2, 3)])
def test_tensor_used_many_times_gets_the_sum_of_every_use(shape):
    x = Tensor(np.full(shape, 2.0), requires_grad=True)
    doubled = x + x  # Add hands the same adjoint array to both inputs
    doubled.retain_grad()
    y = (doubled + doubled) * x + x * 3 + x.exp() + doubled  # 4x^2 + 3x + e^x + 2x
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.full(shape, 8 * 2.0 + 3 + np.exp(2.0) + 2))
    np.testing.assert_allclose(doubled.grad, np.full(shape, 2 * 2.0 + 1))


def test_diamond_graph_gradient():
    x = Tensor(2.0, requires_grad=True)
    y = x * 3.0
    z = y * y + y.exp()  # dz/dx = (2y + e^y) * 3
    z.backward()
    assert x.grad == pytest.approx((2 * 6.0 + np.exp(6.0)) * 3)


def test_chain_of_100000_ops_backpropagates_without_recursion_limit():
    x = Tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y + 1e-5
    y.backward()
    assert x.grad == 1.0
    assert y.item() == pytest.approx(2.0)


def test_gradients_of_leaves_accumulate_across_backward_calls():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, [3 + 2, 3 + 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad, [3, 3])


def test_non_leaf_gradient_is_kept_only_after_retain_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    kept = x * 3
    kept.retain_grad()
    (hidden * kept).sum().backward()
    assert hidden.grad is None
    np.testing.assert_allclose(kept.grad, hidden.data)
    np.testing.assert_allclose(x.grad, 12 * x.data)


def test_retained_gradient_is_a_writable_array():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    s = x * 1.0
    s.retain_grad()
    s.sum().backward()
    s.grad[0, 0] = 5.0
    assert s.grad[0, 0] == 5.0


def test_leaf_gradient_has_the_leaf_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x * np.arange(3.0)).sum().backward()  # the constant is float64
    assert x.grad.dtype == np.float32


def test_accumulated_leaf_gradient_keeps_the_leaf_dtype():
    x = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    (x * np.arange(3.0)).sum().backward()
    (x * np.arange(3.0)).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [0.0, 2.0, 4.0])


def test_backward_with_an_explicit_gradient_for_a_non_scalar():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).backward(np.array([1.0, 10.0]))
    np.testing.assert_allclose(x.grad, [2.0, 40.0])


def test_backward_on_a_leaf_sets_its_gradient():
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_backward_twice_without_retain_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=r"already freed.*retain_graph=True"):
        y.backward()


def test_backward_frees_what_each_op_saved():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    y = (hidden * x).sum()
    assert hasattr(hidden.grad_fn, "out")
    y.backward()
    assert vars(hidden.grad_fn) == {"inputs": None}
    assert vars(y.grad_fn) == {"inputs": None}


def test_backward_with_retain_graph_keeps_what_each_op_saved():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x.exp()
    hidden.sum().backward(retain_graph=True)
    np.testing.assert_array_equal(hidden.grad_fn.out, np.exp(x.data))


def test_backward_twice_with_retain_graph_accumulates():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)


def test_inputs_that_do_not_require_grad_get_no_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None


def test_detach_cuts_the_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    (y.detach() * x).sum().backward()
    np.testing.assert_allclose(x.grad, y.data)
    assert not y.detach().requires_grad


def test_custom_function_backward_receives_the_output_gradient():
    class Cube(cr.Function):
        def forward(self, x):
            self.x = x
            return x ** 3

        def backward(self, g):
            return 3 * self.x ** 2 * g

    x = Tensor([1.0, 2.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad, [3.0, 12.0])


# ----- no_grad ---------------------------------------------------------------------------
def test_no_grad_stops_recording():
    x = Tensor([1.0], requires_grad=True)
    with cr.no_grad():
        y = x * 2
        assert not cr.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None
    assert cr.is_grad_enabled()


def test_enable_grad_inside_no_grad_records_again():
    x = Tensor([1.0], requires_grad=True)
    with cr.no_grad(), cr.enable_grad():
        y = x * 2
    assert y.requires_grad


def test_no_grad_restores_recording_after_an_exception():
    with pytest.raises(KeyError):
        with cr.no_grad():
            raise KeyError
    assert cr.is_grad_enabled()


# ----- detect_anomaly ---------------------------------------------------------------------
def test_detect_anomaly_names_the_op_whose_forward_gives_nan():
    x = Tensor([-1.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(AnomalyError, match=r"Log: forward produced NaN \(shape \(2,\)\)"):
            x.log()


def test_detect_anomaly_names_the_op_whose_backward_gives_inf():
    x = Tensor([0.0, 4.0], requires_grad=True)
    y = x.sqrt().sum()  # forward is finite; d sqrt / dx at 0 is Inf
    with cr.detect_anomaly(), np.errstate(divide="ignore"):
        with pytest.raises(AnomalyError, match="Sqrt: backward produced Inf"):
            y.backward()


def test_without_detect_anomaly_nan_passes_silently():
    with np.errstate(invalid="ignore"):
        assert np.isnan(Tensor([-1.0]).log().data[0])


# ----- bad input ---------------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_grad_names_the_shape():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"grad must be given for a non-scalar output, got output of shape \(2,\)"):
        y.backward()


def test_backward_on_a_tensor_that_does_not_require_grad():
    with pytest.raises(ValueError, match="backward: this tensor does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_backward_with_a_grad_of_the_wrong_shape_names_both_shapes():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"grad must have the output's shape \(2,\), got \(3,\)"):
        y.backward(np.ones(3))


def test_a_bad_backward_call_changes_no_state():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError):
        y.backward(np.ones(3))
    y.backward(np.ones(2))
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


def test_requires_grad_of_a_non_leaf_cannot_be_turned_off():
    y = Tensor([1.0], requires_grad=True) * 2
    with pytest.raises(ValueError, match="non-leaf"):
        y.requires_grad = False
