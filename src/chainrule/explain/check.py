"""Central finite differences for every number of a trace: the independent witness."""
import contextlib
from dataclasses import dataclass

import numpy as np

from ..tensor import Tensor
from .trace import float64, loss_value


@dataclass
class CheckRow:
    layer: str
    quantity: str      # "kernel", "bias" (gradients) or "delta"
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
    model, x, y = trace.model, np.asarray(trace.x, dtype=np.float64), trace.y
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    n = len(x)
    rows = []

    def compare(record, quantity, index, numeric):
        recorded = float(getattr(record, quantity if quantity == "delta" else f"grad_{quantity}")[index])
        ok = abs(recorded - numeric) <= atol + rtol * abs(numeric)
        rows.append(CheckRow(record.name, quantity, index, recorded, numeric, ok))

    with float64(model):
        for layer, record in zip(model.layers, trace.layers):
            for quantity in ("kernel", "bias"):
                if getattr(record, quantity) is None:
                    continue
                values = getattr(layer, quantity).data
                for index in np.ndindex(*values.shape):
                    compare(record, quantity, index, _derivative(values, index, eps, lambda: loss_value(model, x, y)))
            if record.delta is None or record.kernel is None:
                continue
            with _bias_present(layer) as bias:
                for s, j in np.ndindex(*record.delta.shape):
                    single = lambda: loss_value(model, x[s:s + 1], y[s:s + 1])  # noqa: E731
                    compare(record, "delta", (s, j), _derivative(bias.data, (j,), eps, single) / n)
    return CheckReport(rows)


def _derivative(values, index, eps, loss):
    original = values[index]
    values[index] = original + eps
    plus = loss()
    values[index] = original - eps
    minus = loss()
    values[index] = original
    return (plus - minus) / (2 * eps)


@contextlib.contextmanager
def _bias_present(layer):
    """The layer's bias; a layer built without one gets a zero bias for the duration (z moves with it)."""
    if layer.bias is not None:
        yield layer.bias
        return
    layer.bias = Tensor(np.zeros(layer.kernel.shape[1]))
    try:
        yield layer.bias
    finally:
        layer.bias = None
