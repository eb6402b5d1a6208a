"""The checks ``fit``, ``evaluate`` and ``predict`` run on their data before any step:
numeric, finite, matching the model's input, as many targets as samples."""
from .. import arguments
from ..backend import xp
from ..tensor import Tensor, as_array, get_default_dtype


def as_samples(x, name="x"):
    """``x`` as a finite float array of the default dtype with at least one sample (a 1-D ``x``: one feature each)."""
    x = as_array(x.data if isinstance(x, Tensor) else x, name=name)
    if x.ndim == 0 or len(x) == 0:
        raise ValueError(f"{name}: expected at least one sample, got an empty array of shape {x.shape}")
    x = x.astype(get_default_dtype(), copy=False)
    if x.ndim == 1:
        x = x.reshape(-1, 1)
    if not xp.isfinite(x).all():
        raise ValueError(f"{name}: expected finite values, got NaN or Inf (first in sample "
                         f"{int(xp.argwhere(~xp.isfinite(x))[0][0])})")
    return x


def check_sample_shape(x, input_shape, name="x"):
    if x.shape[1:] != tuple(input_shape):
        raise ValueError(f"{name}: expected samples of shape {tuple(input_shape)} (the model's input), "
                         f"got samples of shape {x.shape[1:]} ({name} has shape {x.shape})")


def as_targets(y, count, name="y"):
    """``y`` as an array of ``count`` targets, finite where it is float."""
    y = as_array(y.data if isinstance(y, Tensor) else y, name=name)
    if y.ndim == 0 or len(y) != count:
        raise ValueError(f"x and y: expected the same number of samples, got {count} in x and "
                         f"{len(y) if y.ndim else 'a scalar'} in y")
    if y.dtype.kind == "f" and not xp.isfinite(y).all():
        raise ValueError(f"{name}: expected finite values, got NaN or Inf")
    return y


def batch_size(value, n):
    """None means the whole set (batch gradient descent); larger than the set is the whole set."""
    if value is None:
        return n
    if not arguments.is_int(value) or value < 1:
        raise ValueError(f"batch_size: expected a positive int or None, got {value!r}")
    return min(int(value), n)
