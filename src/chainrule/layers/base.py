"""The Layer base class: lazy weights, a forward ``call``, and a config round trip."""
import itertools
import re

from .. import initializers
from ..backend import xp
from ..tensor import Tensor, as_array, get_default_dtype, no_grad

_counters = {}
_REGISTRY = {}


def _unique_name(cls):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls.__name__).lower()
    counter = _counters.setdefault(base, itertools.count())
    index = next(counter)
    return base if index == 0 else f"{base}_{index}"


class Layer:
    """A layer: creates its weights in ``build(input_shape)`` on the first call,
    computes in ``call(inputs, training)``, and round-trips through ``get_config``.

    Weights are leaf Tensors with ``requires_grad=True`` (trainable) created by
    ``add_weight``. A layer with an activation records its pre-activation z with
    ``self._record("z", z)`` so the explain module can read dL/dz from the graph.

    Every subclass registers itself by class name, so a saved model's config
    rebuilds any layer (:func:`get_layer_class`).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls

    def __init__(self, name=None, trainable=True, input_shape=None, input_dim=None, dtype=None):
        self.name = name or _unique_name(type(self))
        self.trainable = trainable
        self.built = False
        self.dtype = xp.dtype(dtype) if dtype is not None else get_default_dtype()
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if input_shape is not None:
            input_shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
            for n in input_shape:
                if n is not None and (not isinstance(n, int) or n <= 0):
                    raise ValueError(f"input_shape: expected positive ints, got {input_shape}")
        self.input_shape_hint = input_shape
        self._weights = []
        self._regularizers = []
        self._records = None
        self.output_shape = None

    # ----- weights ----------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        """Create a weight Tensor of ``shape`` drawn from ``initializer``."""
        values = initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        weight = Tensor(values, requires_grad=trainable)
        self._weights.append((name, weight, trainable))
        if regularizer is not None:
            self._regularizers.append((regularizer, weight))
        return weight

    def _sublayers(self):
        """Layers whose weights this layer owns too (a model's layers); none for a plain layer."""
        return []

    def _weight_entries(self):
        """(name, weight, trainable) of this layer's weights, then its sublayers'."""
        entries = [(f"{self.name}/{name}", w, trainable and self.trainable) for name, w, trainable in self._weights]
        for layer in self._sublayers():
            entries.extend((name, w, trainable and self.trainable) for name, w, trainable in layer._weight_entries())
        return entries

    @property
    def weights(self):
        return [w for _, w, _ in self._weight_entries()]

    @property
    def trainable_weights(self):
        return [w for _, w, trainable in self._weight_entries() if trainable]

    @property
    def non_trainable_weights(self):
        return [w for _, w, trainable in self._weight_entries() if not trainable]

    @property
    def weight_names(self):
        return [name for name, _, _ in self._weight_entries()]

    def count_params(self):
        return sum(int(w.size) for w in self.weights)

    def get_weights(self):
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Replace the weights' values; counts and shapes are checked before any changes."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(f"set_weights: {self.name!r} expects {len(current)} arrays, got {len(weights)}")
        arrays = [as_array(w, name="weights") for w in weights]
        for name, old, new in zip(self.weight_names, current, arrays):
            if old.shape != new.shape:
                raise ValueError(f"set_weights: {name} expects shape {old.shape}, got {new.shape}")
        for old, new in zip(current, arrays):
            old.data = new.astype(old.dtype, copy=True)

    def regularization_loss(self):
        """Sum of the penalties of the regularized weights (a Tensor), or None."""
        penalties = [regularizer(weight) for regularizer, weight in self._regularizers]
        penalties += [p for p in (layer.regularization_loss() for layer in self._sublayers()) if p is not None]
        total = None
        for penalty in penalties:
            total = penalty if total is None else total + penalty
        return total

    # ----- forward ----------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False):
        raise NotImplementedError

    def __call__(self, inputs, training=False):
        """Build on first use, then ``call``. On symbolic inputs (from ``Input``) the
        call is recorded as a node of a functional model instead of computed."""
        if _is_symbolic(inputs):
            return SymbolicTensor.from_call(self, inputs)
        if isinstance(inputs, (list, tuple)):
            inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
            shape = [tuple(x.shape) for x in inputs]
        else:
            if not isinstance(inputs, Tensor):
                inputs = Tensor(inputs)
            shape = tuple(inputs.shape)
        if not self.built:
            self.build(shape)
            self.built = True
        outputs = self.call(inputs, training=training)
        self.output_shape = (None, *outputs.shape[1:]) if isinstance(outputs, Tensor) else None
        return outputs

    def _record(self, key, tensor):
        if self._records is not None:
            self._records[key] = tensor

    # ----- config -----------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        if self.input_shape_hint is not None:
            config["input_shape"] = list(self.input_shape_hint)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def get_layer_class(name):
    """The Layer subclass called ``name`` (every subclass registers itself)."""
    if name not in _REGISTRY:
        raise ValueError(f"layer: unknown class name {name!r}; known layers: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


class SymbolicTensor:
    """A placeholder for a batch of shape ``(None, *shape)`` in a functional model:
    the output of ``Input`` or of a layer called on placeholders. It records the
    layer and the placeholders it came from; ``Model(inputs, outputs)`` replays them.
    A layer that returns a list (``return_state``) gives one placeholder per entry:
    they share ``call`` (one run of the layer) and differ in ``output_index``."""

    name = None

    def __init__(self, shape, layer=None, parents=(), list_call=False, call=None, output_index=None):
        self.shape = (None, *shape)
        self.layer = layer
        self.parents = tuple(parents)
        self.list_call = list_call
        self.call = call
        self.output_index = output_index

    @classmethod
    def from_call(cls, layer, inputs):
        """Call ``layer`` on placeholders: build it and find its output shape from one zero sample."""
        parents = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for parent in parents:
            if not isinstance(parent, SymbolicTensor):
                raise TypeError(f"{layer.name}: expected every input to come from Input(...), got {type(parent).__name__}")
        samples = [Tensor(xp.zeros((1, *p.shape[1:]), dtype=get_default_dtype())) for p in parents]
        list_call = isinstance(inputs, (list, tuple))
        with no_grad():
            out = layer(samples if list_call else samples[0])
        if not isinstance(out, list):
            return cls(out.shape[1:], layer, parents, list_call=list_call)
        call = object()
        return [cls(entry.shape[1:], layer, parents, list_call=list_call, call=call, output_index=index)
                for index, entry in enumerate(out)]

    def __repr__(self):
        source = self.layer.name if self.layer is not None else "input"
        entry = "" if self.output_index is None else f"[{self.output_index}]"
        return f"<SymbolicTensor shape={self.shape} from {source}{entry}>"


def _is_symbolic(inputs):
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(x, SymbolicTensor) for x in inputs)
    return isinstance(inputs, SymbolicTensor)
