"""Sequential: a plain stack of layers, each taking the previous one's output."""
from ..layers.base import Layer, SymbolicTensor, deserialize_layer, serialize_layer
from ..layers.input import Input
from ..saving import custom_object_scope
from .model import Model


class Sequential(Model):
    """A plain stack of layers, each taking the previous one's output."""

    def __init__(self, layers=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self._layers = []
        self._placeholders = []    # the Input, then each layer's output placeholder, once the input is known
        for layer in layers or []:
            self.add(layer)

    @property
    def layers(self):
        return list(self._layers)

    @property
    def inputs(self):
        return self._placeholders[:1] or None

    @property
    def outputs(self):
        return self._placeholders[-1:] if len(self._placeholders) > 1 else None

    @property
    def input(self):
        return self._placeholders[0] if self._placeholders else None

    @property
    def output(self):
        return self._placeholders[-1] if len(self._placeholders) > 1 else None

    def add(self, layer):
        """Append a layer (or, first, an ``Input(shape)`` giving the input shape)."""
        if isinstance(layer, SymbolicTensor) and layer.layer is None:
            if self._layers:
                raise ValueError("add: an Input can only come first, before any layer")
            self._placeholders = [layer]
            self._input_shape = layer.shape[1:]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"add: expected a Layer, got {type(layer).__name__}")
        self._layers.append(layer)
        if not self._placeholders and len(self._layers) == 1 and layer.input_shape_hint is not None:
            self.build((None, *layer.input_shape_hint))
        elif self._placeholders:
            self._extend()

    def pop(self):
        """Remove the last layer (and return it)."""
        if not self._layers:
            raise ValueError("pop: the model has no layer to remove")
        layer = self._layers.pop()
        if len(self._placeholders) > len(self._layers) + 1:
            self._placeholders.pop()
        self.output_shape = self._placeholders[-1].shape if len(self._placeholders) > 1 else None
        return layer

    def unbuild(self):
        super().unbuild()
        self._placeholders = []

    def build(self, input_shape):
        """Call every layer, in turn, on an ``Input`` of ``input_shape`` (batch axis first): each is built
        and knows its ``input`` and ``output`` placeholders, and the model its ``output_shape``."""
        self._placeholders = [Input(tuple(input_shape[1:]))]
        self._input_shape = tuple(input_shape[1:])
        self._extend()

    def _extend(self):
        """Call each layer not yet on the placeholder chain on the one before it."""
        while len(self._placeholders) <= len(self._layers):
            self._placeholders.append(self._layers[len(self._placeholders) - 1](self._placeholders[-1]))
        if len(self._placeholders) > 1:
            self.output_shape = self._placeholders[-1].shape
        self.built = True

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
    def from_config(cls, config, custom_objects=None):
        model = cls(name=config["name"])
        with custom_object_scope(custom_objects or {}):
            if "input_shape" in config:
                model.add(Input(tuple(config["input_shape"])))
            for layer_config in config["layers"]:
                model.add(deserialize_layer(layer_config))
        return model
