"""Weight initializers, by name or as classes (Keras names).

fan_in and fan_out of a kernel of shape (..., in, out) are in * r and out * r,
r the receptive field (the product of the leading axes; 1 for a Dense kernel).
"""
import contextlib
import contextvars
import math

from .backend import xp
from .utils import rng

_budget = contextvars.ContextVar("initializer_budget", default=None)


class BudgetExceededError(ValueError):
    """Initializers were asked for more entries than ``element_budget`` allows."""


@contextlib.contextmanager
def element_budget(entries):
    """Context in which initializers draw at most ``entries`` array entries in all: the call that
    would pass it raises :class:`BudgetExceededError` before its array is made. Loading a model
    file builds its layers in this context with a budget of twice the entries of the file's weight
    tensors (a layer may also draw constants that are not weights), so a config cannot make the
    build allocate much more than the file itself holds. (An initializer that is a plain
    function, or a subclass overriding ``__call__``, is not counted.)"""
    token = _budget.set([int(entries)])
    try:
        yield
    finally:
        _budget.reset(token)


def _spend(budget, shape):
    entries = math.prod(int(d) for d in shape)
    if entries > budget[0]:
        raise BudgetExceededError(f"builds a weight of shape {tuple(int(d) for d in shape)}, more entries than "
                                  "are left of twice the file's weight tensors")
    budget[0] -= entries


def _fans(shape):
    if len(shape) < 2:
        size = shape[0] if shape else 1
        return size, size
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


class Initializer:
    """``initializer(shape, dtype)`` is an array of ``shape``: a subclass defines ``draw``."""

    def __call__(self, shape, dtype="float32"):
        budget = _budget.get()
        if budget is not None:
            _spend(budget, shape)
        return self.draw(shape, dtype)

    def draw(self, shape, dtype="float32"):
        raise NotImplementedError

    def get_config(self):
        return {}


class Zeros(Initializer):
    def draw(self, shape, dtype="float32"):
        return xp.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def draw(self, shape, dtype="float32"):
        return xp.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def draw(self, shape, dtype="float32"):
        return xp.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomUniform(Initializer):
    """U(minval, maxval), each entry drawn independently."""

    def __init__(self, minval=-0.05, maxval=0.05):
        if not minval < maxval:
            raise ValueError(f"RandomUniform: expected minval < maxval, got minval={minval!r}, maxval={maxval!r}")
        self.minval, self.maxval = float(minval), float(maxval)

    def draw(self, shape, dtype="float32"):
        return rng().uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class RandomNormal(Initializer):
    """N(mean, stddev**2), each entry drawn independently."""

    def __init__(self, mean=0.0, stddev=0.05):
        if not stddev > 0:
            raise ValueError(f"RandomNormal: expected stddev > 0, got {stddev!r}")
        self.mean, self.stddev = float(mean), float(stddev)

    def draw(self, shape, dtype="float32"):
        return rng().normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


class _VarianceScaling(Initializer):
    """Uniform on [-limit, limit] with limit = sqrt(3 * scale / fan), or normal with
    std = sqrt(scale / fan) (truncated at 2 std, as Keras)."""

    scale, mode, distribution = 1.0, "fan_in", "normal"

    def draw(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(fan, 1)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return rng().uniform(-limit, limit, size=shape).astype(dtype)
        std = math.sqrt(variance) / 0.87962566103423978  # std of a unit normal truncated at +-2
        values = rng().standard_normal(size=shape)
        outside = xp.abs(values) > 2
        while outside.any():
            values[outside] = rng().standard_normal(size=int(outside.sum()))
            outside = xp.abs(values) > 2
        return (values * std).astype(dtype)


class GlorotUniform(_VarianceScaling):
    """U(-sqrt(6 / (fan_in + fan_out)), +sqrt(6 / (fan_in + fan_out)))."""
    mode, distribution = "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    """Truncated normal, std = sqrt(2 / (fan_in + fan_out))."""
    mode, distribution = "fan_avg", "normal"


class HeUniform(_VarianceScaling):
    """U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)): keeps ReLU activations' variance."""
    scale, mode, distribution = 2.0, "fan_in", "uniform"


class HeNormal(_VarianceScaling):
    """Truncated normal, std = sqrt(2 / fan_in)."""
    scale, mode, distribution = 2.0, "fan_in", "normal"


class LecunNormal(_VarianceScaling):
    """Truncated normal, std = sqrt(1 / fan_in)."""
    scale, mode, distribution = 1.0, "fan_in", "normal"


class LecunUniform(_VarianceScaling):
    """U(-sqrt(3 / fan_in), +sqrt(3 / fan_in))."""
    scale, mode, distribution = 1.0, "fan_in", "uniform"


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
}


def get(identifier):
    """An initializer from a name, a config dict ``{"class_name", "config"}``, or an instance."""
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return _lookup(identifier.get("class_name"))(**identifier.get("config", {}))
    if isinstance(identifier, str):
        return _lookup(identifier)()
    if callable(identifier):
        return identifier
    raise TypeError(f"initializer: expected a name, config dict or Initializer, got {type(identifier).__name__}")


def _lookup(name):
    key = _snake(name) if isinstance(name, str) else name
    if key not in _BY_NAME:
        raise ValueError(f"initializer: unknown name {name!r}; valid names: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[key]


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def serialize(initializer):
    """The config dict ``get`` rebuilds ``initializer`` from."""
    name = next(key for key, cls in _BY_NAME.items() if type(initializer) is cls)
    return {"class_name": name, "config": initializer.get_config()}
