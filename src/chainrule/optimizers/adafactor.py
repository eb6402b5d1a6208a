"""Adafactor: Adam-like steps whose second moment of a matrix is stored factored, as row and column means."""
import math

from ..arguments import check_number
from ..backend import xp
from .base import Optimizer


def _rms(x):
    return math.sqrt(float(xp.vdot(x, x)) / max(x.size, 1))


class Adafactor(Optimizer):
    """Adafactor (Keras' update rule), at step t = 1, 2, ..., with b_t = 1 - t**beta_2_decay,
    q = g**2 + epsilon_1:

        rows r <- b_t r + (1 - b_t) mean(q, -1);  columns c <- b_t c + (1 - b_t) mean(q, -2)
        v = (r / mean(r)) outer c          (parameters of rank >= 2; else v <- b_t v + (1 - b_t) q)
        u = g / sqrt(v);  u <- u / max(1, rms(u) / clip_threshold)
        w <- w - max(epsilon_2, rms(w)) * min(learning_rate, 1 / sqrt(t)) * u

    ``Adafactor(learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
    relative_step=True)``. As in Keras, the step size is min(learning_rate, 1 / sqrt(t)) whatever
    ``relative_step`` says (it is kept for the config).
    """

    name = "adafactor"
    slot_names = ("r", "c", "v")

    def __init__(self, learning_rate=None, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3, clip_threshold=1.0,
                 relative_step=True, **kwargs):
        self.beta_2_decay = check_number("beta_2_decay", beta_2_decay)
        self.epsilon_1 = check_number("epsilon_1", epsilon_1, minimum=0)
        self.epsilon_2 = check_number("epsilon_2", epsilon_2, minimum=0)
        self.clip_threshold = check_number("clip_threshold", clip_threshold, minimum=0, min_open=True)
        self.relative_step = bool(relative_step)
        super().__init__(learning_rate, **kwargs)

    def _factored_shapes(self, shape):
        if len(shape) < 2:
            return (), (), shape
        return shape[:-1], shape[:-2] + shape[-1:], shape

    def _slot_shapes(self, shape):
        return self._factored_shapes(shape) + (shape,) * (len(self.state_names) - len(self.slot_names))

    def _new_slots(self, weight):
        return tuple(xp.zeros(shape, dtype=weight.dtype) for shape in self._factored_shapes(weight.shape))

    def _step_rate(self, lr, step):
        return min(lr, 1.0 / math.sqrt(step)), 1.0 - step ** self.beta_2_decay

    def _update(self, w, g, slots, scratch, rate):
        rho, beta = rate
        r, c, v = slots[0], slots[1], slots[2]
        alpha = max(self.epsilon_2, _rms(w)) * rho
        xp.multiply(g, g, out=scratch)
        scratch += self.epsilon_1
        if w.ndim >= 2:
            r *= beta
            r += (1.0 - beta) * scratch.mean(axis=-1)
            c *= beta
            c += (1.0 - beta) * scratch.mean(axis=-2)
            xp.multiply((r / r.mean(axis=-1, keepdims=True))[..., None], c[..., None, :], out=v)
        else:
            v *= beta
            scratch *= 1.0 - beta
            v += scratch
        xp.sqrt(v, out=scratch)
        xp.divide(g, scratch, out=scratch)
        scratch *= alpha / max(1.0, _rms(scratch) / self.clip_threshold)
        w -= scratch

    def _hyperparameters(self):
        return {"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}
