"""Float64 inputs the ops tests share (test_keras_ops and test_keras_oracle), chosen so finite
differences and gradients stay off kinks and ties."""
import numpy as np

_rng = np.random.default_rng(3)
A, B = _rng.standard_normal((3, 4)), _rng.standard_normal((3, 4))
POSITIVE = _rng.uniform(0.5, 2.0, (3, 4))
OFF_KINK = _rng.uniform(0.2, 2, (3, 4)) * _rng.choice([-1.0, 1.0], (3, 4))   # |x| >= 0.2
DISTINCT = (_rng.permutation(12) * 0.1 - 0.55).reshape(3, 4)                # odd multiples of 0.05: no ties, no 0
PROBS = _rng.uniform(0.05, 0.95, (3, 4))
ONE_HOT = np.eye(4)[[0, 3, 1]]
LABELS = np.array([0, 3, 1])
IMAGES, KERNEL = _rng.standard_normal((2, 6, 5, 3)), _rng.standard_normal((3, 2, 3, 2))
SEQUENCE = _rng.standard_normal((2, 7, 3))
