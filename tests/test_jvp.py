"""chainrule.jvp, forward mode: the output's value and its directional derivative
J v in one pass, equal to central differences and to sum(grad * v) from backward."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import chainrule as cr
import chainrule.functional as F
from chainrule import Tensor

seeds = st.integers(0, 2**32 - 1)


def central_difference(fn, primals, tangents, eps=1e-6):
    """(f(x + eps v) - f(x - eps v)) / (2 eps) in float64."""
    with cr.no_grad():
        plus = fn(*[Tensor(p + eps * v) for p, v in zip(primals, tangents)]).data
        minus = fn(*[Tensor(p - eps * v) for p, v in zip(primals, tangents)]).data
    return (plus - minus) / (2 * eps)


def assert_jvp_matches_finite_differences(fn, primals, seed=0):
    rng = np.random.default_rng(seed)
    primals = [np.asarray(p, dtype=np.float64) for p in primals]
    tangents = [rng.standard_normal(p.shape) for p in primals]
    out, tangent_out = cr.jvp(fn, tuple(primals), tuple(tangents))
    with cr.no_grad():
        np.testing.assert_allclose(out.data, fn(*[Tensor(p) for p in primals]).data)
    assert tangent_out.shape == out.shape
    np.testing.assert_allclose(tangent_out.data, central_difference(fn, primals, tangents), rtol=1e-6, atol=1e-7)


rng0 = np.random.default_rng(42)
A, B = rng0.standard_normal((3, 4)), rng0.standard_normal((3, 4))
POSITIVE = rng0.uniform(0.5, 2.0, (3, 4))
M = rng0.standard_normal((4, 2))
ROW = rng0.standard_normal(4)
LOGITS = rng0.standard_normal((5, 3)) * 2
LABELS = np.array([0, 2, 1, 1, 0])
PROBS = np.exp(LOGITS.T[::-1].T) / np.exp(LOGITS.T[::-1].T).sum(axis=1, keepdims=True)
OFF_KINK = rng0.uniform(0.2, 2, (3, 4)) * rng0.choice([-1.0, 1.0], (3, 4))

PRIMITIVES = {
    "add_broadcast": (lambda a, b: a + b, [A, ROW]),
    "sub": (lambda a, b: a - b, [A, B]),
    "mul_broadcast": (lambda a, b: a * b, [A, ROW]),
    "div": (lambda a, b: a / b, [A, POSITIVE]),
    "pow_tensors": (lambda a, b: a ** b, [POSITIVE, B]),
    "pow_constant": (lambda a: a ** 3, [A]),
    "neg": (lambda a: -a, [A]),
    "matmul": (lambda a, m: a @ m, [A, M]),
    "matmul_vector": (lambda a, v: a @ v, [A, ROW]),
    "sum_axis": (lambda a: a.sum(axis=1), [A]),
    "sum_all": (lambda a: a.sum(), [A]),
    "mean_keepdims": (lambda a: a.mean(axis=0, keepdims=True), [A]),
    "max_axis": (lambda a: a.max(axis=1), [A]),
    "min_all": (lambda a: a.min(), [A]),
    "exp": (lambda a: a.exp(), [A]),
    "log": (lambda a: a.log(), [POSITIVE]),
    "sqrt": (lambda a: a.sqrt(), [POSITIVE]),
    "abs": (lambda a: a.abs(), [OFF_KINK]),
    "clip": (lambda a: a.clip(-0.5, 0.5), [OFF_KINK]),
    "reshape": (lambda a: a.reshape(2, -1), [A]),
    "transpose": (lambda a: a.transpose(-1, 0), [A]),
    "T": (lambda a: a.T, [A]),
    "flatten": (lambda a: a.flatten(), [A]),
    "getitem_basic": (lambda a: a[1:, ::2], [A]),
    "getitem_repeated": (lambda a: a[np.array([0, 2, 0])], [A]),
    "concatenate": (lambda a, b: cr.concatenate([a, b], axis=1), [A, B]),
    "stack": (lambda a, b: cr.stack([a, b], axis=-1), [A, B]),
    "where": (lambda a, b: cr.where(A > 0, a, b), [A, B]),
    "maximum": (cr.maximum, [A, B]),
    "pad": (lambda a: cr.pad(a, ((1, 0), (2, 1))), [A]),
    "linear": (F.linear, [A, M, rng0.standard_normal(2)]),
    "linear_no_bias": (F.linear, [A, M]),
    "sigmoid": (F.sigmoid, [A]),
    "tanh": (F.tanh, [A]),
    "relu": (F.relu, [OFF_KINK]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), [OFF_KINK]),
    "elu": (F.elu, [OFF_KINK]),
    "softplus": (F.softplus, [A]),
    "silu": (F.silu, [A]),
    "mish": (F.mish, [A]),
    "gelu": (F.gelu, [A]),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), [A]),
    "softmax": (F.softmax, [A]),
    "log_softmax_axis0": (lambda a: F.log_softmax(a, axis=0), [A]),
    "mse_loss": (F.mse_loss, [A, B]),
    "l1_loss_sum": (lambda a, b: F.l1_loss(a, b, reduction="sum"), [OFF_KINK, np.zeros((3, 4))]),
    "huber_loss_none": (lambda a, b: F.huber_loss(a, b, reduction="none"), [A * 2, B]),
    "binary_cross_entropy": (F.binary_cross_entropy, [1 / (1 + np.exp(-A)), 1 / (1 + np.exp(-B))]),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, [A, 1 / (1 + np.exp(-B))]),
    "bce_with_logits_none": (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction="none"),
                             [A, 1 / (1 + np.exp(-B))]),
    "cross_entropy_labels": (lambda z: F.cross_entropy(z, LABELS), [LOGITS]),
    "cross_entropy_labels_none": (lambda z: F.cross_entropy(z, LABELS, reduction="none"), [LOGITS]),
    "cross_entropy_probs": (lambda z, y: F.cross_entropy(z, y, reduction="sum"), [LOGITS, PROBS]),
}


@pytest.mark.parametrize("name", list(PRIMITIVES))
def test_jvp_of_primitive_matches_finite_differences(name):
    fn, primals = PRIMITIVES[name]
    assert_jvp_matches_finite_differences(fn, primals)


ACTIVATIONS = [F.sigmoid, F.tanh, F.relu, F.leaky_relu, F.elu, F.softplus, F.silu, F.mish, F.gelu]
LOSSES = {
    "cross_entropy": lambda out, y: F.cross_entropy(out, y.data.argmax(axis=1)),
    "cross_entropy_probs": lambda out, y: F.cross_entropy(out, y),
    "mse_loss": F.mse_loss,
    "huber_loss": F.huber_loss,
    "l1_loss": F.l1_loss,
    "bce_with_logits": F.binary_cross_entropy_with_logits,
    "softmax_then_bce": lambda out, y: F.binary_cross_entropy(F.softmax(out), y),
    "log_softmax_nll": lambda out, y: -(F.log_softmax(out) * y).sum() / len(y.data),
}


def random_mlp(seed, sizes):
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.standard_normal((fan_in, fan_out)) / np.sqrt(fan_in), rng.standard_normal(fan_out) * 0.1]
    x = rng.standard_normal((6, sizes[0]))
    y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], 6)] * 0.8 + 0.1
    return x, Tensor(y), params


def mlp_loss(x, y, activation, loss):
    def fn(*params):
        h = Tensor(x)
        for i in range(0, len(params), 2):
            h = F.linear(h, params[i], params[i + 1])
            if i + 2 < len(params):
                h = activation(h)
        return loss(h, y)
    return fn


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("loss_name", list(LOSSES))
@given(seed=seeds, hidden=st.integers(1, 5))
def test_jvp_of_mlp_loss_equals_gradient_dot_tangent(activation, loss_name, seed, hidden):
    x, y, params = random_mlp(seed, [3, hidden, 4, 3])
    fn = mlp_loss(x, y, activation, LOSSES[loss_name])
    tangents = [np.random.default_rng(seed + 1).standard_normal(p.shape) for p in params]
    out, tangent_out = cr.jvp(fn, tuple(params), tuple(tangents))

    leaves = [Tensor(p, requires_grad=True) for p in params]
    loss = fn(*leaves)
    loss.backward()
    assert out.item() == pytest.approx(loss.item(), rel=1e-12)
    expected = sum(float((leaf.grad * v).sum()) for leaf, v in zip(leaves, tangents))
    assert tangent_out.item() == pytest.approx(expected, rel=1e-10, abs=1e-10)


@given(seed=seeds)
def test_jvp_of_mlp_loss_matches_finite_differences(seed):
    x, y, params = random_mlp(seed, [4, 5, 3])
    assert_jvp_matches_finite_differences(mlp_loss(x, y, F.tanh, LOSSES["cross_entropy"]), params, seed)


def test_jvp_returns_the_output_and_its_tangent_as_tensors():
    out, tangent = cr.jvp(lambda x: x * x, (np.array([1.0, 3.0]),), (np.array([1.0, 0.5]),))
    assert isinstance(out, Tensor) and isinstance(tangent, Tensor)
    np.testing.assert_array_equal(out.data, [1.0, 9.0])
    np.testing.assert_array_equal(tangent.data, [2.0, 3.0])


def test_jvp_accepts_a_single_primal_and_tangent_without_a_tuple():
    out, tangent = cr.jvp(lambda x: x.exp().sum(), Tensor([0.0, 0.0]), np.array([1.0, 2.0]))
    assert tangent.item() == pytest.approx(3.0)


def test_jvp_of_a_tuple_output_gives_a_tuple_of_tangents():
    outs, tangents = cr.jvp(lambda x: (x * 2, x.sum()), (np.ones(3),), (np.arange(3.0),))
    assert len(outs) == len(tangents) == 2
    np.testing.assert_array_equal(tangents[0].data, [0.0, 2.0, 4.0])
    assert tangents[1].item() == 3.0


def test_jvp_tangent_of_an_output_independent_of_the_primals_is_zero():
    out, tangent = cr.jvp(lambda x: Tensor([1.0, 2.0]) * 3, (np.ones(2),), (np.ones(2),))
    np.testing.assert_array_equal(tangent.data, [0.0, 0.0])


def test_jvp_treats_detach_as_a_constant():
    out, tangent = cr.jvp(lambda x: x * x.detach(), (np.array([2.0]),), (np.array([1.0]),))
    assert tangent.item() == 2.0


def test_jvp_with_zero_tangent_for_one_primal_gives_the_partial_derivative():
    _, tangent = cr.jvp(lambda a, b: (a * b).sum(), (np.array([2.0]), np.array([5.0])), (np.ones(1), np.zeros(1)))
    assert tangent.item() == 5.0


def test_jvp_leaves_forward_mode_off_afterwards_even_after_an_error():
    with pytest.raises(ZeroDivisionError):
        cr.jvp(lambda x: 1 / 0, (np.ones(1),), (np.ones(1),))
    out = Tensor([1.0]) * 2
    _, tangent = cr.jvp(lambda x: x * 2, (np.ones(1),), (np.ones(1),))
    assert tangent.item() == 2.0 and out.item() == 2.0


def test_jvp_does_not_touch_the_caller_tensors():
    x = Tensor([1.0, 2.0], requires_grad=True)
    cr.jvp(lambda t: (t * t).sum(), (x,), (np.ones(2),))
    assert x.grad is None and x.requires_grad


def test_jvp_tangent_of_the_wrong_shape_names_both_shapes():
    with pytest.raises(ValueError, match=r"tangent 0 must have its primal's shape \(2,\), got \(3,\)"):
        cr.jvp(lambda x: x, (np.ones(2),), (np.ones(3),))


def test_jvp_needs_one_tangent_per_primal():
    with pytest.raises(ValueError, match="one tangent per primal, got 2 primals and 1 tangents"):
        cr.jvp(lambda a, b: a + b, (np.ones(2), np.ones(2)), (np.ones(2),))


def test_jvp_of_an_integer_primal_is_refused():
    with pytest.raises(TypeError, match="primal 0 must be floating"):
        cr.jvp(lambda x: x, (np.arange(2),), (np.ones(2),))


def test_jvp_through_an_op_without_a_jvp_rule_names_it():
    class NoRule(cr.Function):
        def forward(self, x):
            return x * 2

    with pytest.raises(NotImplementedError, match="NoRule: forward-mode differentiation"):
        cr.jvp(lambda x: NoRule.apply(x), (np.ones(2),), (np.ones(2),))
