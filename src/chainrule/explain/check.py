"""Central finite differences for every number of a trace: the independent witness."""
import contextlib
from dataclasses import dataclass

import numpy as np

from .trace import float64, loss_value, named_weights, parts


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
        ok = abs(recorded - numeric) <= atol + rtol * abs(numeric)
        rows.append(CheckRow(record.name, quantity, index, recorded, numeric, ok))

    with float64(model):
        for layer, record in zip(model.layers, trace.layers):
            named = named_weights(layer)
            for name, gradient in record.grads.items():
                values = named[name].data
                for index in np.ndindex(*values.shape):
                    compare(record, name, index, gradient, _derivative(_entry_mover(values, index), eps, loss))
            listed = isinstance(record.delta, list)
            for entry, delta in enumerate(parts(record.delta)):
                with _z_nudged(layer, delta.shape, entry if listed else None) as nudge:
                    for index in np.ndindex(*delta.shape):
                        compare(record, f"delta[{entry}]" if listed else "delta", index, delta,
                                _derivative(lambda step: nudge.update(index=index, step=step), eps, loss))
    return CheckReport(rows)


def _float64(values):
    return values.astype(np.float64) if values.dtype.kind == "f" else values


def _derivative(move, eps, loss):
    """(L(+eps) - L(-eps)) / (2 eps), ``move(step)`` putting the quantity at its value + step."""
    move(eps)
    plus = loss()
    move(-eps)
    minus = loss()
    move(0.0)
    return (plus - minus) / (2 * eps)


def _entry_mover(values, index):
    """move(step): values[index] <- its original value + step."""
    original = values[index]

    def move(step):
        values[index] = original + step
    return move


class _NudgingRecords(dict):
    """A layer's records that add ``step`` to z[index] as the layer records z."""

    def __init__(self, nudge):
        super().__init__()
        self.nudge = nudge

    def __setitem__(self, key, tensor):
        super().__setitem__(key, _nudged(tensor, self.nudge) if key == "z" else tensor)


def _nudged(tensor, nudge):
    """The batch's z moved by step at index (a forward pass on other shapes, e.g. the model's probe of its
    output shape, is left alone)."""
    if nudge["step"] and tensor.shape == nudge["shape"]:
        data = tensor.data.copy()
        data[nudge["index"]] += nudge["step"]
        tensor.data = data
    return tensor


@contextlib.contextmanager
def _z_nudged(layer, shape, entry=None):
    """While open, the dict yielded ({"index", "step"}) moves z[index] of ``layer`` by step in every
    forward pass where z has ``shape``; z is the tensor the trace took the delta of: the recorded z,
    else the output (its ``entry``-th tensor when the layer returns a list)."""
    nudge = {"index": None, "step": 0.0, "shape": tuple(shape)}
    previous = layer._records

    def call(inputs, training=False):
        layer._records = records = _NudgingRecords(nudge)
        output = type(layer).call(layer, inputs, training=training)
        if "z" in records:
            return output
        if entry is not None:
            _nudged(output[entry], nudge)
            return output
        return _nudged(output, nudge)

    layer.call = call
    try:
        yield nudge
    finally:
        del layer.call
        layer._records = previous
