"""Benchmarks of widenet.training (run on demand; results in benchmarks/README.md).

    python benchmarks/bench_training.py ensemble        # 8 networks in one call vs 8 calls (CPU, 1 thread)
    python benchmarks/bench_training.py quick           # compute time of the four quick training experiments
    python benchmarks/bench_training.py gpu             # CUDA vs CPU float64, and B3's paper cells on the GPU

Timings are the best of ``--repeat`` runs after one warm-up call; the machine's load average is
printed with them (shared machines make single runs noisy).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from widenet.models import MLP
from widenet.training import gradient_descent


def _best(fn, repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def ensemble(width: int, steps: int, repeat: int, dtype=torch.float64, n_networks: int = 8) -> dict:
    """One call on an ensemble of ``n_networks`` vs one call per network (depth 2, 8 inputs, tanh)."""
    gen = torch.Generator().manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(8, 8, generator=gen, dtype=dtype), dim=1)
    y = torch.randn(8, generator=gen, dtype=dtype)
    model = MLP(8, width, 2, activation="tanh", dtype=dtype)
    params = model.sample_parameters(n_networks, gen)
    singles = [{k: v[i] for k, v in params.items()} for i in range(n_networks)]
    kw = dict(lr=0.1, steps=steps, loss="mean")
    together = _best(lambda: gradient_descent(model, x, y, params=params, **kw), repeat)
    one_by_one = _best(lambda: [gradient_descent(model, x, y, params=p, **kw) for p in singles], repeat)
    return {"width": width, "steps": steps, "dtype": str(dtype).removeprefix("torch."), "ensemble_s": together,
            "loop_s": one_by_one, "speedup": one_by_one / together}


def quick() -> None:
    """Cell compute time (sum of cell_wall_time_s) of the quick profile of B1–B4, in-process on the CPU."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import run_experiment  # the same code the Snakemake jobs run

    import tempfile

    total = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for exp in ("implicit-bias", "regimes", "linearization", "pz-figure-11-3"):
            ds = run_experiment(exp, Path(tmp))
            cells = float(ds.cell_wall_time_s.sum())
            total += cells
            print(f"{exp:16s} {ds.cell_wall_time_s.size:3d} cells {cells:7.2f} s", flush=True)
    print(f"{'total':16s}     {total:7.2f} s  (load average {os.getloadavg()[0]:.2f})")


def gpu(repeat: int) -> None:
    """CUDA float64 equals CPU float64 on one B3-like run; B3's paper cells timed on the GPU."""
    if not torch.cuda.is_available():
        print("no CUDA device")
        return
    gen = torch.Generator().manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(16, 10, generator=gen, dtype=torch.float64), dim=1)
    y = torch.sin(x[:, 0])
    model = MLP(10, 1024, 2, activation="erf", bias_std=1.0, dtype=torch.float64)
    params = model.sample_parameters(4, gen)
    runs = {}
    for device in ("cpu", "cuda"):
        m = MLP(10, 1024, 2, activation="erf", bias_std=1.0, dtype=torch.float64, device=device)
        p = {k: v.to(device) for k, v in params.items()}
        for linearized in (False, True):
            runs[device, linearized] = gradient_descent(m, x.to(device), y.to(device), lr=0.25, steps=100, params=p,
                                                        linearized=linearized)
    for linearized in (False, True):
        a, b = runs["cpu", linearized], runs["cuda", linearized]
        gap = max(float((a.params[k] - b.params[k].cpu()).abs().max()) for k in a.params)
        print(f"linearized={linearized}: max |θ_cpu − θ_cuda| = {gap:.2e}, loss {float(a.loss[:, -1].max()):.3e} "
              f"vs {float(b.loss[:, -1].max()):.3e}")
    print(ensemble_table([ensemble_cuda(w, 100, repeat) for w in (1024, 4096, 8192)]))


def ensemble_cuda(width: int, steps: int, repeat: int) -> dict:
    """B3's widest cells: 5 networks, depth 3, 16 inputs, float32, network and linearization, on CUDA."""
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(16, 10, generator=gen, device="cuda"), dim=1)
    y = torch.sin(x[:, 0])
    model = MLP(10, width, 3, activation="erf", bias_std=1.0, device="cuda")
    params = model.sample_parameters(5, gen)
    kw = dict(lr=0.25, steps=steps, params=params, record_every=5, checkpoint_every=steps // 4, x_test=x[:8])
    net = _best(lambda: gradient_descent(model, x, y, **kw), repeat)
    lin = _best(lambda: gradient_descent(model, x, y, linearized=True, **kw), repeat)
    return {"width": width, "steps": steps, "network_s": net, "linearized_s": lin}


def ensemble_table(rows: list[dict]) -> str:
    keys = list(rows[0])
    lines = [" | ".join(keys), " | ".join("---" for _ in keys)]
    lines += [" | ".join(f"{r[k]:.3f}" if isinstance(r[k], float) else str(r[k]) for k in keys) for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["ensemble", "quick", "gpu"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.what == "ensemble":
        rows = [ensemble(128, 100, args.repeat), ensemble(128, 100, args.repeat, torch.float32),
                ensemble(4096, 5, args.repeat), ensemble(4096, 5, args.repeat, torch.float32)]
        print(ensemble_table(rows))
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    elif args.what == "quick":
        quick()
    else:
        gpu(args.repeat)


if __name__ == "__main__":
    main()
