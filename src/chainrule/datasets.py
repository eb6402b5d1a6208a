"""Small datasets that need no network, returned as Keras datasets are:
``(x_train, y_train), (x_test, y_test)``.

- :func:`load_digits`: scikit-learn's 1,797 handwritten 8x8 digits (shipped inside scikit-learn).
- :func:`load_mnist1d`: MNIST-1D (Greydanus, 2020), built locally by the ``mnist1d``
  package's own generator with its default arguments and cached on disk as .npz.
"""
import os
import random
import tempfile
from pathlib import Path

import numpy

DIGITS_TEST_FRACTION = 0.2
DIGITS_SPLIT_SEED = 0


def load_digits():
    """scikit-learn's 8x8 digits: x float32 of shape (n, 64), pixel intensities 0..16
    scaled to [0, 1], y int64 labels 0..9; a fixed stratified split, 20% for testing."""
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(numpy.float32)
    y = digits.target.astype(numpy.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, random_state=DIGITS_SPLIT_SEED, stratify=y)
    return (x_train, y_train), (x_test, y_test)


def cache_dir():
    """Where built datasets are cached: $CHAINRULE_CACHE, else ~/.cache/chainrule."""
    return Path(os.environ.get("CHAINRULE_CACHE") or Path.home() / ".cache" / "chainrule")


def load_mnist1d():
    """MNIST-1D with the generator's default arguments: 4,000 training and 1,000 test
    sequences of length 40 (float32, zero mean and unit variance over the dataset),
    int64 labels 0..9.

    The first call runs ``mnist1d.data.make_dataset`` (offline: it only transforms its
    ten built-in templates, with seed 42) and writes the arrays to
    ``cache_dir() / "mnist1d.npz"``; later calls read that file.
    """
    path = cache_dir() / "mnist1d.npz"
    if not path.exists():
        _save_npz(path, **_build_mnist1d())
    with numpy.load(path, allow_pickle=False) as data:
        return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])


def _build_mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset

    states = random.getstate(), numpy.random.get_state()  # make_dataset seeds both global generators
    try:
        dataset = make_dataset(get_dataset_args())
    finally:
        random.setstate(states[0])
        numpy.random.set_state(states[1])
    return {"x_train": dataset["x"].astype(numpy.float32), "y_train": dataset["y"].astype(numpy.int64),
            "x_test": dataset["x_test"].astype(numpy.float32), "y_test": dataset["y_test"].astype(numpy.int64)}


def _save_npz(path, **arrays):
    """Write ``arrays`` to ``path`` atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            numpy.savez(file, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
