"""Adding an experiment takes its conf file, its compute function, its plot function, its test and one
registry line (README, "Adding an experiment"): a toy experiment added that way to a temporary copy of
the workflow builds its store and figure, and a figure rule depends on its own plot module only."""

from __future__ import annotations

import pytest

from conftest import ROOT

CONF = """\
# toy-mean: the standard deviation of the mean of n standard normals is n^(-1/2).
settings:
  repeats: 400          # sample means per cell
grid:
  n: "???"              # sample size (outer axis)
profiles:
  quick:
    grid: {n: [4, 16, 64]}
  paper:
    settings: {repeats: 4000}
    grid: {n: [4, 16, 64, 256, 1024]}
"""

COMPUTE = '''\
"""Toy: sample means of n standard normals, drawn from the cell's own stream."""

import xarray as xr
import torch

from widenet import laws


def toy_mean(cell):
    draws = torch.randn(cell.params["repeats"], cell.params["n"], generator=cell.generator(), dtype=cell.dtype)
    sd = float(draws.mean(1).std())
    return xr.Dataset({"sd_of_mean": ((), sd, {"long_name": "standard deviation of the sample mean", "units": "1"})})


def summarize_toy_mean(ds, config):
    slope = laws.loglog_slope(ds.n.values, ds.sd_of_mean.values)[0]
    return laws.attach(ds, [laws.Law("sd_slope", slope, -0.5, 0.1, "slope of sd(mean) vs n")])
'''

PLOT = '''\
"""Toy figure: sd of the sample mean against n, with the n^(-1/2) line."""

from widenet.figures import style


@style.themed
def plot(ds):
    fig, (ax,) = style.figure(1, title="toy-mean")
    ax.loglog(ds.n, ds.sd_of_mean, "o", label="measured")
    ax.loglog(ds.n, ds.n.astype(float) ** -0.5, **style.THEORY, label="n^(-1/2)")
    style.axis_labels(ax, "sample size n", "sd of the sample mean")
    style.annotate(ax, style.law_text(ds, "sd_slope"))
    ax.legend()
    return fig
'''

REGISTRY_LINE = (
    'EXPERIMENTS["toy-mean"] = Experiment(id="toy-mean", title="The sample mean concentrates like n^(-1/2)", '
    'source="toy", compute="widenet.experiments.toy_mean:toy_mean", summarize="widenet.experiments.toy_mean:summarize_toy_mean", '
    'settings={"repeats": pos_int()}, grid={"n": axis(pos_int())})\n'
)
ONLY_TOY = ["experiments=[toy-mean]"]


def _add_toy(root) -> None:
    (root / "conf/experiment/toy-mean.yaml").write_text(CONF)
    (root / "src/widenet/experiments/toy_mean.py").write_text(COMPUTE)
    (root / "src/widenet/figures/toy_mean.py").write_text(PLOT)
    registry = root / "src/widenet/registry.py"
    registry.write_text(registry.read_text() + REGISTRY_LINE)


@pytest.mark.pipeline
def test_a_toy_experiment_needs_its_conf_compute_plot_and_one_registry_line(workflow):
    _add_toy(workflow.path)  # three new files and one appended registry line: nothing else is edited
    workflow.run(overrides=ONLY_TOY)  # rule all: the toy is active without being listed anywhere else
    assert (workflow.path / "figures/toy-mean.png").stat().st_size > 10_000
    assert (workflow.path / "figures/toy-mean.pdf").is_file()

    from widenet import laws, store

    ds = store.read(workflow.path / "data/toy-mean.nc")
    assert ds.n.values.tolist() == [4, 16, 64]  # the quick grid from the conf file's own profiles block
    law = laws.get(ds, "sd_slope")
    assert law.ok and abs(law.measured + 0.5) < 0.1

    # a figure rule depends on its own plot module: editing another figure's code reruns nothing here,
    # editing the toy's plot module reruns its figure only
    other = workflow.path / "src/widenet/figures/sphere_projection.py"
    other.write_text(other.read_text() + "\n# a cosmetic change\n")
    assert workflow.dry_run_jobs(ONLY_TOY) == {}
    own = workflow.path / "src/widenet/figures/toy_mean.py"
    own.write_text(own.read_text() + "\n# a cosmetic change\n")
    assert workflow.dry_run_jobs(ONLY_TOY) == {"figure": 1, "all": 1}


def test_the_readme_lists_exactly_these_steps():
    section = (ROOT / "README.md").read_text().split("## Adding an experiment", 1)[1].split("\n## ", 1)[0]
    for needle in ("conf/experiment/<id>.yaml", "profiles:", "src/widenet/experiments/", "src/widenet/figures/<id_underscored>.py",
                   "registry.py", "tests/"):
        assert needle in section, needle
    assert "conf/config.yaml" not in section.split("Shared inputs", 1)[0], "no catalogue list to maintain by hand"


def test_profile_blocks_sit_between_the_conf_file_and_command_line_overrides():
    from widenet import config

    paper = config.compose(["profile=paper"])["experiment"]["regions"]
    assert paper["grid"]["neurons"] == [16, 32, 64, 128, 256, 512]  # the paper block of conf/experiment/regions.yaml
    assert paper["settings"]["grid_resolutions"][-1] == 513 and paper["settings"]["n_seeds"] == 10  # block over base
    given = config.compose(["profile=paper", "experiment.regions.grid.neurons=[16,32]",
                            "experiment.regions.settings.grid_resolutions=[9]"])["experiment"]["regions"]
    assert given["grid"]["neurons"] == [16, 32] and given["settings"]["grid_resolutions"] == [9]  # overrides win
    assert given["grid"]["input_dim"] == [2, 16]


def test_a_profile_block_for_an_unknown_profile_is_refused(tmp_path):
    import shutil

    from widenet import config

    conf = shutil.copytree(ROOT / "conf", tmp_path / "conf")
    path = conf / "experiment" / "sphere-projection.yaml"
    path.write_text(path.read_text().replace("  quick:", "  qiuck:"))
    with pytest.raises(config.ConfigError, match=r"experiment\.sphere-projection\.profiles: unknown profile 'qiuck'; allowed: paper, quick"):
        config.compose([], conf_dir=conf)


def test_a_profile_file_entry_still_counts_for_an_experiment_without_a_defaults_line(tmp_path):
    """Hydra loads an unlisted experiment after the profile; its file's base values must not win over the
    profile file's entry (order: conf file < profile file < own profiles block < command line)."""
    import shutil

    from widenet import config

    conf = shutil.copytree(ROOT / "conf", tmp_path / "conf")
    quick = conf / "profile" / "quick.yaml"
    text = quick.read_text()
    text += ("" if "\nexperiment:" in text else "experiment:\n") + "  deep-linear:\n    settings:\n      n_networks: 123\n"
    quick.write_text(text)
    assert config.compose([], conf_dir=conf)["experiment"]["deep-linear"]["settings"]["n_networks"] == 123
    own = conf / "experiment" / "deep-linear.yaml"
    own.write_text(own.read_text().replace("  quick:\n", "  quick:\n    settings: {n_networks: 456}\n"))
    assert config.compose([], conf_dir=conf)["experiment"]["deep-linear"]["settings"]["n_networks"] == 456
    given = config.compose(["experiment.deep-linear.settings.n_networks=789"], conf_dir=conf)
    assert given["experiment"]["deep-linear"]["settings"]["n_networks"] == 789
