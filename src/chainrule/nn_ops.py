"""Fused primitives for convolutional, recurrent and normalization layers.

Each is a :class:`Function` whose backward is written beside its forward.
Layouts follow Keras: channels last, inputs (batch, *spatial, channels), conv
kernels (*kernel_size, in_channels, out_channels).

Convolution and pooling read every window through one strided view of the
padded input, shape (batch, *out, *kernel, channels), with no copy and no loop
over the batch or the pixels; the adjoint of that view (:func:`_scatter_windows`)
adds each window's gradient back with a loop over the kernel positions only.

Recurrent layers run a whole sequence in one :class:`Recurrence` node, which
loops over the time steps and calls its cell's fused step primitive
(:class:`SimpleRNNStep`, :class:`GRUStep`, :class:`LSTMStep`) forward, then in
reverse order backward: backpropagation through time.
"""
import itertools
import math
import numbers

from .backend import xp
from .ops import tensor_like
from .tensor import Function

PADDINGS = ("valid", "same")


# ----- windows: the strided view and its adjoint ---------------------------
def normalize_tuple(value, rank, name):
    """An int or a sequence of ``rank`` positive ints, as a tuple of ``rank`` ints."""
    values = (value,) * rank if isinstance(value, numbers.Integral) else tuple(value)
    if len(values) != rank or not all(isinstance(v, numbers.Integral) for v in values):
        raise ValueError(f"{name}: expected an int or {rank} ints, got {value!r}")
    if any(v <= 0 for v in values):
        raise ValueError(f"{name}: expected positive values, got {value!r}")
    return tuple(int(v) for v in values)


def check_padding(padding, rank):
    """'valid', 'same', or explicit zero padding: an int or ``rank`` ints, applied to both sides."""
    if isinstance(padding, str):
        if padding not in PADDINGS:
            raise ValueError(f"padding: expected 'valid', 'same' or a non-negative int, got {padding!r}")
        return padding
    values = (padding,) * rank if isinstance(padding, numbers.Integral) else tuple(padding)
    if len(values) != rank or not all(isinstance(v, numbers.Integral) and v >= 0 for v in values):
        raise ValueError(f"padding: expected 'valid', 'same' or {rank} non-negative ints, got {padding!r}")
    return tuple(int(v) for v in values)


def window_padding(size, span, stride, padding, axis_index=0):
    """(before, after) zero padding of one spatial axis of length ``size`` for a
    window covering ``span`` inputs: none for 'valid'; for 'same' enough that the
    output has ceil(size / stride) positions, the odd one after (as TensorFlow)."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        total = max((-(-size // stride) - 1) * stride + span - size, 0)
        return total // 2, total - total // 2
    return padding[axis_index], padding[axis_index]


def output_length(size, span, stride, pads):
    """floor((size + pads - span) / stride) + 1 positions of a window sliding with ``stride``."""
    return (size + sum(pads) - span) // stride + 1


def _window_view(padded, kernel_size, strides, dilation):
    """Read-only view (batch, *out, *kernel, channels) of ``padded`` (batch, *spatial, channels):
    view[b, o..., k..., c] = padded[b, o * stride + k * dilation ..., c]."""
    spatial = padded.shape[1:-1]
    out = tuple((n - (k - 1) * d - 1) // s + 1 for n, k, s, d in zip(spatial, kernel_size, strides, dilation))
    step = padded.strides
    shape = (padded.shape[0],) + out + tuple(kernel_size) + (padded.shape[-1],)
    view_strides = ((step[0],) + tuple(st * s for st, s in zip(step[1:-1], strides))
                    + tuple(st * d for st, d in zip(step[1:-1], dilation)) + (step[-1],))
    return xp.lib.stride_tricks.as_strided(padded, shape, view_strides, writeable=False)


def _scatter_windows(window_grad, padded_shape, strides, dilation):
    """Adjoint of :func:`_window_view`: add each window's gradient back to the
    input position it was read from (loop over the kernel positions only)."""
    rank = len(strides)
    out = window_grad.shape[1:1 + rank]
    kernel_size = window_grad.shape[1 + rank:1 + 2 * rank]
    grad = xp.zeros(padded_shape, dtype=window_grad.dtype)
    lead = (slice(None),) * (1 + rank)
    for position in itertools.product(*(range(k) for k in kernel_size)):
        target = tuple(slice(k * d, k * d + s * (o - 1) + 1, s)
                       for k, d, s, o in zip(position, dilation, strides, out))
        grad[(slice(None),) + target] += window_grad[lead + position]
    return grad


def _pad_spatial(x, pads, value=0.0):
    """x with its spatial axes padded by ``value``: (before, after) per axis."""
    if not any(before or after for before, after in pads):
        return x
    shape = (x.shape[0],) + tuple(n + before + after for n, (before, after) in zip(x.shape[1:-1], pads)) + x.shape[-1:]
    padded = xp.full(shape, value, dtype=x.dtype)
    padded[(slice(None),) + tuple(slice(before, before + n) for (before, _), n in zip(pads, x.shape[1:-1]))] = x
    return padded


def _crop_spatial(grad, pads, shape):
    return grad[(slice(None),) + tuple(slice(before, before + n) for (before, _), n in zip(pads, shape[1:-1]))]


def spatial_padding(shape, kernel_size, strides, padding, dilation, name):
    """Per-axis padding, checking that each padded axis holds at least one window."""
    pads = []
    for axis, (size, k, s, d) in enumerate(zip(shape[1:-1], kernel_size, strides, dilation)):
        span = (k - 1) * d + 1
        before, after = window_padding(size, span, s, padding, axis)
        if size + before + after < span:
            raise ValueError(f"{name}: the window (size {k}, dilation {d}, span {span}) is larger than the "
                             f"padded input along spatial axis {axis} ({size} + padding {before + after})")
        pads.append((before, after))
    return tuple(pads)


# ----- convolution -----------------------------------------------------------
class Convolution(Function):
    """z[b, o, :] = sum_k x_pad[b, o * stride + k * dilation, :] @ W[k] + bias, for 1 or 2 spatial axes.

    Forward is one GEMM: the windows (im2col, (batch * out, kernel * in)) times the
    kernel reshaped to (kernel * in, out_channels).  Backward:
    dW = cols^T @ g,  dbias = sum of g,  dx = scatter of the window gradients g @ W^T.
    """

    def forward(self, x, kernel, bias=None, strides=(1,), padding="valid", dilation=(1,)):
        kernel_size = kernel.shape[:-2]
        self.pads = spatial_padding(x.shape, kernel_size, strides, padding, dilation, "convolution")
        padded = _pad_spatial(x, self.pads)
        windows = _window_view(padded, kernel_size, strides, dilation)
        cols = windows.reshape(-1, math.prod(windows.shape[-1 - len(kernel_size):]))
        weights = kernel.reshape(-1, kernel.shape[-1])
        out = cols @ weights
        if bias is not None:
            out += bias
        self.x_shape, self.padded_shape, self.windows_shape = x.shape, padded.shape, windows.shape
        self.kernel_shape, self.strides, self.dilation = kernel.shape, strides, dilation
        self.cols, self.weights = cols, weights
        return out.reshape(windows.shape[:-1 - len(kernel_size)] + (kernel.shape[-1],))

    def backward(self, g):
        need = self.needs_input_grad
        g2 = g.reshape(-1, g.shape[-1])
        grad_x = grad_kernel = grad_bias = None
        if need[0]:
            window_grad = (g2 @ self.weights.T).reshape(self.windows_shape)
            padded_grad = _scatter_windows(window_grad, self.padded_shape, self.strides, self.dilation)
            grad_x = _crop_spatial(padded_grad, self.pads, self.x_shape)
        if need[1]:
            grad_kernel = (self.cols.T @ g2).reshape(self.kernel_shape)
        if len(need) == 2:
            return grad_x, grad_kernel
        if need[2]:
            grad_bias = g2.sum(axis=0)
        return grad_x, grad_kernel, grad_bias


def conv(x, kernel, bias=None, strides=1, padding="valid", dilation=1):
    """Convolution (cross-correlation, as Keras) of x (batch, *spatial, in) with a kernel
    (*kernel_size, in, out); the spatial rank (1 or 2) is the kernel's rank minus 2."""
    x, kernel = tensor_like(x), tensor_like(kernel)
    rank = kernel.ndim - 2
    if rank not in (1, 2):
        raise ValueError(f"conv: kernel must have shape (*kernel_size, in_channels, out_channels) with 1 or 2 "
                         f"spatial axes, got shape {kernel.shape}")
    expected = "(batch, steps, channels)" if rank == 1 else "(batch, height, width, channels)"
    if x.ndim != rank + 2:
        raise ValueError(f"conv{rank}d: expected input of rank {rank + 2} {expected}, got shape {x.shape}")
    if x.shape[-1] != kernel.shape[-2]:
        raise ValueError(f"conv{rank}d: input has {x.shape[-1]} channels but the kernel expects "
                         f"{kernel.shape[-2]} (kernel shape {kernel.shape})")
    params = dict(strides=normalize_tuple(strides, rank, "strides"), padding=check_padding(padding, rank),
                  dilation=normalize_tuple(dilation, rank, "dilation_rate"))
    if bias is None:
        return Convolution.apply(x, kernel, **params)
    bias = tensor_like(bias)
    if bias.shape != (kernel.shape[-1],):
        raise ValueError(f"conv{rank}d: bias must have shape ({kernel.shape[-1]},), got {bias.shape}")
    return Convolution.apply(x, kernel, bias, **params)


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation=1):
    """1-D convolution: x (batch, steps, in), kernel (k, in, out) -> (batch, out_steps, out)."""
    kernel = tensor_like(kernel)
    if kernel.ndim != 3:
        raise ValueError(f"conv1d: kernel must have shape (kernel_size, in_channels, out_channels), got {kernel.shape}")
    return conv(x, kernel, bias, strides, padding, dilation)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation=1):
    """2-D convolution: x (batch, h, w, in), kernel (kh, kw, in, out) -> (batch, out_h, out_w, out)."""
    kernel = tensor_like(kernel)
    if kernel.ndim != 4:
        raise ValueError(f"conv2d: kernel must have shape (kh, kw, in_channels, out_channels), got {kernel.shape}")
    return conv(x, kernel, bias, strides, padding, dilation)


# ----- pooling ---------------------------------------------------------------
class MaxPool(Function):
    """z[b, o, c] = max over the window at o of x[b, :, c];  dx = g routed to each window's
    (first) maximum, summed where windows overlap."""

    def forward(self, x, pool_size, strides, padding):
        self.pads = spatial_padding(x.shape, pool_size, strides, padding, (1,) * len(pool_size), "max_pool")
        padded = _pad_spatial(x, self.pads, -xp.inf)
        windows = _window_view(padded, pool_size, strides, (1,) * len(pool_size))
        flat = windows.reshape(windows.shape[:-1 - len(pool_size)] + (-1, x.shape[-1]))
        self.argmax = flat.argmax(axis=-2)[..., None, :]
        self.x_shape, self.padded_shape, self.windows_shape, self.strides = x.shape, padded.shape, windows.shape, strides
        return xp.take_along_axis(flat, self.argmax, axis=-2)[..., 0, :]

    def backward(self, g):
        rank = len(self.strides)
        flat_grad = xp.zeros(self.windows_shape[:1 + rank] + (math.prod(self.windows_shape[1 + rank:-1]), g.shape[-1]),
                             dtype=g.dtype)
        xp.put_along_axis(flat_grad, self.argmax, g[..., None, :], axis=-2)
        padded_grad = _scatter_windows(flat_grad.reshape(self.windows_shape), self.padded_shape, self.strides,
                                       (1,) * rank)
        return _crop_spatial(padded_grad, self.pads, self.x_shape)


class AvgPool(Function):
    """z[b, o, c] = mean of x[b, :, c] over the window at o (padding not counted);
    dx = g / count spread over each window, summed where windows overlap."""

    def forward(self, x, pool_size, strides, padding):
        rank = len(pool_size)
        ones = (1,) * rank
        self.pads = spatial_padding(x.shape, pool_size, strides, padding, ones, "average_pool")
        padded = _pad_spatial(x, self.pads)
        windows = _window_view(padded, pool_size, strides, ones)
        window_axes = tuple(range(1 + rank, 1 + 2 * rank))
        inside = _pad_spatial(xp.ones((1,) + x.shape[1:-1] + (1,), dtype=x.dtype), self.pads)
        self.count = _window_view(inside, pool_size, strides, ones).sum(axis=window_axes)
        self.x_shape, self.padded_shape, self.windows_shape, self.strides = x.shape, padded.shape, windows.shape, strides
        return windows.sum(axis=window_axes) / self.count

    def backward(self, g):
        rank = len(self.strides)
        share = (g / self.count).reshape(g.shape[:-1] + (1,) * rank + g.shape[-1:])
        window_grad = xp.broadcast_to(share, self.windows_shape)
        padded_grad = _scatter_windows(window_grad, self.padded_shape, self.strides, (1,) * rank)
        return _crop_spatial(padded_grad, self.pads, self.x_shape)


POOLS = {"max": MaxPool, "avg": AvgPool}


def pool(x, pool_size, strides=None, padding="valid", kind="max", rank=1):
    """Max or average pooling over ``rank`` spatial axes of x (batch, *spatial, channels);
    ``kind`` 'max' or 'avg'; ``strides`` defaults to ``pool_size`` (as Keras)."""
    if kind not in POOLS:
        raise ValueError(f"pool: kind must be one of {', '.join(POOLS)}, got {kind!r}")
    x = tensor_like(x)
    expected = "(batch, steps, channels)" if rank == 1 else "(batch, height, width, channels)"
    if x.ndim != rank + 2:
        raise ValueError(f"{kind}_pool{rank}d: expected input of rank {rank + 2} {expected}, got shape {x.shape}")
    pool_size = normalize_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else normalize_tuple(strides, rank, "strides")
    return POOLS[kind].apply(x, pool_size=pool_size, strides=strides, padding=check_padding(padding, rank))


# ----- normalization ---------------------------------------------------------
def _normalize(x, mean, var, eps):
    inv_std = 1 / xp.sqrt(var + eps)
    return (x - mean) * inv_std, inv_std


def _normalized_grad(x_hat_grad, x_hat, inv_std, axes):
    """dx for x_hat = (x - mean(x)) / sqrt(var(x) + eps) with the statistics over ``axes``:
    dx = inv_std * (d - mean(d) - x_hat * mean(d * x_hat))."""
    return inv_std * (x_hat_grad - x_hat_grad.mean(axis=axes, keepdims=True)
                      - x_hat * (x_hat_grad * x_hat).mean(axis=axes, keepdims=True))


class BatchNorm(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta per channel (last axis).

    Training: mean and var are the batch's, over every axis but the last, and
    dx = gamma * inv_std * (g - mean(g) - x_hat * mean(g * x_hat)).  Inference:
    mean and var are the given moving statistics, constants, and dx = g * gamma * inv_std.
    dgamma = sum(g * x_hat),  dbeta = sum(g)."""

    def forward(self, x, gamma, beta, mean, var, eps=1e-3, training=True):
        self.axes = tuple(range(x.ndim - 1))
        self.x_hat, self.inv_std = _normalize(x, mean, var, eps)
        self.gamma, self.training = gamma, training
        return self.x_hat * gamma + beta

    def backward(self, g):
        need = self.needs_input_grad
        grad_x = None
        if need[0]:
            x_hat_grad = g * self.gamma
            grad_x = (_normalized_grad(x_hat_grad, self.x_hat, self.inv_std, self.axes) if self.training
                      else x_hat_grad * self.inv_std)
        grad_gamma = (g * self.x_hat).sum(axis=self.axes) if need[1] else None
        grad_beta = g.sum(axis=self.axes) if need[2] else None
        return grad_x, grad_gamma, grad_beta


def batch_statistics(x):
    """Per-channel mean and (biased) variance over every axis but the last."""
    axes = tuple(range(x.ndim - 1))
    return x.mean(axis=axes), x.var(axis=axes)


def batch_norm(x, gamma, beta, mean=None, var=None, eps=1e-3, training=True):
    """Batch normalization over the last (channel) axis; in training the batch's own
    statistics are used (and differentiated through), else the given ``mean``/``var``."""
    x, gamma, beta = tensor_like(x), tensor_like(gamma), tensor_like(beta)
    if training:
        mean, var = batch_statistics(x.data)
    elif mean is None or var is None:
        raise ValueError("batch_norm: inference (training=False) needs the moving mean and var, got None")
    return BatchNorm.apply(x, gamma, beta, mean=xp.asarray(mean, dtype=x.dtype), var=xp.asarray(var, dtype=x.dtype),
                           eps=eps, training=training)


class LayerNorm(Function):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta, statistics over the last axis of each sample;
    dx = gamma-weighted form of the batch-norm gradient over that axis,
    dgamma = sum(g * x_hat),  dbeta = sum(g) over the leading axes."""

    def forward(self, x, gamma, beta, eps=1e-3):
        mean = x.mean(axis=-1, keepdims=True)
        var = x.var(axis=-1, keepdims=True)
        self.x_hat, self.inv_std = _normalize(x, mean, var, eps)
        self.gamma = gamma
        return self.x_hat * gamma + beta

    def backward(self, g):
        need = self.needs_input_grad
        lead = tuple(range(g.ndim - 1))
        grad_x = _normalized_grad(g * self.gamma, self.x_hat, self.inv_std, -1) if need[0] else None
        grad_gamma = (g * self.x_hat).sum(axis=lead) if need[1] else None
        grad_beta = g.sum(axis=lead) if need[2] else None
        return grad_x, grad_gamma, grad_beta


def layer_norm(x, gamma, beta, eps=1e-3):
    """Layer normalization over the last axis."""
    return LayerNorm.apply(tensor_like(x), tensor_like(gamma), tensor_like(beta), eps=eps)


# ----- recurrent cells -------------------------------------------------------
def _sigmoid(a):
    """1 / (1 + exp(-a)) = (1 + tanh(a / 2)) / 2, without overflow."""
    s = xp.tanh(a * 0.5)
    s += 1
    s *= 0.5
    return s


class SimpleRNNStep(Function):
    """h = tanh(xw_t + h_prev @ U), xw_t = x_t @ W + b precomputed for every step;
    da = g * (1 - h^2),  dxw_t = da,  dh_prev = da @ U^T,  dU = h_prev^T @ da."""

    def forward(self, xw_t, h_prev, U):
        self.h_prev, self.U = h_prev, U
        self.h = xp.tanh(xw_t + h_prev @ U)
        return self.h

    def backward(self, g):
        da = g * (1 - self.h * self.h)
        return da, da @ self.U.T, self.h_prev.T @ da


class GRUStep(Function):
    """Keras GRU step (gates z, r, h; reset_after=True, as Keras and cuDNN):

        [rz, rr, rh] = h_prev @ U + b_rec,   [xz, xr, xh] = xw_t (= x_t @ W + b_in)
        z = sigmoid(xz + rz),  r = sigmoid(xr + rr),  n = tanh(xh + r * rh)
        h = z * h_prev + (1 - z) * n

    Backward: dn = g (1 - z),  da_n = dn (1 - n^2),  da_z = g (h_prev - n) z (1 - z),
    da_r = da_n rh r (1 - r);  dxw_t = [da_z, da_r, da_n],  d_rec = [da_z, da_r, da_n r],
    dh_prev = g z + d_rec @ U^T,  dU = h_prev^T @ d_rec,  db_rec = sum of d_rec.
    """

    def forward(self, xw_t, h_prev, U, b_rec):
        units = h_prev.shape[-1]
        rec = h_prev @ U
        rec += b_rec
        gates = _sigmoid(xw_t[:, :2 * units] + rec[:, :2 * units])
        z, r = gates[:, :units], gates[:, units:]
        rh = rec[:, 2 * units:]
        n = xp.tanh(xw_t[:, 2 * units:] + r * rh)
        self.h_prev, self.U, self.gates, self.n, self.rh = h_prev, U, gates, n, rh
        return n + z * (h_prev - n)

    def backward(self, g):
        h_prev, gates, n, rh = self.h_prev, self.gates, self.n, self.rh
        units = h_prev.shape[-1]
        z, r = gates[:, :units], gates[:, units:]
        grad_xw = xp.empty((g.shape[0], 3 * units), dtype=g.dtype)
        da_n = g * (1 - z) * (1 - n * n)
        grad_xw[:, :units] = g * (h_prev - n) * z * (1 - z)
        grad_xw[:, units:2 * units] = da_n * rh * r * (1 - r)
        grad_xw[:, 2 * units:] = da_n
        grad_rec = grad_xw.copy()
        grad_rec[:, 2 * units:] *= r
        return grad_xw, g * z + grad_rec @ self.U.T, h_prev.T @ grad_rec, grad_rec.sum(axis=0)


class LSTMStep(Function):
    """Keras LSTM step (gates i, f, c, o); the state is [h, c] concatenated, (batch, 2 units):

        [ai, af, ag, ao] = xw_t + h_prev @ U
        i, f, o = sigmoid(ai, af, ao),  g = tanh(ag),  c = f c_prev + i g,  h = o tanh(c)

    Backward (dh, dc_next from the state's gradient): do = dh tanh(c),
    dc = dc_next + dh o (1 - tanh(c)^2),  di = dc g,  df = dc c_prev,  dg = dc i,
    dc_prev = dc f;  da = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)],
    dxw_t = da,  dh_prev = da @ U^T,  dU = h_prev^T @ da.
    """

    def forward(self, xw_t, state, U):
        units = state.shape[-1] // 2
        h_prev, c_prev = state[:, :units], state[:, units:]
        a = h_prev @ U
        a += xw_t
        acts = _sigmoid(a)
        acts[:, 2 * units:3 * units] = xp.tanh(a[:, 2 * units:3 * units])
        i, f, g, o = (acts[:, k * units:(k + 1) * units] for k in range(4))
        out = xp.empty_like(state)
        c = out[:, units:]
        xp.multiply(f, c_prev, out=c)
        c += i * g
        self.tanh_c = xp.tanh(c)
        xp.multiply(o, self.tanh_c, out=out[:, :units])
        self.h_prev, self.c_prev, self.U, self.acts = h_prev, c_prev, U, acts
        return out

    def backward(self, grad_state):
        units = grad_state.shape[-1] // 2
        dh, dc_next = grad_state[:, :units], grad_state[:, units:]
        acts, tanh_c = self.acts, self.tanh_c
        i, f, g, o = (acts[:, k * units:(k + 1) * units] for k in range(4))
        dc = dc_next + dh * o * (1 - tanh_c * tanh_c)
        da = xp.empty_like(acts)
        da[:, :units] = dc * g * i * (1 - i)
        da[:, units:2 * units] = dc * self.c_prev * f * (1 - f)
        da[:, 2 * units:3 * units] = dc * i * (1 - g * g)
        da[:, 3 * units:] = dh * tanh_c * o * (1 - o)
        grad_prev = xp.empty_like(grad_state)
        xp.matmul(da, self.U.T, out=grad_prev[:, :units])
        xp.multiply(dc, f, out=grad_prev[:, units:])
        return da, grad_prev, self.h_prev.T @ da


class Recurrence(Function):
    """Run a cell over a sequence: state_t = cell(xw[:, t], state_{t-1}, *weights).

    xw (batch, steps, gates) holds the input projection x @ W + b of every step,
    computed before by one GEMM.  The output (batch, steps, state) holds the state
    after each step in processing order (reversed input order when ``reverse``).
    Backward is backpropagation through time: walking the steps from last to first,
    d state_{t-1} = cell backward of (g[:, t] + d state_t); the weights' gradients
    are summed over the steps.
    """

    def forward(self, xw, state, *weights, cell=GRUStep, reverse=False):
        steps = xw.shape[1]
        self.order = range(steps - 1, -1, -1) if reverse else range(steps)
        self.xw_shape = xw.shape
        xw_by_time = xw.transpose(1, 0, 2)
        out = xp.empty((steps,) + state.shape, dtype=state.dtype)
        self.cells = []
        needs = (True,) * (2 + len(weights))
        for position, t in enumerate(self.order):
            step = cell()
            step.needs_input_grad = needs
            state = out[position] = step.forward(xw_by_time[t], state, *weights)
            self.cells.append(step)
        return out.transpose(1, 0, 2)

    def backward(self, g):
        g_by_time = g.transpose(1, 0, 2)
        grad_xw = xp.empty((self.xw_shape[1], self.xw_shape[0], self.xw_shape[2]), dtype=g.dtype)
        grad_state = xp.zeros_like(g_by_time[0])
        grad_weights = None
        for position in range(len(self.cells) - 1, -1, -1):
            grads = self.cells[position].backward(g_by_time[position] + grad_state)
            grad_xw[self.order[position]] = grads[0]
            grad_state = grads[1]
            grad_weights = list(grads[2:]) if grad_weights is None else [
                total + grad for total, grad in zip(grad_weights, grads[2:])]
        self.cells = []
        return (grad_xw.transpose(1, 0, 2), grad_state) + tuple(grad_weights)


def recurrence(xw, state, weights, cell, reverse=False):
    """States (batch, steps, state_size) of ``cell`` (a step primitive class) run over
    the projected inputs ``xw`` from the initial ``state``; see :class:`Recurrence`."""
    xw, state = tensor_like(xw), tensor_like(state)
    if xw.ndim != 3:
        raise ValueError(f"recurrence: expected projected inputs of shape (batch, steps, gates), got {xw.shape}")
    if xw.shape[1] == 0:
        raise ValueError("recurrence: expected a sequence of at least one step, got 0 steps")
    return Recurrence.apply(xw, state, *[tensor_like(w) for w in weights], cell=cell, reverse=reverse)
