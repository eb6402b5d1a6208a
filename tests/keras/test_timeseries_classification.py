"""Time-series classification from scratch (keras.io/examples/timeseries/timeseries_classification_from_scratch):
a fully convolutional network on (n, 40, 1) random series of two classes (FordA has 500 steps)."""
import os

import numpy as np

import chainrule as keras

num_classes = 2


def make_model(input_shape, relu=lambda: keras.layers.Activation("relu")):
    input_layer = keras.layers.Input(input_shape)

    conv1 = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = relu()(conv1)

    conv2 = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = relu()(conv2)

    conv3 = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = relu()(conv3)

    gap = keras.layers.GlobalAveragePooling1D()(conv3)
    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def series(count, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, num_classes, size=count)
    t = np.linspace(0, 4 * np.pi, 40)
    x = np.sin(t[None, :] * (1 + y[:, None])) + 0.3 * rng.normal(size=(count, 40))
    return x.reshape((x.shape[0], x.shape[1], 1)).astype("float32"), y


def test_the_network_has_trainable_and_moving_batch_norm_weights():
    model = make_model(input_shape=(40, 1))
    assert len(model.trainable_weights) == 3 * (2 + 2) + 2
    assert len(model.non_trainable_weights) == 3 * 2
    assert tuple(model.output_shape) == (None, num_classes)


def test_training_with_checkpoint_and_early_stopping_then_reloading_the_best_model(tmp_path):
    model = make_model(input_shape=(40, 1))
    x_train, y_train = series(50)
    path = os.path.join(tmp_path, "best_model.keras")
    callbacks = [
        keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss"),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=50, verbose=0),
    ]
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["sparse_categorical_accuracy"])
    history = model.fit(x_train, y_train, batch_size=8, epochs=4, callbacks=callbacks, validation_split=0.2,
                        verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert set(history.history) == {"loss", "sparse_categorical_accuracy", "val_loss",
                                    "val_sparse_categorical_accuracy"}
    best = keras.models.load_model(path)
    test_loss, test_acc = best.evaluate(*series(16, seed=1), verbose=0)
    assert np.isfinite(test_loss) and 0.0 <= test_acc <= 1.0
    best_epoch = int(np.argmin(history.history["val_loss"]))
    x_val, y_val = x_train[-10:], y_train[-10:]
    np.testing.assert_allclose(best.evaluate(x_val, y_val, verbose=0)[0], history.history["val_loss"][best_epoch],
                               rtol=1e-4)


def test_batch_normalization_moves_its_statistics_only_in_training():
    model = make_model(input_shape=(40, 1))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x, y = series(16)
    before = model.get_weights()
    model.predict(x, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    moving_mean, moving_variance = model.get_weights()[4:6]
    assert moving_mean.shape == (8,) and not np.allclose(moving_mean, 0.0)
    assert not np.allclose(moving_variance, 1.0)
