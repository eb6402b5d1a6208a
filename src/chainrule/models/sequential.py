"""Sequential: a plain stack of layers, each taking the previous one's output."""
from ..layers.base import Layer, SymbolicTensor, deserialize_layer, serialize_layer
from .model import Model


class Sequential(Model):
    """A plain stack of layers, each taking the previous one's output."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        self._extend(layers or [])

    @property
    def layers(self):
        return list(self._layers)

    def add(self, layer):
        """Append a layer (or, first, an ``Input(shape)`` giving the input shape)."""
        self._extend([layer])

    def _extend(self, layers):
        """Append ``layers``, then build once when the input shape is known (a build per layer
        would make a stack of n layers cost n**2 layer calls)."""
        appended = False
        for layer in layers:
            if isinstance(layer, SymbolicTensor) and layer.layer is None:
                if self._layers:
                    raise ValueError("add: an Input can only come first, before any layer")
                self._input_shape = layer.shape[1:]
                continue
            if not isinstance(layer, Layer):
                raise TypeError(f"add: expected a Layer, got {type(layer).__name__}")
            self._layers.append(layer)
            appended = True
            if self._input_shape is None and len(self._layers) == 1 and layer.input_shape_hint is not None:
                self._input_shape = tuple(layer.input_shape_hint)
        if appended and self._input_shape is not None:
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
        model._extend([deserialize_layer(layer_config) for layer_config in config["layers"]])
        return model
