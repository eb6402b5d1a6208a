"""The guide to writing your own callbacks (keras.io/guides/writing_your_own_callbacks)."""
import math

import numpy as np

import chainrule as keras

TRAIN_KEYS = ["loss", "mean_absolute_error"]


def get_model():
    model = keras.Sequential()
    model.add(keras.layers.Dense(1))
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=0.1), loss="mean_squared_error",
                  metrics=["mean_absolute_error"])
    return model


def mnist_like(count, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((count, 784)).astype("float32")
    y = rng.integers(0, 10, size=count).astype("float32")
    return x, y


class RecordingCallback(keras.callbacks.Callback):
    """Every hook of the guide's CustomCallback, recording (hook, sorted log keys) instead of printing."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def record(self, hook, logs):
        self.calls.append((hook, sorted((logs or {}).keys())))

    def on_train_begin(self, logs=None):
        self.record("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self.record("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.record("on_epoch_begin", logs)

    def on_epoch_end(self, epoch, logs=None):
        self.record("on_epoch_end", logs)

    def on_test_begin(self, logs=None):
        self.record("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self.record("on_test_end", logs)

    def on_predict_begin(self, logs=None):
        self.record("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self.record("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        self.record("on_train_batch_begin", logs)

    def on_train_batch_end(self, batch, logs=None):
        self.record("on_train_batch_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self.record("on_test_batch_begin", logs)

    def on_test_batch_end(self, batch, logs=None):
        self.record("on_test_batch_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self.record("on_predict_batch_begin", logs)

    def on_predict_batch_end(self, batch, logs=None):
        self.record("on_predict_batch_end", logs)


def hooks(calls):
    return [hook for hook, _ in calls]


def test_fit_calls_the_hooks_in_order_with_the_guides_logs():
    model = get_model()
    x, y = mnist_like(32)
    callback = RecordingCallback()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_split=0.5, callbacks=[callback])
    assert hooks(callback.calls) == (
        ["on_train_begin", "on_epoch_begin"]
        + ["on_train_batch_begin", "on_train_batch_end"] * 2
        + ["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 2 + ["on_test_end"]
        + ["on_epoch_end", "on_train_end"])
    logs = dict(callback.calls)
    assert logs["on_train_batch_end"] == TRAIN_KEYS
    assert logs["on_test_batch_end"] == TRAIN_KEYS
    assert logs["on_epoch_end"] == TRAIN_KEYS + ["val_loss", "val_mean_absolute_error"]


def test_evaluate_calls_the_test_hooks_with_loss_and_metric_logs():
    model = get_model()
    x, y = mnist_like(32)
    callback = RecordingCallback()
    model.evaluate(x, y, batch_size=8, verbose=0, callbacks=[callback])
    assert hooks(callback.calls) == (["on_test_begin"] + ["on_test_batch_begin", "on_test_batch_end"] * 4
                                     + ["on_test_end"])
    assert dict(callback.calls)["on_test_end"] == TRAIN_KEYS


def test_predict_calls_the_predict_hooks_with_the_outputs():
    model = get_model()
    x, _ = mnist_like(32)
    callback = RecordingCallback()
    model.predict(x, batch_size=8, verbose=0, callbacks=[callback])
    assert hooks(callback.calls) == (["on_predict_begin"] + ["on_predict_batch_begin", "on_predict_batch_end"] * 4
                                     + ["on_predict_end"])
    assert dict(callback.calls)["on_predict_batch_end"] == ["outputs"]


class LossAndErrorPrintingCallback(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.lines = []

    def on_train_batch_end(self, batch, logs=None):
        self.lines.append(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_test_batch_end(self, batch, logs=None):
        self.lines.append(f"Up to batch {batch}, the average loss is {logs['loss']:7.2f}.")

    def on_epoch_end(self, epoch, logs=None):
        self.lines.append(f"The average loss for epoch {epoch} is {logs['loss']:7.2f} "
                          f"and mean absolute error is {logs['mean_absolute_error']:7.2f}.")


def test_logs_carry_the_running_loss_and_the_epoch_metrics():
    model = get_model()
    x, y = mnist_like(40)
    callback = LossAndErrorPrintingCallback()
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[callback])
    batches = math.ceil(40 / 16)
    assert len(callback.lines) == 2 * (batches + 1)
    assert callback.lines[batches].startswith("The average loss for epoch 0 is")
    assert f"{history.history['loss'][1]:7.2f}" in callback.lines[-1]
    assert f"{history.history['mean_absolute_error'][1]:7.2f}" in callback.lines[-1]
    callback.lines.clear()
    model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[callback])
    assert len(callback.lines) == batches


class EarlyStoppingAtMinLoss(keras.callbacks.Callback):
    """Stop training when the loss is at its min, i.e. the loss stops decreasing; keep the best weights."""

    def __init__(self, patience=0):
        super().__init__()
        self.patience = patience
        self.best_weights = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf

    def on_epoch_end(self, epoch, logs=None):
        current = logs.get("loss")
        if np.less(current, self.best):
            self.best = current
            self.wait = 0
            self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True
                self.model.set_weights(self.best_weights)


def test_a_callback_stops_training_and_restores_the_best_weights():
    model = get_model()
    x, y = mnist_like(32)
    callback = EarlyStoppingAtMinLoss()
    history = model.fit(x, y, batch_size=8, epochs=30, verbose=0, callbacks=[callback])
    losses = history.history["loss"]
    assert callback.stopped_epoch == len(losses) - 1 < 29
    assert losses[-1] >= min(losses[:-1]) == callback.best
    for kept, best in zip(model.get_weights(), callback.best_weights):
        np.testing.assert_array_equal(kept, best)


class CustomLearningRateScheduler(keras.callbacks.Callback):
    def __init__(self, schedule):
        super().__init__()
        self.schedule = schedule
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        if not hasattr(self.model.optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        lr = float(np.array(self.model.optimizer.learning_rate))
        scheduled_lr = self.schedule(epoch, lr)
        self.model.optimizer.learning_rate = scheduled_lr
        self.seen.append(lr)


LR_SCHEDULE = [(3, 0.05), (6, 0.01), (9, 0.005), (12, 0.001)]


def lr_schedule(epoch, lr):
    if epoch < LR_SCHEDULE[0][0] or epoch > LR_SCHEDULE[-1][0]:
        return lr
    for i in range(len(LR_SCHEDULE)):
        if epoch == LR_SCHEDULE[i][0]:
            return LR_SCHEDULE[i][1]
    return lr


def test_a_callback_sets_the_optimizers_learning_rate_each_epoch():
    model = get_model()
    x, y = mnist_like(16)
    callback = CustomLearningRateScheduler(lr_schedule)
    model.fit(x, y, batch_size=8, epochs=8, verbose=0, callbacks=[callback])
    np.testing.assert_allclose(callback.seen, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.01], rtol=1e-6)
    assert float(np.array(model.optimizer.learning_rate)) == np.float32(0.01)


def test_the_callback_sees_the_model_it_trains():
    model = get_model()
    seen = []

    class ModelSeen(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen.append(self.model)

    model.fit(*mnist_like(8), epochs=1, verbose=0, callbacks=[ModelSeen()])
    assert seen == [model]
