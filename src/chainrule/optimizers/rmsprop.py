"""RMSprop: steps scaled by a running root-mean-square of the gradient."""
from ..backend import xp
from ..arguments import check_number
from .base import Optimizer


class RMSprop(Optimizer):
    """RMSprop (Keras' update rule):

        v <- rho * v + (1 - rho) * g**2
        step = learning_rate * g / sqrt(v + epsilon)
        w <- w - step                               (momentum = 0), or
        m <- momentum * m + step;  w <- w - m       (momentum > 0).

    ``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7)``.
    """

    name = "rmsprop"

    def __init__(self, learning_rate=None, rho=0.9, momentum=0.0, epsilon=1e-7, **kwargs):
        self.rho = check_number("rho", rho, minimum=0, maximum=1)
        self.momentum = check_number("momentum", momentum, minimum=0, maximum=1)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        self.slot_names = ("velocity", "momentum") if self.momentum else ("velocity",)
        super().__init__(learning_rate, **kwargs)

    def _update(self, w, g, slots, scratch, lr):
        velocity = slots[0]
        velocity *= self.rho
        xp.multiply(g, g, out=scratch)
        scratch *= 1.0 - self.rho
        velocity += scratch
        xp.add(velocity, self.epsilon, out=scratch)
        xp.sqrt(scratch, out=scratch)
        xp.divide(g, scratch, out=scratch)
        scratch *= lr
        if self.momentum:
            momentum = slots[1]
            momentum *= self.momentum
            momentum += scratch
            w -= momentum
        else:
            w -= scratch

    def _hyperparameters(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon}
