"""A3 deep-linear, A7 gp-limit, A8 fourth-cumulant on small grids: the numbers their figures show.

Fixed seeds (the cells' streams derive from the config), so every check is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import run_experiment
from widenet import laws
from widenet.finite_width import single_input_recursion


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("initialization-experiments")


# --- A3 deep-linear (Hanin §3.2, eq. 3.2.3) ---------------------------------------------------------
def test_deep_linear_matches_exact_law_and_beta_over_two(workdir):
    ds = run_experiment("deep-linear", workdir, [
        "experiment.deep-linear.grid.width=[16,256]",
        "experiment.deep-linear.settings.depths=[8]",
        "experiment.deep-linear.settings.n_networks=4000",
    ])
    assert set(ds.log_norm_mean.dims) == {"width", "depth"}
    # the sampled log-norms follow the exact law (L + 1 independent ½·log(χ²_N/N)) at N = 16, L = 8
    assert float(ds.ks_pvalue.sel(width=16, depth=8)) > 1e-3
    assert laws.get(ds, "moments_exact_max_z").ok
    # large N: mean ≈ −β/2 and variance ≈ β/2 with β = (L+1)/N (the text's ∓β/4 is a factor 2 low)
    big = ds.sel(width=256, depth=8)
    beta = 9 / 256
    assert float(big.log_norm_mean) == pytest.approx(-beta / 2, abs=4 * float(big.log_norm_mean_se) + 0.01 * beta)
    assert float(big.log_norm_var) == pytest.approx(beta / 2, abs=4 * float(big.log_norm_var_se) + 0.01 * beta)
    assert abs(float(big.log_norm_var) - beta / 4) > 10 * float(big.log_norm_var_se)
    assert laws.get(ds, "mean_slope_N256").ok and laws.get(ds, "var_slope_N256").ok


# --- A7 gp-limit (Hanin Theorem 3.3.1, Petersen–Zech Proposition 11.28) ---------------------------
def test_gp_limit_covariance_and_ks(workdir):
    ds = run_experiment("gp-limit", workdir, [
        "experiment.gp-limit.grid.width=[1,16,128,1024]",
        "experiment.gp-limit.settings.depths=[1,2]",
        "experiment.gp-limit.settings.scatter_widths=[1024]",
    ])
    # empirical covariance = NNGP covariance (kernels.analytic) within Monte Carlo error at N = 1024
    big = ds.sel(width=1024)
    z = abs(big.covariance - big.nngp_covariance) / big.covariance_se
    assert float(z.max()) < 4.0
    assert laws.get(ds, "covariance_relu").ok and laws.get(ds, "covariance_tanh").ok
    # the NNGP diagonal used by the KS test is kernels.analytic's
    diag = ds.nngp_covariance.isel(input=0, input_2=0)
    np.testing.assert_allclose(ds.nngp_variance.isel(width=0), diag, rtol=1e-6)
    # KS distance of the marginals decreases with width (log-log slope < 0) down to the sampling
    # noise of exact Gaussian samples (mean KS ≈ 0.87/√n) at N = 1024
    null = float(ds.ks_null_mean.max())
    for act in ds.activation.values:
        for depth in ds.depth.values:
            ks = ds.ks_distance_mean.sel(activation=act, depth=depth)
            assert float(ds.ks_slope.sel(activation=act, depth=depth)) < 0
            assert float(ks.sel(width=1)) > 4 * null and float(ks.sel(width=1024)) < 2 * null, (act, depth)
    # finite-width excess kurtosis of relu is the exact 3((1 + 5/N)^L − 1) within 4 bootstrap SE
    relu = ds.sel(activation="relu", width=16)
    assert float((abs(relu.excess_kurtosis - relu.excess_kurtosis_theory) / relu.excess_kurtosis_se).max()) < 4


# --- A8 fourth-cumulant (Hanin Theorem 3.4.1) -----------------------------------------------------
def test_leading_order_fourth_cumulant():
    """Eq. 3.4.1 with χ = C_W·∂_K E_K[σ²]: relu gives 5L/N exactly; tanh (C_W = 1) → (2/3)·L/N deep."""
    for depth in (1, 3, 8):
        k, ratio = single_input_recursion("relu", 64, depth, weight_std=math.sqrt(2), k1=1.0)
        assert k == pytest.approx(1.0) and ratio == pytest.approx(5 * depth / 64, rel=1e-10)
    _, ratio = single_input_recursion("tanh", 100, 3000, weight_std=1.0, k1=1.0)
    assert ratio * 100 / 3000 == pytest.approx(2 / 3, abs=0.03)


def test_fourth_cumulant_relu_slope_is_five(workdir):
    ds = run_experiment("fourth-cumulant", workdir, [
        "experiment.fourth-cumulant.grid.width=[32,64,128]",
        "experiment.fourth-cumulant.settings.depths=[1,2,4]",
        "experiment.fourth-cumulant.settings.activations=[relu]",
        "experiment.fourth-cumulant.settings.n_networks=20000",
        "experiment.fourth-cumulant.settings.fit_max_ratio=0.03125",
    ])
    assert set(ds.kappa4_ratio.dims) == {"activation", "width", "depth"}
    law = laws.get(ds, "relu_slope_small_ratio")  # through the origin over L/N ≤ 1/32 (6 points)
    se = float(ds.fit_slope_se.sel(activation="relu"))
    assert se < 0.5
    assert abs(law.measured - 5.0) <= 2 * se and law.ok
    # every point agrees with the exact finite-N law (1 + 5/N)^L − 1 within 4 bootstrap SE
    relu = ds.sel(activation="relu")
    assert float((abs(relu.kappa4_ratio - relu.kappa4_ratio_exact) / relu.kappa4_ratio_se).max()) < 4
