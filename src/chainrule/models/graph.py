"""The functional graph: the layer calls between a model's ``Input`` and its output, replayed in order."""
from ..layers.base import SymbolicTensor, deserialize_layer, serialize_layer


class Graph:
    """The layer calls between a functional model's Input and its output, in the order they run."""

    def __init__(self, inputs, outputs):
        self.input = _single(inputs, "inputs")
        self.output = _single(outputs, "outputs")
        if self.input.layer is not None:
            raise ValueError("inputs: expected the placeholder returned by Input(shape), got a layer's output")
        order, seen, stack = [], set(), [(self.output, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
            elif id(node) not in seen:
                seen.add(id(node))
                stack.append((node, True))
                stack.extend((parent, False) for parent in node.parents)
        for node in order:
            if node.layer is None and node is not self.input:
                raise ValueError("outputs: depends on an Input that is not the model's inputs")
        if self.input not in order:
            raise ValueError("outputs: does not depend on inputs")
        self.nodes = [node for node in order if node.layer is not None]
        self.layers = []
        for node in self.nodes:
            if node.layer not in self.layers:
                self.layers.append(node.layer)

    def run(self, x, training):
        values, calls = {id(self.input): x}, {}
        for node in self.nodes:
            if node.call is not None and id(node.call) in calls:   # another entry of a list already computed
                values[id(node)] = calls[id(node.call)][node.output_index]
                continue
            args = [values[id(parent)] for parent in node.parents]
            output = node.layer(args if node.list_call else args[0], training=training)
            if node.call is not None:
                calls[id(node.call)] = output
                output = output[node.output_index]
            values[id(node)] = output
        return values[id(self.output)]

    def get_config(self):
        index, first_of_call = {id(self.input): 0}, {}
        nodes = [{"input_shape": list(self.input.shape[1:])}]
        for node in self.nodes:
            index[id(node)] = len(nodes)
            entry = {"layer": self.layers.index(node.layer), "parents": [index[id(p)] for p in node.parents],
                     "list_call": node.list_call}
            if node.call is not None:
                entry["output_index"] = node.output_index
                entry["call"] = first_of_call.setdefault(id(node.call), len(nodes))
            nodes.append(entry)
        return {"layers": [serialize_layer(layer) for layer in self.layers], "nodes": nodes,
                "output": index[id(self.output)]}

    @staticmethod
    def rebuild(config):
        from ..layers.input import Input
        layers = [deserialize_layer(c) for c in config["layers"]]
        values, calls = [Input(tuple(config["nodes"][0]["input_shape"]))], {}
        for node in config["nodes"][1:]:
            if "output_index" in node:
                if node["call"] not in calls:
                    args = [values[i] for i in node["parents"]]
                    calls[node["call"]] = layers[node["layer"]](args if node["list_call"] else args[0])
                values.append(calls[node["call"]][node["output_index"]])
                continue
            args = [values[i] for i in node["parents"]]
            values.append(layers[node["layer"]](args if node["list_call"] else args[0]))
        return values[0], values[config["output"]]


def _single(value, name):
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise ValueError(f"{name}: models with several inputs or outputs are not supported, got {len(value)}")
        value = value[0]
    if not isinstance(value, SymbolicTensor):
        raise TypeError(f"{name}: expected the result of Input(...) or of layers called on it, got {type(value).__name__}")
    return value
