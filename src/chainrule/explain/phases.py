"""A trace as tables, one per phase of backpropagation.

forward:      z_j = sum_i a_prev_i w_ij + b_j,  a_j = f(z_j)
output delta: delta_o = dL/dz_o  (= dL/do * f'(z_o), or (o - y)/n when fused)
delta rule:   delta_j = (sum_k delta_next_k w_jk) * f'(z_j)
gradients:    dL/dw_ij = a_prev_i delta_j (summed over the batch),  dL/db_j = delta_j
update:       w <- w - lr dL/dw
A stack of Dense layers is shown unit by unit (large ones in part: the first units and
samples). Any other network (convolution, pooling, normalization, recurrent, embedding
layers) is shown layer by layer, each array as its shape, norm and first values.
"""

import numpy as np

from . import derivatives as D
from .render import Table, number, summary
from .records import joint_norm, parts

MAX_UNITS = 16
MAX_SAMPLES = 4
MAX_EXPANDED = 4  # terms written out in a sum


def trace_tables(trace, learning_rate=None, precision=6):
    fmt = lambda value: number(value, precision)  # noqa: E731
    rate = trace.learning_rate if learning_rate is None else learning_rate
    if not trace.unit_by_unit:
        return _layer_tables(trace, rate, fmt)
    dense = trace.dense_layers
    if len(dense) != len(trace.layers):
        skipped = ", ".join(r.name for r in trace.layers if r.kernel is None)
        note = [f"layers without weights ({skipped}) pass values through and are left out of the tables"]
    else:
        note = []
    context = _Context(trace, fmt)
    tables = [context.forward(note), context.output_delta()]
    deltas = context.delta_rule if not note else context.deltas   # the rule's terms need consecutive Dense layers
    tables += [deltas(l) for l in range(len(dense) - 1, 0, -1)]
    tables.append(context.gradients())
    if rate is not None:
        tables.append(context.update(rate))
    return tables


def _layer_tables(trace, rate, fmt):
    """The phases layer by layer, for any network."""
    cell = lambda values: summary(values, fmt)  # noqa: E731
    kinds = {layer.name: type(layer).__name__ for layer in trace.model.layers}
    forward = Table("Forward pass: z = the layer's pre-activation (its output where it has none), a = f(z)",
                    ["layer", "kind", "z", "a"], notes=[f"input x: {cell(trace.x)}"])
    for l, record in enumerate(trace.layers, start=1):
        kind = kinds[record.name]
        if record.activation != kind.lower():
            kind += f" ({record.activation})"
        forward.rows.append([f"{l}: {record.name}", kind, "= a" if record.z is record.a else cell(record.z),
                             cell(record.a)])
    forward.notes.append(f"loss L = {fmt(trace.loss)} ({D.loss_name(trace.model)})")
    backward = Table("Backward pass, output to input: δ = dL/dz (dL/da where z = a)",
                     ["layer", "‖δ‖", "max |δ|", "δ"])
    for l, record in reversed(list(enumerate(trace.layers, start=1))):
        if record.delta is None:
            backward.rows.append([f"{l}: {record.name}", "-", "-", "not reached by the backward pass"])
        else:
            entries = parts(record.delta)
            backward.rows.append([f"{l}: {record.name}", fmt(joint_norm(entries)),
                                  fmt(max(np.abs(d).max(initial=0) for d in entries)), cell(record.delta)])
    gradients = Table("Gradients: dL/dweight for every weight", ["layer", "weight", "‖weight‖", "‖dL/dweight‖",
                                                                  "dL/dweight"])
    for l, record in enumerate(trace.layers, start=1):
        for name, gradient in record.grads.items():
            gradients.rows.append([f"{l}: {record.name}", name, fmt(np.linalg.norm(record.weights[name])),
                                   fmt(np.linalg.norm(gradient)), cell(gradient)])
    tables = [forward, backward, gradients]
    if rate is not None:
        step = trace.step(rate)
        update = Table(f"Update: w <- w - {fmt(rate)} · dL/dw", ["layer", "weight", "before", "after"])
        for l, (record, after) in enumerate(zip(trace.layers, step.weights), start=1):
            for name, value in after.items():
                update.rows.append([f"{l}: {record.name}", name, cell(record.weights[name]), cell(value)])
        update.notes.append(f"next forward pass: output {cell(trace.output)} -> {cell(step.trace.output)}; "
                            f"loss {fmt(trace.loss)} -> {fmt(step.trace.loss)}")
        tables.append(update)
    return tables


class _Context:
    def __init__(self, trace, fmt):
        self.trace, self.fmt = trace, fmt
        self.dense = trace.dense_layers
        self.symbols = trace.symbols
        self.model = trace.model
        self.batch = len(trace.x)
        self.samples = range(min(self.batch, MAX_SAMPLES))
        self.layers_by_name = {layer.name: layer for layer in self.model.layers}

    def _sample_columns(self, columns):
        return (["sample"] + columns) if self.batch > 1 else columns

    def _row(self, s, cells):
        return ([s + 1] + cells) if self.batch > 1 else cells

    def _units(self, count):
        return range(min(count, MAX_UNITS))

    def _truncation_notes(self, units):
        notes = []
        if units > MAX_UNITS:
            notes.append(f"(first {MAX_UNITS} of {units} units shown)")
        if self.batch > MAX_SAMPLES:
            notes.append(f"(first {MAX_SAMPLES} of {self.batch} samples shown)")
        return notes

    def _derivative(self, record):
        if not D.is_elementwise(record.activation):
            return None
        return D.activation_derivative(self.layers_by_name[record.name], record.z)

    # ----- phases --------------------------------------------------------
    def forward(self, notes):
        fmt, sym = self.fmt, self.symbols
        table = Table("Forward pass: z = a_prev · W + b, a = f(z)",
                      self._sample_columns(["layer", "unit", "z", "a"]), notes=list(notes))
        x = self.dense[0].inputs
        for s in self.samples:
            for i in self._units(x.shape[1]):
                table.rows.append(self._row(s, ["input", sym.unit(0, i), "", fmt(x[s, i])]))
        for l, record in enumerate(self.dense, start=1):
            fan_in = record.kernel.shape[0]
            for s in self.samples:
                for j in self._units(record.kernel.shape[1]):
                    z = fmt(record.z[s, j])
                    if fan_in <= MAX_EXPANDED:
                        terms = [f"{fmt(record.kernel[i, j])}·{fmt(record.inputs[s, i])}" for i in range(fan_in)]
                        if record.bias is not None:
                            terms.append(fmt(record.bias[j]))
                        z = " + ".join(terms) + f" = {z}"
                    table.rows.append(self._row(s, [f"{l}: {record.name} ({record.activation})",
                                                    sym.unit(l, j), z, fmt(record.a[s, j])]))
        table.notes += self._truncation_notes(max(r.kernel.shape[1] for r in self.dense))
        table.notes.append(f"loss L = {self.fmt(self.trace.loss)} ({D.loss_name(self.model)})")
        return table

    def output_delta(self):
        fmt, sym, trace = self.fmt, self.symbols, self.trace
        last = self.dense[-1]
        depth = len(self.dense)
        output = trace.layers[-1].a
        targets = D.targets_like(self.model, trace.y, output)
        count = D.averaged_count(self.model, output)
        fused = trace.fused_output
        if fused:
            columns = ["unit", "o", "y", "δ = dL/dz"]
            title = (f"Output delta: {last.activation} fused with the cross-entropy, "
                     f"δ = {D.fused_delta_symbol('o', 'y', count)}")
        elif D.is_elementwise(last.activation):
            columns = ["unit", "o", "y", "dL/do", "f'(z)", "δ = dL/do · f'(z)"]
            title = "Output delta: δ = dL/do · f'(z)"
            grad_output = D.output_gradient(self.model, trace.y, output)
            slope = self._derivative(last)
        else:
            columns = ["unit", "o", "y", "δ = dL/dz"]
            title = "Output delta: δ = dL/dz"
        table = Table(title, self._sample_columns(columns))
        for s in self.samples:
            for j in self._units(output.shape[1]):
                unit = sym.unit(depth, j)
                cells = [unit, fmt(output[s, j]), fmt(targets[s, j])]
                if fused:
                    cells.append(f"{D.fused_delta_symbol(unit, sym.target(j), count)} = {fmt(last.delta[s, j])}")
                elif D.is_elementwise(last.activation):
                    symbol = D.output_gradient_symbol(D.compiled_loss(self.model).name, unit, sym.target(j), count)
                    cells += [f"{symbol} = {fmt(grad_output[s, j])}",
                              f"{D.derivative_symbol(last.activation, unit)} = {fmt(slope[s, j])}",
                              fmt(last.delta[s, j])]
                else:
                    cells.append(fmt(last.delta[s, j]))
                table.rows.append(self._row(s, cells))
        table.notes += self._truncation_notes(output.shape[1])
        return table

    def delta_rule(self, l):
        """Table for dense layer l (1-based), fed by layer l + 1."""
        fmt, sym = self.fmt, self.symbols
        record, following = self.dense[l - 1], self.dense[l]
        backpropagated = following.delta @ following.kernel.T
        slope = self._derivative(record)
        fan_out = following.kernel.shape[1]
        table = Table(f"Delta rule, layer {l} ({record.name}): δ_j = (Σ_k δ_next_k · w_jk) · f'(z_j)",
                      self._sample_columns(["unit", "Σ_k δ_next_k · w_jk", "f'(z)", "δ"]))
        for s in self.samples:
            for j in self._units(record.kernel.shape[1]):
                unit = sym.unit(l, j)
                total = fmt(backpropagated[s, j])
                if fan_out <= MAX_EXPANDED:
                    total = " + ".join(f"{fmt(following.delta[s, k])}·{fmt(following.kernel[j, k])}"
                                       for k in range(fan_out)) + f" = {total}"
                derivative = "-" if slope is None else \
                    f"{D.derivative_symbol(record.activation, unit)} = {fmt(slope[s, j])}"
                table.rows.append(self._row(s, [unit, total, derivative, fmt(record.delta[s, j])]))
        table.notes += self._truncation_notes(record.kernel.shape[1])
        return table

    def deltas(self, l):
        """Table of dense layer l's deltas alone, for networks with other layers between the Dense ones."""
        record = self.dense[l - 1]
        table = Table(f"Deltas, layer {l} ({record.name}): δ = dL/dz", self._sample_columns(["unit", "δ"]))
        for s in self.samples:
            for j in self._units(record.kernel.shape[1]):
                table.rows.append(self._row(s, [self.symbols.unit(l, j), self.fmt(record.delta[s, j])]))
        table.notes += self._truncation_notes(record.kernel.shape[1])
        return table

    def gradients(self):
        fmt = self.fmt
        table = Table("Gradients: dL/dw_ij = a_prev_i · δ_j (summed over the batch), dL/db_j = Σ δ_j",
                      ["layer", "weight", "value", "a_prev · δ", "dL/dweight"])
        for l, record in enumerate(self.dense, start=1):
            for i, j, symbol, value, gradient in self._weights(l, record):
                if self.batch > MAX_EXPANDED:
                    product = f"Σ_s δ_s{j + 1}" if i is None else f"Σ_s a_prev_s{i + 1}·δ_s{j + 1}"
                else:
                    deltas = [fmt(record.delta[s, j]) for s in range(self.batch)]
                    if i is not None:
                        deltas = [f"{fmt(record.inputs[s, i])}·{delta}" for s, delta in enumerate(deltas)]
                    product = " + ".join(deltas)
                table.rows.append([f"{l}: {record.name}", symbol, fmt(value), product, fmt(gradient)])
        if any(r.kernel.size > MAX_UNITS * MAX_UNITS for r in self.dense):
            table.notes.append(f"(at most {MAX_UNITS * MAX_UNITS} weights per layer shown)")
        return table

    def _weights(self, l, record):
        """(i, j, symbol, value, gradient) of the kernel's entries, then the bias's (i None), the first ones only."""
        rows, columns = record.kernel.shape
        entries = [(i, j, self.symbols.weight(l, i, j), record.kernel[i, j], record.grad_kernel[i, j])
                   for i in range(rows) for j in range(columns)][:MAX_UNITS * MAX_UNITS]
        if record.bias is not None:
            entries += [(None, j, self.symbols.bias(l, j), record.bias[j], record.grad_bias[j])
                        for j in range(min(columns, MAX_UNITS))]
        return entries

    def update(self, rate):
        fmt, trace = self.fmt, self.trace
        after = trace.step(rate).trace
        table = Table(f"Update: w <- w - {fmt(rate)} · dL/dw",
                      ["layer", "weight", "before", "dL/dweight", "after"])
        for l, record in enumerate(self.dense, start=1):
            for _, _, symbol, value, gradient in self._weights(l, record):
                table.rows.append([f"{l}: {record.name}", symbol, fmt(value), fmt(gradient),
                                   fmt(value - rate * gradient)])
        before_output = ", ".join(fmt(v) for v in trace.output[:MAX_SAMPLES].ravel()[:MAX_UNITS])
        after_output = ", ".join(fmt(v) for v in after.output[:MAX_SAMPLES].ravel()[:MAX_UNITS])
        table.notes.append(f"next forward pass: output {before_output} -> {after_output}; "
                           f"loss {fmt(trace.loss)} -> {fmt(after.loss)}")
        return table
