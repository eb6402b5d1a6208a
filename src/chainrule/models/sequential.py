"""Sequential: a plain stack of layers, each taking the previous one's output."""
from ..layers.base import Layer, SymbolicTensor, deserialize_layer, serialize_layer
from .model import Model


class Sequential(Model):
    """A plain stack of layers, each taking the previous one's output."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer (or, first, an ``Input(shape)`` giving the input shape)."""
        if isinstance(layer, SymbolicTensor) and layer.layer is None:
            if self._layers:
                raise ValueError("add: an Input can only come first, before any layer")
            self._input_shape = layer.shape[1:]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"add: expected a Layer, got {type(layer).__name__}")
        self._layers.append(layer)
        if self._input_shape is None and len(self._layers) == 1 and layer.input_shape_hint is not None:
            self._input_shape = tuple(layer.input_shape_hint)
        if self._input_shape is not None:
            self.build((None, *self._input_shape))

    def call(self, inputs, training=False):
        for layer in self._layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self):
        config = {"name": self.name, "layers": [serialize_layer(layer) for layer in self._layers]}
        if self._input_shape is not None:
            config["input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        model = cls(name=config["name"])
        if "input_shape" in config:
            model._input_shape = tuple(config["input_shape"])
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config))
        return model
