"""B6 taylor-remainder: the quadratic Taylor term of networks and assembly models vs width.

Liu–Zhu–Belkin §2 (eqs. 4–5, Theorem 1, Corollary 1), Appendix A, Theorem 4 (eq. 19 reads R², not R).
One cell is one (model, width): for every network (seed) and input, the remainder
|f(θ₀ + Δ) − f(θ₀) − ∇f(θ₀)·Δ| with ‖Δ‖ = R along random unit directions and along the top eigenvector
of the output Hessian (the worst direction), and, for assembly models, the eq. 5 bound on the ball of
radius R and the identity r = s⁻¹ Σ vᵢ rᵢ(Δᵢ).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import curvature, laws, models
from widenet.cells import Cell

MODELS = ("network-1", "network-2", "assembly-sign", "assembly-gaussian")


def _build(cell: Cell, in_dim: int):
    """(module, outputs(params, x) with leading dims, parameters (seed, …))."""
    p, gen = cell.params, cell.generator("init")
    kind, width, seeds = p["model"], p["width"], p["n_seeds"]
    if kind.startswith("network"):
        net = models.MLP(in_dim, width, int(kind.split("-")[1]), activation="tanh", bias_std=p["bias_std"],
                         dtype=cell.dtype, device=cell.device)
        return net, lambda params, x: models.outputs(net, params, x), net.sample_parameters(seeds, generator=gen)
    net = curvature.AssemblyModel(in_dim, width, p["sub_width"], coefficients=kind.split("-")[1], generator=gen,
                                  dtype=cell.dtype, device=cell.device)
    params = {k: torch.randn(seeds, *v.shape, generator=gen, dtype=cell.dtype, device=cell.device)
              for k, v in net.named_parameters()}
    return net, net.outputs, params


def _worst_direction(cell: Cell, net, params, x):
    """Top eigenpair of every output Hessian: exact neuron blocks for assembly models, Lanczos for networks."""
    if isinstance(net, curvature.AssemblyModel):
        return net.top_eigenpair(params, x)
    eig = curvature.output_hessian_eigenpairs(net, x, params=params, vectors=True, tol=cell.params["tol"],
                                              generator=cell.generator("lanczos"))
    return eig.values[..., 0], curvature.as_params(net, eig.vectors[..., 0, :])


def _random_directions(params, n: int, gen) -> dict:
    """n unit directions per network (seed, n, …), Gaussian then normalized over all parameters."""
    raw = {k: torch.randn(v.shape[0], n, *v.shape[1:], generator=gen, dtype=v.dtype, device=v.device) for k, v in params.items()}
    norm = torch.sqrt(sum((r.flatten(2) ** 2).sum(-1) for r in raw.values()))
    return {k: r / norm.reshape(*norm.shape, *[1] * (r.ndim - 2)) for k, r in raw.items()}


def _per_input(fn, x):
    """Outputs of parameters (…, n, …) each at its own input: the diagonal over inputs."""
    return lambda params: fn(params, x).diagonal(dim1=-2, dim2=-1)


def taylor_remainder(cell: Cell) -> xr.Dataset:
    p = cell.params
    x = cell.tensor(cell.dataset().x.values)
    net, outputs, params = _build(cell, x.shape[1])
    radii = [float(r) for r in p["radii"]]
    n_params = sum(v.numel() for v in net.parameters())
    random_dirs = _random_directions(params, p["n_directions"], cell.generator("directions"))
    expand = {k: v.unsqueeze(1).expand_as(random_dirs[k]) for k, v in params.items()}  # (seed, direction, …)
    rand = torch.stack([curvature.taylor_remainder(lambda q: outputs(q, x), expand, random_dirs, r) for r in radii], -1)
    top_value, top = _worst_direction(cell, net, params, x)  # (seed, input, …): one direction per input
    at_inputs = {k: v.unsqueeze(1).expand(-1, x.shape[0], *v.shape[1:]) for k, v in params.items()}
    worst = torch.stack([curvature.taylor_remainder(_per_input(outputs, x), at_inputs, top, r) for r in radii], -1)
    dims = ("seed", "input", "radius")
    data = {
        "remainder_random": (("seed", "direction", "input", "radius"), rand.abs().cpu().numpy(),
                             {"long_name": "|f(θ₀+RΔ) − f(θ₀) − R∇f·Δ|, random unit Δ", "units": "1"}),
        "remainder_worst": (dims, worst.abs().cpu().numpy(),
                            {"long_name": "|remainder| along the top Hessian eigenvector", "units": "1"}),
        "hessian_top": (("seed", "input"), top_value.abs().cpu().numpy(),
                        {"long_name": "‖∇²_θ f(θ₀; x)‖₂ (Lanczos; exact blocks for assembly models)", "units": "1"}),
        "n_parameters": ((), n_params, {"long_name": "number of parameters P", "units": "1"}),
    }
    data.update(_assembly_checks(net, params, x, random_dirs, radii, rand))
    coords = {
        "seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "network (independent initialization)"}),
        "direction": ("direction", np.arange(p["n_directions"]), {"long_name": "random direction"}),
        "input": ("input", np.arange(x.shape[0]), {"long_name": "input index"}),
        "radius": ("radius", radii, {"long_name": "step length R = ‖Δ‖", "units": "1"}),
    }
    return xr.Dataset(data, coords=coords)


BOUND = {"long_name": "eq. 5 bound β R²/(2√m), β = max|vᵢ|βᵢ(R) on the ball of radius R (assembly models)", "units": "1"}
IDENTITY = {"long_name": "max |r − s⁻¹Σvᵢrᵢ(Δᵢ)| over draws, directions, inputs, radii (assembly models)", "units": "1"}


def _assembly_checks(net, params, x, directions, radii, remainders) -> dict:
    """Eq. 5 bound per (seed, input, radius) and max |r − s⁻¹ Σ vᵢ rᵢ(Δᵢ)| (NaN for networks)."""
    dims = ("seed", "input", "radius")
    if not isinstance(net, curvature.AssemblyModel):
        shape = (next(iter(params.values())).shape[0], x.shape[0], len(radii))
        return {"bound": (dims, np.full(shape, math.nan), BOUND), "identity_error": ((), math.nan, IDENTITY)}
    bound = torch.stack([net.remainder_bound(params, x, r) for r in radii], -1)
    expand = {k: v.unsqueeze(1).expand_as(directions[k]) for k, v in params.items()}
    parts = torch.stack([curvature.taylor_remainder(lambda q: net.submodels(q, x), expand, directions, r) for r in radii], -1)
    assembled = torch.einsum("sdnmr,m->sdnr", parts, net.v) / math.sqrt(net.m)  # s⁻¹ Σ vᵢ rᵢ(Δᵢ)
    return {"bound": (dims, bound.cpu().numpy(), BOUND),
            "identity_error": ((), float((remainders - assembled).abs().max()), IDENTITY)}


# --- aggregate ---------------------------------------------------------------------------------------
def summarize_taylor_remainder(ds: xr.Dataset, config: dict) -> xr.Dataset:
    ds["random_mean"] = ds.remainder_random.mean(("seed", "direction", "input")).assign_attrs(
        long_name="mean |remainder| over networks, random directions and inputs", units="1")
    ds["worst_mean"] = ds.remainder_worst.mean(("seed", "input")).assign_attrs(
        long_name="mean |remainder| along the top eigenvector", units="1")
    ds["half_r2_norm"] = (0.5 * ds.radius**2 * ds.hessian_top.mean(("seed", "input"))).assign_attrs(
        long_name="½R²‖H‖ (mean over networks and inputs)", units="1")
    ds["bound_mean"] = ds.bound.mean(("seed", "input")).assign_attrs(long_name="mean eq. 5 bound", units="1")
    ratio = ds.remainder_random.max("direction") / ds.bound
    ds["bound_usage_random"] = ratio.max(("seed", "input")).assign_attrs(
        long_name="max over draws of (largest random-direction remainder) / bound", units="1")
    ds["bound_usage_worst"] = (ds.remainder_worst / ds.bound).max(("seed", "input")).assign_attrs(
        long_name="max over draws of (worst-direction remainder) / bound", units="1")
    return laws.attach(ds, _laws(ds))


def _laws(ds: xr.Dataset) -> list[laws.Law]:
    found, unit = [], ds.radius.values[np.argmin(abs(ds.radius.values - 1.0))]
    for model in ds.model.values:
        rand = ds.random_mean.sel(model=model, radius=unit).dropna("width")
        worst = ds.worst_mean.sel(model=model, radius=unit).dropna("width")
        found.append(laws.Law(f"random_slope_{model}", laws.loglog_slope(rand.width, rand)[0], -1.0, 0.15,
                              f"{model}: slope of the random-direction remainder vs width (R = {unit:g})"))
        found.append(laws.Law(f"worst_slope_{model}", laws.loglog_slope(worst.width, worst)[0], -0.5, 0.12,
                              f"{model}: slope of the worst-direction remainder vs width (−1/2 up to the √log m of a max)"))
        per_r = ds.random_mean.sel(model=model).dropna("width").isel(width=-1)
        found.append(laws.Law(f"radius_exponent_{model}", laws.loglog_slope(per_r.radius, per_r)[0], 2.0, 0.05,
                              f"{model}: exponent of R in the random-direction remainder (quadratic: eq. 19 should read R²)"))
        if model.startswith("assembly"):
            found.append(laws.Law(f"identity_{model}", float(ds.identity_error.sel(model=model).max()), 0.0, 1e-13,
                                  f"{model}: max |r − s⁻¹Σvᵢrᵢ(Δᵢ)| (assembly identity, rounding)"))
            usage = float(max(ds.bound_usage_random.sel(model=model).max(), ds.bound_usage_worst.sel(model=model).max()))
            found.append(laws.Law(f"bound_holds_{model}", usage, 0.0, 0.0,
                                  f"{model}: max remainder / eq. 5 bound over every draw (≤ 1: holds)", holds=usage <= 1.0))
            loose = (ds.bound_mean / ds.random_mean).sel(model=model, radius=unit).dropna("width")
            found.append(laws.Law(f"looseness_slope_{model}", laws.loglog_slope(loose.width, loose)[0], 0.5, 0.15,
                                  f"{model}: slope of bound / random-direction remainder vs m (about √m)"))
    return found
