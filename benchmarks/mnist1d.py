"""MNIST-1D: chainrule against PyTorch on the four models of Greydanus,
"Scaling Down Deep Learning" (2020), in one run.

The models and training set-up follow the paper's code (notebooks/models.py and
train.py of github.com/greydanus/mnist1d):

- logistic regression: Linear(40, 10)
- MLP: h1 = relu(Linear(40, 100)(x)); h2 = h1 + relu(Linear(100, 100)(h1)); Linear(100, 10)(h2)
- CNN: three Conv1d of 25 channels, kernels 5, 3, 3, stride 2, padding 1, ReLU, then Linear(125, 10)
- GRU: bidirectional GRU of 6 units over the 40 steps, every step's output flattened, Linear(480, 10)

Training as in train.py: Adam (learning rate 1e-2, no weight decay), cross-entropy,
batches of 100 taken in order with wrap-around (step ``s`` trains on sequences
``100 s mod 4000`` onwards), for ``s`` in ``range(total_steps + 1)`` with
``total_steps = --steps`` (8,000, the repository's value), so 8,001 updates. The
learning rate stays at 1e-2, except for the models named in ``--cosine-decay``, whose
rate falls from 1e-2 to 0 along a cosine over the run (chainrule's ``CosineDecay``;
PyTorch's ``LambdaLR`` on the same function).

Initialisation as PyTorch's defaults, which the paper's numbers come from, in both
frameworks: every weight and bias of a Linear or Conv1d layer U(-1/sqrt(fan_in),
1/sqrt(fan_in)) (fan_in = input features, or input channels x kernel width), every
GRU weight and bias U(-1/sqrt(units), 1/sqrt(units)). chainrule gets these through
``RandomUniform`` initializers (the GRU's recurrent kernels, which the layer always
initialises orthogonally, are redrawn after building).

Both frameworks get the same data (``chainrule.datasets.load_mnist1d``), the same
architecture, initial distribution, optimizer, batches and step count; PyTorch runs
on the CPU with 2 threads, chainrule with NumPy's BLAS on 1 thread
(``--chainrule-threads``). Every run is a fresh Python process (so neither
framework's idle worker threads slow the other) that reports its test accuracy after
the last step and the wall time of its training steps. Each (model, framework) is run
for ``--seeds`` seeds, alternating which framework goes first.

``--validation N`` holds out the last N training sequences, trains on the rest and
reports accuracy on the held-out ones instead of the test set: the split on which
any choice of training set-up is made, never on the test set. The recorded table
(benchmarks/RESULTS.md) uses ``--cosine-decay logistic mlp``: for each model, the
schedule (constant or cosine) with the higher mean accuracy on ``--validation 500``
over 3 seeds and both frameworks.

    python benchmarks/mnist1d.py [--steps 8000] [--seeds 3] [--models logistic mlp cnn gru]
                                 [--cosine-decay MODEL ...] [--validation 500]
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np
import torch

import chainrule as cr
import chainrule.functional as F
from chainrule import layers
from chainrule.datasets import load_mnist1d
from chainrule.initializers import RandomUniform
from chainrule.optimizers import Adam
from chainrule.optimizers.schedules import CosineDecay
from chainrule.utils import set_random_seed

PAPER_ACCURACY = {"logistic": 32.0, "mlp": 68.0, "cnn": 94.0, "gru": 91.0}
STEPS = 40
CLASSES = 10
GRU_UNITS = 6


def torch_default(fan_in):
    """PyTorch's default initial distribution for a layer of ``fan_in`` inputs (per output)."""
    bound = 1 / np.sqrt(fan_in)
    return RandomUniform(-bound, bound)


def dense(units, fan_in, activation=None):
    return layers.Dense(units, activation=activation, kernel_initializer=torch_default(fan_in),
                        bias_initializer=torch_default(fan_in))


def conv(kernel_size, fan_in_channels):
    return layers.Conv1D(25, kernel_size, strides=2, padding=1, activation="relu",
                         kernel_initializer=torch_default(fan_in_channels * kernel_size),
                         bias_initializer=torch_default(fan_in_channels * kernel_size))


# ----- chainrule models ------------------------------------------------------
class ChainruleModel:
    """Layers called in order by ``forward``; ``weights`` are what Adam updates."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "logistic":
            self.layers = [dense(CLASSES, STEPS)]
        elif kind == "mlp":
            self.layers = [dense(100, STEPS, "relu"), dense(100, 100, "relu"), dense(CLASSES, 100)]
        elif kind == "cnn":
            self.layers = [conv(5, 1), conv(3, 25), conv(3, 25), layers.Flatten(), dense(CLASSES, 125)]
        else:
            gru = layers.GRU(GRU_UNITS, return_sequences=True, kernel_initializer=torch_default(GRU_UNITS),
                             bias_initializer=torch_default(GRU_UNITS))
            self.layers = [layers.Bidirectional(gru), layers.Flatten(), dense(CLASSES, 2 * GRU_UNITS * STEPS)]
        with cr.no_grad():
            self(np.zeros((1, STEPS), dtype=np.float32))
        if kind == "gru":
            for direction in (self.layers[0].forward_layer, self.layers[0].backward_layer):
                kernel = direction.recurrent_kernel
                kernel.data = torch_default(GRU_UNITS)(kernel.shape, dtype=kernel.dtype)
        self.weights = [w for layer in self.layers for w in layer.trainable_weights]

    def __call__(self, x):
        x = cr.Tensor(x)
        if self.kind == "mlp":
            first, second, last = self.layers
            h = first(x)
            return last(h + second(h))
        if self.kind in ("cnn", "gru"):
            x = x.reshape(x.shape[0], STEPS, 1)
        for layer in self.layers:
            x = layer(x)
        return x


def train_chainrule(kind, data, steps, batch_size, learning_rate, seed):
    (x_train, y_train), (x_test, y_test) = data
    set_random_seed(seed)
    model = ChainruleModel(kind)
    optimizer = Adam(learning_rate=learning_rate, epsilon=1e-8)

    def train_step(first):
        loss = F.cross_entropy(model(x_train[first:first + batch_size]), y_train[first:first + batch_size])
        for weight in model.weights:
            weight.grad = None
        loss.backward()
        optimizer.step(model.weights)

    def test_accuracy():
        with cr.no_grad():
            return 100 * float((model(x_test).data.argmax(axis=1) == y_test).mean())

    return training_loop(train_step, test_accuracy, len(x_train), steps, batch_size)


def training_loop(train_step, test_accuracy, train_size, steps, batch_size):
    """The loop of the paper's train.py: for step in range(steps + 1), one update on the
    batch starting at (step * batch_size) % train_size. Returns (test accuracy after the
    last update, seconds of training)."""
    start = time.perf_counter()
    for step in range(steps + 1):
        train_step((step * batch_size) % train_size)
    seconds = time.perf_counter() - start
    return test_accuracy(), seconds


# ----- PyTorch models (as in the paper's models.py) --------------------------
class TorchMLP(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear1, self.linear2, self.linear3 = (torch.nn.Linear(40, 100), torch.nn.Linear(100, 100),
                                                    torch.nn.Linear(100, CLASSES))

    def forward(self, x):
        h = self.linear1(x).relu()
        return self.linear3(h + self.linear2(h).relu())


class TorchCNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv1d(1, 25, 5, stride=2, padding=1)
        self.conv2 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.conv3 = torch.nn.Conv1d(25, 25, 3, stride=2, padding=1)
        self.linear = torch.nn.Linear(125, CLASSES)

    def forward(self, x):
        h = self.conv1(x.view(-1, 1, STEPS)).relu()
        h = self.conv3(self.conv2(h).relu()).relu()
        return self.linear(h.view(h.shape[0], -1))


class TorchGRU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(1, GRU_UNITS, batch_first=True, bidirectional=True)
        self.linear = torch.nn.Linear(2 * GRU_UNITS * STEPS, CLASSES)

    def forward(self, x):
        output, _ = self.gru(x.view(x.shape[0], STEPS, 1))
        return self.linear(output.reshape(output.shape[0], -1))


def torch_model(kind):
    if kind == "logistic":
        return torch.nn.Linear(40, CLASSES)
    return {"mlp": TorchMLP, "cnn": TorchCNN, "gru": TorchGRU}[kind]()


def train_torch(kind, data, steps, batch_size, learning_rate, seed):
    (x_train, y_train), (x_test, y_test) = data
    torch.manual_seed(seed)
    model = torch_model(kind)
    decaying = isinstance(learning_rate, CosineDecay)
    optimizer = torch.optim.Adam(model.parameters(), learning_rate(0) if decaying else learning_rate)
    scheduler = (torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: learning_rate(step) / learning_rate(0))
                 if decaying else None)
    x_train, y_train, x_test = torch.from_numpy(x_train), torch.from_numpy(y_train), torch.from_numpy(x_test)

    def train_step(first):
        loss = torch.nn.functional.cross_entropy(model(x_train[first:first + batch_size]),
                                                 y_train[first:first + batch_size])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()

    def test_accuracy():
        with torch.no_grad():
            return 100 * float((model(x_test).argmax(1).numpy() == y_test).mean())

    return training_loop(train_step, test_accuracy, len(x_train), steps, batch_size)


TRAINERS = {"chainrule": train_chainrule, "pytorch": train_torch}


def split(data, validation):
    """``data`` as is, or with the last ``validation`` training sequences as the evaluation set."""
    if not validation:
        return data
    (x_train, y_train), _ = data
    return (x_train[:-validation], y_train[:-validation]), (x_train[-validation:], y_train[-validation:])


def run_in_fresh_process(kind, framework, seed, args):
    """{accuracy, seconds} of one training run in a new interpreter, read back as JSON.
    NumPy's BLAS gets ``--chainrule-threads`` threads in chainrule's runs."""
    command = [sys.executable, __file__, "--single", kind, framework, str(seed), "--steps", str(args.steps),
               "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
               "--validation", str(args.validation), "--torch-threads", str(args.torch_threads),
               "--cosine-decay", *args.cosine_decay]
    env = dict(os.environ)
    if framework == "chainrule":
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.chainrule_threads)
    completed = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(completed.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=8000,
                        help="total_steps of the paper's train.py (8000); the loop makes total_steps + 1 updates")
    parser.add_argument("--seeds", type=int, default=3, help="runs per model and framework")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--validation", type=int, default=0, metavar="N",
                        help="evaluate on the last N training sequences (trained without them), not the test set")
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--chainrule-threads", type=int, default=1, help="NumPy BLAS threads for chainrule")
    parser.add_argument("--cosine-decay", nargs="*", default=[], choices=list(PAPER_ACCURACY), metavar="MODEL",
                        help="models whose learning rate decays from --learning-rate to 0 by a cosine over the run")
    parser.add_argument("--models", nargs="+", default=list(PAPER_ACCURACY), choices=list(PAPER_ACCURACY))
    parser.add_argument("--single", nargs=3, metavar=("MODEL", "FRAMEWORK", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        torch.set_num_threads(args.torch_threads)
        kind, framework, seed = args.single
        learning_rate = (CosineDecay(args.learning_rate, args.steps + 1) if kind in args.cosine_decay
                         else args.learning_rate)
        accuracy, seconds = TRAINERS[framework](kind, split(load_mnist1d(), args.validation), args.steps,
                                                args.batch_size, learning_rate, int(seed))
        print(json.dumps({"accuracy": accuracy, "seconds": seconds}))
        return
    load_mnist1d()  # build the cache once, before the runs

    evaluated_on = f"validation ({args.validation})" if args.validation else "test"
    rows = []
    for kind in args.models:
        results = {name: [] for name in TRAINERS}
        for seed in range(args.seeds):
            order = list(TRAINERS) if seed % 2 == 0 else list(reversed(TRAINERS))
            for name in order:
                result = run_in_fresh_process(kind, name, seed, args)
                results[name].append(result)
                print(f"{kind:8s} {name:9s} seed {seed}: {evaluated_on} accuracy {result['accuracy']:5.1f}%  "
                      f"{result['seconds']:7.2f} s", flush=True)
        rows.append((kind, {name: {key: float(np.mean([r[key] for r in runs])) for key in ("accuracy", "seconds")}
                            for name, runs in results.items()}))

    print(f"\nMNIST-1D, {evaluated_on} accuracy after total_steps {args.steps} (+1) of batch {args.batch_size}, "
          f"Adam lr {args.learning_rate} (cosine decay to 0: {', '.join(args.cosine_decay) or 'none'}); mean of "
          f"{args.seeds} seeds; {platform.machine()}, {os.cpu_count()} cores; PyTorch {torch.__version__} "
          f"({args.torch_threads} threads), NumPy {np.__version__} (BLAS {args.chainrule_threads} thread(s))\n")
    print("| model | paper | chainrule accuracy | PyTorch accuracy | chainrule time | PyTorch time "
          "| time ratio chainrule / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for kind, mean in rows:
        ours, theirs = mean["chainrule"], mean["pytorch"]
        print(f"| {kind} | {PAPER_ACCURACY[kind]:.0f}% | {ours['accuracy']:.1f}% | {theirs['accuracy']:.1f}% | "
              f"{ours['seconds']:.2f} s | {theirs['seconds']:.2f} s | "
              f"{ours['seconds'] / theirs['seconds']:.2f} |")


if __name__ == "__main__":
    main()
