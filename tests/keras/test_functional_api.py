"""The functional API guide (keras.io/guides/functional_api), through ``import chainrule as keras``."""
import numpy as np

import chainrule as keras
from chainrule import layers


def mnist_model():
    inputs = keras.Input(shape=(784,))
    x = layers.Dense(64, activation="relu")(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")


def mnist_like(count, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((count, 784)).astype("float32")
    y = rng.integers(0, 10, size=count)
    return x, y


def ticket_classifier(num_tags=12, num_words=50, num_departments=4, title_length=None, body_length=None):
    title_input = keras.Input(shape=(title_length,), name="title")
    body_input = keras.Input(shape=(body_length,), name="body")
    tags_input = keras.Input(shape=(num_tags,), name="tags")
    title_features = layers.Embedding(num_words, 8)(title_input)
    body_features = layers.Embedding(num_words, 8)(body_input)
    title_features = layers.LSTM(8)(title_features)
    body_features = layers.LSTM(4)(body_features)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(num_departments, name="department")(x)
    return keras.Model(inputs=[title_input, body_input, tags_input], outputs=[priority_pred, department_pred])


def ticket_data(count=32, num_tags=12, num_words=50, num_departments=4, seed=0):
    rng = np.random.default_rng(seed)
    title_data = rng.integers(0, num_words, size=(count, 10))
    body_data = rng.integers(0, num_words, size=(count, 20))
    tags_data = rng.integers(0, 2, size=(count, num_tags)).astype("float32")
    priority_targets = rng.random(size=(count, 1)).astype("float32")
    dept_targets = np.eye(num_departments, dtype="float32")[rng.integers(0, num_departments, size=count)]
    return title_data, body_data, tags_data, priority_targets, dept_targets


def test_the_mnist_model_has_the_guides_shapes_and_parameter_count():
    model = mnist_model()
    assert model.name == "mnist_model"
    assert [tuple(w.shape) for w in model.weights] == [(784, 64), (64,), (64, 64), (64,), (64, 10), (10,)]
    assert model.count_params() == 55050
    assert tuple(model.output_shape) == (None, 10)


def test_training_with_validation_split_logs_training_and_validation_curves():
    model = mnist_model()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    x_train, y_train = mnist_like(80)
    history = model.fit(x_train, y_train, batch_size=16, epochs=2, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(curve) == 2 for curve in history.history.values())
    test_scores = model.evaluate(*mnist_like(16, seed=1), verbose=0)
    assert len(test_scores) == 2 and np.isfinite(test_scores[0]) and 0.0 <= test_scores[1] <= 1.0


def test_training_lowers_the_loss_on_a_fixed_batch():
    model = mnist_model()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(1e-3))
    x, y = mnist_like(32)
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert model.evaluate(x, y, verbose=0) < before


def test_save_and_load_model_give_the_same_predictions(tmp_path):
    model = mnist_model()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop(), metrics=["accuracy"])
    x, y = mnist_like(32)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "my_model.keras")
    model.save(path)
    del model
    model = keras.models.load_model(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0), rtol=1e-6)


def test_save_and_load_model_keep_the_trained_weights(tmp_path):
    model = mnist_model()
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.RMSprop())
    x, y = mnist_like(32)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "my_model.keras")
    model.save(path)
    reloaded = keras.models.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), reloaded.predict(x, verbose=0), rtol=1e-6)
    for a, b in zip(model.get_weights(), reloaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_one_graph_of_layers_gives_an_encoder_model():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(4, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Conv2D(4, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    assert tuple(x.shape) == (None, 4, 4, 4)
    assert tuple(encoder_output.shape) == (None, 4)
    assert encoder.count_params() == (9 * 4 + 4) + (9 * 4 * 8 + 8) + (9 * 8 * 8 + 8) + (9 * 8 * 4 + 4)
    assert encoder.predict(np.zeros((2, 28, 28, 1), "float32"), verbose=0).shape == (2, 4)


def test_a_toy_resnet_with_skip_connections_trains():
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(4, 3, activation="relu")(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(8, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(8, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs, outputs, name="toy_resnet")
    assert tuple(block_1_output.shape) == (None, 9, 9, 8)
    assert len(model.trainable_weights) == 18
    rng = np.random.default_rng(0)
    x_train = rng.random((16, 32, 32, 3)).astype("float32")
    y_train = np.eye(10, dtype="float32")[rng.integers(0, 10, size=16)]
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=keras.losses.CategoricalCrossentropy(from_logits=True), metrics=["acc"])
    history = model.fit(x_train, y_train, batch_size=8, epochs=1, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    assert np.isfinite(history.history["loss"][0])


def test_layer_outputs_of_a_functional_model_give_a_feature_extractor():
    inputs = keras.Input(shape=(16,))
    x = layers.Dense(8, activation="relu", name="first")(inputs)
    x = layers.Dense(4, activation="relu", name="second")(x)
    outputs = layers.Dense(2, name="third")(x)
    model = keras.Model(inputs, outputs)
    features_list = [model.get_layer(name).output for name in ("first", "second", "third")]
    feat_extraction_model = keras.Model(inputs=model.input, outputs=features_list)
    features = feat_extraction_model.predict(np.ones((3, 16), "float32"), verbose=0)
    assert [f.shape for f in features] == [(3, 8), (3, 4), (3, 2)]
    np.testing.assert_allclose(features[-1], model.predict(np.ones((3, 16), "float32"), verbose=0), rtol=1e-6)


def test_an_ensemble_of_models_called_like_layers_averages_them():
    def get_model():
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(128,))
    y1, y2, y3 = model1(inputs), model2(inputs), model3(inputs)
    outputs = layers.average([y1, y2, y3])
    ensemble_model = keras.Model(inputs=inputs, outputs=outputs)
    assert len(ensemble_model.weights) == 6
    x = np.random.default_rng(0).normal(size=(4, 128)).astype("float32")
    mean = (model1.predict(x, verbose=0) + model2.predict(x, verbose=0) + model3.predict(x, verbose=0)) / 3
    np.testing.assert_allclose(ensemble_model.predict(x, verbose=0), mean, rtol=1e-5, atol=1e-6)


def test_a_nested_model_trains_inside_the_outer_one():
    inner_input = keras.Input(shape=(8,))
    inner = keras.Model(inner_input, layers.Dense(4, activation="relu")(inner_input), name="inner")
    outer_input = keras.Input(shape=(8,))
    outer = keras.Model(outer_input, layers.Dense(1)(inner(outer_input)))
    outer.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 8)).astype("float32"), rng.normal(size=(32, 1)).astype("float32")
    before = inner.get_weights()[0].copy()
    outer.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(before, inner.get_weights()[0])


def test_a_multi_input_multi_output_model_trains_with_loss_lists_and_weights():
    model = ticket_classifier()
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss=[keras.losses.BinaryCrossentropy(from_logits=True),
                        keras.losses.CategoricalCrossentropy(from_logits=True)],
                  loss_weights=[1.0, 0.2])
    title_data, body_data, tags_data, priority_targets, dept_targets = ticket_data()
    history = model.fit({"title": title_data, "body": body_data, "tags": tags_data},
                        {"priority": priority_targets, "department": dept_targets},
                        epochs=3, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]
    priority, department = model.predict([title_data, body_data, tags_data], verbose=0)
    assert priority.shape == (32, 1) and department.shape == (32, 4)


def test_a_multi_output_model_accepts_losses_and_weights_by_output_name():
    model = ticket_classifier()
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"priority": keras.losses.BinaryCrossentropy(from_logits=True),
                        "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2})
    title_data, body_data, tags_data, priority_targets, dept_targets = ticket_data()
    history = model.fit({"title": title_data, "body": body_data, "tags": tags_data},
                        {"priority": priority_targets, "department": dept_targets},
                        epochs=2, batch_size=16, verbose=0)
    assert {"loss", "priority_loss", "department_loss"} <= set(history.history)
    total = history.history["loss"][-1]
    weighted = history.history["priority_loss"][-1] + 0.2 * history.history["department_loss"][-1]
    assert abs(total - weighted) < 1e-3 * max(1.0, abs(total))


def test_a_shared_embedding_layer_encodes_two_inputs_with_one_weight():
    shared_embedding = layers.Embedding(1000, 16)
    text_input_a = keras.Input(shape=(None,), dtype="int32")
    text_input_b = keras.Input(shape=(None,), dtype="int32")
    encoded_input_a = shared_embedding(text_input_a)
    encoded_input_b = shared_embedding(text_input_b)
    model = keras.Model([text_input_a, text_input_b], [encoded_input_a, encoded_input_b])
    assert len(model.weights) == 1
    tokens = np.array([[1, 2, 3], [4, 5, 6]], dtype="int32")
    a, b = model.predict([tokens, tokens], verbose=0)
    assert a.shape == (2, 3, 16)
    np.testing.assert_array_equal(a, b)


def test_a_functional_models_layers_start_with_its_input_layer():
    inputs = keras.Input(shape=(16,), name="features")
    outputs = layers.Dense(2, name="dense")(inputs)
    model = keras.Model(inputs, outputs)
    assert [layer.name for layer in model.layers] == ["features", "dense"]
    assert model.layers[0].output is inputs


def test_an_autoencoder_decodes_with_conv2d_transpose_and_upsampling():
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(4, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(8, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    assert tuple(autoencoder.output_shape) == (None, 28, 28, 1)
