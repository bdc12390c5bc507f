"""Random networks and random geometry at initialization: A1 sphere-projection, A3 deep-linear,
A7 gp-limit, A8 fourth-cumulant (A2 lives in ``min_norm``)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from scipy import stats

from widenet import activations, finite_width, kernels, laws
from widenet.cells import Cell
from widenet.experiments.kernels import CRITICAL_WEIGHT_STD
from widenet.finite_width import single_input_recursion
from widenet.sampling import sample_deep_linear_log_norms, sample_outputs
from widenet.sphere import sphere_coordinate_cdf, sphere_projection_sample

HIST_EDGES = np.linspace(-4.0, 4.0, 49)


# --- A1 sphere-projection: Amari §4, Theorem 2 ----------------------------------------------------
def sphere_projection(cell: Cell) -> xr.Dataset:
    p, m, n_max = cell.params["p"], cell.params["n_points"], max(cell.params["subspace_dims"])
    z = sphere_projection_sample(p, n_max, m, cell.generator(), dtype=cell.dtype).cpu().numpy()
    dims = np.array(cell.params["subspace_dims"])
    cov = np.cov(z, rowvar=False) * p  # p·Cov over the n_max coordinates
    scaled = np.sqrt(p) * z[:, 0]
    hist, _ = np.histogram(scaled, bins=HIST_EDGES, density=True)
    eye = np.eye(n_max)
    cov_err = [np.abs(cov[:n, :n] - eye[:n, :n]).max() for n in dims]
    ks_normal = stats.kstest(scaled, "norm").statistic
    ks_exact = stats.kstest(z[:, 0], lambda t: sphere_coordinate_cdf(t, p)).statistic
    coord = np.arange(n_max)
    return xr.Dataset(
        {
            "p_var": ("coordinate", np.diag(cov), {"long_name": "p · Var(z_i)", "units": "1"}),
            "p_cov_max_error": ("subspace_dim", cov_err, {"long_name": "max |p·Cov(z) − I| over the first n coordinates", "units": "1"}),
            "hist_sqrt_p_z1": ("bin", hist, {"long_name": "density of √p·z₁", "units": "1"}),
            "ks_normal": ((), ks_normal, {"long_name": "KS distance of √p·z₁ to N(0, 1)", "units": "1"}),
            "ks_exact": ((), ks_exact, {"long_name": "KS distance of z₁ to its exact Beta law", "units": "1"}),
            "ks_noise": ((), 1.36 / np.sqrt(m), {"long_name": "95% KS critical value for this sample size", "units": "1"}),
        },
        coords={
            "coordinate": ("coordinate", coord, {"long_name": "projected coordinate index"}),
            "subspace_dim": ("subspace_dim", dims, {"long_name": "subspace dimension n", "units": "1"}),
            "bin": ("bin", 0.5 * (HIST_EDGES[1:] + HIST_EDGES[:-1]), {"long_name": "√p·z₁ (bin centre)", "units": "1"}),
        },
    )


def summarize_sphere_projection(ds: xr.Dataset, config: dict) -> xr.Dataset:
    m = config["settings"]["n_points"]
    n_coord = ds.sizes["coordinate"]
    se = np.sqrt(2.0 / (m - 1) / n_coord)  # SE of the coordinate-mean of p·Var under N(0, I/p)
    mean_var = ds.p_var.mean("coordinate")
    ds["p_var_mean"] = mean_var.assign_attrs(long_name="p · Var(z), mean over coordinates", units="1")
    ds["p_var_se"] = xr.full_like(mean_var, se).assign_attrs(long_name="standard error of p·Var mean", units="1")
    found = [
        laws.Law(
            f"p_var_p{int(p)}", float(mean_var.sel(p=p)), 1.0, 4 * se, f"p·Var(z) at p = {int(p)}"
        )
        for p in ds.p.values
    ]
    largest = ds.p.values.max()
    ks = ds.ks_normal.sel(p=largest)
    found.append(
        laws.Law(
            "ks_normal_largest_p", float(ks), 0.0, float(2 * ds.ks_noise.sel(p=largest)),
            f"KS distance of √p·z₁ to N(0,1) at p = {int(largest)}",
        )
    )
    return laws.attach(ds, found)


# --- shared: random networks at initialization (A3, A7, A8) ----------------------------------------
def _critical_weight_std(activation: str) -> float:
    """σ_w with C_W = σ_w² at criticality: 2 for relu (He), 1 otherwise (Hanin §3.3.3)."""
    return CRITICAL_WEIGHT_STD.get(activation, 1.0)


def _unit_inputs(angles_deg, dim: int, cell: Cell) -> torch.Tensor:
    """Unit vectors of R^dim at the given angles from e₁ in the (e₁, e₂) plane (k × dim)."""
    x = kernels.unit_vectors(torch.as_tensor(np.radians(angles_deg), dtype=torch.float64), dim)
    return x.to(dtype=cell.dtype, device=cell.device)


# --- A3 deep-linear: Hanin §3.2, eq. 3.2.3 ----------------------------------------------------------
PDF_POINTS = np.linspace(-5.0, 5.0, 161)  # where the exact density is tabulated, in exact SDs from the mean


def deep_linear(cell: Cell) -> xr.Dataset:
    """log‖z⁽ᴸ⁺¹⁾(x)‖ of ``n_networks`` deep linear nets per depth L in ``depths``, all widths N (input
    and output too), ‖x‖ = 1, 1/√fan_in scaling: samples, moments with SEs, and the exact law of
    Hanin eq. 3.2.3 (L + 1 independent ½·log(χ²_N/N)): moments, KS test, density.

    ``conditional`` sampler (exact in law); one independent stream per depth.
    """
    depths = list(cell.params["depths"])
    return xr.concat([_deep_linear_depth(cell, depth) for depth in cell.progress(depths, "depths")], dim="depth")


def _deep_linear_depth(cell: Cell, depth: int) -> xr.Dataset:
    """``deep_linear``'s numbers for one depth."""
    width, n = cell.params["width"], cell.params["n_networks"]
    samples = sample_deep_linear_log_norms(
        width, depth, n, method="conditional", generator=cell.generator(f"depth-{depth}"), dtype=cell.dtype, device=cell.device,
    ).cpu().numpy()
    exact_mean, exact_var = finite_width.deep_linear_log_norm_moments(width, depth)
    test = stats.kstest(samples, lambda t: finite_width.deep_linear_log_norm_cdf(t, width, depth))
    pdf_t, pdf = finite_width.deep_linear_log_norm_density(PDF_POINTS, width, depth)
    mean, var = samples.mean(), samples.var(ddof=1)
    one = {"units": "1"}
    return xr.Dataset(
        {
            "log_norm": ("network", samples, {"long_name": "log‖z⁽ᴸ⁺¹⁾(x)‖ of one network", **one}),
            "log_norm_mean": ((), mean, {"long_name": "mean of log‖z⁽ᴸ⁺¹⁾‖ over networks", **one}),
            "log_norm_mean_se": ((), np.sqrt(var / n), {"long_name": "standard error of the mean of log‖z‖", **one}),
            "log_norm_var": ((), var, {"long_name": "variance of log‖z⁽ᴸ⁺¹⁾‖ over networks", **one}),
            "log_norm_var_se": ((), ((samples - mean) ** 2).std() / np.sqrt(n), {"long_name": "standard error of the variance of log‖z‖", **one}),
            "exact_mean": ((), exact_mean, {"long_name": "exact mean (L+1)·½(ψ(N/2) − log(N/2)), Hanin eq. 3.2.3", **one}),
            "exact_var": ((), exact_var, {"long_name": "exact variance (L+1)·¼ψ′(N/2), Hanin eq. 3.2.3", **one}),
            "ks_statistic": ((), test.statistic, {"long_name": "KS distance of the samples to the exact law (eq. 3.2.3)", **one}),
            "ks_pvalue": ((), test.pvalue, {"long_name": "KS test p-value against the exact law (eq. 3.2.3)", **one}),
            "exact_pdf_t": ("pdf_point", pdf_t, {"long_name": "log‖z‖ where the exact density is tabulated", **one}),
            "exact_pdf": ("pdf_point", pdf, {"long_name": "exact density of log‖z‖ (eq. 3.2.3, Gil-Pelaez)", **one}),
        },
        coords={
            "depth": ((), depth, {"long_name": "hidden layers L", **one}),
            "network": ("network", np.arange(n), {"long_name": "network draw"}),
            "pdf_point": ("pdf_point", PDF_POINTS, {"long_name": "exact standard deviations from the exact mean", **one}),
        },
    )


def summarize_deep_linear(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """β = Σ_{ℓ=1}^{L+1} 1/N_ℓ = (L+1)/N; laws: KS and moments against the exact law in every cell,
    and mean ≈ −β/2, variance ≈ β/2 at the largest N. Hanin §3.2 prints −β/4 and β/4: its
    per-layer E, Var of ½·log(χ²_N/N) are ∓1/(2N) + O(N⁻²), not ∓1/(4N) (Var log χ²_N ≈ 2/N)."""
    ds["beta"] = ((ds.depth + 1) / ds.width).assign_attrs(long_name="β = Σ 1/N_ℓ = (L+1)/N", units="1")
    cells = ds.sizes["width"] * ds.sizes["depth"]
    min_p = float(ds.ks_pvalue.min())
    z_mean = abs(ds.log_norm_mean - ds.exact_mean) / ds.log_norm_mean_se
    z_var = abs(ds.log_norm_var - ds.exact_var) / ds.log_norm_var_se
    found = [
        laws.Law("ks_exact_min_pvalue", min_p, 0.01 / cells, 0.0,
                 f"smallest KS p-value against the exact law over {cells} (N, L) cells (must exceed 1 %/{cells}, Bonferroni)",
                 holds=min_p > 0.01 / cells),
        laws.Law("moments_exact_max_z", float(max(z_mean.max(), z_var.max())), 0.0, 4.0,
                 "largest |sampled − exact| / SE of the mean and variance of log‖z‖ over all cells"),
    ]
    largest = int(ds.width.max())
    sel = ds.sel(width=largest)
    fits = {}
    for name, sample, se, exact, sign in [("mean", sel.log_norm_mean, sel.log_norm_mean_se, sel.exact_mean, -1),
                                          ("var", sel.log_norm_var, sel.log_norm_var_se, sel.exact_var, 1)]:
        slope, slope_se = laws.slope_through_origin(sel.beta, sample, se)
        exact_slope = laws.slope_through_origin(sel.beta, exact, se)[0]  # = N·per-layer exact moment: ∓½ + O(1/N)
        fits[name] = (slope, slope_se)
        found.append(laws.Law(
            f"{name}_slope_N{largest}", slope, sign * 0.5, 3 * slope_se + abs(exact_slope - sign * 0.5),
            f"N = {largest}: {name} of log‖z‖ / β (fit through 0 over L; tolerance 3 SE + exact O(1/N) term)",
        ))
    ds["fit_slope"] = ("moment", [fits["mean"][0], fits["var"][0]], {"long_name": f"fitted moment/β at N = {largest}", "units": "1"})
    ds["fit_slope_se"] = ("moment", [fits["mean"][1], fits["var"][1]], {"long_name": "standard error of the fitted moment/β", "units": "1"})
    ds = ds.assign_coords(moment=("moment", ["mean", "var"], {"long_name": "moment of log‖z‖"}))
    return laws.attach(ds, found)


# --- A7 gp-limit: Hanin Theorem 3.3.1, Petersen–Zech Proposition 11.28 ----------------------------
KS_MEAN_NULL = np.sqrt(np.pi / 2) * np.log(2)  # E[√n·D_n] → √(π/2)·ln 2 ≈ 0.869 for exact samples


def gp_limit(cell: Cell) -> xr.Dataset:
    """Outputs of ``n_networks`` random ``ntk`` networks of one width at k unit-norm inputs, per
    activation (C_W at criticality, no bias) and depth, against the GP of Hanin Theorem 3.3.1:
    empirical covariance (known zero mean) with SEs, KS distance of each marginal z_a/√K to N(0, 1)
    (K = K⁽ᴸ⁾(x, x) of eq. 3.3.1, the same for all unit-norm inputs), excess kurtosis 3κ₄/K² with
    bootstrap SE and its theory, the NNGP covariance matrix, and the first ``n_scatter`` outputs.
    ``conditional`` sampler, one stream per (activation, depth)."""
    p = cell.params
    pairs = [(act, depth) for act in p["activations"] for depth in p["depths"]]
    parts = [_gp_limit_pair(cell, act, depth) for act, depth in cell.progress(pairs, "activation × depth")]
    ds = xr.combine_by_coords(parts, combine_attrs="drop_conflicts")
    ds["ks_null_mean"] = ((), KS_MEAN_NULL / np.sqrt(p["n_networks"]), {
        "long_name": "mean KS distance of n exact Gaussian samples ≈ 0.869/√n", "units": "1"})
    return ds.reindex(activation=list(p["activations"]), depth=list(p["depths"]))


def _gp_limit_pair(cell: Cell, act: str, depth: int) -> xr.Dataset:
    """``gp_limit``'s numbers for one (activation, depth), over length-1 activation and depth dims."""
    p = cell.params
    width, n = p["width"], p["n_networks"]
    x = _unit_inputs(p["angles_deg"], p["input_dim"], cell)
    x64 = kernels.unit_vectors(torch.as_tensor(np.radians(p["angles_deg"])), p["input_dim"], dtype=torch.float64)  # for the NNGP
    k, n_scatter, w_std = x.shape[0], min(p["n_scatter"], n), _critical_weight_std(act)
    z = sample_outputs(x, width=width, depth=depth, activation=act, n_networks=n, weight_std=w_std,
                       method="conditional", generator=cell.generator(f"{act}-L{depth}"))
    prod = z[:, :, None] * z[:, None, :]
    variance, ratio = single_input_recursion(act, width, depth, weight_std=w_std, k1=w_std**2 / x.shape[1])
    scaled = z.double().cpu().numpy() / np.sqrt(variance)
    ks = [stats.kstest(scaled[:, i], "norm") for i in range(k)]
    est = finite_width.fourth_cumulant_ratio(z, n_boot=p["n_boot"], generator=cell.generator(f"boot-{act}-L{depth}"))
    one = {"units": "1"}
    mat, vec, pair = ("input", "input_2"), ("input",), ()

    def var(dims, value, long_name, dtype=float):
        return (("activation", "depth") + dims, np.asarray(value, dtype=dtype)[None, None], {"long_name": long_name, **one})

    return xr.Dataset(
        {
            "covariance": var(mat, prod.mean(0).cpu().numpy(), "empirical output covariance E[z(x_a) z(x_b)]"),
            "covariance_se": var(mat, (prod.std(0) / np.sqrt(n)).cpu().numpy(), "standard error of the empirical covariance"),
            "nngp_covariance": var(mat, kernels.analytic(x64, depth=depth, activation=act, weight_std=w_std)["nngp"].numpy(),
                                   "NNGP covariance K⁽ᴸ⁾(x_a, x_b) (Hanin eq. 3.3.1, kernels.analytic)"),
            "nngp_variance": var(pair, variance, "NNGP variance K⁽ᴸ⁾(x, x) of a unit-norm input (eq. 3.3.1)"),
            "ks_distance": var(vec, [t.statistic for t in ks], "KS distance of z(x_a)/√K⁽ᴸ⁾(x_a, x_a) to N(0, 1)"),
            "ks_pvalue": var(vec, [t.pvalue for t in ks], "KS test p-value of z(x_a)/√K⁽ᴸ⁾(x_a, x_a) against N(0, 1)"),
            "excess_kurtosis": var(vec, 3 * est.value.cpu().numpy(), "excess kurtosis E[z⁴]/E[z²]² − 3 = 3κ₄/K²"),
            "excess_kurtosis_se": var(vec, 3 * est.stderr.cpu().numpy(), "bootstrap standard error of the excess kurtosis"),
            "excess_kurtosis_theory": var(pair, 3 * (finite_width.relu_fourth_cumulant_ratio(width, depth) if act == "relu" else ratio),
                                          "3κ₄/K²: relu exact 3((1 + 5/N)^L − 1), else leading order of eq. 3.4.1"),
            "outputs": var(("network", "input"), z[:n_scatter].cpu().numpy(), "outputs z(x_a) of the first networks", np.float32),
        },
        coords={
            "activation": ("activation", [act], {"long_name": "activation σ"}),
            "depth": ("depth", [depth], {"long_name": "hidden layers L", **one}),
            "input": ("input", np.arange(k), {"long_name": "input index a"}),
            "input_2": ("input_2", np.arange(k), {"long_name": "input index b"}),
            "network": ("network", np.arange(n_scatter), {"long_name": "network draw"}),
            "angle_deg": ("input", np.asarray(p["angles_deg"], float), {"long_name": "angle of x_a from e₁", "units": "degree"}),
        },
    )


def summarize_gp_limit(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Covariance error vs width and the laws: covariance = NNGP within MC error at the largest width,
    KS distance decreasing with width (log-log slope < 0) per activation and depth."""
    ds["nngp_covariance"] = ds.nngp_covariance.isel(width=0, drop=True)  # the same in every cell
    diff = ds.covariance - ds.nngp_covariance
    ds["covariance_rel_error"] = (
        np.sqrt((diff**2).sum(("input", "input_2")) / (ds.nngp_covariance**2).sum(("input", "input_2")))
    ).assign_attrs(long_name="relative Frobenius error ‖Ĉ − K‖_F/‖K‖_F", units="1")
    ds["covariance_rel_noise"] = (
        np.sqrt((ds.covariance_se**2).sum(("input", "input_2")) / (ds.nngp_covariance**2).sum(("input", "input_2")))
    ).assign_attrs(long_name="Monte Carlo size of the relative error: √Σ SE² / ‖K‖_F", units="1")
    ds["covariance_z"] = (abs(diff) / ds.covariance_se).assign_attrs(long_name="|Ĉ − K| / SE", units="1")
    ds["ks_distance_mean"] = ds.ks_distance.mean("input").assign_attrs(long_name="KS distance, mean over inputs", units="1")
    largest, smallest = int(ds.width.max()), int(ds.width.min())
    found = []
    upper = np.triu(np.ones((ds.sizes["input"],) * 2, bool))
    for act in ds.activation.values:
        z = ds.covariance_z.sel(activation=act, width=largest).values[..., upper]
        found.append(laws.Law(f"covariance_{act}", float(z.max()), 0.0, 4.0,
                              f"{act}, N = {largest}: largest |Ĉ − K_NNGP|/SE over depths and input pairs"))
    slopes = laws.loglog_slopes(ds.ks_distance_mean, "width").slope
    for act in ds.activation.values:
        for depth in ds.depth.values:
            curve, slope = ds.ks_distance_mean.sel(activation=act, depth=depth), float(slopes.sel(activation=act, depth=depth))
            ratio = float(curve.sel(width=largest) / curve.sel(width=smallest))
            found.append(laws.Law(f"ks_slope_{act}_L{int(depth)}", slope, 0.0, 0.0,
                                  f"{act}, L = {int(depth)}: slope of log KS vs log width (must be < 0; "
                                  f"KS(N={largest})/KS(N={smallest}) = {ratio:.2f})", holds=slope < 0))
    ds["ks_slope"] = slopes.transpose("activation", "depth").assign_attrs(
        long_name="log-log slope of the mean KS distance vs width", units="1")
    return laws.attach(ds, found)


# --- A8 fourth-cumulant: Hanin Theorem 3.4.1 ------------------------------------------------------
def fourth_cumulant(cell: Cell) -> xr.Dataset:
    """κ₄/K² = (E[z⁴] − 3E[z²]²)/(3E[z²]²) of the output at one unit-norm input (Hanin §3.4) for each
    activation (C_W at criticality: 2 for relu, 1 otherwise; no bias) and depth L, from
    ``n_networks`` networks per (activation, L) drawn independently (``conditional`` sampler), with
    bootstrap SEs; plus the exact relu law (1 + 5/N)^L − 1 and the leading order of eq. 3.4.1."""
    p = cell.params
    width, n, acts, depths = p["width"], p["n_networks"], list(p["activations"]), list(p["depths"])
    x = _unit_inputs([0.0], p["input_dim"], cell)
    shape = (len(acts), len(depths))
    z = torch.empty((n,) + shape, dtype=cell.dtype, device=cell.device)
    nngp, exact, leading = (np.full(shape, np.nan) for _ in range(3))
    for (a, act), (j, depth) in cell.progress(
        [(pa, pd) for pa in enumerate(acts) for pd in enumerate(depths)], "activation × depth"
    ):
        w_std = _critical_weight_std(act)
        z[:, a, j] = sample_outputs(x, width=width, depth=depth, activation=act, n_networks=n, weight_std=w_std,
                                    method="conditional", generator=cell.generator(f"{act}-L{depth}"))[:, 0]
        nngp[a, j], leading[a, j] = single_input_recursion(act, width, depth, weight_std=w_std, k1=w_std**2 / p["input_dim"])
        if act == "relu":
            exact[a, j] = finite_width.relu_fourth_cumulant_ratio(width, depth)
    est = finite_width.fourth_cumulant_ratio(z, n_boot=p["n_boot"], generator=cell.generator("bootstrap"))
    one = {"units": "1"}
    dims = ("activation", "depth")
    return xr.Dataset(
        {
            "kappa4_ratio": (dims, est.value.cpu().numpy(), {"long_name": "κ₄/K² = (E[z⁴] − 3E[z²]²)/(3E[z²]²)", **one}),
            "kappa4_ratio_se": (dims, est.stderr.cpu().numpy(), {"long_name": "bootstrap standard error of κ₄/K²", **one}),
            "second_moment": (dims, (z**2).mean(0).cpu().numpy(), {"long_name": "E[z²] over networks", **one}),
            "nngp_variance": (dims, nngp, {"long_name": "infinite-width K⁽ᴸ⁾(x, x) (eq. 3.3.1)", **one}),
            "kappa4_ratio_exact": (dims, exact, {"long_name": "exact κ₄/K² = (1 + 5/N)^L − 1 (relu only)", **one}),
            "kappa4_ratio_leading": (dims, leading, {"long_name": "leading order of κ₄/K² in 1/N (eq. 3.4.1; relu: 5L/N)", **one}),
        },
        coords={
            "activation": ("activation", acts, {"long_name": "activation σ"}),
            "depth": ("depth", np.array(depths), {"long_name": "hidden layers L", **one}),
        },
    )


def summarize_fourth_cumulant(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Slope of κ₄/K² vs L/N at small L/N (≤ ``fit_max_ratio``), fitted through the origin: κ₄ ≡ 0
    at L = 0 (the output is then exactly Gaussian) and Theorem 3.4.1 has no constant term, so an
    intercept would only absorb the O((L/N)²) curvature. relu: theory 5; other activations: the
    same fit applied to the leading-order values at the same points. Tolerance 2 bootstrap SEs."""
    r_max = config["settings"]["fit_max_ratio"]
    ds["depth_over_width"] = (ds.depth / ds.width).assign_attrs(long_name="L/N", units="1")
    found, slopes, ses, theory, exact_fit = [], [], [], [], []
    for act in ds.activation.values:
        sel = ds.sel(activation=act).stack(point=("width", "depth"))
        sel = sel.where(sel.depth_over_width <= r_max + 1e-12, drop=True)
        slope, se = laws.slope_through_origin(sel.depth_over_width, sel.kappa4_ratio, sel.kappa4_ratio_se)
        expect = laws.slope_through_origin(sel.depth_over_width, sel.kappa4_ratio_leading, sel.kappa4_ratio_se)[0]
        curved = (laws.slope_through_origin(sel.depth_over_width, sel.kappa4_ratio_exact, sel.kappa4_ratio_se)[0]
                  if act == "relu" else np.nan)
        slopes.append(slope), ses.append(se), theory.append(expect), exact_fit.append(curved)
        found.append(laws.Law(
            f"{act}_slope_small_ratio", slope, 5.0 if act == "relu" else expect, 2 * se,
            f"{act}: slope of κ₄/K² vs L/N through 0 over {sel.sizes['point']} points with L/N ≤ {r_max:g} "
            f"(tolerance 2 bootstrap SE)",
        ))
    ds["fit_slope"] = ("activation", slopes, {"long_name": "fitted slope of κ₄/K² vs L/N (through 0, small L/N)", "units": "1"})
    ds["fit_slope_se"] = ("activation", ses, {"long_name": "standard error of the fitted slope (bootstrap)", "units": "1"})
    ds["fit_slope_theory"] = ("activation", theory, {"long_name": "same fit of the leading-order values (relu: 5)", "units": "1"})
    ds["fit_slope_exact"] = ("activation", exact_fit, {"long_name": "same fit of the exact relu values (1 + 5/N)^L − 1", "units": "1"})
    return laws.attach(ds, found)
