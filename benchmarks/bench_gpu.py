"""GPU path check and paper-profile timings (run on a CUDA machine; results in benchmarks/README.md).

Runs paper-grid cells through ``widenet.cells.run_cell`` (the code the Snakemake jobs run) with
``device="auto"``, checks that it picked CUDA, times them, and compares the fitted quantity with a CPU
run of a smaller cell (different random streams per device, so agreement is statistical).

    python benchmarks/bench_gpu.py [--profile paper] [--out results.json]

No GPU was lent to the sessions so far: the script has only been run with ``--profile quick`` on CPU
(``device=auto`` then picks the CPU), which checks the code path, not GPU timings.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from widenet import cells, config
from widenet.models import MLP
from widenet.tangents import empirical_ntk

ROOT = Path(__file__).resolve().parents[1]


def largest_cells(profile: str, exp_id: str, count: int) -> list[dict]:
    """The ``count`` last (largest) cells of an experiment's grid under ``profile``."""
    cfg = config.compose([f"profile={profile}"], conf_dir=ROOT / "conf")
    return list(config.cells(cfg, exp_id).values())[-count:]


def timed_cell(cfg: dict, device: str, datasets: dict | None = None):
    start = time.perf_counter()
    ds = cells.run_cell(cfg, device=device, datasets=datasets)
    return ds, time.perf_counter() - start


def ntk_timing(device: str, repeats: int = 50) -> float:
    model = MLP(32, 1024, 3, activation="relu", dtype=torch.float32, device=device)
    x = torch.randn(64, 32, device=device)
    for _ in range(5):
        empirical_ntk(model, x)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        empirical_ntk(model, x)
    if device == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=None)
    parser.add_argument("--profile", default="paper")
    parser.add_argument("--datasets-dir", default="/tmp/widenet-datasets")
    args = parser.parse_args()
    results = {"torch": torch.__version__, "cuda": torch.cuda.is_available(),
               "device_name": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
               "auto_device": str(cells.resolve_device("auto"))}
    print(results, flush=True)

    from widenet import datasets, store

    cfg = config.compose(conf_dir=ROOT / "conf")
    Path(args.datasets_dir).mkdir(parents=True, exist_ok=True)
    sphere = store.write(datasets.make("sphere-16x10", cfg["datasets"]["sphere-16x10"]),
                         Path(args.datasets_dir) / "sphere-16x10.nc")
    inputs = {"sphere-16x10": sphere}

    rows = []
    for exp_id, count in [("ntk-convergence", 3), ("random-features-kernel", 2)]:
        for cell_cfg in largest_cells(args.profile, exp_id, count):
            ds, wall = timed_cell(cell_cfg, "auto", inputs)
            error = ds.rel_error if "rel_error" in ds else ds.sup_error
            rows.append({"experiment": exp_id, "cell": cell_cfg["cell"], "device": ds.attrs["device"],
                         "wall_s": round(wall, 2), "mean_error": float(error.mean())})
            print(rows[-1], flush=True)
    # CPU vs the auto device on one smaller cell: the same law, different random streams
    small = largest_cells("quick", "ntk-convergence", 1)[0]
    for device in ["cpu", "auto"]:
        ds, wall = timed_cell(small, device, inputs)
        rows.append({"experiment": "ntk-convergence", "cell": small["cell"], "device": ds.attrs["device"],
                     "wall_s": round(wall, 2), "mean_error": float(ds.rel_error.mean()),
                     "se": float(ds.rel_error.std() / ds.rel_error.size ** 0.5)})
        print(rows[-1], flush=True)
    results["cells"] = rows
    results["empirical_ntk_ms"] = {d: round(ntk_timing(d), 3) for d in (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])}
    print(results["empirical_ntk_ms"], flush=True)
    try:
        from widenet import sampling

        x = torch.nn.functional.normalize(torch.randn(3, 10), dim=1)
        n_networks = 10_000 if torch.cuda.is_available() else 200  # A7 paper size on a GPU; a smoke test on CPU
        results["sampling_networks"] = n_networks
        for method in ["conditional", "direct"]:
            start = time.perf_counter()
            out = sampling.sample_outputs(x, width=1024, depth=4, activation="relu", n_networks=n_networks,
                                          weight_std=2**0.5, method=method, seed=0, device=str(cells.resolve_device()))
            if torch.cuda.is_available():
                torch.cuda.synchronize()
            results[f"sampling_{method}_s"] = round(time.perf_counter() - start, 3)
            print(method, results[f"sampling_{method}_s"], tuple(out.shape), flush=True)
    except Exception as err:  # noqa: BLE001 - report and go on: the sampler's API is checked by its own tests
        results["sampling_error"] = repr(err)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
