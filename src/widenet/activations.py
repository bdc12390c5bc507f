"""Activation functions by name, each with its derivative and, where one exists, the closed form of its
Gaussian moments (the kernel transform of the NNGP/NTK recursions, as neural-tangents' ``stax`` pairs
a layer with its kernel function).

``moments(k11, k22, k12)`` returns (E[σ(u)σ(v)], E[σ′(u)σ′(v)]) for centred Gaussian (u, v) with
Var u = k11, Var v = k22, Cov(u, v) = k12 (arguments broadcast); activations without one are
integrated numerically by ``widenet.kernels.gaussian_moments``. ``homogeneous`` marks σ positively
homogeneous of degree 1 with its kink at 0 (relu, linear), for which an exact angular rule exists.

``shaped_tanh`` is Hanin §3.3.3's weakly non-linear activation σ(t) = t + ψt³/(3L)
(the cube is missing in the text); it carries ψ and the depth L.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]
Moments = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]

NAMES = ("relu", "tanh", "erf", "arctan", "softplus", "linear", "shaped_tanh")


@dataclass(frozen=True)
class Activation:
    """A named pointwise non-linearity σ with its derivative σ′ and, optionally, closed-form Gaussian moments."""

    name: str
    fn: Fn = field(repr=False, compare=False)
    derivative: Fn = field(repr=False, compare=False)
    params: tuple[tuple[str, float], ...] = ()
    moments: Moments | None = field(default=None, repr=False, compare=False)
    homogeneous: bool = False

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        return self.fn(t)


def correlation(k11: torch.Tensor, k22: torch.Tensor, k12: torch.Tensor) -> torch.Tensor:
    """ρ = k12/√(k11·k22), clamped to [−1, 1] (and safe at k11·k22 = 0)."""
    return (k12 / torch.sqrt(k11 * k22).clamp_min(torch.finfo(k12.dtype).tiny)).clamp(-1.0, 1.0)


def _relu_prime(t: torch.Tensor) -> torch.Tensor:
    """The step 1[t > 0] as sign(t)⁺: stays in t's dtype (a bool cast is ~6× slower) and works under vmap."""
    return torch.sign(t).relu()


def _relu_moments(k11, k22, k12):
    """Arc-cosine kernels of degree 1 and 0 (Cho & Saul 2009; Pleiss Thm 1; P–Z Ex. 11.17, 11.31)."""
    theta = torch.arccos(correlation(k11, k22, k12))
    e_ss = torch.sqrt(k11 * k22) * (torch.sin(theta) + (math.pi - theta) * torch.cos(theta)) / (2 * math.pi)
    return e_ss, (math.pi - theta) / (2 * math.pi)


def _erf_prime(t: torch.Tensor) -> torch.Tensor:
    return (2.0 / math.sqrt(math.pi)) * torch.exp(-t * t)


def _erf_moments(k11, k22, k12):
    """E[erf(u)erf(v)] = (2/π)·arcsin(2k12/√((1+2k11)(1+2k22))) (Williams 1997) and
    E[erf′(u)erf′(v)] = (4/π)·det(I + 2K)^(−1/2)."""
    a, b = 1 + 2 * k11, 1 + 2 * k22
    e_ss = (2 / math.pi) * torch.arcsin((2 * k12 / torch.sqrt(a * b)).clamp(-1.0, 1.0))
    return e_ss, (4 / math.pi) / torch.sqrt(a * b - 4 * k12 * k12)


def _linear_moments(k11, k22, k12):
    return k12, torch.ones_like(k12)


def _cubic_moments(c: float) -> Moments:
    """σ(t) = t + c·t³ (shaped tanh, c = ψ/(3L), Hanin §3.3.3): Isserlis' theorem gives
    E[σσ] = k12 + 3c·k12(k11 + k22) + c²(9k11k22k12 + 6k12³) and
    E[σ′σ′] = 1 + 3c(k11 + k22) + 9c²(k11k22 + 2k12²)."""

    def moments(k11, k22, k12):
        e_ss = k12 + 3 * c * k12 * (k11 + k22) + c * c * (9 * k11 * k22 * k12 + 6 * k12**3)
        e_dd = 1 + 3 * c * (k11 + k22) + 9 * c * c * (k11 * k22 + 2 * k12**2)
        return e_ss, e_dd

    return moments


def get(name: str | Activation, *, psi: float = 1.0, depth: int = 1) -> Activation:
    """Return the activation called ``name``; ``psi`` and ``depth`` only matter for shaped_tanh."""
    if isinstance(name, Activation):
        return name
    if name == "relu":
        return Activation("relu", torch.relu, _relu_prime, moments=_relu_moments, homogeneous=True)
    if name == "tanh":
        return Activation("tanh", torch.tanh, lambda t: 1.0 - torch.tanh(t) ** 2)
    if name == "erf":
        return Activation("erf", torch.erf, _erf_prime, moments=_erf_moments)
    if name == "arctan":
        return Activation("arctan", torch.atan, lambda t: 1.0 / (1.0 + t * t))
    if name == "softplus":
        return Activation("softplus", torch.nn.functional.softplus, torch.sigmoid)
    if name == "linear":
        return Activation("linear", lambda t: t, torch.ones_like, moments=_linear_moments, homogeneous=True)
    if name == "shaped_tanh":
        if depth <= 0:
            raise ValueError(f"shaped_tanh needs depth L > 0, got depth={depth}")
        c = psi / (3.0 * depth)
        return Activation(
            "shaped_tanh",
            lambda t: t + c * t**3,
            lambda t: 1.0 + 3.0 * c * t * t,
            (("psi", float(psi)), ("depth", float(depth))),
            moments=_cubic_moments(c),
        )
    raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(NAMES)}")
