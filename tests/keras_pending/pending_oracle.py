"""The oracle comparison that does not agree yet: a Dense with a bias right before BatchNormalization,
trained with Adam (see tests/keras/FAILURES.md)."""
import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")
import chainrule  # noqa: E402

pytestmark = pytest.mark.keras_oracle


def batch_norm_after_a_bias(lib):
    return lib.Sequential([lib.Input(shape=(6,)), lib.layers.Dense(8), lib.layers.BatchNormalization(),
                           lib.layers.Activation("relu"), lib.layers.Dense(1)])


def test_adam_on_a_bias_before_batch_normalization_ends_with_the_weights_keras_ends_with():
    reference, ours = batch_norm_after_a_bias(keras), batch_norm_after_a_bias(chainrule)
    ours.set_weights(reference.get_weights())
    reference.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse")
    ours.compile(optimizer=chainrule.optimizers.Adam(learning_rate=0.01), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 6)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    reference.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    ours.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for index, (expected, actual) in enumerate(zip(reference.get_weights(), ours.get_weights())):
        np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5, err_msg=f"weight {index}")
