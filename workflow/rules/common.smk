# Compose and validate the Hydra config once, before the DAG is built; helpers for the rules.
import json
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


# The CLI under this interpreter and checkout: moving the checkout or the venv recomputes nothing.
WIDENET = Untracked(f"PYTHONPATH={shlex.quote(SRC)}${{PYTHONPATH:+:$PYTHONPATH}} {shlex.quote(sys.executable)} -m widenet.cli")
ENV = "../../environment.yml"  # used with `--sdm conda`; jobs import widenet from src/


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
    return {name: f"data/datasets/{name}.nc"} if name else {}


def dataset_args(wildcards, input):
    return " ".join(f"--dataset {name}={path}" for name, path in input.items())


def laws_caption(store):
    """Report caption from the store's fitted laws, read when the report renders."""

    def text():
        from widenet.report import caption

        return caption(store)

    return Untracked(text)
