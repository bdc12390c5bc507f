"""Uniform points of the sphere S^(p−1) projected onto random subspaces (Amari §4, Theorem 2)."""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats


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
