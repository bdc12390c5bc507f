"""A9 regions: exact linear regions of random ReLU networks (Hanin §4; Hanin & Rolnick 2019).

Networks as in Hanin eq. 4.0.1 (W ~ N(0, 2)/√fan_in, b ~ N(0, 1), output dimension 1), traced
exactly by ``widenet.regions``. One cell per (input dimension N₀, total number of neurons N); the
depths L and the seeds are inner axes. The N neurons are split over the L hidden layers as evenly
as possible, the first N mod L layers one wider (16 neurons at depth 3 → 6, 5, 5); a (N, L) with
fewer than ``min_width`` neurons in some layer is skipped (all its values NaN, ``measured`` False).

Per network (input cube [−1, 1]^N₀; for N₀ > 2 the slice is the plane through 0 spanned by two
random orthonormal directions, for N₀ = 2 the input plane itself):
- 1-D (Theorem 4.2.1): breakpoints on ``n_segments`` segments of length ``segment_length`` with
  uniform centres in the cube and uniform directions → breakpoints and regions per unit length.
- 2-D (Theorems 4.2.1, 4.2.2): the exact partition of the square [−R, R]² of the slice → regions
  per unit area, nodal length per unit area; its interior vertices V and the crossings B of the
  nodal set with the square's boundary (traced independently in 1-D), which obey Euler's
  relation n_regions = 1 + V + B/2; activation patterns seen on nested grids (undercount).
- L = 1 (Zaslavsky): the lines of the slice; regions of the whole plane (exact partition of a
  square containing all pairwise intersections, tol = 0) against 1 + N + N(N − 1)/2, and regions
  of [−R, R]² against 1 + (#lines meeting it) + (#intersections inside it).

What the theorems give (derived in ``summarize_regions``): per unit length/area the nodal volume
grows ∝ N (Thm 4.2.1: E[Z_A] ≤ C·N·vol(A), C depending only on Σ_ℓ 1/N_ℓ). On a 2-D slice the
restricted net is itself a 2-input ReLU net, so Thm 4.2.2 bounds the regions per unit area by
C·N^2/2 (not N^N₀), and Euler gives #regions = 1 + V + B/2 with B ∝ N·perimeter (Thm 4.2.1 on
the boundary) and V ∝ N²·area: the region count per area grows like N², linear only in its
boundary term; the catalogue's "about linearly" holds for the nodal volume, not for the 2-D count.
Depth: in the infinite-width limit each neuron of layer ℓ has the Kac–Rice zero density of a
Gaussian field with K⁽ℓ⁾(x, x) = ℓ + 2‖x‖²/N₀ (exact for L = 1 at any width), so deeper layers
cross zero a little less often (∝ ℓ^(−1/2)): a bounded, weak depth dependence, approached as
Σ 1/N_ℓ → 0 (see ``widenet.kac_rice``).
For N₀ > 2 the slice net is, in law, the N₀ = 2 net at x·√(2/N₀) (W·U has i.i.d. N(0, 2)
entries for orthonormal U), so N₀ = 16 on [−R, R]² is N₀ = 2 on a square √8 times smaller.
"""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr

from widenet import kac_rice, laws
from widenet.cells import Cell
from widenet.config import stream_seed
from widenet.regions import (
    F64,
    boundary_crossings,
    count_breakpoints_1d,
    count_patterns_grid,
    edge_layers,
    interior_vertices,
    layer_widths,
    partition_2d,
    random_relu_net,
    random_segments,
    slice_basis,
    zaslavsky_counts,
)

NETWORK_VARIABLES = {  # per (depth, seed): long name, units
    "breakpoints_per_length": ("1-D: breakpoints per unit length (mean over {n_seg} segments of length {seg_len:g} in the cube [−1, 1]^N₀)",
                               "1"),
    "regions_per_length": ("1-D: linear pieces per unit length, (breakpoints + 1)/segment length (mean over segments)", "1"),
    "n_regions": ("2-D: exact number of linear regions meeting the slice square [−{h:g}, {h:g}]²", "1"),
    "regions_per_area": ("2-D: exact regions per unit area of the slice square", "1"),
    "nodal_length": ("2-D: total length of the nodal set (all neurons) inside the slice square", "1"),
    "nodal_length_per_area": ("2-D: nodal length per unit area of the slice square", "1"),
    "interior_vertices": ("2-D: vertices (crossings of nodal curves) inside the open slice square", "1"),
    "boundary_crossings": ("2-D: points where the nodal set crosses the square's boundary (1-D tracing)", "1"),
    "zaslavsky_whole_plane": ("L = 1: exact regions of the whole slice plane (NaN for L > 1)", "1"),
    "zaslavsky_square": ("L = 1: 1 + #lines meeting the slice square + #their intersections inside it (NaN for L > 1)", "1"),
}


# --- one cell ---------------------------------------------------------------------------------------
def measure_network(p: dict, in_dim: int, widths: list[int], generator: torch.Generator) -> tuple[dict, list[int]]:
    """All per-network numbers of one random net (module docstring) and its grid-sampled pattern counts."""
    h, seg_len = float(p["half_width"]), float(p["segment_length"])
    area = (2 * h) ** 2
    weights, biases = random_relu_net(in_dim, widths, generator=generator, dtype=F64)
    basis = slice_basis(in_dim, generator)
    origin = torch.zeros(in_dim, dtype=F64)
    starts, ends = random_segments(p["n_segments"], in_dim, seg_len, generator)
    breakpoints = float(count_breakpoints_1d(weights, biases, starts, ends).to(F64).mean())
    part = partition_2d(weights, biases, origin, basis, h)
    out = {
        "breakpoints_per_length": breakpoints / seg_len, "regions_per_length": (breakpoints + 1) / seg_len,
        "n_regions": part.n_regions, "regions_per_area": part.n_regions / area,
        "nodal_length": part.nodal_length, "nodal_length_per_area": part.nodal_length / area,
        "interior_vertices": interior_vertices(part, h), "boundary_crossings": boundary_crossings(weights, biases, basis, h),
    }
    if len(widths) == 1:
        out["zaslavsky_whole_plane"], out["zaslavsky_square"] = zaslavsky_counts(weights, biases, basis, h)
    pattern_counts = [count_patterns_grid(weights, biases, origin, basis, h, r) for r in p["grid_resolutions"]]
    return out, pattern_counts


def regions(cell: Cell) -> xr.Dataset:
    """All measurements of the networks of one (N₀, N) for every depth and seed (see module doc), the
    infinite-width Kac–Rice densities and the example partitions of panel (a), each from its own stream."""
    p = cell.params
    if p["activation"] != "relu":  # the schema already allows relu only; linear regions need ReLU
        raise ValueError(f"experiment.regions.settings.activation: {p['activation']!r}; only relu is allowed")
    depths, n_seeds, n_res = list(p["depths"]), p["n_seeds"], len(p["grid_resolutions"])
    widths = [layer_widths(p["neurons"], depth) for depth in depths]
    measured = np.array([min(ws) >= p["min_width"] for ws in widths])
    values = {name: np.full((len(depths), n_seeds), np.nan) for name in NETWORK_VARIABLES}
    pattern_counts = np.full((len(depths), n_seeds, n_res), np.nan)
    jobs = [(k, s) for k in np.flatnonzero(measured) for s in range(n_seeds)]
    for k, s in cell.progress(jobs, "networks"):
        gen = cell.generator(f"depth-{depths[k]}__seed-{s}")  # the same network whatever the other depths
        out, pattern_counts[k, s] = measure_network(p, p["input_dim"], widths[k], gen)
        for name, value in out.items():
            values[name][k, s] = value
    hidden = np.zeros((len(depths), max(depths)), dtype=np.int64)
    for k, ws in enumerate(widths):
        hidden[k, : len(ws)] = ws
    return xr.merge([
        _network_dataset(p, values, pattern_counts, hidden, measured),
        _kac_rice_dataset(p, hidden, measured, np.random.default_rng(stream_seed(cell.experiment, "kac-rice", cell.seed, p["input_dim"]))),
        example_partitions(p, cell.experiment, cell.seed),
    ], combine_attrs="drop_conflicts")


def _network_dataset(p: dict, values: dict, pattern_counts: np.ndarray, hidden: np.ndarray, measured: np.ndarray) -> xr.Dataset:
    fmt = dict(n_seg=p["n_segments"], seg_len=float(p["segment_length"]), h=float(p["half_width"]))
    net = ("depth", "seed")
    data = {name: (net, values[name], {"long_name": text.format(**fmt), "units": units})
            for name, (text, units) in NETWORK_VARIABLES.items()}
    data["grid_count"] = (net + ("resolution",), pattern_counts, {
        "long_name": "2-D: distinct activation patterns on a resolution × resolution grid of the slice square", "units": "1"})
    data["hidden_width"] = (("depth", "layer"), hidden, {
        "long_name": "hidden layer widths N_ℓ (N split evenly, first N mod L layers one wider; 0: no layer)", "units": "1"})
    data["measured"] = ("depth", measured, {
        "long_name": f"depth measured (False: some layer narrower than min_width = {p['min_width']})", "units": "1"})
    return xr.Dataset(data, coords={
        "depth": ("depth", np.array(p["depths"]), {"long_name": "hidden layers L", "units": "1"}),
        "seed": ("seed", np.arange(p["n_seeds"]), {"long_name": "network draw", "units": "1"}),
        "resolution": ("resolution", np.array(p["grid_resolutions"]), {"long_name": "grid points per side", "units": "1"}),
        "layer": ("layer", np.arange(1, hidden.shape[1] + 1), {"long_name": "hidden layer index ℓ", "units": "1"}),
    })


def _kac_rice_dataset(p: dict, hidden: np.ndarray, measured: np.ndarray, rng: np.random.Generator) -> xr.Dataset:
    """Infinite-width Kac–Rice densities per layer ρ_ℓ and per depth Σ_ℓ N_ℓ·ρ_ℓ (exact for L = 1), by Monte
    Carlo from a stream of (experiment, seed, N₀): every cell of one N₀ integrates with the same points."""
    line, plane = kac_rice.layer_densities(p["input_dim"], hidden.shape[1], segment_length=float(p["segment_length"]),
                                           half_width=float(p["half_width"]), rng=rng)
    data = {}
    for var, rho, what, units in [("breakpoints_per_length", line, "1-D breakpoints per unit length", "1"),
                                  ("nodal_length_per_area", plane, "2-D nodal length per unit area", "1")]:
        data[f"{var}_gp_layer"] = ("layer", rho, {"long_name": f"{what} of one neuron of layer ℓ, infinite-width Kac–Rice ρ_ℓ",
                                                  "units": units})
        data[f"{var}_gp"] = ("depth", np.where(measured, hidden @ rho, np.nan), {
            "long_name": f"{what}, infinite-width Kac–Rice Σ_ℓ N_ℓ·ρ_ℓ (NNGP K⁽ℓ⁾ = ℓ + 2‖x‖²/N₀; exact for L = 1)",
            "units": units})
    return xr.Dataset(data)


def example_partitions(p: dict, experiment: str, seed: int) -> xr.Dataset:
    """Panel (a), Hanin Figure 4.1: one N₀ = 2 net per depth in ``example_depths`` on [−R_e, R_e]², its convex
    region polygons (NaN-padded) and the hidden layer of each polygon edge (``edge_layers``). The nets come
    from streams of (experiment, seed, depth), not of the cell: every cell holds the same examples, so their
    padded shapes agree when cells are combined, and the summary shows them."""
    h, depths = float(p["example_half_width"]), list(p["example_depths"])
    examples = []
    for depth in depths:
        ws = layer_widths(p["example_neurons"], depth)
        gen = torch.Generator().manual_seed(stream_seed(experiment, "example", seed, depth))
        weights, biases = random_relu_net(2, ws, generator=gen, dtype=F64)
        part = partition_2d(weights, biases, torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64), h)
        examples.append((ws, part, edge_layers(weights, biases, part)))
    n_poly = max(part.n_regions for _, part, _ in examples)
    n_vert = max(part.vertices.shape[1] for _, part, _ in examples)
    verts = np.full((len(depths), n_poly, n_vert, 2), np.nan)
    counts = np.zeros((len(depths), n_poly), dtype=np.int64)
    edges = np.full((len(depths), n_poly, n_vert), -1, dtype=np.int64)
    widths = np.zeros((len(depths), max(depths)), dtype=np.int64)
    for e, (ws, part, layer) in enumerate(examples):
        k = part.n_vertices.numpy()
        verts[e, : part.n_regions, : part.vertices.shape[1]] = np.where(
            np.arange(part.vertices.shape[1])[None, :, None] < k[:, None, None], part.vertices.numpy(), np.nan)
        counts[e, : part.n_regions] = k
        edges[e, : layer.shape[0], : layer.shape[1]] = layer
        widths[e, : len(ws)] = ws
    one = {"units": "1"}
    return xr.Dataset(
        {
            "example_depth": ("example", depths, {"long_name": "hidden layers L of the example", **one}),
            "example_widths": (("example", "example_layer"), widths, {"long_name": "hidden widths of the example (0: no layer)", **one}),
            "example_n_regions": ("example", [part.n_regions for _, part, _ in examples], {
                "long_name": f"exact regions of the example in [−{h:g}, {h:g}]²", **one}),
            "example_polygon": (("example", "polygon", "vertex", "xy"), verts, {
                "long_name": "convex region polygons of the example partition, counter-clockwise, NaN-padded", "units": "1"}),
            "example_polygon_size": (("example", "polygon"), counts, {"long_name": "vertices of each polygon (0: padding)", **one}),
            "example_edge_layer": (("example", "polygon", "vertex"), edges, {
                "long_name": "hidden layer of the neuron whose nodal set holds the polygon edge from this vertex to the next "
                             "(0: square boundary, −1: padding)", **one}),
        },
        coords={
            "example": ("example", np.arange(len(depths)), {"long_name": "example network of panel (a)", **one}),
            "xy": ("xy", ["x1", "x2"], {"long_name": "input coordinate (N₀ = 2)"}),
        },
    )


# --- summarize: derived densities, fitted laws, the example partitions of panel (a) ----------------
QUANTITIES = {  # fitted against N: variable, theory exponent, tolerance, what
    "breakpoints": ("breakpoints_per_length", 1.0, 0.15, "1-D breakpoints per unit length"),
    "nodal_length": ("nodal_length_per_area", 1.0, 0.15, "2-D nodal length per unit area"),
    "vertices": ("vertex_density", 2.0, 0.3, "2-D nodal-set vertices per unit area"),
    "regions": ("regions_per_area", 1.5, 0.6, "2-D regions per unit area"),
}
MEANS = [  # variables averaged over networks: what, units
    ("breakpoints_per_length", "1-D breakpoints per unit length", "1"),
    ("regions_per_length", "1-D linear pieces per unit length", "1"),
    ("n_regions", "2-D exact regions in the slice square", "1"),
    ("regions_per_area", "2-D exact regions per unit area", "1"),
    ("nodal_length_per_area", "2-D nodal length per unit area", "1"),
    ("vertex_density", "2-D vertices per unit area", "1"),
    ("boundary_density", "2-D boundary crossings per unit length", "1"),
    ("grid_count", "2-D grid-sampled activation patterns", "1"),
]
GP_SPREAD_TOLERANCE = 0.5  # finite-width allowance on the depth spread (max/min over depths) at the largest N


def summarize_regions(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Means over networks, their ratios to the cells' Kac–Rice densities, fitted slopes and laws, and
    panel (a) from the first cell; no draws and no new numerics (``--forcerun aggregate`` only refits).

    Laws (derived from Hanin §4, see the module docstring and the report): Thm 4.2.1 → 1-D and nodal
    densities ∝ N (slope 1); 2-D vertices ∝ N² and regions = 1 + V + B/2 between N and N² (Thm 4.2.2
    bounds them by C·N² on a 2-D slice); L = 1: Zaslavsky (whole plane, square) and Kac–Rice exactly;
    depth enters weakly (spread at the largest N near the GP-limit spread); grid ≤ exact; ≪ 2^N.
    """
    s = config["settings"]
    ds = _first_cell_examples(_network_means(_densities(ds, s)))
    fit = (ds.min_width >= s["fit_min_width"]) & ds.measured
    ds, found = _fit_slopes(ds, fit, s["fit_min_width"])
    found += _kac_rice_laws(ds) + _depth_spread_laws(ds, fit) + _count_laws(ds)
    return laws.attach(ds, found)


def _densities(ds: xr.Dataset, s: dict) -> xr.Dataset:
    """Per-network vertex and boundary densities, the narrowest layer, Σ 1/N_ℓ and Zaslavsky's count."""
    h = float(s["half_width"])
    n = ds.neurons
    ds["vertex_density"] = (ds.interior_vertices / (2 * h) ** 2).assign_attrs(
        long_name="2-D: nodal-set vertices per unit area of the slice square", units="1")
    ds["boundary_density"] = (ds.boundary_crossings / (8 * h)).assign_attrs(
        long_name="2-D: nodal-set crossings per unit length of the square's boundary", units="1")
    width = ds.hidden_width.where(ds.hidden_width > 0)
    ds["min_width"] = width.min("layer").assign_attrs(long_name="narrowest hidden layer", units="1")
    ds["inverse_width_sum"] = (1.0 / width).sum("layer").assign_attrs(
        long_name="Σ_ℓ 1/N_ℓ (the constants of Theorems 4.2.1, 4.2.2 depend only on it)", units="1")
    ds["zaslavsky_theory"] = (1 + n + n * (n - 1) / 2).astype(float).assign_attrs(
        long_name="Zaslavsky: regions of N lines in general position in the plane, 1 + N + N(N − 1)/2", units="1")
    return ds


def _network_means(ds: xr.Dataset) -> xr.Dataset:
    """Means and standard errors over networks, and their ratios to the Kac–Rice values of the cells."""
    for name, what, units in MEANS:
        count = ds[name].count("seed")
        ds[f"{name}_mean"] = ds[name].mean("seed").assign_attrs(long_name=f"{what}, mean over networks", units=units)
        ds[f"{name}_se"] = (ds[name].std("seed", ddof=1) / np.sqrt(count)).assign_attrs(
            long_name=f"{what}, standard error of the mean", units=units)
    ds["grid_fraction_mean"] = (ds.grid_count / ds.n_regions).mean("seed").assign_attrs(
        long_name="grid-sampled / exact region count, mean over networks", units="1")
    for var, what in [("breakpoints_per_length", "1-D breakpoints per unit length"),
                      ("nodal_length_per_area", "2-D nodal length per unit area")]:
        gp = ds[f"{var}_gp"]
        ds[f"{var}_gp_ratio"] = (ds[var] / gp).assign_attrs(long_name=f"{what} / its Kac–Rice value", units="1")
        ds[f"{var}_gp_ratio_mean"] = (ds[f"{var}_mean"] / gp).assign_attrs(
            long_name=f"{what}, mean over networks / its Kac–Rice value", units="1")
        ds[f"{var}_gp_ratio_se"] = (ds[f"{var}_se"] / gp).assign_attrs(long_name="standard error of that ratio", units="1")
    return ds


def _fit_slopes(ds: xr.Dataset, fit: xr.DataArray, fit_min_width: int) -> tuple[xr.Dataset, list[laws.Law]]:
    """Log-log slopes in N of the ``QUANTITIES`` per depth and pooled over depths (one intercept per depth)."""
    per_depth = xr.concat([laws.loglog_slopes(ds[f"{var}_mean"], "neurons", fit) for var, *_ in QUANTITIES.values()],
                          dim="quantity").transpose("quantity", "input_dim", "depth")
    pooled = np.full((len(QUANTITIES), ds.sizes["input_dim"], 2), np.nan)
    found = []
    for q, (key, (var, theory, tol, what)) in enumerate(QUANTITIES.items()):
        for i, n0 in enumerate(ds.input_dim.values):
            sel = dict(input_dim=n0)
            pooled[q, i] = laws.pooled_loglog_slope(ds[f"{var}_mean"].sel(sel), "neurons", "depth", fit.sel(sel))
            if not np.isfinite(pooled[q, i, 0]):
                continue
            note = " (1 + V + B/2: B ∝ N, V ∝ N², so between 1 and 2; Thm 4.2.2: ≤ C·N²)" if key == "regions" else ""
            found.append(laws.Law(f"{key}_slope_N0_{n0}", pooled[q, i, 0], theory, tol, f"N₀ = {n0}: common slope vs N of {what}{note}"))
    qdim = ("quantity", "input_dim", "depth")
    fitted = f"nets whose layers are all ≥ {fit_min_width} wide"
    ds = ds.assign_coords(quantity=("quantity", list(QUANTITIES), {"long_name": "fitted quantity (see slope_variable)"}))
    ds["slope_variable"] = ("quantity", [v[0] for v in QUANTITIES.values()], {"long_name": "variable whose mean is fitted"})
    ds["slope_theory"] = ("quantity", [v[1] for v in QUANTITIES.values()], {
        "long_name": "theory exponent in N (Thm 4.2.1: nodal volume ∝ N; vertices ∝ N² on a 2-D slice; regions in between)",
        "units": "1"})
    ds["slope"] = (qdim, per_depth.slope.values, {"long_name": f"log-log slope of the mean vs N per depth ({fitted})", "units": "1"})
    ds["slope_se"] = (qdim, per_depth.slope_se.values, {"long_name": "standard error of the per-depth slope", "units": "1"})
    ds["slope_intercept"] = (qdim, per_depth.intercept.values, {"long_name": "intercept of the per-depth log-log fit", "units": "1"})
    ds["slope_pooled"] = (qdim[:2], pooled[..., 0], {"long_name": f"common log-log slope vs N, one intercept per depth ({fitted})", "units": "1"})
    ds["slope_pooled_se"] = (qdim[:2], pooled[..., 1], {"long_name": "standard error of the common slope", "units": "1"})
    return ds, found


def _kac_rice_laws(ds: xr.Dataset) -> list[laws.Law]:
    """L = 1: the Kac–Rice densities are exact at every width (mean ratio 1 within 4 SE)."""
    found = []
    if 1 not in ds.depth.values:
        return found
    for var, key in [("breakpoints_per_length", "breakpoints"), ("nodal_length_per_area", "nodal_length")]:
        for n0 in ds.input_dim.values:
            ratio = ds[f"{var}_gp_ratio"].sel(input_dim=n0, depth=1).values.ravel()
            ratio = ratio[np.isfinite(ratio)]
            if ratio.size >= 2:
                se = float(ratio.std(ddof=1) / np.sqrt(ratio.size))
                found.append(laws.Law(f"{key}_kac_rice_L1_N0_{n0}", float(ratio.mean()), 1.0, 4 * se,
                                      f"N₀ = {n0}, L = 1: {QUANTITIES[key][3]} / exact Kac–Rice value (mean, ± 4 SE)"))
    return found


def _depth_spread_laws(ds: xr.Dataset, fit: xr.DataArray) -> list[laws.Law]:
    """Weak depth dependence: max/min over depths at the largest N against the infinite-width spread."""
    top, found = ds.neurons.values.max(), []
    for key in ("breakpoints", "nodal_length", "regions"):
        var = QUANTITIES[key][0]
        for n0 in ds.input_dim.values:
            keep = fit.sel(input_dim=n0, neurons=top)
            vals = ds[f"{var}_mean"].sel(input_dim=n0, neurons=top).where(keep).dropna("depth")
            if vals.size < 2:
                continue
            spread = float(vals.max() / vals.min())
            gp_var = "nodal_length_per_area" if key == "regions" else var
            gp = ds[f"{gp_var}_gp"].sel(input_dim=n0, neurons=top).where(keep).dropna("depth")
            gp_spread = float(gp.max() / gp.min())
            depths_used = list(map(int, vals.depth.values))
            if key == "regions":  # V ∝ (nodal density)², so the spread squares; the tolerance is propagated
                theory, tol = gp_spread**2, (gp_spread + GP_SPREAD_TOLERANCE) ** 2 - gp_spread**2
                why = "theory: square of the infinite-width nodal-length spread"
            else:
                theory, tol, why = gp_spread, GP_SPREAD_TOLERANCE, "theory: infinite-width Kac–Rice spread"
            found.append(laws.Law(f"{key}_depth_spread_N0_{n0}", spread, theory, tol,
                                  f"N₀ = {n0}, N = {int(top)}: max/min over depths {depths_used} of {QUANTITIES[key][3]} ({why})"))
    return found


def _count_laws(ds: xr.Dataset) -> list[laws.Law]:
    """Exact counts: grid ≤ exact, Euler's relation, Zaslavsky for L = 1, far fewer regions than 2^N."""
    exact, pattern_counts = ds.n_regions, ds.grid_count
    found = [laws.Law("grid_undercounts", float((pattern_counts - exact).max()), 0.0, 0.0,
                      "max over networks and resolutions of (grid-sampled − exact) count, must be ≤ 0",
                      holds=bool(((pattern_counts <= exact) | pattern_counts.isnull()).all()))]
    euler = abs(ds.n_regions - (1 + ds.interior_vertices + ds.boundary_crossings / 2))
    found.append(laws.Law("euler_relation", float(euler.max()), 0.0, 0.0,
                          "max |#regions − (1 + V + B/2)| (Euler; B traced independently in 1-D)"))
    if 1 in ds.depth.values:
        whole = ds.zaslavsky_whole_plane.sel(depth=1)
        found.append(laws.Law("zaslavsky_whole_plane", float(abs(whole - ds.zaslavsky_theory).max()), 0.0, 0.0,
                              "L = 1: max |regions of the whole plane − (1 + N + N(N − 1)/2)|"))
        found.append(laws.Law("zaslavsky_square", float(abs(ds.zaslavsky_square.sel(depth=1) - ds.n_regions.sel(depth=1)).max()),
                              0.0, 0.0, "L = 1: max |regions of the square − (1 + #lines meeting it + #intersections inside)|"))
    most = np.fmax(ds.n_regions, ds.zaslavsky_whole_plane)  # fmax skips NaN (L > 1, skipped nets)
    bits = float((np.log2(most) / ds.neurons).max())
    found.append(laws.Law("far_below_2_to_N", bits, 1.0, 0.0,
                          "max log₂(#regions)/N (2^N activation patterns possible; must be < 1)", holds=bits < 1.0))
    return found


def _first_cell_examples(ds: xr.Dataset) -> xr.Dataset:
    """Panel (a): the examples, identical in every cell (``example_partitions``), taken from the first."""
    names = [v for v in ds.data_vars if v.startswith("example_")]
    return ds.drop_vars(names).merge(ds[names].isel(input_dim=0, neurons=0, drop=True))
