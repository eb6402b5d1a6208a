"""The functional API guide: the parts that use keras.ops."""
import numpy as np

import chainrule as keras
from chainrule import layers, ops


class CustomDense(layers.Layer):
    def __init__(self, units=32):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b

    def get_config(self):
        return {"units": self.units}


def test_a_custom_layer_with_get_config_rebuilds_with_custom_objects():
    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    model = keras.Model(inputs, outputs)
    config = model.get_config()
    new_model = keras.Model.from_config(config, custom_objects={"CustomDense": CustomDense})
    x = np.ones((2, 4), "float32")
    assert new_model.predict(x, verbose=0).shape == (2, 10)
    assert new_model.count_params() == 4 * 10 + 10


class CustomRNN(layers.Layer):
    def __init__(self):
        super().__init__()
        self.units = 8
        self.projection_1 = layers.Dense(units=self.units, activation="tanh")
        self.projection_2 = layers.Dense(units=self.units, activation="tanh")
        self.classifier = layers.Dense(1)

    def call(self, inputs):
        outputs = []
        state = ops.zeros(shape=(inputs.shape[0], self.units))
        for t in range(inputs.shape[1]):
            x = inputs[:, t, :]
            h = self.projection_1(x)
            y = h + self.projection_2(state)
            state = y
            outputs.append(y)
        features = ops.stack(outputs, axis=1)
        return self.classifier(features)


def test_a_subclassed_rnn_inside_a_functional_model_with_a_fixed_batch_size():
    inputs = keras.Input(batch_shape=(4, 5, 3))
    x = layers.Conv1D(8, 3, padding="same")(inputs)
    outputs = CustomRNN()(x)
    model = keras.Model(inputs, outputs)
    assert model.predict(np.zeros((4, 5, 3), "float32"), verbose=0).shape == (4, 5, 1)
    assert len(model.trainable_weights) == 2 + 6
