"""Central finite differences for every number of a trace: the independent witness."""
import contextlib
from dataclasses import dataclass

import numpy as np

from ..gradcheck import central_difference, within_tolerance
from ..tensor import Tensor, float64, no_grad
from .records import layer_z, parts, trainable_named_weights, traced_layers


@dataclass
class CheckRow:
    layer: str
    quantity: str      # a weight's name (gradients), "delta", or "delta[k]" for entry k of a list output
    index: tuple
    recorded: float    # the trace's value
    numeric: float     # the central-difference estimate
    ok: bool


class CheckReport:
    """The outcome of :meth:`Trace.check`: ``ok``, ``rows`` (one per value), ``failures``, ``max_error``."""

    def __init__(self, rows):
        self.rows = rows

    @property
    def failures(self):
        return [row for row in self.rows if not row.ok]

    @property
    def ok(self):
        return not self.failures

    @property
    def max_error(self):
        return max((abs(r.recorded - r.numeric) for r in self.rows), default=0.0)

    def __bool__(self):
        return self.ok

    def __str__(self):
        counts = {}
        for row in self.rows:
            counts[row.quantity] = counts.get(row.quantity, 0) + 1
        what = ", ".join(f"{n} {q} values" for q, n in counts.items())
        if self.ok:
            return (f"check passed: {what} agree with central finite differences in float64 "
                    f"(max |error| {self.max_error:.2e})")
        lines = [f"check FAILED: {len(self.failures)} of {len(self.rows)} values disagree with central differences"]
        for row in self.failures[:10]:
            lines.append(f"  {row.layer} {row.quantity}{list(row.index)}: trace {row.recorded:.10g}, "
                         f"finite differences {row.numeric:.10g}")
        return "\n".join(lines)


def check_trace(trace, eps=1e-6, rtol=None, atol=None):
    recorded_dtype = trace.layers[-1].a.dtype
    if rtol is None:
        rtol = 1e-6 if recorded_dtype == np.float64 else 1e-3
    if atol is None:
        atol = 1e-9 if recorded_dtype == np.float64 else 1e-6
    model, x, y = trace.model, _float64(trace.x), _float64(trace.y)
    loss = lambda: loss_value(model, x, y)  # noqa: E731
    rows = []

    def compare(record, quantity, index, recorded, numeric):
        recorded = float(recorded[index])
        rows.append(CheckRow(record.name, quantity, index, recorded, numeric,
                             within_tolerance(recorded, numeric, rtol, atol)))

    with float64(model.weights):
        for layer, record in zip(traced_layers(model), trace.layers):
            named = trainable_named_weights(layer)
            for name, gradient in record.grads.items():
                values = named[name].data
                for index in np.ndindex(*values.shape):
                    compare(record, name, index, gradient, central_difference(loss, values, index, eps))
            listed = isinstance(record.delta, list)
            for entry, delta in enumerate(parts(record.delta)):
                with _z_offset(layer, delta.shape, entry if listed else None, record.calls) as offsets:
                    for index in np.ndindex(*delta.shape):
                        compare(record, f"delta[{entry}]" if listed else "delta", index, delta,
                                central_difference(loss, offsets, index, eps))
    return CheckReport(rows)


def _float64(values):
    """Float data in float64, in its structure (a list or dict for several inputs or outputs)."""
    if isinstance(values, dict):
        return {key: _float64(value) for key, value in values.items()}
    if isinstance(values, list):
        return [_float64(value) for value in values]
    return values.astype(np.float64) if values.dtype.kind == "f" else values


@contextlib.contextmanager
def _z_offset(layer, shape, entry=None, calls=1):
    """While open, the array yielded (zeros of ``shape``) is added to z of ``layer`` in every forward
    pass, through a forward hook; z is the tensor the trace took the delta of: the pre-activation the
    output is marked with (the output is then recomputed as ``layer.activate(z + offsets)``), else the
    output itself (its ``entry``-th tensor for a list output). A layer that runs ``calls`` times in a
    pass (shared) is moved in its last run only, the one the trace recorded."""
    offsets = np.zeros(shape)
    runs = [0]

    def moved(tensor):
        return Tensor(tensor.data + offsets)

    def hook(hooked, inputs, output):
        runs[0] += 1
        if not offsets.any() or runs[0] % calls:
            return None
        z = layer_z({"input": inputs, "output": output})
        if isinstance(z, Tensor) and z is not output:
            return hooked.activate(moved(z))
        if entry is None:
            return moved(output)
        return [moved(part) if k == entry else part for k, part in enumerate(output)]

    handle = layer.register_forward_hook(hook)
    try:
        yield offsets
    finally:
        handle.remove()


def loss_value(model, x, y):
    """The loss ``fit`` would compute, as a float, without recording a graph."""
    with no_grad():
        return float(model.compute_loss(x, y, training=False).data)
