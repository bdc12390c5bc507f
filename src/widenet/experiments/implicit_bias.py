"""B1 implicit-bias: GD on over-parameterized least squares (Hanin §1.3.2, eqs. 1.3.5–1.3.7;
Petersen–Zech Theorem 11.3, Remark 11.4; Amari Remark 1).

Random tanh features A = tanh(X Gᵀ) (n × P, P > n, G ~ N(0, 1)), the linear model f = A w
(``torch.nn.Linear(P, 1, bias=False)``), full-batch GD on Σ(Aw − y)² with step h. With the thin SVD
A = U S Vᵀ, w* = A⁺y the min-norm solution and ŵ₀ = (I − VVᵀ) w₀ the initial null-space component,

    w_k = w* + ŵ₀ + V diag((1 − 2h s_i²)^k) Vᵀ (w₀ − w* − ŵ₀)            (eq. 1.3.6)

so the null-space component never moves and ‖w_k − (w* + ŵ₀)‖ ~ (1 − 2h s_min²)^k for h ≤ 1/(2s_max²).
With weight decay λ the limit is the ridge solution w_λ = Aᵀ(AAᵀ + λI)⁻¹y, and w_λ → w* as λ → 0.
GD is stable for h < 1/s_max² (|1 − 2h s_max²| < 1); one run just below and one just above show it.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from widenet import laws
from widenet.cells import Cell
from widenet.training import gradient_descent


def random_features(x: torch.Tensor, n_features: int, generator: torch.Generator) -> torch.Tensor:
    """A = tanh(X Gᵀ), G ~ N(0, 1)^(P × d): features of order one for inputs on the unit sphere."""
    g = torch.randn(n_features, x.shape[1], generator=generator, dtype=x.dtype, device=x.device)
    return torch.tanh(x @ g.T)


def closed_form_iterates(a: torch.Tensor, y: torch.Tensor, w0: torch.Tensor, h: float, steps: torch.Tensor) -> torch.Tensor:
    """Eq. 1.3.6: w_k for every initial w₀ (E × P) and step k (C,), shape (E, C, P)."""
    _, s, vt = torch.linalg.svd(a, full_matrices=False)
    limit = _limit(a, y, w0)
    decay = (1 - 2 * h * s**2)[None, :] ** steps.to(s)[:, None]  # (C, n)
    coeff = (w0 - limit) @ vt.T  # (E, n)
    return limit[:, None, :] + torch.einsum("en,cn,np->ecp", coeff, decay, vt)


def _limit(a: torch.Tensor, y: torch.Tensor, w0: torch.Tensor) -> torch.Tensor:
    """w* + ŵ₀: the min-norm solution plus the null-space part of each w₀ (rows of w0)."""
    pinv = torch.linalg.pinv(a)
    return pinv @ y + w0 - w0 @ (pinv @ a).T


def _train(a, y, w0, h, steps, record, weight_decay=0.0):
    model = torch.nn.Linear(a.shape[1], 1, bias=False).to(a)
    return gradient_descent(model, a, y, lr=h, steps=steps, loss="sum", params={"weight": w0[:, None, :]},
                            weight_decay=weight_decay, checkpoint_every=record)


def implicit_bias(cell: Cell) -> xr.Dataset:
    """GD paths from w₀ = 0 and ``n_random_inits`` random w₀; ridge limits; the step bound."""
    p, data = cell.params, cell.dataset()
    x, y = cell.tensor(data.x.values), cell.tensor(data.y.values)
    a = random_features(x, p["n_features"], cell.generator("features"))
    s = torch.linalg.svdvals(a)
    h = p["lr_times_smax2"] / float(s[0] ** 2)
    random_w0 = torch.randn(p["n_random_inits"], a.shape[1], generator=cell.generator("init"), dtype=a.dtype, device=a.device)
    w0 = torch.cat([torch.zeros_like(random_w0[:1]), p["init_std"] * random_w0])
    run = _train(a, y, w0, h, p["steps"], p["record_every"])
    w = run.checkpoints["weight"][:, :, 0, :]  # (init, step, P)
    steps = run.checkpoint_steps
    exact = closed_form_iterates(a, y, w0, h, steps)
    null = torch.eye(a.shape[1]).to(a) - torch.linalg.pinv(a) @ a
    limit = _limit(a, y, w0)
    init = ("init", ["zero"] + [f"random {i}" for i in range(p["n_random_inits"])], {"long_name": "initial weights w₀"})
    ds = xr.Dataset(
        {
            "distance_to_limit": (("init", "step"), _np((w - limit[:, None]).norm(dim=-1)), {"long_name": "‖w_k − (w* + ŵ₀)‖", "units": "1"}),
            "null_component": (("init", "step"), _np((w @ null).norm(dim=-1)), {"long_name": "‖P_null w_k‖", "units": "1"}),
            "null_drift": (("init", "step"), _np(((w - w0[:, None]) @ null).norm(dim=-1)), {"long_name": "‖P_null (w_k − w₀)‖", "units": "1"}),
            "closed_form_gap": (("init", "step"), _np((w - exact).norm(dim=-1)), {"long_name": "‖w_k − eq. 1.3.6 closed form‖", "units": "1"}),
            "null_init": ("init", _np((w0 @ null).norm(dim=-1)), {"long_name": "‖ŵ₀‖ = ‖P_null w₀‖", "units": "1"}),
            "singular_value": ("rank", _np(s), {"long_name": "singular value s_i of the feature matrix A", "units": "1"}),
            "learning_rate": ((), h, {"long_name": "GD step h", "units": "1"}),
            "min_norm_gap": ((), float((w[0, -1] - torch.linalg.pinv(a) @ y).norm() / (torch.linalg.pinv(a) @ y).norm()),
                             {"long_name": "‖w_T − w*‖/‖w*‖ from w₀ = 0", "units": "1"}),
        },
        coords={"init": init, "step": ("step", _np(steps), {"long_name": "GD step k", "units": "1"}),
                "rank": ("rank", np.arange(1, s.numel() + 1), {"long_name": "singular value index i", "units": "1"})},
    )
    return ds.merge(_ridge(a, y, p)).merge(_stability(a, y, s, p))


def _ridge(a: torch.Tensor, y: torch.Tensor, p: dict) -> xr.Dataset:
    """GD with weight decay λ from w₀ = 0 against w_λ = Aᵀ(AAᵀ + λI)⁻¹y (one run per λ: h depends on λ)."""
    w_star = torch.linalg.pinv(a) @ y
    gram = a @ a.T
    s_max2 = float(torch.linalg.matrix_norm(a, 2) ** 2)
    gd, exact = [], []
    for lam in p["ridge_lambdas"]:  # few runs, each with its own stable step
        h = p["lr_times_smax2"] / (s_max2 + lam)
        w_gd = _train(a, y, torch.zeros(1, a.shape[1]).to(a), h, p["ridge_steps"], None, weight_decay=lam).params["weight"][0, 0]
        w_lam = a.T @ torch.linalg.solve(gram + lam * torch.eye(a.shape[0]).to(a), y)
        gd.append(float((w_gd - w_star).norm()))
        exact.append([float((w_lam - w_star).norm()), float((w_gd - w_lam).norm() / w_lam.norm())])
    exact = np.asarray(exact)
    return xr.Dataset(
        {
            "ridge_distance_gd": ("ridge_lambda", gd, {"long_name": "‖w_GD(λ) − w*‖ after GD with weight decay", "units": "1"}),
            "ridge_distance_exact": ("ridge_lambda", exact[:, 0], {"long_name": "‖w_λ − w*‖, w_λ = Aᵀ(AAᵀ + λI)⁻¹y", "units": "1"}),
            "ridge_gd_gap": ("ridge_lambda", exact[:, 1], {"long_name": "‖w_GD(λ) − w_λ‖/‖w_λ‖", "units": "1"}),
        },
        coords={"ridge_lambda": ("ridge_lambda", np.asarray(p["ridge_lambdas"], float), {"long_name": "weight decay λ", "units": "1"})},
    )


def _stability(a: torch.Tensor, y: torch.Tensor, s: torch.Tensor, p: dict) -> xr.Dataset:
    """‖w_k − w*‖ from w₀ = 0 at h = (1 ∓ margin)/s_max²: stable just below the bound, not above."""
    w_star = torch.linalg.pinv(a) @ y
    factors = [1 - p["stability_margin"], 1 + p["stability_margin"]]
    curves = []
    for factor in factors:  # two runs with different steps
        run = _train(a, y, torch.zeros(1, a.shape[1]).to(a), factor / float(s[0] ** 2), p["stability_steps"], p["record_every"])
        curves.append(_np((run.checkpoints["weight"][0, :, 0] - w_star).norm(dim=-1)))
    return xr.Dataset(
        {"stability_distance": (("h_times_smax2", "stability_step"), np.asarray(curves),
                                {"long_name": "‖w_k − w*‖ from w₀ = 0", "units": "1"})},
        coords={"h_times_smax2": ("h_times_smax2", factors, {"long_name": "step h·s_max²", "units": "1"}),
                "stability_step": ("stability_step", _np(run.checkpoint_steps), {"long_name": "GD step k", "units": "1"})},
    )


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def summarize_implicit_bias(ds: xr.Dataset, config: dict) -> xr.Dataset:
    ds = ds.squeeze([d for d in config["grid"] if d in ds.dims and ds.sizes[d] == 1])
    s = ds.singular_value.dropna("rank")
    rate = 1 - 2 * float(ds.learning_rate) * float(s[-1]) ** 2
    ds["rate_theory"] = rate ** ds.step.astype(float)
    ds.rate_theory.attrs = {"long_name": "(1 − 2h·s_min²)^k", "units": "1"}
    dist = ds.distance_to_limit.isel(init=0)
    late = dist.step >= dist.step.values[-1] / 2
    measured = float(np.exp(np.polyfit(dist.step[late], np.log(dist[late]), 1)[0]))
    ds["rate_measured"] = ((), measured, {"long_name": "fitted per-step factor of ‖w_k − w_∞‖ (second half)", "units": "1"})
    scale = float(ds.distance_to_limit.isel(step=0).max())
    small = ds.ridge_lambda <= ds.ridge_lambda.values[len(ds.ridge_lambda) // 2]
    ridge_slope = laws.loglog_slope(ds.ridge_lambda[small], ds.ridge_distance_exact[small])[0]
    stab = ds.stability_distance
    below, above = stab.isel(h_times_smax2=0), stab.isel(h_times_smax2=1)
    return laws.attach(ds, [
        laws.Law("closed_form", float(ds.closed_form_gap.max()) / scale, 0.0, 1e-10, "max ‖w_k − eq. 1.3.6‖ / ‖w₀ − w_∞‖"),
        laws.Law("null_space_fixed", float(ds.null_drift.max()) / scale, 0.0, 1e-12, "max ‖P_null(w_k − w₀)‖ / ‖w₀ − w_∞‖"),
        laws.Law("rate", measured, rate, 1e-3 * (1 - rate), "per-step contraction of ‖w_k − w_∞‖ vs 1 − 2h·s_min²"),
        laws.Law("min_norm_limit", float(ds.min_norm_gap), 0.0, 1e-8, "from w₀ = 0: ‖w_T − w*‖/‖w*‖"),
        laws.Law("ridge_closed_form", float(ds.ridge_gd_gap.max()), 0.0, 1e-8, "GD with weight decay vs Aᵀ(AAᵀ + λI)⁻¹y (max relative gap)"),
        laws.Law("ridge_slope", ridge_slope, 1.0, 0.05, "slope of ‖w_λ − w*‖ vs λ at small λ"),
        laws.Law("step_bound", float(above[-1] / above[0]), 1.0, 0.0, "h just above 1/s_max²: ‖w_T − w*‖/‖w₀ − w*‖ (> 1, and < 1 just below)",
                 holds=bool(above[-1] > above[0] and below[-1] < below[0])),
    ])
