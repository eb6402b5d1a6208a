"""Saving and loading whole models as one ``.safetensors`` file.

The file holds the weights (``weights/0000``, ... in ``model.weights`` order)
and the optimizer state (``optimizer/<name>``) as tensors, and in its metadata
the model's JSON config (layer class names and ``get_config``), the compile
settings and a format tag. Nothing is pickled: loading reads arrays and JSON only.
"""
import json
import os
import tempfile

from .backend import xp

FORMAT = "chainrule.model"
FORMAT_VERSION = "1"


def save_model(model, filepath):
    """Write ``model`` to ``filepath`` atomically: a temporary file in the same
    folder, flushed to disk, then renamed over the target."""
    _write_atomically(os.fspath(filepath), model_to_bytes(model))


def model_to_bytes(model):
    """The bytes of the ``.safetensors`` file ``save_model`` writes (weights, optimizer state, config)."""
    from safetensors.numpy import save
    from . import losses, metrics, optimizers
    from .version import __version__
    if model.input_shape is None:
        raise ValueError("model: cannot save a model that is not built yet; call it on data, fit it, "
                         "or give the first layer input_shape")
    tensors = {f"weights/{i:04d}": xp.asarray(w.data, order="C") for i, w in enumerate(model.weights)}
    record = {"class_name": type(model).__name__, "config": model.get_config(),
              "input_shape": list(model.input_shape[1:]), "weight_names": model.weight_names}
    metadata = {"format": FORMAT, "format_version": FORMAT_VERSION, "chainrule_version": __version__,
                "model": json.dumps(record)}
    if model.optimizer is not None:
        metadata["compile"] = json.dumps({
            "optimizer": optimizers.serialize(model.optimizer),
            "loss": losses.serialize(model.loss),
            "metrics": [m if isinstance(m, str) else metrics.serialize(m) for m in model.metric_identifiers]})
        for key, value in model.optimizer.variables().items():
            tensors[f"optimizer/{key}"] = xp.asarray(value, order="C")
    return save(tensors, metadata=metadata)


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


def _read(data, path):
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
    if metadata.get("format") != FORMAT:
        raise ValueError(f"filepath: {path!r} is a safetensors file but not a chainrule model "
                         f"(metadata 'format' is {metadata.get('format')!r}, expected {FORMAT!r})")
    return metadata, tensors


def load_model(filepath, compile=True):
    """Rebuild the model saved at ``filepath``: same layers, weights and (when it was
    compiled) optimizer with its state, so predictions match and training resumes identically."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"filepath: no such file {path!r}")
    with open(path, "rb") as file:
        return model_from_bytes(file.read(), compile, path)


def model_from_bytes(data, compile=True, path="<bytes>"):
    """The model ``model_to_bytes`` (or a file ``save_model`` wrote) holds; ``path`` names it in errors."""
    from . import losses, optimizers
    from .layers.base import get_layer_class
    metadata, tensors = _read(data, path)
    try:
        record = json.loads(metadata["model"])
        model = get_layer_class(record["class_name"]).from_config(record["config"])
        if model.input_shape is None:
            model.build((None, *record["input_shape"]))
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
            model.compile(optimizer=optimizers.deserialize(settings["optimizer"]), loss=losses.get(settings["loss"]),
                          metrics=settings["metrics"])
        except ValueError as error:
            raise ValueError(f"filepath: {path!r}: the saved compile settings cannot be restored ({error}); "
                             "load with load_model(path, compile=False) and compile again") from None
        state = {key[len("optimizer/"):]: value for key, value in tensors.items() if key.startswith("optimizer/")}
        if state:
            model.optimizer.set_variables(state)
    return model
