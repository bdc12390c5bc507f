"""The warm worker runs a job command as the job would: same exit status, same log output."""

from __future__ import annotations

import os
import subprocess
import sys

from conftest import ROOT

BAD_DATASET = ["dataset", "--name", "x", "--spec", '{"kind": "no-such-kind"}', "--out", "x.nc"]


def _widenet(args: list[str], cwd, **env) -> subprocess.CompletedProcess:
    environ = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "WIDENET_WORKER_IDLE_S": "2", **env}
    return subprocess.run([sys.executable, "-m", "widenet.cli", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=300)


def test_a_failing_job_fails_the_same_way_through_the_worker(tmp_path):
    alone = _widenet(BAD_DATASET, tmp_path, WIDENET_WORKER="0")
    warm = _widenet(BAD_DATASET, tmp_path, WIDENET_WORKER="1")
    assert alone.returncode == warm.returncode == 1
    assert alone.stderr.strip().splitlines()[-1] == warm.stderr.strip().splitlines()[-1]
    assert "no-such-kind" in warm.stderr
    assert "_child" in warm.stderr  # the traceback went through widenet.worker, into the job's stderr
    assert not (tmp_path / "x.nc").exists()
