"""Optimizers and schedules: Keras' update rules, clipping, state and config round trips, bad arguments."""
import copy
import math

import numpy as np
import pytest

from chainrule import Tensor
from chainrule import optimizers
from chainrule.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop, schedules

W0 = np.array([1.0, -2.0, 0.5])
GRADS = [np.array([0.5, -1.0, 2.0]), np.array([-0.25, 0.5, 1.0])]


def run_two_steps(optimizer):
    w = Tensor(W0.copy(), requires_grad=True)
    for g in GRADS:
        w.grad = g.copy()
        optimizer.step([w])
    return w.data


# ----- update rules, two steps computed by hand ---------------------------
def test_sgd_plain_step_is_w_minus_lr_g():
    expected = W0 - 0.1 * GRADS[0] - 0.1 * GRADS[1]
    np.testing.assert_allclose(run_two_steps(SGD(learning_rate=0.1)), expected)


def test_sgd_momentum_accumulates_velocity():
    v1 = -0.1 * GRADS[0]
    v2 = 0.9 * v1 - 0.1 * GRADS[1]
    np.testing.assert_allclose(run_two_steps(SGD(0.1, momentum=0.9)), W0 + v1 + v2)


def test_sgd_nesterov_looks_ahead_along_velocity():
    v1 = -0.1 * GRADS[0]
    w1 = W0 + 0.9 * v1 - 0.1 * GRADS[0]
    v2 = 0.9 * v1 - 0.1 * GRADS[1]
    w2 = w1 + 0.9 * v2 - 0.1 * GRADS[1]
    np.testing.assert_allclose(run_two_steps(SGD(0.1, momentum=0.9, nesterov=True)), w2)


def test_rmsprop_divides_by_root_mean_square():
    w, v = W0.copy(), np.zeros(3)
    for g in GRADS:
        v = 0.9 * v + 0.1 * g ** 2
        w = w - 0.01 * g / np.sqrt(v + 1e-7)
    np.testing.assert_allclose(run_two_steps(RMSprop(0.01)), w)


def test_rmsprop_momentum_accumulates_steps():
    w, v, m = W0.copy(), np.zeros(3), np.zeros(3)
    for g in GRADS:
        v = 0.8 * v + 0.2 * g ** 2
        m = 0.5 * m + 0.01 * g / np.sqrt(v + 1e-7)
        w = w - m
    np.testing.assert_allclose(run_two_steps(RMSprop(0.01, rho=0.8, momentum=0.5)), w)


def adam_by_hand(lr, amsgrad=False, weight_decay=0.0):
    w, m, v, v_hat = W0.copy(), np.zeros(3), np.zeros(3), np.zeros(3)
    for t, g in enumerate(GRADS, start=1):
        w = w - lr * weight_decay * w
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g ** 2
        v_hat = np.maximum(v_hat, v)
        alpha = lr * math.sqrt(1 - 0.999 ** t) / (1 - 0.9 ** t)
        w = w - alpha * m / (np.sqrt(v_hat if amsgrad else v) + 1e-7)
    return w


def test_adam_uses_bias_corrected_moments():
    np.testing.assert_allclose(run_two_steps(Adam(0.01)), adam_by_hand(0.01))


def test_adam_amsgrad_uses_running_max_of_v():
    np.testing.assert_allclose(run_two_steps(Adam(0.01, amsgrad=True)), adam_by_hand(0.01, amsgrad=True))


def test_adamw_decays_weights_before_adam_step():
    np.testing.assert_allclose(run_two_steps(AdamW(0.01, weight_decay=0.1)), adam_by_hand(0.01, weight_decay=0.1))


def test_adagrad_divides_by_root_of_accumulated_squares():
    w, a = W0.copy(), np.full(3, 0.1)
    for g in GRADS:
        a = a + g ** 2
        w = w - 0.1 * g / np.sqrt(a + 1e-7)
    np.testing.assert_allclose(run_two_steps(Adagrad(0.1)), w)


def test_step_updates_data_in_place_and_skips_params_without_grad():
    w, frozen = Tensor(W0.copy(), requires_grad=True), Tensor(W0.copy(), requires_grad=True)
    data = w.data
    w.grad = np.ones(3)
    SGD(0.5).step([w, frozen])
    assert w.data is data
    np.testing.assert_allclose(w.data, W0 - 0.5)
    np.testing.assert_array_equal(frozen.data, W0)


def test_apply_gradients_takes_keras_pairs():
    w = Tensor(W0.copy(), requires_grad=True)
    SGD(0.5).apply_gradients([(np.ones(3), w)])
    np.testing.assert_allclose(w.data, W0 - 0.5)


def test_apply_gradients_rejects_mismatched_shapes():
    w = Tensor(W0.copy(), requires_grad=True)
    with pytest.raises(ValueError, match="grads_and_vars"):
        SGD().apply_gradients([(np.ones(2), w)])
    np.testing.assert_array_equal(w.data, W0)


def test_iterations_count_updates():
    optimizer = Adam()
    run_two_steps(optimizer)
    assert optimizer.iterations == 2


# ----- clipping -----------------------------------------------------------
def test_clipnorm_rescales_each_gradient_to_the_norm():
    w = Tensor(np.zeros(2), requires_grad=True)
    w.grad = np.array([3.0, 4.0])
    SGD(1.0, clipnorm=1.0).step([w])
    np.testing.assert_allclose(w.data, [-0.6, -0.8])


def test_clipnorm_leaves_small_gradients_alone():
    w = Tensor(np.zeros(2), requires_grad=True)
    w.grad = np.array([0.3, 0.4])
    SGD(1.0, clipnorm=1.0).step([w])
    np.testing.assert_allclose(w.data, [-0.3, -0.4])


def test_global_clipnorm_rescales_all_gradients_together():
    a, b = Tensor(np.zeros(1), requires_grad=True), Tensor(np.zeros(1), requires_grad=True)
    a.grad, b.grad = np.array([3.0]), np.array([4.0])
    SGD(1.0, global_clipnorm=1.0).step([a, b])
    np.testing.assert_allclose([a.data[0], b.data[0]], [-0.6, -0.8])


def test_clipvalue_clips_each_entry():
    w = Tensor(np.zeros(3), requires_grad=True)
    w.grad = np.array([5.0, -0.2, -3.0])
    SGD(1.0, clipvalue=0.5).step([w])
    np.testing.assert_allclose(w.data, [-0.5, 0.2, 0.5])


def test_clipping_does_not_change_the_stored_gradient():
    w = Tensor(np.zeros(2), requires_grad=True)
    w.grad = np.array([3.0, 4.0])
    SGD(1.0, clipnorm=1.0).step([w])
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


# ----- schedules ------------------------------------------------------------
def test_exponential_decay_values():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert schedule(0) == pytest.approx(0.1)
    assert schedule(5) == pytest.approx(0.1 * 0.5 ** 0.5)
    assert schedule(20) == pytest.approx(0.025)


def test_exponential_decay_staircase_holds_between_boundaries():
    schedule = schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [schedule(s) for s in (0, 9, 10, 25)] == pytest.approx([0.1, 0.1, 0.05, 0.025])


def test_piecewise_constant_decay_steps_after_each_boundary():
    schedule = schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    assert [schedule(s) for s in (0, 10, 11, 20, 21, 100)] == [1.0, 1.0, 0.5, 0.5, 0.1, 0.1]


def test_cosine_decay_values():
    schedule = schedules.CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert schedule(0) == pytest.approx(1.0)
    assert schedule(50) == pytest.approx(0.1 + 0.9 * 0.5)
    assert schedule(100) == pytest.approx(0.1)
    assert schedule(500) == pytest.approx(0.1)


def test_optimizer_follows_a_schedule_step_by_step():
    optimizer = SGD(schedules.PiecewiseConstantDecay([0], [1.0, 0.1]))
    w = Tensor(np.zeros(1), requires_grad=True)
    rates = []
    for _ in range(3):
        rates.append(optimizer.learning_rate)
        w.grad = np.ones(1)
        optimizer.step([w])
    assert rates == [1.0, 0.1, 0.1]
    np.testing.assert_allclose(w.data, [-1.2])


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
    schedules.PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1]),
    schedules.CosineDecay(0.1, 100, alpha=0.2),
])
def test_schedule_config_round_trip(schedule):
    restored = schedules.deserialize(schedules.serialize(schedule))
    assert type(restored) is type(schedule)
    assert [restored(s) for s in (0, 7, 15, 60)] == [schedule(s) for s in (0, 7, 15, 60)]


def test_schedule_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match="values"):
        schedules.PiecewiseConstantDecay([10], [1.0])
    with pytest.raises(ValueError, match="alpha"):
        schedules.CosineDecay(0.1, 10, alpha=2.0)


# ----- convergence ----------------------------------------------------------
@pytest.mark.parametrize("optimizer", [
    SGD(0.1), SGD(0.05, momentum=0.9), SGD(0.05, momentum=0.9, nesterov=True), RMSprop(0.05), Adam(0.1),
    Adam(0.1, amsgrad=True), AdamW(0.1, weight_decay=0.001), Adagrad(0.5),
], ids=repr)
def test_minimising_a_quadratic_converges(optimizer):
    """L(w) = 1/2 sum(a * (w - target)**2), dL/dw = a * (w - target)."""
    a, target = np.array([1.0, 3.0]), np.array([2.0, -1.0])
    w = Tensor(np.zeros(2), requires_grad=True)
    for _ in range(500):
        w.grad = a * (w.data - target)
        optimizer.step([w])
    np.testing.assert_allclose(w.data, target, atol=0.02)


# ----- identifiers, config and state --------------------------------------
@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("adam", Adam), ("rmsprop", RMSprop), ("adamw", AdamW),
                                       ("adagrad", Adagrad), ("Adam", Adam)])
def test_get_by_name(name, cls):
    assert type(optimizers.get(name)) is cls


def test_get_returns_an_instance_unchanged():
    optimizer = Adam(0.02)
    assert optimizers.get(optimizer) is optimizer


def test_get_unknown_name_lists_valid_names():
    with pytest.raises(ValueError, match="adadelta, adafactor, adagrad, adam, adamax, adamw, ftrl, lamb, lion, nadam, rmsprop, sgd"):
        optimizers.get("adamm")


@pytest.mark.parametrize("optimizer", [
    SGD(0.1, momentum=0.5, nesterov=True, clipnorm=1.0), RMSprop(0.01, rho=0.8, momentum=0.1, clipvalue=0.5),
    Adam(0.002, beta_1=0.8, amsgrad=True, global_clipnorm=2.0), AdamW(0.003, weight_decay=0.01),
    Adagrad(0.2, initial_accumulator_value=0.5), Adam(schedules.CosineDecay(0.1, 50)),
], ids=repr)
def test_config_round_trip(optimizer):
    expected = run_two_steps(copy.deepcopy(optimizer))
    for config in (optimizer.get_config(), optimizers.serialize(optimizer)):
        restored = optimizers.deserialize(config)
        assert type(restored) is type(optimizer)
        assert restored.get_config() == optimizer.get_config()
        np.testing.assert_array_equal(run_two_steps(restored), expected)


def test_get_accepts_a_config_dict():
    optimizer = optimizers.get({"class_name": "SGD", "config": {"learning_rate": 0.3, "momentum": 0.5}})
    assert (type(optimizer), optimizer.learning_rate, optimizer.momentum) == (SGD, 0.3, 0.5)


def test_variables_round_trip_continues_identically():
    first = Adam(0.01, amsgrad=True)
    w = Tensor(W0.copy(), requires_grad=True)
    w.grad = GRADS[0].copy()
    first.step([w])
    state = {key: value.copy() for key, value in first.variables().items()}
    assert sorted(state) == ["0/m", "0/v", "0/v_hat", "iterations"]

    second = Adam(0.01, amsgrad=True)
    second.set_variables(state)
    w2 = Tensor(w.data.copy(), requires_grad=True)
    for optimizer, weight in ((first, w), (second, w2)):
        weight.grad = GRADS[1].copy()
        optimizer.step([weight])
    assert second.iterations == 2
    np.testing.assert_array_equal(w2.data, w.data)


def test_set_variables_rejects_wrong_keys():
    with pytest.raises(ValueError, match="variables"):
        Adam().set_variables({"iterations": np.array(1), "0/m": np.zeros(3)})


def test_state_shape_mismatch_is_reported():
    optimizer = Adam()
    optimizer.set_variables({"iterations": np.array(1), "0/m": np.zeros(2), "0/v": np.zeros(2)})
    w = Tensor(W0.copy(), requires_grad=True)
    w.grad = np.ones(3)
    with pytest.raises(ValueError, match=r"params\[0\]"):
        optimizer.step([w])


def test_learning_rate_is_settable_and_lr_is_an_alias():
    optimizer = SGD(lr=0.2)
    assert optimizer.learning_rate == 0.2
    optimizer.learning_rate = 0.05
    assert optimizer.lr == 0.05


# ----- bad arguments -------------------------------------------------------
@pytest.mark.parametrize("cls", [SGD, RMSprop, Adam, AdamW, Adagrad])
def test_negative_learning_rate_is_refused(cls):
    with pytest.raises(ValueError, match="learning_rate"):
        cls(learning_rate=-0.1)


def test_both_lr_and_learning_rate_is_refused():
    with pytest.raises(ValueError, match="learning_rate"):
        Adam(learning_rate=0.1, lr=0.1)


def test_setting_a_negative_learning_rate_is_refused():
    optimizer = SGD(0.1)
    with pytest.raises(ValueError, match="learning_rate"):
        optimizer.learning_rate = -1.0
    assert optimizer.learning_rate == 0.1


def test_learning_rate_of_wrong_type_is_refused():
    with pytest.raises(TypeError, match="learning_rate"):
        SGD("fast")


@pytest.mark.parametrize("make, argument", [
    (lambda: SGD(momentum=1.5), "momentum"), (lambda: Adam(beta_1=1.0), "beta_1"),
    (lambda: Adam(epsilon=-1e-7), "epsilon"), (lambda: RMSprop(rho=-0.1), "rho"),
    (lambda: SGD(clipnorm=0.0), "clipnorm"), (lambda: SGD(clipnorm=1.0, clipvalue=1.0), "clipvalue"),
    (lambda: Adagrad(initial_accumulator_value=-1), "initial_accumulator_value"),
])
def test_bad_hyperparameters_name_the_argument(make, argument):
    with pytest.raises(ValueError, match=argument):
        make()


def test_changing_the_parameter_list_is_reported():
    optimizer = Adam()
    w = Tensor(W0.copy(), requires_grad=True)
    w.grad = np.ones(3)
    optimizer.step([w])
    with pytest.raises(ValueError, match="params"):
        optimizer.step([w, w])


def test_setting_a_number_over_a_schedule_is_refused():
    optimizer = SGD(schedules.CosineDecay(0.1, 10))
    with pytest.raises(TypeError, match="learning_rate"):
        optimizer.learning_rate = 0.5
    assert optimizer.learning_rate == pytest.approx(0.1)


def test_get_of_a_wrong_type_is_refused():
    with pytest.raises(TypeError, match="optimizer"):
        optimizers.get(0.01)
