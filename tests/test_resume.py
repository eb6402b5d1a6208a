"""Resume is exact: N epochs, save, load, M more give the weights of N + M epochs straight, bit for bit,
with shuffling, Dropout, BatchNormalization and every optimizer; BackupAndRestore resumes an interrupted
fit the same way; a KeyboardInterrupt ends fit with the history so far."""
import numpy as np
import pytest

from chainrule import callbacks, optimizers
from chainrule.layers import BatchNormalization, Dense, Dropout
from chainrule.models import Sequential, load_model
from chainrule.saving import ModelFileError, _read, model_from_bytes, model_to_bytes, FORMAT
from chainrule.utils import generator_state, rng, set_random_seed

data = np.random.default_rng(0)
X = data.standard_normal((40, 4)).astype("float32")
Y = (X[:, :1] - X[:, 1:2] > 0).astype("float32")

OPTIMIZERS = {
    "SGD with momentum": lambda: optimizers.SGD(0.05, momentum=0.9),
    "SGD with ExponentialDecay": lambda: optimizers.SGD(
        optimizers.schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.8), momentum=0.9),
    "RMSprop": lambda: optimizers.RMSprop(0.01),
    "Adam": lambda: optimizers.Adam(0.01),
    "AdamW": lambda: optimizers.AdamW(0.01),
    "Adagrad": lambda: optimizers.Adagrad(0.05),
    "Nadam": lambda: optimizers.Nadam(0.01),
    "Adamax": lambda: optimizers.Adamax(0.01),
    "Adadelta": lambda: optimizers.Adadelta(1.0),
    "Ftrl": lambda: optimizers.Ftrl(0.05),
    "Lion": lambda: optimizers.Lion(0.001),
    "Lamb": lambda: optimizers.Lamb(0.01),
    "Adafactor": lambda: optimizers.Adafactor(0.01),
}


def compiled_model(optimizer):
    set_random_seed(7)
    model = Sequential([Dense(8, input_shape=(4,), activation="relu"), BatchNormalization(), Dropout(0.3),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer, "binary_crossentropy")
    return model


def fit(model, epochs, **kwargs):
    return model.fit(X, Y, epochs=epochs, batch_size=8, shuffle=True, verbose=0, **kwargs)


def assert_same_weights(got, expected):
    for a, b in zip(got.get_weights(), expected.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
def test_two_epochs_saved_loaded_and_two_more_equal_four_straight_bit_for_bit(make_optimizer, tmp_path):
    straight = compiled_model(make_optimizer())
    fit(straight, 4)
    first = compiled_model(make_optimizer())
    fit(first, 2)
    first.save(tmp_path / "m.safetensors")
    rng().standard_normal(17)     # unrelated draws between save and load
    resumed = load_model(tmp_path / "m.safetensors")
    fit(resumed, 2)
    assert_same_weights(resumed, straight)


def test_load_model_puts_the_generator_where_it_was_at_save_time(tmp_path):
    model = compiled_model(optimizers.Adam(0.01))
    fit(model, 1)
    model.save(tmp_path / "m.safetensors")
    at_save = generator_state()
    rng().random(5)
    load_model(tmp_path / "m.safetensors")
    assert generator_state() == at_save


def test_rebuilding_a_model_from_bytes_draws_nothing_from_the_generator():
    data = model_to_bytes(compiled_model(optimizers.Adam(0.01)))
    rng().random(5)
    before = generator_state()
    model_from_bytes(data)
    assert generator_state() == before


def test_a_bad_generator_state_is_refused_and_leaves_the_generator_as_it_was(tmp_path):
    from safetensors.numpy import save
    metadata, tensors = _read(model_to_bytes(compiled_model(optimizers.Adam(0.01))), "m", (FORMAT,))
    path = tmp_path / "bad.safetensors"
    path.write_bytes(save(tensors, metadata={**metadata, "rng_state": '{"bit_generator": "PCG64"}'}))
    before = generator_state()
    with pytest.raises(ModelFileError, match="rng_state"):
        load_model(path)
    assert generator_state() == before


class InterruptAtEpochBegin(callbacks.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_a_keyboard_interrupt_ends_fit_with_the_history_of_the_completed_epochs():
    model = compiled_model(optimizers.Adam(0.01))
    history = fit(model, 4, callbacks=[InterruptAtEpochBegin(2)])
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert model.interrupted
    straight = compiled_model(optimizers.Adam(0.01))
    fit(straight, 2)
    assert_same_weights(model, straight)


@pytest.mark.parametrize("make_optimizer", [OPTIMIZERS["Adam"], OPTIMIZERS["SGD with ExponentialDecay"]],
                         ids=["Adam", "SGD with ExponentialDecay"])
def test_backup_and_restore_resumes_an_interrupted_fit_bit_for_bit(make_optimizer, tmp_path):
    straight = compiled_model(make_optimizer())
    fit(straight, 4)
    model = compiled_model(make_optimizer())
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    history = fit(model, 4, callbacks=[backup, InterruptAtEpochBegin(2)])
    assert history.epoch == [0, 1] and (tmp_path / "backup" / "state.json").exists()
    rng().standard_normal(17)     # unrelated draws before the resumed fit
    history = fit(model, 4, callbacks=[backup])
    assert history.epoch == [2, 3] and not model.interrupted
    assert_same_weights(model, straight)
    assert not (tmp_path / "backup" / "state.json").exists()


def test_backup_and_restore_resumes_into_a_fresh_model_bit_for_bit(tmp_path):
    straight = compiled_model(optimizers.Nadam(0.01))
    fit(straight, 4)
    fit(compiled_model(optimizers.Nadam(0.01)), 4,
        callbacks=[callbacks.BackupAndRestore(tmp_path / "backup"), InterruptAtEpochBegin(3)])
    resumed = compiled_model(optimizers.Nadam(0.01))
    rng().standard_normal(17)
    history = fit(resumed, 4, callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")])
    assert history.epoch == [3]
    assert_same_weights(resumed, straight)
