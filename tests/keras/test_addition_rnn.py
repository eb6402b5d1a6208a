"""The addition RNN example (keras.io/examples/nlp/addition_rnn): the decoder half, an LSTM returning
sequences and a per-timestep softmax trained on (n, T, C) one-hot digits (the whole encoder, RepeatVector,
decoder model is in test_examples_utils_and_layers.py)."""
import numpy as np

import chainrule as keras
from chainrule import layers

chars = "0123456789+ "
DIGITS = 2
MAXLEN = DIGITS + 1 + DIGITS


def encode(text, num_rows):
    x = np.zeros((num_rows, len(chars)))
    for i, c in enumerate(text):
        x[i, chars.index(c)] = 1
    return x


def questions(count, seed=0):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 10 ** DIGITS, size=(2, count))
    query = [f"{p}+{q}".ljust(MAXLEN) for p, q in zip(a, b)]
    answer = [str(p + q).ljust(DIGITS + 1) for p, q in zip(a, b)]
    x = np.stack([encode(s, MAXLEN)[: DIGITS + 1] for s in query]).astype("float32")
    y = np.stack([encode(s, DIGITS + 1) for s in answer]).astype("float32")
    return x, y


def decoder():
    model = keras.Sequential()
    model.add(layers.Input((DIGITS + 1, len(chars))))
    model.add(layers.LSTM(16, return_sequences=True))
    model.add(layers.Dense(len(chars), activation="softmax"))
    return model


def test_a_per_timestep_softmax_gives_a_distribution_per_step():
    model = decoder()
    x, _ = questions(4)
    predictions = model.predict(x, verbose=0)
    assert predictions.shape == (4, DIGITS + 1, len(chars))
    np.testing.assert_allclose(predictions.sum(axis=-1), 1.0, rtol=1e-5)


def test_categorical_crossentropy_on_sequences_trains_and_reports_accuracy():
    model = decoder()
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(0.01), metrics=["accuracy"])
    x, y = questions(64)
    history = model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert 0.0 <= history.history["val_accuracy"][-1] <= 1.0


def test_sparse_categorical_crossentropy_on_sequences_equals_the_one_hot_loss():
    x, y = questions(16)
    model = decoder()
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    dense = model.evaluate(x, y, verbose=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    sparse = model.evaluate(x, y.argmax(axis=-1), verbose=0)
    np.testing.assert_allclose(dense, sparse, rtol=1e-5)
    p = model.predict(x, verbose=0)
    by_hand = -np.mean(np.log(np.sum(p * y, axis=-1)))
    np.testing.assert_allclose(dense, by_hand, rtol=1e-4)


def test_decoding_predictions_gives_digit_strings():
    model = decoder()
    x, _ = questions(3)
    preds = np.argmax(model.predict(x, verbose=0), axis=-1)
    guesses = ["".join(chars[i] for i in row) for row in preds]
    assert all(len(g) == DIGITS + 1 and set(g) <= set(chars) for g in guesses)
