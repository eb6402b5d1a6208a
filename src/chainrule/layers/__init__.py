"""Keras-style layers (``chainrule.layers``)."""
from .base import Layer, SymbolicTensor, get_layer_class
from .core import Activation, Dense, Dropout, Flatten
from .input import Input

__all__ = ["Activation", "Dense", "Dropout", "Flatten", "Input", "Layer", "SymbolicTensor", "get_layer_class"]
