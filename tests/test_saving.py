"""Saving: one .safetensors file, atomic, no pickle; load_model rebuilds the same model."""
import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

from chainrule import layers, optimizers, regularizers
from chainrule.layers import Dense, Dropout, Input
from chainrule.models import Model, Sequential, load_model
from chainrule.utils import set_random_seed


def data(n=60, seed=0):
    generator = np.random.default_rng(seed)
    x = generator.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 1)


def trained_sequential(optimizer="adam"):
    set_random_seed(0)
    model = Sequential([Dense(8, activation="relu", input_dim=4, kernel_regularizer=regularizers.L2(1e-3)),
                        Dropout(0.1), Dense(3, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*data(), epochs=3, batch_size=16, verbose=0)
    return model


def header(path):
    raw = open(path, "rb").read()
    size = int.from_bytes(raw[:8], "little")
    return json.loads(raw[8:8 + size])


def test_save_writes_one_safetensors_file_with_the_config_in_its_metadata(tmp_path):
    path = tmp_path / "m.safetensors"
    trained_sequential().save(path)
    assert os.listdir(tmp_path) == ["m.safetensors"]
    meta = header(path)["__metadata__"]
    assert meta["format"] == "chainrule.model"
    model_config = json.loads(meta["model"])
    assert model_config["class_name"] == "Sequential"
    assert [layer["class_name"] for layer in model_config["config"]["layers"]] == ["Dense", "Dropout", "Dense"]
    assert json.loads(meta["compile"])["loss"]["class_name"] == "SparseCategoricalCrossentropy"


def test_weights_and_optimizer_state_are_stored_as_tensors(tmp_path):
    path = tmp_path / "m.safetensors"
    trained_sequential().save(path)
    keys = set(header(path)) - {"__metadata__"}
    assert {"weights/0000", "weights/0003", "optimizer/iterations", "optimizer/0/m", "optimizer/3/v"} <= keys


def test_load_model_gives_identical_predictions(tmp_path):
    model = trained_sequential()
    model.save(tmp_path / "m.safetensors")
    x, _ = data(20, seed=1)
    loaded = load_model(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]


def test_load_model_restores_the_compiled_loss_metrics_and_optimizer_state(tmp_path):
    model = trained_sequential()
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert type(loaded.loss) is type(model.loss) and loaded.metrics_names == ["loss", "accuracy"]
    assert type(loaded.optimizer) is optimizers.Adam and loaded.optimizer.iterations == model.optimizer.iterations
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    for key, value in model.optimizer.variables().items():
        np.testing.assert_array_equal(loaded.optimizer.variables()[key], value)


@pytest.mark.parametrize("optimizer", ["sgd", "rmsprop", "adam", "adagrad"])
def test_training_resumes_identically_after_loading(tmp_path, optimizer):
    model = trained_sequential(optimizer)
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    x, y = data()
    set_random_seed(5)
    continued = model.fit(x, y, epochs=2, batch_size=16, verbose=0).history
    set_random_seed(5)
    resumed = loaded.fit(x, y, epochs=2, batch_size=16, verbose=0).history
    assert continued == resumed
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_functional_model_round_trips(tmp_path):
    set_random_seed(0)
    inputs = Input((4,))
    outputs = Dense(3, activation="softmax")(Dense(5, activation="tanh")(inputs))
    model = Model(inputs, outputs)
    model.save(tmp_path / "f.safetensors")
    loaded = load_model(tmp_path / "f.safetensors")
    assert type(loaded) is Model and loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(data()[0]), model.predict(data()[0]))


class Scale(layers.Layer):
    """A layer defined outside chainrule: a = x * factor."""

    def __init__(self, factor=1.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs, training=False):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_a_layer_of_ones_own_loads_when_given_in_custom_objects(tmp_path):
    model = Sequential([Dense(2, input_dim=4), Scale(3.0)])
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="unknown class name 'Scale'"):
        load_model(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors", custom_objects={"Scale": Scale})
    assert isinstance(loaded.layers[1], Scale) and loaded.layers[1].factor == 3.0
    np.testing.assert_array_equal(loaded.predict(data()[0]), model.predict(data()[0]))


def test_saving_replaces_an_existing_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"old contents")
    trained_sequential().save(path)
    assert os.listdir(tmp_path) == ["m.safetensors"]
    assert load_model(path).count_params() == 4 * 8 + 8 + 8 * 3 + 3


def test_a_failed_save_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"previous")

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="disk full"):
        trained_sequential().save(path)
    assert path.read_bytes() == b"previous" and os.listdir(tmp_path) == ["m.safetensors"]


def test_loading_a_truncated_file_is_a_clear_value_error(tmp_path):
    path = tmp_path / "m.safetensors"
    trained_sequential().save(path)
    path.write_bytes(path.read_bytes()[:-16])
    with pytest.raises(ValueError, match="not a readable safetensors file .not one, or truncated."):
        load_model(path)


def test_loading_a_file_that_is_not_safetensors_is_a_clear_value_error(tmp_path):
    path = tmp_path / "m.safetensors"
    path.write_bytes(b"\x80\x04\x95 this is a pickle, not a model")
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        load_model(path)


def test_loading_a_safetensors_file_that_is_not_a_chainrule_model_is_a_clear_value_error(tmp_path):
    path = tmp_path / "other.safetensors"
    save_file({"w": np.zeros(3, dtype=np.float32)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ValueError, match="is a safetensors file but not a chainrule model"):
        load_model(path)


def test_loading_a_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.safetensors")


def test_saving_an_unbuilt_model_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="not built yet"):
        Sequential([Dense(2)]).save(tmp_path / "m.safetensors")


def test_a_model_with_a_custom_loss_function_loads_with_compile_false(tmp_path):
    model = Sequential([Dense(1, input_dim=4)])
    model.compile("sgd", loss=lambda y_true, y_pred: ((y_pred - y_true) ** 2).mean())
    model.save(tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match=r"compile settings cannot be restored.*compile=False"):
        load_model(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors", compile=False)
    assert loaded.optimizer is None
    np.testing.assert_array_equal(loaded.predict(data()[0]), model.predict(data()[0]))


def test_a_sequential_nested_in_a_sequential_round_trips(tmp_path):
    set_random_seed(0)
    model = Sequential([Input((4,)), Sequential([Dense(5, activation="relu")]), Dense(2)])
    model.save(tmp_path / "m.safetensors")
    loaded = load_model(tmp_path / "m.safetensors")
    assert type(loaded.layers[0]) is Sequential and loaded.count_params() == model.count_params()
    np.testing.assert_array_equal(loaded.predict(data()[0]), model.predict(data()[0]))


def test_a_float64_model_loads_as_float64_from_file_or_bytes(tmp_path):
    from chainrule.saving import model_from_bytes, model_to_bytes
    model = Sequential([Dense(3, input_dim=2, dtype="float64"), Dense(1, dtype="float64")])
    model.save(tmp_path / "m.safetensors")
    for loaded in (load_model(tmp_path / "m.safetensors"), model_from_bytes(model_to_bytes(model))):
        assert [w.dtype for w in loaded.weights] == [np.dtype("float64")] * 4
        np.testing.assert_array_equal(loaded.predict(np.ones((2, 2))), model.predict(np.ones((2, 2))))
