"""A4, A5, A6 on their quick grids: the fitted laws hold (the numbers the figures show)."""

from __future__ import annotations

import math

import pytest

from widenet import laws
from helpers import run_experiment


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("kernel-experiments")


def test_nngp_depth_quick_grid(workdir):
    ds = run_experiment("nngp-depth", workdir)
    assert laws.get(ds, "relu_diag_constant").measured < 1e-9
    assert laws.get(ds, "relu_decorrelation_slope").measured == pytest.approx(-2.0, abs=0.1)
    assert laws.get(ds, "relu_decorrelation_constant").measured == pytest.approx(4.5 * math.pi**2, rel=0.05)
    assert laws.get(ds, "tanh_2l_K").measured == pytest.approx(1.0, abs=0.05)
    assert laws.get(ds, "linear_unchanged").measured < 1e-9
    assert laws.get(ds, "shaped_tanh_eq_3_3_7").measured < 0.01
    # Pleiss Fig. 1: the normalized relu kernel at φ = π flattens monotonically with depth
    corr = ds.correlation.sel(activation="relu").sel(angle=math.pi, method="nearest").sel(depth=slice(1, 20))
    assert (corr.diff("depth") > 0).all() and float(corr.sel(depth=1)) < 1e-12


def test_random_features_kernel_quick_grid(workdir):
    ds = run_experiment("random-features-kernel", workdir)
    assert laws.get(ds, "sup_error_slope").measured == pytest.approx(-0.5, abs=0.1)
    assert laws.get(ds, "spectrum_alpha").measured > 1.0
    assert all(law.ok for law in laws.read(ds))


def test_ntk_convergence_quick_grid(workdir):
    ds = run_experiment("ntk-convergence", workdir)
    slopes = {law.name: law.measured for law in laws.read(ds) if law.name.startswith("slope_")}
    assert len(slopes) == 2 * 3 * 2  # (init, depth, activation)
    for name, slope in slopes.items():
        assert slope == pytest.approx(-0.5, abs=0.1), name
    # the error itself is small at the largest width: the limit is the right one, not just the rate
    assert float(ds.rel_error_mean.sel(width=ds.width.max()).max()) < 0.1
