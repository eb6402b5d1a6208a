"""One forward and backward pass, layer by layer, with the numbers the engine itself computes.

``trace(model, x, y)`` runs ``model.compute_loss`` (the path ``fit`` takes) with a
forward hook on each layer (``Layer.register_forward_hook``) that keeps its input,
its output and the output's pre-activation z (``output.preactivation``), keeps each
z with ``retain_grad()``, calls ``backward()`` once and reads, per layer,

    z = a_prev @ W + b,   a = f(z),
    delta = dL/dz                      (z.grad, from the reverse sweep),
    dL/dW = a_prev^T @ delta,  dL/db = sum over the batch of delta   (W.grad, b.grad).

z is the pre-activation a layer marks its output with (Dense, Conv, the input
projection of a recurrent layer); a layer that marks none (pooling, normalization,
Flatten, Embedding, Bidirectional...) has a = z, so its delta is dL/d(output); a layer
that returns a list (``return_state``) has one delta per entry, zeros for an entry the
loss does not use. Every weight the backward pass reaches has its gradient in the
record's ``grads``. Whether the output delta is the fused (o - y)/n is the compiled
loss's own decision on the model's output tensor (``Loss.fuses``), kept as
``Trace.fused_output``.

Nothing is recomputed by a second implementation: the deltas and gradients are
the adjoints the graph produced, so they are the ones an optimizer would apply.
"""
import contextlib
import json
from typing import NamedTuple

import numpy as np

from .. import activations
from ..optimizers import SGD
from ..tensor import Tensor, default_dtype
from . import render
from .check import check_trace, loss_value
from .phases import trace_tables
from .records import LayerRecord, layer_z, parts, trainable_named_weights, traced_layers
from .symbols import Symbols


class Step(NamedTuple):
    """``weights``: per layer, {"kernel": W - lr dL/dW, "bias": b - lr dL/db}; ``trace``: the next pass."""

    weights: list
    trace: "Trace"


def trace(model, x, y, learning_rate=None, names=None):
    """Trace one batch through ``model`` (built and compiled): a :class:`Trace`.

    The pass runs in inference mode (``training=False``: no dropout), in the
    dtype of the model's weights. Floating inputs of a layer enter as leaves that
    require a gradient, so a first layer without weights (Flatten, Dropout) gets its
    delta too. ``learning_rate`` (default: the compiled optimizer's when it is plain SGD)
    is used by ``step`` and the update phase of the renderings; ``names``
    overrides symbols (see :class:`Symbols`). The model's weights and their
    ``.grad`` are left as they were.
    """
    if not model.weights:
        loss_value(model, x, y)   # a model given no input shape builds its weights on the first batch
    layers = traced_layers(model)
    with _recording(model, layers) as (captured, model_output), _grads_set_aside(model.weights), \
            default_dtype(model.weights[0].dtype):
        loss = model.compute_loss(x, y, training=False)
        for seen in captured:
            for z in parts(layer_z(seen)):
                if z.requires_grad:
                    z.retain_grad()
        loss.backward()
        records = [_layer_record(layer, seen) for layer, seen in zip(layers, captured)]
        single = model.compiled_loss.single
        fused = single is not None and single.fuses(model_output["output"])
    if learning_rate is None:
        learning_rate = _optimizer_learning_rate(model)
    return Trace(model, _array(x), _array(y), float(loss.data), records, learning_rate, names, fused)


def _array(values):
    """Data as arrays, in its structure (a list or dict for a model with several inputs or outputs)."""
    if isinstance(values, dict):
        return {key: _array(value) for key, value in values.items()}
    if isinstance(values, (list, tuple)) and any(hasattr(value, "shape") for value in values):
        return [_array(value) for value in values]
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _optimizer_learning_rate(model):
    """The learning rate of a compiled plain SGD (whose step is w <- w - lr dL/dw), else None."""
    optimizer = getattr(model, "optimizer", None)
    if not isinstance(optimizer, SGD) or optimizer.momentum:
        return None
    return float(optimizer.learning_rate)


def _as_leaf(layer, inputs):
    """A layer's floating input that records no gradient, as a leaf that requires one (else unchanged)."""
    if isinstance(inputs, Tensor) and not inputs.requires_grad and inputs.dtype.kind == "f":
        return Tensor(inputs.data, requires_grad=True)
    return None


@contextlib.contextmanager
def _recording(model, layers):
    """Hooks that keep each layer's input and output (one dict per layer) and the model's output."""
    captured, model_output, handles = [], {}, []

    def keeper(seen):
        def keep(layer, inputs, output):
            seen["input"], seen["output"] = inputs, output
            seen["calls"] = seen.get("calls", 0) + 1
        return keep

    for layer in layers:
        seen = {}
        captured.append(seen)
        handles.append(layer.register_forward_pre_hook(_as_leaf))
        handles.append(layer.register_forward_hook(keeper(seen)))
    handles.append(model.register_forward_hook(keeper(model_output)))
    try:
        yield captured, model_output
    finally:
        for handle in handles:
            handle.remove()


@contextlib.contextmanager
def _grads_set_aside(weights):
    """Start the backward pass from empty ``.grad`` and put the previous ones back afterwards."""
    previous = [w.grad for w in weights]
    for w in weights:
        w.grad = None
    try:
        yield
    finally:
        for w, grad in zip(weights, previous):
            w.grad = grad


def _delta(z):
    """dL/dz from the reverse sweep: an array, a list of arrays for a list z (zeros for an entry
    the loss does not use), or None when the sweep did not reach z."""
    if isinstance(z, list):
        if all(entry.grad is None for entry in z):
            return None
        return [np.zeros_like(entry.data) if entry.grad is None else np.array(entry.grad) for entry in z]
    return None if z is None or z.grad is None else np.array(z.grad)


def _values(value):
    return value.data.copy() if isinstance(value, Tensor) else [_values(v) for v in value]


def _layer_record(layer, seen):
    if "output" not in seen:
        raise ValueError(f"trace: layer {layer.name!r} was not called by model.compute_loss")
    output, z = _values(seen["output"]), layer_z(seen)
    activation = getattr(layer, "activation", None)
    named = trainable_named_weights(layer)
    weights = {name: weight.data.copy() for name, weight in named.items()}
    grads = {name: _grad(weight) for name, weight in named.items()}
    return LayerRecord(
        name=layer.name,
        activation=_activation_name(activation) if activation is not None else type(layer).__name__.lower(),
        inputs=_values(seen["input"]),
        z=output if z is None or z is seen["output"] else z.data.copy(),
        a=output,
        delta=_delta(z),
        kernel=weights.get("kernel"),
        bias=weights.get("bias"),
        grad_kernel=grads.get("kernel"),
        grad_bias=grads.get("bias"),
        weights=weights,
        grads=grads,
        calls=seen.get("calls", 1))


def _activation_name(activation):
    try:
        return activations.serialize(activation)
    except ValueError:
        return getattr(activation, "__name__", "custom")


def _grad(weight):
    return np.zeros_like(weight.data) if weight.grad is None else np.array(weight.grad)


@contextlib.contextmanager
def _weights_replaced(layers, values):
    """Temporarily give each layer's weights the arrays in ``values`` (a dict name -> array per layer)."""
    saved = []
    for layer, new in zip(layers, values):
        named = trainable_named_weights(layer)
        for key, array in new.items():
            weight = named[key]
            saved.append((weight, weight.data))
            weight.data = np.asarray(array, dtype=weight.data.dtype)
    try:
        yield
    finally:
        for weight, data in saved:
            weight.data = data


class Trace:
    """The forward pass, the deltas and the gradients of one batch.

    ``loss`` (float), ``layers`` (one :class:`LayerRecord` per layer),
    ``output`` (the last layer's activation), ``x``, ``y``; ``fused_output``: whether the
    loss took the output's logits, so the output delta is (o - y)/n.
    """

    def __init__(self, model, x, y, loss, layers, learning_rate=None, names=None, fused_output=False):
        self.model, self.x, self.y, self.loss, self.layers = model, x, y, loss, layers
        self.fused_output = fused_output
        self.learning_rate = learning_rate
        self.names = names
        dense = self.dense_layers
        widths = [dense[0].kernel.shape[0]] + [r.kernel.shape[1] for r in dense] if dense else []
        self.symbols = Symbols(widths, names)

    @property
    def output(self):
        return self.layers[-1].a

    @property
    def dense_layers(self):
        """The records of layers with a kernel of shape (in, units) on inputs (batch, in): Dense layers
        on flat inputs (numbered 1, 2, ... in the symbols)."""
        return [r for r in self.layers if r.kernel is not None and r.kernel.ndim == 2
                and isinstance(r.inputs, np.ndarray) and r.inputs.ndim == 2 and r.z.ndim == 2]

    @property
    def unit_by_unit(self):
        """Whether the network can be shown unit by unit: every layer with weights is a Dense layer
        on flat inputs and the output is (batch, units)."""
        dense = {id(r) for r in self.dense_layers}
        return (bool(dense) and len(self.model.output_names) == 1 and self.output.ndim == 2
                and all(id(r) in dense for r in self.layers if r.grads))

    # ----- one gradient descent step ---------------------------------------
    def _rate(self, learning_rate):
        rate = self.learning_rate if learning_rate is None else learning_rate
        if rate is None or not rate > 0:
            raise ValueError(f"learning_rate: expected a positive number, got {rate!r}")
        return float(rate)

    def updated_weights(self, learning_rate=None):
        """Per layer, the weights after W <- W - lr dL/dW, by name (empty dict for a layer without weights)."""
        rate = self._rate(learning_rate)
        return [{name: value - rate * record.grads[name] for name, value in record.weights.items()}
                for record in self.layers]

    def step(self, learning_rate=None):
        """One step of gradient descent: ``Step(weights, trace)``, the updated weights and the
        trace of the forward pass that follows. The model's own weights are left unchanged."""
        rate = self._rate(learning_rate)
        weights = self.updated_weights(rate)
        with _weights_replaced(traced_layers(self.model), weights):
            after = trace(self.model, self.x, self.y, rate, self.names)
        return Step(weights, after)

    # ----- verification ----------------------------------------------------
    def check(self, eps=1e-6, rtol=None, atol=None):
        """Compare every delta and gradient with central finite differences of the loss in float64.

        dL/dW[i] ~ (L(W + eps e_i) - L(W - eps e_i)) / (2 eps) for every entry i of every
        weight in ``grads``; delta[i] = dL/dz[i] ~ (L(z + eps e_i) - L(z - eps e_i)) / (2 eps),
        with z nudged where the layer hands it to the trace, for every entry of every delta.
        Returns a :class:`CheckReport` (truthy when every value agrees).
        """
        return check_trace(self, eps=eps, rtol=rtol, atol=atol)

    # ----- renderings ------------------------------------------------------
    def tables(self, learning_rate=None, precision=6):
        """The phases as tables: forward, output delta, delta rule per layer, gradients, update."""
        return trace_tables(self, learning_rate, precision)

    def show(self, learning_rate=None, precision=6, console=None):
        """Print the phases as rich tables (plain markdown when rich is not installed)."""
        render.show(self.tables(learning_rate, precision), console=console)

    def to_markdown(self, learning_rate=None, precision=6):
        return render.markdown(self.tables(learning_rate, precision))

    def to_dict(self):
        """Every number of the trace; an array of more than ``MAX_JSON_VALUES`` values is summarised
        as its shape, norm, range and first values."""
        return {
            "loss": self.loss,
            "inputs": render.listed(self.x),
            "targets": render.listed(self.y),
            "output": render.listed(self.output),
            "learning_rate": self.learning_rate,
            "layers": [{key: render.listed(value) for key, value in vars(record).items()} for record in self.layers],
        }

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self):
        return f"<Trace loss={self.loss:.6g} layers={[r.name for r in self.layers]}>"
