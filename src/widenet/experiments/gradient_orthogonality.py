"""B7 gradient-orthogonality: neuron gradients of one layer become orthogonal as the layer below widens.

Liu–Zhu–Belkin Theorem 3, eqs. 11–14, 22, Appendix B, Figure 3. One cell is one (network, width):
``full`` has 3 hidden layers of width m (the paper's "4-layer" net counts weight layers, eq. 8);
``bottleneck`` has widths (m₁, m_b, m₁) with m_b the cell's width. For every network (seed) the mean
|cos| between the parameter gradients of two pre-activation neurons (eq. 22), at
initialization and after full-batch gradient descent on two-class images (layers 2 and 3; layer 1's
|cos| is 0 identically, which tests/test_curvature.py checks against autograd).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import curvature, laws, quadrature, training
from widenet.activations import get as activation
from widenet.cells import Cell
from widenet.models import MLP

LAYERS = (2, 3)  # layer 1 is excluded: its neurons share no parameter, |cos| = 0 exactly (Remark 4)


def _widths(p: dict) -> list[int]:
    return [p["width"]] * 3 if p["network"] == "full" else [p["outer_width"], p["width"], p["outer_width"]]


def gradient_orthogonality(cell: Cell) -> xr.Dataset:
    p = cell.params
    data = cell.dataset()
    x, y = cell.tensor(data.x.values), cell.tensor(data.y.values)
    model = MLP(x.shape[1], widths=_widths(p), activation=p["activation"], parameterization="ntk",
                dtype=cell.dtype, device=cell.device)
    init = model.sample_parameters(p["n_seeds"], generator=cell.generator("init"))
    trained = training.gradient_descent(model, x, y, lr=p["lr"], steps=p["steps"], loss="mean", params=init,
                                        progress=lambda steps: cell.progress(steps, "GD steps"))
    cos = torch.stack([torch.stack([curvature.gradient_orthogonality(model, x, layer, params) for layer in LAYERS], -1)
                       for params in (init, trained.params)], -1)  # (seed, layer, stage)
    return xr.Dataset(
        {
            "mean_abs_cos": (("seed", "layer", "stage"), cos.cpu().numpy(),
                             {"long_name": "mean |cos| between gradients of two neurons of the layer (eq. 22)", "units": "1"}),
            "final_loss": ("seed", trained.loss[:, -1].cpu().numpy(), {"long_name": "training loss after GD (mean loss)", "units": "1"}),
            "initial_loss": ("seed", trained.loss[:, 0].cpu().numpy(), {"long_name": "training loss at init", "units": "1"}),
            "image_source": data.image_source,
            "input_layer_width": ((), _widths(p)[0], {"long_name": "m₁, width of hidden layer 1", "units": "1"}),
        },
        coords={
            "seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "network (independent initialization)"}),
            "layer": ("layer", list(LAYERS), {"long_name": "hidden layer l (counted from 1)", "units": "1"}),
            "stage": ("stage", ["init", "trained"], {"long_name": "before or after gradient descent"}),
        },
    )


def layer2_constant(activation_name: str, c1: float = 1.0, n_nodes: int = 96) -> float:
    """lim √m₁·E|cos| at layer 2 at init. With G⁽¹⁾ = c₁I (c₁ = |x|²/d, no bias) the recursion gives
    G⁽²⁾_ij = (c₁/m₁)Σ_k W_ik W_jk σ′(z_k)²: for i ≠ j a sum of m₁ centred terms, ≈ N(0, c₁²E[σ′⁴]/m₁), while
    G⁽²⁾_ii → E[σ²] + c₁E[σ′²] with z ~ N(0, c₁). Hence √m₁·E|cos| → √(2/π)·c₁√E[σ′⁴] / (E[σ²] + c₁E[σ′²])."""
    g, w = quadrature.gauss_hermite(n_nodes)
    z = torch.as_tensor(math.sqrt(c1) * g)
    act = activation(activation_name)
    d1, s = act.derivative(z).numpy(), act(z).numpy()
    return math.sqrt(2 / math.pi) * c1 * math.sqrt(w @ d1**4) / (w @ s**2 + c1 * (w @ d1**2))


# --- aggregate ---------------------------------------------------------------------------------------
def summarize_gradient_orthogonality(ds: xr.Dataset, config: dict) -> xr.Dataset:
    s = config["settings"]
    ds["cos_mean"] = ds.mean_abs_cos.mean("seed").assign_attrs(long_name="mean |cos| over networks", units="1")
    ds["cos_se"] = (ds.mean_abs_cos.std("seed") / np.sqrt(ds.sizes["seed"])).assign_attrs(
        long_name="standard error over networks", units="1")
    constant = layer2_constant(s["activation"])
    ds["layer2_theory"] = (constant / np.sqrt(ds.input_layer_width)).assign_attrs(
        long_name="layer 2 at init: √(2/π)c₁√E[σ′⁴]/((E[σ²] + c₁E[σ′²])√m₁)", units="1")
    return laws.attach(ds, _laws(ds, constant))


def _slope(curve: xr.DataArray) -> float:
    return laws.loglog_slope(curve.width, curve)[0]


def _laws(ds: xr.Dataset, constant: float) -> list[laws.Law]:
    found = []
    nets = list(ds.network.values)
    if "full" in nets:
        full = ds.cos_mean.sel(network="full")
        for layer in (2, 3):
            for stage in ("init", "trained"):
                curve = full.sel(layer=layer, stage=stage)
                found.append(laws.Law(f"full_slope_layer{layer}_{stage}", _slope(curve), -0.5, 0.12,
                                      f"full net, layer {layer}, {stage}: slope of mean |cos| vs m"))
            found.append(laws.Law(f"full_monotone_layer{layer}", float(full.sel(layer=layer, stage="init").diff("width").max()), 0.0, 0.0,
                                  f"full net, layer {layer}: mean |cos| decreases in m at init",
                                  holds=bool((full.sel(layer=layer, stage="init").diff("width") < 0).all())))
        last = full.sel(layer=2, stage="init").isel(width=-1)
        found.append(laws.Law("full_layer2_constant", float(last * np.sqrt(last.width)), constant, 0.1 * constant,
                              f"full net, layer 2: √m·E|cos| at m = {int(last.width)} vs the Gram-recursion limit (10 %)"))
    if "bottleneck" in nets:
        neck = ds.cos_mean.sel(network="bottleneck", stage="init")
        found.append(laws.Law("bottleneck_layer2_flat", _slope(neck.sel(layer=2)), 0.0, 0.1,
                              "bottleneck, layer 2 (the bottleneck): slope vs m_b — flat, set by m₁ (Thm 3)"))
        found.append(laws.Law("bottleneck_layer3_slope", _slope(neck.sel(layer=3)), -0.5, 0.15,
                              "bottleneck, layer 3: slope vs m_b (its lower layer is the bottleneck)"))
    return found
