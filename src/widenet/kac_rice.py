"""Infinite-width (Gaussian-field) zero densities of the neurons of Hanin eq. 4.0.1 relu nets, by Kac–Rice.

Eq. 4.0.1 nets (W ~ N(0, 2)/√fan_in, b ~ N(0, 1)) have the NNGP K⁽ℓ⁾(x, x) = ℓ + 2‖x‖²/N₀
(K⁽¹⁾ = 1 + 2‖x‖²/N₀, K⁽ℓ⁺¹⁾ = 1 + K⁽ℓ⁾ for relu with C_W = 2, C_b = 1); the derivative along a unit
direction d has variance λ₂ = 2/N₀ in every layer (C_W·E[σ′²] = 1) and covariance μ = 2x·d/N₀ with z.
Kac–Rice: a neuron's zeros per unit length along d are (1/π)·√(λ₂K − μ²)/K; its nodal length per unit
area of a plane through 0 with orthonormal directions is E‖g‖/√(2πK), g ~ N(0, λ₂I − mmᵀ/K), m = 2x/N₀.
Exact for L = 1 at any width (z is an affine Gaussian field); for deeper layers the N_ℓ → ∞ limit, so
deeper layers cross zero a little less often (∝ ℓ^(−1/2)).
"""

from __future__ import annotations

import math

import numpy as np


def layer_densities(in_dim: int, n_layers: int, *, segment_length: float, half_width: float,
                    rng: np.random.Generator, n_samples: int = 200_000) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron (zeros per unit length, nodal length per unit area) of layers ℓ = 1 … ``n_layers``,
    each (n_layers,): the Kac–Rice densities of the module docstring averaged by Monte Carlo over
    segments of ``segment_length`` with uniform centres in [−1, 1]^N₀ and uniform directions (1-D), and
    over the square [−R, R]², R = ``half_width``, of a plane through 0 (2-D), drawn from ``rng``."""
    half, h = segment_length / 2, half_width
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
