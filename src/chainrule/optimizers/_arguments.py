"""Checks for hyperparameters: a ValueError/TypeError naming the argument, expected vs got."""
import math
import numbers


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


def check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{name}: expected a positive int, got {value!r}")
    return int(value)
