"""Weight initializers, by name or as classes (Keras names).

fan_in and fan_out of a kernel of shape (..., in, out) are in * r and out * r,
r the receptive field (the product of the leading axes; 1 for a Dense kernel).
"""
import contextlib
import contextvars
import math

from .arguments import check_number, is_int
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
    """``initializer(shape, dtype)`` is an array of ``shape``: a subclass defines ``draw``. ``seed`` (where
    taken): None draws from chainrule's generator (``utils.set_random_seed``); an int gives the same values
    on every call, as Keras 3."""

    seed = None

    def __call__(self, shape, dtype="float32"):
        budget = _budget.get()
        if budget is not None:
            _spend(budget, shape)
        return self.draw(shape, dtype)

    def draw(self, shape, dtype="float32"):
        raise NotImplementedError

    def _rng(self):
        return rng() if self.seed is None else xp.random.default_rng(self.seed)

    def get_config(self):
        return {} if self.seed is None else {"seed": self.seed}


def _seed(seed):
    if seed is not None and (not is_int(seed) or seed < 0):
        raise ValueError(f"seed: expected a non-negative int or None, got {seed!r}")
    return seed


class Zeros(Initializer):
    """w = 0."""

    def draw(self, shape, dtype="float32"):
        return xp.zeros(shape, dtype=dtype)


class Ones(Initializer):
    """w = 1."""

    def draw(self, shape, dtype="float32"):
        return xp.ones(shape, dtype=dtype)


class Constant(Initializer):
    """w = value."""

    def __init__(self, value=0.0):
        self.value = check_number("value", value)

    def draw(self, shape, dtype="float32"):
        return xp.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class Identity(Initializer):
    """w = gain * I for a 2-D shape (rows, columns); the identity is cut or padded with zeros when not square."""

    def __init__(self, gain=1.0):
        self.gain = check_number("gain", gain)

    def draw(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError(f"shape: Identity initializes 2-D kernels only, got shape {tuple(shape)}")
        return (self.gain * xp.eye(*shape)).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


class RandomUniform(Initializer):
    """U(minval, maxval), each entry drawn independently."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        if not minval < maxval:
            raise ValueError(f"RandomUniform: expected minval < maxval, got minval={minval!r}, maxval={maxval!r}")
        self.minval, self.maxval, self.seed = float(minval), float(maxval), _seed(seed)

    def draw(self, shape, dtype="float32"):
        return self._rng().uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class RandomNormal(Initializer):
    """N(mean, stddev**2), each entry drawn independently."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        if not stddev > 0:
            raise ValueError(f"RandomNormal: expected stddev > 0, got {stddev!r}")
        self.mean, self.stddev, self.seed = float(mean), float(stddev), _seed(seed)

    def draw(self, shape, dtype="float32"):
        return self._rng().normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


def _truncated(generator, shape):
    """Unit normal draws, each one beyond +-2 drawn again."""
    values = generator.standard_normal(size=shape)
    outside = xp.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(size=int(outside.sum()))
        outside = xp.abs(values) > 2
    return values


class TruncatedNormal(RandomNormal):
    """N(mean, stddev**2) with every draw beyond 2 stddev from the mean drawn again."""

    def draw(self, shape, dtype="float32"):
        return (self.mean + self.stddev * _truncated(self._rng(), shape)).astype(dtype)


class VarianceScaling(Initializer):
    """Draws of variance scale / n, n = fan_in, fan_out or (fan_in + fan_out) / 2 (``mode``):
    'truncated_normal' N(0, s**2) truncated at 2 s with s = sqrt(scale / n) / 0.8796 (the truncation's
    loss of spread made up), 'untruncated_normal' N(0, scale / n), 'uniform' U(-sqrt(3 scale / n), +...)."""

    MODES = ("fan_in", "fan_out", "fan_avg")
    DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        self.scale = check_number("scale", scale, minimum=0, min_open=True)
        if mode not in self.MODES:
            raise ValueError(f"mode: expected one of {', '.join(self.MODES)}, got {mode!r}")
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in self.DISTRIBUTIONS:
            raise ValueError(f"distribution: expected one of {', '.join(self.DISTRIBUTIONS)}, got {distribution!r}")
        self.mode, self.distribution, self.seed = mode, distribution, _seed(seed)

    def draw(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(fan, 1)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * variance)
            return self._rng().uniform(-limit, limit, size=shape).astype(dtype)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(variance) * self._rng().standard_normal(size=shape)).astype(dtype)
        std = math.sqrt(variance) / 0.87962566103423978  # std of a unit normal truncated at +-2
        return (_truncated(self._rng(), shape) * std).astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, **super().get_config()}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution its class fixes; only ``seed`` is an argument."""

    fixed = (1.0, "fan_in", "truncated_normal")

    def __init__(self, seed=None):
        super().__init__(*self.fixed, seed=seed)

    def get_config(self):
        return Initializer.get_config(self)


class GlorotUniform(_FixedVarianceScaling):
    """U(-sqrt(6 / (fan_in + fan_out)), +sqrt(6 / (fan_in + fan_out)))."""
    fixed = (1.0, "fan_avg", "uniform")


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal, std = sqrt(2 / (fan_in + fan_out))."""
    fixed = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_FixedVarianceScaling):
    """U(-sqrt(6 / fan_in), +sqrt(6 / fan_in)): keeps ReLU activations' variance."""
    fixed = (2.0, "fan_in", "uniform")


class HeNormal(_FixedVarianceScaling):
    """Truncated normal, std = sqrt(2 / fan_in)."""
    fixed = (2.0, "fan_in", "truncated_normal")


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal, std = sqrt(1 / fan_in)."""
    fixed = (1.0, "fan_in", "truncated_normal")


class LecunUniform(_FixedVarianceScaling):
    """U(-sqrt(3 / fan_in), +sqrt(3 / fan_in))."""
    fixed = (1.0, "fan_in", "uniform")


class Orthogonal(Initializer):
    """gain * Q, Q with orthonormal rows or columns: the shape is flattened to (prod(shape[:-1]), shape[-1]),
    a normal matrix A factored as A = QR (transposed when it has fewer rows than columns), and Q's columns
    signed by diag(R) so that Q is uniformly distributed."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = check_number("gain", gain), _seed(seed)

    def draw(self, shape, dtype="float32"):
        if len(shape) < 2:
            raise ValueError(f"shape: Orthogonal needs at least 2 dimensions, got shape {tuple(shape)}")
        rows, columns = math.prod(shape[:-1]), shape[-1]
        a = self._rng().standard_normal(size=(max(rows, columns), min(rows, columns)))
        q, r = xp.linalg.qr(a)
        q *= xp.sign(xp.diag(r))
        if rows < columns:
            q = q.T
        return (self.gain * q).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, **super().get_config()}


_BY_NAME = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_uniform": RandomUniform,
    "random_normal": RandomNormal, "truncated_normal": TruncatedNormal, "identity": Identity,
    "orthogonal": Orthogonal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform,
    "uniform": RandomUniform, "normal": RandomNormal,        # Keras 3's short aliases
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


# Keras 3's lowercase names of the classes
zeros, ones, constant, random_uniform, random_normal = Zeros, Ones, Constant, RandomUniform, RandomNormal
truncated_normal, identity, orthogonal, variance_scaling = TruncatedNormal, Identity, Orthogonal, VarianceScaling
glorot_uniform, glorot_normal, he_uniform, he_normal = GlorotUniform, GlorotNormal, HeUniform, HeNormal
lecun_normal, lecun_uniform = LecunNormal, LecunUniform
