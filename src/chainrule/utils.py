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
    """The generator every random draw in chainrule uses."""
    return _generator[0]


__all__ = ["Progbar", "PyDataset", "Sequence", "get_file", "normalize", "pad_sequences", "plot_model", "rng",
           "set_random_seed", "split_dataset", "timeseries_dataset_from_array", "to_categorical"]
