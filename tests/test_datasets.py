import random

import numpy as np
import pytest

from chainrule import datasets


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE", str(tmp_path))
    return tmp_path


def test_load_digits_returns_a_stratified_split_scaled_to_unit_range():
    (x_train, y_train), (x_test, y_test) = datasets.load_digits()
    assert x_train.shape == (1437, 64) and x_test.shape == (360, 64)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_test)) == set(range(10))
    train_share = np.bincount(y_train) / len(y_train)
    test_share = np.bincount(y_test) / len(y_test)
    assert np.abs(train_share - test_share).max() < 0.01


def test_load_digits_split_is_the_same_every_call():
    (first, _), _ = datasets.load_digits()
    (second, _), _ = datasets.load_digits()
    np.testing.assert_array_equal(first, second)


def test_load_mnist1d_has_the_generator_default_sizes(cache):
    (x_train, y_train), (x_test, y_test) = datasets.load_mnist1d()
    assert x_train.shape == (4000, 40) and x_test.shape == (1000, 40)
    assert y_train.shape == (4000,) and y_test.shape == (1000,)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert set(np.unique(y_train)) == set(range(10))


def test_load_mnist1d_equals_the_mnist1d_generator_output(cache):
    from mnist1d.data import get_dataset_args, make_dataset

    (x_train, y_train), (x_test, y_test) = datasets.load_mnist1d()
    reference = make_dataset(get_dataset_args())
    np.testing.assert_allclose(x_train, reference["x"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(y_test, reference["y_test"])


def test_load_mnist1d_caches_an_npz_without_pickles_and_reads_it_back(cache, monkeypatch):
    first = datasets.load_mnist1d()
    path = cache / "mnist1d.npz"
    with np.load(path, allow_pickle=False) as data:
        assert sorted(data.files) == ["x_test", "x_train", "y_test", "y_train"]

    def fail(*args):
        raise AssertionError("the dataset was rebuilt instead of read from the cache")

    monkeypatch.setattr(datasets, "_build_mnist1d", fail)
    second = datasets.load_mnist1d()
    np.testing.assert_array_equal(first[0][0], second[0][0])
    assert [p.name for p in cache.iterdir()] == ["mnist1d.npz"]


def test_load_mnist1d_leaves_the_global_random_generators_untouched(cache):
    np.random.seed(123)
    random.seed(123)
    datasets.load_mnist1d()
    assert np.random.rand() == np.random.RandomState(123).rand()
    assert random.random() == random.Random(123).random()
