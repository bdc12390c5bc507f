"""Taylor remainders and assembly models (Liu–Zhu–Belkin §2, eqs. 4–5, Theorem 1, Appendix A)."""

from __future__ import annotations

import math
from typing import Callable

import torch

from widenet import activations, models
from widenet.curvature._common import Params, Tensor, _block_top, _sigma_derivatives


def taylor_remainder(fn: Callable[[Params], Tensor], params: Params, direction: Params, radius: float) -> Tensor:
    """f(θ + RΔ) − f(θ) − R·∇f(θ)·Δ: the remainder of the first-order Taylor model (eq. 1), i.e. the
    quadratic term ½R²ΔᵀH(ξ)Δ for some ξ on the segment. ``fn`` maps a parameter dict (leading dims
    allowed, e.g. networks × directions) to outputs; the gradient term is a Jacobian-vector product (no Jacobian stored)."""
    value, slope = _jvp(fn, params, direction)
    moved = fn({k: params[k] + radius * direction[k] for k in params})
    return moved - value - radius * slope


def _jvp(fn: Callable[[Params], Tensor], params: Params, direction: Params) -> tuple[Tensor, Tensor]:
    """(f(θ), J(θ)·Δ) by the double-vjp trick on plain autograd: JΔ = ∂⟨Jᵀu, Δ⟩/∂u. (torch.func.jvp and
    forward-mode AD import ~2.5 s of machinery on first use in every job process.)"""
    with torch.enable_grad():
        theta = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        out = fn(theta)
        u = torch.zeros_like(out, requires_grad=True)
        grads = torch.autograd.grad(out, list(theta.values()), u, create_graph=True)
        (slope,) = torch.autograd.grad(sum((g * direction[k]).sum() for g, k in zip(grads, theta)), u)
    return out.detach(), slope


class AssemblyModel(torch.nn.Module):
    """f(θ; x) = s(m)⁻¹ Σᵢ vᵢ gᵢ(wᵢ; x), s(m) = √m (Liu–Zhu–Belkin eq. 4), with independent sub-models

        gᵢ(wᵢ; x) = k^(−1/2) Σⱼ a_ij tanh(u_ij·x),   wᵢ = (u_i1 … u_ik, a_i1 … a_ik) ~ N(0, I),

    two-layer tanh nets whose outer layer is trainable; the coefficients vᵢ are fixed (a buffer):
    ``sign`` (±1) or ``gaussian`` (N(0, 1)). Parameters ``inner`` (m, k, d) and ``outer`` (m, k).
    """

    COEFFICIENTS = ("sign", "gaussian")

    def __init__(self, in_dim: int, m: int, k: int, *, coefficients: str = "sign", generator=None, dtype=None, device=None):
        super().__init__()
        models.check_positive(in_dim=in_dim, m=m, k=k)
        if coefficients not in self.COEFFICIENTS:
            raise ValueError(f"unknown coefficients {coefficients!r}; allowed: {', '.join(self.COEFFICIENTS)}")
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        v = torch.randn(m, generator=generator, **factory)
        self.register_buffer("v", torch.sign(v) if coefficients == "sign" else v)
        self.inner = torch.nn.Parameter(torch.randn(m, k, in_dim, generator=generator, **factory))
        self.outer = torch.nn.Parameter(torch.randn(m, k, generator=generator, **factory))
        self.m, self.k = m, k

    def submodels(self, params: Params, x: Tensor) -> Tensor:
        """gᵢ(wᵢ; x_n) of shape (…, n, m); leading dimensions of the parameters broadcast."""
        pre = torch.einsum("...mkd,nd->...nmk", params["inner"], x)
        return torch.einsum("...nmk,...mk->...nm", torch.tanh(pre), params["outer"]) / math.sqrt(self.k)

    def outputs(self, params: Params, x: Tensor) -> Tensor:
        """f(θ; x) of shape (…, n)."""
        return self.submodels(params, x) @ self.v / math.sqrt(self.m)

    def forward(self, x: Tensor) -> Tensor:
        return self.outputs(dict(self.named_parameters()), x)

    def smoothness_on_ball(self, params: Params, x: Tensor, radius: float) -> Tensor:
        """β_i(R) ≥ sup ‖∇²gᵢ(w; x)‖ over ‖w − wᵢ‖ ≤ R, per sub-model: (…, n, m).

        ∇²gᵢ is block-diagonal over hidden units j, each block k^(−1/2)[[a σ″ x xᵀ, σ′ x], [σ′ xᵀ, 0]] with
        norm k^(−1/2)(|aσ″|s² + √(a²σ″²s⁴ + 4σ′²s²))/2, s = |x|, increasing in |a|. On the ball
        |a| ≤ |a_ij| + R, |σ″| ≤ 4/(3√3) and |σ′| ≤ 1 for tanh. No global β exists: it grows with |a|.
        """
        s2 = (x * x).sum(-1)[:, None]  # (n, 1)
        a = params["outer"].abs().amax(-1).unsqueeze(-2) + radius  # (…, 1, m)
        one = torch.ones((), dtype=x.dtype, device=x.device)
        return _block_top(a, one, one * 4 / (3 * math.sqrt(3)), s2) / math.sqrt(self.k)

    def remainder_bound(self, params: Params, x: Tensor, radius: float) -> Tensor:
        """Eq. 5 with β = maxᵢ |vᵢ|·βᵢ(R) on the ball: |½ΔᵀH(ξ)Δ| ≤ β R² / (2 s(m)) for ‖Δ‖ ≤ R; (…, n).
        (For vᵢ = ±1 this is Theorem 1's βR²/(2s(m)); Gaussian vᵢ carry max|vᵢ| as in Appendix A.)"""
        beta = (self.v.abs() * self.smoothness_on_ball(params, x, radius)).amax(-1)
        return beta * radius**2 / (2 * math.sqrt(self.m))

    def top_eigenpair(self, params: Params, x: Tensor) -> tuple[Tensor, Params]:
        """The eigenvalue of largest |λ| of ∇²_θ f(θ; x_n) and its unit eigenvector, exactly: (…, n) and a
        parameter dict with (…, n) leading dimensions. H = s⁻¹ Σ vᵢ H_gᵢ is block-diagonal by sub-model and
        by hidden unit j, each block k^(−1/2)[[a σ″ x xᵀ, σ′ x], [σ′ xᵀ, 0]] acting on span(x/|x|, e_a) as
        [[A, B], [B, 0]] with A = aσ″s²/√k, B = σ′s/√k: λ = (A ± √(A² + 4B²))/2, eigenvector ∝ (B, λ − A)."""
        s = x.norm(dim=-1)[:, None, None]  # (n, 1, 1)
        pre = torch.einsum("...mkd,nd->...nmk", params["inner"], x)
        d1, d2 = _sigma_derivatives(activations.get("tanh"), pre.reshape(-1))
        a_coef = params["outer"].unsqueeze(-3) * d2.reshape(pre.shape) * s * s / math.sqrt(self.k)
        b_coef = d1.reshape(pre.shape) * s / math.sqrt(self.k)
        lam = 0.5 * (a_coef + torch.where(a_coef >= 0, 1.0, -1.0) * torch.sqrt(a_coef**2 + 4 * b_coef**2))
        scaled = (self.v[:, None] * lam / math.sqrt(self.m)).flatten(-2)  # (…, n, m·k)
        best = scaled.abs().argmax(-1, keepdim=True)
        mask = torch.zeros_like(scaled).scatter_(-1, best, 1.0).reshape(pre.shape)
        p, q = b_coef, lam - a_coef
        norm = torch.sqrt(p * p + q * q)
        direction = {"inner": (mask * p / norm).unsqueeze(-1) * (x / s[..., 0])[:, None, None, :],
                     "outer": mask * q / norm}
        return scaled.gather(-1, best)[..., 0], direction
