"""B4 pz-figure-11-3: Petersen–Zech Figure 11.3 — 80 random networks before and after training.

Φ(x, w) = vᵀ arctan(Ux + b) + c with d = 1, n hidden units, U ~ N(0, 3/d), v ~ N(0, 3/n),
b, c ~ N(0, 2) (init 11.5.11; the ``standard`` parameterization with σ_w² = 3, σ_b² = 2), all trained by
full-batch GD with h = 1/n (eq. 11.5.1). The literal loss Σ(Φ − y)² diverges at h = 1/n (stability
needs λ_max(K̂)/n < 1; it is 1.4–2.1 for three points in [−2, 2]); the figure uses ``mean`` and the
cell also runs the literal loss on the same draws to count its divergences.
Before training, std Φ(x) = √(σ_w²·E[arctan²(N(0, σ_w²x² + σ_b²))] + σ_b²) (the NNGP variance).
"""

from __future__ import annotations

import math
import sys

import numpy as np
import torch
import xarray as xr

from widenet import laws, quadrature
from widenet.cells import Cell
from widenet.models import MLP
from widenet.training import gradient_descent


def init_std(x: np.ndarray, weight_var: float, bias_var: float, nodes: int = 64) -> np.ndarray:
    """√(σ_w²·E[arctan²(N(0, σ_w²x² + σ_b²))] + σ_b²) by Gauss–Hermite quadrature (d = 1)."""
    g, w = quadrature.gauss_hermite(nodes)
    scale = np.sqrt(weight_var * np.asarray(x, float) ** 2 + bias_var)
    second_moment = (np.arctan(scale[..., None] * g) ** 2) @ w
    return np.sqrt(weight_var * second_moment + bias_var)


def _model(cell: Cell) -> MLP:
    p = cell.params
    return MLP(1, p["width"], 1, activation="arctan", parameterization="standard", weight_std=math.sqrt(p["weight_var"]),
               bias_std=math.sqrt(p["bias_var"]), dtype=cell.dtype, device=cell.device)


def pz_figure_11_3(cell: Cell) -> xr.Dataset:
    """Train ``n_draws`` networks at once (loss ``loss``, h = lr_times_width/n) and the literal loss on the
    same draws; outputs on a fine x grid before and after; a large init-only sample for std Φ(x)."""
    p, data = cell.params, cell.dataset()
    model = _model(cell)
    x, y = cell.tensor(data.x.values), cell.tensor(data.y.values)
    grid = np.linspace(-p["x_max"], p["x_max"], p["n_grid"])
    fine = cell.tensor(grid[:, None])
    lr = p["lr_times_width"] / p["width"]
    draws = model.sample_parameters(p["n_draws"], cell.generator("draws"))
    run = gradient_descent(model, x, y, lr=lr, steps=p["steps"], loss=p["loss"], params=draws, x_test=fine,
                           progress=lambda it: cell.progress(it, f"GD ({p['loss']})", total=p["steps"] + 1))
    print("pz-figure-11-3: the book's literal loss Σ(Φ − y)² at h = 1/n on the same draws (expected to diverge):",
          file=sys.stderr)
    literal = gradient_descent(model, x, y, lr=lr, steps=p["steps"], loss="sum", params=draws)
    # λ_max(K̂₀)/n per draw: < 1 is the stability condition of Σ(Φ − y)² with h = 1/n
    from widenet import tangents

    kernel_max = torch.linalg.eigvalsh(tangents.empirical_ntk(model, x, params=draws))[:, -1] / p["width"]
    sample = model.sample_parameters(p["n_std_draws"], cell.generator("std"))
    std_x = cell.tensor(p["std_at"])[:, None]
    init_values = torch.vmap(lambda prm: torch.func.functional_call(model, prm, (std_x,)))(sample)
    draw = ("draw", np.arange(p["n_draws"]), {"long_name": "network realization"})
    np_ = lambda t: t.detach().cpu().numpy()  # noqa: E731
    return xr.Dataset(
        {
            "output_before": (("draw", "x"), np_(run.test_outputs[:, 0]), {"long_name": "Φ(x) at initialization", "units": "1"}),
            "output_after": (("draw", "x"), np_(run.test_outputs[:, -1]), {"long_name": f"Φ(x) after {p['steps']} GD steps", "units": "1"}),
            "train_residual": (("draw", "sample"), np_(run.train_outputs[:, -1] - y), {"long_name": "train residual Φ(x_i) − y_i after training", "units": "1"}),
            "train_loss": (("draw", "step"), np_(run.loss), {"long_name": f"training loss ({p['loss']})", "units": "1"}),
            "diverged_at": ("draw", np_(run.diverged_at), {"long_name": "step at which the loss became non-finite (−1: never)", "units": "1"}),
            "literal_final_loss": ("draw", np_(literal.loss[:, -1]), {"long_name": "Σ(Φ − y)² after training with the literal loss (NaN: diverged)", "units": "1"}),
            "literal_initial_loss": ("draw", np_(literal.loss[:, 0]), {"long_name": "Σ(Φ − y)² at initialization", "units": "1"}),
            "literal_diverged_at": ("draw", np_(literal.diverged_at), {"long_name": "literal loss: step of divergence (−1: never)", "units": "1"}),
            "ntk_max_over_width": ("draw", np_(kernel_max), {"long_name": "λ_max(K̂₀)/n (literal loss stable iff < 1)", "units": "1"}),
            "init_sample": (("std_draw", "std_x"), np_(init_values), {"long_name": "Φ(x) of independent networks at initialization", "units": "1"}),
            "train_x": ("sample", data.x.values[:, 0], {"long_name": "training input x_i", "units": "1"}),
            "train_y": ("sample", data.y.values, {"long_name": "training target y_i", "units": "1"}),
        },
        coords={
            "draw": draw,
            "x": ("x", grid, {"long_name": "input x", "units": "1"}),
            "sample": ("sample", np.arange(x.shape[0]), {"long_name": "training point"}),
            "step": ("step", np.arange(p["steps"] + 1), {"long_name": "GD step k", "units": "1"}),
            "std_draw": ("std_draw", np.arange(p["n_std_draws"]), {"long_name": "network realization (init sample)"}),
            "std_x": ("std_x", np.asarray(p["std_at"], float), {"long_name": "input x where std Φ(x) is checked", "units": "1"}),
        },
    )


def summarize_pz_figure_11_3(ds: xr.Dataset, config: dict) -> xr.Dataset:
    s = config["settings"]
    ds = ds.squeeze([d for d in config["grid"] if d in ds.dims])
    measured = ds.init_sample.std("std_draw")
    theory = init_std(ds.std_x.values, s["weight_var"], s["bias_var"])
    ds["init_std_measured"] = measured.assign_attrs(long_name="std Φ(x) over the init sample", units="1")
    ds["init_std_theory"] = ("std_x", theory, {"long_name": "√(3E[arctan²(N(0, 3x² + 2))] + 2)", "units": "1"})
    ds["init_std_grid"] = ("x", init_std(ds.x.values, s["weight_var"], s["bias_var"]),
                           {"long_name": "theory std Φ(x) on the fine grid", "units": "1"})
    n_std = ds.sizes["std_draw"]
    worst = float(abs(measured / theory - 1).max())
    max_residual = float(abs(ds.train_residual).max())
    literal_bad = int(((ds.literal_diverged_at >= 0) | (ds.literal_final_loss > ds.literal_initial_loss)).sum())
    n = ds.sizes["draw"]
    return laws.attach(ds, [
        laws.Law("max_train_residual", max_residual, 0.0, 1e-6,
                 f"max |Φ(x_i) − y_i| over {n} draws after training ({s['loss']} loss)"),
        laws.Law("init_std", worst, 0.0, 4.0 / math.sqrt(2 * n_std),
                 f"max relative error of std Φ(x) at init vs the NNGP formula ({n_std} draws, 4 s.e.)"),
        laws.Law("diverged", float((ds.diverged_at >= 0).sum()), 0.0, 0.0, f"draws that diverged with the {s['loss']} loss"),
        laws.Law("literal_loss_fails", float(literal_bad), float(n), 0.0,
                 "draws whose literal Σ(Φ − y)² at h = 1/n diverges or ends above its start"),
    ])
