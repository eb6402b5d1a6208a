"""The functional graph: the layer calls between a model's ``Input`` placeholders and its
outputs, replayed in order. Inputs and outputs are each one placeholder, a list, or a dict
keyed by name; the model is called, and returns, in the same structure."""
from ..layers.base import SymbolicTensor, call_with, deserialize_layer, serialize_layer
from . import structure


class Graph:
    """The layer calls between a functional model's inputs and outputs, in the order they run."""

    def __init__(self, inputs, outputs):
        self.input_structure, self.output_structure = _checked(inputs, "inputs"), _checked(outputs, "outputs")
        self.inputs, self.outputs = structure.flatten(inputs), structure.flatten(outputs)
        for placeholder in self.inputs:
            if placeholder.layer is not None:
                raise ValueError("inputs: expected placeholders returned by Input(shape), got a layer's output")
        order, seen, stack = [], set(), [(output, False) for output in reversed(self.outputs)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in reversed(node.parents))
        given = {id(placeholder) for placeholder in self.inputs}
        for node in order:
            if node.layer is None and id(node) not in given:
                raise ValueError("outputs: depend on an Input that is not among the model's inputs")
        reached = {id(node) for node in order}
        for index, placeholder in enumerate(self.inputs):
            if id(placeholder) not in reached:
                raise ValueError(f"inputs: input {index} ({placeholder.name or 'unnamed'}) does not reach any output")
        self.nodes = [node for node in order if node.layer is not None]
        self.node_layers = []      # the layers that compute, in call order (what the config saves)
        for node in self.nodes:
            if node.layer not in self.node_layers:
                self.node_layers.append(node.layer)

    @property
    def layers(self):
        """Each input's InputLayer, then the layers that compute: Keras 3's ``model.layers``."""
        return [p.input_layer for p in self.inputs if getattr(p, "input_layer", None) is not None] + self.node_layers

    @property
    def input_names(self):
        """Each input's name: its dict key, else the name given to ``Input``, else 'input_k'."""
        return _names(self.input_structure, self.inputs, lambda index, node: node.name or f"input_{index}")

    @property
    def output_names(self):
        """Each output's name: its dict key, else the name of the layer that produces it."""
        return _names(self.output_structure, self.outputs, lambda index, node: node.layer.name)

    def run(self, inputs, training):
        """The outputs, in the outputs' structure, for ``inputs`` (one Tensor, a list, or a dict by input name)."""
        flat = structure.flatten_like(inputs, self.input_structure, self.input_names, "inputs")
        values, calls = {id(placeholder): value for placeholder, value in zip(self.inputs, flat)}, {}
        for node in self.nodes:
            if node.call is not None and id(node.call) in calls:   # another entry of a list already computed
                values[id(node)] = calls[id(node.call)][node.output_index]
                continue
            args = [values[id(parent)] for parent in node.parents]
            output = call_with(node.layer, args, node.list_call, training=training)
            if node.call is not None:
                calls[id(node.call)] = output
                output = output[node.output_index]
            values[id(node)] = output
        return structure.pack_like(self.output_structure, [values[id(output)] for output in self.outputs])

    def get_config(self):
        index, first_of_call = {}, {}
        nodes = []
        for placeholder in self.inputs:
            index[id(placeholder)] = len(nodes)
            nodes.append({"input_shape": list(placeholder.shape[1:]), "dtype": str(placeholder.dtype),
                          "name": placeholder.name})
        for node in self.nodes:
            index[id(node)] = len(nodes)
            entry = {"layer": self.node_layers.index(node.layer), "parents": [index[id(p)] for p in node.parents],
                     "list_call": node.list_call}
            if node.call is not None:
                entry["output_index"] = node.output_index
                entry["call"] = first_of_call.setdefault(id(node.call), len(nodes))
            nodes.append(entry)
        return {"layers": [serialize_layer(layer) for layer in self.node_layers], "nodes": nodes,
                "inputs": structure.describe(self.input_structure, [index[id(n)] for n in self.inputs]),
                "outputs": structure.describe(self.output_structure, [index[id(n)] for n in self.outputs])}

    @staticmethod
    def rebuild(config):
        """(inputs, outputs) placeholders, in their structures, rebuilt from ``get_config``'s dict."""
        from ..layers.input import Input
        layers = [deserialize_layer(c) for c in config["layers"]]
        values, calls = [], {}
        for node in config["nodes"]:
            if "input_shape" in node:
                values.append(Input(tuple(node["input_shape"]), dtype=node.get("dtype"), name=node.get("name")))
                continue
            if "output_index" in node:
                if node["call"] not in calls:
                    args = [values[i] for i in node["parents"]]
                    calls[node["call"]] = call_with(layers[node["layer"]], args, node["list_call"])
                values.append(calls[node["call"]][node["output_index"]])
                continue
            args = [values[i] for i in node["parents"]]
            values.append(call_with(layers[node["layer"]], args, node["list_call"]))
        return (structure.rebuild(config["inputs"], values), structure.rebuild(config["outputs"], values))


def _checked(value, name):
    for entry in structure.flatten(value):
        if not isinstance(entry, SymbolicTensor):
            raise TypeError(f"{name}: expected the result of Input(...) or of layers called on it, "
                            f"got {type(entry).__name__}")
    if not structure.flatten(value):
        raise ValueError(f"{name}: expected at least one placeholder, got none")
    return value


def _names(layout, flat, default):
    if isinstance(layout, dict):
        return list(layout)
    return [default(index, node) for index, node in enumerate(flat)]
