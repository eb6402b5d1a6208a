"""Pictures of backpropagation (matplotlib, Agg backend): the network, its passes, training curves.

Stacks of Dense layers up to 6 layers of weights and 16 units per layer are drawn unit
by unit; larger ones, and networks with other layers (convolution, recurrent...), are
summarised, one row of bars per layer. Every figure has a fixed size in
pixels (the ``*_SIZE`` constants), so files are the same size whatever the network.
"""
import numpy as np

from .records import joint_norm, parts

DPI = 100
NETWORK_SIZE = (1400, 640)        # plot_network: forward panel | backward panel
ANIMATION_SIZE = (800, 560)
HISTORY_SIZE = (1000, 420)
FLOW_PANEL_SIZE = (640, 440)      # plot_gradient_flow: one panel per monitor
MAX_DRAWN_LAYERS = 6
MAX_DRAWN_UNITS = 16


def _pyplot():
    try:
        import matplotlib
    except ImportError as error:
        raise ImportError("the pictures need matplotlib: pip install 'chainrule[plot]'") from error
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    return plt


def _figure(plt, size, ncols=1):
    return plt.subplots(1, ncols, figsize=(size[0] / DPI, size[1] / DPI), dpi=DPI, squeeze=False)


def _save(fig, path, plt):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


# ----- the network ---------------------------------------------------------
class _Layout:
    """Node positions: layer l (0 = inputs) at x = l, units spread over y in [0, 1]."""

    def __init__(self, trace):
        self.dense = trace.dense_layers
        self.widths = [self.dense[0].kernel.shape[0]] + [r.kernel.shape[1] for r in self.dense] if self.dense else []
        self.symbols = trace.symbols
        self.summarised = (not trace.unit_by_unit or len(self.dense) > MAX_DRAWN_LAYERS
                           or max(self.widths) > MAX_DRAWN_UNITS)

    def position(self, layer, unit):
        count = self.widths[layer]
        y = 0.5 if count == 1 else 1 - unit / (count - 1)
        return layer, 0.06 + 0.88 * y

    def node_size(self):
        return 1600 if max(self.widths) <= 4 else (900 if max(self.widths) <= 8 else 250)

    def line_width(self):
        return 3.2 if max(self.widths) <= 4 else 1.4

    def font_size(self):
        return 9 if max(self.widths) <= 4 else (8 if max(self.widths) <= 8 else 6)


def _symmetric_norm(values, colors):
    limit = max(float(np.max(np.abs(values))) if np.size(values) else 0.0, 1e-12)
    return colors.Normalize(-limit, limit)


def _draw(ax, trace, layout, phase, revealed):
    """Draw the network on ``ax``: ``phase`` 'forward' (nodes = activations, edges = weights) or
    'backward' (nodes = deltas, edges = gradients); only ``revealed`` layers of weights are coloured
    (counted from the input for forward, from the output for backward)."""
    from matplotlib import cm, colors

    depth = len(layout.dense)
    sample = 0
    if phase == "forward":
        node_values = [trace.dense_layers[0].inputs[sample]] + [r.a[sample] for r in layout.dense]
        edge_values = [r.kernel for r in layout.dense]
        node_cmap, node_norm = cm.viridis, colors.Normalize(*_range(node_values))
        shown = lambda l: l <= revealed  # noqa: E731  layer l of nodes is computed
    else:
        node_values = [None] + [r.delta[sample] for r in layout.dense]
        edge_values = [r.grad_kernel for r in layout.dense]
        node_cmap = cm.coolwarm
        node_norm = _symmetric_norm(np.concatenate([v for v in node_values[1:]]), colors)
        shown = lambda l: l >= depth - revealed + 1  # noqa: E731
    edge_norm = _symmetric_norm(np.concatenate([e.ravel() for e in edge_values]), colors)
    largest = max(float(np.max(np.abs(e))) for e in edge_values) or 1.0
    expanded = max(layout.widths) <= 4
    for l, values in enumerate(edge_values, start=1):
        active = shown(l)
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                (x0, y0), (x1, y1) = layout.position(l - 1, i), layout.position(l, j)
                value = values[i, j]
                color = cm.coolwarm(edge_norm(value)) if active else "0.85"
                ax.plot([x0, x1], [y0, y1], color=color, lw=0.3 + layout.line_width() * abs(value) / largest, zorder=1)
                if expanded and active:
                    t = 0.5 if y0 == y1 else 0.36   # diagonals cross at the middle
                    ax.text(x0 + t * (x1 - x0), y0 + t * (y1 - y0), _short(value), fontsize=7, ha="center",
                            va="center", zorder=3,
                            bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    for l, values in enumerate(node_values):
        for j in range(layout.widths[l]):
            x, y = layout.position(l, j)
            known = values is not None and shown(l)
            face = node_cmap(node_norm(values[j])) if known else "0.92"
            ax.scatter([x], [y], s=layout.node_size(), color=face, edgecolors="0.3", zorder=2)
            label = layout.symbols.unit(l, j)
            if known and max(layout.widths) <= 8:
                label += "\n" + _short(values[j])
            red, green, blue = colors.to_rgb(face)
            dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            ax.text(x, y, label, ha="center", va="center", fontsize=layout.font_size(), zorder=4,
                    color="white" if dark else "black")
    ax.set_xlim(-0.4, depth + 0.4)
    ax.set_ylim(-0.04, 1.06)
    ax.set_xticks(range(depth + 1), ["input"] + [f"{l}: {r.name}\n({r.activation})" for l, r in
                                                 enumerate(layout.dense, start=1)], fontsize=8)
    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return node_norm, edge_norm, node_cmap


def _range(arrays):
    values = np.concatenate([np.ravel(a) for a in arrays])
    low, high = float(values.min()), float(values.max())
    return (low, high) if high > low else (low - 1, high + 1)


def _short(value):
    return f"{value:.3g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.1e}"


def _colorbars(fig, ax, norms, labels):
    """Two labelled colour bars inside the panel's right margin: nodes, then edges."""
    from matplotlib import cm
    node_norm, edge_norm, node_cmap = norms
    for offset, norm, cmap, label in ((1.01, node_norm, node_cmap, labels[0]),
                                      (1.12, edge_norm, cm.coolwarm, labels[1])):
        bar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), cax=ax.inset_axes([offset, 0.1, 0.018, 0.8]))
        bar.ax.tick_params(labelsize=7)
        bar.set_label(label, fontsize=8)


def _summary(ax, trace, phase):
    """For networks not drawn unit by unit: one row per layer, with the size of its numbers
    (the norms of all of a layer's weights together; 0 for a layer without weights)."""
    from matplotlib.ticker import NullFormatter

    records = trace.layers
    kinds = {layer.name: type(layer).__name__ for layer in trace.model.layers}
    labels = [f"{l}: {r.name}\n{kinds[r.name] if r.activation == kinds[r.name].lower() else r.activation}, "
              f"{_shape_text(r.a)}" for l, r in enumerate(records, start=1)]
    rows = np.arange(len(records))
    if phase == "forward":
        series = (("mean |a|", [np.mean(np.abs(np.concatenate([np.ravel(a) for a in parts(r.a)]))) for r in records]),
                  ("||W||", [joint_norm(r.weights.values()) for r in records]))
    else:
        series = (("||δ||", [joint_norm(parts(r.delta)) for r in records]),
                  ("||dL/dW||", [joint_norm(r.grads.values()) for r in records]))
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(NullFormatter())   # minor labels overlap when the range is under a decade
    height = 0.38
    for k, (name, values) in enumerate(series):
        drawn = np.asarray(values) > 0     # a layer without weights has no bar
        ax.barh(rows[drawn] + (k - 0.5) * height, np.asarray(values)[drawn], height=height, label=name)
    ax.set_yticks(rows, labels, fontsize=7 if len(records) <= 24 else 5)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=7)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)


def _shape_text(values):
    if isinstance(values, list):
        return ", ".join(_shape_text(entry) for entry in values)
    shape = np.shape(values)[1:]
    if len(shape) == 1:
        return f"{shape[0]} unit" + ("s" if shape[0] != 1 else "")
    return " x ".join(map(str, shape))


def plot_network(trace, path):
    """Two panels: the forward pass (node colour = activation, edge colour and width = weight)
    and the backward pass (node colour = delta dL/dz, edge = gradient dL/dw). Returns ``path``."""
    plt = _pyplot()
    fig, axes = _figure(plt, NETWORK_SIZE, ncols=2)
    layout = _Layout(trace)
    batch = " (batch)" if len(trace.x) > 1 else ""
    sample = " (sample 1)" if batch and not layout.summarised else ""
    panels = ((axes[0, 0], "forward", f"Forward{sample}: activations a, weights w", ("a", "w")),
              (axes[0, 1], "backward", f"Backward: deltas δ = dL/dz{sample}, gradients dL/dw{batch}", ("δ", "dL/dw")))
    for ax, phase, title, labels in panels:
        if layout.summarised:
            _summary(ax, trace, phase)
        else:
            _colorbars(fig, ax, _draw(ax, trace, layout, phase, len(layout.dense)), labels)
        ax.set_title(title, fontsize=11)
    fig.suptitle(f"loss L = {trace.loss:.6g}", fontsize=11)
    if layout.summarised:
        fig.subplots_adjust(left=0.17, right=0.98, bottom=0.1, top=0.88, wspace=0.62)
    else:
        fig.subplots_adjust(left=0.02, right=0.88, bottom=0.12, top=0.88, wspace=0.32)
    return _save(fig, path, plt)


def animate(trace, path, interval=900):
    """An animated GIF: the forward pass layer by layer, then the backward pass from the output back.
    Returns ``path``."""
    plt = _pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    layout = _Layout(trace)
    depth = len(layout.dense) if trace.unit_by_unit else len(trace.layers)
    frames = [("forward", k) for k in range(depth + 1)] + [("backward", k) for k in range(1, depth + 1)]
    fig, axes = _figure(plt, ANIMATION_SIZE)
    ax = axes[0, 0]
    fig.subplots_adjust(left=0.33 if layout.summarised else 0.03, right=0.97, bottom=0.14, top=0.88)

    def draw(frame):
        phase, revealed = frame
        ax.clear()
        if layout.summarised:
            _summary(ax, trace, phase)
        else:
            _draw(ax, trace, layout, phase, revealed)
        if phase == "forward":
            title = ("Forward pass: the input" if revealed == 0
                     else f"Forward pass: layer {revealed}, a = f(a_prev · W + b)")
        else:
            layer = depth - revealed + 1
            title = (f"Backward pass: output delta, loss L = {trace.loss:.4g}" if revealed == 1
                     else f"Backward pass: layer {layer}, δ = (δ_next · W_next^T) · f'(z)")
        ax.set_title(title, fontsize=11)
        return []

    animation = FuncAnimation(fig, draw, frames=frames, interval=interval, blit=False)
    animation.save(path, writer=PillowWriter(fps=max(1, round(1000 / interval))), dpi=DPI)
    plt.close(fig)
    return path


# ----- training ---------------------------------------------------------------
def plot_history(history, path):
    """Loss (and validation loss) per epoch, and the metrics in a second panel if any. ``history``
    is what ``fit`` returns or its ``.history`` dict. Returns ``path``."""
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or "loss" not in logs:
        raise ValueError("history: expected the History fit returns (or its dict) with a 'loss' entry")
    metrics = [key for key in logs if not key.endswith("loss")]
    fig, axes = _figure(plt, HISTORY_SIZE, ncols=2 if metrics else 1)
    panels = [("loss", [k for k in logs if k.endswith("loss")])] + ([("metrics", metrics)] if metrics else [])
    for ax, (title, keys) in zip(axes[0], panels):
        for key in keys:
            values = logs[key]
            ax.plot(range(1, len(values) + 1), values, marker="o" if len(values) <= 30 else None, ms=3, label=key)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    return _save(fig, path, plt)


def plot_gradient_flow(monitor, path):
    """Per-layer gradient norms (log scale), one line per epoch; ``monitor`` is a
    :class:`GradientMonitor` or a dict {label: monitor}, drawn side by side. Returns ``path``."""
    plt = _pyplot()
    from matplotlib import cm

    monitors = monitor if isinstance(monitor, dict) else {"": monitor}
    if any(not m.norms for m in monitors.values()):
        raise ValueError("monitor: no gradient norms recorded yet; pass it to fit(callbacks=[monitor]) first")
    fig, axes = _figure(plt, (FLOW_PANEL_SIZE[0] * len(monitors), FLOW_PANEL_SIZE[1]), ncols=len(monitors))
    low = min(min(min(n) for n in m.norms) for m in monitors.values())
    high = max(max(max(n) for n in m.norms) for m in monitors.values())
    for ax, (label, m) in zip(axes[0], monitors.items()):
        epochs = len(m.norms)
        for e, norms in enumerate(m.norms):
            ax.plot(range(1, len(norms) + 1), norms, marker="o", ms=3, color=cm.viridis(e / max(epochs - 1, 1)),
                    label=f"epoch {e + 1}" if epochs <= 8 or e in (0, epochs - 1) else None)
        ax.set_yscale("log")
        ax.set_ylim(max(low, 1e-30) / 3, high * 3)
        ax.set_xticks(range(1, len(m.layer_names) + 1))
        ax.set_xlabel("layer (1 = first, next to the input)")
        ax.set_ylabel("||dL/dweights||")
        ax.set_title(f"{label}: first/last = {m.ratios[-1]:.2g}" if label else f"first/last = {m.ratios[-1]:.2g}")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.subplots_adjust(left=0.1 / len(monitors), right=0.98, bottom=0.13, top=0.9, wspace=0.25)
    return _save(fig, path, plt)
