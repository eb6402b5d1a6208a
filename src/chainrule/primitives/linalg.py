"""Matrix products: batched ``matmul`` and the fused dense layer ``linear``."""
from ..tensor import Function, Tensor
from .base import sum_rows, tensor_like, tensor_pair, unbroadcast


class MatMul(Function):
    """z = a @ b (batched, broadcast over leading axes);
    da = g @ b^T,  db = a^T @ g  (summed over broadcast batch axes)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return _matmul(a, b)

    def backward(self, g):
        need_a, need_b = self.needs_input_grad
        a, b = self.a, self.b
        if b.ndim == 1:  # a vector operand is a one-column (b) or one-row (a) matrix
            b, g = b[:, None], g[..., None]
        if a.ndim == 1:
            a, g = a[None, :], g[..., None, :]
        grad_a = unbroadcast(_matmul(g, b.swapaxes(-1, -2)), a.shape).reshape(self.a.shape) if need_a else None
        grad_b = unbroadcast(_matmul(a.swapaxes(-1, -2), g), b.shape).reshape(self.b.shape) if need_b else None
        return grad_a, grad_b

    def jvp(self, ta, tb):
        return _matmul(ta, self.b) + _matmul(self.a, tb)


def _matmul(a, b):
    """a @ b on arrays. ``a.dot(b)`` computes the same when b has at most 2 axes
    and is several times faster on small arrays (no gufunc dispatch)."""
    return a.dot(b) if b.ndim <= 2 else a @ b


def matmul(a, b):
    a, b = tensor_pair(a, b)
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        raise ValueError(f"matmul: both operands need at least 1 dimension, got shapes {sa} and {sb}")
    inner_a = sa[-1]
    inner_b = sb[0] if len(sb) == 1 else sb[-2]
    if inner_a != inner_b:
        raise ValueError(f"matmul: shapes {sa} and {sb} are not aligned: "
                         f"{inner_a} (last axis of the first) != {inner_b} (the second's rows)")
    try:
        return MatMul.apply(a, b)
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {sa} and {sb} cannot be broadcast together") from None


class Linear(Function):
    """z = x @ W + b with W of shape (in, out);
    dx = g @ W^T,  dW = x^T @ g,  db = sum of g over the batch."""

    def forward(self, x, W, b=None):
        self.x, self.W = x, W
        z = x.dot(W)  # = x @ W for a 2-D W, and faster on small arrays
        if b is not None:
            z += b
        return z

    def backward(self, g):
        need = self.needs_input_grad
        x, W = self.x, self.W
        grad_x = g.dot(W.T) if need[0] else None
        grad_W = None
        if need[1]:
            grad_W = x.T.dot(g) if x.ndim == 2 else x.reshape(-1, x.shape[-1]).T.dot(g.reshape(-1, g.shape[-1]))
        if len(need) == 2:
            return grad_x, grad_W
        grad_b = sum_rows(g.reshape(-1, g.shape[-1])) if need[2] else None
        return grad_x, grad_W, grad_b

    def jvp(self, tx, tW, tb=None):
        """dz = dx @ W + x @ dW + db."""
        tz = tx.dot(self.W) + self.x.dot(tW)
        return tz if tb is None else tz + tb


def _is_sparse(x):
    """A SciPy sparse matrix or array (told by its module, so SciPy need not be installed)."""
    return type(x).__module__.startswith("scipy.sparse")


def linear(x, W, b=None):
    """z = x @ W + b, W of shape (in_features, out_features) (Keras' kernel layout).
    ``x`` may be a 2-D SciPy sparse matrix, a constant: then z = x.dot(W) and dW = x^T.dot(g) stay sparse products."""
    x = Tensor._result(x, None) if _is_sparse(x) else tensor_like(x)
    W = tensor_like(W)
    if W.ndim != 2:
        raise ValueError(f"linear: W must be 2-D (in_features, out_features), got shape {W.shape}")
    if x.ndim < 1 or x.shape[-1] != W.shape[0]:
        raise ValueError(f"linear: x's last axis must match W's rows: x has shape {x.shape}, W has shape {W.shape}")
    if b is None:
        return Linear.apply(x, W)
    b = tensor_like(b)
    if b.shape != (W.shape[1],):
        raise ValueError(f"linear: b must have shape ({W.shape[1]},), got {b.shape}")
    return Linear.apply(x, W, b)
