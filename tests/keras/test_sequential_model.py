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


def test_a_stack_of_layers_maps_3_by_3_to_3_by_4():
    model = three_layers()
    y = model(np.ones((3, 3), dtype="float32"))
    assert tuple(y.shape) == (3, 4)



def test_a_layer_has_no_weights_until_it_sees_an_input():
    layer = layers.Dense(3)
    assert layer.weights == []
    layer(np.ones((1, 4), dtype="float32"))
    assert [tuple(w.shape) for w in layer.weights] == [(4, 3), (3,)]


def test_a_sequential_model_without_input_is_built_by_its_first_call():
    model = three_layers()
    assert model.weights == []
    model(np.ones((1, 4), dtype="float32"))
    assert len(model.weights) == 6
    assert model.count_params() == (4 * 2 + 2) + (2 * 3 + 3) + (3 * 4 + 4)


def test_an_input_object_builds_the_model_at_once_and_is_not_a_layer():
    model = keras.Sequential()
    model.add(keras.Input(shape=(4,)))
    model.add(layers.Dense(2, activation="relu"))
    assert len(model.layers) == 1
    assert len(model.weights) == 2
    assert model.count_params() == 4 * 2 + 2


def test_summary_lists_every_layer_and_the_parameter_count():
    model = keras.Sequential([keras.Input(shape=(250, 250, 3)),
                              layers.Conv2D(32, 5, strides=2, activation="relu"),
                              layers.Conv2D(32, 3, activation="relu"),
                              layers.MaxPooling2D(3)])
    lines = []
    model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
    text = "\n".join(lines)
    assert "conv2d" in text.lower() and "max_pooling2d" in text.lower()
    assert tuple(model.output_shape) == (None, 40, 40, 32)
    assert model.count_params() == (5 * 5 * 3 * 32 + 32) + (3 * 3 * 32 * 32 + 32)


def test_a_convnet_stack_reaches_a_global_pooling_and_classifier():
    model = keras.Sequential([keras.Input(shape=(24, 24, 3)),
                              layers.Conv2D(4, 5, strides=2, activation="relu"),
                              layers.Conv2D(4, 3, activation="relu"),
                              layers.MaxPooling2D(2),
                              layers.GlobalMaxPooling2D(),
                              layers.Dense(10)])
    assert tuple(model.output_shape) == (None, 10)
    assert tuple(model(np.zeros((2, 24, 24, 3), dtype="float32")).shape) == (2, 10)



def test_transfer_learning_freezes_all_layers_but_the_last():
    model = keras.Sequential([keras.Input(shape=(784,)),
                              layers.Dense(8, activation="relu"),
                              layers.Dense(8, activation="relu"),
                              layers.Dense(10)])
    for layer in model.layers[:-1]:
        layer.trainable = False
    assert len(model.trainable_weights) == 2
    assert len(model.non_trainable_weights) == 4
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 784)).astype("float32"), rng.integers(0, 10, size=16)
    frozen = [w.copy() for w in model.get_weights()[:4]]
    last = model.get_weights()[4].copy()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for before, after in zip(frozen, model.get_weights()[:4]):
        np.testing.assert_array_equal(before, after)
    assert not np.allclose(last, model.get_weights()[4])


def test_compile_fit_evaluate_predict_on_a_sequential_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64")
    model = keras.Sequential([keras.Input(shape=(8,)), layers.Dense(16, activation="relu"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 5 and losses[-1] < losses[0]
    loss, accuracy = model.evaluate(x, y, verbose=0)
    assert 0.0 <= accuracy <= 1.0 and loss == pytest.approx(loss)
    assert model.predict(x, verbose=0).shape == (64, 2)


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
