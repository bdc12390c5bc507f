"""profiles/slurm against a real single-node SLURM cluster brought up by the test.

Needs slurm-wlm and munge (Debian packages; installed here with apt-get when running as root, as CI
does) and ``widenet[slurm]`` (snakemake-executor-plugin-slurm). Where they cannot be had, the test
is skipped and says why. The daemons are started by the fixture and stopped by PID; slurm.conf goes
to /etc/slurm/slurm.conf (the jobstep plugin drops SLURM_CONF), never over a file the test did not
write.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import assert_same_numbers, copy_workflow

pytestmark = [pytest.mark.pipeline, pytest.mark.slurm]

CONF = Path("/etc/slurm/slurm.conf")
MARK = "# written by widenet tests/test_slurm.py"
SLURM_CONF = MARK + """
ClusterName=local
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SchedulerType=sched/backfill
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
MinJobAge=300
NodeName=localhost CPUs={cpus} RealMemory=16000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""
SMALL = [
    "device=cpu",
    "experiments=[sphere-projection]",
    "experiment.sphere-projection.grid.p=[16,64]",
    "experiment.sphere-projection.settings.n_points=300",
]


def _install_or_skip() -> None:
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm is not installed: pip install 'widenet[slurm]'")
    if all(shutil.which(cmd) for cmd in ("slurmctld", "slurmd", "sbatch", "munged")):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("slurm-wlm and munge are not installed and cannot be (needs root and apt-get)")
    proc = subprocess.run("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge",
                          shell=True, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.skip(f"apt-get install slurm-wlm munge failed: {proc.stderr.strip()[-300:]}")


def _wait_for(what: str, check, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not come up in {timeout:.0f} s")
        time.sleep(0.2)


def _node_idle() -> bool:
    proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return proc.stdout.strip() == "idle"


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    """slurmctld and slurmd (and munged unless it runs) on this machine; yields the run directory."""
    _install_or_skip()
    if CONF.exists() and not CONF.read_text().startswith(MARK):
        pytest.skip(f"{CONF} exists and was not written by this test: not touching a real cluster's config")
    run = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (run / sub).mkdir()
    CONF.parent.mkdir(parents=True, exist_ok=True)
    CONF.write_text(SLURM_CONF.format(dir=run, cpus=os.cpu_count()))
    daemons, munge_pid = [], None
    try:
        if subprocess.run(["munge", "-n"], capture_output=True).returncode != 0:  # no munged answering
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            shutil.chown("/run/munge", "munge", "munge")
            subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True, timeout=30)
            munge_pid = int(Path("/run/munge/munged.pid").read_text())
        daemons.append(subprocess.Popen(["slurmctld", "-D", "-i"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        _wait_for("slurmctld", lambda: subprocess.run(["squeue"], capture_output=True).returncode == 0)
        daemons.append(subprocess.Popen(["slurmd", "-D", "-N", "localhost"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        _wait_for("slurmd", _node_idle)
        yield run
    finally:
        for proc in reversed(daemons):
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if munge_pid:
            os.kill(munge_pid, 15)
        CONF.unlink(missing_ok=True)


def test_cells_go_through_sbatch_and_equal_a_local_run(slurm_cluster, tmp_path):
    local, cluster = copy_workflow(tmp_path / "local"), copy_workflow(tmp_path / "cluster")
    local.run("data/sphere-projection.nc", overrides=SMALL)
    start = time.monotonic()
    # the first status check after 5 s, not the plugin's 40 (a real cluster's default)
    proc = cluster.run("--workflow-profile", "profiles/slurm", "--slurm-init-seconds-before-status-checks", "5",
                       "data/sphere-projection.nc", overrides=SMALL)
    wall = time.monotonic() - start
    out = proc.stdout + proc.stderr
    submitted = sorted(set(re.findall(r"submitted with SLURM jobid (\d+)", out)))
    ctld = (slurm_cluster / "slurmctld.log").read_text()
    in_ctld = sorted(set(re.findall(r"_slurm_rpc_submit_batch_job: JobId=(\d+)", ctld)))
    print(f"{wall:.0f} s through SLURM; Snakemake submitted {submitted}; slurmctld accepted {in_ctld}")
    # the two cells go as one group job (group `cells`); the aggregate is a localrule
    assert len(submitted) == 1 and set(submitted) <= set(in_ctld), out
    job = subprocess.run(["scontrol", "show", "job", submitted[0]], capture_output=True, text=True).stdout
    print(" ".join(re.findall(r"(?:JobState|TimeLimit|NumCPUs|MinMemoryNode|Partition)=\S+", job)))
    assert "JobState=COMPLETED" in job, job
    # each cell asks for what widenet.resources estimates (1501 MB, 3 min); the group job runs both at once
    assert "MinMemoryNode=3002M" in job and "TimeLimit=00:03:00" in job, job
    assert assert_same_numbers(local.path, cluster.path) == 3
