"""A2 min-norm-distance: the minimum-norm step from a random network to an interpolant.

Amari §3 (eqs. 16–38), §5 (eqs. 48–64), §6 (eqs. 65–75). Standard parameterization (Amari eqs. 6–8,
``models.MLP(parameterization="standard")``), σ_v = σ_w = σ_b = 1, no readout bias (Amari eq. 5).
At θ₀, with X = ∂f/∂θ (n × P) over the trained parameters and e = f* − f(θ₀) (eq. 21),

    K = XXᵀ (eqs. 24, 57, 72),   α = K⁻¹e,   Δθ* = Xᵀα = X†e (eqs. 27, 56, 71),

so ‖Δθ*‖₂² = eᵀK⁻¹e. X is never formed: K is the empirical NTK (``tangents.empirical_ntk``; for
``features`` the Gram of the last hidden layer, eq. 32), α comes from a float64 Cholesky solve and
Δθ* from one vjp of f with cotangent α (a closed-form reverse pass, O(P) memory), batched over seeds.
XΔθ* = e is re-checked by an independent forward-mode pass.

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
from torch.func import functional_call, vjp, vmap

from widenet import kernels, laws, models, tangents
from widenet.cells import Cell
from widenet.models import MLP

CASES = {"features": 1, "shallow": 1, "deep2": 2, "deep3": 3}  # case → hidden layers L
BLOCKS = ("readout", "input_layer", "hidden_layers", "biases")
RUN_KEYS = ("delta_norm", "delta_sup", "error_norm", "residual_norm", "linear_residual", "kp_min_eig", "delta_norm_kernel")
THETA0_KEYS = ("theta0_readout_norm", "theta0_neuron_norm", "theta0_norm", "theta0_sup")
KERNEL_NODES = 48  # Gauss–Hermite nodes² of the tanh limit: relative error ~3e-5 ≪ p^(−1/2) (96 nodes: 4× the time)
CPU_MEMORY_BUDGET = 2 << 30  # bytes of per-seed parameter copies vmapped at once on CPU

Tensor = torch.Tensor


# --- data -----------------------------------------------------------------------------------------
def inputs_and_teacher(n: int, dim: int, data_seed: int, dtype=torch.float64, device="cpu") -> tuple[Tensor, Tensor]:
    """(x, f*): n points of the sphere of radius √dim in R^dim and f*(x) = tanh(u·x), u a random unit vector."""
    gen = torch.Generator().manual_seed(data_seed)
    x = torch.nn.functional.normalize(torch.randn(n, dim, generator=gen, dtype=torch.float64), dim=1) * math.sqrt(dim)
    u = torch.nn.functional.normalize(torch.randn(dim, generator=gen, dtype=torch.float64), dim=0)
    return x.to(dtype=dtype, device=device), torch.tanh(x @ u).to(dtype=dtype, device=device)


# --- parameters -----------------------------------------------------------------------------------
def block_of(name: str, depth: int) -> str | None:
    """Which of ``BLOCKS`` a raw MLP parameter belongs to (None: the readout bias, absent in Amari eq. 5)."""
    ell = int(name.removeprefix("weight").removeprefix("bias"))
    if name.startswith("bias"):
        return None if ell == depth else "biases"
    return "readout" if ell == depth else "input_layer" if ell == 0 else "hidden_layers"


def trainable_names(model: MLP, case: str) -> list[str]:
    """The parameters θ of the case: the readout v only (``features``) or all but the readout bias."""
    if case == "features":
        return [f"weight{model.depth}"]
    return [name for name, _ in model.named_parameters() if block_of(name, model.depth) is not None]


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


# --- one case ---------------------------------------------------------------------------------------
STEP_METHODS = ("backprop", "vjp")


def min_norm_step(model: MLP, theta: dict[str, Tensor], names: list[str], x: Tensor, alpha: Tensor,
                  method: str = "backprop") -> dict[str, Tensor]:
    """Δθ* = Xᵀα for each seed (leading dim of ``theta`` and ``alpha``): a vjp of f with cotangent α, O(P) memory.

    ``backprop``: closed-form reverse pass of the MLP (``models.vjp``), batched over seeds (matmuls only); ``vjp``:
    ``torch.func.vjp`` vmapped over seeds (the same numbers; its first call costs ~1.3 s of imports per job).
    """
    if method == "vjp":
        def one(th, a):
            frozen = {k: v for k, v in th.items() if k not in names}
            _, pullback = vjp(lambda tr: functional_call(model, {**frozen, **tr}, (x,)), {k: th[k] for k in names})
            return pullback(a)[0]

        return vmap(one)(theta, alpha)
    if method != "backprop":
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(STEP_METHODS)}")
    grads = models.vjp(model, theta, x, alpha)
    return {k: grads[k] for k in names}


def gram(model: MLP, case: str, theta: dict[str, Tensor], x: Tensor) -> Tensor:
    """K = XXᵀ per seed: h_L h_Lᵀ for ``features`` (eq. 32), else the empirical NTK (eqs. 57, 72) minus the
    readout-bias term 1 (that bias is not a parameter here)."""
    if case == "features":
        h = models.forward(model, theta, x)[1][-1]  # h_L = σ(z⁽ᴸ⁾): the features X of Amari eq. 17
        return h @ h.mT
    return tangents.empirical_ntk(model, x, params=theta) - 1.0


def run_case(model: MLP, case: str, theta: dict[str, Tensor], x: Tensor, target: Tensor, ns: list[int],
             check_n: int | None = None) -> dict:
    """All per-seed numbers of one (case, activation) for a chunk of seeds (see ``min_norm_distance``).

    The forward-mode check of XΔθ* = e runs for n ≤ ``check_n`` only (default: all n)."""
    names, depth, width = trainable_names(model, case), model.depth, model.width
    n_params = sum(theta[k][0].numel() for k in names)
    S, N = theta[names[0]].shape[0], len(ns)
    f0 = models.outputs(model, theta, x)
    err = target - f0
    K = gram(model, case, theta, x).double()
    out = {k: np.full((N, S), np.nan) for k in RUN_KEYS}
    out["delta_block_norm"] = np.full((N, S, len(BLOCKS)), np.nan)
    for i, n in enumerate(ns):
        out["error_norm"][i] = err[:, :n].norm(dim=1).cpu().numpy()
        out["kp_min_eig"][i] = torch.linalg.eigvalsh(K[:, :n, :n] / width)[:, 0].cpu().numpy()
        if n > n_params:  # K singular: no interpolant in the tangent space
            continue
        chol, info = torch.linalg.cholesky_ex(K[:, :n, :n])
        alpha = torch.cholesky_solve(err[:, :n, None].double(), chol)[..., 0]
        ok = (info == 0).cpu().numpy()
        delta = min_norm_step(model, theta, names, x[:n], alpha.to(err.dtype))
        sq = {b: 0.0 for b in BLOCKS}
        for k, d in delta.items():
            sq[block_of(k, depth)] = sq[block_of(k, depth)] + d.flatten(1).double().pow(2).sum(1)
        trained = {block_of(k, depth) for k in names}
        for j, b in enumerate(BLOCKS):
            if b in trained:
                out["delta_block_norm"][i, :, j] = np.where(ok, sq[b].sqrt().cpu().numpy(), np.nan)
        norm = sum(sq[b] for b in trained).sqrt().cpu().numpy()
        sup = torch.stack([d.flatten(1).abs().amax(1) for d in delta.values()]).amax(0).cpu().numpy()
        moved = {k: theta[k] + delta[k] if k in delta else theta[k] for k in theta}
        resid = (models.outputs(model, moved, x[:n]) - target[:n]).norm(dim=1).cpu().numpy()
        if check_n is None or n <= check_n:
            lin = (models.jvp(model, theta, x[:n], delta)[1] - err[:, :n]).norm(dim=1) / err[:, :n].norm(dim=1)
        else:
            lin = torch.full((S,), float("nan"))
        ek = (alpha * err[:, :n].double()).sum(1).clamp_min(0).sqrt().cpu().numpy()  # √(eᵀK⁻¹e)
        for key, val in (("delta_norm", norm), ("delta_sup", sup), ("residual_norm", resid),
                         ("linear_residual", lin.cpu().numpy()), ("delta_norm_kernel", ek)):
            out[key][i] = np.where(ok, val, np.nan)
        del delta, moved  # free two parameter-sized copies before the next n
    out["err"] = err
    return out


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


# --- A2 cell ----------------------------------------------------------------------------------------
def min_norm_distance(cell: Cell) -> xr.Dataset:
    """One width p: every (case, activation, n, seed) of A2 (module docstring).

    The first ``n_seeds`` networks get the full analysis; ``kernel_seeds`` networks (the same first ones
    and more) only their K/p on the first ``kernel_n`` inputs, for the concentration of eq. 33, whose seed
    spread has few effective degrees of freedom per draw.
    """
    prm = cell.params
    width, d, ns = prm["width"], prm["input_dim"], sorted(prm["n_inputs"])
    cases, acts = list(prm["cases"]), list(prm["activations"])
    x, target = inputs_and_teacher(ns[-1], d, prm["data_seed"], dtype=cell.dtype, device=cell.device)
    C, A, N, S = len(cases), len(acts), len(ns), prm["n_seeds"]
    S_k = max(S, prm["kernel_seeds"])
    n_kp = min(prm["kernel_n"], ns[-1])  # the tanh limit is a quadrature costing ∝ n_kp²
    per = {k: np.full((C, A, N, S), np.nan) for k in RUN_KEYS}
    per["delta_block_norm"] = np.full((C, A, N, S, len(BLOCKS)), np.nan)
    per["delta_norm_limit"] = np.full((C, A, N, S), np.nan)
    kp_all = np.full((C, A, S_k, n_kp, n_kp), np.nan)
    th0 = {k: np.full((C, S), np.nan) for k in THETA0_KEYS}
    n_params = np.zeros(C, dtype=np.int64)
    kw = dict(weight_std=prm["weight_std"], bias_std=prm["bias_std"])
    limits = {(L, a): kernels.lecun_ntk(x[:n_kp].double().cpu(), depth=L, activation=a, n_nodes=KERNEL_NODES, **kw)
              for L in {CASES[c] for c in cases} for a in acts}
    for depth in sorted({CASES[c] for c in cases}):
        mine = [ci for ci, c in enumerate(cases) if CASES[c] == depth]
        models = {a: MLP(d, width, depth, activation=a, parameterization="standard", dtype=cell.dtype,
                         device=cell.device, **kw) for a in acts}
        chunk = _seed_chunk(models[acts[0]], cell.device)
        for start in cell.progress(range(0, S_k, chunk), f"depth {depth}, seed chunks of {chunk}"):
            seeds = range(start, min(S_k, start + chunk))
            theta = sample_theta0(models[acts[0]], cell, seeds)
            full = slice(seeds.start, min(S, seeds.stop))  # seeds with the full analysis
            head = {k: v[: max(0, full.stop - full.start)] for k, v in theta.items()}
            for ci in mine:
                case = cases[ci]
                n_params[ci] = sum(theta[k][0].numel() for k in trainable_names(models[acts[0]], case))
                if full.start < full.stop:
                    for key, val in _theta0_norms(models[acts[0]], head, case).items():
                        th0[key][ci, full] = val
                for ai, act in enumerate(acts):
                    kp = (gram(models[act], case, theta, x[:n_kp]) / width).double().cpu()
                    kp_all[ci, ai, seeds.start : seeds.stop] = kp.numpy()
                    if full.start >= full.stop:
                        continue
                    res = run_case(models[act], case, head, x, target, ns, check_n=n_kp)
                    for key in RUN_KEYS + ("delta_block_norm",):
                        per[key][ci, ai, :, full] = res[key]
                    limit = limits[depth, act]
                    for i, n in enumerate(ns[: sum(n <= n_kp for n in ns)]):  # ‖Δθ*‖₂ → √(eᵀK∞⁻¹e/p)
                        e = res["err"][:, :n].double().cpu()
                        quad = (e * torch.linalg.solve(limit[:n, :n], e.T).T).sum(1)
                        per["delta_norm_limit"][ci, ai, i, full] = (quad / width).sqrt().numpy()
    lim = np.stack([np.stack([limits[CASES[c], a].numpy() for a in acts]) for c in cases])[:, :, None]
    lim_norm = np.linalg.norm(lim, axis=(-2, -1))
    kp_err = np.linalg.norm(kp_all - lim, axis=(-2, -1)) / lim_norm
    # seed spread of K/p relative to ‖K∞‖_F: √(Σ_s ‖K_s/p − mean_s K_s/p‖²_F/(S − 1)), no limit needed
    kp_spread = np.sqrt(((kp_all - kp_all.mean(2, keepdims=True)) ** 2).sum((2, 3, 4)) / max(S_k - 1, 1)) / lim_norm[..., 0]
    dims = ("case", "activation", "n", "seed")

    def var(a, long_name, d=dims):
        return (d, a, {"long_name": long_name, "units": "1"})

    th0_dims = ("case", "seed")
    return xr.Dataset(
        {
            "delta_norm": var(per["delta_norm"], "‖Δθ*‖₂, min-norm step (Amari eqs. 27, 56, 71)"),
            "delta_norm_kernel": var(per["delta_norm_kernel"], "√(eᵀK⁻¹e) (equals ‖Δθ*‖₂)"),
            "delta_norm_limit": var(per["delta_norm_limit"], f"infinite-width prediction √(eᵀK∞⁻¹e/p), K∞ = lim K/p (n ≤ {n_kp})"),
            "delta_sup": var(per["delta_sup"], "‖Δθ*‖_∞, largest single-parameter change (eqs. 34, 64)"),
            "delta_block_norm": var(per["delta_block_norm"], "‖Δθ*‖₂ restricted to a parameter block", d=dims + ("block",)),
            "error_norm": var(per["error_norm"], "‖e‖₂ = ‖f* − f(θ₀)‖₂ on the n inputs (eq. 21)"),
            "residual_norm": var(per["residual_norm"], "non-linear residual ‖f(θ₀ + Δθ*) − f*‖₂ on the n inputs"),
            "linear_residual": var(per["linear_residual"], f"‖XΔθ* − e‖₂/‖e‖₂ (linearized equation, eq. 22; n ≤ {n_kp})"),
            "kp_min_eig": var(per["kp_min_eig"], "smallest eigenvalue of K/p on the first n inputs"),
            "kp_error": var(kp_err, f"‖K/p − K∞‖_F/‖K∞‖_F on the first {n_kp} inputs, K∞ = lim K/p (eq. 33)",
                            d=("case", "activation", "kernel_seed")),
            "kp_spread": var(kp_spread, f"seed spread of K/p, ‖·‖_F/‖K∞‖_F on the first {n_kp} inputs", d=("case", "activation")),
            "theta0_readout_norm": var(th0["theta0_readout_norm"], "‖v₀‖₂, readout weights at init (eqs. 35, 39)", d=th0_dims),
            "theta0_neuron_norm": var(th0["theta0_neuron_norm"], "RMS over hidden neurons of ‖(w_i; b_i)‖₂ at init (eq. 3)", d=th0_dims),
            "theta0_norm": var(th0["theta0_norm"], "‖θ₀‖₂ over all trained parameters", d=th0_dims),
            "theta0_sup": var(th0["theta0_sup"], "‖θ₀‖_∞ over all trained parameters", d=th0_dims),
            "n_params": var(n_params, "number P of trained parameters", d=("case",)),
        },
        coords={
            "case": ("case", cases, {"long_name": "trained parameters and depth"}),
            "activation": ("activation", acts, {"long_name": "activation σ"}),
            "n": ("n", np.array(ns), {"long_name": "number of training inputs n", "units": "1"}),
            "seed": ("seed", np.arange(S), {"long_name": "network draw"}),
            "kernel_seed": ("kernel_seed", np.arange(S_k), {"long_name": "network draw (K/p only beyond n_seeds)"}),
            "block": ("block", list(BLOCKS), {"long_name": "parameter block"}),
        },
    )


# --- summary and laws -------------------------------------------------------------------------------
def _geomean(a: xr.DataArray, dim: str = "seed") -> xr.DataArray:
    return np.exp(np.log(a).mean(dim))


def _slope(curve: xr.DataArray, min_width: int) -> float:
    keep = (curve.width >= min_width).values
    return laws.loglog_slope(curve.width.values[keep], curve.values[keep])[0]


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
    fit_n, min_w = s["fit_n"], s["fit_min_width"]
    largest = int(ds.width.max())
    logp = np.sqrt(2 * np.log(ds.width))

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

    found = []
    pair = ("case", "activation")
    names = ("delta_norm", "delta_sup", "input_block", "kp_spread", "kp_error", "residual", "remark2", "prefactor")
    fitted = {k: np.full((ds.sizes["case"], ds.sizes["activation"]), np.nan) for k in names}
    for i, case in enumerate(ds.case.values):
        for j, act in enumerate(ds.activation.values):
            sel, tag, where = dict(case=case, activation=act), f"{case}_{act}", f"{case}, {act}"
            at = dict(sel, n=fit_n)

            def law(key, name, value, theory, tol, text, holds=None):
                fitted[key][i, j] = value
                found.append(laws.Law(f"{name}_{tag}", value, theory, tol, f"{where}: {text}", holds=holds))

            law("delta_norm", "delta_norm_slope", _slope(ds.delta_norm_geomean.sel(at), min_w), -0.5, 0.1,
                f"slope of ‖Δθ*‖₂ vs p (n = {fit_n})")
            law("prefactor", "prefactor", float(ds.prefactor_median.sel(dict(at, width=largest))), 1.0, 0.1,
                f"‖Δθ*‖₂·√p/√(eᵀK∞⁻¹e) at p = {largest} (n = {fit_n})")
            law("delta_sup", "delta_sup_slope", _slope(ds.delta_sup_geomean.sel(at) / logp, min_w), -1.0, 0.15,
                f"slope of ‖Δθ*‖_∞/√(2 ln p) vs p (n = {fit_n})")
            if case != "features":
                block = ds.delta_block_geomean.sel(dict(at, block="input_layer"))
                law("input_block", "input_block_slope", _slope(block, min_w), -1.0, 0.15,
                    f"slope of the input-layer block of Δθ* vs p (n = {fit_n}; eq. 60 would give −½)")
            law("kp_spread", "kp_spread_slope", _slope(ds.kp_spread.sel(sel), 0), -0.5, 0.1,
                "slope of the seed spread of K/p vs p (eq. 33: K/p concentrates)")
            slope = _slope(ds.kp_error_rms.sel(sel), 0)
            law("kp_error", "kp_error_slope", slope, -0.5, 0.0,
                "slope of the RMS error of K/p against lim K/p vs p (eq. 33; < −0.3)", holds=bool(slope < -0.3))
            if case == "features":
                worst = float(ds.relative_residual.sel(sel).where((ds.width >= min_w) & (ds.n <= ds.width / 4)).max())
                law("residual", "residual_exact", worst, 0.0, 1e-8, "max ‖f(θ₀+Δθ*) − f*‖/‖e‖ (p ≥ 4n; linear in v: exact)")
            else:
                slope = _slope(ds.relative_residual_median.sel(at), min_w)
                law("residual", "residual_slope", slope, 0.0, 0.0,
                    f"slope of ‖f(θ₀+Δθ*) − f*‖/‖e‖ vs p (n = {fit_n}; Theorem 1: < 0)", holds=bool(slope < -0.2))
            growth = ds.p_delta_sup_median.sel(dict(sel, width=largest)).dropna("n")
            exponent = laws.loglog_slope(growth.n.values, growth.values)[0]
            law("remark2", "remark2_exponent", exponent, 2.0, 0.0,
                f"exponent of p·‖Δθ*‖_∞ in n at p = {largest} (Remark 2: ≤ 2)", holds=bool(exponent <= 2.1))
    texts = {"delta_norm": f"slope of ‖Δθ*‖₂ vs p (n = {fit_n}, p ≥ {min_w})",
             "prefactor": f"‖Δθ*‖₂·√p/√(eᵀK∞⁻¹e) at p = {largest} (n = {fit_n})",
             "delta_sup": f"slope of ‖Δθ*‖_∞/√(2 ln p) vs p (n = {fit_n}, p ≥ {min_w})",
             "input_block": f"slope of the input-layer block of Δθ* vs p (n = {fit_n}, p ≥ {min_w})",
             "kp_spread": "slope of the seed spread of K/p vs p",
             "kp_error": "slope of the RMS relative error of K/p against lim K/p vs p",
             "residual": f"slope of the relative non-linear residual vs p (n = {fit_n}, p ≥ {min_w}); features: max",
             "remark2": f"exponent of p·‖Δθ*‖_∞ in n at p = {largest}"}
    for k, text in texts.items():
        ds[f"fit_{k}"] = (pair, fitted[k], {"long_name": text, "units": "1"})

    big = dict(width=largest)
    found.append(laws.Law("theta0_readout_norm", float(ds.theta0_readout_norm.sel(big).mean()), s["weight_std"], 0.05,
                          f"‖v₀‖₂ at p = {largest} (eqs. 35, 39: σ_v)"))
    found.append(laws.Law("theta0_neuron_norm", float(ds.theta0_neuron_norm.sel(big).mean()),
                          math.hypot(s["weight_std"], s["bias_std"]), 0.05,
                          f"RMS neuron norm ‖(w_i; b_i)‖₂ at p = {largest} (√(σ_w² + σ_b²))"))
    wide = ds.width >= min_w
    lin = ds.linear_residual.where(wide & (ds.n <= ds.width / 4))
    found.append(laws.Law("linear_equation", float(lin.max()), 0.0, 1e-8,
                          "max ‖XΔθ* − e‖/‖e‖ (p ≥ 4n): Δθ* solves the linearized equations (eq. 22)"))
    same = abs(ds.delta_norm / ds.delta_norm_kernel - 1).where(wide)
    found.append(laws.Law("norm_identity", float(same.max()), 0.0, 1e-8, "max |‖Xᵀα‖₂/√(eᵀK⁻¹e) − 1| (p ≥ fit width)"))
    return laws.attach(ds, found)
