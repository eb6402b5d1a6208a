"""The Sequential model guide (keras.io/guides/sequential_model), through ``import chainrule as keras``."""
import numpy as np
import pytest

import chainrule as keras
from chainrule import layers


def three_layers():
    return keras.Sequential([
        layers.Dense(2, activation="relu", name="layer1"),
        layers.Dense(3, activation="relu", name="layer2"),
        layers.Dense(4, name="layer3"),
    ])


def test_the_sequential_model_equals_calling_its_layers_in_turn():
    model = three_layers()
    x = np.random.default_rng(0).normal(size=(3, 3)).astype("float32")
    y = model(x)
    by_hand = model.layers[2](model.layers[1](model.layers[0](x)))
    np.testing.assert_allclose(np.asarray(y), np.asarray(by_hand), rtol=1e-6)


def test_layers_are_listed_in_order_and_add_and_pop_edit_the_stack():
    model = keras.Sequential(name="my_sequential")
    model.add(layers.Dense(2, activation="relu"))
    model.add(layers.Dense(3, activation="relu"))
    model.add(layers.Dense(4))
    assert model.name == "my_sequential"
    assert len(model.layers) == 3
    model.pop()
    assert len(model.layers) == 2
    assert [layer.units for layer in model.layers] == [2, 3]


def test_feature_extraction_returns_every_layers_output():
    initial_model = keras.Sequential([keras.Input(shape=(250, 250, 3)),
                                      layers.Conv2D(4, 5, strides=2, activation="relu"),
                                      layers.Conv2D(4, 3, activation="relu"),
                                      layers.Conv2D(4, 3, activation="relu")])
    feature_extractor = keras.Model(inputs=initial_model.inputs,
                                    outputs=[layer.output for layer in initial_model.layers])
    features = feature_extractor(np.ones((1, 250, 250, 3), dtype="float32"))
    assert [tuple(f.shape) for f in features] == [(1, 123, 123, 4), (1, 121, 121, 4), (1, 119, 119, 4)]


def test_feature_extraction_from_one_named_intermediate_layer():
    initial_model = keras.Sequential([keras.Input(shape=(32, 32, 3)),
                                      layers.Conv2D(4, 5, strides=2, activation="relu"),
                                      layers.Conv2D(4, 3, activation="relu", name="my_intermediate_layer"),
                                      layers.Conv2D(4, 3, activation="relu")])
    feature_extractor = keras.Model(inputs=initial_model.inputs,
                                    outputs=initial_model.get_layer(name="my_intermediate_layer").output)
    assert tuple(feature_extractor(np.ones((1, 32, 32, 3), dtype="float32")).shape) == (1, 12, 12, 4)
