"""Reliability promises (docs/RELIABILITY.md): threads, model files, saving, bad input."""
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule.layers import Dense, Dropout
from chainrule.models import Sequential
from chainrule.tensor import get_default_dtype, is_grad_enabled, set_default_dtype
from chainrule.utils import set_random_seed

THREADS, ITERATIONS = 8, 20


def small_model(seed=0, dropout=False):
    set_random_seed(seed)
    layers = [Dense(16, activation="tanh", input_dim=4)] + ([Dropout(0.5)] if dropout else []) + [Dense(3)]
    model = Sequential(layers)
    model.compile(optimizer="adam", loss="mse")
    return model


def run_threads(target, count):
    """Run ``target(i)`` in ``count`` threads; re-raise the first error any thread met."""
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as error:  # noqa: BLE001 - handed back to the test's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]


# ----- 1. thread safety ------------------------------------------------------------
def test_predicting_in_eight_threads_while_another_trains_matches_serial_runs():
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    y = np.random.default_rng(1).normal(size=(32, 3)).astype(np.float32)
    predictor, trainer, reference = small_model(0), small_model(1), small_model(1)
    serial_prediction = predictor.predict(x, verbose=0)
    reference.fit(x, y, epochs=ITERATIONS, batch_size=8, shuffle=False, verbose=0)
    results = {}

    def work(i):
        if i == THREADS:
            trainer.fit(x, y, epochs=ITERATIONS, batch_size=8, shuffle=False, verbose=0)
        else:
            results[i] = [predictor.predict(x, verbose=0) for _ in range(ITERATIONS)]

    run_threads(work, THREADS + 1)
    for predictions in results.values():
        for prediction in predictions:
            np.testing.assert_array_equal(prediction, serial_prediction)
    for trained, expected in zip(trainer.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(trained, expected)
    assert is_grad_enabled() and get_default_dtype() == np.float32


def test_no_grad_in_one_thread_leaves_recording_on_in_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def quiet(_):
        with cr.no_grad():
            inside.set()
            outside.wait(10)

    def recording(_):
        inside.wait(10)
        w = cr.Tensor(np.ones(3), requires_grad=True)
        seen["requires_grad"] = (w * 2).requires_grad
        outside.set()

    run_threads(lambda i: (quiet, recording)[i](i), 2)
    assert seen["requires_grad"] and is_grad_enabled()


def test_set_default_dtype_in_one_thread_does_not_leak_to_another():
    seen = {}
    changed = threading.Event()

    def change(_):
        set_default_dtype(np.float64)
        seen["own"] = cr.Tensor([1.0]).dtype
        changed.set()

    def read(_):
        changed.wait(10)
        seen["other"] = cr.Tensor([1.0]).dtype

    run_threads(lambda i: (change, read)[i](i), 2)
    assert seen == {"own": np.float64, "other": np.float32}
    assert get_default_dtype() == np.float32


def test_dropout_in_threads_draws_from_the_shared_generator_without_error():
    x = np.ones((16, 4), np.float32)
    model = small_model(dropout=True)
    run_threads(lambda i: [model(x, training=True) for _ in range(ITERATIONS)], THREADS)
