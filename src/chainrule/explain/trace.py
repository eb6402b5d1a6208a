"""One forward and backward pass, layer by layer, with the numbers the engine itself computes.

``trace(model, x, y)`` runs ``model.compute_loss`` (the path ``fit`` takes),
keeps each layer's z with ``retain_grad()``, calls ``backward()`` once and reads,
per layer,

    z = a_prev @ W + b,   a = f(z),
    delta = dL/dz                      (z.grad, from the reverse sweep),
    dL/dW = a_prev^T @ delta,  dL/db = sum over the batch of delta   (W.grad, b.grad).

z is the pre-activation a layer records (Dense, Conv, the input projection of a
recurrent layer); a layer that records none (pooling, normalization, Flatten,
Embedding, Bidirectional...) has a = z, so its delta is dL/d(output); a layer that
returns a list (``return_state``) has one delta per entry, zeros for an entry the loss
does not use. Every weight the backward pass reaches has its gradient in the record's
``grads``.

Nothing is recomputed by a second implementation: the deltas and gradients are
the adjoints the graph produced, so they are the ones an optimizer would apply.
"""
import contextlib
import json
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..tensor import Tensor, no_grad, get_default_dtype, set_default_dtype
from . import render
from .symbols import Symbols


@dataclass
class LayerRecord:
    """One layer's share of the pass.

    ``weights`` and ``grads`` map each weight's name ("kernel", "recurrent_kernel",
    "gamma", "forward_gru/kernel"...) to its value and dL/dweight; ``kernel``,
    ``bias``, ``grad_kernel`` and ``grad_bias`` are the entries named "kernel" and
    "bias" (the same arrays), None for a layer without them.
    """

    name: str
    activation: str
    inputs: np.ndarray       # a_prev, the layer's input
    z: np.ndarray            # pre-activation; the output itself (``z is a``) for a layer that records none
    a: np.ndarray            # the layer's output
    delta: np.ndarray        # dL/dz (a list of arrays for a list output; None if not reached)
    kernel: np.ndarray = None
    bias: np.ndarray = None
    grad_kernel: np.ndarray = None  # a_prev^T @ delta
    grad_bias: np.ndarray = None    # delta summed over the batch
    weights: dict = field(default_factory=dict)
    grads: dict = field(default_factory=dict)


class Step(NamedTuple):
    """``weights``: per layer, {"kernel": W - lr dL/dW, "bias": b - lr dL/db}; ``trace``: the next pass."""

    weights: list
    trace: "Trace"


def trace(model, x, y, learning_rate=None, names=None):
    """Trace one batch through ``model`` (built and compiled): a :class:`Trace`.

    The pass runs in inference mode (``training=False``: no dropout), in the
    dtype of the model's weights. Floating inputs enter as leaves that require a
    gradient, so a first layer without weights (Flatten, Dropout) gets its delta
    too. ``learning_rate`` (default: the compiled optimizer's when it is plain SGD)
    is used by ``step`` and the update phase of the renderings; ``names``
    overrides symbols (see :class:`Symbols`). The model's weights and their
    ``.grad`` are left as they were.
    """
    if not model.weights:
        loss_value(model, x, y)   # a model given no input shape builds its weights on the first batch
    layers = list(model.layers)
    with _recording(layers) as captured, _grads_set_aside(model.weights), default_dtype(model.weights[0].dtype):
        loss = model.compute_loss(x, y, training=False)
        for records in captured:
            for z in parts(_z(records)):
                if z.requires_grad:
                    z.retain_grad()
        loss.backward()
        records = [_layer_record(layer, seen) for layer, seen in zip(layers, captured)]
    if learning_rate is None:
        learning_rate = _optimizer_learning_rate(model)
    return Trace(model, _array(x), _array(y), float(loss.data), records, learning_rate, names)


def _array(values):
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _optimizer_learning_rate(model):
    """The learning rate of a compiled plain SGD (whose step is w <- w - lr dL/dw), else None."""
    optimizer = getattr(model, "optimizer", None)
    if type(optimizer).__name__ != "SGD" or optimizer.momentum:
        return None
    return float(optimizer.learning_rate)


@contextlib.contextmanager
def _recording(layers):
    """Each layer records z in ``_records``; its ``call`` is wrapped to keep its input and output."""
    captured, previous = [], [layer._records for layer in layers]
    for layer in layers:
        records = {}
        captured.append(records)
        layer._records = records
        layer.call = _capturing(type(layer).call.__get__(layer), records)
    try:
        yield captured
    finally:
        for layer, records in zip(layers, previous):
            layer._records = records
            del layer.call


def _capturing(call, records):
    def wrapped(inputs, training=False):
        if isinstance(inputs, Tensor) and not inputs.requires_grad and inputs.dtype.kind == "f":
            inputs = Tensor(inputs.data, requires_grad=True)
        output = call(inputs, training=training)
        records["input"], records["output"] = inputs, output
        return output
    return wrapped


@contextlib.contextmanager
def default_dtype(dtype):
    """Arrays made from inputs take ``dtype`` for the duration (a no-op for the usual float32 model)."""
    previous = get_default_dtype()
    set_default_dtype(dtype)
    try:
        yield
    finally:
        set_default_dtype(previous)


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


def _z(records):
    """The tensor whose gradient is the layer's delta: its pre-activation z, else its output (a = z);
    a list of tensors for a layer that returns several (``return_state``)."""
    z = records.get("z", records.get("output"))
    if isinstance(z, list):
        return z if all(isinstance(entry, Tensor) for entry in z) else None
    return z if isinstance(z, Tensor) else None


def parts(value):
    """``value`` as a list: the entries of a layer's list output, [value] for one array or tensor, [] for None."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def joint_norm(arrays):
    """sqrt(sum of squares of every entry of every array): one norm for several arrays (0 for none)."""
    return float(np.sqrt(sum(np.sum(np.square(a)) for a in arrays)))


def _delta(z):
    """dL/dz from the reverse sweep: an array, a list of arrays for a list z (zeros for an entry
    the loss does not use), or None when the sweep did not reach z."""
    if isinstance(z, list):
        if all(entry.grad is None for entry in z):
            return None
        return [np.zeros_like(entry.data) if entry.grad is None else np.array(entry.grad) for entry in z]
    return None if z is None or z.grad is None else np.array(z.grad)


def named_weights(layer):
    """The weights of ``layer`` (its sublayers' included) that take a gradient, by name without the layer's."""
    prefix = f"{layer.name}/"
    return {name[len(prefix):] if name.startswith(prefix) else name: weight
            for name, weight, _ in layer._weight_entries() if weight.requires_grad}


def _values(value):
    return value.data.copy() if isinstance(value, Tensor) else [_values(v) for v in value]


def _layer_record(layer, seen):
    if "output" not in seen:
        raise ValueError(f"trace: layer {layer.name!r} was not called by model.compute_loss")
    output, z = _values(seen["output"]), _z(seen)
    activation = getattr(layer, "activation", None)
    named = named_weights(layer)
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
        grads=grads)


def _activation_name(activation):
    from .. import activations
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
        named = named_weights(layer)
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
    ``output`` (the last layer's activation), ``x``, ``y``.
    """

    def __init__(self, model, x, y, loss, layers, learning_rate=None, names=None):
        self.model, self.x, self.y, self.loss, self.layers = model, x, y, loss, layers
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
        return bool(dense) and self.output.ndim == 2 and all(id(r) in dense for r in self.layers if r.grads)

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
        with _weights_replaced(self.model.layers, weights):
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
        from .check import check_trace
        return check_trace(self, eps=eps, rtol=rtol, atol=atol)

    # ----- renderings ------------------------------------------------------
    def tables(self, learning_rate=None, precision=6):
        """The phases as tables: forward, output delta, delta rule per layer, gradients, update."""
        from .phases import trace_tables
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
            "inputs": _listed(self.x),
            "targets": _listed(self.y),
            "output": _listed(self.output),
            "learning_rate": self.learning_rate,
            "layers": [{key: _listed(value) for key, value in vars(record).items()} for record in self.layers],
        }

    def to_json(self, indent=2):
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self):
        return f"<Trace loss={self.loss:.6g} layers={[r.name for r in self.layers]}>"


MAX_JSON_VALUES = 1024


def _listed(value):
    """``value`` as JSON-ready lists and dicts, arrays over ``MAX_JSON_VALUES`` values summarised."""
    if isinstance(value, dict):
        return {key: _listed(v) for key, v in value.items()}
    if isinstance(value, list):
        return [_listed(v) for v in value]
    if not isinstance(value, np.ndarray):
        return value
    if value.size <= MAX_JSON_VALUES:
        return value.tolist()
    flat = value.ravel()
    return {"shape": list(value.shape), "norm": float(np.linalg.norm(flat)), "min": float(flat.min()),
            "max": float(flat.max()), "first": flat[:8].tolist()}


@contextlib.contextmanager
def float64(model):
    """Run ``model`` in float64: its weights and the default dtype, restored afterwards."""
    weights = model.weights
    saved = [w.data for w in weights]
    for w in weights:
        w.data = w.data.astype(np.float64)
    try:
        with default_dtype(np.float64):
            yield
    finally:
        for w, data in zip(weights, saved):
            w.data = data


def loss_value(model, x, y):
    """The loss ``fit`` would compute, as a float, without recording a graph."""
    with no_grad():
        return float(model.compute_loss(x, y, training=False).data)
