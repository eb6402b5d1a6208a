"""Making new layers and models via subclassing (keras.io/guides/making_new_layers_and_models_via_subclassing).
The first layers write ``inputs @ self.w``, valid Keras code too; the guide's own ``ops`` versions follow."""
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


def test_a_layer_with_weights_made_in_init_computes_x_w_plus_b():
    x = np.ones((2, 2), dtype="float32")
    linear_layer = Linear(4, 2)
    y = linear_layer(x)
    assert tuple(y.shape) == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    expected = x @ linear_layer.get_weights()[0] + linear_layer.get_weights()[1]
    np.testing.assert_allclose(keras.Sequential([linear_layer]).predict(x, verbose=0), expected, rtol=1e-6)


def test_a_non_trainable_weight_is_listed_apart():
    class WithCounter(keras.layers.Layer):
        def __init__(self, input_dim):
            super().__init__()
            self.total = self.add_weight(initializer="zeros", shape=(input_dim,), trainable=False)

    layer = WithCounter(2)
    assert len(layer.weights) == 1
    assert len(layer.non_trainable_weights) == 1
    assert layer.trainable_weights == []


def test_weights_are_created_lazily_on_the_first_call():
    linear_layer = LazyLinear(32)
    assert linear_layer.weights == []
    linear_layer(np.ones((2, 2), dtype="float32"))
    assert [tuple(w.shape) for w in linear_layer.weights] == [(2, 32), (32,)]


def test_layers_assigned_as_attributes_are_tracked_recursively():
    mlp = MLPBlock()
    y = mlp(np.ones(shape=(3, 64), dtype="float32"))
    assert tuple(y.shape) == (3, 1)
    assert len(mlp.weights) == 6
    assert len(mlp.trainable_weights) == 6


def test_a_regularized_layer_adds_its_penalty_to_the_training_loss():
    inputs = keras.Input(shape=(3,))
    outputs = OuterLayerWithKernelRegularizer()(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.random((8, 3)).astype("float32"), rng.random((8, 32)).astype("float32")
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    mse = np.mean((model.predict(x, verbose=0) - y) ** 2)
    penalty = 1e-3 * np.sum(model.get_weights()[0] ** 2)
    np.testing.assert_allclose(history.history["loss"][0], mse + penalty, rtol=1e-4)


def test_get_config_round_trips_a_custom_layer():
    layer = LazyLinear(64, name="my_linear")
    config = layer.get_config()
    assert config["units"] == 64 and config["name"] == "my_linear"
    new_layer = LazyLinear.from_config(config)
    assert new_layer.units == 64 and new_layer.name == "my_linear"


def test_a_layer_with_a_training_argument_behaves_differently_in_fit_and_predict():
    class NoisyInTraining(keras.layers.Layer):
        def call(self, inputs, training=None):
            if training:
                return inputs * 0.0
            return inputs

    inputs = keras.Input(shape=(2,))
    outputs = keras.layers.Dense(1, kernel_initializer="ones")(NoisyInTraining()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    x, y = np.ones((4, 2), dtype="float32"), np.zeros((4, 1), dtype="float32")
    assert model.fit(x, y, epochs=1, verbose=0).history["loss"][0] == 0.0
    np.testing.assert_allclose(model.predict(x, verbose=0), 2.0)


def test_a_model_subclass_trains_with_fit_and_saves_its_weights(tmp_path):
    class ResNetLike(keras.Model):
        def __init__(self, num_classes=3):
            super().__init__()
            self.block_1 = MLPBlock()
            self.classifier = keras.layers.Dense(num_classes)

        def call(self, inputs):
            return self.classifier(self.block_1(inputs))

    model = ResNetLike()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x, y = rng.random((32, 5)).astype("float32"), rng.integers(0, 3, size=32)
    history = model.fit(x, y, batch_size=8, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(model.trainable_weights) == 8
    path = str(tmp_path / "resnet_like.weights.h5")
    model.save_weights(path)
    twin = ResNetLike()
    twin(x[:1])
    twin.load_weights(path)
    np.testing.assert_allclose(twin.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)


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
