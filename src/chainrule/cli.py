"""The ``chainrule`` command line.

    chainrule train [--dataset digits|xor|moons|csv:PATH] [--hidden 64,32] [--activation relu]
                    [--optimizer adam] [--lr LR] [--epochs N] [--batch-size N] [--seed N] [--out DIR]
    chainrule predict MODEL CSV [--output FILE]
    chainrule info MODEL

Each subcommand is added by one function in ``SUBCOMMANDS`` that registers its
parser and sets ``run``; a new subcommand is one more function in that list.
Bad arguments or input files print one line on stderr and exit with status 2.
"""
import argparse
import json
import sys
import time
from pathlib import Path

from . import activations, optimizers
from .explain.command import add_explain_command
from .explain.plots import plot_history

EXIT_USAGE = 2
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
    if units is None or any(n <= 0 for n in units):
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
    parser.add_argument("--out", type=Path, default=Path("runs/latest"), help="output folder (default runs/latest)")
    parser.set_defaults(run=run_train)


def run_train(args):
    from . import datasets
    from .layers import Dense
    from .models import Sequential
    from .utils import set_random_seed

    name, path = args.dataset
    settings = dict(TRAIN_DEFAULTS[name])
    settings["hidden"] = hidden_argument(settings["hidden"])
    settings.update({key: getattr(args, key) for key in settings if getattr(args, key) is not None})

    loaders = {"digits": datasets.load_digits, "xor": datasets.load_xor, "moons": datasets.load_moons,
               "csv": lambda: datasets.load_csv(path)}
    (x_train, y_train), (x_test, y_test) = loaders[name]()
    classes = int(max(y_train.max(), y_test.max())) + 1
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
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {test_accuracy:.4f}  (test loss {test_loss:.4f}, trained in {seconds:.1f} s)")

    args.out.mkdir(parents=True, exist_ok=True)
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
    from .saving import printable

    model = load_model(str(args.model))
    model.summary(print_fn=lambda text: print(printable(text)))
    print("config:")
    print(json.dumps(model.get_config(), indent=2))
    metrics_path = args.model.parent / "metrics.json"
    if metrics_path.exists():
        metrics = json.loads(metrics_path.read_text())
        metrics.pop("history", None)
        print("metrics:")
        print(json.dumps(metrics, indent=2))


# ----- entry point ---------------------------------------------------------------------------------
SUBCOMMANDS = [add_train_command, add_predict_command, add_info_command, add_explain_command]


def build_parser():
    parser = argparse.ArgumentParser(prog="chainrule", description="Backpropagation on NumPy: train, inspect, explain.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in SUBCOMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    """Run the command line; return the exit status (0, or 2 for bad arguments or input)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except (ValueError, TypeError, OSError) as error:
        print(f"chainrule {args.command}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    return status or 0


if __name__ == "__main__":
    sys.exit(main())
