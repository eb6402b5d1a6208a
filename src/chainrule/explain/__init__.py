"""Explain backpropagation with the engine's own numbers.

``trace(model, x, y)``: the forward pass, the deltas and the gradients of one batch,
layer by layer; ``chain(model, x, y, layer, index)``: the chain-rule product for one
weight, factor by factor; ``GradientMonitor``: per-layer gradient norms during
``fit``; pictures with ``plot_network``, ``animate``, ``plot_history`` and
``plot_gradient_flow`` (matplotlib, imported when first drawn); the worked examples
with ``load_example``.
"""
from .chain import Chain, Factor, Path, chain
from .check import CheckReport
from .examples import Example, list_examples, load_example
from .modes import compare_modes
from .monitor import GradientMonitor
from .plots import animate, plot_gradient_flow, plot_history, plot_network
from .trace import LayerRecord, Step, Trace, trace

__all__ = ["Chain", "CheckReport", "Example", "Factor", "GradientMonitor", "LayerRecord", "Path", "Step", "Trace",
           "animate", "chain", "compare_modes", "list_examples", "load_example", "plot_gradient_flow", "plot_history",
           "plot_network", "trace"]
