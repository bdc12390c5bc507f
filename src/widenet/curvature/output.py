"""Hessians of the scalar output f(θ; x) (Liu–Zhu–Belkin eq. 1): HVPs, dense Hessians, Lanczos norms.

The spectrum of an output Hessian comes in near ± pairs (at one hidden layer each neuron's block is
[[vσ″ggᵀ, σ′g], [σ′gᵀ, 0]]), so power iteration on H stalls between λ and −λ; Lanczos converges to both ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import func as tf

from widenet import models
from widenet.curvature._common import (DENSE_MAX_PARAMS, Params, Tensor, _check_inputs, _check_method, _Layout,
                                       _parameters, _scalar_output, _second_derivative, _start_vector,
                                       check_twice_differentiable)
from widenet.curvature.lanczos import LanczosResult, lanczos
from widenet.models import MLP


def _output_hvp(model: torch.nn.Module, layout: _Layout) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """(θ (P,), x (d,), v (P,)) → ∇²_θ f(θ; x)·v by forward-over-reverse (jvp of grad)."""
    grad_f = tf.grad(_scalar_output(model, layout))

    def hvp_one(theta: Tensor, x: Tensor, v: Tensor) -> Tensor:
        return tf.jvp(lambda t: grad_f(t, x), (theta,), (v,))[1]

    return hvp_one


@dataclass(frozen=True)
class _MLPPoint:
    """What every HVP at one parameter point shares (computed once per Lanczos run): layer inputs h_ℓ,
    σ′(z_ℓ), σ″(z_ℓ), the back-propagated signals g_ℓ = ∂f/∂z_ℓ (g_{L+1} = 1) and u_ℓ = a_ℓ g_{ℓ+1}W_ℓ
    (so that g_ℓ = σ′(z_ℓ) ⊙ u_ℓ); lists indexed by layer ℓ = 0 … L (entry 0 of the z-lists unused)."""

    hs: list
    slopes: list
    curvatures: list
    gs: list
    us: list

    @classmethod
    def at(cls, model: MLP, params: Params, x: Tensor) -> "_MLPPoint":
        zs, hs = models.forward(model, params, x)
        slopes = [None] + [model.activation.derivative(z) for z in zs[:-1]]
        curvatures = [None] + [_second_derivative(model.activation, z) for z in zs[:-1]]
        gs, us = [None] * (model.depth + 2), [None] * (model.depth + 1)
        gs[-1] = torch.ones_like(zs[-1])
        for ell in range(model.depth, 0, -1):
            us[ell] = model.multipliers(ell)[0] * (gs[ell + 1] @ params[f"weight{ell}"])
            gs[ell] = slopes[ell] * us[ell]
        return cls(hs, slopes, curvatures, gs, us)


def _mlp_output_hvp(model: MLP, params: Params, point: _MLPPoint, v: Params, out: Params) -> None:
    """H_i v_i for every input row of an MLP in closed form, written into ``out``: Pearlmutter's
    R-operator on ``models.forward``/``backward`` (the primal pass is ``point``, shared by all HVPs).
    Forward tangents dz_{ℓ+1} = a(dW_ℓ h_ℓ + W_ℓ dh_ℓ) + c·db_ℓ, dh_ℓ = σ′(z_ℓ)dz_ℓ; backward tangents
    dg_ℓ = σ″(z_ℓ)dz_ℓ⊙u_ℓ + σ′(z_ℓ)⊙a(dg_{ℓ+1}W_ℓ + g_{ℓ+1}dW_ℓ); then
    (Hv)_{W_ℓ} = a(dg_{ℓ+1} h_ℓᵀ + g_{ℓ+1} dh_ℓᵀ) in one batched matmul and (Hv)_{b_ℓ} = c·dg_{ℓ+1}.
    ``v`` and ``out`` have a per-input dimension n before each parameter's shape (after any ensemble one)."""
    hs = point.hs
    dzs, dhs = [None], [None]  # dzs[ℓ] = dz_ℓ, dhs[ℓ] = dh_ℓ
    for ell in range(model.depth + 1):
        a, c = model.multipliers(ell)
        dz = torch.einsum("...noi,...ni->...no", v[f"weight{ell}"], hs[ell]).mul_(a).add_(v[f"bias{ell}"], alpha=c)
        if dhs[-1] is not None:
            dz.add_(dhs[-1] @ params[f"weight{ell}"].mT, alpha=a)
        dzs.append(dz)
        dhs.append(point.slopes[ell + 1] * dz if ell < model.depth else None)
    dg = torch.zeros_like(dzs[-1])
    for ell in range(model.depth, -1, -1):
        a, c = model.multipliers(ell)
        g = point.gs[ell + 1].expand_as(dg)
        if dhs[ell] is None:
            left, right = (a * dg).unsqueeze(-1), hs[ell].unsqueeze(-2)
        else:
            left, right = torch.stack([a * dg, a * g], -1), torch.stack([hs[ell].expand_as(dhs[ell]), dhs[ell]], -2)
        torch.matmul(left, right, out=out[f"weight{ell}"])
        torch.mul(dg, c, out=out[f"bias{ell}"])
        if ell > 0:
            du = (dg @ params[f"weight{ell}"]).add_(torch.einsum("...no,...noi->...ni", g, v[f"weight{ell}"])).mul_(a)
            dg = (point.curvatures[ell] * dzs[ell]).mul_(point.us[ell]).add_(point.slopes[ell] * du)


def _batched_output_hvp(model, layout, theta, x, ensemble: bool) -> Callable[[Tensor], Tensor]:
    """V (…, n, P) → H_i V_i for every input row i (and network e when ``ensemble``); the closed form
    for ``MLP``, forward-over-reverse autograd for any other module."""
    if isinstance(model, MLP):
        params = layout.unflatten(theta)
        point = _MLPPoint.at(model, params, x)

        def matvec(v: Tensor, out: Tensor | None = None) -> Tensor:
            out = torch.empty_like(v) if out is None else out
            _mlp_output_hvp(model, params, point, layout.unflatten(v), layout.unflatten(out))
            return out

        matvec.accepts_out = True  # Lanczos recycles a retired vector as the output buffer
        return matvec
    over_inputs = tf.vmap(_output_hvp(model, layout), in_dims=(None, 0, 0))
    if ensemble:
        over_inputs = tf.vmap(over_inputs, in_dims=(0, None, 0))
    return lambda v: over_inputs(theta, x, v)


def hvp(model: torch.nn.Module, x: Tensor, v: Params, params: Params | None = None) -> Params:
    """Hessian-vector products ∇²_θ f(θ; x_i)·v of the scalar output, one per input row x_i.

    ``v`` has the parameters' shapes, or a leading (n,) dimension to give each input its own vector.
    With an ensemble dimension E in ``params`` (and then in ``v`` before n) the result is (E, n, …).
    Returns a dict like ``params`` with the leading (n,) or (E, n) dimensions.
    """
    layout, theta, ensemble = _parameters(model, params)
    x = _check_inputs(model, layout, theta, x)
    flat_v = layout.flatten_tail(v)
    lead = (theta.shape[0], x.shape[0]) if ensemble else (x.shape[0],)
    flat_v = flat_v.to(theta).expand(*lead, layout.size)
    return layout.unflatten(_batched_output_hvp(model, layout, theta, x, ensemble)(flat_v))


def dense_output_hessian(model: torch.nn.Module, x: Tensor, params: Params | None = None) -> Tensor:
    """The (n, P, P) output Hessians (or (E, n, P, P)) as dense matrices: for validation on small nets."""
    layout, theta, ensemble = _parameters(model, params)
    x = _check_inputs(model, layout, theta, x)
    per_input = tf.vmap(tf.hessian(_scalar_output(model, layout)), in_dims=(None, 0))
    return (tf.vmap(per_input, in_dims=(0, None)) if ensemble else per_input)(theta, x)


def output_hessian_eigenpairs(model: torch.nn.Module, x: Tensor, *, params: Params | None = None, k: int = 1,
                              tol: float = 1e-6, max_iter: int = 500, vectors: bool = False,
                              generator: torch.Generator | None = None) -> LanczosResult:
    """The k eigenvalues of largest |λ| of each output Hessian ∇²_θ f(θ; x_i) by batched Lanczos on HVPs.

    ``values`` has shape (n, k), or (E, n, k) with an ensemble dimension in ``params``; ``vectors``
    (flat, in ``named_parameters`` order) (n, k, P) or (E, n, k, P); see ``lanczos`` for ``tol``.
    """
    check_twice_differentiable(model)
    layout, theta, ensemble = _parameters(model, params)
    x = _check_inputs(model, layout, theta, x)
    lead = (theta.shape[0], x.shape[0]) if ensemble else (x.shape[0],)
    matvec = _batched_output_hvp(model, layout, theta, x, ensemble)
    v0 = _start_vector((*lead, layout.size), theta, generator)
    with torch.no_grad():
        return lanczos(matvec, v0, k=k, tol=tol, max_iter=max_iter, vectors=vectors)


def output_hessian_norm(model: torch.nn.Module, x: Tensor, *, params: Params | None = None, method: str = "auto",
                        tol: float = 1e-6, max_iter: int = 500, generator: torch.Generator | None = None) -> Tensor:
    """Spectral norms ‖∇²_θ f(θ; x_i)‖₂ of the output Hessian, one per input row: (n,) or (E, n).

    ``method``: ``lanczos`` (HVPs only; converged to relative accuracy ``tol``, see the module docstring),
    ``dense`` (the P × P Hessians and ``eigvalsh``; small nets only) or ``auto`` (dense up to
    ``DENSE_MAX_PARAMS`` parameters, else Lanczos).
    """
    _check_method(method)
    check_twice_differentiable(model)
    if method == "auto":
        method = "dense" if _Layout.of(model).size <= DENSE_MAX_PARAMS else "lanczos"
    if method == "dense":
        with torch.no_grad():
            return torch.linalg.eigvalsh(dense_output_hessian(model, x, params)).abs().amax(-1)
    result = output_hessian_eigenpairs(model, x, params=params, tol=tol, max_iter=max_iter, generator=generator)
    return result.values[..., 0].abs()
