"""chainrule against Keras 3 on JAX: the same model, Keras' initial weights copied into chainrule, trained
the same way (batch 8, shuffle=False, float32), must end with the same weights within float32 rounding."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
import chainrule  # noqa: E402

pytestmark = pytest.mark.keras_oracle

RTOL, ATOL = 1e-4, 1e-5


def mlp(lib):
    return lib.Sequential([lib.Input(shape=(8,)), lib.layers.Dense(16, activation="relu"),
                           lib.layers.Dense(3, activation="softmax")])


def conv1d(lib):
    return lib.Sequential([lib.Input(shape=(10, 2)), lib.layers.Conv1D(4, 3, activation="relu"),
                           lib.layers.Flatten(), lib.layers.Dense(1)])


def gru(lib):
    return lib.Sequential([lib.Input(shape=(5, 3)), lib.layers.GRU(4), lib.layers.Dense(1)])


def batch_norm(lib):
    return lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(8, use_bias=False), lib.layers.BatchNormalization(),
                           lib.layers.Activation("relu"), lib.layers.Dense(1)])


def lstm(lib):
    return lib.Sequential([lib.Input(shape=(5, 3)), lib.layers.LSTM(4, return_sequences=True)])


def bidirectional_gru(lib):
    return lib.Sequential([lib.Input(shape=(5, 3)), lib.layers.Bidirectional(lib.layers.GRU(4))])


def data(kind, count=32, seed=0):
    rng = np.random.default_rng(seed)
    shapes = {"mlp": (8,), "conv1d": (10, 2), "gru": (5, 3), "batch_norm": (6,)}
    x = rng.normal(size=(count, *shapes[kind])).astype("float32")
    if kind == "mlp":
        return x, rng.integers(0, 3, size=count)
    return x, rng.normal(size=(count, 1)).astype("float32")


OPTIMIZERS = {"sgd": lambda lib: lib.optimizers.SGD(learning_rate=0.05),
              "adam": lambda lib: lib.optimizers.Adam(learning_rate=0.01)}
TRAINED = {"mlp": (mlp, "sparse_categorical_crossentropy"), "conv1d": (conv1d, "mse"), "gru": (gru, "mse"),
           "batch_norm": (batch_norm, "mse")}


def twins(build):
    reference = build(keras)
    ours = build(chainrule)
    ours.set_weights(reference.get_weights())
    return reference, ours


def assert_same_weights(reference, ours):
    for index, (expected, actual) in enumerate(zip(reference.get_weights(), ours.get_weights())):
        np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=f"weight {index}")


@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
@pytest.mark.parametrize("kind", sorted(TRAINED))
def test_training_ends_with_the_weights_keras_ends_with(kind, optimizer):
    build, loss = TRAINED[kind]
    reference, ours = twins(build)
    for model, lib in ((reference, keras), (ours, chainrule)):
        model.compile(optimizer=OPTIMIZERS[optimizer](lib), loss=loss)
    x, y = data(kind)
    reference_history = reference.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    our_history = ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    assert len(ours.get_weights()) == len(reference.get_weights())
    assert_same_weights(reference, ours)
    np.testing.assert_allclose(our_history.history["loss"], reference_history.history["loss"], rtol=1e-4)


@pytest.mark.parametrize("build", [lstm, bidirectional_gru])
def test_recurrent_predictions_equal_keras_given_the_same_weights(build):
    reference, ours = twins(build)
    x = np.random.default_rng(1).normal(size=(4, 5, 3)).astype("float32")
    np.testing.assert_allclose(ours.predict(x, verbose=0), np.asarray(reference.predict(x, verbose=0)),
                               rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("lib", [keras, chainrule], ids=["keras", "chainrule"])
def test_bidirectional_refuses_a_layer_that_already_goes_backwards_as_keras_3_does(lib):
    with pytest.raises(ValueError, match="go_backwards"):
        lib.layers.Bidirectional(lib.layers.LSTM(3, go_backwards=True))
