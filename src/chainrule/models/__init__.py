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


def save_model(model, filepath):
    """``model.save(filepath)`` as a function (Keras' name)."""
    model.save(filepath)


def clone_model(model):
    """A new model of the same architecture with freshly initialized weights (Keras' ``clone_model``):
    rebuilt from ``get_config``, so a subclassed model needs its own ``get_config``/``from_config``."""
    clone = type(model).from_config(model.get_config())
    if clone.input_shape is None and model.input_shape is not None:
        clone.build(model.input_shape)
    return clone


__all__ = ["Model", "NotCompiledError", "Sequential", "clone_model", "load_model", "save_model"]
