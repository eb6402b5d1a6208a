"""Models (Keras API): ``Sequential``, functional ``Model(inputs, outputs)`` and subclassed ``Model``.

- ``model.py``: the Model, its compile settings and its training loop (fit, evaluate, predict, batch steps);
- ``sequential.py``: Sequential, a stack of layers;
- ``graph.py``: the functional graph between ``Input`` and the outputs;
- ``data.py``: the checks run on data before any step; ``summary.py``: the layer table.
"""
from .model import Model, NotCompiledError
from .sequential import Sequential


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild a model saved by ``model.save`` (config, weights and, with ``compile``, its
    loss, metrics and optimizer state)."""
    from .. import saving
    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


__all__ = ["Model", "NotCompiledError", "Sequential", "load_model"]
