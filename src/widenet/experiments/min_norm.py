"""A2 min-norm-distance: the minimum-norm step from a random network to an interpolant.

Amari §3 (eqs. 16–38), §5 (eqs. 48–64), §6 (eqs. 65–75). Standard parameterization (Amari eqs. 6–8,
``models.MLP(parameterization="standard")``), σ_v = σ_w = σ_b = 1, no readout bias (Amari eq. 5).
The numerics (K = XXᵀ, α = K⁻¹e, Δθ* = Xᵀα, ‖Δθ*‖₂² = eᵀK⁻¹e) are in ``widenet.min_norm``; this module
turns a cell into calls and a Dataset. XΔθ* = e is re-checked by an independent forward-mode pass
(``models.jvp``).

In the standard parameterization v_i² ~ σ_v²/p, so the first-layer block K⁽²⁾ of eq. 59 is O(1), not
O(p) as eqs. 60–62 state: K/p → lim K/p = ``kernels.lecun_ntk`` (readout and hidden–hidden weights
only), and the input-layer and bias blocks of Δθ* are O(1/p), not O(p^(−1/2)).

Cases: ``features`` (only v trained, eqs. 16–27), ``shallow`` (all parameters, L = 1, eqs. 48–64),
``deep2``/``deep3`` (L = 2, 3, eqs. 65–75). ``features`` and ``shallow`` share θ₀ (same seed stream).

Inputs: n_max points x = √d·x̂, x̂ uniform on the unit sphere of R^d, so that the first-layer
pre-activation covariance is σ_w²·x̂_s·x̂_t + σ_b² as in Amari eq. 31 (the MLP draws W ~ N(0, σ_w²/d)).
The n of the ``n_inputs`` setting are nested: always the first n of the n_max points. Teacher
(bounded, |f*| < 1, eq. 11): f*(x) = tanh(u·x) with u a fixed random unit vector (u·x ≈ N(0, 1)).
Inputs and teacher come from ``data_seed`` alone: the same data set in every cell and on every device.

Amari's normalization of θ₀ (eqs. 35, 39, 40): ‖v₀‖₂² = σ_v² + O(1/p), i.e. v₀ lies near the sphere of
radius σ_v = 1, and each neuron's incoming vector (w_i; b_i) (eq. 3) has ‖·‖² ≈ σ_w² + σ_b² = 2.
Those are the O(1) quantities stored (the full ‖θ₀‖₂ over all trained parameters grows like √p).
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import kernels, laws, models
from widenet.cells import Cell
from widenet.min_norm import BLOCKS, CASES, block_of, block_squared_norms, gram, min_norm_step, solve, trainable_names
from widenet.models import MLP

RUN_KEYS = ("delta_norm", "delta_sup", "error_norm", "residual_norm", "linear_residual", "kp_min_eig", "delta_norm_kernel")
KERNEL_NODES = 48  # Gauss–Hermite nodes² of the tanh limit: relative error ~3e-5 ≪ p^(−1/2) (96 nodes: 4× the time)
CPU_MEMORY_BUDGET = 2 << 30  # bytes of per-seed parameter copies vmapped at once on CPU

Tensor = torch.Tensor


# --- data and θ₀ --------------------------------------------------------------------------------------
def inputs_and_teacher(n: int, dim: int, data_seed: int, dtype=torch.float64, device="cpu") -> tuple[Tensor, Tensor]:
    """(x, f*): n points of the sphere of radius √dim in R^dim and f*(x) = tanh(u·x), u a random unit vector."""
    gen = torch.Generator().manual_seed(data_seed)
    x = torch.nn.functional.normalize(torch.randn(n, dim, generator=gen, dtype=torch.float64), dim=1) * math.sqrt(dim)
    u = torch.nn.functional.normalize(torch.randn(dim, generator=gen, dtype=torch.float64), dim=0)
    return x.to(dtype=dtype, device=device), torch.tanh(x @ u).to(dtype=dtype, device=device)


def sample_theta0(model: MLP, cell: Cell, seeds: range) -> dict[str, Tensor]:
    """Stacked θ₀ (leading seed dim) from one stream per (depth, seed): chunking never changes the draws,
    and ``features``/``shallow`` see the same networks. The readout bias is 0 (Amari eq. 5)."""
    draws = [model.sample_parameters(generator=cell.generator(f"depth{model.depth}/seed{s}")) for s in seeds]
    theta = {name: torch.stack([d[name] for d in draws]) for name in draws[0]}
    theta[f"bias{model.depth}"].zero_()
    return theta


def _seed_chunk(model: MLP, device: torch.device) -> int:
    """Seeds per batched call: ~4 parameter-sized copies per seed (θ₀, its stacking, Δθ*, θ₀ + Δθ*)."""
    per_seed = 4 * sum(p.numel() * p.element_size() for p in model.parameters())
    budget = torch.cuda.mem_get_info(device)[0] // 3 if device.type == "cuda" else CPU_MEMORY_BUDGET
    return max(1, budget // per_seed)


def _theta0_norms(model: MLP, theta: dict[str, Tensor], case: str) -> dict[str, np.ndarray]:
    """Amari's O(1) quantities ‖v₀‖₂ (eqs. 35, 39) and the RMS per-neuron ‖(w_i; b_i)‖ (eq. 3), and the
    norm ‖θ₀‖₂ and sup-norm ‖θ₀‖_∞ over the trained parameters."""
    depth, names = model.depth, trainable_names(model, case)
    readout = theta[f"weight{depth}"].flatten(1).norm(dim=1)
    neuron_sq = sum(theta[f"weight{ell}"].pow(2).sum(2) + theta[f"bias{ell}"].pow(2) for ell in range(depth))
    total = sum(theta[k].flatten(1).pow(2).sum(1) for k in names).sqrt()
    sup = torch.stack([theta[k].flatten(1).abs().amax(1) for k in names]).amax(0)
    return {
        "theta0_readout_norm": readout.cpu().numpy(),
        "theta0_neuron_norm": (neuron_sq.mean(1) / depth).sqrt().cpu().numpy(),
        "theta0_norm": total.cpu().numpy(),
        "theta0_sup": sup.cpu().numpy(),
    }


# --- one chunk of seeds ------------------------------------------------------------------------------
def run_case(model: MLP, case: str, theta: dict[str, Tensor], x: Tensor, target: Tensor, ns: list[int],
             check_n: int | None = None) -> dict:
    """All per-seed numbers of one (case, activation) for a chunk of seeds (see ``min_norm_distance``), each
    (len(ns), seeds), ``delta_block_norm`` (len(ns), seeds, blocks), and the errors e = f* − f(θ₀) (seeds, n_max).

    The forward-mode check of XΔθ* = e runs for n ≤ ``check_n`` only (default: all n)."""
    names = trainable_names(model, case)
    n_params = sum(theta[k][0].numel() for k in names)
    n_seeds = theta[names[0]].shape[0]
    error = target - models.outputs(model, theta, x)
    K = gram(model, case, theta, x).double()
    out = {k: np.full((len(ns), n_seeds), np.nan) for k in RUN_KEYS}
    out["delta_block_norm"] = np.full((len(ns), n_seeds, len(BLOCKS)), np.nan)
    for i, n in enumerate(ns):
        out["error_norm"][i] = error[:, :n].norm(dim=1).cpu().numpy()
        out["kp_min_eig"][i] = torch.linalg.eigvalsh(K[:, :n, :n] / model.width)[:, 0].cpu().numpy()
        if n > n_params:  # K singular: no interpolant in the tangent space
            continue
        check = check_n is None or n <= check_n
        for key, value in _one_n(model, names, theta, x[:n], target[:n], error[:, :n], K[:, :n, :n], check).items():
            out[key][i] = value
    out["error"] = error
    return out


def _one_n(model: MLP, names: list[str], theta: dict[str, Tensor], x: Tensor, target: Tensor, error: Tensor,
           K: Tensor, check: bool) -> dict[str, np.ndarray]:
    """The min-norm step on the first n inputs and its norms, residuals and checks, NaN where K is singular."""
    alpha, ok = solve(K, error)
    ok = ok.cpu().numpy()
    step = min_norm_step(model, theta, names, x, alpha.to(error.dtype))
    squares = block_squared_norms(step, model.depth)
    blocks = np.full((ok.size, len(BLOCKS)), np.nan)
    for j, block in enumerate(BLOCKS):
        if block in squares:
            blocks[:, j] = squares[block].sqrt().cpu().numpy()
    moved = {k: theta[k] + step[k] if k in step else theta[k] for k in theta}
    linear = (models.jvp(model, theta, x, step)[1] - error).norm(dim=1) / error.norm(dim=1) if check else None
    values = {
        "delta_norm": sum(squares.values()).sqrt(),
        "delta_sup": torch.stack([d.flatten(1).abs().amax(1) for d in step.values()]).amax(0),
        "residual_norm": (models.outputs(model, moved, x) - target).norm(dim=1),
        "linear_residual": torch.full((ok.size,), float("nan")) if linear is None else linear,
        "delta_norm_kernel": (alpha * error.double()).sum(1).clamp_min(0).sqrt(),  # √(eᵀK⁻¹e)
    }
    out = {key: np.where(ok, value.cpu().numpy(), np.nan) for key, value in values.items()}
    out["delta_block_norm"] = np.where(ok[:, None], blocks, np.nan)
    return out


# --- A2 cell ----------------------------------------------------------------------------------------
def min_norm_distance(cell: Cell) -> xr.Dataset:
    """One width p: every (case, activation, n, seed) of A2 (module docstring).

    The first ``n_seeds`` networks get the full analysis; ``kernel_seeds`` networks (the same first ones
    and more) only their K/p on the first ``kernel_n`` inputs, for the concentration of eq. 33, whose seed
    spread has few effective degrees of freedom per draw.
    """
    settings = cell.params
    width, ns, cases, acts = settings["width"], sorted(settings["n_inputs"]), list(settings["cases"]), list(settings["activations"])
    x, target = inputs_and_teacher(ns[-1], settings["input_dim"], settings["data_seed"], dtype=cell.dtype, device=cell.device)
    n_full, n_kernel_seeds = settings["n_seeds"], max(settings["n_seeds"], settings["kernel_seeds"])
    kernel_n = min(settings["kernel_n"], ns[-1])  # the tanh limit is a quadrature costing ∝ kernel_n²
    kw = dict(weight_std=settings["weight_std"], bias_std=settings["bias_std"])
    limits = {(case, act): kernels.lecun_ntk(x[:kernel_n].double().cpu(), depth=CASES[case], activation=act,
                                             n_nodes=KERNEL_NODES, **kw) for case in cases for act in acts}
    parts, kp, n_params = [], {key: [] for key in limits}, {}  # kp: K/p per (case, activation), chunk by chunk
    for depth in sorted({CASES[c] for c in cases}):
        nets = {act: MLP(settings["input_dim"], width, depth, activation=act, parameterization="standard",
                         dtype=cell.dtype, device=cell.device, **kw) for act in acts}
        chunk = _seed_chunk(nets[acts[0]], cell.device)
        for start in cell.progress(range(0, n_kernel_seeds, chunk), f"depth {depth}, seed chunks of {chunk}"):
            seeds = range(start, min(n_kernel_seeds, start + chunk))
            theta = sample_theta0(nets[acts[0]], cell, seeds)
            full = range(seeds.start, min(n_full, seeds.stop))  # seeds with the full analysis
            head = {k: v[: len(full)] for k, v in theta.items()}
            for case in (c for c in cases if CASES[c] == depth):
                n_params[case] = sum(theta[k][0].numel() for k in trainable_names(nets[acts[0]], case))
                if full:
                    parts.append(_theta0_dataset(nets[acts[0]], head, case, full))
                for act in acts:
                    kp[case, act].append((gram(nets[act], case, theta, x[:kernel_n]) / width).double().cpu().numpy())
                    if full:
                        res = run_case(nets[act], case, head, x, target, ns, check_n=kernel_n)
                        parts.append(_run_dataset(res, case, act, ns, full, limits[case, act], kernel_n, width))
    return _cell_dataset(parts, kp, limits, cases, acts, ns, n_full, n_kernel_seeds, kernel_n, n_params)


def _labels(long_name: str, units: str = "1") -> dict:
    return {"long_name": long_name, "units": units}


def _coords(**values) -> dict:
    """Coordinates of the A2 dims that are given, labelled."""
    labels = {"case": "trained parameters and depth", "activation": "activation σ", "n": "number of training inputs n",
              "seed": "network draw", "kernel_seed": "network draw (K/p only beyond n_seeds)", "block": "parameter block"}
    return {dim: (dim, list(v), _labels(labels[dim], "1") if dim in ("n",) else {"long_name": labels[dim]})
            for dim, v in values.items()}


def _theta0_dataset(model: MLP, theta: dict[str, Tensor], case: str, seeds: range) -> xr.Dataset:
    texts = {"theta0_readout_norm": "‖v₀‖₂, readout weights at init (eqs. 35, 39)",
             "theta0_neuron_norm": "RMS over hidden neurons of ‖(w_i; b_i)‖₂ at init (eq. 3)",
             "theta0_norm": "‖θ₀‖₂ over all trained parameters", "theta0_sup": "‖θ₀‖_∞ over all trained parameters"}
    norms = _theta0_norms(model, theta, case)
    return xr.Dataset({k: (("case", "seed"), norms[k][None], _labels(text)) for k, text in texts.items()},
                      coords=_coords(case=[case], seed=seeds))


def _run_dataset(res: dict, case: str, act: str, ns: list[int], seeds: range, limit: Tensor, kernel_n: int,
                 width: int) -> xr.Dataset:
    """``run_case``'s numbers as a Dataset over (case, activation, n, seed), with ‖Δθ*‖₂'s infinite-width
    prediction √(eᵀK∞⁻¹e/p) for n ≤ ``kernel_n``."""
    texts = {
        "delta_norm": "‖Δθ*‖₂, min-norm step (Amari eqs. 27, 56, 71)",
        "delta_norm_kernel": "√(eᵀK⁻¹e) (equals ‖Δθ*‖₂)",
        "delta_sup": "‖Δθ*‖_∞, largest single-parameter change (eqs. 34, 64)",
        "error_norm": "‖e‖₂ = ‖f* − f(θ₀)‖₂ on the n inputs (eq. 21)",
        "residual_norm": "non-linear residual ‖f(θ₀ + Δθ*) − f*‖₂ on the n inputs",
        "linear_residual": f"‖XΔθ* − e‖₂/‖e‖₂ (linearized equation, eq. 22; n ≤ {kernel_n})",
        "kp_min_eig": "smallest eigenvalue of K/p on the first n inputs",
    }
    prediction = np.full((len(ns), len(seeds)), np.nan)
    for i, n in enumerate(ns):
        if n <= kernel_n:  # ‖Δθ*‖₂ → √(eᵀK∞⁻¹e/p)
            e = res["error"][:, :n].double().cpu()
            prediction[i] = ((e * torch.linalg.solve(limit[:n, :n], e.T).T).sum(1) / width).sqrt().numpy()
    dims = ("case", "activation", "n", "seed")
    data = {k: (dims, res[k][None, None], _labels(text)) for k, text in texts.items()}
    data["delta_norm_limit"] = (dims, prediction[None, None], _labels(
        f"infinite-width prediction √(eᵀK∞⁻¹e/p), K∞ = lim K/p (n ≤ {kernel_n})"))
    data["delta_block_norm"] = (dims + ("block",), res["delta_block_norm"][None, None],
                                _labels("‖Δθ*‖₂ restricted to a parameter block"))
    return xr.Dataset(data, coords=_coords(case=[case], activation=[act], n=ns, seed=seeds, block=BLOCKS))


def _kernel_dataset(kp: dict, limits: dict, cases: list[str], acts: list[str], n_kernel_seeds: int, kernel_n: int) -> xr.Dataset:
    """K/p against its limit K∞ (eq. 33): relative error per seed, and the seed spread relative to ‖K∞‖_F
    (√(Σ_s ‖K_s/p − mean_s K_s/p‖²_F/(S − 1)), no limit needed)."""
    err = np.full((len(cases), len(acts), n_kernel_seeds), np.nan)
    spread = np.full((len(cases), len(acts)), np.nan)
    for i, case in enumerate(cases):
        for j, act in enumerate(acts):
            k, lim = np.concatenate(kp[case, act]), limits[case, act].numpy()
            size = np.linalg.norm(lim)
            err[i, j] = np.linalg.norm(k - lim, axis=(-2, -1)) / size
            spread[i, j] = np.sqrt(((k - k.mean(0)) ** 2).sum() / max(n_kernel_seeds - 1, 1)) / size
    return xr.Dataset({
        "kp_error": (("case", "activation", "kernel_seed"), err, _labels(
            f"‖K/p − K∞‖_F/‖K∞‖_F on the first {kernel_n} inputs, K∞ = lim K/p (eq. 33)")),
        "kp_spread": (("case", "activation"), spread, _labels(f"seed spread of K/p, ‖·‖_F/‖K∞‖_F on the first {kernel_n} inputs")),
    }, coords=_coords(case=cases, activation=acts, kernel_seed=range(n_kernel_seeds)))


def _cell_dataset(parts: list[xr.Dataset], kp: dict, limits: dict, cases: list[str], acts: list[str], ns: list[int],
                  n_full: int, n_kernel_seeds: int, kernel_n: int, n_params: dict) -> xr.Dataset:
    """The chunks' Datasets merged over (case, activation, n, seed), with the K/p statistics and P."""
    ds = xr.merge([*parts, _kernel_dataset(kp, limits, cases, acts, n_kernel_seeds, kernel_n)],
                  join="outer", compat="no_conflicts", combine_attrs="drop_conflicts")
    ds = ds.reindex(case=cases, activation=acts, n=ns, seed=range(n_full))
    ds["n_params"] = ("case", np.array([n_params[c] for c in cases], dtype=np.int64), _labels("number P of trained parameters"))
    order = ("case", "activation", "n", "seed", "kernel_seed", "block")
    return ds.transpose(*(d for d in order if d in ds.dims))


# --- summary and laws -------------------------------------------------------------------------------
FIT_TEXTS = {  # fitted law per (case, activation) → description of its fit_<key> variable
    "delta_norm": "slope of ‖Δθ*‖₂ vs p (n = {fit_n}, p ≥ {min_w})",
    "prefactor": "‖Δθ*‖₂·√p/√(eᵀK∞⁻¹e) at p = {largest} (n = {fit_n})",
    "delta_sup": "slope of ‖Δθ*‖_∞/√(2 ln p) vs p (n = {fit_n}, p ≥ {min_w})",
    "input_block": "slope of the input-layer block of Δθ* vs p (n = {fit_n}, p ≥ {min_w})",
    "kp_spread": "slope of the seed spread of K/p vs p",
    "kp_error": "slope of the RMS relative error of K/p against lim K/p vs p",
    "residual": "slope of the relative non-linear residual vs p (n = {fit_n}, p ≥ {min_w}); features: max",
    "remark2": "exponent of p·‖Δθ*‖_∞ in n at p = {largest}",
}


def _geomean(a: xr.DataArray, dim: str = "seed") -> xr.DataArray:
    return np.exp(np.log(a).mean(dim))


def summarize_min_norm_distance(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Seed summaries and the fitted laws, per (case, activation), at n = ``fit_n`` and p ≥ ``fit_min_width``:

    - ‖Δθ*‖₂ ∝ p^(−1/2) (eqs. 34, 63, 75; geometric mean over seeds), and its infinite-width prefactor
      ‖Δθ*‖₂ / √(eᵀK∞⁻¹e/p) → 1 (K∞ = lim K/p) at the largest p;
    - ‖Δθ*‖_∞ ∝ p^(−1) up to the √(2 ln p) of a maximum over p neurons (eqs. 34, 64);
    - the input-layer block of Δθ* ∝ p^(−1): in the standard parameterization K⁽²⁾ of eq. 59 is O(1), not
      O(p) as eqs. 60–62 state (v_i² ~ σ_v²/p), so only the readout and hidden–hidden blocks are O(p^(−1/2));
    - K/p concentrates (eq. 33): its spread over seeds ∝ p^(−1/2) (all widths); its error against K∞ decreases;
    - the non-linear residual ‖f(θ₀ + Δθ*) − f*‖/‖e‖ decreases with p (Theorem 1); exact for ``features``;
    - Remark 2: the exponent of p·‖Δθ*‖_∞ in n at the largest p (Amari: at most 2);
    - θ₀ in Amari's normalization: ‖v₀‖₂ → σ_v (eqs. 35, 39), RMS ‖(w_i; b_i)‖ → √(σ_w² + σ_b²);
    - Δθ* solves XΔθ = e (eq. 22) and ‖Xᵀα‖₂ = √(eᵀK⁻¹e).
    """
    s = config["settings"]
    ds = _seed_summaries(ds)
    fits = _fits(ds, s["fit_n"], s["fit_min_width"])
    largest = int(ds.width.max())
    for key, text in FIT_TEXTS.items():
        text = text.format(fit_n=s["fit_n"], min_w=s["fit_min_width"], largest=largest)
        ds[f"fit_{key}"] = fits[key].transpose("case", "activation").assign_attrs(long_name=text, units="1")
    found = [law for case in ds.case.values for act in ds.activation.values
             for law in _case_laws(fits, str(case), str(act), s["fit_n"], largest)]
    return laws.attach(ds, found + _global_laws(ds, s))


def _seed_summaries(ds: xr.Dataset) -> xr.Dataset:
    def add(name, value, long_name):
        ds[name] = value.assign_attrs(long_name=long_name, units="1")

    add("delta_norm_geomean", _geomean(ds.delta_norm), "geometric mean over seeds of ‖Δθ*‖₂")
    add("delta_sup_geomean", _geomean(ds.delta_sup), "geometric mean over seeds of ‖Δθ*‖_∞")
    add("delta_block_geomean", _geomean(ds.delta_block_norm), "geometric mean over seeds of ‖Δθ*‖₂ per block")
    add("prefactor", ds.delta_norm / ds.delta_norm_limit, "‖Δθ*‖₂ / √(eᵀK∞⁻¹e/p) (→ 1)")
    add("prefactor_median", ds.prefactor.median("seed"), "median over seeds of ‖Δθ*‖₂ / √(eᵀK∞⁻¹e/p)")
    add("kp_error_rms", np.sqrt((ds.kp_error**2).mean("kernel_seed")), "RMS over seeds of ‖K/p − K∞‖_F/‖K∞‖_F")
    add("relative_residual", ds.residual_norm / ds.error_norm, "‖f(θ₀ + Δθ*) − f*‖₂/‖e‖₂")
    add("relative_residual_median", ds.relative_residual.median("seed"), "median over seeds of ‖f(θ₀ + Δθ*) − f*‖₂/‖e‖₂")
    add("p_delta_sup_median", (ds.width * ds.delta_sup).median("seed"), "median over seeds of p·‖Δθ*‖_∞ (Remark 2)")
    for v, text in (("theta0_readout_norm", "‖v₀‖₂"), ("theta0_neuron_norm", "RMS neuron norm ‖(w_i; b_i)‖₂"),
                    ("theta0_norm", "‖θ₀‖₂")):
        add(f"{v}_mean", ds[v].mean("seed"), f"mean over seeds of {text}")
    return ds


def _fits(ds: xr.Dataset, fit_n: int, min_width: int) -> dict[str, xr.DataArray]:
    """The fitted number of each ``FIT_TEXTS`` key over (case, activation)."""
    at, wide = dict(n=fit_n), ds.width >= min_width
    largest = int(ds.width.max())

    def slope(curve, dim="width", keep=wide):
        return laws.loglog_slopes(curve, dim, keep).slope

    worst = ds.relative_residual.where(wide & (ds.n <= ds.width / 4)).max(("width", "n", "seed"))
    features = ds.case == "features"
    return {
        "delta_norm": slope(ds.delta_norm_geomean.sel(at, drop=True)),
        "prefactor": ds.prefactor_median.sel(dict(at, width=largest), drop=True),
        "delta_sup": slope(ds.delta_sup_geomean.sel(at, drop=True) / np.sqrt(2 * np.log(ds.width))),
        "input_block": slope(ds.delta_block_geomean.sel(dict(at, block="input_layer"), drop=True)).where(~features),
        "kp_spread": slope(ds.kp_spread, keep=None),
        "kp_error": slope(ds.kp_error_rms, keep=None),
        "residual": xr.where(features, worst, slope(ds.relative_residual_median.sel(at, drop=True))),
        "remark2": slope(ds.p_delta_sup_median.sel(width=largest, drop=True), "n", None),
    }


def _case_laws(fits: dict, case: str, act: str, fit_n: int, largest: int) -> list[laws.Law]:
    """The laws of one (case, activation), in the order of ``FIT_TEXTS``."""
    value = {key: float(fit.sel(case=case, activation=act)) for key, fit in fits.items()}
    tag, where = f"{case}_{act}", f"{case}, {act}"

    def law(name, key, theory, tol, text, holds=None):
        return laws.Law(f"{name}_{tag}", value[key], theory, tol, f"{where}: {text}", holds=holds)

    found = [
        law("delta_norm_slope", "delta_norm", -0.5, 0.1, f"slope of ‖Δθ*‖₂ vs p (n = {fit_n})"),
        law("prefactor", "prefactor", 1.0, 0.1, f"‖Δθ*‖₂·√p/√(eᵀK∞⁻¹e) at p = {largest} (n = {fit_n})"),
        law("delta_sup_slope", "delta_sup", -1.0, 0.15, f"slope of ‖Δθ*‖_∞/√(2 ln p) vs p (n = {fit_n})"),
    ]
    if case != "features":
        found.append(law("input_block_slope", "input_block", -1.0, 0.15,
                         f"slope of the input-layer block of Δθ* vs p (n = {fit_n}; eq. 60 would give −½)"))
    found += [
        law("kp_spread_slope", "kp_spread", -0.5, 0.1, "slope of the seed spread of K/p vs p (eq. 33: K/p concentrates)"),
        law("kp_error_slope", "kp_error", -0.5, 0.0, "slope of the RMS error of K/p against lim K/p vs p (eq. 33; < −0.3)",
            holds=bool(value["kp_error"] < -0.3)),
        law("residual_exact", "residual", 0.0, 1e-8, "max ‖f(θ₀+Δθ*) − f*‖/‖e‖ (p ≥ 4n; linear in v: exact)")
        if case == "features" else
        law("residual_slope", "residual", 0.0, 0.0, f"slope of ‖f(θ₀+Δθ*) − f*‖/‖e‖ vs p (n = {fit_n}; Theorem 1: < 0)",
            holds=bool(value["residual"] < -0.2)),
        law("remark2_exponent", "remark2", 2.0, 0.0, f"exponent of p·‖Δθ*‖_∞ in n at p = {largest} (Remark 2: ≤ 2)",
            holds=bool(value["remark2"] <= 2.1)),
    ]
    return found


def _global_laws(ds: xr.Dataset, s: dict) -> list[laws.Law]:
    """θ₀ in Amari's normalization at the largest p, and the exactness checks of the min-norm step."""
    largest = int(ds.width.max())
    big, wide = dict(width=largest), ds.width >= s["fit_min_width"]
    lin = ds.linear_residual.where(wide & (ds.n <= ds.width / 4))
    same = abs(ds.delta_norm / ds.delta_norm_kernel - 1).where(wide)
    return [
        laws.Law("theta0_readout_norm", float(ds.theta0_readout_norm.sel(big).mean()), s["weight_std"], 0.05,
                 f"‖v₀‖₂ at p = {largest} (eqs. 35, 39: σ_v)"),
        laws.Law("theta0_neuron_norm", float(ds.theta0_neuron_norm.sel(big).mean()), math.hypot(s["weight_std"], s["bias_std"]),
                 0.05, f"RMS neuron norm ‖(w_i; b_i)‖₂ at p = {largest} (√(σ_w² + σ_b²))"),
        laws.Law("linear_equation", float(lin.max()), 0.0, 1e-8,
                 "max ‖XΔθ* − e‖/‖e‖ (p ≥ 4n): Δθ* solves the linearized equations (eq. 22)"),
        laws.Law("norm_identity", float(same.max()), 0.0, 1e-8, "max |‖Xᵀα‖₂/√(eᵀK⁻¹e) − 1| (p ≥ fit width)"),
    ]
