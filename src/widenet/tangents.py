"""Empirical neural tangent kernel Θ̂(x, x′) = ⟨∇_θ f(x), ∇_θ f(x′)⟩ of a scalar-output model.

The NTK of Jacot et al. 2018 at the current parameters, three ways (Novak et al. 2022,
"Fast finite width neural tangent kernel", ICML; the torch.func NTK tutorial):

- ``jacobian``: per-sample Jacobians ``vmap(jacrev(...))``, contracted parameter by parameter.
- ``ntvp``: NTK-vector products, a vjp on x1 followed by a jvp on x2, vmapped over the basis of
  output space (never stores a Jacobian).
- ``structured``: closed form for :class:`widenet.models.MLP`.  With
  z_{ℓ+1} = a_ℓ W_ℓ h_ℓ + c_ℓ b_ℓ (a_ℓ, c_ℓ the multipliers, h_0 = x, h_ℓ = σ(z_ℓ)) and δ_ℓ = ∂f/∂z_ℓ,
  ∇_{W_ℓ} f = a_ℓ δ_{ℓ+1} h_ℓᵀ and ∇_{b_ℓ} f = c_ℓ δ_{ℓ+1}, hence

      Θ̂ = Σ_ℓ (a_ℓ² h_ℓ h_ℓ′ᵀ + c_ℓ²) ⊙ δ_{ℓ+1} δ_{ℓ+1}′ᵀ,

  the "structured derivatives" factorization of Novak et al. 2022 for dense layers.  One
  forward pass and one closed-form backward pass (δ_{L+1} = 1,
  δ_ℓ = σ′(z_ℓ) ⊙ a_ℓ W_ℓᵀ δ_{ℓ+1}; ``models.forward``/``models.backward``): batched matmuls only,
  no autograd.

All methods return a detached (n1 × n2) tensor in the model's dtype.
"""

from __future__ import annotations

import torch
from torch import func as tf

from widenet import models
from widenet.models import MLP

METHODS = ("auto", "jacobian", "ntvp", "structured")

Tensor = torch.Tensor


def empirical_ntk(
    model: torch.nn.Module,
    x1: Tensor,
    x2: Tensor | None = None,
    *,
    method: str = "auto",
    params: dict[str, Tensor] | None = None,
) -> Tensor:
    """Empirical NTK Θ̂(x1, x2) (n1 × n2) of ``model``, whose output is one scalar per input row.

    ``x2=None`` means x2 = x1 (then the forward/backward work is shared).  ``method`` is one of
    ``auto`` (``structured`` for :class:`~widenet.models.MLP`, else ``jacobian``), ``jacobian``,
    ``ntvp``, ``structured``; see the module docstring.  ``params`` replaces the model's parameters;
    stacked parameters with a leading ensemble dimension (``MLP.sample_parameters(n)``) give the
    (n × n1 × n2) NTKs of the whole ensemble in one vmapped call.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    if method == "auto":
        method = "structured" if isinstance(model, MLP) else "jacobian"
    if method == "structured" and not isinstance(model, MLP):
        raise TypeError(f"method 'structured' needs a widenet.models.MLP, got {type(model).__name__}")
    x1 = _as_model_input(model, x1)
    x2 = None if x2 is None else _as_model_input(model, x2)
    own = {name: p.detach() for name, p in model.named_parameters()}
    params = own if params is None else {name: params[name].detach() for name in own}
    kernel = {"structured": _structured_ntk, "jacobian": _jacobian_ntk, "ntvp": _ntvp_ntk}[method]
    extra = {params[name].ndim - p.ndim for name, p in own.items()}
    if extra == {0}:
        return kernel(model, params, x1, x2)
    if extra == {1}:
        return tf.vmap(lambda p: kernel(model, p, x1, x2))(params)
    raise ValueError("params must match the model's parameter shapes, optionally with one leading ensemble dimension")


def _as_model_input(model: torch.nn.Module, x: Tensor) -> Tensor:
    p = next(model.parameters())
    return x.detach().to(dtype=p.dtype, device=p.device)


# --- generic: torch.func ----------------------------------------------------------------------
def _jacobian_ntk(model: torch.nn.Module, params: dict[str, Tensor], x1: Tensor, x2: Tensor | None) -> Tensor:
    """Σ_p J_p(x1) J_p(x2)ᵀ from per-sample Jacobians (torch.func NTK tutorial)."""

    def single(p: dict[str, Tensor], x: Tensor) -> Tensor:
        return models.module_outputs(model, p, x.unsqueeze(0)).squeeze(0)

    per_sample_jacobian = tf.vmap(tf.jacrev(single), (None, 0))
    jac1 = per_sample_jacobian(params, x1)
    jac2 = jac1 if x2 is None else per_sample_jacobian(params, x2)
    return sum(torch.einsum("nf,mf->nm", jac1[k].flatten(1), jac2[k].flatten(1)) for k in params)


def _ntvp_ntk(model: torch.nn.Module, params: dict[str, Tensor], x1: Tensor, x2: Tensor | None) -> Tensor:
    """Rows e_iᵀ J(x1) J(x2)ᵀ as jvp(f(x2), vjp(f(x1), e_i)), vmapped over e_i (torch.func tutorial)."""
    x2 = x1 if x2 is None else x2
    out1, vjp_fn = tf.vjp(lambda p: models.module_outputs(model, p, x1), params)

    def row(e: Tensor) -> Tensor:
        (tangent,) = vjp_fn(e)
        return tf.jvp(lambda p: models.module_outputs(model, p, x2), (params,), (tangent,))[1]

    return tf.vmap(row)(torch.eye(out1.numel(), dtype=out1.dtype, device=out1.device))


# --- structured: closed form for MLP ----------------------------------------------------------
def _layer_signals(model: MLP, params: dict[str, Tensor], x: Tensor) -> tuple[list[Tensor], list[Tensor]]:
    """Layer inputs [h_0 … h_L] and back-propagated signals [δ_1 … δ_L] (δ_{L+1} = 1 is implicit),
    from ``models.forward`` and ``models.backward``."""
    zs, hs = models.forward(model, params, x)
    return hs, models.backward(model, params, zs)[:-1]


def _structured_ntk(model: MLP, params: dict[str, Tensor], x1: Tensor, x2: Tensor | None) -> Tensor:
    """Σ_ℓ (a_ℓ² h_ℓ h_ℓ′ᵀ + c_ℓ²) ⊙ δ_{ℓ+1} δ_{ℓ+1}′ᵀ (Novak et al. 2022, structured derivatives)."""
    n1, shared = x1.shape[0], x2 is None
    with torch.no_grad():
        hs, deltas = _layer_signals(model, params, x1 if shared else torch.cat([x1, x2]))
        ntk = _input_gram(model, model.depth, *_halves(hs[-1], n1, shared))  # readout: δ_{L+1} = 1
        for ell in range(model.depth):
            d1, d2 = _halves(deltas[ell], n1, shared)
            ntk = torch.addcmul(ntk, _input_gram(model, ell, *_halves(hs[ell], n1, shared)), d1 @ d2.T)
    return ntk


def _halves(t: Tensor, n1: int, shared: bool) -> tuple[Tensor, Tensor]:
    """(rows of x1, rows of x2) of a signal computed on x1 (shared) or on cat(x1, x2)."""
    return (t, t) if shared else (t[:n1], t[n1:])


def _input_gram(model: MLP, ell: int, h1: Tensor, h2: Tensor) -> Tensor:
    """a_ℓ² h1 h2ᵀ + c_ℓ²: the Gram of layer ℓ's gradients w.r.t. (W_ℓ, b_ℓ) per unit of δ."""
    a, c = model.multipliers(ell)
    return torch.addmm(h1.new_full((), c * c), h1, h2.T, alpha=a * a)
