"""keras.utils names: to_categorical, normalize, pad_sequences, timeseries_dataset_from_array, split_dataset,
get_file (offline), plot_model (DOT text), Progbar."""
import io
import os

import numpy as np
import pytest

import chainrule as keras
from chainrule import utils


def test_to_categorical_drops_a_trailing_unit_axis_and_checks_labels():
    np.testing.assert_array_equal(utils.to_categorical([[1], [0]], 3), [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="x: labels must be in \\[0, 2\\)"):
        utils.to_categorical([0, 2], num_classes=2)
    with pytest.raises(ValueError, match="num_classes"):
        utils.to_categorical([0, 1], num_classes=0)


def test_normalize_gives_unit_norms_and_keeps_zero_rows():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(utils.normalize(x), [[0.6, 0.8], [0.0, 0.0]])
    np.testing.assert_allclose(np.abs(utils.normalize(x, axis=0, order=1)).sum(axis=0), [1.0, 1.0])


def test_pad_sequences_pads_and_truncates_before_by_default():
    np.testing.assert_array_equal(utils.pad_sequences([[1, 2, 3], [4]], maxlen=2), [[2, 3], [0, 4]])
    with pytest.raises(ValueError, match="padding: expected 'pre' or 'post'"):
        utils.pad_sequences([[1]], padding="middle")


def test_timeseries_windows_and_targets():
    data = np.arange(10)
    dataset = utils.timeseries_dataset_from_array(data, data * 10, sequence_length=3, sampling_rate=2, batch_size=2)
    x, y = dataset[0]
    np.testing.assert_array_equal(x, [[0, 2, 4], [1, 3, 5]])
    np.testing.assert_array_equal(y, [0, 10])
    assert len(dataset) == 3 and dataset[2][0].shape == (2, 3)
    assert isinstance(dataset, utils.PyDataset)


def test_timeseries_dataset_feeds_fit():
    data = np.sin(np.arange(40.0))[:, None]
    dataset = utils.timeseries_dataset_from_array(data[:-3], data[3:], sequence_length=3, batch_size=8, shuffle=True,
                                                  seed=0)
    model = keras.Sequential([keras.Input((3, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    assert len(model.fit(dataset, epochs=2, verbose=0).history["loss"]) == 2


def test_split_dataset_keeps_the_structure():
    x, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    (x_left, y_left), (x_right, y_right) = utils.split_dataset((x, y), left_size=0.6)
    assert x_left.shape == (3, 2) and y_right.tolist() == [3, 4]
    left, right = utils.split_dataset(np.arange(10), right_size=3, shuffle=True, seed=1)
    assert len(left) == 7 and sorted(np.concatenate([left, right]).tolist()) == list(range(10))
    with pytest.raises(ValueError, match="left_size"):
        utils.split_dataset(np.arange(4), left_size=1.5)


def test_get_file_reads_the_cache_and_never_downloads(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "data.csv").write_text("1,2\n")
    assert utils.get_file(origin="https://example.org/data.csv?x=1", cache_dir=str(tmp_path)) == str(
        tmp_path / "datasets" / "data.csv")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        utils.get_file("missing.csv", origin="https://example.org/missing.csv", cache_dir=str(tmp_path))
    with pytest.raises(ValueError, match="file_hash"):
        utils.get_file("data.csv", cache_dir=str(tmp_path), file_hash="0" * 64)


def test_plot_model_writes_dot_text_with_the_connections(tmp_path):
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="hidden")(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1, name="a")(hidden), keras.layers.Dense(2, name="b")(hidden)])
    path = utils.plot_model(model, to_file=str(tmp_path / "model.dot"), show_shapes=True)
    text = open(path).read()
    assert "hidden (Dense)" in text and "output: (None, 2)" in text
    assert text.count("n1 ->") == 2


def test_plot_model_image_without_pydot_names_the_extra(tmp_path, monkeypatch):
    import builtins
    real_import = builtins.__import__
    monkeypatch.setattr(builtins, "__import__", lambda name, *a, **k: (_ for _ in ()).throw(ImportError(name))
                        if name == "pydot" else real_import(name, *a, **k))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ImportError, match="chainrule\\[graph\\]"):
        utils.plot_model(model, to_file=str(tmp_path / "model.png"))
    assert not os.path.exists(tmp_path / "model.png")


def test_progbar_shows_step_weighted_means():
    stream = io.StringIO()
    bar = utils.Progbar(4, verbose=2, stream=stream)
    bar.update(1, [("loss", 1.0)])
    bar.update(4, [("loss", 2.0)])
    assert "4/4" in stream.getvalue() and "loss: 1.7500" in stream.getvalue()
