"""Fully connected networks in the three parameterizations of EXPERIMENTS.md.

- ``ntk``:       z⁽ℓ⁺¹⁾ = (weight_std/√fan_in)·W·σ(z⁽ℓ⁾) + bias_std·b,  W, b ~ N(0, 1)
  (Jacot et al. 2018; Liu–Zhu–Belkin eq. 8; Petersen–Zech 11.6.1).
- ``standard``:  z⁽ℓ⁺¹⁾ = W·σ(z⁽ℓ⁾) + b,  W ~ N(0, weight_std²/fan_in), b ~ N(0, bias_std²)
  (LeCun; Amari eqs. 6–8; Petersen–Zech 11.5.3).
- ``meanfield``: one hidden layer, z = (weight_std/N)·Σᵢ W2ᵢ σ(W1ᵢ·x/√d + bias_std·b1ᵢ)
  (Hanin eq. 2.3.1, γ = √N).

The same function is computed in every parameterization; only where the scale lives
(multiplier vs. initial variance) differs, which changes gradients and hence training.
Parameters are plain tensors named ``weight{ℓ}``/``bias{ℓ}`` (ℓ = 0 … depth, the last is the
readout), so ``torch.func.functional_call`` and ``vmap`` over stacked parameter dicts apply.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from widenet import activations

PARAMETERIZATIONS = ("ntk", "standard", "meanfield")


def check_positive(**values: int) -> None:
    """Raise ValueError naming the first argument that is not a positive integer."""
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")


class MLP(nn.Module):
    """``depth`` hidden layers of ``width`` units and a width-1 linear readout; output shape (n,)."""

    def __init__(
        self,
        in_dim: int,
        width: int,
        depth: int,
        *,
        activation: str | activations.Activation = "relu",
        parameterization: str = "ntk",
        weight_std: float = 1.0,
        bias_std: float = 0.0,
        psi: float = 1.0,
        generator: torch.Generator | None = None,
        dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ):
        super().__init__()
        check_positive(in_dim=in_dim, width=width, depth=depth)
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"unknown parameterization {parameterization!r}; allowed: {', '.join(PARAMETERIZATIONS)}"
            )
        if parameterization == "meanfield" and depth != 1:
            raise ValueError(f"parameterization 'meanfield' has one hidden layer; got depth={depth}")
        self.in_dim, self.width, self.depth = in_dim, width, depth
        self.parameterization = parameterization
        self.weight_std, self.bias_std = float(weight_std), float(bias_std)
        self.activation = activations.get(activation, psi=psi, depth=depth)
        self.dims = [in_dim] + [width] * depth + [1]
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        for ell, (fan_in, fan_out) in enumerate(zip(self.dims[:-1], self.dims[1:])):
            self.register_parameter(f"weight{ell}", nn.Parameter(torch.empty(fan_out, fan_in, **factory)))
            self.register_parameter(f"bias{ell}", nn.Parameter(torch.empty(fan_out, **factory)))
        self.reset_parameters(generator)

    # --- scales -------------------------------------------------------------------------------
    def multipliers(self, ell: int) -> tuple[float, float]:
        """(weight, bias) multipliers applied to the raw parameters of layer ``ell`` in forward."""
        fan_in = self.dims[ell]
        if self.parameterization == "standard":
            return 1.0, 1.0
        if self.parameterization == "meanfield" and ell == self.depth:
            return self.weight_std / fan_in, self.bias_std
        return self.weight_std / math.sqrt(fan_in), self.bias_std

    def init_stds(self, ell: int) -> tuple[float, float]:
        """(weight, bias) standard deviations of the raw parameters of layer ``ell`` at init."""
        if self.parameterization == "standard":
            return self.weight_std / math.sqrt(self.dims[ell]), self.bias_std
        return 1.0, 1.0

    def sample_parameters(
        self, n_networks: int | None = None, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Fresh raw parameters from the init law; with ``n_networks`` each gets a leading batch dim."""
        lead = () if n_networks is None else (n_networks,)
        out = {}
        for name, p in self.named_parameters():
            ell = int(name.removeprefix("weight").removeprefix("bias"))
            std = self.init_stds(ell)[0 if name.startswith("weight") else 1]
            out[name] = std * torch.randn(lead + tuple(p.shape), generator=generator, dtype=p.dtype, device=p.device)
        return out

    @torch.no_grad()
    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        for name, value in self.sample_parameters(generator=generator).items():
            getattr(self, name).copy_(value)

    # --- forward ------------------------------------------------------------------------------
    def preactivations(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[z⁽¹⁾, …, z⁽ᴸ⁺¹⁾] at inputs x (n × in_dim); the last is the (n × 1) readout."""
        zs, h = [], x
        for ell in range(self.depth + 1):
            w_mult, b_mult = self.multipliers(ell)
            z = w_mult * (h @ getattr(self, f"weight{ell}").T) + b_mult * getattr(self, f"bias{ell}")
            zs.append(z)
            h = self.activation(z)
        return zs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.preactivations(x)[-1].squeeze(-1)

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, width={self.width}, depth={self.depth}, "
            f"activation={self.activation.name}, parameterization={self.parameterization}, "
            f"weight_std={self.weight_std}, bias_std={self.bias_std}"
        )
