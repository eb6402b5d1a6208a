"""Keras 3's other losses: float64 gradchecks, reductions, config round trips, names and bad arguments."""
import numpy as np
import pytest

from chainrule import Tensor, gradcheck, losses

rng = np.random.default_rng(0)
UNIT = rng.uniform(0.1, 0.9, (4, 3))
BINARY = (rng.random((4, 3)) > 0.5).astype(float)
ONE_HOT = np.eye(3)[[0, 2, 1, 1]]
REAL = rng.standard_normal((4, 3))

CASES = {
    "kl_divergence": (losses.KLDivergence(), ONE_HOT * 0.8 + 0.05, UNIT),
    "poisson": (losses.Poisson(), UNIT * 2, UNIT),
    "cosine_similarity": (losses.CosineSimilarity(), REAL, REAL[::-1].copy()),
    "log_cosh": (losses.LogCosh(), REAL, REAL[::-1].copy()),
    "msle": (losses.MeanSquaredLogarithmicError(), UNIT[::-1].copy(), UNIT),
    "mape": (losses.MeanAbsolutePercentageError(), REAL, REAL[::-1] * 2),
    "hinge": (losses.Hinge(), BINARY, REAL * 0.3),
    "squared_hinge": (losses.SquaredHinge(), BINARY, REAL * 0.3),
    "categorical_hinge": (losses.CategoricalHinge(), ONE_HOT, REAL),
    "binary_focal": (losses.BinaryFocalCrossentropy(apply_class_balancing=True, label_smoothing=0.1), BINARY, UNIT),
    "binary_focal_logits": (losses.BinaryFocalCrossentropy(from_logits=True), BINARY, REAL),
    "categorical_focal": (losses.CategoricalFocalCrossentropy(alpha=[0.2, 0.3, 0.5]), ONE_HOT, UNIT),
    "categorical_focal_logits": (losses.CategoricalFocalCrossentropy(from_logits=True, label_smoothing=0.1),
                                 ONE_HOT, REAL),
    "dice": (losses.Dice(), BINARY, UNIT),
    "tversky": (losses.Tversky(alpha=0.3, beta=0.7, axis=-1), BINARY, UNIT),
}


@pytest.mark.parametrize("name", CASES)
def test_gradient_matches_finite_differences(name):
    loss, y_true, y_pred = CASES[name]
    gradcheck(lambda p: loss(y_true, p), Tensor(y_pred.copy(), requires_grad=True))


@pytest.mark.parametrize("name", CASES)
def test_config_round_trips(name):
    loss = CASES[name][0]
    rebuilt = losses.get(losses.serialize(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()


@pytest.mark.parametrize("name", ["kl_divergence", "kld", "poisson", "cosine_similarity", "log_cosh", "logcosh", "msle",
                                  "mean_absolute_percentage_error", "hinge", "squared_hinge", "categorical_hinge",
                                  "binary_focal_crossentropy", "categorical_focal_crossentropy", "dice", "tversky"])
def test_keras_string_names_resolve(name):
    assert isinstance(losses.get(name), losses.Loss)


def test_function_form_gives_one_value_per_sample():
    values = losses.hinge(BINARY, REAL)
    np.testing.assert_allclose(values.data, np.maximum(1 - (2 * BINARY - 1) * REAL, 0).mean(axis=-1))


def test_reductions_sum_none_and_mean_with_sample_weight():
    per_sample = losses.LogCosh(reduction="none")(REAL, UNIT).data
    assert per_sample.shape == (4,)
    assert float(losses.LogCosh(reduction="sum")(REAL, UNIT).data) == pytest.approx(per_sample.sum())
    weights = np.array([1.0, 0.0, 2.0, 1.0])
    weighted = losses.LogCosh(reduction="mean_with_sample_weight")(REAL, UNIT, sample_weight=weights)
    assert float(weighted.data) == pytest.approx((per_sample * weights).sum() / weights.sum())
    assert float(losses.MeanSquaredError(reduction="sum")(REAL, UNIT).data) == pytest.approx(
        ((REAL - UNIT) ** 2).mean(axis=-1).sum())


def test_dice_without_axis_is_one_value_for_the_batch():
    assert losses.Dice(reduction="none")(BINARY, UNIT).shape == ()


def test_bad_reduction_lists_the_valid_ones():
    with pytest.raises(ValueError, match="reduction: expected one of 'sum_over_batch_size', 'sum'"):
        losses.Hinge(reduction="avg")


@pytest.mark.parametrize("make, message", [
    (lambda: losses.BinaryFocalCrossentropy(gamma=-1), "gamma"),
    (lambda: losses.BinaryFocalCrossentropy(alpha=2), "alpha"),
    (lambda: losses.CategoricalFocalCrossentropy(label_smoothing=1.5), "label_smoothing"),
    (lambda: losses.Tversky(beta=-0.1), "beta"),
])
def test_bad_argument_is_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_non_int_axis_is_a_type_error():
    with pytest.raises(TypeError, match="axis"):
        losses.CosineSimilarity(axis=True)


def test_new_loss_trains_a_model():
    import chainrule as keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="log_cosh")
    history = model.fit(REAL, REAL[:, :1], epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
