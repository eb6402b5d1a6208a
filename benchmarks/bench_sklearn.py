"""chainrule.sklearn's MLPClassifier / MLPRegressor beside scikit-learn's, same parameters and seed.

Data sets shipped with scikit-learn: digits and breast cancer (classification, accuracy), California
housing (regression, R^2) when it is cached locally, else the diabetes set (nothing is downloaded). Each is
split 80/20 (stratified for classes, seed 0) and standardised on the training part. For each solver (adam,
sgd, lbfgs) both libraries fit ``hidden_layer_sizes=(100,)`` with their other defaults and
``random_state=seed``, the two alternating run by run (which goes first alternates too) so they see the same
load; BLAS runs on one thread for both (the sandbox's two cores are shared). Reported: test score of each
(mean over seeds), median fit time of each and the ratio scikit-learn / chainrule (above 1: chainrule faster).

    python benchmarks/bench_sklearn.py [--seeds 3] [--max-iter 200]
"""
import argparse
import platform
import time
import warnings

import numpy as np
import scipy
import sklearn
from sklearn import datasets, neural_network
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import chainrule
from chainrule import sklearn as chainrule_sklearn


def load(name):
    if name == "digits":
        return datasets.load_digits(return_X_y=True), True
    if name == "breast_cancer":
        return datasets.load_breast_cancer(return_X_y=True), True
    try:
        return datasets.fetch_california_housing(return_X_y=True, download_if_missing=False), False
    except OSError:
        return datasets.load_diabetes(return_X_y=True), False


def split(X, y, classification):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0,
                                                        stratify=y if classification else None)
    scaler = StandardScaler().fit(X_train)
    if not classification:
        y_mean, y_std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - y_mean) / y_std, (y_test - y_mean) / y_std
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def timed_fit(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=200)
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, NumPy {np.__version__}, SciPy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, chainrule {chainrule.__version__}; {platform.machine()} "
          f"{platform.processor() or ''}; BLAS threads 1; seeds 0..{args.seeds - 1}, max_iter {args.max_iter}")
    print("| data set | solver | scikit-learn score | chainrule score | scikit-learn fit s | chainrule fit s "
          "| ratio | epochs (sk / cr) |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    with threadpool_limits(1):
        for name in ("digits", "breast_cancer", "california_housing"):
            (X, y), classification = load(name)
            if not classification and len(X) < 1000:
                name = "diabetes (California housing not cached)"
            X_train, X_test, y_train, y_test = split(X, y, classification)
            kind = "MLPClassifier" if classification else "MLPRegressor"
            for solver in ("adam", "sgd", "lbfgs"):
                results = {"sk": [], "cr": []}
                for seed in range(args.seeds):
                    params = dict(hidden_layer_sizes=(100,), solver=solver, random_state=seed, max_iter=args.max_iter)
                    order = ("sk", "cr") if seed % 2 == 0 else ("cr", "sk")
                    for library in order:
                        module = neural_network if library == "sk" else chainrule_sklearn
                        estimator = getattr(module, kind)(**params)
                        seconds = timed_fit(estimator, X_train, y_train)
                        results[library].append((estimator.score(X_test, y_test), seconds, estimator.n_iter_))
                sk, cr = (np.array(results[key]) for key in ("sk", "cr"))
                ratio = np.median(sk[:, 1]) / np.median(cr[:, 1])
                print(f"| {name} | {solver} | {100 * sk[:, 0].mean():.2f} | {100 * cr[:, 0].mean():.2f} | "
                      f"{np.median(sk[:, 1]):.3f} | {np.median(cr[:, 1]):.3f} | {ratio:.2f}x | "
                      f"{'/'.join(str(int(n)) for n in sk[:, 2])} / {'/'.join(str(int(n)) for n in cr[:, 2])} |",
                      flush=True)


if __name__ == "__main__":
    main()
