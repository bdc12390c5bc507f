"""Activation functions by name, each with its derivative (needed by NTK recursions).

``shaped_tanh`` is Hanin §3.3.3's weakly non-linear activation σ(t) = t + ψt³/(3L)
(the cube is missing in the text, see seeds/README.md); it carries ψ and the depth L.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch

Fn = Callable[[torch.Tensor], torch.Tensor]

NAMES = ("relu", "tanh", "erf", "arctan", "softplus", "linear", "shaped_tanh")
PIECEWISE_LINEAR = ("relu", "linear")


@dataclass(frozen=True)
class Activation:
    """A named pointwise non-linearity σ with its derivative σ'."""

    name: str
    fn: Fn = field(repr=False, compare=False)
    derivative: Fn = field(repr=False, compare=False)
    params: tuple[tuple[str, float], ...] = ()

    def __call__(self, t: torch.Tensor) -> torch.Tensor:
        return self.fn(t)


def _relu_prime(t: torch.Tensor) -> torch.Tensor:
    """The step 1[t > 0] as sign(t)⁺: stays in t's dtype (a bool cast is ~6× slower) and works under vmap."""
    return torch.sign(t).relu()


def _erf_prime(t: torch.Tensor) -> torch.Tensor:
    return (2.0 / math.sqrt(math.pi)) * torch.exp(-t * t)


def get(name: str | Activation, *, psi: float = 1.0, depth: int = 1) -> Activation:
    """Return the activation called ``name``; ``psi`` and ``depth`` only matter for shaped_tanh."""
    if isinstance(name, Activation):
        return name
    if name == "relu":
        return Activation("relu", torch.relu, _relu_prime)
    if name == "tanh":
        return Activation("tanh", torch.tanh, lambda t: 1.0 - torch.tanh(t) ** 2)
    if name == "erf":
        return Activation("erf", torch.erf, _erf_prime)
    if name == "arctan":
        return Activation("arctan", torch.atan, lambda t: 1.0 / (1.0 + t * t))
    if name == "softplus":
        return Activation("softplus", torch.nn.functional.softplus, torch.sigmoid)
    if name == "linear":
        return Activation("linear", lambda t: t, torch.ones_like)
    if name == "shaped_tanh":
        if depth <= 0:
            raise ValueError(f"shaped_tanh needs depth L > 0, got depth={depth}")
        c = psi / (3.0 * depth)
        return Activation(
            "shaped_tanh",
            lambda t: t + c * t**3,
            lambda t: 1.0 + 3.0 * c * t * t,
            (("psi", float(psi)), ("depth", float(depth))),
        )
    raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(NAMES)}")
