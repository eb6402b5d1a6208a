"""Elementwise primitives: arithmetic (+, -, *, /, **, negation), exp, log, log1p, sqrt,
abs, sin, cos, erf, clip, cast, where, maximum and minimum; binary ops broadcast as NumPy does."""
import math
import numbers

from ..backend import xp
from ..tensor import Function, Tensor
from .base import SymmetricJacobian, tensor_like, tensor_pair, unary, unbroadcast


# ----- elementwise arithmetic ------------------------------------------------
class Add(Function):
    """z = a + b;  da = g,  db = g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a + b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if need_a else None,
                unbroadcast(g, self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return ta + tb


class Sub(Function):
    """z = a - b;  da = g,  db = -g."""

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        return a - b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g, self.shapes[0]) if need_a else None,
                -unbroadcast(g, self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return ta - tb


class Mul(Function):
    """z = a * b;  da = g * b,  db = g * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * self.b, self.a.shape) if need_a else None,
                unbroadcast(g * self.a, self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return ta * self.b + self.a * tb


class Div(Function):
    """z = a / b;  da = g / b,  db = -g * a / b**2."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        grad_a = g / self.b
        return (unbroadcast(grad_a, self.a.shape) if need_a else None,
                unbroadcast(-grad_a * self.a / self.b, self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return (ta - self.a / self.b * tb) / self.b


class PowScalar(SymmetricJacobian):
    """z = x ** p for a constant p;  dx = g * p * x**(p-1)."""

    def forward(self, x, exponent):
        self.x, self.exponent = x, exponent
        return x ** exponent

    def backward(self, g):
        p = self.exponent
        return g * p * self.x ** (p - 1)


class Pow(Function):
    """z = a ** b (both tensors);  da = g * b * a**(b-1),  db = g * z * log(a)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        grad_a = unbroadcast(g * b * a ** (b - 1), a.shape) if need_a else None
        grad_b = unbroadcast(g * self._dout_db(), b.shape) if need_b else None
        return grad_a, grad_b

    def jvp(self, ta, tb):
        return ta * self.b * self.a ** (self.b - 1) + tb * self._dout_db()

    def _dout_db(self):
        """d(a**b)/db = a**b * log(a), taken as 0 where a <= 0."""
        a = self.a
        log_a = xp.where(a > 0, xp.log(xp.where(a > 0, a, 1)), 0)
        return self.out * log_a


class Neg(SymmetricJacobian):
    """z = -x;  dx = -g."""

    def forward(self, x):
        return -x

    def backward(self, g):
        return -g


def add(a, b):
    return _broadcasting(Add, a, b)


def sub(a, b):
    return _broadcasting(Sub, a, b)


def mul(a, b):
    return _broadcasting(Mul, a, b)


def div(a, b):
    return _broadcasting(Div, a, b)


def power(base, exponent):
    if isinstance(exponent, numbers.Number) and not isinstance(base, numbers.Number):
        return PowScalar.apply(tensor_like(base), exponent=exponent)
    return _broadcasting(Pow, base, exponent)


def _broadcasting(function, a, b, **params):
    """Apply a binary op whose operands broadcast; a shape mismatch names the op and both shapes."""
    if type(a) is not Tensor or type(b) is not Tensor:
        a, b = tensor_pair(a, b)
    try:
        return function.apply(a, b, **params)
    except ValueError:
        shapes = [a.shape, b.shape] + ([params["condition"].shape] if "condition" in params else [])
        try:
            xp.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(f"{function.__name__.lower()}: shapes {' and '.join(map(str, shapes))} "
                             "cannot be broadcast together") from None
        raise


# ----- elementwise functions -------------------------------------------------
class Exp(SymmetricJacobian):
    """z = exp(x);  dx = g * z."""

    def forward(self, x):
        self.out = xp.exp(x)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(SymmetricJacobian):
    """z = log(x);  dx = g / x."""

    def forward(self, x):
        self.x = x
        return xp.log(x)

    def backward(self, g):
        return g / self.x


class Sqrt(SymmetricJacobian):
    """z = sqrt(x);  dx = g / (2 z)."""

    def forward(self, x):
        self.out = xp.sqrt(x)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Abs(SymmetricJacobian):
    """z = |x|;  dx = g * sign(x)."""

    def forward(self, x):
        self.x = x
        return xp.abs(x)

    def backward(self, g):
        return g * xp.sign(self.x)


class Log1p(SymmetricJacobian):
    """z = log(1 + x);  dx = g / (1 + x)."""

    def forward(self, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, g):
        return g / (1 + self.x)


class Sin(SymmetricJacobian):
    """z = sin(x);  dx = g * cos(x)."""

    def forward(self, x):
        self.x = x
        return xp.sin(x)

    def backward(self, g):
        return g * xp.cos(self.x)


class Cos(SymmetricJacobian):
    """z = cos(x);  dx = -g * sin(x)."""

    def forward(self, x):
        self.x = x
        return xp.cos(x)

    def backward(self, g):
        return -g * xp.sin(self.x)


def erf_values(x):
    """erf of an array: SciPy's where installed, else math.erf element by element."""
    try:
        from scipy.special import erf
    except ImportError:
        return xp.vectorize(math.erf, otypes=[x.dtype])(x)
    return erf(x)


class Erf(SymmetricJacobian):
    """z = erf(x);  dx = g * 2 / sqrt(pi) * exp(-x**2)."""

    def forward(self, x):
        self.x = x
        return erf_values(x)

    def backward(self, g):
        return g * (2 / math.sqrt(math.pi)) * xp.exp(-self.x * self.x)


class Cast(Function):
    """z = x converted to a float dtype;  dx = g converted back to x's dtype."""

    def forward(self, x, dtype):
        self.dtypes = x.dtype, dtype
        return x.astype(dtype)

    def backward(self, g):
        return g.astype(self.dtypes[0])

    def jvp(self, t):
        return t.astype(self.dtypes[1])


sin = unary(Sin)
cos = unary(Cos)
erf = unary(Erf)
log1p = unary(Log1p)


class Clip(SymmetricJacobian):
    """z = clip(x, low, high);  dx = g where low <= x <= high, else 0."""

    def forward(self, x, low=None, high=None):
        if low is None and high is None:
            raise ValueError("clip: expected at least one of min and max, got neither")
        self.inside = xp.ones(x.shape, dtype=bool)
        if low is not None:
            self.inside &= x >= low
        if high is not None:
            self.inside &= x <= high
        return xp.clip(x, low, high)

    def backward(self, g):
        return g * self.inside


# ----- selection -------------------------------------------------------------
class Where(Function):
    """z = where(cond, a, b);  da = g where cond, db = g where not cond."""

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return xp.where(condition, a, b)

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        zero = xp.zeros((), dtype=g.dtype)
        return (unbroadcast(xp.where(self.condition, g, zero), self.shapes[0]) if need_a else None,
                unbroadcast(xp.where(self.condition, zero, g), self.shapes[1]) if need_b else None)

    def jvp(self, ta, tb):
        return xp.where(self.condition, ta, tb)


class Maximum(Function):
    """z = maximum(a, b);  g goes to the larger input, split equally on ties."""

    pick = staticmethod(xp.maximum)

    def forward(self, a, b):
        self.a, self.b = a, b
        out = self.pick(a, b)
        self.share_a = ((out == a) * 1.0 - 0.5 * (a == b)).astype(out.dtype)
        return out

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        return (unbroadcast(g * self.share_a, self.a.shape) if need_a else None,
                unbroadcast(g * (1 - self.share_a), self.b.shape) if need_b else None)

    def jvp(self, ta, tb):
        return ta * self.share_a + tb * (1 - self.share_a)


class Minimum(Maximum):
    """z = minimum(a, b);  g goes to the smaller input, split equally on ties."""

    pick = staticmethod(xp.minimum)


def where(condition, a, b):
    """Elementwise ``a`` where ``condition`` holds, else ``b`` (no gradient to the condition)."""
    condition = xp.asarray(condition.data if isinstance(condition, Tensor) else condition, dtype=bool)
    return _broadcasting(Where, a, b, condition=condition)


def maximum(a, b):
    """Elementwise maximum of two tensors."""
    return _broadcasting(Maximum, a, b)


def minimum(a, b):
    """Elementwise minimum of two tensors."""
    return _broadcasting(Minimum, a, b)
