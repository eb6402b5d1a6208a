"""The local derivatives a learner multiplies along the chain, each taken from the engine.

f'(z) is the reverse sweep of sum(f(z)) (elementwise f), dL/do the reverse sweep of
the compiled loss on the output; the symbols name them as a textbook would.
"""
import numpy as np

from .. import losses
from ..tensor import Tensor, default_dtype

def is_elementwise(activation_name):
    return activation_name not in ("softmax",)


def activation_derivative(layer, z):
    """f'(z) of ``layer``'s elementwise activation at ``z``: d sum(f(z)) / dz from the engine."""
    leaf = Tensor(np.array(z), requires_grad=True)
    layer.activation(leaf).sum().backward()
    return leaf.grad


def loss_name(model):
    """The names of the model's compiled losses ('mse', or 'mse, sparse_categorical_crossentropy')."""
    return ", ".join(loss.name for loss in model.compiled_loss.losses if loss is not None)


def compiled_loss(model):
    return losses.get(model.loss)


def averaged_count(model, output):
    """How many values the loss averages: every output value, or (categorical) every sample."""
    loss = compiled_loss(model)
    if getattr(loss, "logits_activation", None) == "softmax":
        return len(output)
    return output.size


def targets_like(model, y, output):
    """The targets as an array shaped like the output (integer labels become one-hot rows)."""
    prepared = compiled_loss(model).prepare_targets(np.asarray(y), output.shape[1:])
    if prepared.shape == output.shape:
        return np.asarray(prepared, dtype=output.dtype)
    one_hot = np.zeros_like(output)
    one_hot[np.arange(len(prepared)), np.asarray(prepared, dtype=int)] = 1
    return one_hot


def output_gradient(model, y, output):
    """dL/do: the compiled loss on the output as a leaf, swept backward by the engine."""
    leaf = Tensor(np.array(output), requires_grad=True)
    with default_dtype(output.dtype):
        prepared = compiled_loss(model).prepare_targets(np.asarray(y), output.shape[1:])
        compiled_loss(model)(prepared, leaf).backward()
    return leaf.grad


def derivative_symbol(activation_name, unit):
    """How a textbook writes f'(z) for the unit whose activation is ``unit``."""
    if activation_name == "sigmoid":
        return f"{unit}(1 - {unit})"
    if activation_name == "tanh":
        return f"(1 - {unit}²)"
    if activation_name == "relu":
        return f"[z_{unit} > 0]"
    return f"{activation_name}'(z_{unit})"


def output_gradient_symbol(loss_name, output, target, count):
    """dL/do for one output unit; ``count`` is the number of values the loss averages."""
    difference = f"({output} - {target})"
    if loss_name in ("mean_squared_error", "mse"):
        return difference if count == 2 else f"2{difference}" + (f"/{count}" if count > 1 else "")
    if loss_name in ("mean_absolute_error", "mae"):
        return f"sign{difference}" + (f"/{count}" if count > 1 else "")
    if loss_name == "binary_crossentropy":
        return f"{difference}/({output}(1 - {output}))" + (f"/{count}" if count > 1 else "")
    return f"dL/d{output}"


def fused_delta_symbol(output, target, count):
    """dL/dz of a fused output; ``count`` is the number of terms the loss averages."""
    return f"({output} - {target})" + (f"/{count}" if count > 1 else "")
