"""Bidirectional LSTM on IMDB (keras.io/examples/nlp/bidirectional_lstm_imdb), on random token sequences."""
import numpy as np

import chainrule as keras
from chainrule import layers

max_features = 50
maxlen = 12


def bidirectional_lstm(length=None):
    inputs = keras.Input(shape=(length,), dtype="int32")
    x = layers.Embedding(max_features, 8)(inputs)
    x = layers.Bidirectional(layers.LSTM(4, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(4))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def reviews(count, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, max_features, size=(count, maxlen)).astype("int32")
    y = (np.sum(x < max_features // 2, axis=1) > maxlen // 2).astype("float32")
    return x, y


def test_the_model_has_the_examples_weights():
    model = bidirectional_lstm()
    lstm_1 = 2 * (4 * 4 * (8 + 4) + 4 * 4)
    lstm_2 = 2 * (4 * 4 * (8 + 4) + 4 * 4)
    assert model.count_params() == max_features * 8 + lstm_1 + lstm_2 + (8 + 1)
    assert len(model.trainable_weights) == 1 + 6 + 6 + 2


def test_a_model_on_a_none_length_input_takes_sequences_of_any_length():
    model = bidirectional_lstm()
    for length in (5, 9):
        tokens = np.ones((3, length), dtype="int32")
        assert tuple(model(tokens).shape) == (3, 1)


def test_training_on_fixed_length_reviews_lowers_the_binary_crossentropy():
    model = bidirectional_lstm(length=maxlen)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    x_train, y_train = reviews(48)
    x_val, y_val = reviews(16, seed=1)
    history = model.fit(x_train, y_train, batch_size=16, epochs=3, validation_data=(x_val, y_val), verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    predictions = model.predict(x_val, verbose=0)
    assert predictions.shape == (16, 1) and ((predictions > 0) & (predictions < 1)).all()
