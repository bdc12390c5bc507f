"""Orthogonality of neuron gradients (Liu–Zhu–Belkin Theorem 3, eqs. 11–14, 22, Appendix B)."""

from __future__ import annotations

import torch

from widenet import models
from widenet.curvature._common import Params, Tensor
from widenet.models import MLP


def _check_layer(model: torch.nn.Module, layer) -> None:
    if not isinstance(model, MLP):
        raise ValueError(f"model must be a widenet.models.MLP (its hidden layers are named), got {type(model).__name__}")
    if not isinstance(layer, int) or isinstance(layer, bool) or not 1 <= layer <= model.depth:
        raise ValueError(f"layer must be an integer in 1…{model.depth} (hidden layers, counted from 1), got {layer!r}")


def _neuron_gram(model: MLP, params: Params, x: Tensor, layer: int) -> Tensor:
    """G⁽ˡ⁾_ij = ⟨∇_θ z⁽ˡ⁾_i, ∇_θ z⁽ˡ⁾_j⟩ per input, (…, n, m_l, m_l), by the exact recursion

        G⁽¹⁾ = (a₀²|x|² + c₀²)·I,
        G⁽ˡ⁺¹⁾ = (a_l²|h_l|² + c_l²)·I + a_l²·W_l S_l G⁽ˡ⁾ S_l W_lᵀ,   S_l = diag σ′(z⁽ˡ⁾), h_l = σ(z⁽ˡ⁾):

    the identity is the private part (row i of W_l and b_l, eq. 11), the second term the shared part
    ∇_{θ⁽ˡ⁻¹⁾} (Liu–Zhu–Belkin eqs. 11, 13 and Appendix B; a, c the layer's weight and bias multipliers).
    """
    zs, hs = models.forward(model, params, x)
    gram = None
    for ell in range(layer):
        a, c = model.multipliers(ell)
        eye = torch.eye(model.dims[ell + 1], dtype=x.dtype, device=x.device)
        private = (a * a * (hs[ell] * hs[ell]).sum(-1) + c * c)[..., None, None] * eye
        if gram is None:
            gram = private
            continue
        slope = model.activation.derivative(zs[ell - 1])
        weight = params[f"weight{ell}"].unsqueeze(-3)  # broadcast over inputs
        gram = private + a * a * (weight @ (slope[..., :, None] * gram * slope[..., None, :]) @ weight.mT)
    return gram.expand(*params["weight0"].shape[:-2], *gram.shape[-3:])  # layer 1 does not see the ensemble


def neuron_gradient_gram(model: MLP, x: Tensor, layer: int, params: Params | None = None) -> Tensor:
    """Gram matrices ⟨∇_θ z⁽ˡ⁾_i(x), ∇_θ z⁽ˡ⁾_j(x)⟩ of the pre-activation neurons of hidden layer ``layer``
    (counted from 1) w.r.t. all parameters, one (m_l × m_l) matrix per input: (n, m, m) or (E, n, m, m)."""
    _check_layer(model, layer)
    own = {name: p.detach() for name, p in model.named_parameters()}
    params = own if params is None else params
    with torch.no_grad():
        return _neuron_gram(model, params, x.to(own["weight0"]), layer)


def gradient_orthogonality(model: MLP, x: Tensor, layer: int, params: Params | None = None) -> Tensor:
    """Mean |cos θ_ij| over all neuron pairs i < j of hidden layer ``layer`` and all inputs (eq. 22 with its
    denominator |∇α̃_i||∇α̃_j|); shape () or (E,). Layer 1 gives 0 exactly: its neurons share no parameter."""
    gram = neuron_gradient_gram(model, x, layer, params)
    norms = gram.diagonal(dim1=-2, dim2=-1).sqrt()
    cos = gram / (norms[..., :, None] * norms[..., None, :])
    m = cos.shape[-1]
    if m < 2:
        raise ValueError(f"layer {layer} has {m} neuron; eq. 22 needs at least two")
    off_diagonal = ~torch.eye(m, dtype=torch.bool, device=cos.device)
    return (cos.abs().masked_fill(~off_diagonal, 0.0).sum((-2, -1)) / (m * (m - 1))).mean(-1)
