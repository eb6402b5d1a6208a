"""The Model (Keras API): a network that trains with ``compile``, ``fit``, ``evaluate``, ``predict``.

Training is one mechanism: ``compute_loss`` runs the forward pass and the loss
(data loss + regularization) on the Tensor graph; a step zeroes the gradients,
calls ``backward()`` and lets the optimizer update the weights in place. Whether
the loss takes the output's logits (the fused output delta (o - y)/n) is the
loss's decision (``Loss.fuses``), read from the output tensor itself, so it is
the same for Sequential, functional and subclassed models.
"""
import math

from .. import arguments
from .. import callbacks as callbacks_module
from .. import losses, metrics as metrics_module, optimizers, saving
from ..backend import xp
from ..layers.base import Layer
from ..tensor import Tensor, get_default_dtype, no_grad
from ..utils import rng
from . import data
from .graph import Graph
from .summary import print_summary


class NotCompiledError(RuntimeError, ValueError):
    """fit, evaluate or a batch step was called before compile."""


class Model(Layer):
    """A network that trains: ``compile``, ``fit``, ``evaluate``, ``predict``.

    Functional: ``Model(inputs, outputs)`` with ``inputs = Input(shape)`` and
    ``outputs`` made by calling layers on it. Subclassed: override
    ``call(self, inputs, training=False)`` and assign layers as attributes.
    """

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.optimizer = None
        self.loss = None
        self.stop_training = False
        self.history = None
        self._metric_identifiers = []
        self._metrics = []
        self._metrics_resolved = False
        self._input_shape = None
        self._graph = None
        if inputs is not None or outputs is not None:
            self._graph = Graph(inputs, outputs)
            self._input_shape = self._graph.input.shape[1:]
            self.output_shape = self._graph.output.shape
            self.built = True

    # ----- structure --------------------------------------------------------
    @property
    def layers(self):
        """The model's layers: a functional model's in call order; a subclassed model's tracked
        attributes (layers directly or inside lists, tuples and dicts) in assignment order."""
        if self._graph is not None:
            return list(self._graph.layers)
        return super().sublayers()

    def sublayers(self):
        return self.layers

    @property
    def input_shape(self):
        """(None, *sample shape) of the model's input, or None before it is known."""
        return None if self._input_shape is None else (None, *self._input_shape)

    def build(self, input_shape):
        """Create every layer's weights for inputs of ``input_shape`` (batch axis first, e.g. (None, 4)):
        one pass of a zero sample, once, which also fixes ``output_shape``."""
        self._input_shape = tuple(input_shape[1:])
        with no_grad():
            output = self.call(Tensor(xp.zeros((1, *self._input_shape), dtype=get_default_dtype())), training=False)
        self.output_shape = (None, *output.shape[1:])
        self.built = True

    def call(self, inputs, training=False):
        if self._graph is None:
            raise NotImplementedError(f"{type(self).__name__}: a subclassed Model must define call(inputs, training=False)")
        return self._graph.run(inputs, training)

    # ----- compile ----------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer (name, instance or config), the loss (name or Loss) and metrics (names or Metrics)."""
        if loss is None:
            raise ValueError(f"loss: expected a loss name or Loss, got None; valid names: {', '.join(sorted(losses._BY_NAME))}")
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise TypeError(f"metrics: expected a list of metric names or Metrics, got {type(metrics).__name__}")
        optimizer = optimizers.get(optimizer)
        loss = losses.get(loss)
        identifiers = list(metrics or [])
        resolved = [metrics_module.get(m, loss) for m in identifiers]
        self.optimizer, self.loss = optimizer, loss
        self._metric_identifiers, self._metrics = identifiers, resolved
        self._metrics_resolved = self.output_shape is not None
        if self._metrics_resolved:
            self._resolve_metrics()

    def _resolve_metrics(self):
        """Pick the accuracy that fits the loss and the output width (needs the model built)."""
        units = self.output_shape[1:][-1:] or (1,)
        self._metrics = [metrics_module.get(m, self.loss, units[0]) for m in self._metric_identifiers]
        self._metrics_resolved = True

    @property
    def metric_identifiers(self):
        """The metrics as given to ``compile`` (names, functions or Metrics), for saving."""
        return list(self._metric_identifiers)

    @property
    def metrics_names(self):
        return ["loss", *(m.name for m in self._metrics)]

    def _require_compiled(self, method):
        if self.optimizer is None or self.loss is None:
            raise NotCompiledError(f"{method}: the model must be compiled first: call model.compile(optimizer, loss)")

    # ----- input checks -----------------------------------------------------
    def _prepare_x(self, x, name="x"):
        """``x`` checked (numeric, finite, samples matching the model's input), building the model on first use."""
        x = data.as_samples(x, name)
        if self._input_shape is None:
            self.build((None, *x.shape[1:]))
        data.check_sample_shape(x, self._input_shape, name)
        return x

    def _prepare(self, x, y, name="x"):
        """Check and convert a data set (x, y): same length, numeric, finite, y matching the output and loss."""
        x = self._prepare_x(x, name)
        y = data.as_targets(y, len(x), "y" if name == "x" else f"{name} y")
        if not self._metrics_resolved:
            self._resolve_metrics()
        return x, self.loss.prepare_targets(y, self.output_shape[1:])

    # ----- the loss ---------------------------------------------------------
    def _loss_and_output(self, x, y, training, regularized=None):
        """(L, output): L = data loss + regularization on the graph; the shared step of fit, evaluate and
        compute_loss. The loss takes the output's logits when it fuses with the output's activation;
        ``regularized``: the (regularizer, weight) pairs, when the caller has them already."""
        output = self(x, training=training)
        loss = self.loss(y, output)
        penalty = self.regularization_loss(regularized)
        return (loss if penalty is None else loss + penalty), output

    def compute_loss(self, x, y, training=False):
        """The scalar loss Tensor L(x, y) (data loss + regularization), built by the code path fit uses."""
        self._require_compiled("compute_loss")
        x, y = self._prepare(x, y)
        return self._loss_and_output(x, y, training)[0]

    def _train_step(self, x, y, params, constraints, regularized=None):
        """One gradient step: L and dL/dw by the graph, the optimizer's update, then w <- constraint(w)."""
        loss, output = self._loss_and_output(x, y, True, regularized)
        for weight in params:
            weight.grad = None
        loss.backward()
        self.optimizer.step(params)
        for constraint, weight in constraints:
            weight.data = xp.asarray(constraint(weight.data), dtype=weight.dtype)
        return loss, output

    # ----- training ---------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over (x, y) in batches of ``batch_size`` (None or len(x):
        batch gradient descent; 1: stochastic; k: mini-batch). Returns the ``History``."""
        self._require_compiled("fit")
        x, y = self._prepare(x, y)
        epochs = arguments.non_negative_int(epochs, "epochs")
        initial_epoch = arguments.non_negative_int(initial_epoch, "initial_epoch")
        if not 0 <= validation_split < 1:
            raise ValueError(f"validation_split: expected a float in [0, 1), got {validation_split!r}")
        if validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) != 2:
                raise ValueError("validation_data: expected a tuple (x_val, y_val)")
            val_x, val_y = self._prepare(*validation_data, name="validation_data")
        elif validation_split:
            cut = len(x) - int(len(x) * validation_split)
            if cut in (0, len(x)):
                raise ValueError(f"validation_split: {validation_split} of {len(x)} samples leaves an empty split")
            x, val_x, y, val_y = x[:cut], x[cut:], y[:cut], y[cut:]
        else:
            val_x = val_y = None
        batch_size = data.batch_size(batch_size, len(x))
        steps = math.ceil(len(x) / batch_size)

        self.history = history = callbacks_module.History()
        progress = [callbacks_module.ProgbarLogger(verbose, epochs=epochs, steps=steps)] if verbose else []
        hooks = callbacks_module.CallbackList([*progress, *_callback_list(callbacks), history], self,
                                              verbose=verbose, epochs=epochs, steps=steps)
        per_batch = hooks.uses_batch_hooks("train")
        params = self.trainable_weights
        constraints, regularized = self.weight_constraints(), self.weight_regularizers()
        train_metrics = self._metrics
        n = len(x)

        self.stop_training = False
        hooks.begin("train")
        logs = {}
        for epoch in range(initial_epoch, epochs):
            hooks.on_epoch_begin(epoch)
            for metric in train_metrics:
                metric.reset_state()
            order = rng().permutation(n) if shuffle and batch_size < n else None
            loss_sum, seen = 0.0, 0
            for step in range(steps):
                window = slice(step * batch_size, (step + 1) * batch_size)
                index = window if order is None else order[window]
                x_batch, y_batch = x[index], y[index]
                if per_batch:
                    hooks.batch_begin("train", step)
                loss, output = self._train_step(x_batch, y_batch, params, constraints, regularized)
                count = len(x_batch)
                loss_sum += float(loss.data) * count
                seen += count
                for metric in train_metrics:
                    metric.update_state(y_batch, output.data)
                if per_batch:
                    hooks.batch_end("train", step, self._logs(loss_sum / seen))
                if self.stop_training:
                    break
            logs = self._logs(loss_sum / seen)
            if val_x is not None:
                val_logs = self._evaluate_arrays(val_x, val_y, batch_size, hooks)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            hooks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        hooks.end("train", logs)
        return history

    def _logs(self, loss):
        logs = {"loss": loss}
        for metric in self._metrics:
            logs[metric.name] = metric.result()
        return logs

    def _evaluate_arrays(self, x, y, batch_size, hooks=None):
        """Logs {'loss', metric names} over prepared (x, y), without recording a graph; ``hooks``
        (a CallbackList) get the test hooks."""
        hooks = hooks or callbacks_module.CallbackList([], self)
        per_batch = hooks.uses_batch_hooks("test")
        regularized = self.weight_regularizers()
        for metric in self._metrics:
            metric.reset_state()
        hooks.begin("test")
        loss_sum, seen = 0.0, 0
        with no_grad():
            for step, start in enumerate(range(0, len(x), batch_size)):
                if per_batch:
                    hooks.batch_begin("test", step)
                x_batch, y_batch = x[start:start + batch_size], y[start:start + batch_size]
                loss, output = self._loss_and_output(x_batch, y_batch, False, regularized)
                loss_sum += float(loss.data) * len(x_batch)
                seen += len(x_batch)
                for metric in self._metrics:
                    metric.update_state(y_batch, output.data)
                if per_batch:
                    hooks.batch_end("test", step, self._logs(loss_sum / seen))
        logs = self._logs(loss_sum / len(x))
        hooks.end("test", logs)
        return logs

    def _result(self, logs):
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def evaluate(self, x=None, y=None, batch_size=32, verbose=0, callbacks=None, return_dict=False):
        """The loss on (x, y), or [loss, *metrics] when metrics were compiled ({name: value} with
        ``return_dict``); ``callbacks`` get the test hooks."""
        self._require_compiled("evaluate")
        hooks = callbacks_module.CallbackList(_callback_list(callbacks), self, verbose=verbose, epochs=1)
        x, y = self._prepare(x, y)
        logs = self._evaluate_arrays(x, y, data.batch_size(batch_size, len(x)), hooks)
        if verbose:
            print(callbacks_module.format_logs(logs))
        return dict(logs) if return_dict else self._result(logs)

    def predict(self, x, batch_size=32, verbose=0, callbacks=None):
        """The model's outputs for ``x`` as an ndarray (computed in batches, no graph recorded);
        ``callbacks`` get the predict hooks, each batch's outputs in the batch end logs."""
        hooks = callbacks_module.CallbackList(_callback_list(callbacks), self, verbose=verbose, epochs=1)
        x = self._prepare_x(x)
        batch_size = data.batch_size(batch_size, len(x))
        per_batch = hooks.uses_batch_hooks("predict")
        outputs = []
        hooks.begin("predict")
        with no_grad():
            for step, start in enumerate(range(0, len(x), batch_size)):
                if per_batch:
                    hooks.batch_begin("predict", step)
                outputs.append(self(x[start:start + batch_size]).data)
                if per_batch:
                    hooks.batch_end("predict", step, {"outputs": outputs[-1]})
        hooks.end("predict", {})
        return outputs[0] if len(outputs) == 1 else xp.concatenate(outputs)

    def predict_on_batch(self, x):
        """The model's outputs for ``x`` as one batch."""
        x = self._prepare_x(x)
        with no_grad():
            return self(x).data

    def train_on_batch(self, x, y):
        """One gradient step on (x, y) as a single batch; returns its loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        loss, output = self._train_step(x, y, self.trainable_weights, self.weight_constraints())
        for metric in self._metrics:
            metric.reset_state()
            metric.update_state(y, output.data)
        return self._result(self._logs(float(loss.data)))

    def test_on_batch(self, x, y):
        """The loss (and metrics) on (x, y) as a single batch, without a step."""
        self._require_compiled("test_on_batch")
        x, y = self._prepare(x, y)
        return self._result(self._evaluate_arrays(x, y, len(x)))

    # ----- summary ----------------------------------------------------------
    def summary(self, print_fn=None):
        """Print a table of the layers (name and type, output shape, parameter count) with
        the totals: a rich table on a terminal, plain text otherwise; returns the plain text."""
        return print_summary(self, print_fn)

    # ----- saving -----------------------------------------------------------
    def save(self, filepath):
        """Write the model (config, weights, optimizer state) to one .safetensors file, atomically."""
        saving.save_model(self, filepath)

    def get_config(self):
        """A functional model's layers and their connections; a subclassed model returns {}:
        override ``get_config`` (and ``from_config``) when its constructor takes arguments."""
        if self._graph is None:
            return {}
        return {"name": self.name, **self._graph.get_config()}

    @classmethod
    def from_config(cls, config):
        if "nodes" in config:
            inputs, outputs = Graph.rebuild(config)
            return cls(inputs, outputs, name=config["name"])
        return cls(**config)


def _callback_list(callbacks):
    if callbacks is not None and not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks: expected a list of Callback instances, got {type(callbacks).__name__}")
    return list(callbacks or [])
