"""keras.utils: seeding (one random generator for initializers, dropout and shuffling), PyDataset, and
the array helpers, files, progress bar and model plot of the modules they live in."""
import random

from .backend import xp
from .files import get_file
from .plot_model import plot_model
from .preprocessing import (normalize, pad_sequences, split_dataset, timeseries_dataset_from_array,
                            to_categorical)
from .progbar import Progbar
from .pydataset import PyDataset, Sequence

_generator = [xp.random.default_rng()]


def set_random_seed(seed):
    """Make weight initialisation, dropout and shuffling reproducible (as ``keras.utils.set_random_seed``)."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed: expected a non-negative int, got {seed!r}")
    _generator[0] = xp.random.default_rng(seed)
    random.seed(seed)


def rng():
    """The generator every random draw in chainrule uses.

    It is one generator shared by all threads (unlike grad mode, which is per thread):
    NumPy's Generator holds a lock, so draws from several threads (dropout while
    predicting with ``training=True``) never crash or corrupt it, but they interleave,
    so ``set_random_seed`` makes a run reproducible only when one thread draws."""
    return _generator[0]


def generator_state():
    """The state of the generator ``rng()`` (a dict), to restore with ``set_generator_state``."""
    return _generator[0].bit_generator.state


def set_generator_state(state):
    _generator[0].bit_generator.state = state


__all__ = ["Progbar", "PyDataset", "Sequence", "get_file", "normalize", "pad_sequences", "plot_model", "rng",
           "set_generator_state", "generator_state", "set_random_seed", "split_dataset", "timeseries_dataset_from_array", "to_categorical"]
