"""The training & evaluation guide: the parts that do not run on chainrule yet (keras.ops, a None time axis)."""
import numpy as np

import chainrule as keras
from chainrule import layers, ops


def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def mnist_like(count, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((count, 784)).astype("float32"), rng.integers(0, 10, size=count)


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
