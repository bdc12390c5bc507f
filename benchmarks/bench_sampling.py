"""Benchmark widenet.sampling: conditional vs direct speed, and peak memory against chunk size.

    .venv/bin/python benchmarks/bench_sampling.py            # full run (a few minutes on 2 cores)
    .venv/bin/python benchmarks/bench_sampling.py --quick    # smaller, for a smoke test

Prints a Markdown section for benchmarks/README.md. Times are medians over repeats (wall clock);
memory is the peak RSS of a fresh process while sampling, above its resident size just before.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

import torch

from widenet import sampling


def inputs(k: int, d: int = 10) -> torch.Tensor:
    return torch.randn(k, d, generator=torch.Generator().manual_seed(0))


def run(method: str, width: int, depth: int, k: int, n: int, chunk: int | None) -> torch.Tensor:
    return sampling.sample_outputs(
        inputs(k), width=width, depth=depth, activation="relu", n_networks=n,
        weight_std=2**0.5, method=method, chunk_size=chunk,
    )


def median_time(method: str, width: int, depth: int, k: int, n: int, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(method, width, depth, k, n, None)
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        line = next(line for line in f if line.startswith(field + ":"))
    return int(line.split()[1]) / 1024  # kB


def measure_child(spec: dict) -> dict:
    """In a fresh process: peak RSS above the resident size before sampling ``spec`` (Linux:
    writing 5 to /proc/self/clear_refs resets the peak VmHWM to the current VmRSS)."""
    x = inputs(spec["k"])
    run(spec["method"], spec["width"], spec["depth"], spec["k"], 1, 1)  # warm-up: lazy inits
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_mib("VmRSS")
    start = time.perf_counter()
    out = run(spec["method"], spec["width"], spec["depth"], spec["k"], spec["n"], spec["chunk"])
    seconds = time.perf_counter() - start
    chunk = spec["chunk"] or sampling.default_chunk_size(
        spec["method"], width=spec["width"], depth=spec["depth"], k=spec["k"], d=x.shape[1]
    )
    return {"peak_mib": _status_mib("VmHWM") - before, "seconds": seconds, "chunk": chunk,
            "output_mib": out.numel() * out.element_size() / 2**20}


def measure(spec: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(spec)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="fewer networks and repeats")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure_child(json.loads(args.child))))
        return

    width, depth, k = 1024, 4, 3
    n = 200 if args.quick else 2000
    repeats = 1 if args.quick else args.repeats
    t_cond, cond_all = median_time("conditional", width, depth, k, n, repeats)
    t_direct, direct_all = median_time("direct", width, depth, k, n, repeats)

    base = dict(width=width, depth=depth, k=k)
    n_big = 2000 if args.quick else 10_000
    specs = [
        dict(base, method="conditional", n=n_big, chunk=250),
        dict(base, method="conditional", n=n_big, chunk=1000),
        dict(base, method="conditional", n=10 * n_big, chunk=1000),
        dict(base, method="conditional", n=n_big, chunk=None),
        dict(base, method="conditional", n=10 * n_big, chunk=None),
        dict(base, method="direct", n=16, chunk=1),
        dict(base, method="direct", n=16, chunk=4),
        dict(base, method="direct", n=64, chunk=4),
        dict(base, method="direct", n=64, chunk=None),
    ]
    rows = [(spec, measure(spec)) for spec in specs]

    print("## Sampling\n")
    command = " ".join(["python", "benchmarks/bench_sampling.py", *sys.argv[1:]])
    print(f"`{command}` on {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, CPU shared with other jobs.\n")
    print(f"Speed: width {width}, depth {depth}, k = {k} inputs, relu, {n} networks, default chunks, "
          f"median of {repeats} (all runs in seconds).\n")
    print("| method | median s | runs s | networks/s |\n| --- | --- | --- | --- |")
    for name, t, all_t in (("conditional", t_cond, cond_all), ("direct", t_direct, direct_all)):
        print(f"| {name} | {t:.3f} | {', '.join(f'{x:.2f}' for x in all_t)} | {n / t:,.0f} |")
    print(f"\n**conditional is {t_direct / t_cond:.0f}× faster than direct** (target ≥ 20×).\n")
    print("Memory: peak RSS of a fresh process while sampling, above its size just before "
          "(width 1024, depth 4, k = 3, float32).\n")
    print("| method | networks | chunk | peak RSS growth MiB | output MiB | seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    for spec, res in rows:
        chunk = f"{res['chunk']}" + (" (default)" if spec["chunk"] is None else "")
        print(f"| {spec['method']} | {spec['n']:,} | {chunk} | {res['peak_mib']:.0f} "
              f"| {res['output_mib']:.2f} | {res['seconds']:.2f} |")


if __name__ == "__main__":
    main()
