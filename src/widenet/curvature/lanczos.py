"""Batched Lanczos for symmetric operators given by matrix-vector products (HVPs).

Convergence (stated tolerance): the Ritz value θ of the wanted eigenvalue is accepted when its residual
‖Hy − θy‖ = |β_j s_j| ≤ tol·|θ| (Parlett, "The symmetric eigenvalue problem", §13.2); then |θ − λ| ≤ tol·|θ|
for the nearest eigenvalue λ. This is ARPACK's (``scipy.sparse.linalg.eigsh``) criterion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

Tensor = torch.Tensor


@dataclass(frozen=True)
class LanczosResult:
    """Wanted Ritz values (…, k) and, when asked, their Ritz vectors (…, k, P); the final tridiagonal
    T_j's eigenvalues (…, j) and squared first eigenvector components (…, j) (the Gauss quadrature
    nodes and weights of SLQ); the number of iterations j; the relative residuals (…, k)."""

    values: Tensor
    vectors: Tensor | None
    ritz_values: Tensor
    weights: Tensor
    iterations: int
    residuals: Tensor


def _lanczos_steps(matvec, v0: Tensor, reorthogonalize: bool):
    """Yield (q_j, α_j, β_j) of the Lanczos recurrence β_j q_{j+1} = H q_j − α_j q_j − β_{j−1} q_{j−1},
    batched over the leading dimensions of v0. With ``reorthogonalize`` every new vector is
    orthogonalized twice against all previous ones (classical Gram–Schmidt, "twice is enough")."""
    tiny = torch.finfo(v0.dtype).tiny
    q, q_prev, beta_prev = v0 / v0.norm(dim=-1, keepdim=True), torch.zeros_like(v0), torch.zeros_like(v0[..., 0])
    basis, spare = [], None
    recycle = getattr(matvec, "accepts_out", False) and not reorthogonalize
    while True:  # in-place updates and recycled buffers: on large P memory traffic costs as much as the HVP
        w = matvec(q, out=spare) if recycle else matvec(q)
        alpha = torch.linalg.vecdot(w, q)
        w.addcmul_(q, alpha[..., None], value=-1.0).addcmul_(q_prev, beta_prev[..., None], value=-1.0)
        if reorthogonalize:
            basis.append(q)
            stacked = torch.stack(basis, dim=-2)
            for _ in range(2):
                w = w - torch.einsum("...j,...jp->...p", torch.einsum("...jp,...p->...j", stacked, w), stacked)
        beta = torch.linalg.vector_norm(w, dim=-1)
        yield q, alpha, beta
        # an invariant subspace (β = 0) continues with q = 0: a decoupled zero block in T
        spare, q_prev, q = q_prev, q, w.div_(torch.where(beta > tiny, beta, torch.inf)[..., None])
        beta_prev = beta


def _tridiagonal(alphas: list[Tensor], betas: list[Tensor]) -> Tensor:
    t = torch.diag_embed(torch.stack(alphas, -1))
    if len(betas) > 1:
        b = torch.stack(betas[:-1], -1)
        t = t + torch.diag_embed(b, 1) + torch.diag_embed(b, -1)
    return t


def _wanted(theta: Tensor, which: str, k: int) -> Tensor:
    """Indices (…, k) of the wanted Ritz values: largest |θ| (``magnitude``) or largest θ (``largest``)."""
    k = min(k, theta.shape[-1])
    key = theta.abs() if which == "magnitude" else theta
    return key.topk(k, dim=-1).indices


def lanczos(matvec: Callable[[Tensor], Tensor], v0: Tensor, *, which: str = "magnitude", k: int = 1,
            tol: float | None = 1e-6, max_iter: int = 500, reorthogonalize: bool = False,
            vectors: bool = False) -> LanczosResult:
    """Batched Lanczos for a symmetric operator ``matvec`` acting on the last dimension of ``v0``.

    Stops when every wanted Ritz value (``which`` = ``magnitude``: the k of largest |θ|; ``largest``:
    the k largest) has residual |β_j s_j| ≤ tol·|θ| in every batch entry, at an invariant subspace
    (β_j = 0), or after ``max_iter`` steps (``tol=None``: exactly ``max_iter`` steps, as SLQ wants).
    Without ``reorthogonalize`` only three vectors are kept: orthogonality is lost once a Ritz value
    converges, which duplicates it but leaves the extreme Ritz values correct (Paige 1976).
    Ritz vectors (``vectors=True``) then come from a second pass over the same recurrence.
    """
    if which not in ("magnitude", "largest"):
        raise ValueError(f"unknown which {which!r}; allowed: magnitude, largest")
    alphas, betas, basis, checked = [], [], [], 0
    for j, (q, alpha, beta) in enumerate(_lanczos_steps(matvec, v0, reorthogonalize), start=1):
        alphas.append(alpha), betas.append(beta)
        if reorthogonalize and vectors:
            basis.append(q)
        # T_j's eigenproblem costs O(j³) per batch entry: test convergence every ~j/8 steps (≤ 12 % extra steps)
        if j - checked < max(1, j // 8) and j < max_iter:
            continue
        checked = j
        theta, s = torch.linalg.eigh(_tridiagonal(alphas, betas))
        idx = _wanted(theta, which, k)
        values = theta.gather(-1, idx)
        resid = (beta[..., None] * s[..., -1, :].gather(-1, idx)).abs() / values.abs().clamp_min(torch.finfo(theta.dtype).tiny)
        invariant = bool((beta <= 1e-12 * theta.abs().amax(-1).clamp_min(1e-300)).all())
        done = tol is not None and j >= k and bool((resid <= tol).all())
        if done or invariant or j >= max_iter:
            break
    coeffs = s.gather(-1, idx[..., None, :].expand(*s.shape[:-1], idx.shape[-1]))  # (…, j, k)
    ritz = None
    if vectors:
        qs = basis if basis else (q for q, _, _ in _lanczos_steps(matvec, v0, False))
        ritz = sum(c[..., None] * q[..., None, :] for c, q in zip(coeffs.unbind(-2), qs))
    return LanczosResult(values, ritz, theta, s[..., 0, :] ** 2, j, resid)
