"""Figures: importing them changes no global matplotlib state; the theme applies inside the plot only;
a figure rule depends on its own plot module (and style), not on other figures' code."""

from __future__ import annotations

import json
import subprocess
import sys

import matplotlib
import pytest
from matplotlib.figure import Figure

from helpers import run_experiment
from widenet.figures import style
from widenet.registry import EXPERIMENTS, figure_modules

IMPORT_ALL = """
import importlib, json, pkgutil, sys
import matplotlib
before = {k: repr(v) for k, v in dict.items(matplotlib.rcParams)}
import widenet.figures
names = [m.name for m in pkgutil.iter_modules(widenet.figures.__path__)]
for name in names:
    importlib.import_module("widenet.figures." + name)
after = {k: repr(v) for k, v in dict.items(matplotlib.rcParams)}
print(json.dumps({"modules": names, "changed": sorted(k for k in before if before[k] != after[k]),
                  "pyplot": "matplotlib.pyplot" in sys.modules}))
"""


def test_importing_every_figure_module_changes_no_rcparams_nor_the_backend():
    proc = subprocess.run([sys.executable, "-c", IMPORT_ALL], capture_output=True, text=True, check=True)
    result = json.loads(proc.stdout)
    assert {"style", "sphere_projection", "regions"} <= set(result["modules"])
    assert result["changed"] == [], f"rcParams changed by importing widenet.figures: {result['changed']}"
    assert not result["pyplot"], "a figure module imports pyplot (it may select a backend)"


@pytest.fixture(scope="module")
def sphere_store(tmp_path_factory):
    return run_experiment("sphere-projection", tmp_path_factory.mktemp("sphere"),
                          ["experiment.sphere-projection.grid.p=[16,64]", "experiment.sphere-projection.settings.n_points=200"])


def test_plot_applies_the_theme_inside_and_restores_rcparams(sphere_store, tmp_path):
    before = dict(matplotlib.rcParams)
    fig = EXPERIMENTS["sphere-projection"].load("plot")(sphere_store)
    assert dict(matplotlib.rcParams) == before
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    with style.context():
        themed_size = matplotlib.rcParams["axes.labelsize"]
    assert fig.axes[0].xaxis.label.get_fontsize() == pytest.approx(themed_size) != before["axes.labelsize"]
    assert fig.axes[0].get_xlabel() == "ambient dimension p" and fig.axes[1].get_legend() is not None
    style.save(fig, tmp_path / "f.png", tmp_path / "f.pdf")
    assert (tmp_path / "f.png").stat().st_size > 10_000 and (tmp_path / "f.pdf").read_bytes()[:4] == b"%PDF"
    assert dict(matplotlib.rcParams) == before


def test_a_figure_depends_on_its_own_module_and_style_only():
    for exp_id in ("sphere-projection", "deep-linear", "gp-limit", "fourth-cumulant"):  # once one family module
        assert figure_modules(EXPERIMENTS[exp_id].plot.split(":")[0]) == [
            f"widenet.figures.{exp_id.replace('-', '_')}", "widenet.figures.style"]
    plot_modules = {exp.plot.split(":")[0]: exp.id for exp in EXPERIMENTS.values()}
    assert len(plot_modules) == len(EXPERIMENTS), "two experiments share a plot module"
    for module, exp_id in plot_modules.items():
        others = set(figure_modules(module)[1:]) & set(plot_modules)
        assert not others, f"{exp_id}'s figure would rerun when {others} changes"


def test_a_missing_plot_module_is_named():
    with pytest.raises(ValueError, match="figure module 'widenet.figures.no_such_figure' not found"):
        figure_modules("widenet.figures.no_such_figure")
