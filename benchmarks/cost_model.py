"""Predicted scaling of data-parallel training past one machine, from the ring-allreduce cost model:

    time per step(N) = compute / N + 2 (N - 1) / N * P / bandwidth + 2 (N - 1) * latency

(P: the bytes of the gradient buffer, one Allreduce per step), and the scaling efficiency
E(N) = time(1) / (N * time(N)). ``compute`` is one process's time per step, measured here; latency
and bandwidth are measured over shared memory (benchmarks/bench_distributed.py) or taken from
published figures for the networks below.

    python benchmarks/cost_model.py --compute-ms 6.2 --parameters 235146 [--shm-latency-us 4.5 --shm-gbps 0.75]
"""
import argparse

# (name, one-way latency in seconds, bandwidth in bytes per second): typical published figures
NETWORKS = [
    ("25 Gb/s Ethernet (TCP)", 25e-6, 25e9 / 8 * 0.9),
    ("100 Gb/s Ethernet (RoCE)", 5e-6, 100e9 / 8 * 0.9),
    ("InfiniBand EDR 100 Gb/s", 1.5e-6, 100e9 / 8 * 0.95),
    ("InfiniBand HDR 200 Gb/s", 1.0e-6, 200e9 / 8 * 0.95),
]
NODES = [2, 4, 8, 16, 32, 64]


def step_time(compute, nodes, nbytes, latency, bandwidth):
    if nodes == 1:
        return compute
    return compute / nodes + 2 * (nodes - 1) / nodes * nbytes / bandwidth + 2 * (nodes - 1) * latency


def efficiency(compute, nodes, nbytes, latency, bandwidth):
    return compute / (nodes * step_time(compute, nodes, nbytes, latency, bandwidth))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compute-ms", type=float, required=True, help="one process's time per step (ms)")
    parser.add_argument("--parameters", type=int, required=True)
    parser.add_argument("--bytes-per-parameter", type=int, default=4)
    parser.add_argument("--shm-latency-us", type=float)
    parser.add_argument("--shm-gbps", type=float, help="measured shared-memory Allreduce bandwidth, GB/s")
    args = parser.parse_args()
    compute, nbytes = args.compute_ms / 1e3, args.parameters * args.bytes_per_parameter
    networks = list(NETWORKS)
    if args.shm_latency_us is not None and args.shm_gbps is not None:
        networks.insert(0, ("shared memory, measured here", args.shm_latency_us / 1e6, args.shm_gbps * 1e9))
    print(f"compute {args.compute_ms} ms/step, gradient buffer {nbytes / 1e6:.2f} MB")
    print("| network | " + " | ".join(f"N={n}" for n in NODES) + " |")
    print("|---|" + "---:|" * len(NODES))
    for name, latency, bandwidth in networks:
        cells = [f"{efficiency(compute, n, nbytes, latency, bandwidth):.0%}" for n in NODES]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
