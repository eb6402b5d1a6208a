"""Keras-style layers (``chainrule.layers``)."""
from .base import Layer, SymbolicTensor, get_layer_class
from .convolutional import Conv1D, Conv2D
from .core import Activation, Dense, Dropout, Flatten
from .embedding import Embedding
from .input import Input
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add, average,
                      concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
from .pooling import (AveragePooling1D, AveragePooling2D, GlobalAveragePooling1D, GlobalAveragePooling2D,
                      GlobalMaxPooling1D, GlobalMaxPooling2D, MaxPooling1D, MaxPooling2D)
from .recurrent import GRU, LSTM, Bidirectional, SimpleRNN
from .reshaping import Reshape

__all__ = [
    "AveragePooling1D", "AveragePooling2D", "BatchNormalization", "Bidirectional", "Conv1D", "Conv2D", "Embedding",
    "GRU", "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D", "GlobalMaxPooling2D", "LSTM",
    "LayerNormalization", "MaxPooling1D", "MaxPooling2D", "Reshape", "SimpleRNN",
    "Activation", "Dense", "Dropout", "Flatten", "Input", "Layer", "SymbolicTensor", "get_layer_class",
    "Add", "Average", "Concatenate", "Dot", "Maximum", "Minimum", "Multiply", "Subtract", "add", "average",
    "concatenate", "dot", "maximum", "minimum", "multiply", "subtract"]
