"""Loss Hessians of any module and loss: top-k eigenvalues (Lanczos), trace (Hutchinson 1990) and spectral
density (stochastic Lanczos quadrature; Golub & Meurant 2010, Ghorbani, Krishnan & Xiao 2019)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import func as tf

from widenet.curvature._common import Params, Tensor, _parameters, _start_vector
from widenet.curvature.lanczos import lanczos


def _loss_hvp(model, x: Tensor, y: Tensor, loss: Callable, params: Params | None):
    """(layout, θ, ensemble, V ↦ ∇²_θ loss(model(θ; x), y)·V) for V of shape (…, P)."""
    if not callable(loss):
        raise ValueError(f"loss must be a callable (outputs, targets) -> scalar, got {loss!r}")
    layout, theta, ensemble = _parameters(model, params)
    if x.ndim < 1 or y.shape[:1] != x.shape[:1]:
        raise ValueError(f"x and y must have the same number of rows, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    x = x.to(dtype=theta.dtype, device=theta.device)

    def value(t: Tensor) -> Tensor:
        out = loss(tf.functional_call(model, layout.unflatten(t), (x,)), y)
        if out.numel() != 1:
            raise ValueError(f"loss must return a scalar, got shape {tuple(out.shape)}")
        return out.reshape(())

    # reverse-over-reverse: forward-mode AD through torch's fused losses fails (mse_loss: "ZeroTensors
    # are immutable", torch 2.13), while the double backward works for every differentiable loss
    grad_loss = tf.grad(value)
    one = tf.grad(lambda t, v: torch.dot(grad_loss(t), v), argnums=0)
    batched = tf.vmap(one, in_dims=(None, 0))  # over probe vectors
    if ensemble:
        batched = tf.vmap(batched, in_dims=(0, 0))
    return layout, theta, ensemble, lambda v: batched(theta, v)


def loss_hessian_eigenvalues(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, k: int = 1,
                             params: Params | None = None, tol: float = 1e-6, max_iter: int = 300,
                             generator: torch.Generator | None = None) -> Tensor:
    """The k largest eigenvalues (descending) of the Hessian of ``loss(model(x), y)`` w.r.t. all parameters.

    Lanczos with full reorthogonalization on HVPs (so that converged eigenvalues are not duplicated),
    stopped at relative residual ``tol``. Shape (k,), or (E, k) with an ensemble dimension in ``params``.
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], 1) if ensemble else (1,)
    v0 = _start_vector((*lead, layout.size), theta, generator)
    with torch.no_grad():
        res = lanczos(matvec, v0, which="largest", k=k, tol=tol, max_iter=min(max_iter, layout.size), reorthogonalize=True)
    return res.values[..., 0, :]


@dataclass(frozen=True)
class SpectralDensity:
    """Stochastic Lanczos quadrature: per probe, Gauss nodes (…, probes, m) and weights summing to 1."""

    nodes: Tensor
    weights: Tensor

    def smoothed(self, grid: Tensor, bandwidth: float) -> Tensor:
        """The density Σ_s Σ_j w_sj·N(grid; node_sj, bandwidth²) / probes on ``grid`` (integrates to 1)."""
        z = (grid[..., None, None, :] - self.nodes[..., None]) / bandwidth
        kernel = torch.exp(-0.5 * z * z) / (bandwidth * math.sqrt(2 * math.pi))
        return (self.weights[..., None] * kernel).sum(-2).mean(-2)
@dataclass(frozen=True)
class TraceEstimate:
    """Hutchinson's estimate of tr H and its standard error over the probes."""

    estimate: Tensor
    stderr: Tensor


def _rademacher(shape, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.sign(_start_vector(shape, like, generator)).add_(0.0)


def loss_hessian_trace(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, n_probes: int = 64,
                       params: Params | None = None, generator: torch.Generator | None = None) -> TraceEstimate:
    """tr H ≈ (1/S)·Σ_s zₛᵀHzₛ with Rademacher zₛ (Hutchinson 1990); unbiased, variance 2(‖H‖_F² − Σ H_ii²)/S.

    The S probes go through one vmapped HVP. Shapes () or (E,) for an ensemble.
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], n_probes) if ensemble else (n_probes,)
    z = _rademacher((*lead, layout.size), theta, generator)
    with torch.no_grad():
        quad = (z * matvec(z)).sum(-1)
    return TraceEstimate(quad.mean(-1), quad.std(-1) / math.sqrt(n_probes))


def loss_hessian_density(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, n_probes: int = 8,
                         n_iter: int = 64, params: Params | None = None,
                         generator: torch.Generator | None = None) -> SpectralDensity:
    """Spectral density (1/P)·Σ_i δ(λ − λ_i) of the loss Hessian by stochastic Lanczos quadrature.

    For a unit probe v, ``n_iter`` = m Lanczos steps give T_m = SΘSᵀ, and Σ_j (S_0j)² g(θ_j) is the
    m-node Gauss quadrature of vᵀg(H)v, exact for polynomials g of degree < 2m (Golub & Meurant 2010;
    Ghorbani, Krishnan & Xiao 2019). Gaussian probes make E[vᵀg(H)v] = (1/P)·tr g(H).
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], n_probes) if ensemble else (n_probes,)
    v0 = _start_vector((*lead, layout.size), theta, generator)
    with torch.no_grad():
        res = lanczos(matvec, v0, tol=None, max_iter=min(n_iter, layout.size), reorthogonalize=True)
    return SpectralDensity(res.ritz_values, res.weights)
