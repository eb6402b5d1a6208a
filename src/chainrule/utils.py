"""Seeding: one random generator for initializers, dropout and shuffling."""
import random

from .backend import xp

_generator = [xp.random.default_rng()]


def set_random_seed(seed):
    """Make weight initialisation, dropout and shuffling reproducible (as ``keras.utils.set_random_seed``)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    _generator[0] = xp.random.default_rng(seed)
    random.seed(seed)


def rng():
    """The generator every random draw in chainrule uses."""
    return _generator[0]
