"""The worked examples that ship with chainrule: small networks with given weights, as JSON.

Each file in ``chainrule/explain/examples/`` holds the architecture (``input_dim``
and per layer ``units``, ``activation``, ``use_bias``, ``kernel`` in Keras'
(in, out) layout, ``bias``), ``inputs``, ``targets``, ``loss``,
``learning_rate``, optional ``names`` (symbols, see :class:`Symbols`) and
optional ``expected`` numbers from the source text (``loss``, ``output``, and
``after_step``: weight symbol -> value after one step).
"""
import json
from dataclasses import dataclass
from importlib import resources

import numpy as np

_PACKAGE = "chainrule.explain"


@dataclass
class Example:
    name: str
    title: str
    description: str
    model: object
    x: np.ndarray
    y: np.ndarray
    learning_rate: float
    names: dict
    expected: dict

    def trace(self):
        from .trace import trace
        return trace(self.model, self.x, self.y, self.learning_rate, self.names)


def _files():
    return {path.name[:-len(".json")]: path for path in resources.files(_PACKAGE).joinpath("examples").iterdir()
            if path.name.endswith(".json")}


def list_examples():
    """Names of the shipped examples, sorted."""
    return sorted(_files())


def load_example(name):
    """Build the example ``name``: a compiled float64 model with the given weights, and its data."""
    files = _files()
    if name not in files:
        raise ValueError(f"example: unknown name {name!r}; valid names: {', '.join(sorted(files))}")
    spec = json.loads(files[name].read_text())
    return Example(spec["name"], spec["title"], spec["description"], build_model(spec),
                   np.array(spec["inputs"], dtype=np.float64), np.array(spec["targets"], dtype=np.float64),
                   float(spec["learning_rate"]), spec.get("names"), spec.get("expected", {}))


def build_model(spec):
    """A Sequential of Dense layers (float64) with the spec's weights, compiled with SGD(learning_rate)."""
    from ..layers import Dense
    from ..models import Sequential
    from ..optimizers import SGD

    layers, depth = [], len(spec["layers"])
    for i, layer in enumerate(spec["layers"]):
        name = "output" if i == depth - 1 else ("hidden" if depth == 2 else f"hidden_{i + 1}")
        layers.append(Dense(layer["units"], activation=layer.get("activation"), use_bias=layer.get("use_bias", True),
                            dtype="float64", name=name, **({"input_dim": spec["input_dim"]} if i == 0 else {})))
    model = Sequential(layers)
    for dense, layer in zip(layers, spec["layers"]):
        weights = [np.array(layer["kernel"], dtype=np.float64)]
        if layer.get("use_bias", True):
            weights.append(np.array(layer["bias"], dtype=np.float64))
        dense.set_weights(weights)
    model.compile(optimizer=SGD(learning_rate=spec["learning_rate"]), loss=spec["loss"])
    return model


def compare_expected(run, names, expected, tolerance=1e-8):
    """The source's numbers against the trace's: rows (what, source value, chainrule value, agree)."""
    rows = []
    if "loss" in expected:
        rows.append(("loss", expected["loss"], run.loss))
    for s, values in enumerate(expected.get("output", [])):
        rows += [(f"output[{s}][{j}]", value, float(run.output[s, j])) for j, value in enumerate(values)]
    if "after_step" in expected:
        updated = {}
        for l, (record, new) in enumerate(zip(run.dense_layers, run.updated_weights()), start=1):
            for i, j in np.ndindex(*record.kernel.shape):
                updated[run.symbols.weight(l, i, j)] = float(new["kernel"][i, j])
            for j in range(len(new.get("bias", []))):
                updated[run.symbols.bias(l, j)] = float(new["bias"][j])
        for symbol, value in expected["after_step"].items():
            if symbol not in updated:
                raise ValueError(f"expected: no weight named {symbol!r}; names are {', '.join(updated)}")
            rows.append((f"{symbol} after one step", value, updated[symbol]))
    return [(what, wanted, got, abs(wanted - got) <= tolerance) for what, wanted, got in rows]
