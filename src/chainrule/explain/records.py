"""The data of a trace: one :class:`LayerRecord` per layer, and helpers on its values.

This module imports nothing from the rest of explain: the modules that compute or
render a trace read these records.
"""
from dataclasses import dataclass, field

import numpy as np


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
    calls: int = 1    # how many times the layer ran in the pass (a shared layer: more); the record is of the last


def traced_layers(model):
    """The layers a trace records: the model's layers that compute (its InputLayers left out)."""
    from ..layers.input import InputLayer
    return [layer for layer in model.layers if not isinstance(layer, InputLayer)]


def trainable_named_weights(layer):
    """The weights of ``layer`` (its sublayers' included) that take a gradient, by name without the layer's."""
    return {name: weight for name, weight in layer.named_weights().items() if weight.requires_grad}


def layer_z(seen):
    """The tensor whose gradient is a layer's delta, from what the layer was called with and
    returned (``seen["input"]``, ``seen["output"]``): the pre-activation z its output is marked
    with, else its output (a = z); a list of tensors for a layer that returns several
    (``return_state``). An output that is the layer's own input (an identity, such as Dropout at
    inference) carries the mark of an earlier layer, so it counts as a = z."""
    output = seen.get("output")
    first = output[0] if isinstance(output, list) and output else output
    if first is not seen.get("input") and getattr(first, "preactivation", None) is not None:
        return first.preactivation
    if isinstance(output, list):
        return output if all(hasattr(entry, "grad") for entry in output) else None
    return output if hasattr(output, "grad") else None


def parts(value):
    """``value`` as a list: the entries of a layer's list output, [value] for one array or tensor, [] for None."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def joint_norm(arrays):
    """sqrt(sum of squares of every entry of every array): one norm for several arrays (0 for none)."""
    return float(np.sqrt(sum(np.sum(np.square(a)) for a in arrays)))
