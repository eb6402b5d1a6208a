"""Names for the quantities of a dense network: units, weights, biases, targets.

Layers are numbered from 1 (layer 0 is the input). By default the inputs are
x1, x2, ..., the output units o1, o2, ... (o alone when there is one), the
hidden units h1, h2, ... (h{l}_{j} when there are several hidden layers), the
weight from unit i of layer l-1 to unit j of layer l is w{l}_{ij} (Keras'
kernel[i, j]), its bias b{l}_{j}, and the targets y1, y2, ... A worked example
can give its own names (Mazur's w1..w8) for any of these.
"""


def _join(*indices):
    return "".join(map(str, indices)) if all(i < 10 for i in indices) else ",".join(map(str, indices))


class Symbols:
    """Symbols for a network with ``widths`` = (inputs, units of layer 1, ..., outputs).

    ``names`` overrides the defaults: ``{"units": [[...] per layer incl. the input],
    "kernels": [[[...] per row] per layer], "biases": [[...] per layer]}``.
    """

    def __init__(self, widths, names=None):
        self.widths = tuple(widths)
        self.names = names or {}

    @property
    def depth(self):
        return len(self.widths) - 1

    def unit(self, layer, j):
        """Symbol of unit j's activation in layer ``layer`` (0 = the inputs)."""
        given = self.names.get("units")
        if given:
            return given[layer][j]
        if layer == 0:
            return f"x{j + 1}"
        if layer == self.depth:
            return "o" if self.widths[-1] == 1 else f"o{j + 1}"
        return f"h{j + 1}" if self.depth == 2 else f"h{layer}_{j + 1}"

    def target(self, j):
        output = self.unit(self.depth, j)
        return "y" + output[1:] if output.startswith("o") else f"y({output})"

    def weight(self, layer, i, j):
        """Symbol of kernel[i, j] of layer ``layer`` (1-based): from unit i of layer-1 to unit j."""
        given = self.names.get("kernels")
        if given:
            return given[layer - 1][i][j]
        return f"w{layer}_{_join(i + 1, j + 1)}"

    def bias(self, layer, j):
        given = self.names.get("biases")
        if given:
            return given[layer - 1][j]
        return f"b{layer}_{j + 1}"
