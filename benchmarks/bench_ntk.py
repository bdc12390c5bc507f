"""Empirical NTK timings: widenet.tangents' methods against a per-sample autograd loop and,
optionally, neural-tangents (JAX; see bench_ntk_jax.py).  Run on demand, not a test:

    .venv/bin/python benchmarks/bench_ntk.py [--jax-json benchmarks/ntk_jax.json] [--json out.json]

Problem (defaults): depth-3, width-1024 relu MLP in NTK parameterization, 64 inputs in R^32,
float32, CPU.  Reports the median wall time of repeats after warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from typing import Callable

import torch

from widenet.models import MLP
from widenet.tangents import empirical_ntk

JAX_REFERENCE_MS = 31.0  # neural-tangents structured derivatives, measured by the team on this CPU kind


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    """Median wall time of ``fn()`` over ``repeats`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def autograd_loop_ntk(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The baseline: one torch.autograd.grad per sample, then the Gram of the stacked gradients."""
    params = list(model.parameters())
    rows = [torch.cat([g.flatten() for g in torch.autograd.grad(model(xi[None]).sum(), params)]) for xi in x]
    jac = torch.stack(rows)
    return jac @ jac.T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=50, help="repeats of the structured method")
    parser.add_argument("--slow-repeats", type=int, default=5, help="repeats of the other methods")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    parser.add_argument("--jax-json", help="results of bench_ntk_jax.py to compare against")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    generator = torch.Generator().manual_seed(0)
    model = MLP(args.dim, args.width, args.depth, activation="relu", parameterization="ntk", generator=generator)
    x = torch.randn(args.n, args.dim, generator=generator)
    runs = {
        "structured": (lambda: empirical_ntk(model, x, method="structured"), args.repeats),
        "jacobian": (lambda: empirical_ntk(model, x, method="jacobian"), args.slow_repeats),
        "ntvp": (lambda: empirical_ntk(model, x, method="ntvp"), args.slow_repeats),
        "autograd_loop": (lambda: autograd_loop_ntk(model, x), args.slow_repeats),
    }
    reference = autograd_loop_ntk(model, x)
    results = {}
    for name, (fn, repeats) in runs.items():
        error = float((fn() - reference).abs().max() / reference.abs().max())
        results[name] = {"ms": 1e3 * median_seconds(fn, repeats), "rel_err_vs_loop": error}

    jax_ms, jax_source = JAX_REFERENCE_MS, "team reference"
    if args.jax_json:
        with open(args.jax_json) as f:
            jax_ms, jax_source = json.load(f)["results"]["nt_structured"]["ms"], args.jax_json
    structured = results["structured"]["ms"]
    checks = {
        "loop / structured >= 10": results["autograd_loop"]["ms"] / structured,
        "neural-tangents / structured >= 2": jax_ms / structured,
    }

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} CPUs, "
          f"{platform.processor() or platform.machine()}, load avg {os.getloadavg()[0]:.2f}")
    print(f"{'method':<16}{'ms':>10}{'rel. err':>12}")
    for name, row in results.items():
        print(f"{name:<16}{row['ms']:>10.2f}{row['rel_err_vs_loop']:>12.1e}")
    print(f"{'neural-tangents':<16}{jax_ms:>10.2f}   ({jax_source})")
    for name, ratio in checks.items():
        print(f"{name}: {ratio:.1f}")
    if args.json:
        meta = {"torch": torch.__version__, "threads": torch.get_num_threads(), **vars(args)}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results, "neural_tangents_ms": jax_ms, "ratios": checks}, f, indent=2)


if __name__ == "__main__":
    main()
