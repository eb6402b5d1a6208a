"""Per-op overhead of recording and backpropagating, chainrule beside PyTorch CPU.

For small tensors the arithmetic is negligible and the time per op is the
framework's bookkeeping: building the node in forward, visiting it in backward.
Each workload builds a chain of ``--ops`` recorded ops on an n x n tensor, sums
it and calls backward; the figure is (forward + backward time) / ops, the best
of ``--repeats`` runs (alternating the two frameworks), in microseconds.

    python benchmarks/bench_overhead.py [--ops 300] [--repeats 30] [--sizes 4 32] [--torch-threads 2]
"""
import argparse
import platform
import time

import numpy as np

import chainrule as cr
import chainrule.functional as F


def chainrule_workloads(n, rng):
    W = cr.Tensor(rng.standard_normal((n, n)) / np.sqrt(n), requires_grad=True)
    b = cr.Tensor(rng.standard_normal(n) * 0.1, requires_grad=True)
    c = cr.Tensor(np.full((n, n), 0.5), requires_grad=True)
    return {
        "elementwise (+ * - /)": [lambda y: y + b, lambda y: y * c, lambda y: y - b, lambda y: y / 1.5],
        "matmul + tanh": [lambda y: y @ W, F.tanh],
        "dense (linear, relu)": [lambda y: F.linear(y, W, b), F.relu],
    }, lambda: cr.Tensor(rng.standard_normal((n, n)), requires_grad=True), lambda y: y.sum().backward()


def torch_workloads(n, rng, torch):
    kernel = rng.standard_normal((n, n)) / np.sqrt(n)
    W = torch.tensor(kernel, requires_grad=True)
    W_out_in = torch.tensor(kernel.T.copy(), requires_grad=True)  # torch's linear takes (out, in)
    b = torch.tensor(rng.standard_normal(n) * 0.1, requires_grad=True)
    c = torch.tensor(np.full((n, n), 0.5), requires_grad=True)
    linear = torch.nn.functional.linear
    return {
        "elementwise (+ * - /)": [lambda y: y + b, lambda y: y * c, lambda y: y - b, lambda y: y / 1.5],
        "matmul + tanh": [lambda y: y @ W, torch.tanh],
        "dense (linear, relu)": [lambda y: linear(y, W_out_in, b), torch.relu],
    }, lambda: torch.tensor(rng.standard_normal((n, n)), requires_grad=True), lambda y: y.sum().backward()


def run_once(steps, make_input, finish, ops):
    """Seconds to record ``ops`` ops from a fresh input, sum, and backpropagate."""
    x = make_input()
    start = time.perf_counter()
    y = x
    for i in range(ops):
        y = steps[i % len(steps)](y)
    finish(y)
    return time.perf_counter() - start


def microseconds_per_op(ours, theirs, ops, repeats):
    """Best time per op over ``repeats`` runs of each framework, alternating so that
    both see the same machine load; ops + 2 counts the final sum and the backward seed."""
    best_ours = best_theirs = float("inf")
    for _ in range(repeats):
        best_ours = min(best_ours, run_once(*ours, ops))
        best_theirs = min(best_theirs, run_once(*theirs, ops))
    return best_ours / (ops + 2) * 1e6, best_theirs / (ops + 2) * 1e6


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 32])
    parser.add_argument("--torch-threads", type=int, default=2)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.torch_threads)
    print(f"chainrule {cr.__version__}, NumPy {np.__version__}, PyTorch {torch.__version__} "
          f"(CPU, {args.torch_threads} threads), "
          f"Python {platform.python_version()}, {platform.machine()}; float64, chains of {args.ops} ops, "
          f"best of {args.repeats}")
    header = f"{'workload':<24}{'n x n':>7}{'chainrule us/op':>17}{'PyTorch us/op':>15}{'ratio':>8}"
    print(header)
    print("-" * len(header))
    for n in args.sizes:
        ours, our_input, our_finish = chainrule_workloads(n, np.random.default_rng(0))
        theirs, their_input, their_finish = torch_workloads(n, np.random.default_rng(0), torch)
        for name in ours:
            t_ours, t_theirs = microseconds_per_op((ours[name], our_input, our_finish),
                                                   (theirs[name], their_input, their_finish), args.ops, args.repeats)
            print(f"{name:<24}{n:>7}{t_ours:>17.2f}{t_theirs:>15.2f}{t_ours / t_theirs:>8.2f}")


if __name__ == "__main__":
    main()
