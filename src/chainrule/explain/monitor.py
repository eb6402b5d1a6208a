"""Watch each layer's gradient during ``fit``: vanishing and exploding gradients.

By the delta rule, delta_l = (delta_(l+1) @ W_(l+1)^T) * f'(z_l): every layer
back from the output multiplies the error by a weight matrix and a slope. With
sigmoid (f' <= 1/4) the product shrinks geometrically, so the first layers
barely learn; with large weights it can grow just as fast.
"""
import warnings

import numpy as np

from ..callbacks import Callback

VANISHING_RATIO = 1e-3
EXPLODING_RATIO = 1e3


class GradientMonitor(Callback):
    """Records ||dL/dweights|| of each layer with weights, averaged over each epoch's batches.

    ``norms``: one list per epoch of the per-layer norms (first layer first);
    ``layer_names``; ``ratios``: first layer's norm / last layer's, per epoch.
    Warns (``warnings.warn``) the first time the ratio falls below ``vanishing``
    (1e-3) or rises above ``exploding`` (1e3). The gradients are the ones ``fit``
    just applied, read from the weights' ``.grad`` after each batch.
    """

    def __init__(self, vanishing=VANISHING_RATIO, exploding=EXPLODING_RATIO):
        if not 0 < vanishing < 1 < exploding:
            raise ValueError(f"vanishing and exploding: expected 0 < vanishing < 1 < exploding, "
                             f"got {vanishing!r} and {exploding!r}")
        self.vanishing_ratio, self.exploding_ratio = vanishing, exploding
        self.norms, self.ratios, self.layer_names = [], [], []
        self._batch_norms = []
        self._warned = set()

    def _layers(self):
        return [layer for layer in self.model.layers if layer.trainable_weights]

    def on_train_begin(self, logs=None):
        self.layer_names = [layer.name for layer in self._layers()]

    def on_epoch_begin(self, epoch, logs=None):
        self._batch_norms = []

    def on_batch_end(self, batch, logs=None):
        self._batch_norms.append([layer_gradient_norm(layer) for layer in self._layers()])

    def on_epoch_end(self, epoch, logs=None):
        if not self._batch_norms:
            return
        norms = np.mean(self._batch_norms, axis=0).tolist()
        self.norms.append(norms)
        ratio = norms[0] / norms[-1] if norms[-1] > 0 else float("inf")
        self.ratios.append(ratio)
        if ratio < self.vanishing_ratio:
            self._warn("vanishing", epoch, norms, ratio)
        elif ratio > self.exploding_ratio:
            self._warn("exploding", epoch, norms, ratio)

    def _warn(self, kind, epoch, norms, ratio):
        if kind in self._warned:
            return
        self._warned.add(kind)
        warnings.warn(f"{kind} gradients: in epoch {epoch + 1} the first layer's gradient norm ({norms[0]:.3g}) "
                      f"is {ratio:.3g} times the last layer's ({norms[-1]:.3g})", RuntimeWarning, stacklevel=2)

    @property
    def vanishing(self):
        """True when some epoch's first/last ratio was below the vanishing threshold."""
        return any(r < self.vanishing_ratio for r in self.ratios)

    @property
    def exploding(self):
        return any(r > self.exploding_ratio for r in self.ratios)


def layer_gradient_norm(layer):
    """sqrt of the sum of squares of the gradients of the layer's trainable weights (0 before any)."""
    total = 0.0
    for weight in layer.trainable_weights:
        if weight.grad is not None:
            total += float(np.sum(np.square(weight.grad, dtype=np.float64)))
    return total ** 0.5


def vanishing_comparison(activations=("sigmoid", "relu"), depth=10, width=32, epochs=3, samples=256, seed=0):
    """Train the same ``depth``-layer network once per activation (He init for ReLU, Glorot otherwise)
    on one synthetic task; returns {activation: GradientMonitor}."""
    from ..layers import Dense
    from ..models import Sequential
    from ..optimizers import SGD
    from ..utils import set_random_seed

    data = np.random.default_rng(seed)
    x = data.standard_normal((samples, 8)).astype(np.float32)
    y = (x[:, :4].sum(axis=1) > x[:, 4:].sum(axis=1)).astype(np.float32).reshape(-1, 1)
    monitors = {}
    for activation in activations:
        set_random_seed(seed)
        initializer = "he_normal" if activation == "relu" else "glorot_uniform"
        layers = [Dense(width, activation=activation, kernel_initializer=initializer, input_dim=8 if i == 0 else None)
                  for i in range(depth - 1)]
        model = Sequential(layers + [Dense(1, activation="sigmoid")])
        model.compile(optimizer=SGD(learning_rate=0.05), loss="binary_crossentropy")
        monitor = GradientMonitor()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, callbacks=[monitor])
        monitors[activation] = monitor
    return monitors
