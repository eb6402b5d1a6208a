"""Keras 3's other callbacks: ReduceLROnPlateau, LambdaCallback, BackupAndRestore, ModelCheckpoint's options,
TensorBoard (through a stand-in tensorboardX), and the NaN rules of every monitor."""
import json
import math
import sys
import types

import numpy as np
import pytest

from chainrule import callbacks, optimizers
from test_callbacks import X, Y, linear_model
from test_callbacks import FixedLosses as Scripted


def test_reduce_lr_on_plateau_multiplies_the_rate_after_patience_then_cools_down():
    model = linear_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2, min_lr=0.2)
    history = model.fit(X, Y, epochs=7, verbose=0, callbacks=[Scripted([3] * 7), reducer])
    assert history.history["learning_rate"] == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.2]


def test_reduce_lr_on_plateau_never_takes_nan_as_best():
    model = linear_model(1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", patience=5)
    model.fit(X, Y, epochs=3, verbose=0, callbacks=[Scripted([math.nan, 2.0, 1.0]), reducer])
    assert reducer.best == 1.0


def test_reduce_lr_on_plateau_rejects_a_factor_of_one():
    with pytest.raises(ValueError, match="factor"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_lambda_callback_calls_the_given_functions():
    seen = []
    callback = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(("epoch", epoch)),
                                        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)),
                                        on_train_end=lambda logs: seen.append(("end", None)))
    linear_model().fit(X, Y, epochs=1, batch_size=10, verbose=0, callbacks=[callback])
    assert seen == [("batch", 0), ("batch", 1), ("epoch", 0), ("end", None)]


def test_lambda_callback_unknown_hook_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid names: on_train_begin"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_early_stopping_never_takes_nan_as_best():
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2)
    linear_model().fit(X, Y, epochs=4, verbose=0, callbacks=[Scripted([math.nan, 2.0, 1.0, 0.5]), stopper])
    assert stopper.best == 0.5 and stopper.stopped_epoch == 0


def test_model_checkpoint_never_saves_a_non_finite_value(tmp_path):
    path = tmp_path / "model-{epoch}.safetensors"
    checkpoint = callbacks.ModelCheckpoint(str(path), monitor="loss")
    linear_model().fit(X, Y, epochs=3, verbose=0, callbacks=[Scripted([1.0, math.nan, math.inf]), checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-1.safetensors"]


def test_model_checkpoint_best_only_skips_nan_and_respects_the_threshold(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.weights.safetensors"), monitor="loss",
                                           save_best_only=True, save_weights_only=True, initial_value_threshold=2.5)
    linear_model().fit(X, Y, epochs=4, verbose=0, callbacks=[Scripted([3.0, math.nan, 2.0, 2.2]), checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-3.weights.safetensors"] and checkpoint.best == 2.0


def test_model_checkpoint_every_n_batches(tmp_path):
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.safetensors"), monitor="loss",
                                           save_freq=3)
    linear_model().fit(X, Y, epochs=2, batch_size=5, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1-3.safetensors", "m-2-2.safetensors"]


def test_model_checkpoint_bad_save_freq_is_named():
    with pytest.raises(ValueError, match="save_freq"):
        callbacks.ModelCheckpoint("m.safetensors", save_freq="batch")


class Interrupt(callbacks.Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_backup_and_restore_resumes_weights_optimizer_and_epoch(tmp_path):
    whole = linear_model()
    whole.compile(optimizers.Adam(0.05), "mse")
    whole.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0)

    interrupted = linear_model()
    interrupted.compile(optimizers.Adam(0.05), "mse")
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    history = interrupted.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0, callbacks=[backup, Interrupt(1)])
    assert history.epoch == [0] and interrupted.interrupted
    assert json.loads((tmp_path / "backup" / "state.json").read_text()) == {"epoch": 1}

    resumed = linear_model()
    resumed.compile(optimizers.Adam(0.05), "mse")
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    assert backup.restore(resumed) == 2 and resumed.optimizer.iterations == 2
    history = resumed.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0, callbacks=[backup],
                          initial_epoch=backup.initial_epoch)
    assert history.epoch == [2, 3]
    for got, expected in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-6)
    assert not (tmp_path / "backup" / "state.json").exists()


class FakeWriter:
    def __init__(self, log_dir):
        self.log_dir, self.scalars, self.histograms, self.closed = log_dir, [], [], False
        FakeWriter.made.append(self)

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def add_histogram(self, tag, values, step):
        self.histograms.append((tag, step))

    def flush(self):
        pass

    def close(self):
        self.closed = True


def test_tensorboard_writes_epoch_scalars_and_histograms(tmp_path, monkeypatch):
    FakeWriter.made = []
    monkeypatch.setitem(sys.modules, "tensorboardX", types.SimpleNamespace(SummaryWriter=FakeWriter))
    board = callbacks.TensorBoard(log_dir=tmp_path, histogram_freq=1, update_freq=2)
    linear_model().fit(X, Y, epochs=2, batch_size=5, verbose=0, validation_data=(X, Y), callbacks=[board])
    train, validation = FakeWriter.made
    assert train.log_dir.endswith("train") and validation.log_dir.endswith("validation")
    assert [s[:3:2] for s in validation.scalars] == [("epoch_loss", 0), ("epoch_loss", 1)]
    assert ("epoch_loss", 1) in [s[:3:2] for s in train.scalars]
    assert [s[2] for s in train.scalars if s[0] == "batch_loss"] == [2, 4, 6, 8]
    assert len(train.histograms) == 4 and train.closed


def test_tensorboard_without_tensorboardx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ImportError, match="chainrule\\[tensorboard\\]"):
        linear_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.TensorBoard()])


def test_backup_and_restore_resumes_inside_fit_as_keras_does(tmp_path):
    whole = linear_model()
    whole.compile(optimizers.Adam(0.05), "mse")
    whole.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0)
    interrupted = linear_model()
    interrupted.compile(optimizers.Adam(0.05), "mse")
    interrupted.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0,
                    callbacks=[callbacks.BackupAndRestore(tmp_path / "backup"), Interrupt(1)])
    resumed = linear_model()
    resumed.compile(optimizers.Adam(0.05), "mse")
    history = resumed.fit(X, Y, epochs=4, batch_size=20, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(tmp_path / "backup")])
    assert history.epoch == [2, 3]
    for got, expected in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_fit_with_a_loss_scale_factor_trains_as_without_one():
    plain, scaled = linear_model(), linear_model()
    plain.compile(optimizers.SGD(0.1), "mse")
    scaled.compile(optimizers.SGD(0.1, loss_scale_factor=128.0), "mse")
    for model in (plain, scaled):
        model.fit(X, Y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), scaled.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_fit_with_use_ema_ends_with_the_moving_averages():
    model = linear_model()
    model.compile(optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5), "mse")
    model.fit(X, Y, epochs=2, batch_size=10, shuffle=False, verbose=0)
    state = model.optimizer.variables()
    stored = [state[key] for key in sorted(state) if key.endswith("/average")]
    assert len(stored) == len(model.get_weights())
    for weight, average in zip(model.get_weights(), stored):
        np.testing.assert_allclose(weight, average)
