"""The composed config is validated before the DAG is built; errors name the key and what is allowed."""

from __future__ import annotations

import math
import re

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


def test_sweep_syntax_on_a_grid_axis_is_that_list():
    cfg = config.compose(["experiment.ntk-convergence.grid.width=64,128,256",
                          "experiment.ntk-convergence.grid.depth=range(1,4)",
                          "experiment.nngp-depth.grid.activation=relu,erf"], conf_dir=CONF)
    assert cfg["experiment"]["ntk-convergence"]["grid"] == {"depth": [1, 2, 3], "width": [64, 128, 256]}
    assert cfg["experiment"]["nngp-depth"]["grid"]["activation"] == ["relu", "erf"]
    assert list(config.cells(cfg, "ntk-convergence"))[:2] == ["depth-1__width-64", "depth-1__width-128"]


@pytest.mark.parametrize("override, fragment", [
    ("seed=1,2", "sweep syntax is only read on a grid axis"),
    ("experiment.ntk-convergence.settings.n_seeds=4,8", "sweep syntax is only read on a grid axis"),
    ("experiment.ntk-convergence.grid.width=interval(1,4)", "a grid axis takes a list"),
    ("experiment.ntk-convergence.grid.width=16,0", "experiment.ntk-convergence.grid.width[1]: 0 is out of range"),
])
def test_sweep_syntax_elsewhere_is_an_error(override, fragment):
    with pytest.raises(config.ConfigError, match=re.escape(fragment)):
        config.compose([override], conf_dir=CONF)


def test_a_cell_beyond_the_limits_is_refused_naming_its_estimate():
    with pytest.raises(config.ConfigError) as err:
        config.compose(["experiment.ntk-convergence.grid.width=[1e9]"], conf_dir=CONF)
    message = str(err.value)
    assert "experiment.ntk-convergence cell depth-1__width-1000000000.0: estimated mem_mb" in message
    assert "exceeds cell_limits.mem_mb = 256000" in message
    # the same cell fits once the limit allows it (runtime is then the binding estimate)
    with pytest.raises(config.ConfigError, match="estimated runtime"):
        config.compose(["experiment.ntk-convergence.grid.width=[1e9]", "cell_limits.mem_mb=1000000000000000"], conf_dir=CONF)


def test_resource_estimates_grow_with_the_cell_and_fit_the_paper_profile():
    from widenet import resources

    cfg = config.compose(["profile=paper"], conf_dir=CONF)
    cells = config.cells(cfg, "ntk-convergence")
    small, large = resources.estimate(cells["depth-1__width-16"]), resources.estimate(cells["depth-3__width-16384"])
    assert small == {"mem_mb": resources.BASE_MB + 1, "runtime": resources.BASE_MIN + 1}  # rounded up
    # 10 float32 networks of depth 3 and width 16384: 4·4 B·10·(3·16384² + 16·4·16384) ≈ 123 GB
    assert large["mem_mb"] == resources.BASE_MB + math.ceil(16 * 10 * (3 * 16384**2 + 16 * 4 * 16384) / 2**20)
    # 40 seeds · 16 inputs · 6 · 3 · 16384² flop at 1 Gflop/s ≈ 51.5 min, plus 2
    assert large["runtime"] == 54
    assert all(resources.check(c, cfg["cell_limits"]) is None for e in cfg["experiment"] for c in config.cells(cfg, e).values())


def test_widenet_config_prints_the_composed_config(capsys):
    import yaml

    from widenet import cli

    cli.main(["config", "--conf-dir", str(CONF), "profile=paper", "experiment.sphere-projection.grid.p=16,32"])
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed == config.compose(["profile=paper", "experiment.sphere-projection.grid.p=[16,32]"], conf_dir=CONF)
    with pytest.raises(SystemExit, match="unknown profile 'huge'"):
        cli.main(["config", "--conf-dir", str(CONF), "profile=huge"])
