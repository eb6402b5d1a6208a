"""``PyDataset``: the Keras 3 contract for a data set of batches."""


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
