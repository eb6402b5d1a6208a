"""Adagrad: steps scaled by the root of the sum of all past squared gradients."""
from ..backend import xp
from ..arguments import check_number
from .base import Optimizer


class Adagrad(Optimizer):
    """Adagrad (Keras' update rule), the accumulator starting at initial_accumulator_value:

        a <- a + g**2
        w <- w - learning_rate * g / sqrt(a + epsilon)

    ``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7)``.
    """

    name = "adagrad"
    slot_names = ("accumulator",)

    def __init__(self, learning_rate=None, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        self.initial_accumulator_value = check_number("initial_accumulator_value", initial_accumulator_value,
                                                      minimum=0)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        super().__init__(learning_rate, **kwargs)

    def _new_slots(self, weight):
        return (xp.full_like(weight, self.initial_accumulator_value),)

    def _update(self, w, g, slots, scratch, lr):
        accumulator = slots[0]
        xp.multiply(g, g, out=scratch)
        accumulator += scratch
        xp.add(accumulator, self.epsilon, out=scratch)
        xp.sqrt(scratch, out=scratch)
        xp.divide(g, scratch, out=scratch)
        scratch *= lr
        w -= scratch

    def _hyperparameters(self):
        return {"initial_accumulator_value": self.initial_accumulator_value, "epsilon": self.epsilon}
