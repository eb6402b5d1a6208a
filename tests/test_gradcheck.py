"""gradcheck passes correct gradients and fails, naming input and index, on a wrong one."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import GradcheckError, Tensor, gradcheck
from chainrule.gradcheck import central_difference, within_tolerance


class WrongSquare(cr.Function):
    """z = x**2 with a deliberately wrong backward (x instead of 2x)."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, g):
        return g * self.x


class WrongSecondInput(cr.Function):
    """z = a * b whose backward forgets b's gradient at one element."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        grad_b = g * self.a
        grad_b.flat[-1] += 1.0
        return g * self.b, grad_b


def test_gradcheck_returns_true_for_a_correct_gradient():
    x = Tensor(np.random.default_rng(0).standard_normal((3, 2)), requires_grad=True)
    assert gradcheck(lambda t: (t * t.exp()).sum(), x) is True


def test_gradcheck_checks_non_scalar_outputs_through_a_random_cotangent():
    x = Tensor(np.random.default_rng(1).standard_normal((2, 3)), requires_grad=True)
    assert gradcheck(lambda t: t.tanh() * 2, x)


def test_gradcheck_runs_in_float64_even_for_float32_inputs():
    seen = []

    def fn(t):
        seen.append(t.dtype)
        return (t ** 3).sum()

    assert gradcheck(fn, Tensor(np.array([0.3, -1.2], dtype=np.float32), requires_grad=True))
    assert set(seen) == {np.dtype(np.float64)}


def test_gradcheck_fails_on_a_wrong_backward_naming_the_input_and_index():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0, index \(0,\): analytic gradient 1 != numeric 2"):
        gradcheck(lambda t: WrongSquare.apply(t).sum(), x)


def test_gradcheck_fails_on_the_wrong_element_of_the_second_input():
    a = Tensor(np.ones((2, 2)), requires_grad=True)
    b = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 1, index \(1, 1\)"):
        gradcheck(lambda x, y: WrongSecondInput.apply(x, y).sum(), a, b)


def test_gradcheck_error_is_an_assertion_error():
    assert issubclass(GradcheckError, AssertionError)


def test_gradcheck_skips_inputs_that_do_not_require_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    constant = Tensor([5.0, 6.0])
    assert gradcheck(lambda a, c: (a * WrongSquare.apply(c)).sum(), x, constant)


def test_gradcheck_tolerances_are_respected():
    x = Tensor([1.0], requires_grad=True)

    class SlightlyOff(cr.Function):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return g * 2.001

    assert gradcheck(lambda t: SlightlyOff.apply(t).sum(), x, rtol=1e-2)
    with pytest.raises(GradcheckError):
        gradcheck(lambda t: SlightlyOff.apply(t).sum(), x, rtol=1e-4, atol=0)


def test_gradcheck_without_any_input_requiring_grad_is_refused():
    with pytest.raises(ValueError, match="at least one input Tensor with requires_grad=True"):
        gradcheck(lambda t: t.sum(), Tensor([1.0]))


def test_gradcheck_of_a_function_not_returning_a_tensor_is_refused():
    with pytest.raises(TypeError, match="fn must return a Tensor, got float"):
        gradcheck(lambda t: 1.0, Tensor([1.0], requires_grad=True))


def test_central_difference_estimates_one_partial_derivative_and_restores_the_array():
    x = np.array([1.0, 2.0, 3.0])
    slope = central_difference(lambda: float(np.sum(x ** 3)), x, (1,), 1e-6)
    assert slope == pytest.approx(3 * 2.0 ** 2, rel=1e-8)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])


def test_central_difference_restores_the_array_when_the_function_raises():
    x = np.array([1.0, 2.0])

    def fails():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError):
        central_difference(fails, x, (0,), 0.5)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_within_tolerance_is_absolute_plus_relative_to_the_numeric_value():
    assert within_tolerance(1.0 + 1e-4, 1.0, rtol=1e-3, atol=0.0)
    assert not within_tolerance(1.01, 1.0, rtol=1e-3, atol=1e-3)
    assert within_tolerance(1e-7, 0.0, rtol=0.0, atol=1e-6)
    assert not within_tolerance(float("nan"), 1.0, rtol=1.0, atol=1.0)
