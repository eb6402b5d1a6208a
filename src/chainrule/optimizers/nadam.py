"""Nadam: Adam with Nesterov momentum and a momentum schedule."""
from ..arguments import check_number
from ..backend import xp
from .adam import update_moments
from .base import Optimizer


class Nadam(Optimizer):
    """Nadam (Keras' update rule), at step t = 1, 2, ...:

        u_t = beta_1 * (1 - 0.5 * 0.96**t),  P_t = u_1 * ... * u_t
        m <- m + (1 - beta_1) * (g - m);  v <- v + (1 - beta_2) * (g**2 - v)
        m_hat = u_{t+1} * m / (1 - P_t * u_{t+1}) + (1 - u_t) * g / (1 - P_t)
        w <- w - learning_rate * m_hat / (sqrt(v / (1 - beta_2**t)) + epsilon)

    ``Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)``; P_t is state ('u_product').
    """

    name = "nadam"
    slot_names = ("momentum", "velocity")
    work_buffers = 2

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self.beta_1 = check_number("beta_1", beta_1, minimum=0, maximum=1, max_open=True)
        self.beta_2 = check_number("beta_2", beta_2, minimum=0, maximum=1, max_open=True)
        self.epsilon = check_number("epsilon", epsilon, minimum=0)
        super().__init__(learning_rate, **kwargs)
        self.u_product = 1.0

    def _step_rate(self, lr, step):
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** step)
        u_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        self.u_product *= u_t
        return (lr * u_next / (1.0 - self.u_product * u_next), lr * (1.0 - u_t) / (1.0 - self.u_product),
                1.0 - self.beta_2 ** step)

    def _update(self, w, g, slots, scratch, rate):
        m, v = slots[0], slots[1]
        denominator, step = scratch
        m_rate, g_rate, bias_2 = rate
        update_moments(m, v, g, self.beta_1, self.beta_2, step)
        xp.divide(v, bias_2, out=denominator)
        xp.sqrt(denominator, out=denominator)
        denominator += self.epsilon
        for source, factor in ((m, m_rate), (g, g_rate)):
            xp.multiply(source, factor, out=step)
            step /= denominator
            w -= step

    def variables(self):
        return {**super().variables(), "u_product": xp.asarray(self.u_product)}

    def set_variables(self, variables):
        variables = dict(variables)
        u_product = float(xp.asarray(variables.pop("u_product", 1.0)))
        super().set_variables(variables)
        self.u_product = u_product

    def _hyperparameters(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}
