"""Kernel experiments: A4 nngp-depth, A5 random-features-kernel, A6 ntk-convergence."""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import kernels, laws, tangents
from widenet.cells import Cell
from widenet.config import stream_seed
from widenet.datasets import unit_sphere
from widenet.models import MLP

CRITICAL_WEIGHT_STD = {"relu": math.sqrt(2.0)}  # C_W = 2 for relu (He); C_W = 1 otherwise


def _angles(n: int) -> np.ndarray:
    return np.linspace(0.0, math.pi, n)


def _angle_coord(phi: np.ndarray) -> tuple:
    return ("angle", phi, {"long_name": "angle φ between the two unit-norm inputs", "units": "rad"})


# --- A4 nngp-depth: Pleiss Figure 1, Hanin §3.3.3 ---------------------------------------------------
def _deep_layers(max_depth: int, deep: int) -> np.ndarray:
    """Log-spaced layers after ``max_depth`` up to ``deep`` (for the large-depth laws)."""
    tail = np.unique(np.geomspace(max_depth, deep, 40).round().astype(int))
    return tail[tail > max_depth]


def nngp_depth(cell: Cell) -> xr.Dataset:
    """K⁽ℓ⁾(x, x_φ) of unit-norm inputs in R² (Hanin eq. 3.3.1 recursion, Pleiss Figure 1).

    Weight variance at criticality (C_W = 2 for relu, 1 otherwise), no bias. All angles for
    ℓ ≤ ``max_depth``; beyond, up to ``shaped_depth`` = L, only φ ∈ {0, π/2} (the large-depth laws)
    except for shaped_tanh, whose K⁽ᴸ⁾ is compared with Hanin eq. 3.3.7 at every angle (τ = ℓ/L).
    """
    p = cell.params
    act, shallow, deep = p["activation"], p["max_depth"], p["shaped_depth"]
    w_std = CRITICAL_WEIGHT_STD.get(act, 1.0)
    phi = _angles(p["n_angles"])
    x0 = kernels.unit_vectors(torch.zeros(1), 2, dtype=torch.float64)
    xs = kernels.unit_vectors(torch.as_tensor(phi), 2, dtype=torch.float64)
    shaped = act == "shaped_tanh"
    # shaped_tanh's σ depends on L, so even its first layers use L = shaped_depth
    quad = dict(psi=p["psi"], n_nodes=p["quadrature_nodes"])
    first = kernels.analytic_layers(x0, xs, depth=deep if shaped else shallow, activation=act, weight_std=w_std,
                                    **quad)["nngp"][:, 0, :]
    tail_depths = _deep_layers(shallow, deep)
    kernel = np.full((shallow + tail_depths.size, phi.size), np.nan)
    kernel[:shallow] = first[1 : shallow + 1].numpy()
    if shaped:
        kernel[shallow:] = first[tail_depths].numpy()
    else:
        right = int(np.argmin(abs(phi - math.pi / 2)))
        tail = kernels.analytic_layers(x0, xs[[0, right]], depth=deep, activation=act, weight_std=w_std, **quad)["nngp"]
        kernel[shallow:, [0, right]] = tail[tail_depths, 0, :].numpy()
    depths = np.concatenate([np.arange(1, shallow + 1), tail_depths])
    limit = np.full_like(kernel, np.nan)
    if shaped:
        tau = torch.as_tensor(depths / deep, dtype=torch.float64)
        limit = kernels.shaped_tanh_limit(x0, xs, psi=p["psi"], tau=tau)[:, 0, :].numpy()
    return xr.Dataset(
        {
            "kernel": (("depth", "angle"), kernel, {"long_name": "NNGP kernel K⁽ℓ⁾(x, x_φ)", "units": "1"}),
            "shaped_limit": (("depth", "angle"), limit, {"long_name": "Hanin eq. 3.3.7 at τ = ℓ/L (shaped_tanh only)", "units": "1"}),
            "weight_std": ((), w_std, {"long_name": "σ_w (C_W = σ_w²)", "units": "1"}),
        },
        coords={"depth": ("depth", depths, {"long_name": "hidden layers ℓ", "units": "1"}), "angle": _angle_coord(phi)},
    )


def _diag(ds: xr.Dataset, act: str) -> xr.DataArray:
    return ds.kernel.sel(activation=act).isel(angle=0)


def summarize_nngp_depth(ds: xr.Dataset, config: dict) -> xr.Dataset:
    ds["correlation"] = (ds.kernel / ds.kernel.isel(angle=0)).assign_attrs(
        long_name="normalized kernel K⁽ℓ⁾(φ)/K⁽ℓ⁾(0)", units="1"
    )
    acts = list(ds.activation.values)
    found = []
    if "relu" in acts:
        diag = _diag(ds, "relu")
        found.append(laws.Law("relu_diag_constant", float(abs(diag / diag.isel(depth=0) - 1).max()), 0.0, 1e-9,
                              "relu, C_W = 2: max relative change of K⁽ℓ⁾(x,x) over depth"))
        one_minus = 1 - ds.correlation.sel(activation="relu").sel(angle=math.pi / 2, method="nearest")
        deep = one_minus.sel(depth=one_minus.depth >= 200)  # the approach to ℓ⁻² is slow (−1.81 on [50, 200])
        slope, _, _ = laws.loglog_slope(deep.depth, deep)
        found.append(laws.Law("relu_decorrelation_slope", slope, -2.0, 0.1, "relu: slope of 1 − C⁽ℓ⁾(π/2) vs ℓ (ℓ ≥ 200)"))
        last = one_minus.depth[-1]
        found.append(laws.Law("relu_decorrelation_constant", float(last**2 * one_minus.sel(depth=last)), 4.5 * math.pi**2,
                              0.05 * 4.5 * math.pi**2, f"relu: ℓ²(1 − C⁽ℓ⁾) at ℓ = {int(last)} → 9π²/2 (5 %)"))
    if "tanh" in acts:
        diag = _diag(ds, "tanh")
        found.append(laws.Law("tanh_2l_K", float(2 * diag.depth[-1] * diag[-1]), 1.0, 0.05,
                              f"tanh, C_W = 1: 2ℓ·K⁽ℓ⁾(x,x) at ℓ = {int(diag.depth[-1])}"))
    if "linear" in acts:
        k = ds.kernel.sel(activation="linear").dropna("angle")
        found.append(laws.Law("linear_unchanged", float(abs(k / k.isel(depth=0) - 1).max()), 0.0, 1e-9,
                              "linear: max relative change of K⁽ℓ⁾(φ) over depth"))
    if "shaped_tanh" in acts:
        k, lim = ds.kernel.sel(activation="shaped_tanh"), ds.shaped_limit.sel(activation="shaped_tanh")
        last = k.depth[-1]
        # relative to sup|K|: K(φ) crosses zero at φ = π/2, so pointwise ratios are meaningless there
        err = float(abs(k.sel(depth=last) - lim.sel(depth=last)).max() / abs(lim.sel(depth=last)).max())
        found.append(laws.Law("shaped_tanh_eq_3_3_7", err, 0.0, 0.01,
                              f"shaped tanh, L = {int(last)}: sup error to Hanin eq. 3.3.7 at τ = 1, relative to sup K"))
    return laws.attach(ds, found)


# --- A5 random-features-kernel: Pleiss Theorem 1, Petersen–Zech Theorem 11.16 --------------------
def random_features_kernel(cell: Cell) -> xr.Dataset:
    """k_d(x, x_φ) for ``n_seeds`` independent draws of d relu features, against the arc-cosine limit."""
    p = cell.params
    phi = _angles(p["n_angles"])
    x0 = kernels.unit_vectors(torch.zeros(1), p["input_dim"], dtype=cell.dtype).to(cell.device)
    xs = kernels.unit_vectors(torch.as_tensor(phi), p["input_dim"], dtype=cell.dtype).to(cell.device)
    k = kernels.random_features_kernel(
        x0, xs, n_features=p["n_features"], activation="relu", generator=cell.generator(), n_draws=p["n_seeds"]
    )[:, 0, :]
    limit = kernels.arccos_kernel(x0, xs)[0]
    sup_err = (k - limit).abs().amax(-1)
    # the points do not depend on the cell: one stream of (experiment, seed), the same spectrum in every cell
    eig = gram_spectrum(p["spectrum_points"], p["spectrum_dim"], stream_seed(cell.experiment, "spectrum", cell.seed))
    return xr.Dataset(
        {
            "kernel": (("seed", "angle"), k.cpu().numpy(), {"long_name": "random-features kernel k_d(x, x_φ)", "units": "1"}),
            "sup_error": ("seed", sup_err.cpu().numpy(), {"long_name": "sup over angles of |k_d − k|", "units": "1"}),
            "limit": ("angle", limit.cpu().numpy(), {"long_name": "arc-cosine kernel (1/2π)(sin φ + (π − φ) cos φ)", "units": "1"}),
            "eigenvalue": ("eigen_index", eig, {
                "long_name": f"eigenvalue λ_i of the arc-cosine Gram matrix of {p['spectrum_points']} uniform points on "
                             f"S^{p['spectrum_dim'] - 1}", "units": "1"}),
        },
        coords={"seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "feature draw"}), "angle": _angle_coord(phi),
                "eigen_index": ("eigen_index", np.arange(1, eig.size + 1), {"long_name": "eigenvalue rank i", "units": "1"})},
    )


def gram_spectrum(n: int, dim: int, seed: int) -> np.ndarray:
    """Descending eigenvalues of the arc-cosine Gram matrix of n uniform points on S^(dim−1) (Pleiss obs. 2)."""
    x = unit_sphere(n, dim, torch.Generator().manual_seed(seed))
    return torch.linalg.eigvalsh(kernels.arccos_kernel(x)).flip(0).numpy()


def summarize_random_features_kernel(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Mean sup-error and its slope in d; the decay exponent of the Gram spectrum (drawn from one
    experiment-wide stream, so the same in every cell)."""
    ds["limit"] = ds.limit.isel(n_features=0, drop=True)  # the same in every cell
    ds["sup_error_mean"] = ds.sup_error.mean("seed").assign_attrs(long_name="mean sup-error over draws", units="1")
    ds["sup_error_se"] = (ds.sup_error.std("seed") / np.sqrt(ds.sizes["seed"])).assign_attrs(
        long_name="standard error of the mean sup-error", units="1")
    slope, intercept, se = laws.loglog_slope(ds.n_features, ds.sup_error_mean)
    ds["fit_intercept"] = ((), intercept, {"long_name": "intercept of the log-log fit of sup-error vs d", "units": "1"})

    ds["eigenvalue"] = ds.eigenvalue.isel(n_features=0, drop=True)  # the same in every cell
    eig, index = ds.eigenvalue.values, ds.eigen_index.values
    lo, hi = 10, eig.size // 4  # fit range: past the top few, before the finite-n floor
    alpha = -laws.loglog_slope(index[lo:hi], eig[lo:hi])[0]
    ds["spectrum_fit_range"] = ("end", [lo + 1, hi], {"long_name": "eigenvalue ranks fitted (first, last)", "units": "1"})
    ds = ds.assign_coords(end=("end", ["first", "last"], {"long_name": "end of the fit range"}))
    return laws.attach(ds, [
        laws.Law("sup_error_slope", slope, -0.5, 0.1, "slope of sup-error vs number of features d"),
        laws.Law("spectrum_alpha", alpha, 1.0, 0.0, "spectrum decay exponent α in λ_i ∝ i^(−α) (must exceed 1)", holds=alpha > 1),
    ])


# --- A6 ntk-convergence: Petersen–Zech Thms 11.16, 11.30; Amari eqs. 33, 60; Hanin eq. 2.1.10 ----
SEED_CHUNK = 10


def _chunks(total: int, size: int) -> list[int]:
    return [min(size, total - start) for start in range(0, total, size)]


def _limit_ntk(x: torch.Tensor, parameterization: str, width: int, **kw) -> torch.Tensor:
    """ntk: K^NTK (analytic). standard (LeCun): K^LC + R/n, where K^LC = lim (1/n)·K̂_n (Petersen–Zech
    Thm 11.16) and R/n the exact input-layer and bias terms; without R the deterministic O(1/n) offset
    (large against the small K^LC of erf) steepens the fitted slope of the random O(n^(−1/2)) error."""
    if parameterization == "standard":
        return kernels.lecun_ntk(x, width=width, **kw)
    return kernels.analytic(x, **kw)["ntk"]


def ntk_convergence(cell: Cell) -> xr.Dataset:
    """Relative Frobenius error ‖K̂ − K‖/‖K‖ of the empirical NTK at init, per seed, for each
    (parameterization, activation); under ``standard`` init K̂ is divided by the width n."""
    p = cell.params
    x = cell.tensor(cell.dataset().x.values)
    gen = cell.generator()
    pars, acts, n_seeds = p["parameterizations"], p["activations"], p["n_seeds"]
    err = np.empty((len(pars), len(acts), n_seeds))
    emp = np.empty((len(pars), len(acts), x.shape[0], x.shape[0]))
    lim = np.empty_like(emp)
    configs = [(i, par, j, act) for i, par in enumerate(pars) for j, act in enumerate(acts)]
    for i, par, j, act in cell.progress(configs, "(parameterization, activation)"):
        kw = dict(depth=p["depth"], activation=act, weight_std=p["weight_std"], bias_std=p["bias_std"])
        model = MLP(x.shape[1], p["width"], parameterization=par, dtype=cell.dtype, device=cell.device, **kw)
        khat = torch.cat([  # seeds vmapped in chunks: bounded memory at large width
            tangents.empirical_ntk(model, x, params=model.sample_parameters(size, gen))
            for size in _chunks(n_seeds, SEED_CHUNK)
        ])
        if par == "standard":
            khat = khat / p["width"]
        k = _limit_ntk(x, par, p["width"], **kw).to(khat)
        err[i, j] = ((khat - k).flatten(1).norm(dim=1) / k.norm()).cpu().numpy()
        emp[i, j], lim[i, j] = khat[0].cpu().numpy(), k.cpu().numpy()
    pair = ("parameterization", "activation")
    return xr.Dataset(
        {
            "rel_error": (pair + ("seed",), err, {"long_name": "relative Frobenius error ‖K̂ − K‖_F/‖K‖_F", "units": "1"}),
            "empirical_ntk": (pair + ("sample", "sample_2"), emp, {"long_name": "empirical NTK K̂ (seed 0; /n for standard)", "units": "1"}),
            "limit_ntk": (pair + ("sample", "sample_2"), lim, {"long_name": "analytic kernel (K^NTK, or K^LC + R/n for standard)", "units": "1"}),
        },
        coords={
            "parameterization": ("parameterization", pars, {"long_name": "initialization"}),
            "activation": ("activation", acts, {"long_name": "activation σ"}),
            "seed": ("seed", np.arange(n_seeds), {"long_name": "network draw"}),
            "sample": ("sample", np.arange(x.shape[0]), {"long_name": "input index"}),
            "sample_2": ("sample_2", np.arange(x.shape[0]), {"long_name": "input index"}),
        },
    )


def summarize_ntk_convergence(ds: xr.Dataset, config: dict) -> xr.Dataset:
    ds["rel_error_mean"] = ds.rel_error.mean("seed").assign_attrs(long_name="mean relative Frobenius error", units="1")
    ds["rel_error_se"] = (ds.rel_error.std("seed") / np.sqrt(ds.sizes["seed"])).assign_attrs(
        long_name="standard error of the mean relative error", units="1")
    slopes = laws.loglog_slopes(ds.rel_error_mean, "width").slope.transpose("parameterization", "depth", "activation")
    ds["slope"] = slopes.assign_attrs(long_name="fitted log-log slope of the relative error vs width", units="1")
    found = [
        laws.Law(f"slope_{par}_L{depth}_{act}", float(slopes.sel(parameterization=par, depth=depth, activation=act)), -0.5, 0.1,
                 f"{par} init, depth {depth}, {act}: slope of relative NTK error vs width")
        for par in ds.parameterization.values for depth in ds.depth.values for act in ds.activation.values
    ]
    return laws.attach(ds, found)
