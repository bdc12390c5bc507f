"""Shared argument checks, parameter flattening and activation derivatives of ``widenet.curvature``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from torch import func as tf

from widenet import activations

Tensor = torch.Tensor
Params = dict[str, Tensor]

METHODS = ("auto", "lanczos", "dense")
DENSE_MAX_PARAMS = 1024  # ``auto`` uses the dense Hessian up to this many parameters
NOT_TWICE_DIFFERENTIABLE = ("relu",)


def check_twice_differentiable(model: torch.nn.Module) -> None:
    """Raise ValueError if ``model`` uses an activation whose second derivative does not exist.

    For relu σ'' is a Dirac mass at 0: autograd returns the Hessian with the σ'' terms dropped (the
    cross-layer terms remain), which is the Hessian only between kinks and does not bound the Taylor
    remainder of eq. 1 on any ball that a kink crosses.
    """
    name = getattr(getattr(model, "activation", None), "name", None)
    if name in NOT_TWICE_DIFFERENTIABLE:
        smooth = ", ".join(a for a in activations.NAMES if a not in NOT_TWICE_DIFFERENTIABLE)
        raise ValueError(f"model: activation {name!r} is not twice differentiable (σ'' is a Dirac mass at 0), "
                         f"so its Hessian does not control the Taylor remainder; use one of: {smooth}")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")


@dataclass(frozen=True)
class _Layout:
    """Flattening of a parameter dict into one vector (…, P), in ``named_parameters`` order."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]

    @classmethod
    def of(cls, model: torch.nn.Module) -> "_Layout":
        named = list(model.named_parameters())
        return cls(tuple(n for n, _ in named), tuple(p.shape for _, p in named))

    @property
    def size(self) -> int:
        return sum(math.prod(s) for s in self.shapes)

    def flatten(self, params: Params) -> tuple[Tensor, bool]:
        """(θ of shape (P,) or (E, P), whether there is an ensemble dimension); checks the shapes."""
        extra = {params[n].ndim - len(s) for n, s in zip(self.names, self.shapes)}
        if extra not in ({0}, {1}):
            raise ValueError("params must match the model's parameter shapes, optionally with one leading ensemble dimension")
        lead = 1 if extra == {1} else 0
        flat = torch.cat([params[n].detach().reshape(*params[n].shape[:lead], -1) for n in self.names], dim=-1)
        return flat, bool(lead)

    def flatten_tail(self, params: Params) -> Tensor:
        """Concatenate parameter-shaped tensors with any leading dimensions into (…, P)."""
        return torch.cat([params[n].reshape(*params[n].shape[: params[n].ndim - len(s)], -1)
                          for n, s in zip(self.names, self.shapes)], dim=-1)

    def unflatten(self, theta: Tensor) -> Params:
        sizes = [math.prod(s) for s in self.shapes]
        parts = torch.split(theta, sizes, dim=-1)
        return {n: p.reshape(*theta.shape[:-1], *s) for n, p, s in zip(self.names, parts, self.shapes)}


def _parameters(model: torch.nn.Module, params: Params | None) -> tuple[_Layout, Tensor, bool]:
    layout = _Layout.of(model)
    if params is None:
        params = dict(model.named_parameters())
    missing = set(layout.names) - set(params)
    if missing:
        raise ValueError(f"params: missing {', '.join(sorted(missing))}")
    return (layout, *layout.flatten(params))


def _scalar_output(model: torch.nn.Module, layout: _Layout) -> Callable[[Tensor, Tensor], Tensor]:
    """f(θ, x_row) → the model's scalar output at one input row."""

    def f(theta: Tensor, x: Tensor) -> Tensor:
        return tf.functional_call(model, layout.unflatten(theta), (x.unsqueeze(0),)).reshape(())

    return f


def _check_inputs(model: torch.nn.Module, layout: _Layout, theta: Tensor, x: Tensor) -> Tensor:
    """x as a (n, d) tensor in θ's dtype; raise ValueError unless the model gives one scalar per row."""
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"x must have shape (n, d) with n ≥ 1, got {tuple(x.shape)}")
    x = x.to(dtype=theta.dtype, device=theta.device)
    with torch.no_grad():
        out = tf.functional_call(model, layout.unflatten(theta.reshape(-1, layout.size)[0]), (x[:1],))
    if out.numel() != 1:
        raise ValueError(f"model: output must be one scalar per input row, got shape {tuple(out.shape)} for one row")
    return x


def _start_vector(shape, like: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        generator = torch.Generator(device=like.device).manual_seed(0)
    return torch.randn(*shape, generator=generator, dtype=like.dtype, device=like.device)


def as_params(model: torch.nn.Module, flat: Tensor) -> Params:
    """A flat vector (…, P) in ``named_parameters`` order (e.g. a Ritz vector) as a parameter dict."""
    return _Layout.of(model).unflatten(flat)


def _second_derivative(act: activations.Activation, z: Tensor) -> Tensor:
    """σ″(z) elementwise by autograd through σ′ (plain autograd: torch.func's grad costs ~1.2 s on first use
    in every job process); 0 where σ′ is piecewise constant (relu, linear)."""
    with torch.enable_grad():
        t = z.detach().requires_grad_(True)
        slope = act.derivative(t)
        if not slope.requires_grad:
            return torch.zeros_like(z)
        return torch.autograd.grad(slope.sum(), t)[0]


def _sigma_derivatives(act: activations.Activation, u: Tensor) -> tuple[Tensor, Tensor]:
    """(σ′(u), σ″(u))."""
    return act.derivative(u), _second_derivative(act, u)


def _block_top(v: Tensor, d1: Tensor, d2: Tensor, s2: Tensor) -> Tensor:
    """Top |eigenvalue| of [[v σ″ ggᵀ, σ′ g], [σ′ gᵀ, 0]] with |g|² = s²: (|vσ″|s² + √(v²σ″²s⁴ + 4σ′²s²))/2."""
    a = (v * d2).abs() * s2
    return 0.5 * (a + torch.sqrt(a * a + 4 * d1 * d1 * s2))
