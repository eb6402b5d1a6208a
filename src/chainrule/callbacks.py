"""Callbacks (Keras names): hooks that ``fit`` calls at the start and end of
training, of each epoch and of each batch, with the running ``logs`` dict
('loss', the metric names and, at epoch end, their 'val_' forms)."""
import csv
import math
import os
import sys
import time


MODES = ("train", "test", "predict")


class Callback:
    """Base class: override the hooks you need (Keras' names and moments).

    ``self.model`` is the model being run and ``self.params`` {'verbose', 'epochs', 'steps'}.
    ``fit`` calls on_train_begin/end, on_epoch_begin/end, on_train_batch_begin/end (whose
    default calls the legacy on_batch_begin/end) and, for its validation data, the test hooks;
    ``evaluate`` calls on_test_begin/end and on_test_batch_begin/end; ``predict`` calls
    on_predict_begin/end and on_predict_batch_begin/end (batch end logs: {'outputs': ...}).
    """

    model = None
    params = None
    writes_files = False   # True for a callback that writes files: under MPI only rank 0 runs it

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        """Legacy name: called by the default ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """Legacy name: called by the default ``on_train_batch_end``."""

    def uses_batch_hooks(self, mode="train"):
        """Whether the loop of ``mode`` ('train', 'test', 'predict') must call this callback's batch
        hooks (and build per-batch logs): it overrides one of them."""
        hooks = [f"on_{mode}_batch_begin", f"on_{mode}_batch_end"]
        if mode == "train":
            hooks += ["on_batch_begin", "on_batch_end"]
        return any(_overrides(self, hook) for hook in hooks)


class History(Callback):
    """Records every epoch's logs: ``history.history['loss']`` is the list of epoch losses, ``history.epoch`` the epochs."""

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)


def format_logs(logs):
    return " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())


class ProgbarLogger(Callback):
    """Shows training progress: on a terminal a rich progress bar per epoch (steps, ETA,
    loss, metrics), otherwise (or with ``verbose=2``) one plain line per epoch."""

    def __init__(self, verbose=1, epochs=1, steps=None, stream=None):
        self.stream = stream or sys.stdout
        self.epochs, self.steps = epochs, steps
        self.live = verbose == 1 and self.stream.isatty()
        self.progress = None

    def uses_batch_hooks(self, mode="train"):
        return self.live and mode == "train"

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_start = self.last_draw = time.monotonic()
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
            from rich.table import Column
            self.progress = Progress(TextColumn(f"Epoch {epoch + 1}/{self.epochs}", table_column=Column(no_wrap=True)),
                                     BarColumn(bar_width=20), MofNCompleteColumn(), TimeRemainingColumn(),
                                     TextColumn("{task.fields[logs]}", table_column=Column(overflow="fold")),
                                     console=Console(file=self.stream))
            self.task = self.progress.add_task("train", total=self.steps, logs="")
            self.progress.start()

    def on_batch_end(self, batch, logs=None):
        if self.progress is not None:
            now = time.monotonic()
            if now - self.last_draw > 0.1 or batch + 1 == self.steps:
                self.last_draw = now
                self.progress.update(self.task, completed=batch + 1, logs=format_logs(logs or {}))

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.monotonic() - self.epoch_start
        if self.progress is not None:
            self.progress.update(self.task, completed=self.steps, logs=format_logs(logs or {}))
            self.progress.stop()
            self.progress = None
        else:
            line = f"Epoch {epoch + 1}/{self.epochs} - {self.steps} steps - {elapsed:.2f}s - {format_logs(logs or {})}"
            print(line, file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class CallbackList:
    """Calls each callback's hook in order; batch hooks only for the callbacks that override them."""

    def __init__(self, callbacks, model, **params):
        if callbacks is not None and not isinstance(callbacks, (list, tuple)):
            raise TypeError(f"callbacks: expected a list of Callback instances, got {type(callbacks).__name__}")
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(f"callbacks: expected Callback instances, got {type(callback).__name__}")
        for callback in self.callbacks:
            callback.set_model(model)
            callback.set_params(dict(params))
        self.batch_callbacks = {mode: [c for c in self.callbacks if c.uses_batch_hooks(mode)] for mode in MODES}

    def uses_batch_hooks(self, mode):
        return bool(self.batch_callbacks[mode])

    def begin(self, mode, logs=None):
        for callback in self.callbacks:
            getattr(callback, f"on_{mode}_begin")(logs or {})

    def end(self, mode, logs):
        for callback in self.callbacks:
            getattr(callback, f"on_{mode}_end")(logs)

    def on_epoch_begin(self, epoch):
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, {})

    def on_epoch_end(self, epoch, logs):
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)

    def batch_begin(self, mode, batch, logs=None):
        for callback in self.batch_callbacks[mode]:
            getattr(callback, f"on_{mode}_batch_begin")(batch, logs or {})

    def batch_end(self, mode, batch, logs):
        for callback in self.batch_callbacks[mode]:
            getattr(callback, f"on_{mode}_batch_end")(batch, logs)


def _overrides(callback, hook):
    return getattr(type(callback), hook) is not getattr(Callback, hook)


def _mode_for(monitor, mode):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode: expected 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.removeprefix("val_")
        return "max" if "acc" in name or name in ("precision", "recall", "auc") else "min"
    return mode


class EarlyStopping(Callback):
    """Stops training when ``monitor`` has not improved by more than ``min_delta`` for
    ``patience`` epochs; with ``restore_best_weights`` the best epoch's weights are put back."""

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.min_delta = abs(float(min_delta))
        self.mode = _mode_for(monitor, mode)
        self.baseline, self.restore_best_weights, self.start_from_epoch = baseline, restore_best_weights, start_from_epoch

    def _improves(self, current, reference):
        """current < reference - min_delta (mode 'min') or > reference + min_delta: False when
        current is NaN, so a NaN never becomes ``best``."""
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self.baseline if self.baseline is not None else math.inf if self.mode == "min" else -math.inf
        self.best_epoch = 0
        self.best_weights = None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            raise ValueError(f"EarlyStopping: monitor {self.monitor!r} is not in the logs; available: {', '.join(logs or {})}")
        if epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self._improves(current, self.best):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        elif self.wait >= self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping (best {self.monitor} {self.best:.4f} at epoch {self.best_epoch + 1})")


class ModelCheckpoint(Callback):
    """Saves the model after each epoch to ``filepath`` (formatted with ``epoch`` and the
    logs, e.g. 'model-{epoch:02d}-{val_loss:.3f}.safetensors'); with ``save_best_only``
    only when ``monitor`` improves."""

    writes_files = True

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, mode="auto"):
        self.filepath, self.monitor, self.verbose, self.save_best_only = os.fspath(filepath), monitor, verbose, save_best_only
        self.mode = _mode_for(monitor, mode)
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                raise ValueError(f"ModelCheckpoint: monitor {self.monitor!r} is not in the logs; available: {', '.join(logs)}")
            better = self.best is None or (current < self.best if self.mode == "min" else current > self.best)
            if not better:
                return
            self.best = current
        self.model.save(path)
        if self.verbose:
            print(f"Epoch {epoch + 1}: saved model to {path}")


class LearningRateScheduler(Callback):
    """Sets the optimizer's learning rate at each epoch's start to ``schedule(epoch, lr)``
    (or ``schedule(epoch)``), and logs it as 'learning_rate'."""

    def __init__(self, schedule, verbose=0):
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        current = float(self.model.optimizer.learning_rate)
        try:
            rate = self.schedule(epoch, current)
        except TypeError:
            rate = self.schedule(epoch)
        rate = float(rate)
        if not math.isfinite(rate):
            raise ValueError(f"LearningRateScheduler: schedule returned a non-finite learning rate {rate} at epoch {epoch}")
        self.model.optimizer.learning_rate = rate
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {rate:g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Writes one CSV row per epoch: the epoch, then every log in sorted key order."""

    writes_files = True

    def __init__(self, filename, separator=",", append=False):
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self.file = self.writer = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self.file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None
        self.header_written = has_rows

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        keys = sorted(logs)
        if self.writer is None:
            self.writer = csv.writer(self.file, delimiter=self.separator)
            if not self.header_written:
                self.writer.writerow(["epoch", *keys])
        self.writer.writerow([epoch, *(logs[key] for key in keys)])
        self.file.flush()

    def on_train_end(self, logs=None):
        if self.file is not None:
            self.file.close()
            self.file = None


class TerminateOnNaN(Callback):
    """Stops training at the first batch whose loss is NaN or Inf."""

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            print(f"Batch {batch}: invalid loss {loss}, terminating training")
            self.model.stop_training = True
