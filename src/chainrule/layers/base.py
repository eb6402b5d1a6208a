"""The Layer base class: lazy weights, a forward ``call``, and a config round trip."""
import itertools
import re

from .. import initializers
from ..backend import xp
from ..tensor import Tensor, get_default_dtype

_counters = {}


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
    """

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

    # ----- weights ----------------------------------------------------------
    def add_weight(self, name, shape, initializer="zeros", regularizer=None, trainable=True):
        """Create a weight Tensor of ``shape`` drawn from ``initializer``."""
        values = initializers.get(initializer)(tuple(shape), dtype=self.dtype)
        weight = Tensor(values, requires_grad=trainable)
        self._weights.append((name, weight, trainable))
        if regularizer is not None:
            self._regularizers.append((regularizer, weight))
        return weight

    @property
    def weights(self):
        return [w for _, w, _ in self._weights]

    @property
    def trainable_weights(self):
        return [w for _, w, trainable in self._weights if trainable and self.trainable]

    @property
    def non_trainable_weights(self):
        return [w for _, w, trainable in self._weights if not (trainable and self.trainable)]

    @property
    def weight_names(self):
        return [f"{self.name}/{name}" for name, _, _ in self._weights]

    def get_weights(self):
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Replace the weights' values; counts and shapes are checked before any changes."""
        current = self.weights
        if len(weights) != len(current):
            raise ValueError(f"set_weights: layer {self.name!r} expects {len(current)} arrays, got {len(weights)}")
        arrays = [xp.asarray(w) for w in weights]
        for name, old, new in zip(self.weight_names, current, arrays):
            if old.shape != new.shape:
                raise ValueError(f"set_weights: {name} expects shape {old.shape}, got {new.shape}")
        for old, new in zip(current, arrays):
            old.data = new.astype(old.dtype, copy=True)

    def regularization_loss(self):
        """Sum of the penalties of the regularized weights (a Tensor), or None."""
        total = None
        for regularizer, weight in self._regularizers:
            penalty = regularizer(weight)
            total = penalty if total is None else total + penalty
        return total

    # ----- forward ----------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False):
        raise NotImplementedError

    def __call__(self, inputs, training=False):
        if not isinstance(inputs, Tensor):
            inputs = Tensor(inputs)
        if not self.built:
            self.build(tuple(inputs.shape))
            self.built = True
        return self.call(inputs, training=training)

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
