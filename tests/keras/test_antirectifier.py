"""The antirectifier example (keras.io/examples/keras_recipes/antirectifier): a layer with ``call(inputs)``
only, in keras.ops, between Dense layers, on 784 random features."""
import numpy as np

import chainrule as keras
from chainrule import layers, ops


class Antirectifier(layers.Layer):
    def __init__(self, initializer="he_normal", **kwargs):
        super().__init__(**kwargs)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        output_dim = input_shape[-1]
        self.kernel = self.add_weight(shape=(output_dim * 2, output_dim), initializer=self.initializer,
                                      name="kernel", trainable=True)

    def call(self, inputs):
        inputs -= ops.mean(inputs, axis=-1, keepdims=True)
        pos = ops.relu(inputs)
        neg = ops.relu(-inputs)
        concatenated = ops.concatenate([pos, neg], axis=-1)
        return ops.matmul(concatenated, self.kernel)

    def get_config(self):
        base_config = super().get_config()
        config = {"initializer": keras.initializers.serialize(self.initializer)}
        return dict(list(base_config.items()) + list(config.items()))


def antirectifier_model():
    return keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(16),
        Antirectifier(),
        layers.Dense(16),
        Antirectifier(),
        layers.Dropout(0.5),
        layers.Dense(10),
    ])


def test_the_antirectifier_computes_the_concatenated_relus_of_the_centred_input_times_its_kernel():
    layer = Antirectifier()
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    y = np.array(layer(x))
    centred = x - x.mean(axis=-1, keepdims=True)
    expected = np.concatenate([np.maximum(centred, 0), np.maximum(-centred, 0)], axis=-1) @ layer.get_weights()[0]
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)
    assert layer.get_weights()[0].shape == (8, 4)


def test_a_model_with_antirectifiers_trains_and_round_trips_its_config():
    model = antirectifier_model()
    assert model.count_params() == (784 * 16 + 16) + 32 * 16 + (16 * 16 + 16) + 32 * 16 + (16 * 10 + 10)
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=[keras.metrics.SparseCategoricalAccuracy()])
    rng = np.random.default_rng(0)
    x, y = rng.random((64, 784)).astype("float32"), rng.integers(0, 10, size=64)
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    config = Antirectifier().get_config()
    assert Antirectifier.from_config(config).get_config()["initializer"] == config["initializer"]
