"""Choose the MNIST-1D training recipe on validation folds, never on the test set.

Every candidate recipe (the product of the ``--schedule``, ``--weight-decay`` and
``--dropout`` values given) of every model in ``--models`` is trained by
``benchmarks/mnist1d.py --single`` for each seed in ``range(--seeds)`` and each of the 4
validation folds (the training set without one quarter; accuracy on that quarter), in
``--jobs`` processes at a time. The table lists each candidate's mean validation
accuracy and its standard error over the runs, best first. Timing is not measured
here, so running jobs side by side is fine.

    python benchmarks/mnist1d_search.py --models mlp --schedule constant cosine \
        --weight-decay 0 0.1 --dropout 0 0.2 [--seeds 2] [--frameworks chainrule pytorch] [--jobs 2]
"""
import argparse
import importlib.util
import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def _benchmark_module():
    """benchmarks/mnist1d.py, loaded under another name (``mnist1d`` is the dataset package's)."""
    spec = importlib.util.spec_from_file_location("mnist1d_benchmark", Path(__file__).with_name("mnist1d.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mnist1d = _benchmark_module()


def validation_accuracy(kind, framework, recipe, seed, fold, steps):
    """One run's accuracy on validation fold ``fold``, through the benchmark's own fresh-process runner
    (chainrule's BLAS and PyTorch on 1 thread each)."""
    schedule, weight_decay, dropout = recipe
    args = mnist1d.parser().parse_args(["--steps", str(steps), "--validation-fold", str(fold), "--schedule", schedule,
                                        "--weight-decay", str(weight_decay), "--dropout", str(dropout),
                                        "--torch-threads", "1", "--chainrule-threads", "1"])
    return mnist1d.run_in_fresh_process(kind, framework, seed, args)["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", required=True, choices=("logistic", "mlp", "cnn", "gru"))
    parser.add_argument("--schedule", nargs="+", default=["constant"], choices=("constant", "cosine"))
    parser.add_argument("--weight-decay", nargs="+", type=float, default=[0.0])
    parser.add_argument("--dropout", nargs="+", type=float, default=[0.0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--frameworks", nargs="+", default=["chainrule"], choices=("chainrule", "pytorch"))
    parser.add_argument("--steps", type=int, default=8000)
    parser.add_argument("--jobs", type=int, default=2, help="runs at a time")
    args = parser.parse_args()

    recipes = list(itertools.product(args.schedule, args.weight_decay, args.dropout))
    runs = [(kind, framework, recipe, seed, fold) for kind in args.models for recipe in recipes
            for framework in args.frameworks for seed in range(args.seeds) for fold in range(mnist1d.FOLDS)]
    with ThreadPoolExecutor(args.jobs) as pool:
        accuracies = list(pool.map(lambda run: validation_accuracy(*run, args.steps), runs))

    by_candidate = {}
    for (kind, framework, recipe, _, _), accuracy in zip(runs, accuracies):
        by_candidate.setdefault((kind, framework, recipe), []).append(accuracy)
    print(f"Validation accuracy, mean over {args.seeds} seeds x {mnist1d.FOLDS} folds (3,000 training / 1,000 held-out "
          f"sequences), {args.steps} (+1) steps\n")
    print("| model | framework | schedule | weight decay | dropout | validation accuracy | standard error |")
    print("|---|---|---|---|---|---|---|")
    ranked = sorted(by_candidate.items(), key=lambda item: (item[0][0], item[0][1], -np.mean(item[1])))
    for (kind, framework, (schedule, weight_decay, dropout)), values in ranked:
        error = np.std(values, ddof=1) / np.sqrt(len(values))
        print(f"| {kind} | {framework} | {schedule} | {weight_decay:g} | {dropout:g} | {np.mean(values):.2f}% "
              f"| {error:.2f} |")


if __name__ == "__main__":
    main()
