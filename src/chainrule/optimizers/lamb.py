"""Lamb: Adam steps rescaled per parameter by the trust ratio ||w|| / ||step||."""
import math

from ..arguments import check_number
from ..backend import xp
from .adam import update_moments
from .base import Optimizer


class Lamb(Optimizer):
    """Lamb (Keras' update rule), at step t = 1, 2, ...:

        m <- m + (1 - beta_1) * (g - m);  v <- v + (1 - beta_2) * (g**2 - v)
        u = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
        r = ||w|| / ||u|| (1 when either norm is 0)
        w <- w - learning_rate * r * u

    ``Lamb(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``.
    """

    name = "lamb"
    slot_names = ("momentum", "velocity")

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self.beta_1 = check_number("beta_1", beta_1, minimum=0, maximum=1, max_open=True)
        self.beta_2 = check_number("beta_2", beta_2, minimum=0, maximum=1, max_open=True)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        super().__init__(learning_rate, **kwargs)

    def _step_rate(self, lr, step):
        return lr, 1.0 - self.beta_1 ** step, 1.0 - self.beta_2 ** step

    def _update(self, w, g, slots, scratch, rate):
        lr, bias_1, bias_2 = rate
        m, v = slots[0], slots[1]
        update_moments(m, v, g, self.beta_1, self.beta_2, scratch)
        xp.divide(v, bias_2, out=scratch)
        xp.sqrt(scratch, out=scratch)
        scratch += self.epsilon
        xp.divide(m, scratch, out=scratch)
        scratch *= 1.0 / bias_1
        w_norm, u_norm = math.sqrt(float(xp.vdot(w, w))), math.sqrt(float(xp.vdot(scratch, scratch)))
        scratch *= lr * (w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0)
        w -= scratch

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
