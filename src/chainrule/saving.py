"""Saving and loading models as ``.safetensors`` files, and the registry of a user's own classes.

A model file holds the weights (``weights/0000``, ... in ``model.weights`` order) and the
optimizer state (``optimizer/<name>``) as tensors, and in its metadata the model's JSON config
(layer class names and ``get_config``), the compile settings and a format tag; a weights file
(``save_weights``) holds the weights alone. Nothing is pickled: loading reads arrays and JSON only.

Class names in a config are resolved among chainrule's own classes and the classes and functions
of one's own that are registered (``register_keras_serializable``) or given as ``custom_objects``
(to ``load_model``, or by ``custom_object_scope``), as Keras does; never by searching every
subclass by its bare name.
"""
import contextlib
import json
import os
import tempfile

from .backend import xp
from .layers import base as layer_base

FORMAT = "chainrule.model"
WEIGHTS_FORMAT = "chainrule.weights"
FORMAT_VERSION = "1"


def register_keras_serializable(package="Custom", name=None):
    """Decorator: register a class or function as "package>name" (name: its own ``__name__``), so a
    saved model that uses it loads without ``custom_objects``."""
    def register(obj):
        return layer_base.register(obj, f"{package}>{name or obj.__name__}")
    return register


def get_registered_name(obj):
    return layer_base.registered_name(obj)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function registered (or given in ``custom_objects``) as ``name``, else None."""
    found = layer_base.custom_object(name, custom_objects)
    return found if found is not None else (module_objects or {}).get(name)


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """Within the block, configs may name the classes and functions of ``custom_objects`` ({name: obj})."""
    if not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects: expected a dict {{name: class or function}}, got {type(custom_objects).__name__}")
    layer_base.open_scope(custom_objects)
    try:
        yield
    finally:
        layer_base.close_scope()


CustomObjectScope = custom_object_scope


def save_model(model, filepath):
    """Write ``model`` to ``filepath`` atomically: a temporary file in the same
    folder, flushed to disk, then renamed over the target."""
    _write_atomically(os.fspath(filepath), model_to_bytes(model))


def model_to_bytes(model):
    """The bytes of the ``.safetensors`` file ``save_model`` writes (weights, optimizer state, config)."""
    from safetensors.numpy import save
    from . import metrics, optimizers
    from .version import __version__
    if model.input_shape is None:
        raise ValueError("model: cannot save a model that is not built yet; call it on data, fit it, "
                         "or give the first layer input_shape")
    tensors = _weight_tensors(model)
    shape = model.input_shape
    record = {"class_name": layer_base.registered_name(type(model)), "config": model.get_config(),
              "input_shape": [list(s[1:]) for s in shape] if isinstance(shape, list) else list(shape[1:]),
              "weight_names": model.weight_names}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
                "model": json.dumps(record)}
    if model.optimizer is not None:
        metadata["compile"] = json.dumps({
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": _serialize_losses(model.loss),
            "loss_weights": model.compile_setting("loss_weights"),
            "metrics": [m if isinstance(m, str) else metrics.serialize(m) for m in model.metric_identifiers]})
        for key, value in model.optimizer.variables().items():
            tensors[f"optimizer/{key}"] = xp.asarray(value, order="C")
    return save(tensors, metadata=metadata)


def save_weights(model, filepath):
    """Write ``model``'s weights alone to ``filepath`` (safetensors), atomically."""
    from safetensors.numpy import save
    metadata = {"format": WEIGHTS_FORMAT, "format_version": FORMAT_VERSION,
                "weight_names": json.dumps(model.weight_names)}
    _write_atomically(os.fspath(filepath), save(_weight_tensors(model), metadata=metadata))


def load_weights(model, filepath):
    """Give ``model`` the weights ``save_weights`` (or ``save``) wrote: counts and shapes are checked
    before any weight changes."""
    path = os.fspath(filepath)
    metadata, tensors = _read_file(path, (WEIGHTS_FORMAT, FORMAT))
    count = len([key for key in tensors if key.startswith("weights/")])
    if count != len(model.weights):
        raise ValueError(f"filepath: {path!r} holds {count} weights for a model with {len(model.weights)}")
    model.set_weights([tensors[f"weights/{i:04d}"] for i in range(count)])


def _weight_tensors(model):
    return {f"weights/{i:04d}": xp.asarray(w.data, order="C") for i, w in enumerate(model.weights)}


def _serialize_losses(loss):
    """The compiled loss as JSON: one loss, a list or a dict of them (None where an output has none)."""
    if isinstance(loss, dict):
        return {"dict": {key: _serialize_loss(entry) for key, entry in loss.items()}}
    if isinstance(loss, (list, tuple)):
        return {"list": [_serialize_loss(entry) for entry in loss]}
    return _serialize_loss(loss)


def _serialize_loss(loss):
    from . import losses
    if loss is None:
        return None
    if isinstance(loss, losses.LossFunctionWrapper):
        return {"function": layer_base.registered_name(loss.fn) if hasattr(loss.fn, "registered_name")
                else loss.fn.__name__}
    return {"class_name": layer_base.registered_name(type(loss)), "config": loss.get_config()}


def _deserialize_losses(config):
    if isinstance(config, dict) and "dict" in config:
        return {key: _deserialize_loss(entry) for key, entry in config["dict"].items()}
    if isinstance(config, dict) and "list" in config:
        return [_deserialize_loss(entry) for entry in config["list"]]
    return _deserialize_loss(config)


def _deserialize_loss(config):
    from . import losses
    if config is None:
        return None
    if isinstance(config, str):
        return losses.get(config)
    if "function" in config:
        found = layer_base.custom_object(config["function"])
        if found is None:
            raise ValueError(f"loss: the function {config['function']!r} is not registered; register it with "
                             "register_keras_serializable() or give it in custom_objects")
        return losses.LossFunctionWrapper(found)
    custom = layer_base.custom_object(config["class_name"])
    return custom.from_config(config.get("config", {})) if custom is not None else losses.get(config)


def _write_atomically(path, data):
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _read_file(path, formats):
    """(metadata, tensors) of the safetensors file at ``path``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"filepath: no such file {path!r}")
    with open(path, "rb") as file:
        return _read(file.read(), path, formats)


def _read(data, path, formats):
    """(metadata, tensors) of a safetensors file's bytes; ValueError when it is not one or is cut short.

    The layout is an 8-byte little-endian header length, a JSON header (with the
    metadata under "__metadata__"), then the tensors' bytes."""
    from safetensors.numpy import load
    try:
        header_size = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_size]).get("__metadata__") or {}
        tensors = load(data)
    except Exception as error:
        raise ValueError(f"filepath: {path!r} is not a readable safetensors file (not one, or truncated): "
                         f"{type(error).__name__}: {error}") from None
    if metadata.get("format") not in formats:
        raise ValueError(f"filepath: {path!r} is a safetensors file but not a chainrule "
                         f"{'model' if formats == (FORMAT,) else 'model or weights file'} "
                         f"(metadata 'format' is {metadata.get('format')!r}, expected {' or '.join(map(repr, formats))})")
    return metadata, tensors


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Rebuild the model saved at ``filepath``: same layers, weights and (when it was
    compiled) optimizer with its state, so predictions match and training resumes identically.
    ``custom_objects`` ({name: class or function}) names one's own layers, losses and metrics;
    ``safe_mode`` is accepted for Keras code (loading never runs code from the file)."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"filepath: no such file {path!r}")
    with open(path, "rb") as file, custom_object_scope(custom_objects or {}):
        return model_from_bytes(file.read(), compile, path)


def model_from_bytes(data, compile=True, path="<bytes>"):
    """The model ``model_to_bytes`` (or a file ``save_model`` wrote) holds; ``path`` names it in errors."""
    from . import optimizers
    metadata, tensors = _read(data, path, (FORMAT,))
    try:
        record = json.loads(metadata["model"])
        model = layer_base.get_layer_class(record["class_name"]).from_config(record["config"])
        if model.input_shape is None:
            shape = record["input_shape"]
            model.build([(None, *s) for s in shape] if shape and isinstance(shape[0], list) else (None, *shape))
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise ValueError(f"filepath: {path!r} holds a model config that cannot be rebuilt: {error!r}") from None
    count = len(record["weight_names"])
    keys = [f"weights/{i:04d}" for i in range(count)]
    missing = [key for key in keys if key not in tensors]
    if missing or count != len(model.weights):
        raise ValueError(f"filepath: {path!r} holds {count} weights for a model with {len(model.weights)} "
                         f"(missing tensors: {missing[:3]})")
    model.set_weights([tensors[key] for key in keys])
    if compile and "compile" in metadata:
        settings = json.loads(metadata["compile"])
        try:
            model.compile(optimizer=optimizers.deserialize(settings["optimizer"]),
                          loss=_deserialize_losses(settings["loss"]), loss_weights=settings.get("loss_weights"),
                          metrics=settings["metrics"])
        except ValueError as error:
            raise ValueError(f"filepath: {path!r}: the saved compile settings cannot be restored ({error}); "
                             "load with load_model(path, compile=False) and compile again") from None
        state = {key[len("optimizer/"):]: value for key, value in tensors.items() if key.startswith("optimizer/")}
        if state:
            model.optimizer.set_variables(state)
    return model
