"""Forward accumulation: the value and a directional derivative in one pass.

Where ``backward`` pushes the adjoint dL/dnode from the output back to the
inputs (one pass per output), forward mode pushes the tangent dnode/dt from the
inputs to the output (one pass per input direction): each primitive's ``jvp``
maps its inputs' tangents to its output's tangent,

    tangent(output) = J_op @ tangent(inputs).
"""
from .backend import xp
from .tensor import Tensor, _switch, as_array


def jvp(fn, primals, tangents):
    """Evaluate ``fn(*primals)`` and its Jacobian-vector product J @ tangents in one forward pass.

    ``primals`` and ``tangents`` are tuples of equal length (a single Tensor or
    array is taken as a tuple of one); tangent i has the shape of primal i.
    Returns ``(outputs, tangent_out)``: fn's output Tensor and its tangent, a
    Tensor of the same shape (tuples of each when fn returns a tuple), as
    ``torch.func.jvp`` does.
    """
    primals, tangents = _as_tuple(primals), _as_tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: expected one tangent per primal, got {len(primals)} primals and {len(tangents)} tangents")
    inputs = [p.detach() if isinstance(p, Tensor) else Tensor(p) for p in primals]
    carried = {}
    for i, (x, t) in enumerate(zip(inputs, tangents)):
        if x.dtype.kind != "f":
            raise TypeError(f"jvp: primal {i} must be floating to carry a tangent, got dtype {x.dtype}")
        tangent = as_array(t, x.dtype, name=f"tangents[{i}]")
        if tangent.shape != x.shape:
            raise ValueError(f"jvp: tangent {i} must have its primal's shape {x.shape}, got {tangent.shape}")
        carried[id(x)] = (x, tangent)
    with _switch("tangents", carried):
        outputs = fn(*inputs)
    if isinstance(outputs, (tuple, list)):
        return tuple(outputs), tuple(_tangent_of(out, carried) for out in outputs)
    return outputs, _tangent_of(outputs, carried)


def _as_tuple(values):
    return tuple(values) if isinstance(values, (tuple, list)) else (values,)


def _tangent_of(output, carried):
    if not isinstance(output, Tensor):
        raise TypeError(f"jvp: fn must return a Tensor or a tuple of Tensors, got {type(output).__name__}")
    pair = carried.get(id(output))
    return Tensor._result(pair[1] if pair else xp.zeros_like(output.data), None)
