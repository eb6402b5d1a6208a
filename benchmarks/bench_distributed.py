"""Data-parallel training over MPI against one process, in one invocation, interleaved.

Trains the same network on the same data (synthetic MNIST-shaped inputs: 784 features, 10 classes)
with SGD, first in one process (one BLAS thread), then under ``mpiexec -n 2`` (one BLAS thread per
rank), alternating, and prints the samples per second of each and their ratio. Also measures the
Allreduce of the model's gradient buffer (latency and bandwidth over shared memory) for the cost model.

    python benchmarks/bench_distributed.py [--model mlp|cnn] [--epochs 3] [--repeats 3]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

WORKLOADS = {"mlp": dict(batch=256, samples=20000), "cnn": dict(batch=200, samples=8000)}


def build(kind, keras):
    if kind == "mlp":
        return keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, activation="relu"),
                                 keras.layers.Dense(128, activation="relu"), keras.layers.Dense(10, activation="softmax")])
    return keras.Sequential([keras.Input((40, 1)), keras.layers.Conv1D(25, 5, strides=2, padding="same", activation="relu"),
                             keras.layers.Conv1D(25, 3, strides=2, padding="same", activation="relu"),
                             keras.layers.Conv1D(25, 3, strides=2, padding="same", activation="relu"),
                             keras.layers.Flatten(), keras.layers.Dense(10, activation="softmax")])


def train(kind, epochs):
    """One run (this process is one rank, or alone): samples per second of the fastest epoch."""
    import chainrule as keras
    from chainrule import distribution
    distribution.set_distribution(distribution.DataParallel())
    workload = WORKLOADS[kind]
    rng = np.random.default_rng(0)
    shape = (784,) if kind == "mlp" else (40, 1)
    x = rng.normal(size=(workload["samples"], *shape)).astype("float32")
    y = rng.integers(0, 10, workload["samples"])
    keras.utils.set_random_seed(0)
    model = build(kind, keras)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="sparse_categorical_crossentropy")
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(x, y, batch_size=workload["batch"], epochs=epochs, verbose=0, callbacks=[Timer()])
    if distribution.rank() == 0:
        print(json.dumps({"samples_per_s": workload["samples"] / min(times), "ranks": distribution.size(),
                          "parameters": model.count_params()}))


def allreduce_cost(floats, repeats=50):
    """Seconds per Allreduce of ``floats`` float64 values between the ranks (run under mpiexec)."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    buffer, out = np.ones(floats), np.empty(floats)
    comm.Barrier()
    start = time.perf_counter()
    for _ in range(repeats):
        comm.Allreduce(buffer, out)
    seconds = (time.perf_counter() - start) / repeats
    if comm.Get_rank() == 0:
        print(json.dumps({"floats": floats, "seconds": seconds}))


def launch(arguments, ranks):
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, __file__, *arguments]
    if ranks > 1:
        mpiexec = shutil.which("mpiexec", path=str(Path(sys.executable).parent)) or "mpiexec"
        command = [mpiexec, "-n", str(ranks), *command]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(WORKLOADS), default="mlp")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--run", choices=("train", "allreduce"), help=argparse.SUPPRESS)
    parser.add_argument("--floats", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run == "train":
        return train(args.model, args.epochs)
    if args.run == "allreduce":
        return allreduce_cost(args.floats)
    single, double = [], []
    for _ in range(args.repeats):
        single.append(launch(["--run", "train", "--model", args.model, "--epochs", str(args.epochs)], 1))
        double.append(launch(["--run", "train", "--model", args.model, "--epochs", str(args.epochs)], 2))
    one, two = max(r["samples_per_s"] for r in single), max(r["samples_per_s"] for r in double)
    params = single[0]["parameters"]
    print(f"{args.model}: {params} parameters, batch {WORKLOADS[args.model]['batch']}")
    print(f"one process (1 BLAS thread): {one:,.0f} samples/s; two ranks (1 thread each): {two:,.0f} samples/s; "
          f"ratio {two / one:.2f}")
    small, large = launch(["--run", "allreduce", "--floats", "1"], 2), launch(["--run", "allreduce", "--floats",
                                                                                str(params)], 2)
    latency = small["seconds"]
    bandwidth = 8 * params / max(large["seconds"] - latency, 1e-9)
    print(f"Allreduce over shared memory: latency {latency * 1e6:.1f} us, {params} float64 in "
          f"{large['seconds'] * 1e3:.2f} ms (about {bandwidth / 1e9:.2f} GB/s)")


if __name__ == "__main__":
    main()
