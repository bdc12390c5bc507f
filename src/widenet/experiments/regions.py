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
Σ 1/N_ℓ → 0 (see ``kac_rice_layer_densities``).
For N₀ > 2 the slice net is, in law, the N₀ = 2 net at x·√(2/N₀) (W·U has i.i.d. N(0, 2)
entries for orthonormal U), so N₀ = 16 on [−R, R]² is N₀ = 2 on a square √8 times smaller.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import xarray as xr

from widenet import laws
from widenet.cells import Cell
from widenet.config import stream_seed
from widenet.regions import (
    count_breakpoints_1d,
    count_patterns_grid,
    partition_2d,
    random_relu_net,
)

F64 = torch.float64
EDGE = 1e-9  # a partition vertex within EDGE·R of the square's boundary lies on it


def layer_widths(neurons: int, depth: int) -> list[int]:
    """N neurons over L layers as evenly as possible, the first N mod L layers one wider."""
    base, extra = divmod(neurons, depth)
    return [base + 1] * extra + [base] * (depth - extra)


def slice_basis(in_dim: int, generator: torch.Generator) -> torch.Tensor:
    """(2, N₀) orthonormal rows: the input plane for N₀ = 2, else two random orthonormal directions."""
    if in_dim == 2:
        return torch.eye(2, dtype=F64)
    q, _ = torch.linalg.qr(torch.randn(in_dim, 2, generator=generator, dtype=F64))
    return q.T.contiguous()


def square_corners(half_width: float) -> np.ndarray:
    h = half_width
    return np.array([[-h, -h], [h, -h], [h, h], [-h, h]], dtype=float)


def boundary_crossings(weights, biases, basis: torch.Tensor, half_width: float) -> int:
    """Sign changes of all neurons along the four sides of the square (exact 1-D tracing)."""
    corners = torch.as_tensor(square_corners(half_width), dtype=F64) @ basis
    return int(count_breakpoints_1d(weights, biases, corners, corners.roll(-1, 0)).sum())


def interior_vertices(partition, half_width: float) -> float:
    """Vertices of the nodal set inside the open square: 4 cells meet at each (generic crossing)."""
    valid = torch.arange(partition.vertices.shape[1]) < partition.n_vertices[:, None]
    inside = partition.vertices.abs().amax(-1) < half_width * (1 - EDGE)
    return float((valid & inside).sum()) / 4.0


def slice_lines(weights, biases, basis: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Depth 1: neuron i is the line a_i·(u, v) + c_i = 0 of the slice."""
    return (weights[0] @ basis.T).numpy(), biases[0].numpy()


def line_intersections(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """All pairwise intersection points (N(N − 1)/2, 2) of the lines a_i·p + c_i = 0."""
    i, j = np.triu_indices(a.shape[0], 1)
    if i.size == 0:
        return np.zeros((0, 2))
    return np.linalg.solve(np.stack([a[i], a[j]], 1), -np.stack([c[i], c[j]], 1)[..., None])[..., 0]


def zaslavsky_counts(weights, biases, basis: torch.Tensor, half_width: float) -> tuple[int, int]:
    """Depth 1: (regions of the whole plane, 1 + #lines meeting [−R, R]² + #intersections inside).

    Whole plane: with ≥ 2 lines in general position every region has a vertex, so the square
    [−R_Z, R_Z]² with R_Z > max |vertex coordinate| meets every region; it is partitioned with
    tol = 0 (the default relative tol, 1e-9·R_Z with R_Z up to ~1e9, would merge true cells).
    """
    a, c = slice_lines(weights, biases, basis)
    points = line_intersections(a, c)
    reach = 1.05 * float(np.abs(points).max()) + 1.0 if points.size else 1.0
    origin = torch.zeros(basis.shape[1], dtype=F64)
    whole = partition_2d(weights, biases, origin, basis, reach, tol=0.0).n_regions
    values = square_corners(half_width) @ a.T + c
    meeting = int(((values.min(0) < 0) & (values.max(0) > 0)).sum())
    inside = int((np.abs(points).max(1) < half_width).sum()) if points.size else 0
    return whole, 1 + meeting + inside


def regions(cell: Cell) -> xr.Dataset:
    """All measurements of the networks of one (N₀, N) for every depth and seed (see module doc)."""
    p = cell.params
    if p["activation"] != "relu":  # the schema already allows relu only; linear regions need ReLU
        raise ValueError(f"experiment.regions.settings.activation: {p['activation']!r}; only relu is allowed")
    in_dim, neurons = p["input_dim"], p["neurons"]
    depths, n_seeds, resolutions = list(p["depths"]), p["n_seeds"], list(p["grid_resolutions"])
    h, seg_len, n_seg = float(p["half_width"]), float(p["segment_length"]), p["n_segments"]
    area, n_res = (2 * h) ** 2, len(resolutions)

    shape = (len(depths), n_seeds)
    out = {name: np.full(shape, np.nan) for name in (
        "breakpoints_per_length", "regions_per_length", "n_regions", "nodal_length", "interior_vertices",
        "boundary_crossings", "zaslavsky_whole_plane", "zaslavsky_square")}
    grid = np.full(shape + (n_res,), np.nan)
    widths = np.zeros((len(depths), max(depths)), dtype=np.int64)
    measured = np.zeros(len(depths), dtype=bool)
    origin = torch.zeros(in_dim, dtype=F64)
    jobs = [(k, s) for k in range(len(depths)) for s in range(n_seeds)]
    for k, s in cell.progress(jobs, "networks"):
        depth = depths[k]
        ws = layer_widths(neurons, depth)
        widths[k, :depth] = ws
        if min(ws) < p["min_width"]:
            continue
        measured[k] = True
        gen = cell.generator(f"depth-{depth}__seed-{s}")  # the same network whatever the other depths
        weights, biases = random_relu_net(in_dim, ws, generator=gen, dtype=F64)
        basis = slice_basis(in_dim, gen)

        centres = torch.rand(n_seg, in_dim, generator=gen, dtype=F64) * 2 - 1
        dirs = torch.randn(n_seg, in_dim, generator=gen, dtype=F64)
        dirs = dirs / dirs.norm(dim=1, keepdim=True) * (seg_len / 2)
        counts = count_breakpoints_1d(weights, biases, centres - dirs, centres + dirs).to(F64)
        out["breakpoints_per_length"][k, s] = float(counts.mean()) / seg_len
        out["regions_per_length"][k, s] = float(counts.mean() + 1) / seg_len

        part = partition_2d(weights, biases, origin, basis, h)
        out["n_regions"][k, s] = part.n_regions
        out["nodal_length"][k, s] = part.nodal_length
        out["interior_vertices"][k, s] = interior_vertices(part, h)
        out["boundary_crossings"][k, s] = boundary_crossings(weights, biases, basis, h)
        for r, res in enumerate(resolutions):
            grid[k, s, r] = count_patterns_grid(weights, biases, origin, basis, h, res)
        if depth == 1:
            out["zaslavsky_whole_plane"][k, s], out["zaslavsky_square"][k, s] = zaslavsky_counts(weights, biases, basis, h)

    net = ("depth", "seed")
    return xr.Dataset(
        {
            "breakpoints_per_length": (net, out["breakpoints_per_length"], {
                "long_name": f"1-D: breakpoints per unit length (mean over {n_seg} segments of length {seg_len:g} in the cube [−1, 1]^N₀)",
                "units": "1 / input unit"}),
            "regions_per_length": (net, out["regions_per_length"], {
                "long_name": "1-D: linear pieces per unit length, (breakpoints + 1)/segment length (mean over segments)",
                "units": "1 / input unit"}),
            "n_regions": (net, out["n_regions"], {
                "long_name": f"2-D: exact number of linear regions meeting the slice square [−{h:g}, {h:g}]²", "units": "1"}),
            "regions_per_area": (net, out["n_regions"] / area, {
                "long_name": "2-D: exact regions per unit area of the slice square", "units": "1 / input unit²"}),
            "nodal_length": (net, out["nodal_length"], {
                "long_name": "2-D: total length of the nodal set (all neurons) inside the slice square", "units": "input unit"}),
            "nodal_length_per_area": (net, out["nodal_length"] / area, {
                "long_name": "2-D: nodal length per unit area of the slice square", "units": "1 / input unit"}),
            "interior_vertices": (net, out["interior_vertices"], {
                "long_name": "2-D: vertices (crossings of nodal curves) inside the open slice square", "units": "1"}),
            "boundary_crossings": (net, out["boundary_crossings"], {
                "long_name": "2-D: points where the nodal set crosses the square's boundary (1-D tracing)", "units": "1"}),
            "grid_count": (net + ("resolution",), grid, {
                "long_name": "2-D: distinct activation patterns on a resolution × resolution grid of the slice square",
                "units": "1"}),
            "zaslavsky_whole_plane": (net, out["zaslavsky_whole_plane"], {
                "long_name": "L = 1: exact regions of the whole slice plane (NaN for L > 1)", "units": "1"}),
            "zaslavsky_square": (net, out["zaslavsky_square"], {
                "long_name": "L = 1: 1 + #lines meeting the slice square + #their intersections inside it (NaN for L > 1)",
                "units": "1"}),
            "hidden_width": (("depth", "layer"), widths, {
                "long_name": "hidden layer widths N_ℓ (N split evenly, first N mod L layers one wider; 0: no layer)",
                "units": "1"}),
            "measured": ("depth", measured, {
                "long_name": f"depth measured (False: some layer narrower than min_width = {p['min_width']})", "units": "1"}),
        },
        coords={
            "depth": ("depth", np.array(depths), {"long_name": "hidden layers L", "units": "1"}),
            "seed": ("seed", np.arange(n_seeds), {"long_name": "network draw", "units": "1"}),
            "resolution": ("resolution", np.array(resolutions), {"long_name": "grid points per side", "units": "1"}),
            "layer": ("layer", np.arange(1, max(depths) + 1), {"long_name": "hidden layer index ℓ", "units": "1"}),
        },
    )


# --- summarize: derived densities, fitted laws, the example partitions of panel (a) ----------------
QUANTITIES = {  # fitted against N: variable, theory exponent, tolerance, what
    "breakpoints": ("breakpoints_per_length", 1.0, 0.15, "1-D breakpoints per unit length"),
    "nodal_length": ("nodal_length_per_area", 1.0, 0.15, "2-D nodal length per unit area"),
    "vertices": ("vertex_density", 2.0, 0.3, "2-D nodal-set vertices per unit area"),
    "regions": ("regions_per_area", 1.5, 0.6, "2-D regions per unit area"),
}
GP_SPREAD_TOLERANCE = 0.5  # finite-width allowance on the depth spread (max/min over depths) at the largest N


def _mean_se(da: xr.DataArray, what: str, units: str) -> tuple[xr.DataArray, xr.DataArray]:
    n = da.count("seed")
    mean = da.mean("seed").assign_attrs(long_name=f"{what}, mean over networks", units=units)
    se = (da.std("seed", ddof=1) / np.sqrt(n)).assign_attrs(long_name=f"{what}, standard error of the mean", units=units)
    return mean, se


def _pooled_slope(y: xr.DataArray, keep: xr.DataArray) -> tuple[float, float, dict]:
    """Common log-log slope in N over depths, one intercept per depth; returns (slope, SE, intercepts)."""
    rows, cols, depths = [], [], [d for d in y.depth.values if int(keep.sel(depth=d).sum()) >= 2]
    for j, d in enumerate(depths):
        for n in y.neurons.values:
            v = float(y.sel(depth=d, neurons=n))
            if bool(keep.sel(depth=d, neurons=n)) and v > 0 and np.isfinite(v):
                onehot = np.zeros(len(depths))
                onehot[j] = 1.0
                rows.append(np.concatenate([[math.log(n)], onehot]))
                cols.append(math.log(v))
    if len(depths) == 0 or len(rows) <= len(depths):
        return float("nan"), float("nan"), {}
    A, b = np.array(rows), np.array(cols)
    coef, *_ = np.linalg.lstsq(A, b, rcond=None)
    dof = len(rows) - A.shape[1]
    se = float("nan")
    if dof > 0:
        resid = b - A @ coef
        cov = np.linalg.pinv(A.T @ A) * (resid @ resid / dof)
        se = float(np.sqrt(cov[0, 0]))
    return float(coef[0]), se, dict(zip(depths, coef[1:]))


def kac_rice_layer_densities(in_dim: int, n_layers: int, settings: dict, seed: int, n_samples: int = 200_000):
    """Per-neuron zero densities of layer ℓ = 1 … n_layers in the infinite-width (GP) limit (Kac–Rice).

    Eq. 4.0.1 nets have the NNGP K⁽ℓ⁾(x, x) = ℓ + 2‖x‖²/N₀ (K⁽¹⁾ = 1 + 2‖x‖²/N₀, K⁽ℓ⁺¹⁾ = 1 + K⁽ℓ⁾ for
    relu with C_W = 2, C_b = 1); the derivative along a unit direction has variance λ₂ = 2/N₀ in every
    layer (C_W·E[σ′²] = 1) and covariance μ = 2x·d/N₀ with z. Kac–Rice: a neuron's zeros per unit
    length along d are (1/π)·√(λ₂K − μ²)/K; its nodal length per unit area of a plane through 0
    with orthonormal directions is E‖g‖/√(2πK), g ~ N(0, λ₂I − mmᵀ/K), m = 2x/N₀. Exact for
    L = 1 at any width (z is an affine Gaussian field); for deeper layers the N_ℓ → ∞ limit.
    Averaged over the experiment's segments (1-D) and square (2-D) by Monte Carlo with a fixed seed.
    Returns (zeros per unit length, nodal length per unit area), each of shape (n_layers,).
    """
    rng = np.random.default_rng(stream_seed("regions", "kac-rice", seed, in_dim))
    half, h = float(settings["segment_length"]) / 2, float(settings["half_width"])
    lam2, layers = 2.0 / in_dim, np.arange(1, n_layers + 1)[:, None]
    centre = rng.uniform(-1, 1, (n_samples, in_dim))
    d = rng.standard_normal((n_samples, in_dim))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    x = centre + rng.uniform(-half, half, (n_samples, 1)) * d
    k = layers + 2 * (x * x).sum(1) / in_dim
    mu = 2 * (x * d).sum(1) / in_dim
    line = (np.sqrt(lam2 * k - mu**2) / k).mean(1) / math.pi
    r2 = (rng.uniform(-h, h, (n_samples, 2)) ** 2).sum(1)
    k = layers + 2 * r2 / in_dim
    z = rng.standard_normal((2, n_samples))
    g = np.sqrt((lam2 - (2 / in_dim) ** 2 * r2 / k) * z[0] ** 2 + lam2 * z[1] ** 2)
    plane = (g / np.sqrt(2 * math.pi * k)).mean(1)
    return line, plane


def edge_layers(weights, biases, partition, tol: float = 1e-7) -> np.ndarray:
    """For each polygon edge k → k + 1 the hidden layer of the neuron whose nodal set it lies on.

    Every edge inside the square is a piece of some neuron's nodal set (no nodal set crosses a
    cell's interior). On a cell with pattern P, neuron (ℓ, i) is affine, a·x + c, with the maps
    composed through the neurons that are on; the edge belongs to the neuron vanishing at both
    ends (smallest |a·x + c|/‖a‖). Returns (n_regions, K) int: layer ℓ ≥ 1, 0 for the square's
    boundary (no neuron within tol·R), −1 for padding.
    """
    verts, sizes, patterns = partition.vertices, partition.n_vertices, partition.patterns
    m, k = sizes.shape[0], verts.shape[1]
    h = float(verts.abs().amax())
    coef = torch.zeros(m, 0, 3, dtype=F64)
    layer_of = []
    a, c, start = None, None, 0
    for ell, (w, b) in enumerate(zip(weights, biases), start=1):
        if a is None:
            a, c = w.expand(m, -1, -1), b.expand(m, -1)
        else:
            on = patterns[:, start - w.shape[1] : start].to(F64)
            a, c = w @ (on[..., None] * a), (w @ (on * c)[..., None])[..., 0] + b
        coef = torch.cat([coef, torch.cat([a, c[..., None]], -1)], 1)
        layer_of += [ell] * w.shape[0]
        start += w.shape[0]
    slot = torch.arange(k).expand(m, -1)
    nxt = torch.where(slot + 1 < sizes[:, None], slot + 1, 0)  # the last edge closes the polygon
    ends = torch.stack([verts, verts.gather(1, nxt[..., None].expand(-1, -1, 2))], 2)  # (m, K, 2 ends, 2)
    vals = torch.einsum("mkex,mnx->mkne", ends, coef[..., :2]) + coef[:, None, :, None, 2]
    dist = vals.abs().amax(-1) / coef[:, None, :, :2].norm(dim=-1).clamp_min(1e-300)
    best, idx = dist.min(-1)
    layers = torch.tensor(layer_of)[idx]
    layers = torch.where(best <= tol * h, layers, torch.zeros_like(layers))
    return torch.where(slot < sizes[:, None], layers, torch.full_like(layers, -1)).numpy()


def example_partitions(settings: dict, seed: int):
    """Panel (a), Hanin Figure 4.1: one N₀ = 2 network per depth in ``example_depths`` on [−R_e, R_e]²."""
    h = float(settings["example_half_width"])
    out = []
    for depth in settings["example_depths"]:
        gen = torch.Generator().manual_seed(stream_seed("regions", "example", seed, depth))
        ws = layer_widths(settings["example_neurons"], depth)
        weights, biases = random_relu_net(2, ws, generator=gen, dtype=F64)
        part = partition_2d(weights, biases, torch.zeros(2, dtype=F64), torch.eye(2, dtype=F64), h)
        out.append((depth, ws, part, edge_layers(weights, biases, part)))
    return out


def summarize_regions(ds: xr.Dataset, config: dict) -> xr.Dataset:
    """Means over networks, GP-limit Kac–Rice densities, fitted slopes and laws, panel (a) partitions.

    Laws (derived from Hanin §4, see the module docstring and the report): Thm 4.2.1 → 1-D and nodal
    densities ∝ N (slope 1); 2-D vertices ∝ N² and regions = 1 + V + B/2 between N and N² (Thm 4.2.2
    bounds them by C·N² on a 2-D slice); L = 1: Zaslavsky (whole plane, square) and Kac–Rice exactly;
    depth enters weakly (spread at the largest N near the GP-limit spread); grid ≤ exact; ≪ 2^N.
    """
    s = config["settings"]
    h = float(s["half_width"])
    area, perimeter = (2 * h) ** 2, 8 * h
    n = ds.neurons
    ds["vertex_density"] = (ds.interior_vertices / area).assign_attrs(
        long_name="2-D: nodal-set vertices per unit area of the slice square", units="1 / input unit²")
    ds["boundary_density"] = (ds.boundary_crossings / perimeter).assign_attrs(
        long_name="2-D: nodal-set crossings per unit length of the square's boundary", units="1 / input unit")
    width = ds.hidden_width.where(ds.hidden_width > 0)
    ds["min_width"] = width.min("layer").assign_attrs(long_name="narrowest hidden layer", units="1")
    ds["inverse_width_sum"] = (1.0 / width).sum("layer").assign_attrs(
        long_name="Σ_ℓ 1/N_ℓ (the constants of Theorems 4.2.1, 4.2.2 depend only on it)", units="1")
    ds["zaslavsky_theory"] = (1 + n + n * (n - 1) / 2).astype(float).assign_attrs(
        long_name="Zaslavsky: regions of N lines in general position in the plane, 1 + N + N(N − 1)/2", units="1")
    for name, what, units in [
        ("breakpoints_per_length", "1-D breakpoints per unit length", "1 / input unit"),
        ("regions_per_length", "1-D linear pieces per unit length", "1 / input unit"),
        ("n_regions", "2-D exact regions in the slice square", "1"),
        ("regions_per_area", "2-D exact regions per unit area", "1 / input unit²"),
        ("nodal_length_per_area", "2-D nodal length per unit area", "1 / input unit"),
        ("vertex_density", "2-D vertices per unit area", "1 / input unit²"),
        ("boundary_density", "2-D boundary crossings per unit length", "1 / input unit"),
        ("grid_count", "2-D grid-sampled activation patterns", "1"),
    ]:
        ds[f"{name}_mean"], ds[f"{name}_se"] = _mean_se(ds[name], what, units)
    ds["grid_fraction_mean"] = (ds.grid_count / ds.n_regions).mean("seed").assign_attrs(
        long_name="grid-sampled / exact region count, mean over networks", units="1")

    # infinite-width Kac–Rice densities (exact for L = 1): Σ_ℓ N_ℓ · ρ_ℓ
    n_layers = ds.sizes["layer"]
    line, plane = np.zeros((ds.sizes["input_dim"], n_layers)), np.zeros((ds.sizes["input_dim"], n_layers))
    for i, n0 in enumerate(ds.input_dim.values):
        line[i], plane[i] = kac_rice_layer_densities(int(n0), n_layers, s, config["seed"])
    for var, rho, what in [("breakpoints_per_length", line, "1-D breakpoints per unit length"),
                           ("nodal_length_per_area", plane, "2-D nodal length per unit area")]:
        per_layer = xr.DataArray(rho, dims=("input_dim", "layer"), coords={"input_dim": ds.input_dim, "layer": ds.layer})
        gp = (ds.hidden_width * per_layer).sum("layer").where(ds.measured)
        ds[f"{var}_gp"] = gp.assign_attrs(
            long_name=f"{what}, infinite-width Kac–Rice Σ_ℓ N_ℓ·ρ_ℓ (NNGP K⁽ℓ⁾ = ℓ + 2‖x‖²/N₀; exact for L = 1)",
            units="1 / input unit")
        ds[f"{var}_gp_ratio"] = (ds[var] / gp).assign_attrs(long_name=f"{what} / its Kac–Rice value", units="1")
        ds[f"{var}_gp_ratio_mean"] = (ds[f"{var}_mean"] / gp).assign_attrs(
            long_name=f"{what}, mean over networks / its Kac–Rice value", units="1")
        ds[f"{var}_gp_ratio_se"] = (ds[f"{var}_se"] / gp).assign_attrs(long_name="standard error of that ratio", units="1")

    fit = (ds.min_width >= s["fit_min_width"]) & ds.measured
    found = []
    n0s, depths = ds.input_dim.values, ds.depth.values
    slope = np.full((len(QUANTITIES), n0s.size, depths.size), np.nan)
    slope_se, intercept = np.full_like(slope, np.nan), np.full_like(slope, np.nan)
    pooled, pooled_se = np.full(slope.shape[:2], np.nan), np.full(slope.shape[:2], np.nan)
    for q, (key, (var, theory, tol, what)) in enumerate(QUANTITIES.items()):
        mean = ds[f"{var}_mean"]
        for i, n0 in enumerate(n0s):
            fit_n0 = fit.sel(input_dim=n0)
            for j, d in enumerate(depths):
                keep = fit_n0.sel(depth=d).transpose("neurons").values
                y = mean.sel(input_dim=n0, depth=d).transpose("neurons").values
                if keep.sum() >= 2:
                    slope[q, i, j], intercept[q, i, j], slope_se[q, i, j] = laws.loglog_slope(n.values[keep], y[keep])
            pooled[q, i], pooled_se[q, i], _ = _pooled_slope(mean.sel(input_dim=n0), fit_n0)
            if not np.isfinite(pooled[q, i]):
                continue
            note = " (1 + V + B/2: B ∝ N, V ∝ N², so between 1 and 2; Thm 4.2.2: ≤ C·N²)" if key == "regions" else ""
            found.append(laws.Law(f"{key}_slope_N0_{n0}", pooled[q, i], theory, tol,
                                  f"N₀ = {n0}: common slope vs N of {what}{note}"))
    qdim = ("quantity", "input_dim", "depth")
    ds = ds.assign_coords(quantity=("quantity", list(QUANTITIES), {"long_name": "fitted quantity (see slope_variable)"}))
    ds["slope_variable"] = ("quantity", [v[0] for v in QUANTITIES.values()], {"long_name": "variable whose mean is fitted", "units": ""})
    ds["slope_theory"] = ("quantity", [v[1] for v in QUANTITIES.values()], {
        "long_name": "theory exponent in N (Thm 4.2.1: nodal volume ∝ N; vertices ∝ N² on a 2-D slice; regions in between)",
        "units": "1"})
    fitted = f"nets whose layers are all ≥ {s['fit_min_width']} wide"
    ds["slope"] = (qdim, slope, {"long_name": f"log-log slope of the mean vs N per depth ({fitted})", "units": "1"})
    ds["slope_se"] = (qdim, slope_se, {"long_name": "standard error of the per-depth slope", "units": "1"})
    ds["slope_intercept"] = (qdim, intercept, {"long_name": "intercept of the per-depth log-log fit", "units": "1"})
    ds["slope_pooled"] = (qdim[:2], pooled, {"long_name": f"common log-log slope vs N, one intercept per depth ({fitted})", "units": "1"})
    ds["slope_pooled_se"] = (qdim[:2], pooled_se, {"long_name": "standard error of the common slope", "units": "1"})

    # L = 1: Kac–Rice is exact at every width
    if 1 in depths:
        for var, key in [("breakpoints_per_length", "breakpoints"), ("nodal_length_per_area", "nodal_length")]:
            for n0 in n0s:
                ratio = ds[f"{var}_gp_ratio"].sel(input_dim=n0, depth=1).values.ravel()
                ratio = ratio[np.isfinite(ratio)]
                if ratio.size >= 2:
                    se = float(ratio.std(ddof=1) / np.sqrt(ratio.size))
                    found.append(laws.Law(f"{key}_kac_rice_L1_N0_{n0}", float(ratio.mean()), 1.0, 4 * se,
                                          f"N₀ = {n0}, L = 1: {QUANTITIES[key][3]} / exact Kac–Rice value (mean, ± 4 SE)"))
    # weak depth dependence at the largest N (layers ≥ fit_min_width wide)
    top = n.values.max()
    for key in ("breakpoints", "nodal_length", "regions"):
        var = QUANTITIES[key][0]
        for n0 in n0s:
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

    exact, grid = ds.n_regions, ds.grid_count
    found.append(laws.Law("grid_undercounts", float((grid - exact).max()), 0.0, 0.0,
                          "max over networks and resolutions of (grid-sampled − exact) count, must be ≤ 0",
                          holds=bool(((grid <= exact) | grid.isnull()).all())))
    euler = abs(ds.n_regions - (1 + ds.interior_vertices + ds.boundary_crossings / 2))
    found.append(laws.Law("euler_relation", float(euler.max()), 0.0, 0.0,
                          "max |#regions − (1 + V + B/2)| (Euler; B traced independently in 1-D)"))
    if 1 in depths:
        whole = ds.zaslavsky_whole_plane.sel(depth=1)
        found.append(laws.Law("zaslavsky_whole_plane", float(abs(whole - ds.zaslavsky_theory).max()), 0.0, 0.0,
                              "L = 1: max |regions of the whole plane − (1 + N + N(N − 1)/2)|"))
        found.append(laws.Law("zaslavsky_square", float(abs(ds.zaslavsky_square.sel(depth=1) - ds.n_regions.sel(depth=1)).max()),
                              0.0, 0.0, "L = 1: max |regions of the square − (1 + #lines meeting it + #intersections inside)|"))
    most = np.fmax(ds.n_regions, ds.zaslavsky_whole_plane)  # fmax skips NaN (L > 1, skipped nets)
    bits = float((np.log2(most) / n).max())
    found.append(laws.Law("far_below_2_to_N", bits, 1.0, 0.0,
                          "max log₂(#regions)/N (2^N activation patterns possible; must be < 1)", holds=bits < 1.0))

    # panel (a): polygons padded with NaN over (example, polygon, vertex, xy)
    examples = example_partitions(s, config["seed"])
    n_poly = max(p.n_regions for _, _, p, _ in examples)
    n_vert = max(p.vertices.shape[1] for _, _, p, _ in examples)
    verts = np.full((len(examples), n_poly, n_vert, 2), np.nan)
    counts = np.zeros((len(examples), n_poly), dtype=np.int64)
    widths = np.zeros((len(examples), max(len(w) for _, w, _, _ in examples)), dtype=np.int64)
    edges = np.full((len(examples), n_poly, n_vert), -1, dtype=np.int64)
    for e, (_, ws, part, layer) in enumerate(examples):
        for c, (v, k) in enumerate(zip(part.vertices.numpy(), part.n_vertices.tolist())):
            verts[e, c, :k], counts[e, c] = v[:k], k
        edges[e, : layer.shape[0], : layer.shape[1]] = layer
        widths[e, : len(ws)] = ws
    ds = ds.assign_coords(
        example=("example", np.arange(len(examples)), {"long_name": "example network of panel (a)", "units": "1"}),
        xy=("xy", ["x1", "x2"], {"long_name": "input coordinate (N₀ = 2)"}),
    )
    ds["example_depth"] = ("example", [d for d, _, _, _ in examples], {"long_name": "hidden layers L of the example", "units": "1"})
    ds["example_widths"] = (("example", "example_layer"), widths, {"long_name": "hidden widths of the example (0: no layer)", "units": "1"})
    ds["example_n_regions"] = ("example", [p.n_regions for _, _, p, _ in examples], {
        "long_name": f"exact regions of the example in [−{s['example_half_width']:g}, {s['example_half_width']:g}]²", "units": "1"})
    ds["example_polygon"] = (("example", "polygon", "vertex", "xy"), verts, {
        "long_name": "convex region polygons of the example partition, counter-clockwise, NaN-padded", "units": "input unit"})
    ds["example_polygon_size"] = (("example", "polygon"), counts, {"long_name": "vertices of each polygon (0: padding)", "units": "1"})
    ds["example_edge_layer"] = (("example", "polygon", "vertex"), edges, {
        "long_name": "hidden layer of the neuron whose nodal set holds the polygon edge from this vertex to the next "
                     "(0: square boundary, −1: padding)", "units": "1"})
    return laws.attach(ds, found)
