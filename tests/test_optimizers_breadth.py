"""Keras 3's other optimizers and the options every optimizer takes: state round trips, config round
trips, gradient accumulation, EMA, loss scaling, Keras 2's lr and decay, bad arguments."""
import numpy as np
import pytest

from chainrule import Tensor, optimizers
from chainrule.optimizers import SGD, Adam, schedules

START = [np.arange(12.0).reshape(3, 4) / 10 - 0.5, np.array([0.5, -1.0, 2.0, 0.1])]
GRADS = [[np.cos(np.arange(12.0)).reshape(3, 4), np.sin(np.arange(4.0)) + 0.1 * k] for k in range(4)]
NEW = ["nadam", "adamax", "adadelta", "ftrl", "lion", "lamb", "adafactor"]


def run(optimizer, grads=GRADS, params=None):
    params = params or [Tensor(w.copy()) for w in START]
    for step in grads:
        optimizer.apply([g.copy() for g in step], params)
    return params


@pytest.mark.parametrize("name", NEW)
def test_new_optimizer_moves_the_weights_and_its_config_round_trips(name):
    optimizer = optimizers.get(name)
    params = run(optimizer)
    assert not np.allclose(params[0].data, START[0])
    rebuilt = optimizers.deserialize(optimizers.serialize(optimizer))
    assert type(rebuilt) is type(optimizer) and rebuilt.get_config() == optimizer.get_config()


@pytest.mark.parametrize("name", NEW + ["adam_ema_accumulation"])
def test_state_round_trip_resumes_identically(name):
    options = dict(use_ema=True, gradient_accumulation_steps=2) if name.endswith("accumulation") else {}
    first = optimizers.get({"name": name.split("_")[0], "learning_rate": 0.05, **options})
    params = run(first, GRADS[:1])
    second = optimizers.get(first.get_config())
    second.set_variables({key: np.array(value) for key, value in first.variables().items()})
    copies = [Tensor(p.data.copy()) for p in params]
    run(first, GRADS[1:], params)
    run(second, GRADS[1:], copies)
    for a, b in zip(params, copies):
        np.testing.assert_array_equal(a.data, b.data)


def test_adafactor_keeps_row_and_column_means_for_matrices():
    state = optimizers.Adafactor()
    run(state, GRADS[:1])
    variables = state.variables()
    assert variables["0/r"].shape == (3,) and variables["0/c"].shape == (4,) and variables["1/v"].shape == (4,)


def test_gradient_accumulation_updates_every_kth_call_with_the_mean_gradient():
    accumulated = run(SGD(0.1, gradient_accumulation_steps=2), GRADS[:2])
    mean = [(a + b) / 2 for a, b in zip(*GRADS[:2])]
    plain = run(SGD(0.1), [mean])
    for a, b in zip(accumulated, plain):
        np.testing.assert_allclose(a.data, b.data)
    assert run(SGD(0.1, gradient_accumulation_steps=2), GRADS[:1])[0].data.tolist() == START[0].tolist()


def test_loss_scale_factor_divides_gradients_and_scale_loss_multiplies():
    optimizer = SGD(0.1, loss_scale_factor=4.0)
    scaled = run(optimizer, [[4 * g for g in GRADS[0]]])
    for a, b in zip(scaled, run(SGD(0.1), GRADS[:1])):
        np.testing.assert_allclose(a.data, b.data)
    assert optimizer.scale_loss(2.0) == 8.0


def test_ema_finalize_writes_the_moving_average():
    optimizer = SGD(0.1, use_ema=True, ema_momentum=0.5)
    params = run(optimizer, GRADS[:2])
    w1 = START[1] - 0.1 * GRADS[0][1]
    w2 = w1 - 0.1 * GRADS[1][1]
    optimizer.finalize_variable_values(params)
    np.testing.assert_allclose(params[1].data, 0.5 * w1 + 0.5 * w2)


def test_ema_overwrite_frequency_writes_the_average_every_n_calls():
    params = run(SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=1), GRADS[:1])
    np.testing.assert_allclose(params[1].data, START[1] - 0.1 * GRADS[0][1])


def test_keras2_lr_and_decay_warn_and_decay_is_inverse_time():
    with pytest.warns(DeprecationWarning, match="lr"):
        assert SGD(lr=0.2).learning_rate == 0.2
    with pytest.warns(DeprecationWarning, match="InverseTimeDecay"):
        optimizer = SGD(0.2, decay=0.5)
    optimizer.iterations = 2
    assert optimizer.learning_rate == pytest.approx(0.2 / (1 + 0.5 * 2))
    assert isinstance(optimizers.deserialize(optimizers.serialize(optimizer))._learning_rate,
                      schedules.InverseTimeDecay)


@pytest.mark.parametrize("arguments, message", [
    (dict(gradient_accumulation_steps=1), "gradient_accumulation_steps"),
    (dict(ema_momentum=1.5, use_ema=True), "ema_momentum"),
    (dict(ema_overwrite_frequency=0, use_ema=True), "ema_overwrite_frequency"),
    (dict(loss_scale_factor=0), "loss_scale_factor"),
    (dict(decay=-1.0), "decay"),
])
def test_bad_option_names_the_argument(arguments, message):
    with pytest.raises(ValueError, match=message):
        Adam(**arguments)


@pytest.mark.parametrize("cls, arguments, message", [
    (optimizers.Lion, dict(beta_1=0.0), "beta_1"),
    (optimizers.Ftrl, dict(learning_rate_power=0.5), "learning_rate_power"),
    (optimizers.Ftrl, dict(l1_regularization_strength=-1), "l1_regularization_strength"),
    (optimizers.Adadelta, dict(rho=2.0), "rho"),
    (optimizers.Adafactor, dict(clip_threshold=0.0), "clip_threshold"),
])
def test_bad_hyperparameter_names_it(cls, arguments, message):
    with pytest.raises(ValueError, match=message):
        cls(**arguments)


@pytest.mark.parametrize("name, config", [
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, power=2.0, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5)),
])
def test_schedule_config_round_trips(name, config):
    schedule = getattr(schedules, name)(**config)
    rebuilt = schedules.deserialize(schedules.serialize(schedule))
    assert [rebuilt(s) for s in range(0, 30, 3)] == [schedule(s) for s in range(0, 30, 3)]


def test_cosine_decay_warms_up_linearly_to_the_target():
    schedule = schedules.CosineDecay(0.0, 10, warmup_target=0.1, warmup_steps=5)
    assert [schedule(s) for s in (0, 5)] == pytest.approx([0.0, 0.1]) and schedule(2) == pytest.approx(0.04)


def test_schedule_bad_argument_names_it():
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, 0)
