"""Check analytic gradients against central finite differences in float64.

:func:`central_difference` and :func:`within_tolerance` are the one estimate and the one
tolerance rule; every check of gradients against finite differences uses them.
"""
import numpy

from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """The engine's gradient and the finite-difference estimate disagree."""


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Compare d fn / d input from ``backward`` with (f(x + eps) - f(x - eps)) / (2 eps).

    Every input that requires grad is checked, element by element, in float64.
    A non-scalar output is reduced to the scalar sum(out * v) with a fixed random
    v, which checks the vector-Jacobian product. Returns True, or raises
    :class:`GradcheckError` naming the input, the index and both values.
    """
    tensors = [Tensor(numpy.array(t.data, dtype=numpy.float64), requires_grad=t.requires_grad)
               if isinstance(t, Tensor) and t.dtype.kind == "f" else t for t in inputs]
    checked = [i for i, t in enumerate(tensors) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: expected at least one input Tensor with requires_grad=True, got none")

    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    cotangent = numpy.random.default_rng(seed).standard_normal(out.shape)

    def scalar(result):
        return float(numpy.sum(numpy.asarray(result.data, dtype=numpy.float64) * cotangent))

    out.backward(cotangent.astype(out.dtype) if out.ndim else None)
    if not out.ndim:
        cotangent = numpy.float64(1.0)
    for i in checked:
        tensor = tensors[i]
        analytic = numpy.zeros(tensor.shape) if tensor.grad is None else numpy.asarray(tensor.grad, dtype=numpy.float64)
        values = tensor.data
        with no_grad():
            for index in numpy.ndindex(*values.shape):
                numeric = central_difference(lambda: scalar(fn(*tensors)), values, index, eps)
                if not within_tolerance(analytic[index], numeric, rtol, atol):
                    raise GradcheckError(
                        f"gradcheck: input {i}, index {index}: analytic gradient {analytic[index]:.10g} "
                        f"!= numeric {numeric:.10g} (atol={atol}, rtol={rtol})")
    return True


def central_difference(f, array, index, eps):
    """(f() at x + eps e_i - f() at x - eps e_i) / (2 eps): the central-difference estimate
    of df/dx_i, x the array ``f`` reads and i = ``index``; ``array[index]`` is moved in place
    and restored afterwards, also when ``f`` raises."""
    original = array[index]
    try:
        array[index] = original + eps
        plus = f()
        array[index] = original - eps
        minus = f()
    finally:
        array[index] = original
    return (plus - minus) / (2 * eps)


def within_tolerance(analytic, numeric, rtol, atol):
    """The rule a gradient passes by: |analytic - numeric| <= atol + rtol * |numeric|."""
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)
