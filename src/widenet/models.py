"""Fully connected networks in the three parameterizations of docs/experiments.md, and their derivatives.

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

Derivatives in closed form (batched matmuls, no autograd), one implementation for every user.
Write z_{ℓ+1} = a_ℓ h_ℓ W_ℓᵀ + c_ℓ b_ℓ (a_ℓ, c_ℓ = ``MLP.multipliers(ℓ)``), h_0 = x, h_ℓ = σ(z_ℓ),
f = z_{L+1}. For a cotangent g_{L+1} = c (one number per input) the back-propagated signals are

    g_ℓ = σ′(z_ℓ) ⊙ a_ℓ g_{ℓ+1} W_ℓ,   ∇_{W_ℓ} Σᵢ cᵢ f(xᵢ) = a_ℓ g_{ℓ+1}ᵀ h_ℓ,   ∇_{b_ℓ} = c_ℓ Σᵢ g_{ℓ+1,i},

(c = 1: g_ℓ = δ_ℓ = ∂f/∂z_ℓ row by row), and a tangent (dW, db) moves the output by
dz_{ℓ+1} = a_ℓ(dh_ℓ W_ℓᵀ + h_ℓ dW_ℓᵀ) + c_ℓ db_ℓ, dh_ℓ = σ′(z_ℓ) ⊙ dz_ℓ, dh_0 = 0.
``params`` may carry leading (ensemble) dimensions, e.g. ``MLP.sample_parameters(E)``; x (n × d) is
shared by all networks, and every result gets the same leading dimensions (shapes broadcast).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
from torch import nn

from widenet import activations

PARAMETERIZATIONS = ("ntk", "standard", "meanfield")

Tensor = torch.Tensor
Params = dict[str, Tensor]


def check_positive(**values: int) -> None:
    """Raise ValueError naming the first argument that is not a positive integer."""
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")


def hidden_widths(width: int | None, depth: int | None, widths: Sequence[int] | None) -> tuple[int, ...]:
    """The hidden widths from either ``width`` and ``depth`` (``depth`` layers of ``width``) or ``widths``."""
    if widths is None:
        if width is None or depth is None:
            raise ValueError("give the hidden widths as width and depth, or as widths=[N_1, …, N_L]")
        check_positive(width=width, depth=depth)
        return (width,) * depth
    if width is not None or depth is not None:
        raise ValueError(f"give either width and depth or widths, not both (width={width!r}, depth={depth!r}, "
                         f"widths={widths!r})")
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or len(widths) == 0:
        raise ValueError(f"widths must be a non-empty list of positive integers, got {widths!r}")
    for ell, n in enumerate(widths):
        check_positive(**{f"widths[{ell}]": n})
    return tuple(widths)


class MLP(nn.Module):
    """Hidden layers of ``widths`` units (or ``depth`` layers of ``width``) and a width-1 linear readout;
    output shape (n,)."""

    def __init__(
        self,
        in_dim: int,
        width: int | None = None,
        depth: int | None = None,
        *,
        widths: Sequence[int] | None = None,
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
        check_positive(in_dim=in_dim)
        self.widths = hidden_widths(width, depth, widths)
        self.in_dim, self.depth = in_dim, len(self.widths)
        if parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"unknown parameterization {parameterization!r}; allowed: {', '.join(PARAMETERIZATIONS)}"
            )
        if parameterization == "meanfield" and self.depth != 1:
            raise ValueError(f"parameterization 'meanfield' has one hidden layer; got depth={self.depth}")
        self.parameterization = parameterization
        self.weight_std, self.bias_std = float(weight_std), float(bias_std)
        self.activation = activations.get(activation, psi=psi, depth=self.depth)
        self.dims = [in_dim, *self.widths, 1]
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        for ell, (fan_in, fan_out) in enumerate(zip(self.dims[:-1], self.dims[1:])):
            self.register_parameter(f"weight{ell}", nn.Parameter(torch.empty(fan_out, fan_in, **factory)))
            self.register_parameter(f"bias{ell}", nn.Parameter(torch.empty(fan_out, **factory)))
        self.reset_parameters(generator)

    @property
    def width(self) -> int:
        """The common hidden width; a ValueError when the hidden widths differ (then use ``widths``)."""
        if len(set(self.widths)) != 1:
            raise ValueError(f"model.width is defined for equal hidden widths only; this MLP has widths={list(self.widths)}")
        return self.widths[0]

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
    ) -> Params:
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
    def current_parameters(self) -> Params:
        """The parameters the module holds now (the swapped-in ones under ``functional_call``)."""
        return {f"{kind}{ell}": getattr(self, f"{kind}{ell}") for ell in range(self.depth + 1) for kind in ("weight", "bias")}

    def preactivations(self, x: Tensor) -> list[Tensor]:
        """[z⁽¹⁾, …, z⁽ᴸ⁺¹⁾] at inputs x (n × in_dim); the last is the (n × 1) readout."""
        return forward(self, self.current_parameters(), x)[0]

    def forward(self, x: Tensor) -> Tensor:
        return self.preactivations(x)[-1].squeeze(-1)

    def extra_repr(self) -> str:
        return (
            f"in_dim={self.in_dim}, widths={list(self.widths)}, "
            f"activation={self.activation.name}, parameterization={self.parameterization}, "
            f"weight_std={self.weight_std}, bias_std={self.bias_std}"
        )


# --- closed-form derivatives (module docstring) -----------------------------------------------------
def _dense(model: MLP, params: Params, ell: int, h: Tensor) -> Tensor:
    """z_{ℓ+1} = a_ℓ h Wᵀ + c_ℓ b for layer ``ell``; leading dimensions of h and the parameters broadcast."""
    a, c = model.multipliers(ell)
    return torch.add(c * params[f"bias{ell}"].unsqueeze(-2), h @ params[f"weight{ell}"].mT, alpha=a)


def forward(model: MLP, params: Params, x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """(zs, hs): pre-activations [z_1 … z_{L+1}] (z_{L+1} (…, n, 1) the readout) and layer inputs
    [h_0 = x, h_1 … h_L], h_ℓ = σ(z_ℓ)."""
    zs, hs = [], [x]
    for ell in range(model.depth + 1):
        zs.append(_dense(model, params, ell, hs[-1]))
        if ell < model.depth:
            hs.append(model.activation.fn(zs[-1]))
    return zs, hs


def module_outputs(model: nn.Module, params: Params, x: Tensor) -> Tensor:
    """Any module's outputs at a batch x (n × d) under ``params`` (``torch.func.functional_call``) as a
    vector (n,); fails unless the module gives one scalar per input row."""
    return torch.func.functional_call(model, params, (x,)).reshape(x.shape[0])


def outputs(model: MLP, params: Params, x: Tensor) -> Tensor:
    """f(x) of shape (…, n): the readout z_{L+1} without its unit dimension."""
    return forward(model, params, x)[0][-1].squeeze(-1)


def backward(model: MLP, params: Params, zs: list[Tensor], cotangent: Tensor | None = None) -> list[Tensor]:
    """Back-propagated signals [g_1 … g_{L+1}], g_ℓ = ∂(Σᵢ cᵢ f(xᵢ))/∂z_ℓ(xᵢ) row by row, from the
    pre-activations ``zs`` of ``forward``: g_{L+1} = c (…, n, 1), g_ℓ = σ′(z_ℓ) ⊙ a_ℓ g_{ℓ+1} W_ℓ.
    ``cotangent`` None means c = 1, i.e. g_ℓ = δ_ℓ = ∂f/∂z_ℓ (the structured NTK's signals)."""
    g = torch.ones_like(zs[-1]) if cotangent is None else cotangent.unsqueeze(-1)
    gs = [g]
    for ell in range(model.depth, 0, -1):
        a = model.multipliers(ell)[0]
        g = model.activation.derivative(zs[ell - 1]) * (a * (g @ params[f"weight{ell}"]))
        gs.append(g)
    return gs[::-1]


def _parameter_gradients(model: MLP, hs: list[Tensor], gs: list[Tensor]) -> Params:
    """∇_{W_ℓ} = a_ℓ g_{ℓ+1}ᵀ h_ℓ and ∇_{b_ℓ} = c_ℓ Σᵢ g_{ℓ+1,i} for every layer."""
    grads = {}
    for ell in range(model.depth + 1):
        a, c = model.multipliers(ell)
        grads[f"weight{ell}"] = a * (gs[ell].mT @ hs[ell])
        grads[f"bias{ell}"] = c * gs[ell].sum(-2)
    return grads


def pullback(model: MLP, params: Params, x: Tensor) -> tuple[Tensor, Callable[[Tensor], Params]]:
    """(f(x) (…, n), fn) with fn(c) = Σᵢ cᵢ ∇_θ f(xᵢ) per network (a dict like ``params``), c (…, n):
    one forward pass shared by any number of cotangents (e.g. a loss gradient ∂ℓ/∂f)."""
    zs, hs = forward(model, params, x)

    def vjp_fn(cotangent: Tensor) -> Params:
        return _parameter_gradients(model, hs, backward(model, params, zs, cotangent))

    return zs[-1].squeeze(-1), vjp_fn


def vjp(model: MLP, params: Params, x: Tensor, cotangent: Tensor) -> Params:
    """Σᵢ cᵢ ∇_θ f(xᵢ) per network, cotangent c of shape (…, n): a dict of gradients shaped like ``params``."""
    return pullback(model, params, x)[1](cotangent)


def jvp(model: MLP, params: Params, x: Tensor, tangent: Params) -> tuple[Tensor, Tensor]:
    """(f(x), J(x)·t), both (…, n): forward-mode tangent propagation; parameters missing from
    ``tangent`` are held fixed (zero tangent)."""
    h, dh = x, None
    for ell in range(model.depth + 1):
        a, c = model.multipliers(ell)
        z, terms = _dense(model, params, ell, h), []
        if dh is not None:
            terms.append(a * (dh @ params[f"weight{ell}"].mT))
        if f"weight{ell}" in tangent:
            terms.append(a * (h @ tangent[f"weight{ell}"].mT))
        if f"bias{ell}" in tangent:
            terms.append(c * tangent[f"bias{ell}"].unsqueeze(-2))
        dz = sum(terms[1:], terms[0]) if terms else None
        if ell < model.depth:
            h = model.activation.fn(z)
            dh = None if dz is None else model.activation.derivative(z) * dz
    return z.squeeze(-1), (torch.zeros_like(z) if dz is None else dz).squeeze(-1)
