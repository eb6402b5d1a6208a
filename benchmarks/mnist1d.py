"""MNIST-1D: chainrule against PyTorch on the four models of Greydanus,
"Scaling Down Deep Learning" (2020), in one run.

The models and training set-up follow the paper's code (notebooks/models.py and
train.py of github.com/greydanus/mnist1d):

- logistic regression: Linear(40, 10)
- MLP: h1 = relu(Linear(40, 100)(x)); h2 = h1 + relu(Linear(100, 100)(h1)); Linear(100, 10)(h2)
- CNN: three Conv1d of 25 channels, kernels 5, 3, 3, stride 2, padding 1, ReLU, then Linear(125, 10)
- GRU: bidirectional GRU of 6 units over the 40 steps, every step's output flattened, Linear(480, 10)

Adam (learning rate 1e-2, no weight decay), batches of 100 taken in order from the
4,000 training sequences, cross-entropy, ``--steps`` steps (6,000 by default). Both
frameworks get the same data (``chainrule.datasets.load_mnist1d``), the same
architecture, optimizer, batches and step count; PyTorch runs on the CPU with 2
threads, chainrule with NumPy's BLAS on 1 thread (``--chainrule-threads``). Every
run is a fresh Python process (so neither framework's idle worker threads slow the
other) that reports its test accuracy after the last step, the best of the
evaluations every 250 steps (the paper's train.py evaluates at that interval), and
the wall time of its training steps (evaluations not counted). Each (model,
framework) is run for ``--seeds`` seeds, alternating which framework goes first.

    python benchmarks/mnist1d.py [--steps 6000] [--seeds 3] [--models logistic mlp cnn gru]
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
from chainrule.optimizers import Adam
from chainrule.utils import set_random_seed

PAPER_ACCURACY = {"logistic": 32.0, "mlp": 68.0, "cnn": 94.0, "gru": 91.0}
STEPS = 40
CLASSES = 10


# ----- chainrule models ------------------------------------------------------
class ChainruleModel:
    """Layers called in order by ``forward``; ``weights`` are what Adam updates."""

    def __init__(self, kind):
        self.kind = kind
        if kind == "logistic":
            self.layers = [layers.Dense(CLASSES)]
        elif kind == "mlp":
            self.layers = [layers.Dense(100, activation="relu"), layers.Dense(100, activation="relu"),
                           layers.Dense(CLASSES)]
        elif kind == "cnn":
            self.layers = [layers.Conv1D(25, 5, strides=2, padding=1, activation="relu"),
                           layers.Conv1D(25, 3, strides=2, padding=1, activation="relu"),
                           layers.Conv1D(25, 3, strides=2, padding=1, activation="relu"),
                           layers.Flatten(), layers.Dense(CLASSES)]
        else:
            self.layers = [layers.Bidirectional(layers.GRU(6, return_sequences=True)), layers.Flatten(),
                           layers.Dense(CLASSES)]
        with cr.no_grad():
            self(np.zeros((1, STEPS), dtype=np.float32))
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


def train_chainrule(kind, data, steps, batch_size, learning_rate, seed, eval_every):
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

    return training_loop(train_step, test_accuracy, len(x_train), steps, batch_size, eval_every)


def training_loop(train_step, test_accuracy, train_size, steps, batch_size, eval_every):
    """Run ``steps`` steps on batches taken in order (as the paper's train.py); the test
    accuracy is measured every ``eval_every`` steps and after the last, outside the timed
    part. Returns (final accuracy, best accuracy, seconds of training)."""
    seconds, accuracies = 0.0, []
    for step in range(1, steps + 1):
        start = time.perf_counter()
        train_step(((step - 1) * batch_size) % train_size)
        seconds += time.perf_counter() - start
        if step % eval_every == 0 or step == steps:
            accuracies.append(test_accuracy())
    return accuracies[-1], max(accuracies), seconds


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
        self.gru = torch.nn.GRU(1, 6, batch_first=True, bidirectional=True)
        self.linear = torch.nn.Linear(2 * 6 * STEPS, CLASSES)

    def forward(self, x):
        output, _ = self.gru(x.view(x.shape[0], STEPS, 1))
        return self.linear(output.reshape(output.shape[0], -1))


def torch_model(kind):
    if kind == "logistic":
        return torch.nn.Linear(40, CLASSES)
    return {"mlp": TorchMLP, "cnn": TorchCNN, "gru": TorchGRU}[kind]()


def train_torch(kind, data, steps, batch_size, learning_rate, seed, eval_every):
    (x_train, y_train), (x_test, y_test) = data
    torch.manual_seed(seed)
    model = torch_model(kind)
    optimizer = torch.optim.Adam(model.parameters(), learning_rate)
    x_train, y_train, x_test = torch.from_numpy(x_train), torch.from_numpy(y_train), torch.from_numpy(x_test)

    def train_step(first):
        loss = torch.nn.functional.cross_entropy(model(x_train[first:first + batch_size]),
                                                 y_train[first:first + batch_size])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def test_accuracy():
        with torch.no_grad():
            return 100 * float((model(x_test).argmax(1).numpy() == y_test).mean())

    return training_loop(train_step, test_accuracy, len(x_train), steps, batch_size, eval_every)


TRAINERS = {"chainrule": train_chainrule, "pytorch": train_torch}


def run_in_fresh_process(kind, framework, seed, args):
    """{final, best, seconds} of one training run in a new interpreter, read back as JSON.
    NumPy's BLAS gets ``--chainrule-threads`` threads in chainrule's runs."""
    command = [sys.executable, __file__, "--single", kind, framework, str(seed), "--steps", str(args.steps),
               "--batch-size", str(args.batch_size), "--learning-rate", str(args.learning_rate),
               "--eval-every", str(args.eval_every), "--torch-threads", str(args.torch_threads)]
    env = dict(os.environ)
    if framework == "chainrule":
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.chainrule_threads)
    completed = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    return json.loads(completed.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=6000, help="training steps per run (paper: 6000)")
    parser.add_argument("--seeds", type=int, default=3, help="runs per model and framework")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--eval-every", type=int, default=250, help="steps between test evaluations (untimed)")
    parser.add_argument("--torch-threads", type=int, default=2)
    parser.add_argument("--chainrule-threads", type=int, default=1, help="NumPy BLAS threads for chainrule")
    parser.add_argument("--models", nargs="+", default=list(PAPER_ACCURACY), choices=list(PAPER_ACCURACY))
    parser.add_argument("--single", nargs=3, metavar=("MODEL", "FRAMEWORK", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.single:
        torch.set_num_threads(args.torch_threads)
        kind, framework, seed = args.single
        final, best, seconds = TRAINERS[framework](kind, load_mnist1d(), args.steps, args.batch_size,
                                                   args.learning_rate, int(seed), args.eval_every)
        print(json.dumps({"final": final, "best": best, "seconds": seconds}))
        return
    load_mnist1d()  # build the cache once, before the runs

    rows = []
    for kind in args.models:
        results = {name: [] for name in TRAINERS}
        for seed in range(args.seeds):
            order = list(TRAINERS) if seed % 2 == 0 else list(reversed(TRAINERS))
            for name in order:
                result = run_in_fresh_process(kind, name, seed, args)
                results[name].append(result)
                print(f"{kind:8s} {name:9s} seed {seed}: test accuracy {result['final']:5.1f}% "
                      f"(best {result['best']:5.1f}%)  {result['seconds']:7.2f} s", flush=True)
        rows.append((kind, {name: {key: float(np.mean([r[key] for r in runs])) for key in ("final", "best", "seconds")}
                            for name, runs in results.items()}))

    print(f"\nMNIST-1D, {args.steps} steps of batch {args.batch_size}, Adam lr {args.learning_rate}; mean of "
          f"{args.seeds} seeds; {platform.machine()}, {os.cpu_count()} cores; PyTorch {torch.__version__} "
          f"({args.torch_threads} threads), NumPy {np.__version__} (BLAS {args.chainrule_threads} thread(s))\n")
    print("| model | paper | chainrule accuracy (best) | PyTorch accuracy (best) | chainrule time | PyTorch time "
          "| time ratio chainrule / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for kind, mean in rows:
        ours, theirs = mean["chainrule"], mean["pytorch"]
        print(f"| {kind} | {PAPER_ACCURACY[kind]:.0f}% | {ours['final']:.1f}% ({ours['best']:.1f}%) | "
              f"{theirs['final']:.1f}% ({theirs['best']:.1f}%) | {ours['seconds']:.2f} s | {theirs['seconds']:.2f} s | "
              f"{ours['seconds'] / theirs['seconds']:.2f} |")


if __name__ == "__main__":
    main()
