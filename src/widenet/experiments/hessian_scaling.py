"""B5 hessian-scaling: ‖∇²_θ f(θ; x)‖ → 0 like width^(−1/2) while ‖∇_θ f‖² → Θ(x, x).

Liu–Zhu–Belkin eq. 1 and Theorem 4; Hanin §2.2 (eq. 2.2.7). One cell is one (activation, depth, width):
the output-Hessian norm of every input for every network (seed) and every parameter checkpoint (step 0
is the initialization; later steps come from the training family's checkpoints when the cell is given
them, so training runs once and only this measurement reruns when it changes).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch
import xarray as xr

from widenet import curvature, kernels, laws, tangents
from widenet.cells import Cell
from widenet.models import MLP


def _model(cell: Cell, in_dim: int) -> MLP:
    p = cell.params
    return MLP(in_dim, p["width"], p["depth"], activation=p["activation"], parameterization="ntk",
               bias_std=p["bias_std"], dtype=cell.dtype, device=cell.device)


def _parameters(cell: Cell, model: MLP) -> tuple[dict[str, torch.Tensor], np.ndarray]:
    """Parameters (seed, step, …) and their steps: the training checkpoints when the cell has them,
    else the initialization alone (step 0), drawn from the cell's own stream."""
    if "checkpoints" in cell.datasets:
        from widenet import training

        _, params, steps = training.load_checkpoints(cell.datasets["checkpoints"], device=cell.device, dtype=cell.dtype)
        return params, np.asarray(steps)
    init = model.sample_parameters(cell.params["n_seeds"], generator=cell.generator("init"))
    return {k: v.unsqueeze(1) for k, v in init.items()}, np.array([0])


def _n_parameters(p: dict, in_dim: int) -> int:
    dims = [in_dim] + [p["width"]] * p["depth"] + [1]
    return sum(fan_out * (fan_in + 1) for fan_in, fan_out in zip(dims[:-1], dims[1:]))


def _measured(cell: Cell) -> bool:
    """Whether this cell's net is measured (at most ``max_parameters`` parameters)."""
    return _n_parameters(cell.params, cell.dataset().x.shape[1]) <= cell.params["max_parameters"]


def train(cell: Cell) -> xr.Dataset:
    """The training family's checkpoints (``train_checkpoints``) for the nets this experiment measures;
    a net it will not measure (``max_parameters``) is trained for one step only, so that no time goes
    into checkpoints nobody reads."""
    from widenet.experiments.training import train_checkpoints

    if not _measured(cell):
        cell = dataclasses.replace(cell, params={**cell.params, "train_steps": 1, "checkpoint_steps": [0]})
    return train_checkpoints(cell)


def _variable(values, dims, long_name, units="1"):
    return (dims, np.asarray(values), {"long_name": long_name, "units": units})


def hessian_scaling(cell: Cell) -> xr.Dataset:
    """‖H(x_i)‖₂ by Lanczos (tolerance ``tol``) and ‖∇f(x_i)‖ for every seed, checkpoint and input.

    A net with more than ``max_parameters`` parameters is not measured (NaN; the figure says so): the
    quick profile keeps depth ≥ 2 to the widths a CPU measures in seconds.
    """
    p = cell.params
    x = cell.tensor(cell.dataset().x.values)
    model = _model(cell, x.shape[1])
    n_params = _n_parameters(p, x.shape[1])
    if _measured(cell):
        params, steps = _parameters(cell, model)
    else:  # not measured: NaN at the configured checkpoint steps
        params, steps = None, np.asarray(p["checkpoint_steps"] if "checkpoints" in cell.datasets else [0])
    n_seeds, n_steps = p["n_seeds"], len(steps)
    shape, dims = (n_seeds, n_steps, x.shape[0]), ("seed", "step", "input")
    nan = torch.full(shape, math.nan)
    norm = grad = exact = nan
    if params is not None:
        flat = {k: v.flatten(0, 1) for k, v in params.items()}
        norm = curvature.output_hessian_norm(model, x, params=flat, method="lanczos", tol=p["tol"],
                                             generator=cell.generator("lanczos")).reshape(shape)
        grad = tangents.empirical_ntk(model, x, params=flat).diagonal(dim1=-2, dim2=-1).sqrt().reshape(shape)
        if p["depth"] == 1:
            exact = curvature.single_layer_hessian_norm(model, x, params=flat).reshape(shape)
    a0, c0 = model.multipliers(0)
    ntk = kernels.analytic(x, depth=p["depth"], activation=p["activation"], bias_std=p["bias_std"])["ntk"].diagonal()
    data = {
        "hessian_norm": _variable(norm.cpu(), dims, "spectral norm of the output Hessian ‖∇²_θ f(θ; x)‖₂ (Lanczos)"),
        "hessian_norm_blocks": _variable(exact.cpu(), dims, "‖H‖ from the closed-form neuron blocks (depth 1 only)"),
        "gradient_norm": _variable(grad.cpu(), dims, "norm of the output gradient ‖∇_θ f(θ; x)‖"),
        "ntk_diagonal": _variable(ntk.cpu(), ("input",), "analytic infinite-width NTK Θ(x, x)"),
        "first_layer_variance": _variable((a0 * a0 * (x * x).sum(-1) + c0 * c0).cpu(), ("input",),
                                          "s² = a₀²|x|² + c₀², variance of a first-layer pre-activation"),
        "n_parameters": _variable(n_params, (), "number of parameters P"),
    }
    coords = {
        "seed": ("seed", np.arange(n_seeds), {"long_name": "network (independent initialization)"}),
        "step": ("step", steps, {"long_name": "gradient-descent step of the checkpoint (0 = init)", "units": "1"}),
        "input": ("input", np.arange(x.shape[0]), {"long_name": "input index"}),
    }
    return xr.Dataset(data, coords=coords)


# --- aggregate: means, fitted slopes, the finite-width law ----------------------------------------
def _input_variance(ds: xr.Dataset) -> float:
    """s² = a₀²|x|² + c₀² (one value: the inputs lie on a sphere)."""
    s2 = ds.first_layer_variance.values
    if not np.allclose(s2, s2.flat[0], rtol=1e-9):
        raise ValueError("the depth-1 law needs inputs of one norm (first_layer_variance differs between inputs)")
    return float(s2.flat[0])


def _depth1_laws(ds: xr.Dataset, config: dict) -> list[laws.Law]:
    """The fitted depth-1 slope at init against the slope of the exact finite-width expectation."""
    found = []
    for act in ds.activation.values:
        mean = ds.hessian_norm_mean.sel(activation=act, depth=1).isel(step=0).dropna("width")
        law_slope, _, _ = laws.loglog_slope(mean.width, ds.hessian_norm_law.sel(activation=act).sel(width=mean.width))
        slope, _, _ = laws.loglog_slope(mean.width, mean)
        found.append(laws.Law(f"slope_depth1_{act}", slope, law_slope, 0.03,
                              f"{act}, depth 1: fitted slope of ‖H‖ vs width (theory: exact finite-width expectation)"))
        blocks = ds.hessian_norm_blocks.sel(activation=act, depth=1)
        rel = float((abs(ds.hessian_norm.sel(activation=act, depth=1) - blocks) / blocks).max())
        found.append(laws.Law(f"lanczos_vs_blocks_{act}", rel, 0.0, config["settings"]["tol"],
                              f"{act}, depth 1: max relative gap Lanczos vs closed-form neuron blocks"))
    return found


def _deep_and_gradient_laws(ds: xr.Dataset) -> list[laws.Law]:
    found = []
    for act in ds.activation.values:
        for depth in ds.depth.values[ds.depth.values > 1]:
            mean = ds.hessian_norm_mean.sel(activation=act, depth=depth).isel(step=0).dropna("width")
            slope, _, _ = laws.loglog_slope(mean.width, mean)
            found.append(laws.Law(f"slope_depth{depth}_{act}", slope, -0.5, 0.15,
                                  f"{act}, depth {depth}: fitted slope of ‖H‖ vs width (asymptote −1/2; no finite-width law)"))
        ratio = ds.gradient_ratio.sel(activation=act).isel(step=0).dropna("width", how="all").isel(width=-1)
        found.append(laws.Law(f"gradient_ntk_{act}", float(abs(ratio - 1).max()), 0.0, 0.1,
                              f"{act}: max over depths of |‖∇f‖²/Θ(x,x) − 1| at the largest width"))
        if ds.sizes["step"] > 1:
            change = ds.hessian_norm_mean.sel(activation=act).isel(step=-1) / ds.hessian_norm_mean.sel(activation=act).isel(step=0)
            last = change.dropna("width", how="all").isel(width=-1)
            found.append(laws.Law(f"trained_vs_init_{act}", float(abs(last - 1).max()), 0.0, 0.1,
                                  f"{act}: max over depths of |‖H_trained‖/‖H_init‖ − 1| at the largest width"))
    return found


def summarize_hessian_scaling(ds: xr.Dataset, config: dict) -> xr.Dataset:
    count = ds.hessian_norm.notnull().sum(("seed", "input"))
    ds["hessian_norm_mean"] = ds.hessian_norm.mean(("seed", "input")).assign_attrs(
        long_name="mean of ‖H(x)‖₂ over networks and inputs", units="1")
    ds["hessian_norm_se"] = (ds.hessian_norm.std(("seed", "input")) / np.sqrt(count)).assign_attrs(
        long_name="standard error of that mean (inputs of one network are correlated)", units="1")
    ds["gradient_ratio"] = ((ds.gradient_norm**2).mean(("seed", "input")) / ds.ntk_diagonal.mean("input")).assign_attrs(
        long_name="mean ‖∇f‖² / analytic NTK Θ(x, x)", units="1")
    law = [curvature.expected_single_layer_hessian_norm(ds.width.values, str(act), s2=_input_variance(ds))
           for act in ds.activation.values]
    ds["hessian_norm_law"] = (("activation", "width"), np.asarray(law), {
        "long_name": "exact finite-width E‖H‖ at depth 1: E[max of m neuron-block norms]/√m", "units": "1"})
    found = (_depth1_laws(ds, config) if 1 in ds.depth.values else []) + _deep_and_gradient_laws(ds)
    return laws.attach(ds, found)
