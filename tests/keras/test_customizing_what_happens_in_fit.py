"""The guide to customizing what happens in fit(), in its PyTorch-backend flavour
(keras.io/guides/custom_train_step_in_torch): a train_step that runs the model, computes the loss,
calls ``loss.backward()`` and applies the weights' ``.grad`` with the optimizer."""
import numpy as np

import chainrule as keras


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]
        self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class WeightedModel(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]
        self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


class EvaluatingModel(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def build(model_class):
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = model_class(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def data(count=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((count, 32)).astype("float32")
    y = (x @ rng.normal(size=(32, 1)) / 4).astype("float32")
    return x, y


def test_a_custom_train_step_trains_and_logs_loss_and_compiled_metrics():
    model = build(CustomModel)
    x, y = data()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_a_custom_train_step_moves_the_weights_as_the_built_in_one_does():
    custom, built_in = build(CustomModel), build(keras.Model)
    built_in.set_weights(custom.get_weights())
    x, y = data(32)
    custom.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    built_in.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(custom.get_weights(), built_in.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_gradients_of_a_train_step_are_the_weights_grad_arrays():
    seen = []

    class Inspecting(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            loss.backward()
            gradients = [v.grad for v in self.trainable_weights]
            seen.append([tuple(g.shape) for g in gradients])
            self.optimizer.apply(gradients, self.trainable_weights)
            return {"loss": loss}

    model = build(Inspecting)
    model.fit(*data(16), batch_size=16, epochs=1, verbose=0)
    assert seen == [[(32, 1), (1,)]]


def test_a_train_step_unpacks_sample_weights():
    model = build(WeightedModel)
    x, y = data()
    sample_weight = np.random.default_rng(1).random((len(y), 1)).astype("float32")
    history = model.fit(x, y, sample_weight=sample_weight, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    unweighted = build(WeightedModel)
    unweighted.set_weights(model.get_weights())
    zero = unweighted.fit(x, y, sample_weight=np.zeros((len(y), 1), "float32"), batch_size=16, epochs=1,
                          verbose=0)
    assert zero.history["loss"][0] == 0.0
    np.testing.assert_array_equal(unweighted.get_weights()[0], model.get_weights()[0])


def test_a_custom_test_step_drives_evaluate():
    model = build(EvaluatingModel)
    x, y = data()
    loss, mae = model.evaluate(x, y, verbose=0)
    prediction = model.predict(x, verbose=0)
    np.testing.assert_allclose(loss, np.mean((prediction - y) ** 2), rtol=1e-4)
    np.testing.assert_allclose(mae, np.mean(np.abs(prediction - y)), rtol=1e-4)


class LowerLevelModel(keras.Model):
    """The guide's "going lower-level": compile with only an optimizer, own loss and metric trackers."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.grad for v in trainable_weights]
        self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_a_lower_level_train_step_with_its_own_trackers_resets_them_each_epoch():
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = LowerLevelModel(inputs, outputs)
    model.compile(optimizer="adam")
    x, y = data()
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]
