"""Weight constraints (Keras names): projections applied to a weight after each optimizer step.

A constraint is a callable w -> w' on the weight's array; ``Layer.add_weight(constraint=...)``
takes a name ('max_norm', 'min_max_norm', 'non_neg', 'unit_norm'), a config dict or an instance.
"""
from . import arguments
from .backend import xp

EPSILON = 1e-7


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self):
        return {}


def _norms(w, axis):
    return xp.sqrt(xp.sum(xp.square(w), axis=axis, keepdims=True))


class MaxNorm(Constraint):
    """w' = w * clip(n, 0, max_value) / (epsilon + n), n the L2 norm of w over ``axis``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (xp.clip(norms, 0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """w' = w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (epsilon + n)."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = self.rate * xp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate, "axis": self.axis}


class NonNeg(Constraint):
    """w' = w * (w >= 0)."""

    def __call__(self, w):
        return w * (w >= 0)


class UnitNorm(Constraint):
    """w' = w / (epsilon + n), n the L2 norm of w over ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


max_norm, min_max_norm, non_neg, unit_norm = MaxNorm, MinMaxNorm, NonNeg, UnitNorm
_BY_NAME = {"max_norm": MaxNorm, "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
            "MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm}


def get(identifier):
    """A constraint from None, a name, a config dict ``{"class_name", "config"}`` or an instance."""
    return arguments.from_identifier(identifier, "constraint", _BY_NAME, Constraint)


def serialize(constraint):
    """The config dict ``get`` rebuilds ``constraint`` from (None for None)."""
    return arguments.serialized(constraint)
