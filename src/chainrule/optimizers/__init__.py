"""Optimizers (Keras names and update rules) and learning-rate schedules.

``get`` turns a name ('sgd', 'adam', ...), an instance or a config dict into an
Optimizer; ``serialize``/``deserialize`` round-trip one through a plain dict.
"""
from . import schedules
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .base import Optimizer
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .nadam import Nadam
from .rmsprop import RMSprop
from .sgd import SGD

_BY_NAME = {cls.name: cls for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Nadam, Adamax, Adadelta, Ftrl, Lion, Lamb,
                                      Adafactor)}


def _class_for(name):
    key = name.lower() if isinstance(name, str) else name
    if key not in _BY_NAME:
        raise ValueError(f"optimizer: unknown name {name!r}; valid names: {', '.join(sorted(_BY_NAME))}")
    return _BY_NAME[key]


def serialize(optimizer):
    """``{"class_name": ..., "config": ...}``, the form :func:`deserialize` reads."""
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    """The optimizer described by ``serialize``'s dict or by ``get_config()``'s (whose ``name`` says the class)."""
    if not isinstance(config, dict):
        raise TypeError(f"optimizer config: expected a dict, got {type(config).__name__}")
    if "class_name" in config:
        return _class_for(config["class_name"]).from_config(config.get("config", {}))
    if "name" not in config:
        raise ValueError(f"optimizer config: expected a 'class_name' or 'name' entry, got keys {sorted(config)}")
    return _class_for(config["name"]).from_config(config)


def get(identifier):
    """An Optimizer from a name (default hyperparameters), an instance (returned as is) or a config dict."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return _class_for(identifier)()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"optimizer: expected a name, an Optimizer or a config dict, got {type(identifier).__name__}")


__all__ = ["Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "Lamb", "Lion", "Nadam", "Optimizer",
           "RMSprop", "SGD", "deserialize", "get", "schedules", "serialize"]
