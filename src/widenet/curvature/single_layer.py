"""One hidden layer: the exact ‖∇²_θ f‖ from rank-2 neuron blocks and its finite-width expectation (B5)."""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy import special

from widenet import activations
from widenet.curvature._common import Params, Tensor, _block_top, _sigma_derivatives, check_twice_differentiable
from widenet.models import MLP


def single_layer_hessian_norm(model: MLP, x: Tensor, params: Params | None = None) -> Tensor:
    """Exact ‖∇²_θ f(θ; x_i)‖₂ of a one-hidden-layer MLP, (n,) or (E, n), from its neuron blocks.

    With u_i = a₀w_i·x + c₀b_i and g = (a₀x, c₀), f's Hessian is block-diagonal by neuron: in the
    variables (w_i, b_i, v_i) the block is a₁·[[v_i σ″(u_i) ggᵀ, σ′(u_i) g], [σ′(u_i) gᵀ, 0]], of rank 2,
    so ‖H‖ = a₁·max_i (|v_iσ″|s² + √(v_i²σ″²s⁴ + 4σ′²s²))/2 with s² = |g|² (Liu–Zhu–Belkin §2, eq. 4).
    """
    if not isinstance(model, MLP) or model.depth != 1:
        raise ValueError("model must be a widenet.models.MLP with depth 1")
    check_twice_differentiable(model)
    own = dict(model.named_parameters())
    params = own if params is None else params
    (a0, c0), (a1, _) = model.multipliers(0), model.multipliers(1)
    x = x.to(own["weight0"])
    s2 = a0 * a0 * (x * x).sum(-1, keepdim=True) + c0 * c0  # (n, 1)
    u = a0 * torch.einsum("nd,...md->...nm", x, params["weight0"]) + c0 * params["bias0"][..., None, :]
    d1, d2 = _sigma_derivatives(model.activation, u.reshape(-1))
    v = params["weight1"][..., None, 0, :]  # (…, 1, m): the readout row
    return a1 * _block_top(v, d1.reshape(u.shape), d2.reshape(u.shape), s2).amax(-1)


def expected_single_layer_hessian_norm(widths, activation: str, *, s2: float, weight_std: float = 1.0,
                                       n_u: int = 4001, n_t: int = 4001) -> np.ndarray:
    """E‖H‖ of a one-hidden-layer ``ntk`` MLP at init, for each width m: (σ_w/√m)·E[max_{i≤m} T_i].

    T = (|vσ″(u)|s² + √(v²σ″(u)²s⁴ + 4σ′(u)²s²))/2 with u ~ N(0, s²), v ~ N(0, 1) independent
    (``single_layer_hessian_norm``; s² = a₀²|x|² + c₀² is also u's variance). Given u, T ≤ t iff
    t ≥ C = |σ′(u)|s and |v| ≤ (t² − C²)/(A t), A = |σ″(u)|s², so
        Q(t) = P(T > t) = E_u[ 1{t < C} + 1{t ≥ C}·erfc((t² − C²)/(√2·A t)) ],
        E[max_{i≤m} T_i] = ∫₀^∞ 1 − (1 − Q(t))^m dt,
    both by the trapezoid rule (u on ±10 s with ``n_u`` points, t up to where m·Q < 1e-16).
    """
    act = activations.get(activation)
    s = math.sqrt(s2)
    u = torch.linspace(-10 * s, 10 * s, n_u, dtype=torch.float64)
    d1, d2 = (d.abs().numpy() for d in _sigma_derivatives(act, u))
    pdf = np.exp(-0.5 * (u.numpy() / s) ** 2) / (s * math.sqrt(2 * math.pi))
    big_c, big_a = d1 * s, d2 * s2
    t_max = big_c.max() + big_a.max() * (8.5 + math.sqrt(2 * math.log(max(widths))))
    t = np.linspace(0.0, t_max, n_t)[1:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(t < big_c, 1.0, special.erfc((t * t - big_c**2) / (math.sqrt(2) * np.maximum(big_a, 1e-300) * t)))
    q = np.clip(np.trapezoid(tail * pdf, u.numpy(), axis=1), 0.0, 1.0)
    out = []
    for m in widths:
        above = -np.expm1(m * np.log1p(-np.minimum(q, 1 - 1e-300)))
        out.append(weight_std / math.sqrt(m) * np.trapezoid(np.concatenate([[1.0], above]), np.concatenate([[0.0], t[:, 0]])))
    return np.asarray(out)
