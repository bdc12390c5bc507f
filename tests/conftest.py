"""Shared fixtures: a temporary copy of the workflow and a Snakemake runner."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

# One thread per test process: pytest-xdist runs one worker per core, and torch's intra-op threads on
# an occupied core make small ops 5–15× slower (measured: 1.1 ms vs 18.8 ms per Gauss–Hermite call).
torch.set_num_threads(1)

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).parent / "snakemake")
WORKFLOW_FILES = ("Snakefile", "conf", "workflow", "profiles", "src", "environment.yml")


class Workflow:
    """A copy of the workflow in a temporary directory, driven through the snakemake CLI."""

    def __init__(self, path: Path):
        self.path = path

    @staticmethod
    def command(*args: str, overrides: list[str] = ()) -> list[str]:
        cmd = [SNAKEMAKE, "--cores", "2", *args]
        if overrides:
            cmd += ["--config", "overrides=[" + ",".join(f'"{o}"' for o in overrides) + "]"]
        return cmd

    def run(self, *args: str, overrides: list[str] = (), check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.command(*args, overrides=overrides), cwd=self.path, capture_output=True, text=True,
                              timeout=600, env=None if env is None else {**os.environ, **env})
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def dry_run_jobs(self, overrides: list[str] = (), extra: tuple[str, ...] = ()) -> dict[str, int]:
        """Jobs a dry run would schedule, counted per rule ({} when nothing is to be done)."""
        proc = self.run("-n", "--quiet", "rules", *extra, overrides=overrides)
        counts, in_table = {}, False
        for line in proc.stdout.splitlines():
            parts = line.split()
            if parts[:2] == ["job", "count"]:
                in_table = True
            elif in_table and len(parts) == 2 and parts[1].isdigit() and parts[0] != "total":
                counts[parts[0]] = int(parts[1])
        return counts

    def scheduled_outputs(self, overrides: list[str] = ()) -> list[str]:
        """Output files of the jobs a dry run would schedule."""
        proc = self.run("-n", overrides=overrides)
        return [line.split("output:", 1)[1].strip() for line in proc.stdout.splitlines() if "output:" in line]


def copy_workflow(path: Path) -> Workflow:
    """The workflow's files copied to ``path`` (created)."""
    path.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        src = ROOT / name
        dst = path / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(src, dst)
    return Workflow(path)


@pytest.fixture
def workflow(tmp_path) -> Workflow:
    return copy_workflow(tmp_path)


TIMING_VARIABLES = ("cell_wall_time_s",)


def stores(root: Path) -> dict[str, Path]:
    """Every final store under ``root/data`` (temp files of atomic writes excluded), by relative path."""
    return {str(p.relative_to(root)): p for p in sorted((root / "data").rglob("*.nc")) if not p.name.startswith(".")}


def assert_same_numbers(a: Path, b: Path) -> int:
    """The stores under two workflow copies hold bitwise-identical data variables, coordinates and
    fitted laws (timings and provenance aside); returns how many stores were compared."""
    import numpy as np
    import xarray as xr

    from widenet import store

    left, right = stores(a), stores(b)
    assert sorted(left) == sorted(right)
    for name in left:
        x, y = (store.read(s[name]).drop_vars(TIMING_VARIABLES, errors="ignore") for s in (left, right))
        assert sorted(x.variables) == sorted(y.variables), name
        for var in x.variables:
            assert x[var].dims == y[var].dims, (name, var)
            same = np.array_equal(x[var].values, y[var].values, equal_nan=x[var].dtype.kind in "fc")
            assert same, f"{name}: {var} differs"
        assert x.attrs.get("laws") == y.attrs.get("laws"), name
        xr.testing.assert_equal(x, y)
    return len(left)
