"""Gaussian quadrature rules shared by the kernel recursions and the finite-width laws."""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=16)
def gauss_hermite(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Probabilists' Gauss–Hermite nodes g and weights w normalised to N(0, 1): E[f(g)] ≈ Σ w·f(g),
    exact for polynomials of degree < 2·n_nodes (``numpy.polynomial.hermite_e.hermegauss``)."""
    g, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return g, w / math.sqrt(2 * math.pi)


@lru_cache(maxsize=16)
def gauss_legendre(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes and weights on [−1, 1] (``numpy.polynomial.legendre.leggauss``)."""
    return np.polynomial.legendre.leggauss(n_nodes)
