"""Same config and seed on CPU give bitwise-identical stores, whoever runs the cells.

Two fresh runs of three experiments with random draws (A1 sphere-projection, A3 deep-linear, A6
ntk-convergence with its shared dataset), one through the warm worker (one fork per job), one with
every job its own interpreter (WIDENET_WORKER=0), must agree bit for bit on every data variable,
coordinate and fitted law: the random streams are keyed by (experiment, cell, seed), not by the
process or the order in which cells run.
"""

from __future__ import annotations

import pytest

from conftest import assert_same_numbers, copy_workflow

pytestmark = pytest.mark.pipeline

SMALL = [
    "device=cpu",
    "experiments=[sphere-projection,deep-linear,ntk-convergence]",
    "experiment.sphere-projection.grid.p=[16,64]",
    "experiment.sphere-projection.settings.n_points=300",
    "experiment.deep-linear.grid.width=[8,16]",
    "experiment.deep-linear.settings.n_networks=500",
    "experiment.ntk-convergence.grid.depth=[1]",
    "experiment.ntk-convergence.grid.width=[16,32]",
    "experiment.ntk-convergence.settings.n_seeds=4",
]
TARGETS = ["data/sphere-projection.nc", "data/deep-linear.nc", "data/ntk-convergence.nc"]


def test_two_fresh_runs_give_identical_numbers(tmp_path):
    warm, cold = copy_workflow(tmp_path / "warm"), copy_workflow(tmp_path / "cold")
    warm.run(*TARGETS, overrides=SMALL)
    cold.run(*TARGETS, overrides=SMALL, env={"WIDENET_WORKER": "0"})
    assert "a fork of worker" in (warm.path / "logs/deep-linear/cells/width-8.log").read_text()
    assert "a fork of worker" not in (cold.path / "logs/deep-linear/cells/width-8.log").read_text()
    # 3 aggregates, 6 cells and the A6 dataset
    assert assert_same_numbers(warm.path, cold.path) == 10
