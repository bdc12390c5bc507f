"""Exact finite-width laws and estimators: deep linear norms (Hanin §3.2) and the fourth cumulant (§3.4),
and the single-input recursion of the NNGP variance and its 1/N fourth cumulant (eqs. 3.3.1, 3.4.1).

Deep linear (eq. 3.2.3, all widths N, ‖x‖ = 1): log‖z⁽ᴸ⁺¹⁾‖ is a sum of L + 1 independent
Y = ½·log(χ²_N/N), each with mean ½(ψ(N/2) − log(N/2)) = −1/(2N) + O(N⁻²) and variance
¼ψ′(N/2) = 1/(2N) + O(N⁻²) (ψ the digamma). So the mean is ≈ −β/2 and the variance ≈ β/2 with
β = (L+1)/N; the text's "−1/(4N), 1/(4N)" are a factor 2 too small (Var log(χ²_N/N) ≈ 2/N).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from scipy import special

from widenet import activations
from widenet.quadrature import gauss_hermite

_LOG_CF_CUTOFF = -40.0  # |characteristic function| below e⁻⁴⁰ is dropped from the inversion integral
_BLOCK_ELEMENTS = 2**20  # points t × nodes s evaluated at once


def deep_linear_log_norm_moments(width: int, depth: int) -> tuple[float, float]:
    """Exact (mean, variance) of log‖z⁽ᴸ⁺¹⁾‖ for ``depth`` = L, all widths N (Hanin eq. 3.2.3)."""
    a = width / 2.0
    layers = depth + 1
    return layers * 0.5 * (special.digamma(a) - np.log(a)), layers * 0.25 * special.polygamma(1, a)


def deep_linear_log_norm_cdf(t, width: int, depth: int, n_nodes: int = 1024) -> np.ndarray:
    """Exact CDF of log‖z⁽ᴸ⁺¹⁾‖ (Hanin eq. 3.2.3) at ``t``, by Gil-Pelaez inversion
    F(t) = ½ − (1/π)∫₀^∞ Im[e^{−ist}φ(s)]/s ds of the characteristic function
    φ(s) = [(2/N)^{is/2} Γ(N/2 + is/2)/Γ(N/2)]^{L+1} of the sum of L + 1 terms ½·log(χ²_N/N)
    (midpoint rule on (0, S] with |φ(S)| < e⁻⁴⁰)."""
    t = np.asarray(t, dtype=float)
    _, var = deep_linear_log_norm_moments(width, depth)
    s_max = 10.0 / np.sqrt(var)
    while _log_cf(np.array([s_max]), width, depth).real[0] > _LOG_CF_CUTOFF:
        s_max *= 2.0
    s = (np.arange(n_nodes) + 0.5) * (s_max / n_nodes)
    cf = np.exp(_log_cf(s, width, depth))
    flat = t.reshape(-1)
    block = max(1, _BLOCK_ELEMENTS // n_nodes)
    integral = np.concatenate(
        [_inversion_integral(flat[i : i + block], s, cf) for i in range(0, flat.size, block)]
    )
    return np.clip(0.5 - integral * (s_max / n_nodes) / np.pi, 0.0, 1.0).reshape(t.shape)


def deep_linear_log_norm_density(points, width: int, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """(t, density) of the exact law of log‖z⁽ᴸ⁺¹⁾‖ (eq. 3.2.3) at t = mean + sd·``points``: the derivative of
    ``deep_linear_log_norm_cdf`` on a 4× finer grid reaching 0.1 sd beyond the points, interpolated."""
    points = np.asarray(points, float)
    mean, var = deep_linear_log_norm_moments(width, depth)
    sd = np.sqrt(var)
    fine = mean + sd * np.linspace(points[0] - 0.1, points[-1] + 0.1, 4 * points.size)
    density = np.gradient(deep_linear_log_norm_cdf(fine, width, depth), fine)
    t = mean + sd * points
    return t, np.interp(t, fine, density)


def _inversion_integral(t: np.ndarray, s: np.ndarray, cf: np.ndarray) -> np.ndarray:
    phase = np.multiply.outer(t, s)
    return ((cf.imag * np.cos(phase) - cf.real * np.sin(phase)) / s).sum(axis=-1)


def _log_cf(s: np.ndarray, width: int, depth: int) -> np.ndarray:
    a = width / 2.0
    one = 0.5j * s * np.log(1.0 / a) + special.loggamma(a + 0.5j * s) - special.gammaln(a)
    return (depth + 1) * one


class Estimate(NamedTuple):
    value: torch.Tensor
    stderr: torch.Tensor


def fourth_cumulant_ratio(
    z: torch.Tensor,
    *,
    n_boot: int = 200,
    seed: int = 0,
    generator: torch.Generator | None = None,
    chunk_elements: int = 2**24,
) -> Estimate:
    """κ₄/K² of centred samples ``z`` (networks along dim 0, any trailing dims), with
    κ₄ = (E[z⁴] − 3E[z²]²)/3 and K = E[z²] (Hanin Theorem 3.4.1), and its bootstrap standard
    error over ``n_boot`` resamples of the networks (drawn in chunks of about ``chunk_elements``)."""
    if z.ndim == 0 or z.shape[0] < 2:
        raise ValueError(f"z needs at least 2 samples along dim 0, got shape {tuple(z.shape)}")
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot!r}")
    gen = generator if generator is not None else torch.Generator(device=z.device).manual_seed(seed)
    moments = torch.stack([z**2, z**4])  # (2, n, …)
    n = z.shape[0]
    per_replicate = moments[0].numel()
    chunk = max(1, chunk_elements // per_replicate)
    replicates = []
    for start in range(0, n_boot, chunk):
        index = torch.randint(n, (min(chunk, n_boot - start), n), generator=gen, device=z.device)
        replicates.append(_cumulant_ratio(moments[:, index].mean(dim=2)))
    return Estimate(_cumulant_ratio(moments.mean(dim=1)), torch.cat(replicates).std(dim=0))


def _cumulant_ratio(moments: torch.Tensor) -> torch.Tensor:
    m2, m4 = moments[0], moments[1]
    return (m4 - 3 * m2**2) / (3 * m2**2)


def relu_fourth_cumulant_ratio(width: int, depth: int) -> float:
    """Exact κ₄/K² = (1 + 5/N)^L − 1 of a relu network's output at one input, zero bias, any C_W.

    Each hidden layer multiplies K̂ by an independent (C_W/N)Σᵢ relu(gᵢ)², gᵢ ~ N(0, 1) (§3.3.1),
    whose second moment over its squared mean is 1 + 5/N, and κ₄ = Var K̂⁽ᴸ⁾; at leading order
    this is 5L/N, Theorem 3.4.1 with C_σ = C_W²·Var[σ²]/K² = 5."""
    return (1.0 + 5.0 / width) ** depth - 1.0


def single_input_recursion(activation: str, width: int, depth: int, *, weight_std: float, k1: float,
                           n_nodes: int = 200) -> tuple[float, float]:
    """(K, κ₄/K²) of the output at one input after ``depth`` = L hidden layers, zero bias: the
    infinite-width variance K⁽ᴸ⁾(x, x) (Hanin eq. 3.3.1, first-layer variance K⁽⁰⁾ = ``k1``) and the
    fourth cumulant ratio at leading order in 1/N (Theorem 3.4.1). With V⁽ℓ⁾ = Var K̂⁽ℓ⁾ (the output's
    κ₄ is V⁽ᴸ⁾), eq. 3.4.1 reads V⁽ℓ⁾ = (C_W²/N)·Var_{K⁽ℓ⁻¹⁾}[σ²] + χ²·V⁽ℓ⁻¹⁾, V⁽⁰⁾ = 0, with
    χ = C_W·∂_K E_K[σ²] = (C_W/2)·E_K[(σ²)″] at K⁽ℓ⁻¹⁾ (the ½ is missing in the text's eq. 3.4.1:
    relu with C_W = 2 must give χ = 1). relu: exactly 5·L/N. Gauss–Hermite quadrature.
    """
    g, w = gauss_hermite(n_nodes)
    act = activations.get(activation)
    cw = weight_std**2
    k, v = float(k1), 0.0
    for _ in range(depth):
        t = torch.from_numpy(np.sqrt(k) * g)
        s, ds = act.fn(t).numpy(), act.derivative(t).numpy()
        second = w @ s**2
        chi = cw * (w @ (s * ds * g)) / np.sqrt(k)  # C_W·dE_K[σ²]/dK by Gaussian integration by parts
        v = cw**2 / width * (w @ s**4 - second**2) + chi**2 * v
        k = cw * second
    return float(k), float(v / k**2)
