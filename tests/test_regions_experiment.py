"""A9 regions on a small grid: Zaslavsky, Euler, Theorem 4.2.1 slopes, Kac–Rice, grid ≤ exact, config."""

from __future__ import annotations

import numpy as np
import pytest

from widenet import config, laws
from widenet.regions import layer_widths
from helpers import ROOT, run_experiment

SMALL = [
    "experiment.regions.grid.input_dim=[2,16]",
    "experiment.regions.grid.neurons=[16,32,64]",
    "experiment.regions.settings.depths=[1,2,4]",
    "experiment.regions.settings.grid_resolutions=[17,65]",
]


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    return run_experiment("regions", tmp_path_factory.mktemp("regions"), SMALL)


def test_zaslavsky_exact_for_depth_one(ds):
    n = ds.neurons
    whole = ds.zaslavsky_whole_plane.sel(depth=1)
    assert whole.notnull().all()
    assert (whole == 1 + n + n * (n - 1) // 2).all()  # every network, both N₀
    assert (ds.zaslavsky_square.sel(depth=1) == ds.n_regions.sel(depth=1)).all()
    assert ds.zaslavsky_whole_plane.sel(depth=[2, 4]).isnull().all()
    for name in ("zaslavsky_whole_plane", "zaslavsky_square", "euler_relation"):
        assert laws.get(ds, name).measured == 0, name


def test_one_dimensional_density_grows_linearly_in_neurons(ds):
    for n0 in (2, 16):
        law = laws.get(ds, f"breakpoints_slope_N0_{n0}")
        assert law.measured == pytest.approx(1.0, abs=0.15), law.text()
        # depth 1 at every N, directly: density / N constant within noise
        per_neuron = ds.breakpoints_per_length_mean.sel(input_dim=n0, depth=1) / ds.neurons
        assert float(per_neuron.max() / per_neuron.min()) < 1.25
        # L = 1: Kac–Rice is exact at every width
        assert laws.get(ds, f"breakpoints_kac_rice_L1_N0_{n0}").ok
        assert laws.get(ds, f"nodal_length_kac_rice_L1_N0_{n0}").ok
    assert laws.get(ds, "nodal_length_slope_N0_2").measured == pytest.approx(1.0, abs=0.15)


def test_grid_sampling_never_exceeds_exact_count(ds):
    assert (ds.grid_count <= ds.n_regions).all()
    assert laws.get(ds, "grid_undercounts").ok
    # nested grids (2^k + 1) see more patterns as they refine; at N = 64 the coarse grid misses many
    assert (ds.grid_count.sel(resolution=65) >= ds.grid_count.sel(resolution=17)).all()
    assert float(ds.grid_fraction_mean.sel(resolution=17, neurons=64, input_dim=2).max()) < 0.8
    assert laws.get(ds, "far_below_2_to_N").ok


def test_all_laws_hold_and_store_explains_itself(ds):
    failed = [law.text() for law in laws.read(ds) if not law.ok]
    assert not failed, failed
    assert ds.regions_per_area.attrs["units"] == "1"  # UDUNITS: the input space is dimensionless
    assert int(ds.hidden_width.sel(neurons=16, depth=4, input_dim=2).sum()) == 16
    # panel (a): the depth-1 example's edges are lines of layer 1 or the square's boundary
    sizes = ds.example_polygon_size.sel(example=0).values
    edge = ds.example_edge_layer.sel(example=0).values
    verts = ds.example_polygon.sel(example=0).values
    h = float(np.nanmax(np.abs(verts)))
    for c, k in enumerate(sizes[sizes > 0]):
        for j in range(k):
            a, b = verts[c, j], verts[c, (j + 1) % k]
            on_boundary = any(abs(a[i]) > h * (1 - 1e-9) and abs(b[i]) > h * (1 - 1e-9) and a[i] * b[i] > 0 for i in (0, 1))
            assert edge[c, j] == (0 if on_boundary else 1)
    assert int(ds.example_n_regions.sel(example=0)) == int((sizes > 0).sum())


def test_layer_widths_and_skipped_depths(tmp_path):
    assert layer_widths(16, 3) == [6, 5, 5]
    assert layer_widths(512, 3) == [171, 171, 170]
    assert layer_widths(16, 8) == [2] * 8
    ds = run_experiment("regions", tmp_path, [
        "experiment.regions.grid.input_dim=[2]", "experiment.regions.grid.neurons=[8]",
        "experiment.regions.settings.depths=[1,8]", "experiment.regions.settings.n_seeds=2",
        "experiment.regions.settings.grid_resolutions=[9]",
    ])
    assert not bool(ds.measured.sel(depth=8, neurons=8, input_dim=2))  # widths 1 < min_width = 2
    assert ds.n_regions.sel(depth=8).isnull().all() and ds.n_regions.sel(depth=1).notnull().all()


@pytest.mark.parametrize("activation", ["tanh", "linear"])
def test_only_relu_is_allowed(activation):
    with pytest.raises(config.ConfigError) as err:
        config.compose([f"experiment.regions.settings.activation={activation}"], conf_dir=ROOT / "conf")
    message = str(err.value)
    assert "experiment.regions.settings.activation" in message
    assert f"'{activation}'" in message and "allowed: relu" in message
