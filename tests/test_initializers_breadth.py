"""Keras 3's other initializers: TruncatedNormal, Orthogonal, Identity, VarianceScaling; seeds, names, configs."""
import numpy as np
import pytest

from chainrule import initializers

CLASSES = ["Zeros", "Ones", "Constant", "Identity", "RandomUniform", "RandomNormal", "TruncatedNormal",
           "VarianceScaling", "Orthogonal", "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunUniform",
           "LecunNormal"]


@pytest.mark.parametrize("name", CLASSES)
def test_class_name_and_snake_name_resolve_and_config_round_trips(name):
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")
    assert type(initializers.get(name)) is type(initializers.get(snake)) is getattr(initializers, name)
    initializer = getattr(initializers, name)()
    rebuilt = initializers.get(initializers.serialize(initializer))
    assert type(rebuilt) is type(initializer) and rebuilt.get_config() == initializer.get_config()


def test_truncated_normal_stays_within_two_stddev():
    values = initializers.TruncatedNormal(mean=1.0, stddev=0.1)((100, 100))
    assert values.min() >= 0.8 and values.max() <= 1.2


def test_seeded_initializer_repeats_its_values():
    initializer = initializers.GlorotUniform(seed=3)
    np.testing.assert_array_equal(initializer((4, 5)), initializer((4, 5)))
    assert initializers.get(initializers.serialize(initializer)).get_config() == {"seed": 3}


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 6)])
def test_orthogonal_has_orthonormal_columns_or_rows(shape):
    q = initializers.Orthogonal(gain=2.0)(shape, dtype="float64").reshape(-1, shape[-1])
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-12)


def test_identity_is_gain_times_the_eye_and_2d_only():
    np.testing.assert_array_equal(initializers.Identity(3.0)((2, 3)), [[3, 0, 0], [0, 3, 0]])
    with pytest.raises(ValueError, match="shape: Identity"):
        initializers.Identity()((2, 2, 2))


def test_variance_scaling_untruncated_normal_has_the_variance():
    values = initializers.VarianceScaling(2.0, "fan_in", "untruncated_normal", seed=0)((400, 300), dtype="float64")
    assert values.std() == pytest.approx(np.sqrt(2.0 / 400), rel=0.02)


@pytest.mark.parametrize("make, message", [
    (lambda: initializers.VarianceScaling(mode="fan"), "mode: expected one of fan_in, fan_out, fan_avg"),
    (lambda: initializers.VarianceScaling(distribution="cauchy"), "distribution: expected one of truncated_normal"),
    (lambda: initializers.VarianceScaling(scale=0), "scale"),
    (lambda: initializers.GlorotUniform(seed=-1), "seed"),
    (lambda: initializers.get("glorot"), "valid names: .*variance_scaling"),
])
def test_bad_argument_is_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()
