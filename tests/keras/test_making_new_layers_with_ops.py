"""Making new layers and models via subclassing (keras.io/guides/making_new_layers_and_models_via_subclassing).
The guide writes ``ops.matmul(inputs, self.w)``; until chainrule has keras.ops these layers use ``inputs @ self.w``,
which is valid Keras code too (the ops versions are in tests/keras_pending)."""
import numpy as np

import chainrule as keras


class Linear(keras.layers.Layer):
    def __init__(self, units=32, input_dim=32):
        super().__init__()
        self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return inputs @ self.w + self.b


class LazyLinear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return inputs @ self.w + self.b

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units})
        return config


class MLPBlock(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(1)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = keras.activations.relu(x)
        x = self.linear_2(x)
        x = keras.activations.relu(x)
        return self.linear_3(x)


class OuterLayerWithKernelRegularizer(keras.layers.Layer):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(32, kernel_regularizer=keras.regularizers.l2(1e-3))

    def call(self, inputs):
        return self.dense(inputs)


def test_a_sublayers_kernel_regularizer_shows_in_losses():
    layer = OuterLayerWithKernelRegularizer()
    layer(np.zeros((1, 1), dtype="float32"))
    assert len(layer.losses) == 1
    kernel = layer.dense.get_weights()[0]
    np.testing.assert_allclose(float(np.array(layer.losses[0])), 1e-3 * np.sum(kernel ** 2), rtol=1e-5)


def test_the_guides_ops_layers_accumulate_and_add_losses():
    from chainrule import ops

    class ComputeSum(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

        def call(self, inputs):
            self.total.assign_add(ops.sum(inputs, axis=0))
            return self.total

    my_sum = ComputeSum(2)
    x = np.ones((2, 2), dtype="float32")
    my_sum(x)
    np.testing.assert_allclose(np.array(my_sum(x)), [4.0, 4.0])

    class ActivityRegularizationLayer(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super().__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * ops.mean(inputs))
            return inputs

    layer = ActivityRegularizationLayer()
    layer(np.ones((1, 1), dtype="float32"))
    layer(np.ones((1, 1), dtype="float32"))
    assert len(layer.losses) == 1


def test_a_layer_with_a_training_argument_uses_keras_random_dropout():
    from chainrule import random

    class CustomDropout(keras.layers.Layer):
        def __init__(self, rate, **kwargs):
            super().__init__(**kwargs)
            self.rate = rate
            self.seed_generator = random.SeedGenerator(1337)

        def call(self, inputs, training=None):
            if training:
                return random.dropout(inputs, rate=self.rate, seed=self.seed_generator)
            return inputs

    layer = CustomDropout(0.5)
    x = np.ones((4, 8), dtype="float32")
    np.testing.assert_array_equal(np.array(layer(x)), x)
    assert set(np.unique(np.array(layer(x, training=True)))) <= {0.0, 2.0}
