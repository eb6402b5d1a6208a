"""chainrule.distribution: a world of one without mpiexec, and, under ``mpiexec -n 2``, the same
weights, logs and predictions as one process, files written by rank 0 only, and a failing rank
ending the whole job."""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import chainrule as keras
from chainrule import distribution

SCRIPT = Path(__file__).parent / "mpi_scripts" / "data_parallel.py"
MPIEXEC = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or shutil.which("mpiexec")


def launch(tmp_path, scenario, timeout=120):
    """``mpiexec -n 2`` on the script: (completed process, seconds it took)."""
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    started = time.monotonic()
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(SCRIPT), str(tmp_path), scenario],
                          capture_output=True, text=True, timeout=timeout, env=environment)
    return done, time.monotonic() - started


needs_mpi = pytest.mark.skipif(MPIEXEC is None or importlib.util.find_spec("mpi4py") is None,
                               reason="the distributed extra (mpi4py, mpich) is not installed")


@pytest.fixture(autouse=True)
def one_process_again():
    yield
    distribution.set_distribution(None)


def test_without_mpiexec_the_world_is_one_process_and_fit_is_unchanged():
    distribution.set_distribution(distribution.DataParallel())
    assert distribution.rank() == 0 and distribution.size() == 1 and distribution.list_devices() == ["cpu:0"]
    assert isinstance(distribution.distribution(), distribution.DataParallel)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 1)), verbose=0)
    assert distribution.active() is None


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="value: expected a DataParallel or None"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match=r"devices: expected one device per rank \(1\), got 2"):
        distribution.DataParallel(devices=["cpu:0", "cpu:1"])
    with pytest.raises(ValueError, match="device_type: chainrule runs on CPUs only"):
        distribution.list_devices("gpu")


def single_process_reference():
    """The script's training, on one process (rank 0's seed), for comparison."""
    spec = importlib.util.spec_from_file_location("data_parallel", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    model, x, y = script.model_and_data(0)
    history = model.fit(x, y, batch_size=20, epochs=3, shuffle=True, verbose=0)
    return model, history, model.evaluate(x, y, batch_size=16, return_dict=True, verbose=0), model.predict(x)


@pytest.mark.mpi
@needs_mpi
def test_two_ranks_train_to_the_weights_logs_and_predictions_of_one_process(tmp_path):
    done, _ = launch(tmp_path, "train")
    assert done.returncode == 0, done.stderr
    model, history, evaluated, predictions = single_process_reference()
    for index, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(np.load(tmp_path / f"weight_{index}.npy"), weight, rtol=1e-9, atol=1e-12)
    logs = json.loads((tmp_path / "logs.json").read_text())
    assert logs["size"] == 2 and logs["devices"] == ["cpu:0", "cpu:1"]
    for key, values in history.history.items():
        np.testing.assert_allclose(logs["history"][key], values, rtol=1e-9)
    for key, value in evaluated.items():
        assert logs["evaluate"][key] == pytest.approx(value, rel=1e-9)
    np.testing.assert_allclose(np.load(tmp_path / "predictions.npy"), predictions, rtol=1e-9)


@pytest.mark.mpi
@needs_mpi
def test_only_rank_zero_runs_the_callbacks_that_write_files(tmp_path):
    done, _ = launch(tmp_path, "train")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "written_by_rank_0").exists() and not (tmp_path / "written_by_rank_1").exists()


@pytest.mark.mpi
@needs_mpi
def test_an_exception_on_one_rank_ends_the_whole_job_within_seconds(tmp_path):
    done, seconds = launch(tmp_path, "fail", timeout=50)
    assert done.returncode != 0
    assert "rank 1 fails on purpose" in done.stderr + done.stdout
    assert seconds < 30
