"""Forward accumulation versus backpropagation for the full gradient of a network's loss.

Forward mode pushes one tangent direction from the inputs to the output per
pass, so the gradient with respect to P parameters costs P passes, each about
three forward passes of work (the values, then tx @ W + x @ tW per layer).
Reverse mode runs one forward pass and one backward pass (about two forward
passes: g @ W^T and a^T @ g per layer) whatever P is. The ratio grows like P.

Multiply-adds are counted for the matrix products, which dominate: a forward
pass of a batch of n costs F = n * sum_l (in_l * out_l); a jvp pass 3F (the
values, tx @ W and x @ tW); the backward pass 2F less the first layer's
g @ W^T, which nothing needs (the data takes no gradient).
"""
import time
from dataclasses import dataclass

import numpy as np

from .. import functional as F
from ..forward_mode import jvp
from ..tensor import Tensor

DEFAULT_SIZES = ((2, 4), (4, 8), (8, 16), (16, 32), (32, 48))   # (inputs, hidden units), two hidden layers


@dataclass
class ModeComparison:
    architecture: str
    parameters: int
    forward_seconds: float
    reverse_seconds: float
    forward_multiply_adds: int
    reverse_multiply_adds: int
    max_difference: float     # max |forward-mode gradient - backward gradient|

    @property
    def time_ratio(self):
        return self.forward_seconds / self.reverse_seconds

    @property
    def cost_ratio(self):
        return self.forward_multiply_adds / self.reverse_multiply_adds


def _network(inputs, hidden, batch, rng):
    widths = [inputs, hidden, hidden, 1]
    params = []
    for fan_in, fan_out in zip(widths[:-1], widths[1:]):
        params += [rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in), 0.1 * rng.standard_normal(fan_out)]
    x = Tensor(rng.standard_normal((batch, inputs)))
    y = Tensor(rng.standard_normal((batch, 1)))

    def loss(*weights):
        a = x
        for l in range(0, len(weights), 2):
            z = F.linear(a, weights[l], weights[l + 1])
            a = F.tanh(z) if l + 2 < len(weights) else z
        return F.mse_loss(a, y)

    matmul_macs = batch * sum(i * o for i, o in zip(widths[:-1], widths[1:]))
    first_layer_macs = batch * widths[0] * widths[1]
    return widths, params, loss, matmul_macs, first_layer_macs


def forward_mode_gradient(loss, params):
    """dL/dp for every parameter element p: one jvp pass with the one-hot tangent of p each."""
    zeros = [np.zeros_like(p) for p in params]
    gradient = [np.zeros_like(p) for p in params]
    for k, p in enumerate(params):
        for index in np.ndindex(*p.shape):
            tangents = list(zeros)
            tangents[k] = np.zeros_like(p)
            tangents[k][index] = 1.0
            _, tangent_out = jvp(loss, tuple(params), tuple(tangents))
            gradient[k][index] = tangent_out.item()
    return gradient


def reverse_mode_gradient(loss, params):
    """All of dL/dp from one forward and one backward pass."""
    leaves = [Tensor(p, requires_grad=True) for p in params]
    loss(*leaves).backward()
    return [leaf.grad for leaf in leaves]


def compare_modes(sizes=DEFAULT_SIZES, batch=16, seed=0):
    """One :class:`ModeComparison` per (inputs, hidden) size, in float64."""
    rng = np.random.default_rng(seed)
    results = []
    for inputs, hidden in sizes:
        widths, params, loss, macs, first_layer_macs = _network(inputs, hidden, batch, rng)
        count = sum(p.size for p in params)
        start = time.perf_counter()
        forward = forward_mode_gradient(loss, params)
        forward_seconds = time.perf_counter() - start
        start = time.perf_counter()
        reverse = reverse_mode_gradient(loss, params)
        reverse_seconds = time.perf_counter() - start
        difference = max(float(np.max(np.abs(f - r))) for f, r in zip(forward, reverse))
        results.append(ModeComparison("-".join(map(str, widths)), count, forward_seconds, reverse_seconds,
                                      3 * macs * count, 3 * macs - first_layer_macs, difference))
    return results


def modes_table(results):
    from .render import Table
    table = Table("Full gradient: forward accumulation (one jvp pass per parameter) vs backpropagation",
                  ["network", "params", "fwd time", "bwd time", "time ×", "fwd MACs", "bwd MACs", "MACs ×",
                   "max |diff|"])
    for r in results:
        table.rows.append([r.architecture, r.parameters, f"{r.forward_seconds * 1e3:.1f} ms",
                           f"{r.reverse_seconds * 1e3:.2f} ms", f"{r.time_ratio:.0f}x", f"{r.forward_multiply_adds:,}",
                           f"{r.reverse_multiply_adds:,}", f"{r.cost_ratio:.0f}x", f"{r.max_difference:.1e}"])
    table.notes.append("MACs: multiply-adds of the matrix products; with F = n Σ in·out for one forward pass, "
                       "forward mode costs 3F per parameter (values and tangents), backpropagation under 3F in all "
                       "(forward, then g·W^T and a^T·g per layer)")
    table.notes.append("the two gradients agree to "
                       f"{max(r.max_difference for r in results):.1e} in float64 (tolerance 1e-10)")
    return table
