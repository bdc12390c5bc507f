"""A2 min-norm-distance (Amari §3, §5, §6): the min-norm step Δθ* = Xᵀ K⁻¹ e and its scaling with width."""

import numpy as np
import pytest
import torch
import xarray as xr
from torch.func import functional_call, jacrev

from widenet import laws, models
from widenet.cells import Cell
from widenet import min_norm as numerics
from widenet.experiments import min_norm as mn
from widenet.models import MLP

F64 = torch.float64
SETTINGS = dict(cases=["features", "shallow"], activations=["tanh"], n_seeds=8, kernel_seeds=20, n_inputs=[4, 8, 16],
                input_dim=10, weight_std=1.0, bias_std=1.0, data_seed=0, kernel_n=16, fit_n=8, fit_min_width=64)
WIDTHS = [64, 128, 256, 512, 1024]


def _cell(width: int, **settings) -> Cell:
    params = {**SETTINGS, **settings, "width": width}
    return Cell(experiment="min-norm-distance", key=f"width-{width}", axes={"width": width}, params=params)


@pytest.fixture(scope="module")
def store() -> xr.Dataset:
    parts = [mn.min_norm_distance(_cell(w)).expand_dims(width=[w]) for w in WIDTHS]
    return mn.summarize_min_norm_distance(xr.combine_by_coords(parts), {"settings": SETTINGS})


def _jacobian(model: MLP, theta: dict, names: list[str], x: torch.Tensor) -> torch.Tensor:
    """X = ∂f/∂θ (n × P) over the trained parameters, formed explicitly (tiny nets only)."""
    frozen = {k: v for k, v in theta.items() if k not in names}
    jac = jacrev(lambda tr: functional_call(model, {**frozen, **tr}, (x,)))({k: theta[k] for k in names})
    return torch.cat([jac[k].reshape(x.shape[0], -1) for k in names], dim=1)


@pytest.mark.parametrize("method", numerics.STEP_METHODS)
@pytest.mark.parametrize("case", ["features", "shallow", "deep2"])
def test_step_is_the_min_norm_solution_of_the_linearized_equations(case, method):
    """On a tiny net with X formed: K = XXᵀ, XΔθ* = e to 1e-10, Δθ* = pinv(X)e = lstsq min-norm solution,
    and Δθ* ⟂ null(X) (Amari eqs. 27–29, 37)."""
    depth, n = numerics.CASES[case], 6
    model = MLP(3, 7, depth, activation="tanh", parameterization="standard", bias_std=1.0, dtype=F64)
    cell = _cell(7)
    theta = mn.sample_theta0(model, cell, range(2))
    x, target = mn.inputs_and_teacher(n, 3, 0)
    names = numerics.trainable_names(model, case)
    K = numerics.gram(model, case, theta, x)
    err = target - torch.stack([functional_call(model, {k: v[s] for k, v in theta.items()}, (x,)) for s in range(2)])
    alpha = torch.linalg.solve(K, err[..., None])[..., 0]
    delta = numerics.min_norm_step(model, theta, names, x, alpha, method=method)
    assert sorted(delta) == sorted(names)
    forward = models.jvp(model, theta, x, delta)[1]  # closed-form XΔθ used by the cells
    for s in range(2):
        th = {k: v[s] for k, v in theta.items()}
        X = _jacobian(model, th, names, x)
        step = torch.cat([delta[k][s].reshape(-1) for k in names])
        torch.testing.assert_close(K[s], X @ X.T, rtol=1e-12, atol=1e-12)
        assert (X @ step - err[s]).norm() / err[s].norm() < 1e-10
        torch.testing.assert_close(forward[s], X @ step, rtol=1e-10, atol=1e-12)
        torch.testing.assert_close(step, torch.linalg.pinv(X) @ err[s], rtol=1e-8, atol=1e-10)
        lstsq = torch.linalg.lstsq(X, err[s], driver="gelsd").solution  # min-norm for under-determined X
        torch.testing.assert_close(step, lstsq, rtol=1e-8, atol=1e-10)
        null = torch.linalg.svd(X, full_matrices=True).Vh[n:]  # orthonormal basis of null(X)
        assert null.shape[0] == X.shape[1] - n
        assert (null @ step).abs().max() < 1e-10 * step.norm()
        # a step plus any null vector also solves the equations but is longer (eq. 28)
        other = step + null.T @ torch.randn(null.shape[0], dtype=F64, generator=torch.Generator().manual_seed(s))
        assert (X @ other - err[s]).norm() < 1e-10 and other.norm() > step.norm()


def test_readout_bias_is_zero_and_not_trained():
    model = MLP(10, 16, 2, parameterization="standard", bias_std=1.0, dtype=F64)
    theta = mn.sample_theta0(model, _cell(16), range(3))
    assert theta["bias2"].abs().max() == 0
    assert numerics.trainable_names(model, "features") == ["weight2"]
    assert set(numerics.trainable_names(model, "deep2")) == {"weight0", "bias0", "weight1", "bias1", "weight2"}


def test_distance_shrinks_like_inverse_sqrt_width(store):
    """‖Δθ*‖₂ ∝ p^(−1/2) (eqs. 34, 63) for features and shallow; its prefactor → √(eᵀK∞⁻¹e)."""
    for case in ("features", "shallow"):
        slope = laws.get(store, f"delta_norm_slope_{case}_tanh").measured
        assert abs(slope + 0.5) < 0.1, (case, slope)
        assert abs(laws.get(store, f"prefactor_{case}_tanh").measured - 1) < 0.05, case
        sup = laws.get(store, f"delta_sup_slope_{case}_tanh").measured
        assert abs(sup + 1) < 0.15, (case, sup)


def test_theta0_is_order_one_in_amaris_normalization(store):
    """‖v₀‖₂ → σ_v = 1 (eqs. 35, 39), per-neuron ‖(w_i; b_i)‖ → √2, while ‖θ₀‖₂ over all of θ grows like √p."""
    assert abs(float(store.theta0_readout_norm.sel(width=1024).mean()) - 1) < 0.05
    assert abs(float(store.theta0_neuron_norm.sel(width=1024).mean()) - np.sqrt(2)) < 0.05
    total = store.theta0_norm_mean.sel(case="shallow")
    assert abs(laws.loglog_slope(total.width, total)[0] - 0.5) < 0.02


def test_nonlinear_residual_vanishes_with_width(store):
    """Theorem 1: ‖f(θ₀ + Δθ*) − f*‖/‖e‖ decreases with p for shallow; features are linear in v: exact."""
    resid = store.relative_residual_median.sel(case="shallow", activation="tanh", n=8)
    assert (np.diff(resid.values) < 0).all(), resid.values
    assert resid.sel(width=1024) < 0.02 * resid.sel(width=64)
    assert laws.get(store, "residual_exact_features_tanh").measured < 1e-10


def test_linearized_equations_hold(store):
    assert laws.get(store, "linear_equation").measured < 1e-8
    assert laws.get(store, "norm_identity").measured < 1e-8


def test_kernel_over_width_concentrates(store):
    """K/p → E[φ(u_s)φ(u_t)] (eq. 33): the spread over seeds shrinks like p^(−1/2)."""
    for case in ("features", "shallow"):
        spread = store.kp_spread.sel(case=case, activation="tanh")
        assert spread.sel(width=1024) < 0.4 * spread.sel(width=64), case
        assert abs(laws.get(store, f"kp_spread_slope_{case}_tanh").measured + 0.5) < 0.1, case
        err = store.kp_error_rms.sel(case=case, activation="tanh")
        assert err.sel(width=1024) < 0.4 * err.sel(width=64), case
