"""The Layer base class: lazy weights, a forward ``call``, and a config round trip."""
import inspect
import itertools
import re

from .. import arguments, constraints, initializers, regularizers
from ..backend import xp
from ..tensor import Tensor, as_array, get_default_dtype, no_grad

_counters = {}
_REGISTRY = {}


def _unique_name(cls):
    base = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", cls.__name__).lower()
    counter = _counters.setdefault(base, itertools.count())
    index = next(counter)
    return base if index == 0 else f"{base}_{index}"


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``remove()`` takes the hook off again."""

    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Layer:
    """A layer: creates its weights in ``build(input_shape)`` on the first call,
    computes in ``call(inputs, training)``, and round-trips through ``get_config``.

    Weights are leaf Tensors with ``requires_grad=True`` (trainable) created by
    ``add_weight``. Layers assigned as attributes (directly or in lists, tuples and
    dicts) are tracked: their weights are this layer's too. A layer whose output is
    a = f(z) for a pre-activation z it computes returns ``self.activate(z)``, which
    marks the output with z (``output.preactivation``): the tensor whose gradient
    explain calls the layer's delta.

    Every subclass registers itself by class name, so a saved model's config
    rebuilds any layer (:func:`get_layer_class`).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.__name__] = cls
        parameters = inspect.signature(cls.call).parameters
        cls.call_takes_training = "training" in parameters or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

    def __init__(self, name=None, trainable=True, input_shape=None, input_dim=None, dtype=None):
        self.name = name or _unique_name(type(self))
        self.trainable = trainable
        self.built = False
        self.dtype = xp.dtype(dtype) if dtype is not None else get_default_dtype()
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        self.input_shape_hint = None if input_shape is None else arguments.sample_shape(input_shape, "input_shape")
        self._weights = []
        self._regularizers = []
        self._constraints = []
        self._forward_hooks = []
        self._forward_pre_hooks = []
        self.output_shape = None

    # ----- weights ----------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True, regularizer=None,
                   constraint=None, name=None):
        """Create a weight Tensor of ``shape`` (() for a scalar) drawn from ``initializer`` (Keras 3's
        signature; default 'glorot_uniform' for a float weight, 'zeros' otherwise). The initializer,
        regularizer and constraint may be given by name, config or instance; ``name`` defaults to
        'variable', 'variable_1', ..."""
        dtype = self.dtype if dtype is None else xp.dtype(dtype)
        if initializer is None:
            initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
        if name is None:
            taken = {entry[0] for entry in self._weights}
            name = next(candidate for candidate in _variable_names() if candidate not in taken)
        regularizer, constraint = regularizers.get(regularizer), constraints.get(constraint)
        values = xp.asarray(initializers.get(initializer)(tuple(shape or ()), dtype=dtype), dtype=dtype)
        weight = Tensor(values, requires_grad=bool(trainable) and dtype.kind == "f")
        self._weights.append((name, weight, trainable))
        if regularizer is not None:
            self._regularizers.append((regularizer, weight))
        if constraint is not None:
            self._constraints.append((constraint, weight))
        return weight

    add_variable = add_weight

    def sublayers(self):
        """The layers this layer owns: those assigned as its attributes, directly or inside
        lists, tuples and dicts, in assignment order (each once)."""
        found = []
        for value in vars(self).values():
            for item in _flattened(value):
                if isinstance(item, Layer) and item is not self and not any(item is seen for seen in found):
                    found.append(item)
        return found

    def _weight_entries(self):
        """(name, weight, trainable) of this layer's weights, then its sublayers'."""
        entries = [(f"{self.name}/{name}", w, trainable and self.trainable) for name, w, trainable in self._weights]
        for layer in self.sublayers():
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

    def named_weights(self):
        """{name: weight} of this layer's weights and its sublayers', each name without this layer's
        own prefix ("kernel", "forward_gru/kernel")."""
        prefix = f"{self.name}/"
        return {name[len(prefix):] if name.startswith(prefix) else name: weight
                for name, weight, _ in self._weight_entries()}

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

    def weight_regularizers(self):
        """(regularizer, weight) of this layer's regularized weights and its sublayers'."""
        pairs = list(self._regularizers)
        for layer in self.sublayers():
            pairs.extend(layer.weight_regularizers())
        return pairs

    def regularization_loss(self, pairs=None):
        """Sum of the penalties R(w) of the regularized weights (a Tensor), or None; ``pairs`` are
        ``weight_regularizers()`` when the caller has them already (the training loop, once per fit)."""
        total = None
        for regularizer, weight in self.weight_regularizers() if pairs is None else pairs:
            penalty = regularizer(weight)
            total = penalty if total is None else total + penalty
        return total

    def weight_constraints(self):
        """(constraint, weight) of this layer's constrained weights and its sublayers': after each
        optimizer step, training projects w <- constraint(w)."""
        pairs = list(self._constraints)
        for layer in self.sublayers():
            pairs.extend(layer.weight_constraints())
        return pairs

    # ----- forward ----------------------------------------------------------
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis first); ``build_for`` calls it once."""

    def build_for(self, input_shape):
        """Build the layer once, for inputs of ``input_shape``: the one place ``built`` is set."""
        if not self.built:
            self.build(input_shape)
            self.built = True

    def call(self, inputs, training=False):
        """The forward pass; ``training`` is passed only when ``call`` takes it (as Keras inspects it)."""
        raise NotImplementedError

    call_takes_training = True

    def activate(self, z):
        """a = f(z) with the layer's activation, the output marked with its pre-activation z."""
        output = self.activation(z)
        if output is not z:
            output.preactivation = z
        return output

    def __call__(self, inputs, training=False):
        """Build on first use, ``call``, then run the forward hooks. On symbolic inputs (from
        ``Input``) the call is recorded as a node of a functional model instead of computed."""
        if _is_symbolic(inputs):
            return SymbolicTensor.from_call(self, inputs)
        if isinstance(inputs, (list, tuple)):
            inputs = [x if isinstance(x, Tensor) else Tensor(x) for x in inputs]
            shape = [tuple(x.shape) for x in inputs]
        else:
            if not isinstance(inputs, Tensor):
                inputs = Tensor(inputs)
            shape = tuple(inputs.shape)
        for hook in list(self._forward_pre_hooks):
            replaced = hook(self, inputs)
            if replaced is not None:
                inputs = replaced
        self.build_for(shape)
        outputs = self.call(inputs, training=training) if self.call_takes_training else self.call(inputs)
        for hook in list(self._forward_hooks):
            replaced = hook(self, inputs, outputs)
            if replaced is not None:
                outputs = replaced
        if self.output_shape is None and isinstance(outputs, Tensor):
            self.output_shape = (None, *outputs.shape[1:])
        return outputs

    def register_forward_hook(self, hook):
        """Run ``hook(layer, inputs, output)`` after every ``call``; a hook that returns a value
        replaces the output with it (PyTorch's contract). Returns a handle whose ``remove()``
        takes the hook off."""
        return _registered(self._forward_hooks, hook, "hook(layer, inputs, output)")

    def register_forward_pre_hook(self, hook):
        """Run ``hook(layer, inputs)`` before every ``call``; a hook that returns a value replaces
        the inputs with it (PyTorch's contract). Returns a handle whose ``remove()`` takes it off."""
        return _registered(self._forward_pre_hooks, hook, "hook(layer, inputs)")

    # ----- config -----------------------------------------------------------
    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype.name}
        if self.input_shape_hint is not None:
            config["input_shape"] = list(self.input_shape_hint)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}>"


def _variable_names():
    """'variable', 'variable_1', 'variable_2', ...: Keras' default weight names."""
    yield "variable"
    for k in itertools.count(1):
        yield f"variable_{k}"


def _registered(hooks, hook, signature):
    if not callable(hook):
        raise TypeError(f"hook: expected a callable {signature}, got {type(hook).__name__}")
    hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _flattened(value):
    """The items of a value and of the lists, tuples and dicts inside it (a value that is none of them: itself)."""
    stack, items = [value], []
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            items.append(item)
    return items


def get_layer_class(name):
    """The Layer subclass called ``name`` (every subclass registers itself)."""
    if name not in _REGISTRY:
        raise ValueError(f"layer: unknown class name {name!r}; known layers: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def serialize_layer(layer):
    """{"class_name", "config"}: what ``deserialize_layer`` rebuilds ``layer`` from."""
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config):
    return get_layer_class(config["class_name"]).from_config(config["config"])


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
