"""The checks ``fit``, ``evaluate`` and ``predict`` run on their data before any step:
numeric, finite, matching the model's input, as many targets as samples."""
import itertools
import math

from .. import arguments
from ..backend import xp
from ..tensor import Tensor, as_array, get_default_dtype


def as_samples(x, name="x"):
    """``x`` as a finite float array of the default dtype with at least one sample (a 1-D ``x``: one feature each)."""
    x = _array(x, name)
    if x.ndim == 0:
        raise ValueError(f"{name}: expected an array of samples (one per row), got the scalar {x.item()!r}")
    if len(x) == 0:
        raise ValueError(f"{name}: expected at least one sample, got an empty array of shape {x.shape}")
    x = _finite(x, name)
    return x.reshape(-1, 1) if x.ndim == 1 else x


def _array(value, name):
    """``value`` as an array; ragged nested lists are a ValueError naming ``name``."""
    try:
        return as_array(value.data if isinstance(value, Tensor) else value, name=name)
    except ValueError as error:
        raise ValueError(f"{name}: expected numbers in a rectangular array (nested lists of equal lengths), "
                         f"got a {type(value).__name__} NumPy cannot make one of ({error})") from None


def _finite(array, name):
    """``array`` cast to the default float dtype, checked finite after the cast (1e300 is inf in float32)."""
    with xp.errstate(over="ignore"):
        array = array.astype(get_default_dtype(), copy=False)
    if not xp.isfinite(array).all():
        raise ValueError(f"{name}: expected finite values in {array.dtype}, got NaN or Inf (first in sample "
                         f"{int(xp.argwhere(~xp.isfinite(array))[0][0])})")
    return array


def check_sample_shape(x, input_shape, name="x"):
    """Samples of ``input_shape`` (``None``: any length on that axis)."""
    if len(x.shape) != len(input_shape) + 1 or any(e is not None and e != a for e, a in zip(input_shape, x.shape[1:])):
        raise ValueError(f"{name}: expected samples of shape {tuple(input_shape)} (the model's input), "
                         f"got samples of shape {x.shape[1:]} ({name} has shape {x.shape})")


def as_targets(y, count, name="y"):
    """``y`` as an array of ``count`` targets; float targets in the default dtype, finite after the cast."""
    y = _array(y, name)
    if y.ndim == 0 or len(y) != count:
        raise ValueError(f"x and y: expected the same number of samples, got {count} in x and "
                         f"{len(y) if y.ndim else 'a scalar'} in y")
    return _finite(y, name) if y.dtype.kind == "f" else y


def batch_size(value, n):
    """The batch size for ``n`` samples: None means 32 (Keras' default); a size larger than the set is
    the whole set (batch gradient descent is ``batch_size=len(x)``)."""
    if value is None:
        return min(32, n)
    if not arguments.is_int(value) or value < 1:
        raise ValueError(f"batch_size: expected a positive int or None, got {value!r}")
    return min(int(value), n)


def unpack(batch):
    """(x, y, sample_weight) of a batch: a tuple or list (x,), (x, y) or (x, y, sample_weight), or x alone."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"data: expected batches (x,), (x, y) or (x, y, sample_weight), got a tuple of {len(batch)}")
    return (*batch, *(None,) * (3 - len(batch)))


def packed(x, y, sample_weight):
    """A batch as Keras hands it to ``train_step``: x alone (as ``(x,)`` when x is a list of inputs, which a
    tuple would make ambiguous), (x, y) or (x, y, sample_weight)."""
    if sample_weight is None or (isinstance(sample_weight, list) and all(w is None for w in sample_weight)):
        if y is None or (isinstance(y, list) and all(entry is None for entry in y)):
            return (x,) if isinstance(x, (list, tuple)) else x
        return x, y
    return x, y, sample_weight


def is_stream(x):
    """Whether ``x`` is a source of batches (a generator, an iterator or a PyDataset) rather than arrays."""
    return hasattr(x, "__next__") or (hasattr(x, "__getitem__") and hasattr(x, "__len__")
                                      and hasattr(x, "on_epoch_end"))


def take(value, index):
    """The samples ``index`` (a slice or an array of positions) of each array in a structure."""
    if isinstance(value, dict):
        return {key: take(entry, index) for key, entry in value.items()}
    if isinstance(value, list):
        return [take(entry, index) for entry in value]
    return None if value is None else value[index]


class ArrayBatches:
    """Batches of prepared arrays: ``steps`` per epoch, in a new random order each epoch with ``shuffle``."""

    def __init__(self, x, y, sample_weight, count, batch_size, shuffle, steps=None, generator=None):
        self.x, self.y, self.sample_weight, self.count = x, y, sample_weight, count
        self.batch_size, self.shuffle, self.generator = batch_size, shuffle, generator
        full = math.ceil(count / batch_size)
        self.steps = full if steps is None else min(steps, full)

    def epoch(self):
        order = self.generator.permutation(self.count) if self.shuffle and self.batch_size < self.count else None
        for step in range(self.steps):
            window = slice(step * self.batch_size, (step + 1) * self.batch_size)
            index = window if order is None else order[window]
            yield packed(take(self.x, index), take(self.y, index), take(self.sample_weight, index))


class StreamBatches:
    """Batches from a generator or iterator (continued from epoch to epoch) or a PyDataset (indexed,
    ``on_epoch_end`` after each epoch), each checked by ``prepare`` as it arrives."""

    def __init__(self, source, steps, prepare):
        self.source, self.prepare = source, prepare
        self.indexed = not hasattr(source, "__next__")
        self.steps = steps if steps is not None else (len(source) if self.indexed else None)
        self.exhausted = False

    def epoch(self):
        for step in itertools.count():
            if self.steps is not None and step >= self.steps:
                break
            if self.indexed:
                batch = self.source[step % len(self.source)]
            else:
                try:
                    batch = next(self.source)
                except StopIteration:
                    self.exhausted = True
                    return
            yield self.prepare(batch, step)
        if self.indexed:
            self.source.on_epoch_end()
