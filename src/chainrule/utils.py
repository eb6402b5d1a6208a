"""keras.utils: seeding (one random generator for initializers, dropout and shuffling), PyDataset, and
the array helpers, files, progress bar and model plot of the modules they live in."""
import random

from .backend import xp
from .files import get_file
from .plot_model import plot_model
from .preprocessing import (normalize, pad_sequences, split_dataset, timeseries_dataset_from_array,
                            to_categorical)
from .progbar import Progbar

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


class PyDataset:
    """A data set of batches, as Keras 3's ``keras.utils.PyDataset``: subclass it with ``__len__``
    (the number of batches) and ``__getitem__(index)`` returning a batch (x, y) or
    (x, y, sample_weight); ``on_epoch_end`` runs after each epoch (e.g. to reshuffle).
    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are accepted for Keras code:
    chainrule reads the batches in order, in the training thread."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing, self.max_queue_size = workers, use_multiprocessing, max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__}: a PyDataset must define __len__ (its number of batches)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__}: a PyDataset must define __getitem__(index)")

    def on_epoch_end(self):
        """Called after each epoch; override to reshuffle."""


Sequence = PyDataset

__all__ = ["Progbar", "PyDataset", "Sequence", "get_file", "normalize", "pad_sequences", "plot_model", "rng",
           "set_random_seed", "split_dataset", "timeseries_dataset_from_array", "to_categorical"]
