"""Lion: steps of fixed size along the sign of an interpolated momentum."""
from ..arguments import check_number
from ..backend import xp
from .base import Optimizer


class Lion(Optimizer):
    """Lion (Keras' update rule):

        w <- w - learning_rate * sign(beta_1 * m + (1 - beta_1) * g)
        m <- beta_2 * m + (1 - beta_2) * g

    ``Lion(learning_rate=0.001, beta_1=0.9, beta_2=0.99)``; beta_1 must be in (0, 1].
    """

    name = "lion"
    slot_names = ("momentum",)

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.99, **kwargs):
        self.beta_1 = check_number("beta_1", beta_1, minimum=0, maximum=1, min_open=True)
        self.beta_2 = check_number("beta_2", beta_2, minimum=0, maximum=1)
        super().__init__(learning_rate, **kwargs)

    def _update(self, w, g, slots, scratch, lr):
        m = slots[0]
        xp.multiply(g, (1.0 - self.beta_1) / self.beta_1, out=scratch)
        scratch += m                     # (beta_1 * m + (1 - beta_1) * g) / beta_1: the same sign
        xp.sign(scratch, out=scratch)
        scratch *= lr
        w -= scratch
        m *= self.beta_2
        xp.multiply(g, 1.0 - self.beta_2, out=scratch)
        m += scratch

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}
