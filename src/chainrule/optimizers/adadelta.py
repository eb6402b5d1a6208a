"""Adadelta: steps scaled by the ratio of running RMS of past steps and of gradients."""
from ..arguments import check_number
from ..backend import xp
from .base import Optimizer, moving_average


class Adadelta(Optimizer):
    """Adadelta (Keras' update rule):

        a <- rho * a + (1 - rho) * g**2
        d = -sqrt(s + epsilon) * g / sqrt(a + epsilon)
        s <- rho * s + (1 - rho) * d**2
        w <- w + learning_rate * d

    ``Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)``.
    """

    name = "adadelta"
    slot_names = ("accumulated_grad", "accumulated_delta_var")
    work_buffers = 2

    def __init__(self, learning_rate=None, rho=0.95, epsilon=1e-7, **kwargs):
        self.rho = check_number("rho", rho, minimum=0, maximum=1)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        super().__init__(learning_rate, **kwargs)

    def _update(self, w, g, slots, scratch, lr):
        grads, deltas = slots[0], slots[1]
        step, work = scratch
        xp.multiply(g, g, out=work)
        moving_average(grads, work, self.rho, work)
        xp.add(deltas, self.epsilon, out=step)
        xp.sqrt(step, out=step)
        step *= g
        xp.add(grads, self.epsilon, out=work)
        xp.sqrt(work, out=work)
        step /= work                     # -d
        xp.multiply(step, step, out=work)
        moving_average(deltas, work, self.rho, work)
        step *= lr
        w -= step

    def _hyperparameters(self):
        return {"rho": self.rho, "epsilon": self.epsilon}
