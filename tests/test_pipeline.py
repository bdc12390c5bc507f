"""The workflow end to end in a temporary copy: validation before any job, caching, stores, figures."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import xarray as xr

from widenet import laws, store

pytestmark = pytest.mark.pipeline

TINY = [
    "experiments=[sphere-projection]",
    "experiment.sphere-projection.grid.p=[16,64]",
    "experiment.sphere-projection.settings.n_points=300",
]

BAD_SNAKEMAKE = {
    "unknown key": ("experiment.sphere-projection.settings.n_pointz=3", "unknown key 'experiment.sphere-projection.settings.n_pointz'"),
    "wrong type": ("experiment.sphere-projection.settings.n_points=many", "expected integer"),
    "width or depth <= 0": ("experiment.ntk-convergence.grid.width=[0]", "experiment.ntk-convergence.grid.width[0]: 0 is out of range; must be ≥ 1"),
    "unknown activation": ("experiment.nngp-depth.grid.activation=[swish]", "'swish' is not allowed; allowed: relu"),
    "empty grid": ("experiment.sphere-projection.grid.p=[]", "experiment.sphere-projection.grid.p: empty grid"),
    "unknown profile": ("profile=gigantic", "unknown profile 'gigantic'; allowed: paper, quick"),
    "unknown experiment": ("experiments=[nope]", "experiments[0]: 'nope' is not allowed"),
    "cell beyond cell_limits": ("experiment.ntk-convergence.grid.width=[1e9]",
                                "cell depth-1__width-1000000000.0: estimated mem_mb 1.53e+14 MB exceeds cell_limits.mem_mb"),
}


@pytest.mark.parametrize("case", sorted(BAD_SNAKEMAKE))
def test_snakemake_stops_before_any_job_on_bad_config(workflow, case):
    override, message = BAD_SNAKEMAKE[case]
    proc = workflow.run(overrides=[override], check=False)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr
    assert not (workflow.path / "data").exists() and not (workflow.path / "logs").exists()


def test_stores_figures_and_caching(workflow):
    workflow.run(overrides=TINY)
    data, figs = workflow.path / "data", workflow.path / "figures"
    for path in [data / "sphere-projection.nc", figs / "sphere-projection.png", figs / "sphere-projection.pdf",
                 data / "sphere-projection/cells/p-16.nc", workflow.path / "logs/sphere-projection/cells/p-16.log"]:
        assert path.is_file(), path

    ds = store.read(data / "sphere-projection.nc")
    for key in ["experiment", "source", "config", "widenet_version", "git_commit", "torch_version", "device", "wall_time_s"]:
        assert key in ds.attrs, key
    assert ds.attrs["experiment"] == "sphere-projection" and ds.attrs["device"] == "cpu"
    assert store.config_of(ds)["grid"]["p"] == [16, 64]
    assert all("long_name" in v.attrs for v in ds.data_vars.values())
    assert dict(ds.p_var.sizes) == {"p": 2, "coordinate": 10}
    assert laws.read(ds), "the aggregate store carries fitted laws"

    assert workflow.dry_run_jobs(TINY) == {}, "a second run has nothing to do"

    # (a) adding one p schedules exactly the new cell, the aggregate and the figure
    wider = TINY[:1] + ["experiment.sphere-projection.grid.p=[16,32,64]"] + TINY[2:]
    assert workflow.dry_run_jobs(wider) == {"cell": 1, "aggregate": 1, "figure": 1, "all": 1}
    assert [o for o in workflow.scheduled_outputs(wider) if "/cells/" in o] == ["data/sphere-projection/cells/p-32.nc"]
    if importlib.util.find_spec("snakemake_executor_plugin_slurm"):  # and so it is under the SLURM profile
        slurm = ("--workflow-profile", "profiles/slurm")
        assert workflow.dry_run_jobs(wider, slurm) == {"cell": 1, "aggregate": 1, "figure": 1, "all": 1}

    # (b) changing only plotting code reruns only the figure rule
    plot_code = workflow.path / "src/widenet/figures/sphere_projection.py"
    plot_code.write_text(plot_code.read_text() + "\n# a cosmetic change\n")
    assert workflow.dry_run_jobs(TINY) == {"figure": 1, "all": 1}

    # (c) deleting figures/ and rerunning recomputes no store
    stamps = {p: p.stat().st_mtime_ns for p in data.rglob("*.nc")}
    for path in figs.iterdir():
        path.unlink()
    assert workflow.dry_run_jobs(TINY) == {"figure": 1, "all": 1}
    workflow.run(overrides=TINY)
    assert (figs / "sphere-projection.png").is_file()
    assert {p: p.stat().st_mtime_ns for p in data.rglob("*.nc")} == stamps


def test_jobs_run_the_python_the_active_environment_resolves(workflow):
    """`--sdm conda` puts the env first on PATH: no job names an interpreter by absolute path."""
    proc = workflow.run("-n", "-p", overrides=TINY)
    commands = [line for line in proc.stdout.splitlines() if "widenet.cli" in line]
    assert len(commands) == 4, proc.stdout  # 2 cells, the aggregate and the figure
    assert all(" python -m widenet.cli " in line and sys.executable not in line for line in commands), commands


def test_report_caption_states_the_laws(workflow):
    workflow.run(overrides=TINY)
    workflow.run("--report", "report.html", overrides=TINY)
    html = (workflow.path / "report.html").read_text()
    assert "sphere-projection" in html
    # the caption is embedded as JSON (non-ASCII escaped): match its ASCII part
    assert "Var(z) at p = 64: measured <strong>" in html and "theory 1 " in html


def test_lint_is_clean(workflow):
    proc = workflow.run("--lint", check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr, proc.stdout + proc.stderr


def _reduced_quick_overrides() -> list[str]:
    """Every active experiment of the quick profile, each grid axis cut to its first two values."""
    from widenet import config
    from conftest import ROOT

    cfg = config.compose(conf_dir=ROOT / "conf")
    out = []
    for exp_id in cfg["experiments"]:
        for axis, values in cfg["experiment"][exp_id]["grid"].items():
            kept = ",".join(map(str, values[:2]))
            out.append(f"experiment.{exp_id}.grid.{axis}=[{kept}]")
    return out


def test_quick_pipeline_end_to_end_on_reduced_grids(workflow):
    """`snakemake` from a clean copy builds every active experiment's store and figure."""
    from widenet import config
    from conftest import ROOT

    active = config.compose(conf_dir=ROOT / "conf")["experiments"]
    workflow.run(overrides=_reduced_quick_overrides())
    for exp_id in active:
        ds = store.read(workflow.path / f"data/{exp_id}.nc")
        assert ds.attrs["experiment"] == exp_id and ds.attrs["git_commit"]
        assert laws.read(ds), f"{exp_id} stores no fitted law"
        for ext in ("png", "pdf"):
            assert (workflow.path / f"figures/{exp_id}.{ext}").stat().st_size > 10_000, (exp_id, ext)


def test_device_and_interpreter_are_not_part_of_a_cells_identity(workflow):
    """A cache built with device=auto is reused with device=cpu (the store records the device used)."""
    workflow.run(overrides=TINY)
    assert workflow.dry_run_jobs(TINY + ["device=cpu"]) == {}
