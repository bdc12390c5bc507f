"""Infinite-width NNGP and NTK kernels of ``models.MLP`` (``ntk`` parameterization) and random features.

Convention (Jacot et al. 2018; Lee et al. 2019), inputs x ∈ R^d, W, b ~ N(0, 1), L = ``depth`` hidden
layers and a linear readout:

    z⁽¹⁾ = (σ_w/√d)·W·x + σ_b·b,    z⁽ℓ⁺¹⁾ = (σ_w/√n)·W·σ(z⁽ℓ⁾) + σ_b·b,    f(x) = z⁽ᴸ⁺¹⁾.

As n → ∞, z⁽ℓ⁾ is a centred GP with covariance Σ⁽ℓ⁾ and the NTK of z⁽ℓ⁾ tends to Θ⁽ℓ⁾:

    Σ⁽¹⁾ = σ_w²·x·x′/d + σ_b²,                 Θ⁽¹⁾ = Σ⁽¹⁾,
    Σ⁽ℓ⁺¹⁾ = σ_w²·E[σ(u)σ(v)] + σ_b²,          Θ⁽ℓ⁺¹⁾ = Σ⁽ℓ⁺¹⁾ + σ_w²·E[σ′(u)σ′(v)]·Θ⁽ℓ⁾,

with (u, v) ~ N(0, Σ⁽ℓ⁾ restricted to {x, x′}). This is the standard deep recursion that Amari's
garbled eq. 84 stands for (docs/experiments.md, Errata). Σ⁽ℓ⁺¹⁾ is Hanin's K⁽ℓ⁾ (eq. 3.3.1 with C_W = σ_w²,
C_b = σ_b²): the covariance after ℓ hidden layers; K⁽⁰⁾ is the input kernel.

The Gaussian expectations use closed forms for relu (arc-cosine kernels of degree 1 and 0, Cho & Saul
2009), erf (Williams 1997) and linear; any other activation uses tensor-product Gauss–Hermite
quadrature. ``quadrature=True`` forces the numerical rules (for tests): Gauss–Hermite for smooth σ,
and for the positively homogeneous relu/linear an exact angular rule (see ``_angular_moments``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator

import torch

from widenet import activations
from widenet.models import check_positive
from widenet.quadrature import gauss_hermite, gauss_legendre

Tensor = torch.Tensor
ActivationLike = str | activations.Activation

DEFAULT_NODES = 96
_CHUNK_ELEMENTS = 1 << 22  # pairs × nodes² evaluated at once by Gauss–Hermite (bounds memory)


# --- inputs ---------------------------------------------------------------------------------------
def _inputs(x1: Tensor, x2: Tensor | None) -> tuple[Tensor, Tensor | None]:
    """Float64 copies of (x1, x2), both (n, d) with the same d; x2 None means x1 itself."""
    for key, x in (("x1", x1), ("x2", x2)):
        if x is not None and x.ndim != 2:
            raise ValueError(f"{key} must have shape (n, d), got {tuple(x.shape)}")
    if x2 is not None and x2.shape[1] != x1.shape[1]:
        raise ValueError(f"x1 and x2 must have the same dimension, got {x1.shape[1]} and {x2.shape[1]}")
    return x1.double(), None if x2 is None else x2.double()


# --- Gaussian expectations E[σ(u)σ(v)], E[σ'(u)σ'(v)] -------------------------------------------
def _gauss_hermite_block(act: activations.Activation, k11: Tensor, k22: Tensor, k12: Tensor, n_nodes: int):
    """Flat pairs (P,): (u, v) = L·(z₁, z₂) with L the 2×2 Cholesky factor of [[k11, k12], [k12, k22]]."""
    z, w = (torch.as_tensor(a, dtype=k12.dtype) for a in gauss_hermite(n_nodes))
    l11 = torch.sqrt(k11).clamp_min(torch.finfo(k12.dtype).tiny)
    l21 = k12 / l11
    l22 = torch.sqrt((k22 - l21 * l21).clamp_min(0.0))
    u = (l11[:, None] * z)[:, :, None]  # (P, n, 1)
    v = l21[:, None, None] * z[:, None] + l22[:, None, None] * z  # (P, n, n)
    weights = w[:, None] * w
    e_ss = (act.fn(u) * act.fn(v) * weights).sum((1, 2))
    e_dd = (act.derivative(u) * act.derivative(v) * weights).sum((1, 2))
    return e_ss, e_dd


def _gauss_hermite_moments(act, k11, k22, k12, n_nodes):
    """Tensor-product Gauss–Hermite over all pairs, in chunks of pairs to bound memory."""
    shape = k12.shape
    flat = [k.reshape(-1) for k in torch.broadcast_tensors(k11, k22, k12)]
    chunk = max(1, _CHUNK_ELEMENTS // n_nodes**2)
    parts = [_gauss_hermite_block(act, *block, n_nodes) for block in zip(*(f.split(chunk) for f in flat))]
    return tuple(torch.cat(p).reshape(shape) for p in zip(*parts))


def _angular_moments(act, k11, k22, k12, n_nodes):
    """Exact rule for positively homogeneous σ of degree 1 with its kink at 0 (relu, linear).

    In polar coordinates (z₁, z₂) = r(cos α, sin α): u = √k11·r·cos α, v = √k22·r·cos(α − β) with
    cos β = ρ. Homogeneity integrates r out exactly (∫r³e^{−r²/2}dr = 2, ∫r e^{−r²/2}dr = 1), leaving
    E[σσ] = (1/π)∫σ(√k11 cos α)σ(√k22 cos(α−β))dα and E[σ′σ′] = (1/2π)∫σ′(cos α)σ′(cos(α−β))dα over
    one turn, split at the kinks α = ±π/2, β ± π/2 so Gauss–Legendre sees smooth integrands.
    """
    k11, k22, k12 = torch.broadcast_tensors(k11, k22, k12)
    x, w = (torch.as_tensor(a, dtype=k12.dtype) for a in gauss_legendre(n_nodes))
    beta = torch.arccos(activations.correlation(k11, k22, k12))[..., None]
    half_pi = torch.full_like(beta, math.pi / 2)
    cuts = torch.cat([-half_pi, beta - half_pi, half_pi, beta + half_pi, 3 * half_pi], -1)
    mid, half = (cuts[..., 1:] + cuts[..., :-1]) / 2, (cuts[..., 1:] - cuts[..., :-1]) / 2
    alpha = (mid[..., None] + half[..., None] * x).flatten(-2)  # (..., 4·n)
    weights = (half[..., None] * w).flatten(-2)
    cu, cv = torch.cos(alpha), torch.cos(alpha - beta)
    s11, s22 = torch.sqrt(k11)[..., None], torch.sqrt(k22)[..., None]
    e_ss = (act.fn(s11 * cu) * act.fn(s22 * cv) * weights).sum(-1) / math.pi
    e_dd = (act.derivative(cu) * act.derivative(cv) * weights).sum(-1) / (2 * math.pi)
    return e_ss, e_dd


def gaussian_moments(
    activation: ActivationLike,
    k11: Tensor,
    k22: Tensor,
    k12: Tensor,
    *,
    quadrature: bool = False,
    n_nodes: int = DEFAULT_NODES,
) -> tuple[Tensor, Tensor]:
    """(E[σ(u)σ(v)], E[σ′(u)σ′(v)]) for centred Gaussian (u, v), Var u = k11, Var v = k22, Cov = k12.

    Arguments broadcast against each other. The activation's closed form (``Activation.moments``: relu,
    erf, linear, shaped_tanh) unless ``quadrature``; otherwise Gauss–Hermite with ``n_nodes``² nodes per
    pair (smooth σ) or, for homogeneous σ (relu, linear), the exact angular rule with ``n_nodes``
    Gauss–Legendre nodes on each of 4 arcs.

    Gauss–Hermite resolves σ on the scale of the variance: with the default 96 nodes the error of
    E[tanh′(u)²] is ~1e-14 at Var u = 0.5, 1e-9 at 1, 1e-6 at 2, 3e-4 at 5 (exact for polynomials such
    as shaped_tanh from 4 nodes); arctan (poles at ±i) converges slower, ~1e-7 at Var ≈ 1. For such σ
    at larger variances raise ``n_nodes`` (∝ √Var). Pairs are evaluated in chunks to bound memory.
    """
    check_positive(n_nodes=n_nodes)
    act = activations.get(activation)
    if not quadrature and act.moments is not None:
        return act.moments(k11, k22, k12)
    if act.homogeneous:
        return _angular_moments(act, k11, k22, k12, n_nodes)
    return _gauss_hermite_moments(act, k11, k22, k12, n_nodes)


# --- deep recursion -----------------------------------------------------------------------------
def _recursion(x1, x2, *, depth, weight_std, bias_std, moments) -> Iterator[tuple[Tensor, Tensor, Tensor, Tensor]]:
    """Yield (Σ⁽ℓ⁾, Θ⁽ℓ⁾, Λ⁽ℓ⁾, R⁽ℓ⁾) on x1 × x2 for ℓ = 1 … depth + 1 (the last is the readout), Λ and R
    the LeCun kernel and remainder of ``infinite_width``'s "lecun"; ``moments(k11, k22, k12)`` returns (E[σσ], E[σ′σ′])."""
    cw, cb = weight_std**2, bias_std**2

    def variance_step(k: Tensor) -> Tensor:
        return cw * moments(k, k, k)[0] + cb

    d = x1.shape[1]
    k11 = cw * (x1 * x1).sum(1) / d + cb
    k22 = k11 if x2 is None else cw * (x2 * x2).sum(1) / d + cb
    k12 = theta = cw * (x1 @ (x1 if x2 is None else x2).T) / d + cb
    lecun = torch.zeros_like(k12)
    rest = x1 @ (x1 if x2 is None else x2).T + 1  # raw input weights (Gram x·x′) and first bias
    yield k12, theta, lecun, rest
    for _ in range(depth):
        e_ss, e_dd = moments(k11[:, None], k22[None, :], k12)
        k12 = cw * e_ss + cb
        theta = k12 + cw * e_dd * theta
        lecun = e_ss + cw * e_dd * lecun
        rest = 1 + cw * e_dd * rest
        k11 = variance_step(k11)
        k22 = k11 if x2 is None else variance_step(k22)
        yield k12, theta, lecun, rest


def infinite_width(
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    depth: int,
    activation: ActivationLike,
    weight_std: float = 1.0,
    bias_std: float = 0.0,
    psi: float = 1.0,
    quadrature: bool = False,
    n_nodes: int = DEFAULT_NODES,
    width: int | None = None,
    layers: bool = False,
    dtype: torch.dtype | None = None,
) -> dict[str, Tensor]:
    """The infinite-width kernels of ``models.MLP`` with ``depth`` = L hidden layers, from one recursion
    (module docstring): {"nngp": Σ⁽ᴸ⁺¹⁾, "ntk": Θ⁽ᴸ⁺¹⁾, "lecun": K^LC}, each n1 × n2.

    - "nngp", "ntk": ``parameterization="ntk"`` (Jacot et al. 2018; Lee et al. 2019). With one hidden
      layer and bias_std = 0 the NTK is (x·x′/d)·E[σ′σ′] + E[σσ]; Petersen–Zech Thm 11.30 (biases
      initialised at 0 but trained with multiplier 1) adds 1 + E[σ′σ′] to it, which no bias_std reproduces.
    - "lecun": K^LC = lim (1/n)·K̂_n, the empirical NTK of ``parameterization="standard"`` (LeCun:
      W ~ N(0, σ_w²/fan_in), b ~ N(0, σ_b²)) divided by the width n. Depth 1 is Petersen–Zech Thm 11.16:
      K^LC = E[σ(u)σ(v)], (u, v) ~ N(0, Σ⁽¹⁾). In general only the weights with fan-in n survive the 1/n
      (each is √n/σ_w times its ntk-parameterization twin), so Λ⁽¹⁾ = 0 and
      Λ⁽ℓ⁺¹⁾ = E[σσ] + σ_w²·E[σ′σ′]·Λ⁽ℓ⁾ under Σ⁽ℓ⁾. The dropped input-layer and bias terms are exact:
      R⁽¹⁾ = x·x′ + 1, R⁽ℓ⁺¹⁾ = 1 + σ_w²·E[σ′σ′]·R⁽ℓ⁾, so with ``width`` = n "lecun" is K^LC + R/n, the
      infinite-width recursion's (1/n)·K̂_n at width n (remaining error O(n^(−1/2))).

    ``layers=True`` stacks every layer: shape (depth + 1, n1, n2), entry ℓ the kernel of the
    pre-activations after ℓ hidden layers (Hanin's K⁽ℓ⁾, eq. 3.3.1 with C_W = σ_w², C_b = σ_b²; entry 0 the
    input kernel σ_w²·x·x′/d + σ_b²). x2 None means x1 with itself. Computed in float64, returned in
    ``dtype`` (default x1.dtype). ``psi`` and ``depth`` parameterize shaped_tanh (σ(t) = t + ψt³/(3·depth));
    see ``gaussian_moments`` for ``quadrature`` and ``n_nodes``.
    """
    check_positive(depth=depth, n_nodes=n_nodes, **({} if width is None else {"width": width}))
    act = activations.get(activation, psi=psi, depth=depth)

    def moments(k11, k22, k12):
        return gaussian_moments(act, k11, k22, k12, quadrature=quadrature, n_nodes=n_nodes)

    recursion = _recursion(*_inputs(x1, x2), depth=depth, weight_std=weight_std, bias_std=bias_std, moments=moments)
    steps = list(recursion) if layers else deque(recursion, maxlen=1)  # the output layer only
    nngp, ntk, lecun, rest = (torch.stack(k) for k in zip(*steps))
    if width is not None:
        lecun = lecun + rest / width
    out = {"nngp": nngp, "ntk": ntk, "lecun": lecun}
    return {key: (k if layers else k[0]).to(dtype or x1.dtype) for key, k in out.items()}


def analytic(x1: Tensor, x2: Tensor | None = None, **settings) -> dict[str, Tensor]:
    """{"nngp": Σ⁽ᴸ⁺¹⁾, "ntk": Θ⁽ᴸ⁺¹⁾} (n1 × n2) of the output of ``models.MLP`` (``parameterization="ntk"``);
    ``settings`` are the keyword arguments of ``infinite_width``."""
    out = infinite_width(x1, x2, **settings)
    return {"nngp": out["nngp"], "ntk": out["ntk"]}


def analytic_layers(x1: Tensor, x2: Tensor | None = None, **settings) -> dict[str, Tensor]:
    """Layer-wise ``analytic``: {"nngp", "ntk"}, each (depth + 1, n1, n2) (``infinite_width(layers=True)``).
    For activations that do not depend on the depth (all but shaped_tanh) entry ℓ equals
    ``analytic(..., depth=ℓ)``."""
    out = infinite_width(x1, x2, layers=True, **settings)
    return {"nngp": out["nngp"], "ntk": out["ntk"]}


def lecun_ntk(x1: Tensor, x2: Tensor | None = None, **settings) -> Tensor:
    """K^LC = lim (1/n)·K̂_n of ``parameterization="standard"`` (n1 × n2), plus R/n with ``width`` = n:
    ``infinite_width(...)["lecun"]``."""
    return infinite_width(x1, x2, **settings)["lecun"]


def unit_vectors(angles: Tensor, dim: int = 2, *, dtype: torch.dtype | None = None) -> Tensor:
    """Rows cos φ·e₁ + sin φ·e₂ ∈ R^dim for each φ in ``angles``: unit vectors at angle φ from e₁.

    With ``x0 = unit_vectors(torch.zeros(1), dim)`` (= e₁), ``analytic(x0, unit_vectors(phis, dim), ...)``
    is K(φ) as in Pleiss Fig. 1.
    """
    if not isinstance(dim, int) or dim < 2:
        raise ValueError(f"dim must be an integer >= 2, got {dim!r}")
    phi = torch.as_tensor(angles, dtype=dtype or torch.get_default_dtype()).reshape(-1)
    out = torch.zeros(phi.numel(), dim, dtype=phi.dtype)
    out[:, 0], out[:, 1] = torch.cos(phi), torch.sin(phi)
    return out


def shaped_tanh_limit(
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    psi: float,
    tau: float | Tensor = 1.0,
    dtype: torch.dtype | None = None,
) -> Tensor:
    """Hanin eq. 3.3.7: the L → ∞ NNGP of shaped-tanh networks, σ(t) = t + ψt³/(3L), at time τ = ℓ/L.

    K⁽τ⁾(x, x′) = (1 − 2ψτK⁽⁰⁾(x, x))^(−1/2)·(1 − 2ψτK⁽⁰⁾(x′, x′))^(−1/2)·K⁽⁰⁾(x, x′), K⁽⁰⁾ = ⟨x, x′⟩/d,
    the solution of dK/dτ = 2ψK² on the diagonal (docs/experiments.md, Errata: the text's extra 1/L is a typo).
    Hanin's convention: C_W = 1 (weight_std = 1), no bias, and K⁽ℓ⁾ is the covariance of z⁽ℓ⁺¹⁾, the
    pre-activations after ℓ hidden layers. Hence τ = ℓ/L matches
    ``analytic_layers(x1, x2, depth=L, activation="shaped_tanh", psi=psi)["nngp"][ℓ]`` up to O(1/L), and
    τ = 1 matches the network output ``analytic(..., depth=L)["nngp"]``. A tensor ``tau`` gives shape
    tau.shape + (n1, n2). Requires 2ψτK⁽⁰⁾(x, x) < 1 (the kernel blows up there for ψ > 0).
    """
    xa, xb = _inputs(x1, x2)
    xb = xa if xb is None else xb
    d = xa.shape[1]
    t = torch.as_tensor(tau, dtype=torch.float64)[..., None, None]
    g1 = 1 - 2 * psi * t * (xa * xa).sum(1)[:, None] / d
    g2 = 1 - 2 * psi * t * (xb * xb).sum(1)[None, :] / d
    if (g1 <= 0).any() or (g2 <= 0).any():
        raise ValueError(f"tau is at or past the blow-up time 1/(2·psi·K0(x, x)) for psi={psi}")
    return ((xa @ xb.T / d) / torch.sqrt(g1 * g2)).to(dtype or x1.dtype)


def random_features_kernel(
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    n_features: int,
    activation: ActivationLike = "relu",
    generator: torch.Generator | None = None,
    n_draws: int | None = None,
) -> Tensor:
    """Random-features kernel k_d(x, x′) = (1/d)·Σᵢ σ(wᵢᵀx)σ(wᵢᵀx′), wᵢ ~ N(0, I), d = ``n_features``
    (Pleiss eq. 1 and Thm 1; Petersen–Zech Thm 11.16 up to their 1/d input scaling).

    Shape (n1, n2), or (n_draws, n1, n2) for ``n_draws`` independent draws of the features (memory
    n_draws·(n1 + n2)·d). Computed in x1's dtype. As d → ∞ it tends to E[σ(wᵀx)σ(wᵀx′)], for relu
    ``arccos_kernel``.
    """
    check_positive(n_features=n_features, **({} if n_draws is None else {"n_draws": n_draws}))
    act = activations.get(activation)
    draws = 1 if n_draws is None else n_draws
    w = torch.randn(draws, x1.shape[1], n_features, generator=generator, dtype=x1.dtype, device=x1.device)
    f1 = act.fn(x1 @ w)
    f2 = f1 if x2 is None else act.fn(x2.to(x1.dtype) @ w)
    k = f1 @ f2.transpose(-1, -2) / n_features
    return k[0] if n_draws is None else k


def arccos_kernel(x1: Tensor, x2: Tensor | None = None) -> Tensor:
    """Arc-cosine kernel (1/2π)‖x‖‖x′‖(sin φ + (π − φ) cos φ) = E[relu(wᵀx)relu(wᵀx′)], w ~ N(0, I)
    (Pleiss Thm 1, eq. 2; Cho & Saul 2009, degree 1)."""
    xa, xb = _inputs(x1, x2)
    xb = xa if xb is None else xb
    sq_a, sq_b = (xa * xa).sum(1)[:, None], (xb * xb).sum(1)[None, :]
    return activations.get("relu").moments(sq_a, sq_b, xa @ xb.T)[0].to(x1.dtype)
