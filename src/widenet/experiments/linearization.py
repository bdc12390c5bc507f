"""B3 linearization: a wide network trains like its linearization (Hanin Theorem 2.2.1; Petersen–Zech
§11.5.4, Theorem 11.23, Propositions 11.25, 11.26, §11.6; Lee et al. 2019).

From the same θ₀, full-batch GD on the network f and on f_lin(θ) = f(θ₀) + J(θ₀)(θ − θ₀)
(``widenet.training``, ``linearized=True``). On train inputs the linearized residual is exactly
r_k = (I − c·h·K̂₀)^k r₀ (checked per cell). Measured against width: the relative NTK change
‖K̂_T − K̂₀‖_F/‖K̂₀‖_F (bounded by O(n^(−1/2)); ∝ n^(−1) for smooth σ under ntk, Dyer & Gur-Ari 2019),
sup_t |f − f_lin| on train and test inputs, sup_t ‖θ_t − θ_t^lin‖, ‖θ_T − θ₀‖ and its relative size,
and the movement of each layer (input, hidden-to-hidden, readout; §11.6). Steps: ``lr_ntk`` under ntk
and h = ``lr_standard_times_width``/n under standard (Theorem 11.23); stability c·h·λ_max(K̂₀) < 2 is
recorded for every network.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from widenet import laws, tangents
from widenet.cells import Cell
from widenet.models import MLP
from widenet.training import KERNEL_FACTOR, gradient_descent

LAYERS = ("input", "hidden", "readout")  # the layer groups of the movement table (hidden: NaN at depth 1)


def linearization(cell: Cell) -> xr.Dataset:
    """Every (init, activation) of the cell: ``n_seeds`` networks and their linearizations, trained at once."""
    p, data = cell.params, cell.dataset()
    x, y, x_test = cell.tensor(data.x.values), cell.tensor(data.y.values), cell.tensor(data.x_test.values)
    rows = {}
    pairs = [(init, act) for init in p["inits"] for act in p["activations"]]
    for init, act in pairs:  # different models (parameterization, σ): one ensemble each
        model = MLP(x.shape[1], p["width"], p["depth"], activation=act, parameterization=init, bias_std=p["bias_std"],
                    dtype=cell.dtype, device=cell.device)
        params = model.sample_parameters(p["n_seeds"], cell.generator(f"init-{init}-{act}"))
        lr = p["lr_ntk"] if init == "ntk" else p["lr_standard_times_width"] / p["width"]
        rows[init, act] = _measure(cell, model, params, x, y, x_test, lr)
    return _dataset(rows, p)


def _measure(cell, model, params, x, y, x_test, lr) -> dict:
    p = cell.params
    kw = dict(lr=lr, steps=p["steps"], loss=p["loss"], params=params, x_test=x_test,
              record_every=p["record_every"], checkpoint_every=p["checkpoint_every"])
    net = gradient_descent(model, x, y, **kw, progress=lambda it: cell.progress(it, f"GD {model.parameterization}/{model.activation.name}"))
    lin = gradient_descent(model, x, y, linearized=True, **kw)
    k0 = tangents.empirical_ntk(model, x, params=params)
    k_t = tangents.empirical_ntk(model, x, params=net.params)
    c = KERNEL_FACTOR[p["loss"]](x.shape[0])
    return {
        "ntk_change": _norm(k_t - k0) / _norm(k0),
        "stability": c * lr * torch.linalg.eigvalsh(k0)[:, -1],
        "output_gap_train": (net.train_outputs - lin.train_outputs).abs().flatten(1).amax(1),
        "output_gap_test": (net.test_outputs - lin.test_outputs).abs().flatten(1).amax(1),
        "param_gap": _param_norm({k: net.checkpoints[k] - lin.checkpoints[k] for k in params}, keep=2).amax(1),
        "param_move": _param_norm({k: net.params[k] - params[k] for k in params}),
        "param_norm0": _param_norm(params),
        "linear_residual_error": _kernel_power_error(lin, k0, y, c * lr),
        "final_loss": net.loss[:, -1],
        "final_loss_lin": lin.loss[:, -1],
        "diverged": (net.diverged_at >= 0) | (lin.diverged_at >= 0),
        "layer_move": _layer_groups(model, {k: net.params[k] - params[k] for k in params}),
        "layer_norm0": _layer_groups(model, params),
        "test_output": net.test_outputs[0, :, 0],
        "test_output_lin": lin.test_outputs[0, :, 0],
        "record_steps": net.record_steps,
    }


def _norm(t: torch.Tensor) -> torch.Tensor:
    return t.flatten(1).norm(dim=1)


def _param_norm(params: dict, keep: int = 1) -> torch.Tensor:
    """‖θ‖ over all parameters, keeping the ``keep`` leading (ensemble, step) dimensions."""
    return torch.sqrt(sum(t.flatten(keep).pow(2).sum(-1) for t in params.values()))


def _layer_groups(model: MLP, params: dict) -> torch.Tensor:
    """(seed, 3): ‖(W_ℓ, b_ℓ)‖ summed in quadrature over input (ℓ = 0), hidden (0 < ℓ < L), readout (ℓ = L)."""
    per_layer = [params[f"weight{ell}"].flatten(1).pow(2).sum(1) + params[f"bias{ell}"].flatten(1).pow(2).sum(1)
                 for ell in range(model.depth + 1)]
    hidden = sum(per_layer[1:-1]) if model.depth > 1 else torch.full_like(per_layer[0], float("nan"))
    return torch.stack([per_layer[0], hidden, per_layer[-1]], 1).sqrt()


def _kernel_power_error(lin, k0: torch.Tensor, y: torch.Tensor, step: float) -> torch.Tensor:
    """max_k |r_k − (I − c·h·K̂₀)^k r₀| / max|r₀| on train inputs, per network (exact for f_lin)."""
    r = lin.train_outputs - y  # (seed, record, n)
    powers = torch.stack([torch.linalg.matrix_power(torch.eye(k0.shape[-1]).to(k0) - step * k0, int(k))
                          for k in lin.record_steps])  # (record, seed, n, n)
    expected = torch.einsum("rsij,sj->sri", powers, r[:, 0])
    return (r - expected).abs().flatten(1).amax(1) / r[:, 0].abs().amax(1)


SCALARS = {
    "ntk_change": "relative NTK change ‖K̂_T − K̂₀‖_F/‖K̂₀‖_F",
    "stability": "c·h·λ_max(K̂₀) (GD on the residual is stable iff < 2)",
    "output_gap_train": "sup_t max_i |f_t − f_t^lin| on the train inputs",
    "output_gap_test": "sup_t max_j |f_t − f_t^lin| on the test inputs",
    "param_gap": "sup_t ‖θ_t − θ_t^lin‖ over the checkpoints",
    "param_move": "‖θ_T − θ₀‖",
    "param_norm0": "‖θ₀‖",
    "linear_residual_error": "max_k |r_k^lin − (I − c·h·K̂₀)^k r₀| / max|r₀|",
    "final_loss": "training loss of the network after T steps",
    "final_loss_lin": "training loss of the linearized model after T steps",
    "diverged": "the network or its linearization diverged (non-finite loss)",
}


def _dataset(rows: dict, p: dict) -> xr.Dataset:
    inits, acts = p["inits"], p["activations"]
    grid = lambda key: np.stack([[rows[i, a][key].detach().cpu().numpy() for a in acts] for i in inits])  # noqa: E731
    pair = ("init", "activation")
    data = {k: (pair + ("seed",), grid(k), {"long_name": v, "units": "1"}) for k, v in SCALARS.items()}
    data["layer_move"] = (pair + ("seed", "layer"), grid("layer_move"), {"long_name": "‖Δ(W_ℓ, b_ℓ)‖ of the layer group after T steps", "units": "1"})
    data["layer_norm0"] = (pair + ("seed", "layer"), grid("layer_norm0"), {"long_name": "‖(W_ℓ, b_ℓ)‖ of the layer group at init", "units": "1"})
    data["test_output"] = (pair + ("record_step",), grid("test_output"), {"long_name": "network output f_t(x_test,0), seed 0", "units": "1"})
    data["test_output_lin"] = (pair + ("record_step",), grid("test_output_lin"), {"long_name": "linearized output f_t^lin(x_test,0), seed 0", "units": "1"})
    steps = rows[inits[0], acts[0]]["record_steps"].numpy()
    return xr.Dataset(data, coords={
        "init": ("init", list(inits), {"long_name": "parameterization at init"}),
        "activation": ("activation", list(acts), {"long_name": "activation σ"}),
        "seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "network draw"}),
        "layer": ("layer", list(LAYERS), {"long_name": "layer group (input: ℓ = 0, hidden: 0 < ℓ < L, readout: ℓ = L)"}),
        "record_step": ("record_step", steps, {"long_name": "GD step k", "units": "1"}),
    })


METRICS = {  # fitted against width: (variable, init, description)
    "ntk_change": ("ntk_change", "ntk", "‖K̂_T − K̂₀‖/‖K̂₀‖"),
    "output_gap": ("output_gap_train", "ntk", "sup|f − f_lin| on train inputs"),
    "param_gap": ("param_gap", "ntk", "sup‖θ_t − θ_t^lin‖"),
    "param_move": ("param_move", "ntk", "‖θ_T − θ₀‖"),
    "relative_move": ("relative_move", "ntk", "‖θ_T − θ₀‖/‖θ₀‖"),
    "standard_move": ("param_move", "standard", "‖θ_T − θ₀‖, standard init, h ∝ 1/n"),
}


def _slope_table(ds: xr.Dataset) -> xr.DataArray:
    """Log-log slopes against width of the seed means, over (metric, depth, activation)."""
    means = ds.assign(relative_move=ds.param_move / ds.param_norm0).mean("seed")
    slopes = [laws.loglog_slopes(means[var].sel(init=init), "width").slope for var, init, _ in METRICS.values()]
    table = xr.concat(slopes, "metric").assign_coords(metric=("metric", list(METRICS), {"long_name": "fitted quantity"}))
    return table.transpose("metric", "depth", "activation").assign_attrs(long_name="log-log slope against width (seed means)", units="1")


def _depth_laws(ds: xr.Dataset, depth: int, act: str) -> list:
    """Laws for one (depth, activation). The linearization theorems (Lee et al. 2019; Petersen–Zech
    Thm 11.23) assume a smooth σ: for relu only the NTK change and the standard-init movement are laws,
    the other relu slopes are drawn and stored (``slope``) but not tested. A law fitted on a network
    that diverged is ✗."""
    at = lambda metric: float(ds.slope.sel(metric=metric, depth=depth, activation=act))  # noqa: E731
    bad = {init: bool(ds.diverged.sel(depth=depth, activation=act, init=init).any()) for init in ("ntk", "standard")}

    def law(name, metric, theory, tol, text, init="ntk", holds=None):
        return laws.Law(f"{name}_{act}_L{depth}", at(metric), theory, tol, f"{init}, {act}, depth {depth}: {text}",
                        holds=False if bad[init] else holds)

    smooth = act != "relu"
    found = [
        law("ntk_change", "ntk_change", -1.0 if smooth else -0.75, 0.2 if smooth else 0.25,
            "slope of ‖K̂_T − K̂₀‖/‖K̂₀‖ (Dyer & Gur-Ari: −1 for smooth σ; theorems: ≤ −½)"),
        law("standard_move", "standard_move", -0.5, 0.1, "h ∝ 1/n, slope of ‖θ_T − θ₀‖ (Thm 11.23)", init="standard"),
    ]
    if smooth:
        found += [
            law("output_gap", "output_gap", -0.5, 0.0, "slope of sup|f − f_lin| on train inputs (≤ −½)", holds=at("output_gap") <= -0.4),
            law("param_gap", "param_gap", -0.5, 0.25, "slope of sup‖θ_t − θ_t^lin‖"),
            law("param_move", "param_move", 0.0, 0.1, "slope of ‖θ_T − θ₀‖ (O(1))"),
            law("relative_move", "relative_move", -0.5 if depth == 1 else -1.0, 0.1,
                "slope of ‖θ_T − θ₀‖/‖θ₀‖ (‖θ₀‖ ∝ √n at depth 1, ∝ n deeper)"),
        ]
    return found


def _layer_laws(ds: xr.Dataset) -> list:
    """Depth 1 (§11.6): ‖ΔU‖/‖Δv‖ ∝ n^(−1/2) under standard init, O(1) under ntk."""
    if 1 not in ds.depth:
        return []
    m = ds.sel(depth=1).mean("seed")
    ratio = m.layer_move.sel(layer="input") / m.layer_move.sel(layer="readout")
    return [laws.Law(f"layer_ratio_{init}_{act}", laws.loglog_slope(ratio.width, ratio.sel(init=init, activation=act))[0], theory, 0.15,
                     f"{init}, {act}, depth 1: slope of ‖ΔU‖/‖Δv‖ (input layer over readout, §11.6)")
            for init, theory in (("ntk", 0.0), ("standard", -0.5)) for act in ds.activation.values]


def summarize_linearization(ds: xr.Dataset, config: dict) -> xr.Dataset:
    ds["slope"] = _slope_table(ds)
    found = [law for depth in ds.depth.values for act in ds.activation.values
             for law in _depth_laws(ds, int(depth), str(act))] + _layer_laws(ds)
    first = ds.stability.isel(width=0)
    ds["unstable_at_first_width"] = ((first >= 2).any("seed").transpose("depth", "init", "activation")
                                     .assign_attrs(long_name="c·h·λ_max(K̂₀) ≥ 2 for some network at the smallest width", units="1"))
    found += [
        laws.Law("linear_residual", float(ds.linear_residual_error.max()), 0.0, 1e-4 if ds.test_output.dtype == np.float32 else 1e-10,
                 "max |r_k^lin − (I − c·h·K̂₀)^k r₀| / max|r₀| over all networks"),
        laws.Law("stable", float(ds.stability.max()), 2.0, 0.0, "max c·h·λ_max(K̂₀) over all networks (stable iff < 2)",
                 holds=bool(ds.stability.max() < 2)),
        laws.Law("diverged", float(ds.diverged.sum()), 0.0, 0.0, "networks or linearizations that diverged"),
    ]
    return laws.attach(ds, found)
