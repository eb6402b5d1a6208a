"""The simple MNIST convnet example (keras.io/examples/vision/mnist_convnet), on 12x12x1 random images."""
import numpy as np

import chainrule as keras
from chainrule import layers

num_classes = 10
input_shape = (12, 12, 1)


def convnet():
    return keras.Sequential([
        keras.Input(shape=input_shape),
        layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Conv2D(16, kernel_size=(3, 3), activation="relu"),
        layers.MaxPooling2D(pool_size=(2, 2)),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(num_classes, activation="softmax"),
    ])


def images(count, seed=0):
    patterns = (np.random.default_rng(42).random((num_classes, 12, 12)) > 0.5).astype("float32")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, size=count)
    x = (0.8 * patterns[labels] + 0.2 * rng.random((count, 12, 12))).astype("float32")
    x = np.expand_dims(x, -1)
    return x, np.eye(num_classes, dtype="float32")[labels]


def test_the_convnet_has_the_examples_layer_shapes():
    model = convnet()
    assert [tuple(w.shape) for w in model.weights] == [(3, 3, 1, 8), (8,), (3, 3, 8, 16), (16,), (16, 10), (10,)]
    assert model.count_params() == (9 * 8 + 8) + (9 * 8 * 16 + 16) + (16 * 10 + 10)
    assert tuple(model.output_shape) == (None, num_classes)


def test_training_with_categorical_crossentropy_lowers_the_loss_and_reports_accuracy():
    model = convnet()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    x_train, y_train = images(128)
    history = model.fit(x_train, y_train, batch_size=16, epochs=6, validation_split=0.1, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    score = model.evaluate(*images(16, seed=1), verbose=0)
    assert np.isfinite(score[0]) and 0.0 <= score[1] <= 1.0


def test_dropout_is_off_at_inference():
    model = convnet()
    x, _ = images(4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-5)
