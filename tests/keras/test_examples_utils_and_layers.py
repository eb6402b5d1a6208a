"""The keras.io examples' parts that do not run on chainrule yet (each named in tests/keras/FAILURES.md)."""
import numpy as np

import chainrule as keras
from chainrule import layers


def test_mnist_convnet_to_categorical_one_hot_encodes_the_labels():
    y = keras.utils.to_categorical(np.array([0, 2, 9]), 10)
    assert y.shape == (3, 10)
    np.testing.assert_array_equal(y.argmax(axis=1), [0, 2, 9])


def test_timeseries_fcn_with_relu_layers_and_reduce_lr_on_plateau():
    input_layer = keras.layers.Input((40, 1))
    x = input_layer
    for _ in range(3):
        x = keras.layers.Conv1D(filters=8, kernel_size=3, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.ReLU()(x)
    gap = keras.layers.GlobalAveragePooling1D()(x)
    output_layer = keras.layers.Dense(2, activation="softmax")(gap)
    model = keras.models.Model(inputs=input_layer, outputs=output_layer)
    model.compile(optimizer=keras.optimizers.Adam(0.001), loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    rng = np.random.default_rng(0)
    x_train, y_train = rng.normal(size=(20, 40, 1)).astype("float32"), rng.integers(0, 2, size=20)
    reduce = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=0.0001,
                                               min_delta=10.0)
    model.fit(x_train, y_train, batch_size=10, epochs=4, validation_data=(x_train[:4], y_train[:4]),
              callbacks=[reduce], verbose=0)
    assert float(np.array(model.optimizer.learning_rate)) < 0.001


def test_validation_split_holds_out_the_last_fraction_rounded_up_as_keras_does():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(48, 3)).astype("float32"), rng.normal(size=(48, 1)).astype("float32")
    history = model.fit(x, y, batch_size=8, epochs=1, validation_split=0.2, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][0], model.evaluate(x[38:], y[38:], verbose=0), rtol=1e-5)


def test_imdb_pad_sequences_truncates_and_pads_in_front():
    x = keras.utils.pad_sequences([[1, 2, 3], [4, 5, 6, 7, 8]], maxlen=4)
    np.testing.assert_array_equal(x, [[0, 1, 2, 3], [5, 6, 7, 8]])


def test_imdb_bidirectional_lstm_trains_on_a_none_length_input():
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(50, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x_train, y_train = rng.integers(1, 50, size=(32, 12)), rng.integers(0, 2, size=32).astype("float32")
    history = model.fit(x_train, y_train, batch_size=16, epochs=2, validation_data=(x_train, y_train), verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_addition_rnn_encoder_repeat_vector_decoder():
    chars, digits = "0123456789+ ", 2
    maxlen = digits + 1 + digits
    model = keras.Sequential()
    model.add(layers.Input((maxlen, len(chars))))
    model.add(layers.LSTM(16))
    model.add(layers.RepeatVector(digits + 1))
    model.add(layers.LSTM(16, return_sequences=True))
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    x = np.eye(len(chars), dtype=bool)[rng.integers(0, len(chars), size=(32, maxlen))]
    y = np.eye(len(chars), dtype=bool)[rng.integers(0, len(chars), size=(32, digits + 1))]
    history = model.fit(x, y, batch_size=16, epochs=3, validation_data=(x, y), verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x[:2], verbose=0).shape == (2, digits + 1, len(chars))


def test_imbalanced_classification_confusion_counts():
    model = keras.Sequential([keras.Input(shape=(29,)), keras.layers.Dense(1, activation="sigmoid")])
    metrics = [keras.metrics.FalseNegatives(name="fn"), keras.metrics.FalsePositives(name="fp"),
               keras.metrics.TrueNegatives(name="tn"), keras.metrics.TruePositives(name="tp"),
               keras.metrics.Precision(name="precision"), keras.metrics.Recall(name="recall")]
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=metrics)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 29)).astype("float32")
    y = (x[:, :1] > 1.0).astype("float32")
    _, fn, fp, tn, tp, precision, recall = model.evaluate(x, y, verbose=0)
    predicted, actual = model.predict(x, verbose=0) > 0.5, y > 0.5
    assert (fn, fp, tn, tp) == (np.sum(~predicted & actual), np.sum(predicted & ~actual),
                                np.sum(~predicted & ~actual), np.sum(predicted & actual))
    assert fn + fp + tn + tp == 64
