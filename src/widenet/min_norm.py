"""The minimum-norm step from a network to an interpolant of its linearization (Amari §3, §5, §6).

At θ₀, with X = ∂f/∂θ (n × P) over the trained parameters and e = f* − f(θ₀) (Amari eq. 21),

    K = XXᵀ (eqs. 24, 57, 72),   α = K⁻¹e,   Δθ* = Xᵀα = X†e (eqs. 27, 56, 71),

so ‖Δθ*‖₂² = eᵀK⁻¹e. X is never formed: K is the empirical NTK (``tangents.empirical_ntk``; for
``features`` the Gram of the last hidden layer, eq. 32), α comes from a float64 Cholesky solve and Δθ*
from one vjp of f with cotangent α (``models.vjp``: a closed-form reverse pass, O(P) memory), batched over
the leading seed dimension of the parameters. The MLP is ``models.MLP(parameterization="standard")``
without a trained readout bias (Amari eq. 5).

Cases: ``features`` (only the readout v trained, eqs. 16–27), ``shallow`` (all parameters, L = 1,
eqs. 48–64), ``deep2``/``deep3`` (L = 2, 3, eqs. 65–75).
"""

from __future__ import annotations

import torch
from torch.func import functional_call, vjp, vmap

from widenet import models, tangents
from widenet.models import MLP

CASES = {"features": 1, "shallow": 1, "deep2": 2, "deep3": 3}  # case → hidden layers L
BLOCKS = ("readout", "input_layer", "hidden_layers", "biases")
STEP_METHODS = ("backprop", "vjp")

Tensor = torch.Tensor


def block_of(name: str, depth: int) -> str | None:
    """Which of ``BLOCKS`` a raw MLP parameter belongs to (None: the readout bias, absent in Amari eq. 5)."""
    ell = int(name.removeprefix("weight").removeprefix("bias"))
    if name.startswith("bias"):
        return None if ell == depth else "biases"
    return "readout" if ell == depth else "input_layer" if ell == 0 else "hidden_layers"


def trainable_names(model: MLP, case: str) -> list[str]:
    """The parameters θ of the case: the readout v only (``features``) or all but the readout bias."""
    if case == "features":
        return [f"weight{model.depth}"]
    return [name for name, _ in model.named_parameters() if block_of(name, model.depth) is not None]


def gram(model: MLP, case: str, theta: dict[str, Tensor], x: Tensor) -> Tensor:
    """K = XXᵀ per seed: h_L h_Lᵀ for ``features`` (eq. 32), else the empirical NTK (eqs. 57, 72) minus the
    readout-bias term 1 (that bias is not a parameter here)."""
    if case == "features":
        h = models.forward(model, theta, x)[1][-1]  # h_L = σ(z⁽ᴸ⁾): the features X of Amari eq. 17
        return h @ h.mT
    return tangents.empirical_ntk(model, x, params=theta) - 1.0


def solve(K: Tensor, error: Tensor) -> tuple[Tensor, Tensor]:
    """(α = K⁻¹e per seed in float64, True where the Cholesky factorization of K succeeded)."""
    chol, info = torch.linalg.cholesky_ex(K)
    return torch.cholesky_solve(error[..., None].double(), chol)[..., 0], info == 0


def min_norm_step(model: MLP, theta: dict[str, Tensor], names: list[str], x: Tensor, alpha: Tensor,
                  method: str = "backprop") -> dict[str, Tensor]:
    """Δθ* = Xᵀα for each seed (leading dim of ``theta`` and ``alpha``): a vjp of f with cotangent α, O(P) memory.

    ``backprop``: the closed-form reverse pass ``models.vjp``, batched over seeds (matmuls only); ``vjp``:
    ``torch.func.vjp`` vmapped over seeds (the same numbers; its first call costs ~1.3 s of imports per job).
    """
    if method == "vjp":
        def one(th, a):
            frozen = {k: v for k, v in th.items() if k not in names}
            _, pullback = vjp(lambda tr: functional_call(model, {**frozen, **tr}, (x,)), {k: th[k] for k in names})
            return pullback(a)[0]

        return vmap(one)(theta, alpha)
    if method != "backprop":
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(STEP_METHODS)}")
    grads = models.vjp(model, theta, x, alpha)
    return {k: grads[k] for k in names}


def block_squared_norms(step: dict[str, Tensor], depth: int) -> dict[str, Tensor]:
    """‖Δθ‖₂² per seed restricted to each parameter block the step moves (float64), in ``BLOCKS`` order."""
    squares = {}
    for name, d in step.items():
        block = block_of(name, depth)
        squares[block] = squares.get(block, 0.0) + d.flatten(1).double().pow(2).sum(1)
    return {block: squares[block] for block in BLOCKS if block in squares}
