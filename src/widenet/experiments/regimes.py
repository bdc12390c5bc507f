"""B2 regimes: lazy (NTK) versus mean-field training of one hidden layer (Hanin §2.1–2.4).

z(x) = (1/γ)·(1/√N)·Σᵢ W2ᵢ σ(W1ᵢ·x/√d) with γ = 1 (``ntk``, eq. 2.1.1) or γ = √N (``meanfield``,
eq. 2.3.1), both from the same raw weights W1, W2 ~ N(0, 1). GD on the ``mean`` loss (the
normalisation of eqs. 2.3.7–2.3.8) with learning rate η = γ²·h (eq. 2.3.6's time scaling): the
tangent kernel η⟨∇z, ∇z⟩ is then the same in both regimes, so one step h = 1/(c·λ_max(K̂₀)) with
c = 2/n serves both. Measured: ‖ΔW1‖/‖W1‖ and the rms change of the first-layer pre-activations
W1ᵢ·x/√d (∝ N^(−1/2) lazily, O(1) in mean field, eq. 2.1.11); the max change carries an extreme-value
√log(nN) factor, so it is stored but not fitted.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import laws, tangents
from widenet.cells import Cell
from widenet.models import MLP
from widenet.training import KERNEL_FACTOR, gradient_descent

LAZY, MEANFIELD = "ntk", "meanfield"


def regimes(cell: Cell) -> xr.Dataset:
    """Train ``n_seeds`` networks of width N in both regimes from the same raw weights."""
    p, data = cell.params, cell.dataset()
    x, y = cell.tensor(data.x.values), cell.tensor(data.y.values)
    width, n = p["width"], x.shape[0]
    models = {reg: MLP(x.shape[1], width, 1, activation=p["activation"], parameterization=reg, bias_std=0.0,
                       dtype=cell.dtype, device=cell.device) for reg in (LAZY, MEANFIELD)}
    raw = models[LAZY].sample_parameters(p["n_seeds"], cell.generator("init"))
    lam_max = torch.linalg.eigvalsh(tangents.empirical_ntk(models[LAZY], x, params=raw))[:, -1].max()
    h = 1.0 / (KERNEL_FACTOR[p["loss"]](n) * float(lam_max))
    results = {}
    for reg, gamma2 in ((LAZY, 1.0), (MEANFIELD, float(width))):  # the two regimes: two models
        run = gradient_descent(models[reg], x, y, lr=gamma2 * h, steps=p["steps"], loss=p["loss"], params=raw,
                               progress=lambda it: cell.progress(it, f"GD ({reg})", total=p["steps"] + 1))
        results[reg] = _movement(raw, run, x)
    return _dataset(results, p, h)


def _movement(raw: dict, run, x: torch.Tensor) -> dict:
    """Relative weight changes and first-layer pre-activation changes W1ᵢ·x/√d over (neuron, input)."""
    w1, w1_t = raw["weight0"], run.params["weight0"]
    scale = 1.0 / math.sqrt(x.shape[1])
    z0, z_t = scale * w1 @ x.T, scale * w1_t @ x.T  # (seed, neuron, input)
    dz = (z_t - z0).flatten(1)
    rel = lambda a, b: ((b - a).flatten(1).norm(dim=1) / a.flatten(1).norm(dim=1))  # noqa: E731
    return {
        "w1_rel_change": rel(w1, w1_t),
        "w2_rel_change": rel(raw["weight1"], run.params["weight1"]),
        "preact_rms_change": dz.pow(2).mean(1).sqrt(),
        "preact_max_change": dz.abs().amax(1),
        "initial_loss": run.loss[:, 0],
        "final_loss": run.loss[:, -1],
        "diverged_at": run.diverged_at,
        "neurons": torch.stack([z0[0, :, 0], z_t[0, :, 0], raw["weight1"][0, 0], run.params["weight1"][0, 0]]),
    }


VARIABLES = {
    "w1_rel_change": "relative change ‖W1_T − W1_0‖_F/‖W1_0‖_F",
    "w2_rel_change": "relative change of the readout ‖W2_T − W2_0‖/‖W2_0‖",
    "preact_rms_change": "rms over (neuron, input) of the change of W1ᵢ·x/√d",
    "preact_max_change": "max over (neuron, input) of |Δ(W1ᵢ·x/√d)|",
    "initial_loss": "training loss at init (mean)",
    "final_loss": "training loss after training (mean)",
    "diverged_at": "step at which the loss became non-finite (−1: never)",
}


def _dataset(results: dict, p: dict, h: float) -> xr.Dataset:
    regs = list(results)
    np_ = lambda key: np.stack([results[r][key].detach().cpu().numpy() for r in regs])  # noqa: E731
    data = {k: (("regime", "seed"), np_(k), {"long_name": v, "units": "1"}) for k, v in VARIABLES.items()}
    shown = np.full((len(regs), 4, p["show_neurons"]), np.nan, dtype=np_("neurons").dtype)
    shown[..., : min(p["width"], p["show_neurons"])] = np_("neurons")[..., : p["show_neurons"]]
    data["neuron_values"] = (("regime", "quantity", "neuron"), shown,  # the same length in every cell (NaN-padded)
                             {"long_name": "per-neuron values of seed 0 (first training input)", "units": "1"})
    data["learning_rate_h"] = ((), h, {"long_name": "step h = 1/(c·λ_max(K̂₀)); the regime's rate is γ²·h", "units": "1"})
    return xr.Dataset(data, coords={
        "regime": ("regime", regs, {"long_name": "parameterization (ntk: γ = 1; meanfield: γ = √N)"}),
        "seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "network draw"}),
        "quantity": ("quantity", ["preact_before", "preact_after", "readout_before", "readout_after"],
                     {"long_name": "W1ᵢ·x₀/√d or W2ᵢ, before or after training"}),
        "neuron": ("neuron", np.arange(p["show_neurons"]), {"long_name": "hidden neuron i (the first show_neurons)"}),
    })


FITTED = {"w1_rel_change": "‖ΔW1‖/‖W1‖", "preact_rms_change": "rms Δ(W1·x/√d)"}


def summarize_regimes(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Slopes against N of the seed-mean changes: −½ (ntk, ± 0.1) and 0 (meanfield, |slope| ≤ 0.1)."""
    found = []
    for var, label in [*FITTED.items(), ("preact_max_change", "max Δ(W1·x/√d)")]:
        mean = ds[var].mean("seed")
        ds[f"{var}_mean"] = mean.assign_attrs(long_name=f"seed mean of {ds[var].attrs['long_name']}", units="1")
        for reg in ds.regime.values:
            slope = laws.loglog_slope(ds.width, mean.sel(regime=reg))[0]
            ds[f"{var}_slope_{reg}"] = ((), slope, {"long_name": f"log-log slope of {label} vs N ({reg})", "units": "1"})
            if var in FITTED:
                theory = -0.5 if reg == LAZY else 0.0
                found.append(laws.Law(f"{var}_{reg}", slope, theory, 0.1, f"{reg}: slope of {label} vs N"))
    worst = float(ds.final_loss.max() / ds.initial_loss.min())
    found.append(laws.Law("trained", worst, 0.0, 1e-2, "max final/initial training loss over regimes, widths, seeds"))
    found.append(laws.Law("diverged", float((ds.diverged_at >= 0).sum()), 0.0, 0.0, "networks that diverged"))
    return laws.attach(ds, found)
