"""Keras 3 semantics every Keras program relies on, through ``import chainrule as keras``:
callbacks called as Keras calls them, functional models with several inputs and outputs,
the whole fit contract (generators, PyDataset, sample and class weights), custom steps,
added losses, saving with one's own classes, and Keras' conventions."""
import numpy as np
import pytest

import chainrule as keras
from chainrule import layers


def rng(seed=0):
    return np.random.default_rng(seed)


def small_classifier(units=3, features=4):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((features,)), layers.Dense(8, activation="relu"),
                              layers.Dense(units, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def classification_data(count=40, features=4, classes=3, seed=0):
    x = rng(seed).normal(size=(count, features)).astype("float32")
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 1).astype(int) * (classes > 2)


# ----- callbacks ------------------------------------------------------------------------------
HOOKS = [f"on_{mode}_{moment}" for mode in ("train", "test", "predict") for moment in ("begin", "end")] + [
    f"on_{scope}_{moment}" for scope in ("epoch", "train_batch", "test_batch", "predict_batch", "batch")
    for moment in ("begin", "end")]


class Recorder(keras.callbacks.Callback):
    """Records every hook Keras defines, with its arguments."""

    def __init__(self):
        self.calls = []


def _recording(name):
    def hook(self, *args):
        self.calls.append((name, args))
        if name.startswith("on_train_batch"):    # keep the base class's call of the legacy on_batch_* hooks
            getattr(keras.callbacks.Callback, name)(self, *args)
    return hook


for _name in HOOKS:
    setattr(Recorder, _name, _recording(_name))


def test_fit_calls_the_keras_3_batch_hooks_and_the_test_hooks_for_validation():
    model = small_classifier()
    x, y = classification_data(20)
    recorder = Recorder()
    model.fit(x, y, batch_size=10, epochs=1, validation_data=(x, y), callbacks=[recorder], verbose=0)
    names = [name for name, _ in recorder.calls]
    assert names[:3] == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin"]
    assert names.count("on_train_batch_end") == 2 and names.count("on_batch_end") == 2
    assert names.index("on_test_begin") > names.index("on_train_batch_end")
    assert names.count("on_test_batch_end") == 2 and names[-2:] == ["on_epoch_end", "on_train_end"]
    batch_logs = next(args[1] for name, args in recorder.calls if name == "on_train_batch_end")
    assert set(batch_logs) == {"loss", "accuracy"}
    epoch_logs = next(args[1] for name, args in recorder.calls if name == "on_epoch_end")
    assert set(epoch_logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_evaluate_and_predict_call_their_hooks():
    model = small_classifier()
    x, y = classification_data(12)
    recorder = Recorder()
    model.evaluate(x, y, batch_size=4, callbacks=[recorder], verbose=0)
    model.predict(x, batch_size=4, callbacks=[recorder], verbose=0)
    names = [name for name, _ in recorder.calls]
    assert names.count("on_test_batch_begin") == 3 and names.count("on_predict_batch_end") == 3
    outputs = [args[1]["outputs"] for name, args in recorder.calls if name == "on_predict_batch_end"]
    assert [o.shape for o in outputs] == [(4, 3)] * 3


def test_a_callback_sees_params_and_may_change_the_learning_rate_and_stop_training():
    class Control(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.optimizer.learning_rate = 0.5 * (epoch + 1)

        def on_epoch_end(self, epoch, logs=None):
            self.rates = getattr(self, "rates", []) + [self.model.optimizer.learning_rate]
            if epoch == 1:
                self.model.stop_training = True

    model = small_classifier()
    control = Control()
    history = model.fit(*classification_data(16), batch_size=8, epochs=5, callbacks=[control], verbose=0)
    assert control.params == {"verbose": 0, "epochs": 5, "steps": 2}
    assert control.rates == [0.5, 1.0] and len(history.history["loss"]) == 2


def test_batch_size_none_means_32_as_in_keras():
    recorder = Recorder()
    small_classifier().fit(*classification_data(70), epochs=1, callbacks=[recorder], verbose=0)
    assert sum(name == "on_train_batch_end" for name, _ in recorder.calls) == 3


# ----- the functional API in full ---------------------------------------------------------------
def two_input_two_output_model():
    keras.utils.set_random_seed(1)
    title = keras.Input(shape=(6,), name="title")
    body = keras.Input(shape=(5,), name="body")
    shared = layers.Dense(4, activation="tanh", name="shared")
    merged = layers.concatenate([shared(layers.Dense(4, name="t")(title)), shared(layers.Dense(4, name="b")(body))])
    priority = layers.Dense(1, name="priority")(merged)
    department = layers.Dense(3, activation="softmax", name="department")(merged)
    return keras.Model(inputs=[title, body], outputs=[priority, department])


def two_output_data(count=24):
    r = rng(2)
    x = {"title": r.normal(size=(count, 6)), "body": r.normal(size=(count, 5))}
    y = {"priority": r.normal(size=(count, 1)), "department": r.integers(0, 3, count)}
    return x, y


def test_a_model_with_two_inputs_and_two_outputs_trains_on_dicts_with_weighted_losses():
    model = two_input_two_output_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss={"priority": "mse", "department": "sparse_categorical_crossentropy"},
                  loss_weights={"priority": 1.0, "department": 0.2}, metrics={"department": ["accuracy"]})
    x, y = two_output_data()
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0)
    logs = model.evaluate(x, y, return_dict=True, verbose=0)
    assert set(history.history) == {"loss", "priority_loss", "department_loss", "department_accuracy"}
    assert logs["loss"] == pytest.approx(logs["priority_loss"] + 0.2 * logs["department_loss"], rel=1e-5)
    assert history.history["loss"][-1] < history.history["loss"][0]
    priority, department = model.predict([x["title"], x["body"]], verbose=0)
    assert priority.shape == (24, 1) and department.shape == (24, 3)
    assert model.input_names == ["title", "body"] and model.output_names == ["priority", "department"]


def test_a_shared_layer_is_one_layer_with_one_set_of_weights():
    model = two_input_two_output_model()
    shared = model.get_layer("shared")
    assert [layer.name for layer in model.layers].count("shared") == 1
    assert len(shared.weights) == 2 and model.get_layer(index=0) is model.layers[0]


def test_a_dict_key_that_names_no_output_is_refused_before_any_change():
    model = two_input_two_output_model()
    model.compile(optimizer="sgd", loss=["mse", "sparse_categorical_crossentropy"])
    x, y = two_output_data()
    before = model.get_weights()
    with pytest.raises(ValueError, match="y: expected a dict with the keys"):
        model.fit(x, {"priority": y["priority"], "dept": y["department"]}, verbose=0)
    with pytest.raises(ValueError, match=r"loss: the keys \['dept'\] name no output"):
        model.compile(optimizer="sgd", loss={"dept": "mse"})
        model.fit(x, y, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_nested_models_are_layers_of_the_outer_model():
    keras.utils.set_random_seed(3)
    encoder_input = keras.Input((6,))
    encoder = keras.Model(encoder_input, layers.Dense(2, name="code")(encoder_input), name="encoder")
    decoder_input = keras.Input((2,))
    decoder = keras.Model(decoder_input, layers.Dense(6, name="reconstruction")(decoder_input), name="decoder")
    inputs = keras.Input((6,))
    autoencoder = keras.Model(inputs, decoder(encoder(inputs)))
    autoencoder.compile("adam", "mse")
    x = rng(4).normal(size=(32, 6))
    autoencoder.fit(x, x, epochs=2, verbose=0)
    assert autoencoder.layers[1:] == [encoder, decoder]
    assert isinstance(autoencoder.layers[0], layers.InputLayer)     # Keras 3 lists the input first
    assert autoencoder.count_params() == encoder.count_params() + decoder.count_params() == (6 * 2 + 2) + (2 * 6 + 6)
    np.testing.assert_allclose(autoencoder.predict(x, verbose=0), decoder.predict(encoder.predict(x, verbose=0),
                                                                                verbose=0), rtol=1e-5)


def test_an_input_of_variable_length_takes_sequences_of_any_length():
    keras.utils.set_random_seed(5)
    inputs = keras.Input(shape=(None, 3))
    model = keras.Model(inputs, layers.Dense(1)(layers.GRU(4)(inputs)))
    model.compile("adam", "mse")
    assert inputs.shape == (None, None, 3)
    model.fit(rng(6).normal(size=(8, 7, 3)), np.zeros((8, 1)), verbose=0)
    assert model.predict(rng(7).normal(size=(2, 11, 3)), verbose=0).shape == (2, 1)


def test_an_embedding_input_takes_integer_indices():
    inputs = keras.Input(shape=(5,), dtype="int32")
    assert inputs.dtype == np.int32
    model = keras.Model(inputs, layers.Dense(1)(layers.Flatten()(layers.Embedding(10, 2)(inputs))))
    assert model.predict(np.array([[1, 2, 3, 4, 9]]), verbose=0).shape == (1, 1)


# ----- the fit contract: sources of data, weights ------------------------------------------------
class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        window = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[window], self.y[window]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_fit_takes_a_py_dataset_and_ends_its_epochs():
    model = small_classifier()
    x, y = classification_data(30)
    data = Batches(x, y, 8, workers=1)
    history = model.fit(data, epochs=3, verbose=0)
    assert data.epochs_ended == 3 and len(history.history["loss"]) == 3
    assert keras.utils.Sequence is keras.utils.PyDataset


def test_fit_takes_a_generator_with_steps_per_epoch_and_same_weights_as_arrays():
    x, y = classification_data(32)

    def batches():
        while True:
            for start in range(0, 32, 8):
                yield x[start:start + 8], y[start:start + 8]

    from_generator, from_arrays = small_classifier(), small_classifier()
    from_generator.fit(batches(), steps_per_epoch=4, epochs=2, verbose=0)
    from_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(from_generator.get_weights(), from_arrays.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_generator_that_yields_the_wrong_structure_is_refused_before_any_change():
    model = small_classifier()
    before = model.get_weights()

    def broken():
        yield np.ones((4, 4)), np.zeros(4), np.ones(4), "extra"

    with pytest.raises(ValueError, match=r"batch 0 from the data source: data: expected batches \(x,\), \(x, y\)"):
        model.fit(broken(), epochs=1, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_sample_weights_weigh_each_sample_of_the_loss_as_keras_sums_over_the_batch_size():
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile("sgd", "mse")
    x, y, weights = np.ones((4, 1)), np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([1.0, 0.0, 2.0, 0.5])
    loss = model.evaluate(x, y, sample_weight=weights, verbose=0)
    assert loss == pytest.approx(np.sum(weights * y[:, 0] ** 2) / 4)


def test_class_weight_scales_each_class_and_refuses_a_class_that_does_not_exist():
    model = small_classifier()
    x, y = classification_data(12)
    unweighted = model.evaluate(x, y, verbose=0)[0]
    weighted_model = small_classifier()
    loss = weighted_model.train_on_batch(x, y, class_weight={0: 2.0, 1: 2.0, 2: 2.0})
    assert loss[0] == pytest.approx(2 * unweighted, rel=1e-5)
    before = model.get_weights()
    with pytest.raises(ValueError, match="class_weight: class 7 does not exist"):
        model.fit(x, y, class_weight={0: 1.0, 7: 3.0}, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


def test_validation_freq_validates_every_kth_epoch():
    model = small_classifier()
    x, y = classification_data(16)
    history = model.fit(x, y, epochs=4, validation_split=0.25, validation_freq=2, verbose=0)
    assert len(history.history["loss"]) == 4 and len(history.history["val_loss"]) == 2


def test_sequence_outputs_are_classified_per_time_step():
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(6, return_sequences=True),
                              layers.Dense(4, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    x, labels = rng(9).normal(size=(10, 5, 3)), rng(10).integers(0, 4, (10, 5))
    loss, accuracy = model.evaluate(x, labels, verbose=0)
    probabilities = model.predict(x, verbose=0)
    picked = np.take_along_axis(probabilities, labels[..., None], axis=-1)[..., 0]
    assert loss == pytest.approx(-np.log(picked).mean(), rel=1e-5)
    assert accuracy == pytest.approx((probabilities.argmax(-1) == labels).mean())


# ----- custom steps and added losses ------------------------------------------------------------
class CustomFit(keras.Model):
    """The PyTorch flavour of Keras' guide: the step written with backward() and optimizer.apply."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.steps_taken = 0

    def call(self, inputs):
        return self.out(self.hidden(inputs))

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        gradients = [v.grad for v in self.trainable_weights]
        self.optimizer.apply(gradients, self.trainable_weights)
        self.loss_tracker.update_state(loss.data)
        self.steps_taken += 1
        return {"loss": self.loss_tracker.result()}


def test_an_overridden_train_step_is_what_fit_runs():
    keras.utils.set_random_seed(11)
    model = CustomFit()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x = rng(12).normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])
    history = model.fit(x, y, batch_size=16, epochs=10, verbose=0)
    assert model.steps_taken == 40
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]


class ActivityPenalty(layers.Layer):
    def call(self, inputs):
        self.add_loss(0.1 * (inputs * inputs).mean())
        return inputs


def test_a_model_that_adds_its_own_loss_compiles_without_one_and_trains_it_down():
    keras.utils.set_random_seed(13)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, ActivityPenalty()(layers.Dense(3)(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    history = model.fit(rng(14).normal(size=(32, 4)), epochs=5, verbose=0)
    assert len(model.losses) == 1
    assert history.history["loss"][-1] < history.history["loss"][0]


# ----- saving with one's own classes --------------------------------------------------------------
@keras.saving.register_keras_serializable(package="tests")
class Scaled(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return inputs * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def test_a_registered_layer_saves_and_loads_without_custom_objects(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, Scaled(3.0)(layers.Dense(2)(inputs)))
    model.compile("adam", "mse")
    model.save(tmp_path / "m.safetensors")
    loaded = keras.models.load_model(tmp_path / "m.safetensors")
    assert isinstance(loaded.layers[-1], Scaled) and loaded.layers[-1].factor == 3.0
    x = rng(15).normal(size=(2, 3))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_save_weights_and_load_weights_round_trip_and_check_the_count(tmp_path):
    model, other = two_input_two_output_model(), two_input_two_output_model()
    model.save_weights(tmp_path / "w.safetensors")
    keras.utils.set_random_seed(99)
    other.set_weights([w + 1 for w in other.get_weights()])
    other.load_weights(tmp_path / "w.safetensors")
    assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), other.get_weights()))
    with pytest.raises(ValueError, match="holds 10 weights for a model with 4"):
        small_classifier().load_weights(tmp_path / "w.safetensors")


def test_a_model_with_two_inputs_and_output_losses_saves_and_loads(tmp_path):
    model = two_input_two_output_model()
    model.compile("adam", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5])
    x, y = two_output_data()
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.safetensors")
    loaded = keras.models.load_model(tmp_path / "m.safetensors")
    for a, b in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


# ----- Keras' conventions -------------------------------------------------------------------------
def test_leaky_relu_has_keras_default_slope():
    np.testing.assert_allclose(keras.activations.get("leaky_relu")(keras.Tensor([-1.0, 2.0])).data, [-0.2, 2.0])


def test_a_frozen_batch_normalization_runs_in_inference_mode():
    keras.utils.set_random_seed(16)
    model = keras.Sequential([keras.Input((3,)), layers.BatchNormalization(), layers.Dense(1)])
    model.compile("sgd", "mse")
    norm = model.layers[0]
    norm.trainable = False
    moving = [norm.moving_mean.data.copy(), norm.moving_variance.data.copy()]
    model.fit(rng(17).normal(5.0, 2.0, size=(16, 3)), np.zeros((16, 1)), verbose=0)
    np.testing.assert_array_equal(norm.moving_mean.data, moving[0])
    np.testing.assert_array_equal(norm.moving_variance.data, moving[1])
    assert len(model.trainable_weights) == 2


def test_freezing_a_model_freezes_its_layers():
    model = small_classifier()
    model.trainable = False
    assert model.trainable_weights == [] and all(not layer.trainable for layer in model.layers)


# ----- explain on these models --------------------------------------------------------------------
def test_trace_explains_a_model_with_two_inputs_and_two_outputs():
    from chainrule.explain import trace
    model = two_input_two_output_model()
    model.compile("sgd", loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[1.0, 0.5])
    x, y = two_output_data(6)
    with keras.tensor.default_dtype("float64"):
        run = trace(model, x, y)
    assert [record.name for record in run.layers] == [layer.name for layer in model.layers
                                                      if not isinstance(layer, layers.InputLayer)]
    assert not run.fused_output and not run.unit_by_unit
    assert run.loss == pytest.approx(model.evaluate(x, y, verbose=0)[0], rel=1e-5)
    assert run.check().ok
    assert "mse, sparse_categorical_crossentropy" in run.to_markdown()


def test_trace_explains_a_subclassed_model_with_tracked_sublayers():
    from chainrule.explain import trace

    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = [layers.Dense(4, activation="tanh"), layers.Dense(3)]

        def call(self, inputs):
            return self.inner[1](self.inner[0](inputs))

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = layers.Dense(2, activation="softmax")

        def call(self, inputs):
            return self.head(self.block(inputs))

    keras.utils.set_random_seed(21)
    model = Net()
    model.compile("sgd", "sparse_categorical_crossentropy")
    run = trace(model, rng(22).normal(size=(5, 3)), np.array([0, 1, 1, 0, 1]))
    block, head = run.layers
    assert sorted(block.grads) == sorted(name for name in model.layers[0].named_weights())
    assert len(block.grads) == 4 and run.fused_output
    assert run.check().ok
