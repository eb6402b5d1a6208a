"""Weight penalties added to the loss (Keras names): ``Dense(..., kernel_regularizer=L2(0.01))``."""
from . import arguments
from .backend import xp
from .tensor import Tensor


class Regularizer:
    """A penalty R(W) (a scalar Tensor) added to the data loss; its gradient reaches W through the graph."""

    def __call__(self, weight):
        raise NotImplementedError

    def get_config(self):
        return {}


class L1L2(Regularizer):
    """R(W) = l1 * sum(|W|) + l2 * sum(W**2);  dR/dW = l1 * sign(W) + 2 * l2 * W."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name}: expected a non-negative number, got {value!r}")
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, weight):
        terms = []
        if self.l1:
            terms.append(self.l1 * weight.abs().sum())
        if self.l2:
            terms.append(self.l2 * (weight * weight).sum())
        if not terms:
            return Tensor(xp.zeros((), dtype=weight.dtype))
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """R(W) = l1 * sum(|W|)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """R(W) = l2 * sum(W**2)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """A regularizer from None, a name, a config dict ``{"class_name", "config"}`` or an instance."""
    return arguments.from_identifier(identifier, "regularizer", _BY_NAME, Regularizer)


def serialize(regularizer):
    """The config dict ``get`` rebuilds ``regularizer`` from (None for None)."""
    return arguments.serialized(regularizer)
