"""Adamax: Adam with the infinity norm of past gradients in place of their root mean square."""
from ..arguments import check_number
from ..backend import xp
from .base import Optimizer, moving_average


class Adamax(Optimizer):
    """Adamax (Keras' update rule), at step t = 1, 2, ...:

        m <- m + (1 - beta_1) * (g - m)
        u <- max(beta_2 * u, |g|)
        w <- w - learning_rate / (1 - beta_1**t) * m / (u + epsilon)

    ``Adamax(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``.
    """

    name = "adamax"
    slot_names = ("momentum", "norm")

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self.beta_1 = check_number("beta_1", beta_1, minimum=0, maximum=1, max_open=True)
        self.beta_2 = check_number("beta_2", beta_2, minimum=0, maximum=1)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        super().__init__(learning_rate, **kwargs)

    def _step_rate(self, lr, step):
        return lr / (1.0 - self.beta_1 ** step)

    def _update(self, w, g, slots, scratch, rate):
        m, u = slots[0], slots[1]
        moving_average(m, g, self.beta_1, scratch)
        u *= self.beta_2
        xp.abs(g, out=scratch)
        xp.maximum(u, scratch, out=u)
        xp.add(u, self.epsilon, out=scratch)
        xp.divide(m, scratch, out=scratch)
        scratch *= rate
        w -= scratch

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
