"""Stochastic gradient descent, with optional (Nesterov) momentum."""
from ..backend import xp
from ..arguments import check_number
from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent (Keras' update rule).

    Without momentum: w <- w - learning_rate * g.
    With momentum:    v <- momentum * v - learning_rate * g, then
                      w <- w + v                                   (classical), or
                      w <- w + momentum * v - learning_rate * g    (nesterov=True).

    ``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``; ``lr`` is an alias of ``learning_rate``.
    """

    name = "sgd"
    default_learning_rate = 0.01

    def __init__(self, learning_rate=None, momentum=0.0, nesterov=False, **kwargs):
        self.momentum = check_number("momentum", momentum, minimum=0, maximum=1)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()
        super().__init__(learning_rate, **kwargs)

    def _update(self, w, g, slots, scratch, lr):
        xp.multiply(g, lr, out=scratch)
        if not self.momentum:
            w -= scratch
            return
        velocity = slots[0]
        velocity *= self.momentum
        velocity -= scratch
        if self.nesterov:
            w -= scratch
            xp.multiply(velocity, self.momentum, out=scratch)
        else:
            xp.copyto(scratch, velocity)
        w += scratch

    def _hyperparameters(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}
