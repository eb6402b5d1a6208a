"""Small datasets that need no network, returned as Keras datasets are:
``(x_train, y_train), (x_test, y_test)``.

- :func:`load_digits`: scikit-learn's 1,797 handwritten 8x8 digits (shipped inside scikit-learn).
- :func:`load_mnist1d`: MNIST-1D (Greydanus, 2020), built locally by the ``mnist1d``
  package's own generator with its default arguments and cached on disk as .npz.
- :func:`load_xor`, :func:`load_moons`: two-class toy problems.
- :func:`load_csv`: any CSV file of numeric features with an integer class label last.
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

    digits = sklearn_digits()
    x = (digits.data / 16.0).astype(numpy.float32)
    return _stratified_split(x, digits.target.astype(numpy.int64), DIGITS_SPLIT_SEED)


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


def load_xor():
    """The four XOR points: x float32 (4, 2) in {0, 1}, y int64 = x1 xor x2.
    Training and test sets are the same four points."""
    x = numpy.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=numpy.float32)
    y = numpy.array([0, 1, 1, 0], dtype=numpy.int64)
    return (x, y), (x.copy(), y.copy())


def load_moons(n_samples=1000, noise=0.2, seed=0):
    """scikit-learn's two interleaving half circles with Gaussian noise: x float32
    (n_samples, 2), y int64 in {0, 1}; a fixed stratified split, 20% for testing."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    return _stratified_split(x.astype(numpy.float32), y.astype(numpy.int64), seed)


def load_csv(path, test_fraction=0.2, seed=0):
    """A comma-separated file: every column but the last is a numeric feature, the last
    is the class label, an int in 0..classes-1; an optional header row is skipped.
    x float32, y int64; a fixed stratified split, ``test_fraction`` for testing."""
    rows = read_csv_rows(path)
    table = numpy.array(rows, dtype=numpy.float64)
    if table.shape[1] < 2:
        raise ValueError(f"{path}: expected at least two columns (features, then the label), got {table.shape[1]}")
    x, labels = table[:, :-1], table[:, -1]
    if not (numpy.all(labels == numpy.round(labels)) and labels.min() >= 0):
        raise ValueError(f"{path}: expected the last column to hold int class labels >= 0, got values such as "
                         f"{labels[(labels != numpy.round(labels)) | (labels < 0)][:3].tolist()}")
    return _stratified_split(x.astype(numpy.float32), labels.astype(numpy.int64), seed, test_fraction)


def read_csv_rows(path):
    """The rows of a CSV file of numbers as lists of floats; a ValueError names the line of a
    bad or ragged row. The first row is a header, and skipped, only when none of its fields is
    empty or a number: a first row holding NaN, Inf or an empty field is data, and refused. A
    UTF-8 byte-order mark is not part of the first field."""
    import csv

    with open(path, newline="", encoding="utf-8-sig") as file:
        try:
            lines = [(number, row) for number, row in enumerate(csv.reader(file), start=1) if row]
        except (csv.Error, UnicodeDecodeError) as error:
            raise ValueError(f"{path}: expected a UTF-8 CSV file, got {type(error).__name__}: {error}") from None
    if lines and _is_header(lines[0][1]):
        lines = lines[1:]
    if not lines:
        raise ValueError(f"{path}: expected rows of numbers, got no data rows")
    width = len(lines[0][1])
    rows = []
    for number, row in lines:
        if len(row) != width or not _is_numeric(row):
            raise ValueError(f"{path}, line {number}: expected {width} finite numbers, got {row}")
        rows.append([float(field) for field in row])
    return rows


def _is_header(row):
    return all(field.strip() and not _parses_as_float(field) for field in row)


def _parses_as_float(field):
    try:
        float(field)
    except ValueError:
        return False
    return True


def _is_numeric(row):
    return all(_parses_as_float(field) and numpy.isfinite(float(field)) for field in row)


def _stratified_split(x, y, seed, test_fraction=DIGITS_TEST_FRACTION):
    from sklearn.model_selection import train_test_split

    counts = numpy.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=test_fraction, random_state=seed,
                                                        stratify=stratify)
    return (x_train, y_train), (x_test, y_test)
