"""Random networks and random geometry at initialization: A1 (A2, A3, A7, A8 follow)."""

from __future__ import annotations

import numpy as np
import torch
import xarray as xr
from scipy import stats

from widenet import laws
from widenet.cells import Cell

HIST_EDGES = np.linspace(-4.0, 4.0, 49)


# --- A1 sphere-projection: Amari §4, Theorem 2 ----------------------------------------------------
def sphere_projection_sample(p: int, n: int, m: int, generator: torch.Generator, chunk: int = 2048, dtype=torch.float64):
    """Project m uniform points of S^(p−1) onto a random n-dim subspace (orthonormal basis by QR).

    Returns the (m × n) projected coordinates z; Amari Theorem 2: z ≈ N(0, I/p) for large p.
    """
    device = generator.device
    basis, _ = torch.linalg.qr(torch.randn(p, n, generator=generator, dtype=dtype, device=device))
    out = []
    for start in range(0, m, chunk):
        x = torch.randn(min(chunk, m - start), p, generator=generator, dtype=dtype, device=device)
        out.append((x / x.norm(dim=1, keepdim=True)) @ basis)
    return torch.cat(out)


def sphere_coordinate_cdf(t, p: int):
    """Exact CDF of one coordinate of a uniform point on S^(p−1): (t+1)/2 ~ Beta((p−1)/2, (p−1)/2)."""
    a = (p - 1) / 2
    return stats.beta.cdf((np.asarray(t) + 1) / 2, a, a)


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
