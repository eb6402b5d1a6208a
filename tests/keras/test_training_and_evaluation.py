"""The guide to training & evaluation with the built-in methods
(keras.io/guides/training_with_built_in_methods), through ``import chainrule as keras``."""
import math
import os

import numpy as np

import chainrule as keras
from chainrule import layers, ops


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def get_compiled_model():
    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    return model


def mnist_like(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((count, 784)).astype("float32"), rng.integers(0, 10, size=count)


def per_sample_crossentropy(probabilities, y):
    return -np.log(np.clip(probabilities[np.arange(len(y)), y], 1e-7, 1.0))


class ExamplePyDataset(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x = x
        self.y = y
        self.batch_size = batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.batch_size)))

    def __getitem__(self, idx):
        batch_x = self.x[idx * self.batch_size:(idx + 1) * self.batch_size]
        batch_y = self.y[idx * self.batch_size:(idx + 1) * self.batch_size]
        return batch_x, batch_y


def test_fit_with_validation_data_logs_loss_and_metric_per_epoch():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy()])
    x_train, y_train = mnist_like(64)
    x_val, y_val = mnist_like(16, seed=1)
    history = model.fit(x_train, y_train, batch_size=16, epochs=2, validation_data=(x_val, y_val), verbose=0)
    assert history.history.keys() == {"loss", "sparse_categorical_accuracy", "val_loss",
                                      "val_sparse_categorical_accuracy"}
    assert all(len(values) == 2 for values in history.history.values())
    results = model.evaluate(x_val, y_val, batch_size=8, verbose=0)
    assert len(results) == 2
    np.testing.assert_allclose(results[0], history.history["val_loss"][-1], rtol=1e-5)


def test_predict_returns_a_probability_row_per_sample():
    model = get_compiled_model()
    predictions = model.predict(mnist_like(3)[0], verbose=0)
    assert predictions.shape == (3, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1.0, rtol=1e-5)


def test_training_lowers_the_loss():
    model = get_compiled_model()
    x, y = mnist_like(64)
    history = model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_validation_split_holds_out_the_last_samples():
    model = get_compiled_model()
    x, y = mnist_like(50)
    history = model.fit(x, y, batch_size=8, validation_split=0.2, epochs=1, verbose=0)
    loss, _ = model.evaluate(x[40:], y[40:], verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], loss, rtol=1e-5)


def test_a_py_dataset_feeds_fit_and_validation():
    model = get_compiled_model()
    x, y = mnist_like(40)
    train_py_dataset = ExamplePyDataset(x[:32], y[:32], batch_size=8)
    val_py_dataset = ExamplePyDataset(x[32:], y[32:], batch_size=8)
    steps = []

    class CountSteps(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    history = model.fit(train_py_dataset, validation_data=val_py_dataset, epochs=2, verbose=0,
                        callbacks=[CountSteps()])
    assert steps == [0, 1, 2, 3] * 2
    assert len(history.history["val_loss"]) == 2


def test_class_weight_scales_each_samples_loss():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    x, y = mnist_like(16)
    class_weight = {i: 1.0 for i in range(10)}
    class_weight[5] = 2.0
    y[:4] = 5
    history = model.fit(x, y, class_weight=class_weight, batch_size=16, epochs=1, verbose=0)
    losses = per_sample_crossentropy(model.predict(x, verbose=0), y)
    weights = np.where(y == 5, 2.0, 1.0)
    np.testing.assert_allclose(history.history["loss"][0], np.sum(weights * losses) / len(y), rtol=1e-4)


def test_sample_weight_scales_each_samples_loss():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    x, y = mnist_like(16)
    sample_weight = np.ones(shape=(len(y),))
    sample_weight[y == 5] = 2.0
    sample_weight[:3] = 0.0
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=16, epochs=1, verbose=0)
    losses = per_sample_crossentropy(model.predict(x, verbose=0), y)
    np.testing.assert_allclose(history.history["loss"][0], np.sum(sample_weight * losses) / len(y), rtol=1e-4)


def multi_io_model(timesteps):
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(timesteps, 10), name="ts_input")
    x1 = layers.Conv2D(3, 3)(image_input)
    x1 = layers.GlobalMaxPooling2D()(x1)
    x2 = layers.Conv1D(3, 3)(timeseries_input)
    x2 = layers.GlobalMaxPooling1D()(x2)
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    return keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])


def multi_io_data(count=16, timesteps=20, seed=0):
    rng = np.random.default_rng(seed)
    img_data = rng.random(size=(count, 32, 32, 3)).astype("float32")
    ts_data = rng.random(size=(count, timesteps, 10)).astype("float32")
    score_targets = rng.random(size=(count, 1)).astype("float32")
    class_targets = rng.random(size=(count, 5)).astype("float32")
    return img_data, ts_data, score_targets, class_targets


def test_multi_output_losses_and_metrics_are_logged_per_output_name():
    model = multi_io_model(timesteps=20)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"score_output": keras.losses.MeanSquaredError(),
                        "class_output": keras.losses.CategoricalCrossentropy()},
                  metrics={"score_output": [keras.metrics.MeanAbsoluteError()],
                           "class_output": [keras.metrics.CategoricalAccuracy()]},
                  loss_weights={"score_output": 2.0, "class_output": 1.0})
    img_data, ts_data, score_targets, class_targets = multi_io_data()
    history = model.fit({"img_input": img_data, "ts_input": ts_data},
                        {"score_output": score_targets, "class_output": class_targets},
                        batch_size=8, epochs=1, verbose=0)
    assert {"loss", "score_output_loss", "class_output_loss", "score_output_mean_absolute_error",
            "class_output_categorical_accuracy"} <= set(history.history)
    total = 2.0 * history.history["score_output_loss"][0] + history.history["class_output_loss"][0]
    np.testing.assert_allclose(history.history["loss"][0], total, rtol=1e-4)


def test_an_output_with_no_loss_is_not_trained_against():
    model = multi_io_model(timesteps=20)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=[None, keras.losses.CategoricalCrossentropy()])
    img_data, ts_data, score_targets, class_targets = multi_io_data()
    history = model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    score_kernel = model.get_layer("score_output").get_weights()[0]
    model.fit([img_data, ts_data], [score_targets, class_targets], batch_size=8, epochs=1, verbose=0)
    np.testing.assert_array_equal(score_kernel, model.get_layer("score_output").get_weights()[0])


def test_early_stopping_stops_when_val_loss_stops_improving():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="sparse_categorical_crossentropy")
    x, y = mnist_like(32)
    callbacks = [keras.callbacks.EarlyStopping(monitor="val_loss", min_delta=1e-2, patience=2, verbose=0)]
    history = model.fit(x, y, epochs=20, batch_size=16, callbacks=callbacks, validation_split=0.2, verbose=0)
    assert len(history.history["loss"]) == 3


def test_model_checkpoint_saves_the_best_model_each_epoch_it_improves(tmp_path):
    model = get_compiled_model()
    x, y = mnist_like(32)
    callbacks = [keras.callbacks.ModelCheckpoint(filepath=os.path.join(tmp_path, "mymodel_{epoch}.keras"),
                                                 save_best_only=True, monitor="val_loss", verbose=0)]
    history = model.fit(x, y, epochs=2, batch_size=16, callbacks=callbacks, validation_split=0.2, verbose=0)
    val = history.history["val_loss"]
    expected = {"mymodel_1.keras"} | ({"mymodel_2.keras"} if val[1] < val[0] else set())
    assert set(os.listdir(tmp_path)) == expected
    restored = keras.models.load_model(os.path.join(tmp_path, "mymodel_1.keras"))
    assert restored.predict(x[:2], verbose=0).shape == (2, 10)


def test_an_exponential_decay_schedule_drives_the_optimizer():
    initial_learning_rate = 0.1
    lr_schedule = keras.optimizers.schedules.ExponentialDecay(
        initial_learning_rate, decay_steps=2, decay_rate=0.5, staircase=True)
    assert math.isclose(float(lr_schedule(0)), 0.1, rel_tol=1e-6)
    assert math.isclose(float(lr_schedule(3)), 0.05, rel_tol=1e-6)
    assert math.isclose(float(lr_schedule(4)), 0.025, rel_tol=1e-6)
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=lr_schedule),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(*mnist_like(32), batch_size=16, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def custom_mean_squared_error(y_true, y_pred):
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def test_a_loss_function_of_y_true_and_y_pred_trains_the_model():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=custom_mean_squared_error)
    x, y = mnist_like(32)
    y_train_one_hot = ops.one_hot(y, num_classes=10)
    history = model.fit(x, y_train_one_hot, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor


def test_a_loss_subclass_adds_its_regularization_term():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss=CustomMSE())
    x, y = mnist_like(16)
    y_one_hot = np.eye(10, dtype="float32")[y]
    history = model.fit(x, y_one_hot, batch_size=16, epochs=1, verbose=0)
    p = model.predict(x, verbose=0)
    expected = np.mean(np.mean((y_one_hot - p) ** 2, axis=-1) + 0.1 * np.mean((0.5 - p) ** 2, axis=-1))
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-4)


class CategoricalTruePositives(keras.metrics.Metric):
    def __init__(self, name="categorical_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), name="ctp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(y_true, "int32") == ops.cast(y_pred, "int32")
        values = ops.cast(values, "float32")
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            values = ops.multiply(values, sample_weight)
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives.value

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_a_metric_subclass_counts_true_positives_per_epoch():
    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[CategoricalTruePositives()])
    x, y = mnist_like(32)
    history = model.fit(x, y.reshape(-1, 1), batch_size=16, epochs=1, verbose=0)
    assert 0 <= history.history["categorical_true_positives"][0] <= 32


class ActivityRegularizationLayer(layers.Layer):
    def call(self, inputs):
        self.add_loss(ops.sum(inputs) * 0.1)
        return inputs


def test_add_loss_in_call_adds_to_the_training_loss():
    inputs = keras.Input(shape=(784,), name="digits")
    hidden = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = ActivityRegularizationLayer()(hidden)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, name="predictions")(x)
    model = keras.Model(inputs=inputs, outputs=outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x_train, y_train = mnist_like(16)
    total = model.fit(x_train, y_train, batch_size=16, epochs=1, verbose=0).history["loss"][0]
    logits = model.predict(x_train, verbose=0)
    shifted = logits - logits.max(axis=1, keepdims=True)
    crossentropy = np.mean(np.log(np.exp(shifted).sum(axis=1)) - shifted[np.arange(16), y_train])
    activity = keras.Model(inputs, hidden).predict(x_train, verbose=0).sum() * 0.1
    np.testing.assert_allclose(total, crossentropy + activity, rtol=1e-4)


class LogisticEndpoint(keras.layers.Layer):
    def __init__(self, name=None):
        super().__init__(name=name)
        self.loss_fn = keras.losses.BinaryCrossentropy(from_logits=True)

    def call(self, targets, logits, sample_weights=None):
        loss = self.loss_fn(targets, logits, sample_weights)
        self.add_loss(loss)
        return ops.softmax(logits)


def test_an_endpoint_layer_trains_a_model_compiled_without_a_loss():
    inputs = keras.Input(shape=(3,), name="inputs")
    targets = keras.Input(shape=(10,), name="targets")
    logits = keras.layers.Dense(10)(inputs)
    predictions = LogisticEndpoint(name="predictions")(targets, logits)
    model = keras.Model(inputs=[inputs, targets], outputs=predictions)
    model.compile(optimizer="adam")
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((3, 3)).astype("float32"), "targets": rng.random((3, 10)).astype("float32")}
    history = model.fit(data, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_a_time_series_input_of_any_length_trains():
    image_input = keras.Input(shape=(32, 32, 3), name="img_input")
    timeseries_input = keras.Input(shape=(None, 10), name="ts_input")
    x1 = layers.GlobalMaxPooling2D()(layers.Conv2D(3, 3)(image_input))
    x2 = layers.GlobalMaxPooling1D()(layers.Conv1D(3, 3)(timeseries_input))
    x = layers.concatenate([x1, x2])
    score_output = layers.Dense(1, name="score_output")(x)
    class_output = layers.Dense(5, name="class_output")(x)
    model = keras.Model(inputs=[image_input, timeseries_input], outputs=[score_output, class_output])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=[keras.losses.MeanSquaredError(), keras.losses.CategoricalCrossentropy()])
    rng = np.random.default_rng(0)
    img_data = rng.random(size=(16, 32, 32, 3)).astype("float32")
    ts_data = rng.random(size=(16, 20, 10)).astype("float32")
    history = model.fit([img_data, ts_data], [rng.random((16, 1)), rng.random((16, 5))], batch_size=8,
                        epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
