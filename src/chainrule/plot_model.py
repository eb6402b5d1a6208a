"""``plot_model``: a model's layers and their connections as a Graphviz graph (DOT text written here;
an image drawn by Graphviz through pydot, the optional extra ``chainrule[graph]``)."""
import os


def model_to_dot_text(model, show_shapes=False, show_layer_names=True, rankdir="TB",
                      show_layer_activations=False, show_trainable=False, dpi=200):
    """The DOT source of the graph: one box per layer (name, class, and as asked output shape, activation,
    trainability), an edge per connection read from the model's config (Sequential: in order)."""
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"rankdir: expected 'TB' or 'LR', got {rankdir!r}")
    config = model.get_config() if hasattr(model, "get_config") else {}
    records = config.get("layers") or []
    layers = {layer.name: layer for layer in getattr(model, "layers", [])}
    names = [record["config"]["name"] for record in records] if records else list(layers)
    if "nodes" in config:
        nodes = config["nodes"]
        labels = [("input", "InputLayer") if "layer" not in node else
                  (names[node["layer"]], records[node["layer"]]["class_name"]) for node in nodes]
        edges = [(parent, index) for index, node in enumerate(nodes) for parent in node.get("parents", [])]
    else:
        labels = [("input", "InputLayer")] + [(name, type(layers[name]).__name__ if name in layers else "Layer")
                                              for name in names]
        edges = [(index, index + 1) for index in range(len(labels) - 1)]
    lines = [f'digraph "{getattr(model, "name", "model")}" {{', f"  rankdir={rankdir}; dpi={dpi};",
             '  node [shape=record, fontname="Helvetica"];']
    for index, (name, kind) in enumerate(labels):
        layer = layers.get(name)
        parts = [f"{name} ({kind})" if show_layer_names else kind]
        if show_shapes and layer is not None and getattr(layer, "output_shape", None) is not None:
            parts.append(f"output: {layer.output_shape}")
        if show_layer_activations and layer is not None and hasattr(layer, "activation"):
            parts.append(f"activation: {getattr(layer.activation, '__name__', layer.activation)}")
        if show_trainable and layer is not None:
            parts.append(f"trainable: {getattr(layer, 'trainable', True)}")
        label = "|".join(part.replace('"', "'").replace("{", "(").replace("}", ")").replace("|", "/")
                         for part in parts)
        lines.append(f'  n{index} [label="{{{label}}}"];')
    lines += [f"  n{a} -> n{b};" for a, b in edges]
    return "\n".join(lines + ["}"]) + "\n"


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False, show_layer_names=True,
               rankdir="TB", expand_nested=False, dpi=200, show_layer_activations=False, show_trainable=False,
               **kwargs):
    """Write the model's graph to ``to_file``: a '.dot' file is the DOT text (no dependency); any other
    extension ('.png', '.svg', '.pdf') is drawn by Graphviz through pydot (``pip install 'chainrule[graph]'``
    and Graphviz's ``dot``). ``show_dtype`` and ``expand_nested`` are accepted for Keras code."""
    text = model_to_dot_text(model, show_shapes, show_layer_names, rankdir, show_layer_activations, show_trainable,
                             dpi)
    path = os.fspath(to_file)
    extension = os.path.splitext(path)[1].lstrip(".").lower() or "png"
    if extension == "dot":
        with open(path, "w") as file:
            file.write(text)
        return path
    try:
        import pydot
    except ImportError:
        raise ImportError("plot_model: drawing a '.{0}' needs pydot and Graphviz: pip install 'chainrule[graph]' "
                          "(and Graphviz's dot), or write to a '.dot' file".format(extension)) from None
    graph = pydot.graph_from_dot_data(text)[0]
    try:
        graph.write(path, format=extension)
    except FileNotFoundError:
        raise ImportError("plot_model: Graphviz's 'dot' program is not installed (pydot calls it to draw); "
                          "install Graphviz, or write to a '.dot' file") from None
    return path
