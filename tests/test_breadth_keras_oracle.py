"""The Keras-breadth names (losses, optimizers, schedules, activations, initializers, utils) against
Keras 3 on the JAX backend: the same values from the same inputs, and for the losses the same
gradients (jax.grad against chainrule's backward). Skipped when keras is not installed."""
import math

import numpy as np
import pytest
from keras_jax import jax, keras

import chainrule as cr
from chainrule import Tensor, losses, optimizers
from chainrule.optimizers import schedules

pytestmark = pytest.mark.keras_oracle

rng = np.random.default_rng(3)
PROBS = rng.dirichlet(np.ones(4), size=5)
TARGETS = np.eye(4)[rng.integers(0, 4, size=5)]
SOFT = rng.dirichlet(np.ones(4), size=5)
REAL = rng.standard_normal((5, 4))
POSITIVE = rng.uniform(0.2, 3.0, (5, 4))
SIGNS = np.where(rng.random((5, 4)) > 0.5, 1.0, -1.0)
BINARY = (rng.random((5, 4)) > 0.5).astype(float)
UNIT = rng.uniform(0.05, 0.95, (5, 4))

# name: (chainrule loss, keras loss, y_true, y_pred)
LOSSES = {
    "kl_divergence": (losses.KLDivergence(), keras.losses.KLDivergence(), SOFT, PROBS),
    "poisson": (losses.Poisson(), keras.losses.Poisson(), POSITIVE, POSITIVE[::-1]),
    "cosine_similarity": (losses.CosineSimilarity(), keras.losses.CosineSimilarity(), REAL, REAL[::-1]),
    "cosine_similarity_axis0": (losses.CosineSimilarity(axis=0), keras.losses.CosineSimilarity(axis=0), REAL, POSITIVE),
    "log_cosh": (losses.LogCosh(), keras.losses.LogCosh(), REAL, REAL[::-1] * 3),
    "msle": (losses.MeanSquaredLogarithmicError(), keras.losses.MeanSquaredLogarithmicError(), POSITIVE, POSITIVE[::-1]),
    "mape": (losses.MeanAbsolutePercentageError(), keras.losses.MeanAbsolutePercentageError(), REAL, REAL[::-1] * 2),
    "hinge_signs": (losses.Hinge(), keras.losses.Hinge(), SIGNS, REAL),
    "hinge_binary": (losses.Hinge(), keras.losses.Hinge(), BINARY, REAL),
    "squared_hinge": (losses.SquaredHinge(), keras.losses.SquaredHinge(), BINARY, REAL),
    "categorical_hinge": (losses.CategoricalHinge(), keras.losses.CategoricalHinge(), TARGETS, REAL),
    "binary_focal": (losses.BinaryFocalCrossentropy(), keras.losses.BinaryFocalCrossentropy(), BINARY, UNIT),
    "binary_focal_balanced_logits_smoothing": (
        losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True,
                                       label_smoothing=0.1),
        keras.losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.3, gamma=1.5, from_logits=True,
                                             label_smoothing=0.1), BINARY, REAL),
    "categorical_focal": (losses.CategoricalFocalCrossentropy(), keras.losses.CategoricalFocalCrossentropy(),
                          TARGETS, PROBS),
    "categorical_focal_logits_smoothing": (
        losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True, label_smoothing=0.2),
        keras.losses.CategoricalFocalCrossentropy(alpha=0.5, gamma=3.0, from_logits=True, label_smoothing=0.2),
        TARGETS, REAL),
    "dice": (losses.Dice(), keras.losses.Dice(), BINARY, UNIT),
    "dice_axis": (losses.Dice(axis=1), keras.losses.Dice(axis=1), BINARY, UNIT),
    "tversky": (losses.Tversky(alpha=0.7, beta=0.3), keras.losses.Tversky(alpha=0.7, beta=0.3), BINARY, UNIT),
    "tversky_axis": (losses.Tversky(axis=-1), keras.losses.Tversky(axis=-1), BINARY, UNIT),
    "hinge_sum": (losses.Hinge(reduction="sum"), keras.losses.Hinge(reduction="sum"), SIGNS, REAL),
    "log_cosh_none": (losses.LogCosh(reduction="none"), keras.losses.LogCosh(reduction=None), REAL, REAL[::-1]),
}


@pytest.mark.parametrize("name", LOSSES)
def test_loss_value_and_gradient_match_keras(name):
    ours, theirs, y_true, y_pred = LOSSES[name]
    p = Tensor(y_pred.copy(), requires_grad=True)
    value = ours(y_true, p)
    np.testing.assert_allclose(value.data, np.asarray(theirs(y_true, y_pred)), rtol=2e-5, atol=1e-6)
    value.sum().backward()
    expected = jax.grad(lambda x: theirs(y_true, x).sum())(y_pred)
    np.testing.assert_allclose(p.grad, np.asarray(expected), rtol=2e-5, atol=1e-6)


def test_loss_sample_weight_matches_keras():
    weights = np.array([1.0, 0.0, 2.0, 0.5, 1.0])
    for reduction in ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none"):
        ours = losses.SquaredHinge(reduction=reduction)(BINARY, REAL, sample_weight=weights)
        theirs = keras.losses.SquaredHinge(reduction=reduction)(BINARY, REAL, sample_weight=weights)
        np.testing.assert_allclose(ours.data, np.asarray(theirs), rtol=2e-5)


def test_loss_functions_match_keras():
    np.testing.assert_allclose(losses.kl_divergence(SOFT, PROBS).data, keras.losses.kl_divergence(SOFT, PROBS), rtol=2e-5)
    np.testing.assert_allclose(losses.tversky(BINARY, UNIT, 0.2, 0.8, axis=1).data,
                               keras.losses.tversky(BINARY, UNIT, 0.2, 0.8, axis=1), rtol=2e-5)


# ----- optimizers: the same steps from the same start ---------------------------------------------
START = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
STEPS = [[rng.standard_normal((3, 4)), rng.standard_normal(4)] for _ in range(4)]

OPTIMIZERS = {
    "nadam": dict(learning_rate=0.05),
    "adamax": dict(learning_rate=0.05, beta_2=0.9),
    "adadelta": dict(learning_rate=0.5, rho=0.9),
    "ftrl": dict(learning_rate=0.1, l1_regularization_strength=0.01, l2_regularization_strength=0.02,
                 l2_shrinkage_regularization_strength=0.05, beta=0.1),
    "lion": dict(learning_rate=0.01),
    "lamb": dict(learning_rate=0.05),
    "adafactor": dict(learning_rate=0.1),
    "adam_weight_decay_ema": dict(learning_rate=0.05, weight_decay=0.1, use_ema=True, ema_momentum=0.5,
                                  ema_overwrite_frequency=3),
    "sgd_accumulation_scale": dict(learning_rate=0.1, momentum=0.9, gradient_accumulation_steps=2,
                                   loss_scale_factor=4.0),
    "rmsprop_clipnorm": dict(learning_rate=0.01, clipnorm=0.5),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_steps_match_keras(name):
    kind, options = name.split("_")[0], OPTIMIZERS[name]
    ours = optimizers.get({"name": kind, **options})
    theirs = getattr(keras.optimizers, type(ours).__name__)(**options)
    params = [Tensor(w.copy()) for w in START]
    variables = [keras.Variable(w.copy(), dtype="float64") for w in START]
    for grads in STEPS:
        ours.apply([g.copy() for g in grads], params)
        theirs.apply([jax.numpy.asarray(g) for g in grads], variables)
    for param, variable in zip(params, variables):
        np.testing.assert_allclose(param.data, np.asarray(variable.value), rtol=1e-6, atol=1e-9)
    if ours.use_ema:
        ours.finalize_variable_values(params)
        theirs.finalize_variable_values(variables)
        for param, variable in zip(params, variables):
            np.testing.assert_allclose(param.data, np.asarray(variable.value), rtol=1e-6, atol=1e-9)


# ----- schedules ------------------------------------------------------------------------------------
SCHEDULES = [
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, end_learning_rate=0.01, power=2.0)),
    ("PolynomialDecay", dict(initial_learning_rate=0.1, decay_steps=10, cycle=True)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.5, staircase=True)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4, t_mul=2.0, m_mul=0.8, alpha=0.1)),
    ("CosineDecayRestarts", dict(initial_learning_rate=0.1, first_decay_steps=4, t_mul=1.0)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=10, alpha=0.1, warmup_target=0.1, warmup_steps=5)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=10)),
]


@pytest.mark.parametrize("name, config", SCHEDULES, ids=[f"{n}{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_values_match_keras(name, config):
    ours, theirs = getattr(schedules, name)(**config), getattr(keras.optimizers.schedules, name)(**config)
    for step in (0, 1, 3, 4, 7, 12, 20, 33):
        assert ours(step) == pytest.approx(float(theirs(step)), rel=1e-6, abs=1e-9), step


# ----- activations: values and gradients ---------------------------------------------------------
WIDE = np.linspace(-7.0, 7.0, 24).reshape(4, 6) + 0.01
ACTIVATIONS = {"selu": {}, "relu6": {}, "log_softmax": {}, "hard_sigmoid": {}, "hard_silu": {}, "softsign": {},
               "exponential": {}, "celu": {"alpha": 0.7}, "glu": {}, "glu_axis0": {"axis": 0},
               "log_softmax_axis0": {"axis": 0}}
# sparsemax is left out: Keras 3.15's JAX sparsemax sums the cumulative sums over the support where
# the threshold needs the sum of the support, so its rows do not sum to 1 (sparsemax([0.1, 0.5, 0.2])
# gives [0, 0.167, 0]); tests/test_activations_breadth.py checks chainrule's against the definition.


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_value_and_gradient_match_keras(name):
    fn_name, options = name.split("_axis")[0], ACTIVATIONS[name]
    x = Tensor(WIDE * 0.3, requires_grad=True)
    ours = cr.activations.get(fn_name)(x, **options)
    theirs = getattr(keras.activations, fn_name)
    np.testing.assert_allclose(ours.data, np.asarray(theirs(WIDE * 0.3, **options)), rtol=1e-6, atol=1e-9)
    cotangent = np.cos(np.arange(ours.size)).reshape(ours.shape)
    ours.backward(cotangent)
    expected = jax.grad(lambda v: (theirs(v, **options) * cotangent).sum())(WIDE * 0.3)
    np.testing.assert_allclose(x.grad, np.asarray(expected), rtol=1e-6, atol=1e-9)


# ----- initializers: statistics, and the deterministic ones exactly --------------------------------
RANDOM_INITIALIZERS = [
    ("TruncatedNormal", dict(mean=0.5, stddev=0.2)), ("RandomNormal", dict(stddev=0.3)),
    ("RandomUniform", dict(minval=-0.2, maxval=0.6)),
    ("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="untruncated_normal")),
    ("VarianceScaling", dict(scale=0.5, mode="fan_avg", distribution="uniform")),
    ("VarianceScaling", dict()), ("GlorotNormal", {}), ("GlorotUniform", {}), ("HeNormal", {}), ("HeUniform", {}),
    ("LecunNormal", {}), ("LecunUniform", {}),
]


@pytest.mark.parametrize("name, config", RANDOM_INITIALIZERS, ids=[f"{n}{i}" for i, (n, _) in enumerate(RANDOM_INITIALIZERS)])
def test_random_initializer_statistics_match_keras(name, config):
    shape = (3, 3, 40, 60)
    ours = getattr(cr.initializers, name)(**config, seed=1)(shape, dtype="float64")
    theirs = np.asarray(getattr(keras.initializers, name)(**config, seed=1)(shape, dtype="float64"))
    assert ours.shape == theirs.shape
    for statistic in (np.mean, np.std, lambda v: np.percentile(v, 2), lambda v: np.percentile(v, 98)):
        assert statistic(ours) == pytest.approx(statistic(theirs), abs=0.03 * theirs.std() + 1e-3)


@pytest.mark.parametrize("name, config, shape", [("Identity", dict(gain=2.0), (3, 5)), ("Constant", dict(value=0.3), (2, 4)),
                                                 ("Zeros", {}, (3,)), ("Ones", {}, (2, 2))])
def test_deterministic_initializer_matches_keras(name, config, shape):
    np.testing.assert_array_equal(getattr(cr.initializers, name)(**config)(shape, dtype="float64"),
                                  np.asarray(getattr(keras.initializers, name)(**config)(shape, dtype="float64")))


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (2, 3, 5)])
def test_orthogonal_matches_keras_in_shape_and_orthogonality(shape):
    ours = cr.initializers.Orthogonal(gain=1.5, seed=0)(shape, dtype="float64").reshape(-1, shape[-1])
    theirs = np.asarray(keras.initializers.Orthogonal(gain=1.5, seed=0)(shape, dtype="float64")).reshape(-1, shape[-1])
    gram = (lambda m: m.T @ m) if shape[0] * (shape[1] if len(shape) > 2 else 1) >= shape[-1] else (lambda m: m @ m.T)
    np.testing.assert_allclose(gram(ours), gram(theirs), atol=1e-9)


# ----- utils -----------------------------------------------------------------------------------------
def test_to_categorical_matches_keras():
    for labels, classes in (([0, 2, 1, 2], None), (np.array([[1], [0], [3]]), 5), (np.array([[0, 1], [2, 0]]), 3)):
        np.testing.assert_array_equal(cr.utils.to_categorical(labels, classes),
                                      keras.utils.to_categorical(labels, classes))


def test_normalize_matches_keras():
    x = np.vstack([REAL, np.zeros((1, 4))])
    for axis, order in ((-1, 2), (1, 1), (1, 3)):   # Keras 3.15's axis=0 expands the norm on the last axis
        np.testing.assert_allclose(cr.utils.normalize(x, axis, order), keras.utils.normalize(x, axis, order))


@pytest.mark.parametrize("options", [{}, dict(maxlen=3), dict(maxlen=3, padding="post", truncating="post", value=-1),
                                     dict(dtype="float32", value=0.5), dict(truncating="post", maxlen=2)])
def test_pad_sequences_matches_keras(options):
    sequences = [[1, 2, 3, 4], [5], [], [6, 7]]
    ours = cr.utils.pad_sequences(sequences, **options)
    theirs = keras.utils.pad_sequences(sequences, **options)
    assert ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours, theirs)
