"""The composed config is validated before the DAG is built; errors name the key and what is allowed."""

from __future__ import annotations

import pytest

from widenet import config
from widenet.registry import EXPERIMENTS
from conftest import ROOT

CONF = ROOT / "conf"

BAD = {
    "unknown key": (["experiment.ntk-convergence.grid.foo=[1]"], ["experiment.ntk-convergence.grid.foo", "allowed keys here: depth, width"]),
    "wrong type": (["experiment.ntk-convergence.settings.n_seeds=ten"], ["experiment.ntk-convergence.settings.n_seeds", "expected integer"]),
    "width <= 0": (["experiment.ntk-convergence.grid.width=[16,0]"], ["experiment.ntk-convergence.grid.width[1]", "must be ≥ 1"]),
    "depth <= 0": (["experiment.ntk-convergence.grid.depth=[-1]"], ["experiment.ntk-convergence.grid.depth[0]", "must be ≥ 1"]),
    "unknown activation": (["experiment.nngp-depth.grid.activation=[sigmoid]"], ["experiment.nngp-depth.grid.activation[0]", "'sigmoid'", "allowed: relu, tanh"]),
    "unknown parameterization": (["experiment.ntk-convergence.settings.parameterizations=[mup]"], ["parameterizations[0]", "'mup'", "allowed: ntk, standard"]),
    "empty grid": (["experiment.ntk-convergence.grid.width=[]"], ["experiment.ntk-convergence.grid.width", "empty grid"]),
    "unknown profile": (["profile=huge"], ["unknown profile 'huge'", "allowed: paper, quick"]),
    "unknown experiment": (["experiments=[not-an-experiment]"], ["experiments[0]", "'not-an-experiment'", "nngp-depth"]),
}


def test_default_config_composes_and_covers_every_experiment():
    cfg = config.compose(conf_dir=CONF)
    assert cfg["profile"] == "quick"
    assert set(cfg["experiment"]) == set(EXPERIMENTS), "every registered experiment needs conf/experiment/<id>.yaml"
    assert set(cfg["experiments"]) <= set(EXPERIMENTS)


@pytest.mark.parametrize("profile", ["quick", "paper"])
def test_both_profiles_set_every_grid(profile):
    cfg = config.compose([f"profile={profile}"], conf_dir=CONF)
    for exp_id in EXPERIMENTS:
        assert config.cells(cfg, exp_id), exp_id


def test_paper_grids_contain_quick_grids():
    quick, paper = config.compose(conf_dir=CONF), config.compose(["profile=paper"], conf_dir=CONF)
    for exp_id in EXPERIMENTS:
        for axis, values in quick["experiment"][exp_id]["grid"].items():
            assert set(values) <= set(paper["experiment"][exp_id]["grid"][axis]), (exp_id, axis)


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_config_is_rejected_with_key_and_allowed_values(case):
    overrides, fragments = BAD[case]
    with pytest.raises(config.ConfigError) as err:
        config.compose(overrides, conf_dir=CONF)
    for fragment in fragments:
        assert fragment in str(err.value), (case, str(err.value))


def test_override_changes_grid_and_cells():
    cfg = config.compose(["experiment.ntk-convergence.grid.width=[64,128]", "experiment.ntk-convergence.grid.depth=[2]"], conf_dir=CONF)
    cells = config.cells(cfg, "ntk-convergence")
    assert list(cells) == ["depth-2__width-64", "depth-2__width-128"]
    cell = cells["depth-2__width-128"]
    assert cell["params"]["width"] == 128 and cell["params"]["depth"] == 2
    assert cell["params"]["n_seeds"] == cfg["experiment"]["ntk-convergence"]["settings"]["n_seeds"]


def test_cell_config_holds_only_its_own_values():
    """Adding a width leaves every existing cell's config (a rerun trigger) unchanged."""
    small = config.cells(config.compose(["experiment.ntk-convergence.grid.width=[16,32]"], conf_dir=CONF), "ntk-convergence")
    large = config.cells(config.compose(["experiment.ntk-convergence.grid.width=[16,32,64]"], conf_dir=CONF), "ntk-convergence")
    assert set(small) < set(large)
    assert all(small[k] == large[k] for k in small)


def test_stream_seeds_differ_between_cells_and_are_stable():
    a = config.stream_seed("x", "width-16", 0, "")
    assert a == config.stream_seed("x", "width-16", 0, "")
    assert len({a, config.stream_seed("x", "width-32", 0, ""), config.stream_seed("x", "width-16", 1, ""),
                config.stream_seed("y", "width-16", 0, "")}) == 4
