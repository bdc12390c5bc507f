"""Exact ReLU region counting: timings of widenet.regions.  Run on demand, not a test:

    .venv/bin/python benchmarks/bench_regions.py [--threads 1] [--json out.json]

Problem (defaults): random relu net as in Hanin eq. 4.0.1, N₀ = 2, hidden widths 171, 171, 170
(512 neurons), float64, CPU. (i) exact 2-D partition of the square [−0.5, 0.5]²; (ii) distinct
activation patterns on a 1000 × 1000 grid of the same square; (iii) exact breakpoint counts on
10³ segments of length 1 with uniform centres in the square and uniform directions.
Reports the median wall time of repeats after one warm-up call.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import time
from typing import Callable

import torch

from widenet.regions import count_breakpoints_1d, count_patterns_grid, partition_2d, random_relu_net

TARGETS_S = {"partition_2d": 2.0, "count_breakpoints_1d": 1.0}


def timed(fn: Callable[[], object], repeats: int) -> tuple[object, float, list[float]]:
    """(result, median seconds, all seconds) of ``fn()`` over ``repeats`` calls after one warm-up."""
    result = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return result, statistics.median(times), times


def segments(n: int, half_width: float, length: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n segments of the given length, centres uniform in the square, directions uniform."""
    g = torch.Generator().manual_seed(seed)
    centres = (2 * torch.rand(n, 2, generator=g, dtype=torch.float64) - 1) * half_width
    angle = 2 * math.pi * torch.rand(n, generator=g, dtype=torch.float64)
    half = 0.5 * length * torch.stack([angle.cos(), angle.sin()], 1)
    return centres - half, centres + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[171, 171, 170])
    parser.add_argument("--half-width", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resolution", type=int, default=1000)
    parser.add_argument("--segments", type=int, default=1000)
    parser.add_argument("--length", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--grid-repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    weights, biases = random_relu_net(2, args.widths, generator=torch.Generator().manual_seed(args.seed))
    origin, basis, h = torch.zeros(2, dtype=torch.float64), torch.eye(2, dtype=torch.float64), args.half_width
    starts, ends = segments(args.segments, h, args.length, args.seed)

    part, t_exact, all_exact = timed(lambda: partition_2d(weights, biases, origin, basis, h), args.repeats)
    grid, t_grid, all_grid = timed(lambda: count_patterns_grid(weights, biases, origin, basis, h, args.resolution), args.grid_repeats)
    counts, t_1d, all_1d = timed(lambda: count_breakpoints_1d(weights, biases, starts, ends), args.repeats)

    results = {
        "widths": args.widths,
        "half_width": h,
        "threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "partition_2d": {"seconds": t_exact, "all": all_exact, "n_regions": part.n_regions, "nodal_length": part.nodal_length},
        "count_patterns_grid": {"seconds": t_grid, "all": all_grid, "resolution": args.resolution, "n_patterns": grid},
        "count_breakpoints_1d": {
            "seconds": t_1d,
            "all": all_1d,
            "segments": args.segments,
            "length": args.length,
            "mean_breakpoints": counts.double().mean().item(),
        },
    }
    print(f"net: N0 = 2, widths {args.widths}, square [-{h}, {h}]^2, threads {results['threads']}, load {results['load_average']}")
    print(f"exact partition   : {t_exact:7.3f} s  {part.n_regions} regions, nodal length {part.nodal_length:.3f}")
    print(f"grid {args.resolution}x{args.resolution}   : {t_grid:7.3f} s  {grid} patterns ({grid / part.n_regions:.1%} of exact)")
    print(f"1-D, {args.segments} segments: {t_1d:7.3f} s  {counts.double().mean().item():.1f} breakpoints per segment of length {args.length}")
    for name, target in TARGETS_S.items():
        seconds = results[name]["seconds"]
        print(f"{name}: {seconds:.3f} s vs target {target} s: {'met' if seconds <= target else 'MISSED'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
