"""Adam and AdamW: steps from bias-corrected running moments of the gradient."""
import math

from ..backend import xp
from ..arguments import check_number
from .base import Optimizer, moving_average


def update_moments(m, v, g, beta_1, beta_2, scratch):
    """Adam's running moments, in place: m <- beta_1 m + (1 - beta_1) g, v <- beta_2 v + (1 - beta_2) g**2."""
    moving_average(m, g, beta_1, scratch)
    xp.multiply(g, g, out=scratch)
    moving_average(v, scratch, beta_2, scratch)


class Adam(Optimizer):
    """Adam (Keras' update rule), at step t = 1, 2, ...:

        m <- m + (1 - beta_1) * (g - m)
        v <- v + (1 - beta_2) * (g**2 - v)
        v_hat <- max(v_hat, v); use v_hat for v       (amsgrad=True)
        alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w <- w - alpha * m / (sqrt(v) + epsilon)

    ``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)``.
    """

    name = "adam"

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False, **kwargs):
        self.beta_1 = check_number("beta_1", beta_1, minimum=0, maximum=1, max_open=True)
        self.beta_2 = check_number("beta_2", beta_2, minimum=0, maximum=1, max_open=True)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        self.amsgrad = bool(amsgrad)
        self.slot_names = ("m", "v", "v_hat") if self.amsgrad else ("m", "v")
        super().__init__(learning_rate, **kwargs)

    def _step_rate(self, lr, step):
        return lr * math.sqrt(1.0 - self.beta_2 ** step) / (1.0 - self.beta_1 ** step)

    def _update(self, w, g, slots, scratch, alpha):
        m, v = slots[0], slots[1]
        update_moments(m, v, g, self.beta_1, self.beta_2, scratch)
        if self.amsgrad:
            v = xp.maximum(slots[2], v, out=slots[2])
        xp.sqrt(v, out=scratch)
        scratch += self.epsilon
        xp.divide(m, scratch, out=scratch)
        scratch *= alpha
        w -= scratch

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: before the Adam update,
    w <- w - learning_rate * weight_decay * w.

    ``AdamW(learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)``.
    """

    name = "adamw"

    def __init__(self, learning_rate=None, weight_decay=0.004, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("weight_decay: AdamW needs a number >= 0, got None")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
                         weight_decay=weight_decay, **kwargs)
