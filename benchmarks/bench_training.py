"""Training benchmarks: digits beside scikit-learn and PyTorch, and XOR from several seeds.

(a) digits (scikit-learn's 8x8 handwritten digits, 1,437 training / 360 test
    samples): a 64-32 ReLU MLP with a softmax output trained with Adam, in
    chainrule, in scikit-learn's ``MLPClassifier(hidden_layer_sizes=(64, 32),
    solver='adam')`` (its defaults otherwise: L2 alpha=1e-4, its own Glorot
    initialisation) and in PyTorch on the CPU (``--torch-threads``: 2, then 1), all with
    the same epochs, batch size and learning rate; chainrule and PyTorch both
    start from Glorot-uniform kernels and zero biases. Reported over seeds
    0..``--seeds``-1: mean and lowest test accuracy, median and fastest wall
    time of the training loop (libraries alternating seed by seed, so they
    see the same load), and each median's ratio to chainrule's. The
    default learning rate and epochs (0.002, 40) were chosen among a few on a
    validation split of the training set, not on the test set.
(b) XOR: a 2-2-1 sigmoid network, binary cross-entropy, full-batch SGD, plain
    and with momentum 0.9; for each of 5 seeds, the first epoch after which all
    four outputs are within 0.2 of their targets.

    python benchmarks/bench_training.py [--epochs 40] [--seeds 5] [--profile]
"""
import argparse
import cProfile
import functools
import os
import platform
import pstats
import time
import warnings

import numpy as np

from chainrule.datasets import load_digits, load_xor
from chainrule.layers import Dense
from chainrule.models import Sequential
from chainrule.optimizers import SGD, Adam
from chainrule.utils import set_random_seed

HIDDEN = (64, 32)
XOR_MAX_EPOCHS = 5000
XOR_TOLERANCE = 0.2  # solved: every output within 0.2 of its target (so 0/1 by rounding, with a margin)


# ----- (a) digits -----------------------------------------------------------------------------
def digits_chainrule(data, epochs, batch_size, lr, seed):
    (x_train, y_train), (x_test, y_test) = data
    set_random_seed(seed)
    model = Sequential()
    model.add(Dense(HIDDEN[0], activation="relu", input_dim=x_train.shape[1]))
    model.add(Dense(HIDDEN[1], activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer=Adam(lr), metrics=["accuracy"])
    start = time.perf_counter()
    model.fit(x_train, y_train, epochs=epochs, batch_size=batch_size, verbose=0)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test)
    return accuracy, seconds


def digits_sklearn(data, epochs, batch_size, lr, seed):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    (x_train, y_train), (x_test, y_test) = data
    model = MLPClassifier(hidden_layer_sizes=HIDDEN, solver="adam", learning_rate_init=lr, batch_size=batch_size,
                          max_iter=epochs, n_iter_no_change=epochs + 1, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    seconds = time.perf_counter() - start
    return model.score(x_test, y_test), seconds


def digits_torch(data, epochs, batch_size, lr, seed, threads=2):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    (x_train, y_train), (x_test, y_test) = [(torch.from_numpy(x), torch.from_numpy(y)) for x, y in data]
    sizes = (x_train.shape[1], *HIDDEN, 10)
    layers = []
    for index, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        linear = torch.nn.Linear(fan_in, fan_out)
        torch.nn.init.xavier_uniform_(linear.weight)
        torch.nn.init.zeros_(linear.bias)
        layers += [linear, torch.nn.ReLU()] if index < len(sizes) - 2 else [linear]
    model = torch.nn.Sequential(*layers)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    n = len(x_train)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n)
        for begin in range(0, n, batch_size):
            index = order[begin:begin + batch_size]
            optimizer.zero_grad()
            loss_fn(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    return accuracy, seconds


def bench_digits(args):
    data = load_digits()
    runners = {"chainrule": digits_chainrule, "scikit-learn": digits_sklearn}
    try:
        import torch  # noqa: F401
        for threads in args.torch_threads:
            runners[f"PyTorch (CPU, {threads} thread{'s' * (threads > 1)})"] = functools.partial(digits_torch,
                                                                                            threads=threads)
    except ImportError:
        print("PyTorch not installed (.venv/bin/pip install torch==2.13.0): skipping it")
    runs = {name: [] for name in runners}
    for seed in range(args.seeds):  # libraries alternate seed by seed, so they see the same load
        for name, run in runners.items():
            runs[name].append(run(data, args.epochs, args.batch_size, args.lr, seed))
    results = {}
    for name, pairs in runs.items():
        accuracies, seconds = np.array(pairs).T
        results[name] = (accuracies.mean(), accuracies.min(), np.median(seconds), seconds.min())
    base = results["chainrule"][2]
    print(f"\n(a) digits, {HIDDEN[0]}-{HIDDEN[1]} ReLU MLP, Adam(lr={args.lr}), {args.epochs} epochs, "
          f"batch {args.batch_size}, seeds 0..{args.seeds - 1}; load average before: {args.load:.2f}\n")
    print("| library | test accuracy, mean | lowest | training time, median | fastest | median / chainrule's |")
    print("|---|---|---|---|---|---|")
    for name, (mean_accuracy, low_accuracy, median, fastest) in results.items():
        print(f"| {name} | {mean_accuracy:.2%} | {low_accuracy:.2%} | {median:.2f} s | {fastest:.2f} s "
              f"| {median / base:.2f}x |")


# ----- (b) XOR --------------------------------------------------------------------------------
def xor_epochs_to_solve(seed, lr, momentum):
    """Epochs of full-batch SGD until every output is within XOR_TOLERANCE of its target (None if never)."""
    (x, y), _ = load_xor()
    set_random_seed(seed)
    model = Sequential()
    model.add(Dense(2, activation="sigmoid", input_dim=2))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer=SGD(lr, momentum=momentum))
    targets = y.reshape(-1, 1).astype(np.float32)
    for epoch in range(1, XOR_MAX_EPOCHS + 1):
        model.train_on_batch(x, targets)
        outputs = model.predict(x)
        if np.all(np.abs(outputs[:, 0] - y) < XOR_TOLERANCE):
            return epoch, outputs[:, 0]
    return None, outputs[:, 0]


def bench_xor(args):
    settings = [(args.xor_lr, 0.0), (args.xor_lr / 4, 0.9)]
    names = [f"SGD(lr={lr:g}" + (f", momentum={momentum:g})" if momentum else ")") for lr, momentum in settings]
    print(f"\n(b) XOR, 2-2-1 sigmoid network, binary cross-entropy, full-batch SGD: epochs until every output "
          f"is within {XOR_TOLERANCE} of its target (at most {XOR_MAX_EPOCHS})\n")
    print(f"| seed | {' | '.join(names)} | outputs for (0,0), (0,1), (1,0), (1,1) with {names[0]} |")
    print("|---|---|---|---|")
    for seed in range(5):
        solved = [xor_epochs_to_solve(seed, lr, momentum) for lr, momentum in settings]
        counts = [str(epochs) if epochs is not None else "not solved" for epochs, _ in solved]
        print(f"| {seed} | {' | '.join(counts)} | {', '.join(f'{o:.3f}' for o in solved[0][1])} |")


# ----- profile --------------------------------------------------------------------------------
def profile_digits(args):
    """cProfile of one chainrule digits run: the functions with the most own time."""
    data = load_digits()
    profiler = cProfile.Profile()
    profiler.runcall(digits_chainrule, data, args.epochs, args.batch_size, args.lr, 0)
    print(f"\nprofile of one chainrule digits run ({args.epochs} epochs), top 15 by own time:\n")
    pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=0.002)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--torch-threads", type=int, nargs="+", default=[2, 1])
    parser.add_argument("--xor-lr", type=float, default=2.0, help="plain SGD's; with momentum 0.9 a quarter of it")
    parser.add_argument("--profile", action="store_true", help="also profile the chainrule digits run")
    args = parser.parse_args()
    args.load = os.getloadavg()[0]
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}, "
          f"numpy {np.__version__}")
    bench_digits(args)
    bench_xor(args)
    if args.profile:
        profile_digits(args)


if __name__ == "__main__":
    main()
