# Compose and validate the Hydra config once, before the DAG is built; helpers for the rules.
import json
import os
import shlex
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)  # the Snakefile and its jobs use this checkout's package

from widenet import config as wconfig  # noqa: E402  (torch-free)
from widenet.registry import EXPERIMENTS  # noqa: E402

class Untracked:
    """A rule param that is no rerun trigger (Snakemake cannot represent it); ``str()`` gives the
    text, computed lazily when ``value`` is callable."""

    def __init__(self, value):
        self.value = value

    def __str__(self):
        return str(self.value() if callable(self.value) else self.value)


# Jobs run `python -m widenet.cli` from this checkout's src/ with the `python` the active environment
# resolves: with `--sdm conda` the rule's conda env (environment.yml) comes first on PATH; otherwise
# the environment running Snakemake, whose bin directory is put in front here. Neither the
# interpreter's path nor the checkout's is a rerun trigger.
_BIN = str(Path(sys.executable).parent)
if os.environ.get("PATH", "").split(os.pathsep)[0] != _BIN:
    os.environ.update(PATH=os.pathsep.join([_BIN, os.environ.get("PATH", "")]))
ENV = "../../environment.yml"  # used with `--sdm conda`; jobs import widenet from src/


def _worker():
    """Jobs run where Snakemake runs (locally, or localrules under a cluster executor) go through the
    warm worker (widenet.worker); jobs on cluster nodes and WIDENET_WORKER=0 do not."""
    return "0" if workflow.remote_exec or os.environ.get("WIDENET_WORKER") == "0" else "1"


WIDENET = Untracked(
    lambda: f"PYTHONPATH={shlex.quote(SRC)}${{PYTHONPATH:+:$PYTHONPATH}} WIDENET_WORKER={_worker()} python -m widenet.cli"
)


def _overrides():
    value = config.get("overrides", [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise WorkflowError(f"config 'overrides' must be a list of Hydra override strings, got {value!r}")
    return value


try:
    CFG = wconfig.compose(_overrides(), conf_dir=Path(workflow.basedir) / "conf")
except wconfig.ConfigError as err:
    raise WorkflowError(f"invalid widenet configuration: {err}") from None

ACTIVE = CFG["experiments"]
# The device is not part of a cell's identity: a cache computed on a GPU serves a laptop.
DEVICE = Untracked(CFG["device"])
CELLS = {exp_id: wconfig.cells(CFG, exp_id) for exp_id in EXPERIMENTS}


wildcard_constraints:
    exp="|".join(EXPERIMENTS),
    cell="[^/]+",
    name="[^/]+",


def all_figures():
    return expand("figures/{exp}.{ext}", exp=ACTIVE, ext=["png", "pdf"])


def cell_files(wildcards):
    return expand("data/{exp}/cells/{cell}.nc", exp=wildcards.exp, cell=CELLS[wildcards.exp])


def cell_config(wildcards):
    cells = CELLS[wildcards.exp]
    if wildcards.cell not in cells:
        raise WorkflowError(f"{wildcards.cell!r} is not a cell of {wildcards.exp} under the current config")
    return json.dumps(cells[wildcards.cell], sort_keys=True)


def cell_datasets(wildcards):
    name = CFG["experiment"][wildcards.exp]["settings"].get("dataset")
    inputs = {name: f"data/datasets/{name}.nc"} if name else {}
    if EXPERIMENTS[wildcards.exp].train:  # training checkpoints (workflow/rules/training.smk)
        inputs["checkpoints"] = f"data/{wildcards.exp}/checkpoints/{wildcards.cell}.nc"
    return inputs


def train_datasets(wildcards):
    """The datasets a training job reads: the cell's own, without its checkpoints."""
    return {k: v for k, v in cell_datasets(wildcards).items() if k != "checkpoints"}


def dataset_args(wildcards, input):
    return " ".join(f"--dataset {name}={path}" for name, path in input.items())


def cell_resources(wildcards, attempt=1):
    """What the cell's job asks the cluster for (widenet.resources.estimate, from its params)."""
    from widenet import resources

    need = resources.estimate(CELLS[wildcards.exp][wildcards.cell])
    return {key: value * attempt for key, value in need.items()}


def cell_gpus(wildcards):
    """One GPU for a cell when the configured device is CUDA and the experiment can use it."""
    return int(str(CFG["device"]).startswith("cuda") and not EXPERIMENTS[wildcards.exp].cpu_only)


def stale_temp_files():
    """Temp files of atomic writes (widenet.store) that a killed job left beside this run's outputs.

    Called from ``onstart``, once this run holds Snakemake's locks: a live run writing one of these
    files would hold a lock on it and this run would not have started (two concurrent runs in one
    directory with disjoint jobs but the same configured outputs are the one case not covered).
    """
    outputs = {Path(p) for p in all_figures()} | {Path(f"data/{exp}.nc") for exp in ACTIVE}
    outputs |= {Path(f"data/datasets/{name}.nc") for name in CFG["datasets"]}
    outputs |= {Path(f"data/{exp}/{kind}/{cell}.nc") for exp in ACTIVE for cell in CELLS[exp]
                for kind in ("cells", "checkpoints")}
    folders = {p.parent for p in outputs if p.parent.is_dir()}
    return [t for d in folders for t in d.glob(".*.tmp*") if (d / t.name[1:].split(".tmp")[0].rsplit(".", 1)[0]) in outputs]


def laws_caption(store):
    """Report caption from the store's fitted laws, read when the report renders."""

    def text():
        from widenet.report import caption

        return caption(store)

    return Untracked(text)
