"""The chain rule for one weight, written out factor by factor.

For the weight w from unit i of layer l-1 to unit j of layer l,

    dE/dw = sum over samples s, sum over paths j -> k -> ... -> m to an output unit m of
            dE/dz_m * prod over the path's edges (w_edge * f'(z_unit)) * a_prev_i,

where dE/dz_m = dE/do_m * f'(z_m) for an elementwise output, or (o_m - y_m)/n for a
sigmoid or softmax output fused with its cross-entropy. Each factor keeps its
symbol and value (the local derivatives come from the engine), and the summed
product is compared with the gradient of the engine's backward pass.
"""
import itertools
from dataclasses import dataclass

import numpy as np

from . import derivatives as D
from . import render
from .trace import trace as trace_batch

MAX_TERMS = 20000


@dataclass
class Factor:
    symbol: str
    value: float
    meaning: str     # the partial derivative it is, e.g. ∂o/∂z_o


@dataclass
class Path:
    sample: int
    units: list      # unit symbols from the weight's unit to the output
    factors: list

    @property
    def value(self):
        return float(np.prod([f.value for f in self.factors]))

    @property
    def formula(self):
        return " · ".join(f.symbol for f in self.factors)


class Chain:
    """dE/dweight as a sum of products of factors: ``paths``, ``value`` (their sum),
    ``engine_value`` (the gradient from the engine's backward pass), ``weight`` (symbol)."""

    def __init__(self, weight, paths, engine_value, batch):
        self.weight, self.paths, self.engine_value, self.batch = weight, paths, float(engine_value), batch

    @property
    def value(self):
        return float(sum(path.value for path in self.paths))

    @property
    def formula(self):
        """The symbolic sum over the distinct unit paths (samples share the symbols)."""
        distinct = list(dict.fromkeys(path.formula for path in self.paths))
        body = " + ".join(distinct)
        if self.batch > 1:
            body = f"Σ over the {self.batch} samples of [{body}]"
        return f"dE/d{self.weight} = {body}"

    def tables(self, precision=6):
        fmt = lambda value: render.number(value, precision)  # noqa: E731
        tables = []
        for number, path in enumerate(self.paths[:64], start=1):
            title = f"Path {number}: " + " -> ".join(path.units)
            if self.batch > 1:
                title += f" (sample {path.sample + 1})"
            table = render.Table(title, ["factor", "is", "value"])
            table.rows = [[factor.symbol, factor.meaning, fmt(factor.value)] for factor in path.factors]
            table.notes.append(f"product = {fmt(path.value)}")
            tables.append(table)
        summary = render.Table(self.formula, [], notes=[
            f"sum of the {len(self.paths)} path products = {fmt(self.value)}",
            f"engine's gradient (backward pass)   = {fmt(self.engine_value)}"])
        if len(self.paths) > 64:
            summary.notes.insert(0, f"(first 64 of {len(self.paths)} paths shown)")
        return [summary] + tables

    def show(self, precision=6, console=None):
        render.show(self.tables(precision), console=console)

    def to_markdown(self, precision=6):
        return render.markdown(self.tables(precision))

    def __str__(self):
        return f"{self.formula} = {self.value:.10g}"

    def __repr__(self):
        return f"<Chain dE/d{self.weight} = {self.value:.6g} over {len(self.paths)} paths>"


def chain(model, x, y, layer=0, index=(0, 0), names=None):
    """The chain-rule product for one weight of a stack of Dense layers: a :class:`Chain`.

    ``layer`` is the position in ``model.layers``; ``index`` is (i, j) for
    kernel[i, j] (from input unit i to unit j) or (j,) for bias[j].
    """
    run = trace_batch(model, x, y, names=names)
    records = run.layers
    if len(run.dense_layers) != len(records):
        raise ValueError("chain: expects a model made only of Dense layers (each with a kernel), got "
                         + ", ".join(f"{r.name} ({r.activation})" for r in records))
    if not isinstance(layer, int) or not 0 <= layer < len(records):
        raise ValueError(f"layer: expected an int in [0, {len(records)}), got {layer!r}")
    record = records[layer]
    index = tuple(index)
    if len(index) == 1 and record.bias is None:
        raise ValueError(f"index: layer {layer} ({record.name}) has no bias, got bias index {index}")
    shape = record.kernel.shape if len(index) == 2 else record.bias.shape
    if len(index) not in (1, 2) or not all(isinstance(n, (int, np.integer)) and 0 <= n < size
                                           for n, size in zip(index, shape)):
        raise ValueError(f"index: expected (i, j) within kernel shape {record.kernel.shape} or (j,) "
                         f"for the bias, got {index}")
    for hidden in records[layer:-1]:
        if not D.is_elementwise(hidden.activation):
            raise ValueError(f"chain: hidden layer {hidden.name} has a {hidden.activation} activation, "
                             f"which is not elementwise; its Jacobian is not one factor per unit")
    terms = len(run.x) * int(np.prod([r.kernel.shape[1] for r in records[layer + 1:]], dtype=np.int64))
    if terms > MAX_TERMS:
        raise ValueError(f"chain: the weight reaches the output along {terms} paths (samples included), more than "
                         f"{MAX_TERMS}; use a smaller network or batch, or read the deltas of trace()")
    return _Builder(run, model).chain(layer, index)


class _Builder:
    def __init__(self, run, model):
        self.run, self.model, self.records, self.sym = run, model, run.layers, run.symbols
        self.layers_by_name = {layer.name: layer for layer in model.layers}
        self.slopes = [None if r.activation == "linear" or not D.is_elementwise(r.activation)
                       else D.activation_derivative(self.layers_by_name[r.name], r.z) for r in self.records]
        last = self.records[-1]
        self.output_is_delta = run.fused_output or not D.is_elementwise(last.activation)
        self.grad_output = None if self.output_is_delta else D.output_gradient(model, run.y, last.a)

    def chain(self, layer, index):
        depth = len(self.records)
        j = index[-1]
        if len(index) == 2:
            weight = self.sym.weight(layer + 1, index[0], j)
            engine_value = self.records[layer].grad_kernel[index]
        else:
            weight = self.sym.bias(layer + 1, j)
            engine_value = self.records[layer].grad_bias[j]
        widths = [r.kernel.shape[1] for r in self.records[layer + 1:]]
        paths = []
        for s in range(len(self.run.x)):
            for route in itertools.product(*(range(w) for w in widths)):
                units = (j,) + route    # unit index in layers layer, layer+1, ..., depth-1
                paths.append(self._path(s, layer, units, index, weight, depth))
        return Chain(weight, paths, engine_value, len(self.run.x))

    def _path(self, s, layer, units, index, weight, depth):
        sym, records = self.sym, self.records
        names = [sym.unit(layer + 1 + k, u) for k, u in enumerate(units)]
        factors = self._output_factors(s, units[-1], names[-1])
        for k in range(len(units) - 1, 0, -1):      # edge from unit units[k-1] of layer+k-1 to units[k]
            d = layer + k
            factors.append(Factor(sym.weight(d + 1, units[k - 1], units[k]), records[d].kernel[units[k - 1], units[k]],
                                  f"∂z_{names[k]}/∂{names[k - 1]}"))
            factors += self._slope_factors(s, d - 1, units[k - 1], names[k - 1])
        if len(index) == 2:
            source = sym.unit(layer, index[0])
            factors.append(Factor(source, records[layer].inputs[s, index[0]], f"∂z_{names[0]}/∂{weight}"))
        return Path(s, names, factors)

    def _slope_factors(self, s, d, unit, name):
        slope = self.slopes[d]
        if slope is None:
            return []
        return [Factor(D.derivative_symbol(self.records[d].activation, name), slope[s, unit], f"∂{name}/∂z_{name}")]

    def _output_factors(self, s, m, name):
        last = self.records[-1]
        target = self.sym.target(m)
        count = D.averaged_count(self.model, last.a)
        if self.output_is_delta:
            symbol = (D.fused_delta_symbol(name, target, count) if self.run.fused_output
                      else f"dE/dz_{name}")
            return [Factor(symbol, last.delta[s, m], f"∂E/∂z_{name}")]
        loss_name = D.compiled_loss(self.model).name
        factors = [Factor(D.output_gradient_symbol(loss_name, name, target, count), self.grad_output[s, m],
                          f"∂E/∂{name}")]
        return factors + self._slope_factors(s, len(self.records) - 1, m, name)
