"""The ``chainrule`` command line.

    chainrule train [--dataset digits|xor|moons|csv:PATH] [--hidden 64,32] [--activation relu]
                    [--optimizer adam] [--lr LR] [--epochs N] [--batch-size N] [--seed N] [--out DIR]
    chainrule predict MODEL CSV [--output FILE]
    chainrule info MODEL

Each subcommand is added by one function in ``SUBCOMMANDS`` that registers its
parser and sets ``run``; a new subcommand is one more function in that list.
Every error is one line on stderr, never a traceback: exit status 2 for a bad argument (a bad
option, a missing file, an unusable --out), 1 for bad data (a CSV row, a label, a model file).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import activations, optimizers
from .explain.command import add_explain_command
from .explain.plots import plot_history
from .saving import printable

EXIT_USAGE = 2
EXIT_DATA = 1
DATASET_NAMES = ("digits", "xor", "moons", "csv:PATH")

# Settings that suit each dataset, used where the command line leaves one out.
TRAIN_DEFAULTS = {
    "digits": {"hidden": "64,32", "activation": "relu", "optimizer": "adam", "lr": None, "epochs": 30, "batch_size": 32},
    "xor": {"hidden": "4", "activation": "tanh", "optimizer": "adam", "lr": 0.05, "epochs": 300, "batch_size": 4},
    "moons": {"hidden": "16,16", "activation": "relu", "optimizer": "adam", "lr": 0.01, "epochs": 60, "batch_size": 32},
    "csv": {"hidden": "64,32", "activation": "relu", "optimizer": "adam", "lr": None, "epochs": 50, "batch_size": 32},
}


# ----- argument types (argparse turns their errors into a usage message and exit 2) ------------
def dataset_argument(text):
    name, _, path = text.partition(":")
    if name == "csv" and path:
        return ("csv", path)
    if name in TRAIN_DEFAULTS and name != "csv" and not path:
        return (name, None)
    raise argparse.ArgumentTypeError(f"expected one of {', '.join(DATASET_NAMES)}, got {text!r}")


def hidden_argument(text):
    try:
        units = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        units = None
    if not units or any(n <= 0 for n in units):
        raise argparse.ArgumentTypeError(f"expected comma-separated positive ints such as 64,32, got {text!r}")
    return units


def known_name(registry):
    """An argument type accepting the names ``registry.get`` knows (its error lists them)."""
    def parse(name):
        try:
            registry.get(name)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None
        return name
    return parse


def int_at_least(minimum):
    """An argument type accepting ints >= ``minimum``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {text!r}")
        return value
    return parse


def non_negative_float(text):
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


# ----- train ---------------------------------------------------------------------------------------
def add_train_command(subparsers):
    parser = subparsers.add_parser("train", help="train a multilayer perceptron classifier and save it",
                                   description="Train an MLP classifier; write model.safetensors, curves.png and "
                                               "metrics.json to --out. Left-out settings take per-dataset defaults.")
    parser.add_argument("--dataset", type=dataset_argument, default=("digits", None),
                        help="digits (scikit-learn's 8x8 digits, the default), xor, moons, or csv:PATH "
                             "(numeric features, int label 0..k-1 in the last column)")
    parser.add_argument("--hidden", type=hidden_argument, help="hidden layer sizes, e.g. 64,32")
    parser.add_argument("--activation", type=known_name(activations), help="hidden activation, e.g. relu, tanh, sigmoid")
    parser.add_argument("--optimizer", type=known_name(optimizers), help="sgd, adam, adamw, rmsprop or adagrad")
    parser.add_argument("--lr", type=non_negative_float, help="learning rate (default: the optimizer's)")
    parser.add_argument("--epochs", type=int_at_least(1))
    parser.add_argument("--batch-size", type=int_at_least(1))
    parser.add_argument("--seed", type=int_at_least(0), default=0)
    parser.add_argument("--classes", type=int_at_least(2),
                        help="number of classes (default: the largest label + 1, at most the number of rows)")
    parser.add_argument("--out", type=Path, default=Path("runs/latest"), help="output folder (default runs/latest)")
    parser.set_defaults(run=run_train)


class UsageError(ValueError):
    """A command-line argument that parsed but cannot be used (exit status 2)."""


def writable_folder(path):
    """Create the folder ``path`` (for --out) now, before any work, or raise UsageError."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"argument --out: {str(path)!r} exists and is not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"argument --out: cannot create {str(path)!r}: {error.strerror or error}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise UsageError(f"argument --out: {str(path)!r} is not writable")


def class_count(labels, rows, classes=None):
    """The number of classes of int ``labels`` >= 0: ``classes`` when given (every label below it),
    else the largest label + 1, which may not exceed the ``rows`` of data; at least two must occur."""
    largest = int(labels.max())
    if classes is not None and largest >= classes:
        raise ValueError(f"labels: expected labels in 0..{classes - 1} (--classes {classes}), got {largest}")
    if classes is None and largest + 1 > rows:
        raise ValueError(f"labels: the largest label is {largest}, more classes than the {rows} rows of data; "
                         "give --classes to train on so many classes")
    found = len(set(labels.tolist()))
    if found < 2:
        raise ValueError(f"labels: expected at least two classes, got only {labels[0]} in all {rows} rows")
    return classes or largest + 1


def run_train(args):
    import numpy

    from . import datasets
    from .layers import Dense
    from .models import Sequential
    from .utils import set_random_seed

    name, path = args.dataset
    writable_folder(args.out)
    settings = dict(TRAIN_DEFAULTS[name])
    settings["hidden"] = hidden_argument(settings["hidden"])
    settings.update({key: getattr(args, key) for key in settings if getattr(args, key) is not None})

    loaders = {"digits": datasets.load_digits, "xor": datasets.load_xor, "moons": datasets.load_moons,
               "csv": lambda: datasets.load_csv(path)}
    (x_train, y_train), (x_test, y_test) = loaders[name]()
    labels = numpy.concatenate([y_train, y_test])
    classes = class_count(labels, len(labels), args.classes)
    print(f"dataset {name}: {len(x_train)} training and {len(x_test)} test samples, "
          f"{x_train.shape[1]} features, {classes} classes")

    set_random_seed(args.seed)
    model = Sequential()
    sizes = settings["hidden"] + [classes]
    for index, units in enumerate(sizes):
        activation = "softmax" if index == len(sizes) - 1 else settings["activation"]
        model.add(Dense(units, activation=activation, input_dim=x_train.shape[1] if index == 0 else None))
    optimizer = optimizers.get(settings["optimizer"])
    if settings["lr"] is not None:
        optimizer.learning_rate = settings["lr"]
    model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer, metrics=["accuracy"])

    start = time.perf_counter()
    history = model.fit(x_train, y_train, epochs=settings["epochs"], batch_size=settings["batch_size"],
                        validation_data=(x_test, y_test), verbose=1)
    if model.interrupted:      # fit returned after Ctrl-C: stop here, as the command always has, writing nothing
        raise KeyboardInterrupt
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f}  (test loss {test_loss:.4f}, trained in {seconds:.1f} s)")

    model.save(str(args.out / "model.safetensors"))
    plot_history(history, args.out / "curves.png")
    metrics = {
        "dataset": name if path is None else f"csv:{path}", "test_accuracy": float(test_accuracy),
        "test_loss": float(test_loss), "train_seconds": round(seconds, 3), "classes": classes,
        "train_samples": len(x_train), "test_samples": len(x_test), "seed": args.seed,
        "settings": settings, "history": {key: [float(v) for v in values] for key, values in history.history.items()},
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {args.out / 'model.safetensors'}, {args.out / 'curves.png'}, {args.out / 'metrics.json'}")


# ----- predict -------------------------------------------------------------------------------------
def add_predict_command(subparsers):
    parser = subparsers.add_parser("predict", help="print a saved classifier's predicted class for each CSV row",
                                   description="Predict the class of each row of a CSV of numeric features (a "
                                               "header row is skipped; a trailing label column is ignored).")
    parser.add_argument("model", type=Path, help="a model saved by chainrule (model.safetensors)")
    parser.add_argument("csv", type=Path, help="CSV file, one sample per row")
    parser.add_argument("--output", type=Path, help="write the predictions here, one per line, instead of printing")
    parser.set_defaults(run=run_predict)


def run_predict(args):
    import numpy

    from .datasets import read_csv_rows
    from .models import load_model

    model = load_model(str(args.model))
    x = numpy.array(read_csv_rows(args.csv), dtype=numpy.float32)
    features = model_input_width(model)
    if features is not None and x.shape[1] == features + 1:
        x = x[:, :-1]
    if features is not None and x.shape[1] != features:
        raise ValueError(f"{args.csv}: expected {features} feature columns (or {features + 1} with a label), "
                         f"got {x.shape[1]}")
    outputs = numpy.asarray(model.predict(x, verbose=0))
    labels = outputs.argmax(axis=-1) if outputs.shape[-1] > 1 else (outputs[:, 0] > 0.5).astype(int)
    text = "".join(f"{label}\n" for label in labels.tolist())
    if args.output is None:
        sys.stdout.write(text)
    else:
        args.output.write_text(text)
        print(f"wrote {len(labels)} predictions to {args.output}")


def model_input_width(model):
    """The number of input features of a model whose first layer is Dense, else None
    (the model's own input check then reports a mismatch)."""
    kernel = getattr(model.layers[0], "kernel", None) if model.layers else None
    return None if kernel is None or kernel.ndim != 2 else int(kernel.shape[0])


# ----- info ----------------------------------------------------------------------------------------
def add_info_command(subparsers):
    parser = subparsers.add_parser("info", help="show a saved model's summary, config and metrics",
                                   description="Print the layer summary and JSON config of a saved model, and the "
                                               "metrics.json that `chainrule train` wrote beside it, if any.")
    parser.add_argument("model", type=Path, help="a model saved by chainrule (model.safetensors)")
    parser.set_defaults(run=run_info)


def run_info(args):
    from .models import load_model

    model = load_model(str(args.model))
    model.summary(print_fn=lambda text: print(printable(text)))
    print("config:")
    print(json.dumps(model.get_config(), indent=2))
    metrics_path = args.model.parent / "metrics.json"
    if metrics_path.exists():
        try:
            metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:   # ValueError: JSONDecodeError, UnicodeDecodeError
            metrics = error
        if not isinstance(metrics, dict):
            say(f"chainrule info: warning: {metrics_path} is not a metrics object "
                f"({metrics if isinstance(metrics, Exception) else type(metrics).__name__}); not shown")
            return
        metrics.pop("history", None)
        print("metrics:")
        print(json.dumps(metrics, indent=2))


# ----- entry point ---------------------------------------------------------------------------------
SUBCOMMANDS = [add_train_command, add_predict_command, add_info_command, add_explain_command]


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (pointing to --help) and exit status 2."""

    def error(self, message):
        say(f"{self.prog}: error: {message} (see {self.prog} --help)")
        sys.exit(EXIT_USAGE)


def build_parser():
    parser = OneLineParser(prog="chainrule", description="Backpropagation on NumPy: train, inspect, explain.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in SUBCOMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    """Run the command line; return the exit status: 0, 2 for a bad argument, 1 for bad data."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except (UsageError, FileNotFoundError, IsADirectoryError, NotADirectoryError) as error:
        return report(args.command, error, EXIT_USAGE)
    except (ValueError, TypeError, OSError) as error:
        # explain's option checks raise ValueError("--model needs ..."): a message naming an option is usage
        return report(args.command, error, EXIT_USAGE if str(error).startswith("--") else EXIT_DATA)
    except KeyboardInterrupt:
        return report(args.command, "interrupted", 130)
    except Exception as error:   # noqa: BLE001 - a bug, still reported on one line
        return report(args.command, f"unexpected {type(error).__name__} (a bug; please report it): {error}", EXIT_DATA)
    return status or 0


def report(command, error, status):
    """Print ``error`` as one line on stderr; return ``status``."""
    say(f"chainrule {command}: error: {error}")
    return status


def say(text):
    """Print ``text`` on stderr as one line, text read from files escaped."""
    print(printable(text).replace("\n", " "), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
