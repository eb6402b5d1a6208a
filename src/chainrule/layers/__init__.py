"""Keras-style layers (``chainrule.layers``)."""
from .base import Layer
from .core import Activation, Dense, Dropout, Flatten

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Layer"]
