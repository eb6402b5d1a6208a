"""Keras 3 on the JAX backend in float64, for the oracle tests; importing this skips the importing
module where keras or jax is not installed (``pip install chainrule[keras_oracle]``)."""
import os

import pytest

os.environ["KERAS_BACKEND"] = "jax"
keras = pytest.importorskip("keras", exc_type=ImportError)
jax = pytest.importorskip("jax", exc_type=ImportError)
jax.config.update("jax_enable_x64", True)
