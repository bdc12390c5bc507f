"""kill -9 of a running pipeline at random moments, then the README's one-command recovery.

Each round restarts the pipeline with the recovery command and kills its whole process group
(Snakemake, the jobs, the warm worker and its children) with SIGKILL after a random delay. After
every kill no store may be corrupt or partial; after the final recovery there are no temp files,
nothing left to do, and the stores equal those of an uninterrupted run bit for bit.
"""

from __future__ import annotations

import os
import random
import shlex
import signal
import subprocess
import time

import pytest

from conftest import SNAKEMAKE, assert_same_numbers, copy_workflow, stores
from widenet import store

pytestmark = pytest.mark.pipeline

SMALL = [
    "device=cpu",
    "experiments=[sphere-projection,deep-linear]",
    "experiment.sphere-projection.grid.p=[16,32,64,128,256]",
    "experiment.sphere-projection.settings.n_points=2000",
    "experiment.deep-linear.grid.width=[8,16,32]",
]
KILLS = 5


def recovery_command(workflow) -> str:
    """README, "Recovering from a crash": unlock, then rerun (incomplete jobs and stale temp files are
    handled by the run itself)."""
    config = shlex.join(workflow.command(overrides=SMALL)[3:])
    return f"{SNAKEMAKE} --unlock {config} && {SNAKEMAKE} --cores 2 {config}"


def outputs(root) -> int:
    """Final files written so far: stores and figures (temp files of atomic writes excluded)."""
    figures = [p for p in (root / "figures").glob("*") if not p.name.startswith(".")] if (root / "figures").exists() else []
    return len(stores(root)) + len(figures)


def temp_files(root) -> list:
    return sorted(p for d in ("data", "figures") for p in (root / d).rglob(".*.tmp*")) if (root / "data").exists() else []


def test_random_kill9_then_one_command_recovery(tmp_path):
    reference = copy_workflow(tmp_path / "reference")
    start = time.monotonic()
    reference.run(overrides=SMALL)
    full = time.monotonic() - start

    crashed = copy_workflow(tmp_path / "crashed")
    rng, kills, rounds = random.Random(10), [], 0
    while len(kills) < KILLS and rounds < 3 * KILLS:
        rounds += 1
        before = outputs(crashed.path)
        proc = subprocess.Popen(recovery_command(crashed), shell=True, cwd=crashed.path, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # kill once 1–2 more stores or figures exist, plus up to a second: mid-job, mid-write or mid-bookkeeping
        target, extra = before + rng.randint(1, 2), rng.uniform(0.0, 1.0)
        while proc.poll() is None and outputs(crashed.path) < target:
            time.sleep(0.02)
        time.sleep(extra)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            kills.append((outputs(crashed.path), round(extra, 2), len(temp_files(crashed.path))))
        for path in stores(crashed.path).values():
            store.read(path)  # no corrupt or partial store, at any moment
    print(f"uninterrupted run {full:.1f} s; kills (outputs present of 14, s after the last one, temp files left): {kills}")
    assert len(kills) == KILLS, f"only {len(kills)} of {rounds} rounds were still running at the kill"

    stale = crashed.path / "data/deep-linear/cells/.width-8.nc.abc123.tmp.nc"
    stale.parent.mkdir(parents=True, exist_ok=True)
    stale.write_bytes(b"half a netCDF file")
    (crashed.path / "figures/deep-linear.png").unlink(missing_ok=True)  # leave the recovery something to do
    proc = subprocess.run(recovery_command(crashed), shell=True, cwd=crashed.path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"removed {stale.relative_to(crashed.path)}, left by a killed job" in proc.stderr
    assert temp_files(crashed.path) == []
    assert crashed.dry_run_jobs(SMALL) == {}
    assert assert_same_numbers(reference.path, crashed.path) == 10
    for name in ("sphere-projection", "deep-linear"):
        assert (crashed.path / f"figures/{name}.png").stat().st_size > 10_000
