"""FTRL-Proximal: follow the regularized leader, with L1 and L2 regularization in the closed-form step."""
from ..arguments import check_number
from ..backend import xp
from .base import Optimizer


class Ftrl(Optimizer):
    """FTRL-Proximal (Keras' update rule), with p = -learning_rate_power, n the accumulator, z the
    linear term, l2' = l2_regularization_strength + beta / (2 * learning_rate):

        n' = n + g**2
        z <- z + g + 2 * l2_shrinkage * w - (n'**p - n**p) / learning_rate * w
        w <- (clip(z, -l1, l1) - z) / (n'**p / learning_rate + 2 * l2');  n <- n'

    ``Ftrl(learning_rate=0.001, learning_rate_power=-0.5, initial_accumulator_value=0.1,
    l1_regularization_strength=0.0, l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
    beta=0.0)``.
    """

    name = "ftrl"
    slot_names = ("accumulator", "linear")
    work_buffers = 2

    def __init__(self, learning_rate=None, learning_rate_power=-0.5, initial_accumulator_value=0.1,
                 l1_regularization_strength=0.0, l2_regularization_strength=0.0,
                 l2_shrinkage_regularization_strength=0.0, beta=0.0, **kwargs):
        self.learning_rate_power = check_number("learning_rate_power", learning_rate_power, maximum=0)
        self.initial_accumulator_value = check_number("initial_accumulator_value", initial_accumulator_value,
                                                      minimum=0)
        self.l1_regularization_strength = check_number("l1_regularization_strength", l1_regularization_strength,
                                                       minimum=0)
        self.l2_regularization_strength = check_number("l2_regularization_strength", l2_regularization_strength,
                                                       minimum=0)
        self.l2_shrinkage_regularization_strength = check_number(
            "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, minimum=0)
        self.beta = check_number("beta", beta, minimum=0)
        super().__init__(learning_rate, **kwargs)

    def _new_slots(self, weight):
        return xp.full_like(weight, self.initial_accumulator_value), xp.zeros_like(weight)

    def _update(self, w, g, slots, scratch, lr):
        accumulator, linear = slots[0], slots[1]
        new, work = scratch
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        xp.multiply(g, g, out=new)
        new += accumulator
        xp.power(new, power, out=work)
        xp.power(accumulator, power, out=accumulator)
        work -= accumulator
        work *= w
        work *= 1.0 / lr
        linear -= work
        linear += g
        if self.l2_shrinkage_regularization_strength:
            xp.multiply(w, 2.0 * self.l2_shrinkage_regularization_strength, out=work)
            linear += work
        xp.copyto(accumulator, new)
        xp.power(new, power, out=work)
        work *= 1.0 / lr
        work += 2.0 * l2
        xp.clip(linear, -l1, l1, out=new)
        new -= linear
        xp.divide(new, work, out=w)

    def _hyperparameters(self):
        return {"learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
