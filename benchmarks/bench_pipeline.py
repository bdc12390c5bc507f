"""Pipeline timings (issue 10, point 1), in a temporary copy of the workflow:

1. the quick profile of the given experiments (default: all active) from a clean state: Snakemake
   wall time, core time of everything it started (CPU seconds of all descendant processes, the
   warm worker and its forks included: this script is their child subreaper), the cells' own
   compute (their ``cell_wall_time_s``, summed over cell and training-checkpoint stores), the share of core time outside the cells, the
   job count, and job wall time per rule (from Snakemake's metadata);
2. `snakemake -n` with everything built;
3. all figures rebuilt from the cached stores (figures/ deleted).

    .venv/bin/python benchmarks/bench_pipeline.py [--experiments a,b] [--cores 2] [--no-worker] [--reduced]
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
PR_SET_CHILD_SUBREAPER = 36


def core_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def reap_descendants() -> None:
    """Wait for orphaned descendants (the idle worker) so that their CPU time is counted."""
    while True:
        try:
            os.wait()
        except ChildProcessError:
            return


def timed(cmd: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """(wall s, core s) of ``cmd`` and everything it started."""
    core, start = core_seconds(), time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - start
    reap_descendants()
    return wall, core_seconds() - core


def cell_compute(work: Path) -> tuple[float, int]:
    import xarray as xr

    paths = sorted(work.glob("data/*/cells/*.nc")) + sorted(work.glob("data/*/checkpoints/*.nc"))  # both stages
    total = 0.0
    for path in paths:
        with xr.open_dataset(path) as ds:
            total += float(ds["cell_wall_time_s"].sum())
    return total, len(paths)


def jobs_by_rule(work: Path) -> dict[str, tuple[int, float]]:
    """Rule -> (jobs, summed job wall time) from .snakemake/metadata (one record per output file)."""
    seen, out = set(), defaultdict(lambda: [0, 0.0])
    for path in (work / ".snakemake/metadata").iterdir():
        record = json.loads(path.read_text())
        key = (record["rule"], record.get("shellcmd"))
        if key in seen:  # a figure job has two outputs
            continue
        seen.add(key)
        out[record["rule"]][0] += 1
        out[record["rule"]][1] += record["endtime"] - record["starttime"]
    return {rule: tuple(v) for rule, v in sorted(out.items())}


def reduced_grids(work: Path, overrides: list[str]) -> list[str]:
    """Overrides cutting every grid axis of the active experiments to its first two values."""
    sys.path.insert(0, str(work / "src"))
    from widenet import config

    cfg = config.compose(overrides, conf_dir=work / "conf")
    return [f"experiment.{exp}.grid.{axis}=[{','.join(map(str, values[:2]))}]"
            for exp in cfg["experiments"] for axis, values in cfg["experiment"][exp]["grid"].items()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", default=None, help="comma-separated ids (default: all active)")
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--no-worker", action="store_true", help="one interpreter per job (WIDENET_WORKER=0)")
    parser.add_argument("--reduced", action="store_true", help="every grid axis cut to its first two values "
                        "(as tests/test_pipeline.py's end-to-end test)")
    args = parser.parse_args()
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    env = {**os.environ, "WIDENET_WORKER_IDLE_S": "1", **({"WIDENET_WORKER": "0"} if args.no_worker else {})}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("Snakefile", "conf", "workflow", "profiles", "src", "environment.yml"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, work / name)
        base = [SNAKEMAKE, "--cores", str(args.cores)]
        overrides = [f"experiments=[{args.experiments}]"] if args.experiments else []
        if args.reduced:
            overrides += reduced_grids(work, overrides)
        if overrides:
            base += ["--config", "overrides=[" + ",".join(f'"{o}"' for o in overrides) + "]"]
        wall, core = timed(base, work, env)
        compute, n_cells = cell_compute(work)
        rules = jobs_by_rule(work)
        dry = min(timed(base + ["-n"], work, env)[0] for _ in range(3))
        shutil.rmtree(work / "figures")
        fig_wall, fig_core = timed(base, work, env)
    n_jobs = sum(n for n, _ in rules.values())
    print(f"experiments: {args.experiments or 'all active'}{' (reduced grids)' if args.reduced else ''}; "
          f"--cores {args.cores}; worker: {not args.no_worker}; "
          f"load average at the end: {os.getloadavg()[0]:.1f}")
    print(f"quick profile from a clean state: {wall:6.1f} s wall, {core:6.1f} core-s, {n_jobs} jobs ({n_cells} cell and training stores)")
    print(f"  cells' own compute (cell_wall_time_s summed): {compute:6.1f} s; share of core time outside: "
          f"{1 - compute / core:5.1%}")
    for rule, (n, seconds) in rules.items():
        print(f"  rule {rule:10s} {n:4d} jobs, {seconds:7.1f} s job wall in total ({seconds / n:5.2f} s per job)")
    print(f"snakemake -n, everything built:   {dry:6.1f} s")
    print(f"figures rebuilt from the cache:   {fig_wall:6.1f} s wall, {fig_core:6.1f} core-s")


if __name__ == "__main__":
    main()
