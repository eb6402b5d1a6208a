"""Argument checks shared by layers, models and the training loop: one function per rule,
each raising a ValueError that names the argument and says what was expected and what came."""
import math
import numbers

from .backend import xp


def is_int(value):
    """True for Python and NumPy integers (bool excluded, as Keras does)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(value, name):
    """``value`` as an int > 0, or a ValueError naming ``name``."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)


def non_negative_int(value, name):
    """``value`` as an int >= 0, or a ValueError naming ``name``."""
    if not is_int(value) or value < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {value!r}")
    return int(value)


def normalize_tuple(value, rank, name):
    """An int or a sequence of ``rank`` positive ints, as a tuple of ``rank`` ints."""
    values = (value,) * rank if is_int(value) else tuple(value) if isinstance(value, (list, tuple)) else None
    if values is None or len(values) != rank or not all(is_int(v) for v in values):
        raise ValueError(f"{name}: expected an int or {rank} ints, got {value!r}")
    if any(v <= 0 for v in values):
        raise ValueError(f"{name}: expected positive values, got {value!r}")
    return tuple(int(v) for v in values)


def shape_tuple(value, name="shape"):
    """A full shape: an int or a sequence of non-negative ints, as a tuple."""
    dims = (value,) if is_int(value) else tuple(value) if isinstance(value, (list, tuple)) else None
    if dims is None or not all(is_int(n) and n >= 0 for n in dims):
        raise ValueError(f"{name}: expected a tuple of non-negative ints, got {value!r}")
    return tuple(int(n) for n in dims)


def dtype_argument(dtype, default, kinds=None, name="dtype"):
    """``dtype`` as a NumPy dtype (``default`` when None), of one of ``kinds`` ('f' floating, 'iu' integer)."""
    try:
        resolved = xp.dtype(default if dtype is None else dtype)
    except TypeError:
        raise TypeError(f"{name}: expected a dtype name such as 'float32' or 'int32', got {dtype!r}") from None
    if kinds is not None and resolved.kind not in kinds:
        expected = {"f": "a floating", "iu": "an integer"}.get(kinds, f"a {kinds!r}")
        raise TypeError(f"{name}: expected {expected} dtype, got {resolved}")
    return resolved


def sample_shape(value, name, allow_none=True):
    """A per-sample shape (batch axis left out): an int or a sequence of positive ints
    (``None`` entries allowed for variable lengths when ``allow_none``), as a tuple."""
    shape = (value,) if is_int(value) else tuple(value) if isinstance(value, (list, tuple)) else None
    if shape is None or not all((n is None and allow_none) or (is_int(n) and n > 0) for n in shape):
        raise ValueError(f"{name}: expected a tuple of positive ints (batch axis left out), got {value!r}")
    return tuple(n if n is None else int(n) for n in shape)


def from_identifier(identifier, kind, table, base):
    """The object an identifier names, for the Keras modules that share this contract (regularizers,
    constraints): None stays None, an instance of ``base`` (or a callable) is itself, a name in ``table``
    gives a new instance, and a config dict ``{"class_name", "config"}`` rebuilds one."""
    if identifier is None or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return _looked_up(identifier, kind, table)()
    if isinstance(identifier, dict):
        return _looked_up(identifier.get("class_name"), kind, table)(**identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise TypeError(f"{kind}: expected a name, config dict or {base.__name__}, got {type(identifier).__name__}")


def _looked_up(name, kind, table):
    if name not in table:
        raise ValueError(f"{kind}: unknown name {name!r}; valid names: {', '.join(sorted(table))}")
    return table[name]


def serialized(obj):
    """The config dict ``from_identifier`` rebuilds ``obj`` from (None for None)."""
    if obj is None:
        return None
    return {"class_name": type(obj).__name__, "config": obj.get_config()}


def check_number(name, value, minimum=None, maximum=None, min_open=False, max_open=False):
    """Return ``value`` as a float after checking it is a finite number in the given range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a number, got {type(value).__name__} {value!r}")
    value = float(value)
    low_ok = minimum is None or (value > minimum if min_open else value >= minimum)
    high_ok = maximum is None or (value < maximum if max_open else value <= maximum)
    if not (math.isfinite(value) and low_ok and high_ok):
        bounds = []
        if minimum is not None:
            bounds.append(f"{'>' if min_open else '>='} {minimum}")
        if maximum is not None:
            bounds.append(f"{'<' if max_open else '<='} {maximum}")
        raise ValueError(f"{name}: expected a finite number {' and '.join(bounds)}, got {value!r}")
    return value
