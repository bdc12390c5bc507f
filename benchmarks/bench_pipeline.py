"""Pipeline timings (issue 2, §9), in a temporary copy of the workflow:

1. the quick profile of the given experiments from a clean state (default A4–A6);
2. `snakemake -n` with everything built;
3. all figures rebuilt from the cached stores (figures/ deleted).

    .venv/bin/python benchmarks/bench_pipeline.py [--experiments nngp-depth,random-features-kernel,ntk-convergence]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", default="nngp-depth,random-features-kernel,ntk-convergence")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name in ("Snakefile", "conf", "workflow", "profiles", "src", "environment.yml"):
            (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, work / name)
        base = [SNAKEMAKE, "--cores", str(os.cpu_count()), "--config", f"overrides=[\"experiments=[{args.experiments}]\"]"]
        build = timed(base, work)
        dry = min(timed(base + ["-n"], work) for _ in range(3))
        shutil.rmtree(work / "figures")
        figures = timed(base, work)
    print(f"experiments: {args.experiments}; cores: {os.cpu_count()}")
    print(f"quick profile from a clean state: {build:6.1f} s")
    print(f"snakemake -n, everything built:   {dry:6.1f} s")
    print(f"figures rebuilt from the cache:   {figures:6.1f} s")


if __name__ == "__main__":
    main()
