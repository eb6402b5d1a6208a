"""Models (Keras API): ``Sequential``, functional ``Model(inputs, outputs)`` and subclassed ``Model``.

Training is one mechanism: ``compute_loss`` runs the forward pass and the loss
(data loss + regularization) on the Tensor graph; a step zeroes the gradients,
calls ``backward()`` and lets the optimizer update the weights in place.
"""
import math
import sys

from . import callbacks as callbacks_module
from . import losses, metrics as metrics_module
from .backend import xp
from .layers.base import Layer, SymbolicTensor, get_layer_class
from .tensor import Tensor, as_array, get_default_dtype, no_grad
from .utils import rng


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
            self._graph = _Graph(inputs, outputs)
            self._input_shape = self._graph.input.shape[1:]
            self.built = True

    # ----- structure --------------------------------------------------------
    @property
    def layers(self):
        """The model's layers: for a subclassed model, its Layer attributes in assignment order."""
        if self._graph is not None:
            return self._graph.layers
        found = []
        for key, value in vars(self).items():
            if key.startswith("_"):
                continue
            for item in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(item, Layer) and item not in found:
                    found.append(item)
        return found

    def _sublayers(self):
        return self.layers

    def _output_layer(self):
        """The layer that produces the model's output, or None when the model's code decides it."""
        return self._graph.output.layer if self._graph is not None else None

    def build(self, input_shape):
        """Create every layer's weights for inputs of ``input_shape`` (batch axis first, e.g. (None, 4))."""
        self.built = True
        if not isinstance(input_shape, list):
            self._input_shape = tuple(input_shape[1:])
            self._build_for(self._input_shape)

    def call(self, inputs, training=False):
        if self._graph is None:
            raise NotImplementedError(f"{type(self).__name__}: a subclassed Model must define call(inputs, training=False)")
        return self._graph.run(inputs, training)

    def _output_shape(self):
        """Per-sample output shape, from one zero sample through the network."""
        with no_grad():
            return tuple(self(xp.zeros((1, *self._input_shape), dtype=get_default_dtype())).shape[1:])

    # ----- compile ----------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None):
        """Choose the optimizer (name, instance or config), the loss (name or Loss) and metrics (names or Metrics)."""
        from . import optimizers
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
        self._metrics_resolved = self._input_shape is not None
        if self._metrics_resolved:
            self._resolve_metrics()

    def _resolve_metrics(self):
        """Pick the accuracy that fits the loss and the output width (needs the model built)."""
        units = self._output_shape()[-1:] or (1,)
        self._metrics = [metrics_module.get(m, self.loss, units[0]) for m in self._metric_identifiers]
        self._metrics_resolved = True

    @property
    def metrics_names(self):
        return ["loss", *(m.name for m in self._metrics)]

    def _require_compiled(self, method):
        if self.optimizer is None or self.loss is None:
            raise NotCompiledError(f"{method}: the model must be compiled first: call model.compile(optimizer, loss)")

    # ----- input checks -----------------------------------------------------
    def _prepare_x(self, x, name="x"):
        """``x`` as a finite float array of the default dtype whose samples match the model's input."""
        if isinstance(x, Tensor):
            x = x.data
        x = as_array(x, name=name)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError(f"{name}: expected at least one sample, got an empty array of shape {x.shape}")
        x = x.astype(get_default_dtype(), copy=False)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        if not xp.isfinite(x).all():
            raise ValueError(f"{name}: expected finite values, got NaN or Inf (first in sample "
                             f"{int(xp.argwhere(~xp.isfinite(x))[0][0])})")
        if self._input_shape is None:
            self._build_for(x.shape[1:])
        if x.shape[1:] != self._input_shape:
            raise ValueError(f"{name}: expected samples of shape {self._input_shape} (the model's input), "
                             f"got samples of shape {x.shape[1:]} (x has shape {x.shape})")
        return x

    def _build_for(self, sample_shape):
        with no_grad():
            self(xp.zeros((1, *sample_shape), dtype=get_default_dtype()))

    def _prepare(self, x, y, name="x"):
        """Check and convert a data set (x, y): same length, numeric, finite, y matching the output and loss."""
        x = self._prepare_x(x, name)
        y_name = "y" if name == "x" else f"{name} y"
        y = as_array(y.data if isinstance(y, Tensor) else y, name=y_name)
        if y.ndim == 0 or len(y) != len(x):
            raise ValueError(f"x and y: expected the same number of samples, got {len(x)} in x and "
                             f"{len(y) if y.ndim else 'a scalar'} in y")
        if y.dtype.kind == "f" and not xp.isfinite(y).all():
            raise ValueError(f"{y_name}: expected finite values, got NaN or Inf")
        if not self._metrics_resolved:
            self._resolve_metrics()
        return x, self.loss.prepare_targets(y, self._output_shape())

    # ----- the loss ---------------------------------------------------------
    def _fused_output_layer(self):
        """The output layer whose pre-activation z the loss takes directly (softmax or
        sigmoid output with the matching cross-entropy), with z recording on; else None."""
        layer = self._output_layer()
        wanted = self.loss.logits_activation
        if layer is None or wanted is None or getattr(layer, "activation", None) is not wanted:
            return None
        if layer._records is None:
            layer._records = {}
        return layer

    def _loss_and_output(self, x, y, training, fused_layer):
        """(L, output): L = data loss + regularization on the graph; the shared step of fit, evaluate and compute_loss."""
        output = self(x, training=training)
        if fused_layer is not None:
            loss = self.loss.call_on_logits(y, fused_layer._records["z"])
        else:
            loss = self.loss(y, output)
        penalty = self.regularization_loss()
        return (loss if penalty is None else loss + penalty), output

    def compute_loss(self, x, y, training=False):
        """The scalar loss Tensor L(x, y) (data loss + regularization), built by the code path fit uses."""
        self._require_compiled("compute_loss")
        x, y = self._prepare(x, y)
        return self._loss_and_output(x, y, training, self._fused_output_layer())[0]

    def _train_step(self, x, y, params, fused_layer):
        loss, output = self._loss_and_output(x, y, True, fused_layer)
        for weight in params:
            weight.grad = None
        loss.backward()
        self.optimizer.step(params)
        return loss, output

    # ----- training ---------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=32, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, initial_epoch=0):
        """Train for ``epochs`` passes over (x, y) in batches of ``batch_size`` (None or len(x):
        batch gradient descent; 1: stochastic; k: mini-batch). Returns the ``History``."""
        self._require_compiled("fit")
        x, y = self._prepare(x, y)
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 0:
            raise ValueError(f"epochs: expected a non-negative int, got {epochs!r}")
        if not isinstance(initial_epoch, int) or initial_epoch < 0:
            raise ValueError(f"initial_epoch: expected a non-negative int, got {initial_epoch!r}")
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
        batch_size = _batch_size(batch_size, len(x))
        steps = math.ceil(len(x) / batch_size)

        self.history = history = callbacks_module.History()
        progress = [callbacks_module.ProgbarLogger(verbose, epochs=epochs, steps=steps)] if verbose else []
        hooks = callbacks_module.CallbackList([*progress, *(callbacks or []), history], self)
        per_batch = bool(hooks.batch_callbacks)
        params = self.trainable_weights
        fused_layer = self._fused_output_layer()
        train_metrics = self._metrics
        n = len(x)

        self.stop_training = False
        hooks.on_train_begin()
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
                    hooks.on_batch_begin(step)
                loss, output = self._train_step(x_batch, y_batch, params, fused_layer)
                count = len(x_batch)
                loss_sum += float(loss.data) * count
                seen += count
                for metric in train_metrics:
                    metric.update_state(y_batch, output.data)
                if per_batch:
                    hooks.on_batch_end(step, self._logs(loss_sum / seen))
                if self.stop_training:
                    break
            logs = self._logs(loss_sum / seen)
            if val_x is not None:
                val_logs = self._evaluate_arrays(val_x, val_y, batch_size, fused_layer)
                logs.update({f"val_{key}": value for key, value in val_logs.items()})
            hooks.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        hooks.on_train_end(logs)
        return history

    def _logs(self, loss):
        logs = {"loss": loss}
        for metric in self._metrics:
            logs[metric.name] = metric.result()
        return logs

    def _evaluate_arrays(self, x, y, batch_size, fused_layer):
        """Logs {'loss', metric names} over prepared (x, y), without recording a graph."""
        for metric in self._metrics:
            metric.reset_state()
        loss_sum = 0.0
        with no_grad():
            for start in range(0, len(x), batch_size):
                x_batch, y_batch = x[start:start + batch_size], y[start:start + batch_size]
                loss, output = self._loss_and_output(x_batch, y_batch, False, fused_layer)
                loss_sum += float(loss.data) * len(x_batch)
                for metric in self._metrics:
                    metric.update_state(y_batch, output.data)
        return self._logs(loss_sum / len(x))

    def _result(self, logs):
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def evaluate(self, x=None, y=None, batch_size=32, verbose=0):
        """The loss on (x, y), or [loss, *metrics] when metrics were compiled."""
        self._require_compiled("evaluate")
        x, y = self._prepare(x, y)
        logs = self._evaluate_arrays(x, y, _batch_size(batch_size, len(x)), self._fused_output_layer())
        if verbose:
            print(callbacks_module._format_logs(logs))
        return self._result(logs)

    def predict(self, x, batch_size=32, verbose=0):
        """The model's outputs for ``x`` as an ndarray (computed in batches, no graph recorded)."""
        x = self._prepare_x(x)
        batch_size = _batch_size(batch_size, len(x))
        with no_grad():
            outputs = [self(x[start:start + batch_size]).data for start in range(0, len(x), batch_size)]
        return outputs[0] if len(outputs) == 1 else xp.concatenate(outputs)

    def train_on_batch(self, x, y):
        """One gradient step on (x, y) as a single batch; returns its loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x, y = self._prepare(x, y)
        loss, output = self._train_step(x, y, self.trainable_weights, self._fused_output_layer())
        for metric in self._metrics:
            metric.reset_state()
            metric.update_state(y, output.data)
        return self._result(self._logs(float(loss.data)))

    def test_on_batch(self, x, y):
        """The loss (and metrics) on (x, y) as a single batch, without a step."""
        self._require_compiled("test_on_batch")
        x, y = self._prepare(x, y)
        return self._result(self._evaluate_arrays(x, y, len(x), self._fused_output_layer()))

    # ----- summary ----------------------------------------------------------
    def summary(self, print_fn=None):
        """Print a table of the layers (name and type, output shape, parameter count) with
        the totals: a rich table on a terminal, plain text otherwise; returns the plain text."""
        if self._input_shape is not None:
            self._build_for(self._input_shape)
        rows = [(f"{layer.name} ({type(layer).__name__})", _shape_text(layer.output_shape), f"{layer.count_params():,}")
                for layer in self.layers]
        total, trainable = self.count_params(), sum(int(w.size) for w in self.trainable_weights)
        footer = [f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}"]
        text = _plain_table(f'Model: "{self.name}"', ("Layer (type)", "Output Shape", "Param #"), rows, footer)
        if print_fn is not None:
            print_fn(text)
        elif sys.stdout.isatty():
            _print_rich_table(f'Model: "{self.name}"', ("Layer (type)", "Output Shape", "Param #"), rows, footer)
        else:
            print(text)
        return text

    # ----- saving -----------------------------------------------------------
    def save(self, filepath):
        """Write the model (config, weights, optimizer state) to one .safetensors file, atomically."""
        from . import saving
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
            inputs, outputs = _Graph.rebuild(config)
            return cls(inputs, outputs, name=config["name"])
        return cls(**config)


class Sequential(Model):
    """A plain stack of layers, each taking the previous one's output."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def _output_layer(self):
        return self._layers[-1] if self._layers else None

    def add(self, layer):
        """Append a layer (or, first, an ``Input(shape)`` giving the input shape)."""
        if isinstance(layer, SymbolicTensor) and layer.layer is None:
            if self._layers:
                raise ValueError("add: an Input can only come first, before any layer")
            self._input_shape = layer.shape[1:]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"add: expected a Layer, got {type(layer).__name__}")
        self._layers.append(layer)
        if self._input_shape is None and len(self._layers) == 1 and layer.input_shape_hint is not None:
            self._input_shape = tuple(layer.input_shape_hint)
        if self._input_shape is not None:
            self._build_for(self._input_shape)

    def call(self, inputs, training=False):
        for layer in self._layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self):
        config = {"name": self.name, "layers": [serialize_layer(layer) for layer in self._layers]}
        if self._input_shape is not None:
            config["input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        model = cls(name=config["name"])
        if "input_shape" in config:
            model._input_shape = tuple(config["input_shape"])
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config))
        return model


class _Graph:
    """The layer calls between a functional model's Input and its output, in the order they run."""

    def __init__(self, inputs, outputs):
        self.input = _single(inputs, "inputs")
        self.output = _single(outputs, "outputs")
        if self.input.layer is not None:
            raise ValueError("inputs: expected the placeholder returned by Input(shape), got a layer's output")
        order, seen, stack = [], set(), [(self.output, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        for node in order:
            if node.layer is None and node is not self.input:
                raise ValueError("outputs: depends on an Input that is not the model's inputs")
        if self.input not in order:
            raise ValueError("outputs: does not depend on inputs")
        self.nodes = [node for node in order if node.layer is not None]
        self.layers = []
        for node in self.nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)

    def run(self, x, training):
        values, calls = {id(self.input): x}, {}
        for node in self.nodes:
            if node.call is not None and id(node.call) in calls:   # another entry of a list already computed
                values[id(node)] = calls[id(node.call)][node.output_index]
                continue
            args = [values[id(parent)] for parent in node.parents]
            output = node.layer(args if node.list_call else args[0], training=training)
            if node.call is not None:
                calls[id(node.call)] = output
                output = output[node.output_index]
            values[id(node)] = output
        return values[id(self.output)]

    def get_config(self):
        index, first_of_call = {id(self.input): 0}, {}
        nodes = [{"input_shape": list(self.input.shape[1:])}]
        for node in self.nodes:
            index[id(node)] = len(nodes)
            entry = {"layer": self.layers.index(node.layer), "parents": [index[id(p)] for p in node.parents],
                     "list_call": node.list_call}
            if node.call is not None:
                entry["output_index"] = node.output_index
                entry["call"] = first_of_call.setdefault(id(node.call), len(nodes))
            nodes.append(entry)
        return {"layers": [serialize_layer(layer) for layer in self.layers], "nodes": nodes,
                "output": index[id(self.output)]}

    @staticmethod
    def rebuild(config):
        from .layers.input import Input
        layers = [deserialize_layer(c) for c in config["layers"]]
        values, calls = [Input(tuple(config["nodes"][0]["input_shape"]))], {}
        for node in config["nodes"][1:]:
            if "output_index" in node:
                if node["call"] not in calls:
                    args = [values[i] for i in node["parents"]]
                    calls[node["call"]] = layers[node["layer"]](args if node["list_call"] else args[0])
                values.append(calls[node["call"]][node["output_index"]])
                continue
            args = [values[i] for i in node["parents"]]
            values.append(layers[node["layer"]](args if node["list_call"] else args[0]))
        return values[0], values[config["output"]]


def _single(value, name):
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name}: models with several inputs or outputs are not supported, got {len(value)}")
        value = value[0]
    if not isinstance(value, SymbolicTensor):
        raise TypeError(f"{name}: expected the result of Input(...) or of layers called on it, got {type(value).__name__}")
    return value


def _batch_size(batch_size, n):
    """None means the whole set (batch gradient descent); larger than the set is the whole set."""
    if batch_size is None:
        return n
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"batch_size: expected a positive int or None, got {batch_size!r}")
    return min(batch_size, n)


def serialize_layer(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config):
    return get_layer_class(config["class_name"]).from_config(config["config"])


def load_model(filepath, compile=True):
    """Rebuild a model saved by ``model.save`` (config, weights and, with ``compile``, its
    loss, metrics and optimizer state)."""
    from . import saving
    return saving.load_model(filepath, compile=compile)


def _shape_text(shape):
    return "?" if shape is None else "(" + ", ".join("None" if n is None else str(n) for n in shape) + ")"


def _plain_table(title, header, rows, footer):
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w for w in widths)
    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = [line.format(*row) for row in rows]
    return "\n".join([title, rule, line.format(*header), rule, *body, rule, *footer])


def _print_rich_table(title, header, rows, footer):
    from rich.console import Console
    from rich.table import Table
    table = Table(title=title, caption="\n".join(footer))
    for i, name in enumerate(header):
        table.add_column(name, justify="right" if i == 2 else "left")
    for row in rows:
        table.add_row(*row)
    Console().print(table)
