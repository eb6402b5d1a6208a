"""Callbacks: History, EarlyStopping, ModelCheckpoint, LearningRateScheduler, CSVLogger, TerminateOnNaN."""
import csv
import io
import sys

import numpy as np
import pytest

from chainrule import callbacks, optimizers
from chainrule.layers import Dense
from chainrule.models import Sequential, load_model
from chainrule.utils import set_random_seed

X = np.linspace(-1, 1, 20, dtype=np.float32).reshape(-1, 1)
Y = 3 * X + 1


def linear_model(learning_rate=0.1):
    set_random_seed(0)
    model = Sequential([Dense(1, input_dim=1)])
    model.compile(optimizers.SGD(learning_rate), "mse")
    return model


class Recorder(callbacks.Callback):
    """Records every hook call as (hook, argument)."""

    def __init__(self):
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append(("train_begin", None))

    def on_train_end(self, logs=None):
        self.calls.append(("train_end", None))

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(("epoch_begin", epoch))

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(("epoch_end", epoch))

    def on_batch_begin(self, batch, logs=None):
        self.calls.append(("batch_begin", batch))

    def on_batch_end(self, batch, logs=None):
        self.calls.append(("batch_end", batch))


def test_fit_calls_every_hook_in_order():
    recorder = Recorder()
    linear_model().fit(X, Y, batch_size=10, epochs=2, verbose=0, callbacks=[recorder])
    epoch = [("batch_begin", 0), ("batch_end", 0), ("batch_begin", 1), ("batch_end", 1)]
    assert recorder.calls == [("train_begin", None),
                              ("epoch_begin", 0), *epoch, ("epoch_end", 0),
                              ("epoch_begin", 1), *epoch, ("epoch_end", 1),
                              ("train_end", None)]
    assert recorder.model is not None


def test_callbacks_see_running_logs_at_batch_end():
    class Losses(callbacks.Callback):
        def __init__(self):
            self.logs = []

        def on_batch_end(self, batch, logs=None):
            self.logs.append(dict(logs))

    seen = Losses()
    linear_model().fit(X, Y, batch_size=5, epochs=1, verbose=0, callbacks=[seen])
    assert len(seen.logs) == 4 and all(set(logs) == {"loss"} for logs in seen.logs)


def test_history_records_each_epochs_logs():
    history = callbacks.History()
    history.on_epoch_end(0, {"loss": 2.0, "accuracy": 0.5})
    history.on_epoch_end(1, {"loss": 1.0, "accuracy": 0.75})
    assert history.history == {"loss": [2.0, 1.0], "accuracy": [0.5, 0.75]}
    assert history.epoch == [0, 1]


def test_non_callback_objects_are_rejected():
    with pytest.raises(TypeError, match="callbacks: expected Callback instances, got function"):
        linear_model().fit(X, Y, verbose=0, callbacks=[lambda: None])


# ----- EarlyStopping --------------------------------------------------------------
class FixedLosses(callbacks.Callback):
    """Overwrites the epoch's 'loss' with a scripted value (runs before EarlyStopping)."""

    def __init__(self, values):
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["loss"] = self.values[epoch]


def test_early_stopping_stops_after_patience_epochs_without_improvement():
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2)
    history = linear_model().fit(X, Y, epochs=10, verbose=0,
                                 callbacks=[FixedLosses([5, 4, 4.5, 4.2, 1, 1, 1, 1, 1, 1]), stopper])
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3 and stopper.best == 4


def test_early_stopping_min_delta_counts_small_gains_as_no_improvement():
    stopper = callbacks.EarlyStopping(monitor="loss", patience=1, min_delta=0.5)
    history = linear_model().fit(X, Y, epochs=5, verbose=0, callbacks=[FixedLosses([5, 4.8, 4.7, 1, 1]), stopper])
    assert history.epoch == [0, 1]


def test_early_stopping_restores_the_best_weights():
    model = linear_model()
    snapshots = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(self.model.get_weights())

    stopper = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    model.fit(X, Y, epochs=10, verbose=0, callbacks=[FixedLosses([5, 1, 3, 3, 3, 3, 3, 3, 3, 3]), Snapshot(), stopper])
    for got, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(got, best)


def test_early_stopping_on_accuracy_maximizes():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping(monitor="val_loss").mode == "min"


def test_early_stopping_on_a_missing_monitor_names_the_available_logs():
    with pytest.raises(ValueError, match="monitor 'val_loss' is not in the logs; available: loss"):
        linear_model().fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.EarlyStopping()])


# ----- ModelCheckpoint ---------------------------------------------------------------
def test_model_checkpoint_saves_a_loadable_model_each_epoch(tmp_path):
    model = linear_model()
    path = tmp_path / "model-{epoch:02d}.safetensors"
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(path), monitor="loss")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-01.safetensors", "model-02.safetensors"]
    np.testing.assert_array_equal(load_model(tmp_path / "model-02.safetensors").predict(X), model.predict(X))


def test_model_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    model = linear_model()
    path = tmp_path / "best.safetensors"
    saved = []

    class Snapshot(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            saved.append(self.model.get_weights())

    checkpoint = callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True)
    model.fit(X, Y, epochs=4, verbose=0, callbacks=[FixedLosses([3, 1, 2, 2]), Snapshot(), checkpoint])
    for got, best in zip(load_model(path).get_weights(), saved[1]):
        np.testing.assert_array_equal(got, best)


# ----- LearningRateScheduler ----------------------------------------------------------
def test_learning_rate_scheduler_sets_the_rate_each_epoch():
    model = linear_model()
    rates = []

    class Rates(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            rates.append(self.model.optimizer.learning_rate)

    history = model.fit(X, Y, epochs=3, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1)), Rates()])
    assert rates == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_learning_rate_scheduler_accepts_a_one_argument_schedule():
    model = linear_model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.LearningRateScheduler(lambda epoch: 0.01 * (epoch + 1))])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


# ----- CSVLogger ------------------------------------------------------------------------
def test_csv_logger_writes_a_header_and_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    history = linear_model().fit(X, Y, epochs=3, verbose=0, validation_split=0.25, callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.reader(io.StringIO(path.read_text())))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [int(row[0]) for row in rows[1:]] == [0, 1, 2]
    assert [float(row[1]) for row in rows[1:]] == pytest.approx(history.history["loss"])


def test_csv_logger_appends_without_a_second_header(tmp_path):
    path = tmp_path / "log.csv"
    linear_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    linear_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    assert [row[0] for row in csv.reader(io.StringIO(path.read_text()))] == ["epoch", "0", "0"]


# ----- TerminateOnNaN -------------------------------------------------------------------
def test_terminate_on_nan_stops_at_the_first_nonfinite_loss(capsys):
    model = linear_model(learning_rate=1e30)
    recorder = Recorder()
    with np.errstate(all="ignore"):
        history = model.fit(X * 1e10, Y * 1e10, batch_size=5, epochs=5, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN(), recorder])
    batches = [arg for hook, arg in recorder.calls if hook == "batch_end"]
    assert len(history.epoch) == 1 and len(batches) < 4
    assert not np.isfinite(history.history["loss"][0])
    assert "terminating training" in capsys.readouterr().out


# ----- progress display -------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_fit_on_a_terminal_draws_a_progress_bar_with_steps_and_logs(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    linear_model().fit(X, Y, batch_size=5, epochs=2, verbose=1)
    out = terminal.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4" in out and "loss: " in out


def test_verbose_2_prints_plain_lines_even_on_a_terminal(monkeypatch):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    linear_model().fit(X, Y, batch_size=5, epochs=2, verbose=2)
    lines = terminal.getvalue().strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2 - 4 steps - ") and "loss: " in lines[1]
