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
