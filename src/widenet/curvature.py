"""Curvature of models by Hessian-vector products: output and loss Hessians, Lanczos, Taylor terms.

Everything here works on a parameter dict (``named_parameters`` of any ``torch.nn.Module``) through
``torch.func`` and never forms a P × P matrix, except ``method="dense"`` (validation on small nets):

- ``hvp``: H_i v with H_i = ∇²_θ f(θ; x_i), the Hessian of the scalar **output** at input row x_i
  (Liu–Zhu–Belkin eq. 1), by forward-over-reverse differentiation ``jvp(grad f)``, vmapped over inputs
  (and over networks when ``params`` has a leading ensemble dimension).
- ``output_hessian_norm``: ‖H_i‖₂ per input by batched Lanczos on those HVPs. The spectrum of an output
  Hessian comes in near ± pairs (at one hidden layer each neuron's block is [[vσ''ggᵀ, σ'g], [σ'gᵀ, 0]]),
  so power iteration on H stalls between λ and −λ; Lanczos converges to both ends at once.
- ``gradient_orthogonality``: Liu–Zhu–Belkin eq. 22, the mean |cos| between the parameter gradients of two
  pre-activation neurons of one hidden layer, from the exact gradient-Gram recursion of an MLP.
- ``loss_hessian_eigenvalues`` / ``loss_hessian_trace`` / ``loss_hessian_density``: the top-k eigenvalues
  (Lanczos), the trace (Hutchinson 1990) and the spectral density (stochastic Lanczos quadrature, Golub &
  Meurant; Ghorbani et al. 2019) of the Hessian of any loss of any module.
- ``single_layer_hessian_norm`` and ``expected_single_layer_hessian_norm``: the exact ‖H‖ of a one-hidden-
  layer ``ntk`` MLP (block-diagonal by neuron, each block rank 2) and its expectation over the init law.

Lanczos convergence (stated tolerance): the Ritz value θ of the wanted eigenvalue is accepted when its
residual ‖Hy − θy‖ = |β_j s_j| ≤ tol·|θ| (Parlett, "The symmetric eigenvalue problem", §13.2); then
|θ − λ| ≤ tol·|θ| for the nearest eigenvalue λ. This is ARPACK's (``scipy.sparse.linalg.eigsh``) criterion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy import special
from torch import func as tf

from widenet import activations, models
from widenet.models import MLP

Tensor = torch.Tensor
Params = dict[str, Tensor]

METHODS = ("auto", "lanczos", "dense")
DENSE_MAX_PARAMS = 1024  # ``auto`` uses the dense Hessian up to this many parameters
NOT_TWICE_DIFFERENTIABLE = ("relu",)


# --- arguments ----------------------------------------------------------------------------------
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


# --- Hessian-vector products ----------------------------------------------------------------------
def _output_hvp(model: torch.nn.Module, layout: _Layout) -> Callable[[Tensor, Tensor, Tensor], Tensor]:
    """(θ (P,), x (d,), v (P,)) → ∇²_θ f(θ; x)·v by forward-over-reverse (jvp of grad)."""
    grad_f = tf.grad(_scalar_output(model, layout))

    def hvp_one(theta: Tensor, x: Tensor, v: Tensor) -> Tensor:
        return tf.jvp(lambda t: grad_f(t, x), (theta,), (v,))[1]

    return hvp_one


def _second_derivative(act: activations.Activation, z: Tensor) -> Tensor:
    """σ″(z) elementwise by autograd through σ′ (plain autograd: torch.func's grad costs ~1.2 s on first use
    in every job process); 0 where σ′ is piecewise constant (relu, linear)."""
    with torch.enable_grad():
        t = z.detach().requires_grad_(True)
        slope = act.derivative(t)
        if not slope.requires_grad:
            return torch.zeros_like(z)
        return torch.autograd.grad(slope.sum(), t)[0]


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


# --- Lanczos --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class LanczosResult:
    """Wanted Ritz values (…, k) and, when asked, their Ritz vectors (…, k, P); the final tridiagonal
    T_j's eigenvalues (…, j) and squared first eigenvector components (…, j) (the Gauss quadrature
    nodes and weights of SLQ); the number of iterations j; the relative residuals (…, k)."""

    values: Tensor
    vectors: Tensor | None
    ritz_values: Tensor
    weights: Tensor
    iterations: int
    residuals: Tensor


def _lanczos_steps(matvec, v0: Tensor, reorthogonalize: bool):
    """Yield (q_j, α_j, β_j) of the Lanczos recurrence β_j q_{j+1} = H q_j − α_j q_j − β_{j−1} q_{j−1},
    batched over the leading dimensions of v0. With ``reorthogonalize`` every new vector is
    orthogonalized twice against all previous ones (classical Gram–Schmidt, "twice is enough")."""
    tiny = torch.finfo(v0.dtype).tiny
    q, q_prev, beta_prev = v0 / v0.norm(dim=-1, keepdim=True), torch.zeros_like(v0), torch.zeros_like(v0[..., 0])
    basis, spare = [], None
    recycle = getattr(matvec, "accepts_out", False) and not reorthogonalize
    while True:  # in-place updates and recycled buffers: on large P memory traffic costs as much as the HVP
        w = matvec(q, out=spare) if recycle else matvec(q)
        alpha = torch.linalg.vecdot(w, q)
        w.addcmul_(q, alpha[..., None], value=-1.0).addcmul_(q_prev, beta_prev[..., None], value=-1.0)
        if reorthogonalize:
            basis.append(q)
            stacked = torch.stack(basis, dim=-2)
            for _ in range(2):
                w = w - torch.einsum("...j,...jp->...p", torch.einsum("...jp,...p->...j", stacked, w), stacked)
        beta = torch.linalg.vector_norm(w, dim=-1)
        yield q, alpha, beta
        # an invariant subspace (β = 0) continues with q = 0: a decoupled zero block in T
        spare, q_prev, q = q_prev, q, w.div_(torch.where(beta > tiny, beta, torch.inf)[..., None])
        beta_prev = beta


def _tridiagonal(alphas: list[Tensor], betas: list[Tensor]) -> Tensor:
    t = torch.diag_embed(torch.stack(alphas, -1))
    if len(betas) > 1:
        b = torch.stack(betas[:-1], -1)
        t = t + torch.diag_embed(b, 1) + torch.diag_embed(b, -1)
    return t


def _wanted(theta: Tensor, which: str, k: int) -> Tensor:
    """Indices (…, k) of the wanted Ritz values: largest |θ| (``magnitude``) or largest θ (``largest``)."""
    k = min(k, theta.shape[-1])
    key = theta.abs() if which == "magnitude" else theta
    return key.topk(k, dim=-1).indices


def lanczos(matvec: Callable[[Tensor], Tensor], v0: Tensor, *, which: str = "magnitude", k: int = 1,
            tol: float | None = 1e-6, max_iter: int = 500, reorthogonalize: bool = False,
            vectors: bool = False) -> LanczosResult:
    """Batched Lanczos for a symmetric operator ``matvec`` acting on the last dimension of ``v0``.

    Stops when every wanted Ritz value (``which`` = ``magnitude``: the k of largest |θ|; ``largest``:
    the k largest) has residual |β_j s_j| ≤ tol·|θ| in every batch entry, at an invariant subspace
    (β_j = 0), or after ``max_iter`` steps (``tol=None``: exactly ``max_iter`` steps, as SLQ wants).
    Without ``reorthogonalize`` only three vectors are kept: orthogonality is lost once a Ritz value
    converges, which duplicates it but leaves the extreme Ritz values correct (Paige 1976).
    Ritz vectors (``vectors=True``) then come from a second pass over the same recurrence.
    """
    if which not in ("magnitude", "largest"):
        raise ValueError(f"unknown which {which!r}; allowed: magnitude, largest")
    alphas, betas, basis, checked = [], [], [], 0
    for j, (q, alpha, beta) in enumerate(_lanczos_steps(matvec, v0, reorthogonalize), start=1):
        alphas.append(alpha), betas.append(beta)
        if reorthogonalize and vectors:
            basis.append(q)
        # T_j's eigenproblem costs O(j³) per batch entry: test convergence every ~j/8 steps (≤ 12 % extra steps)
        if j - checked < max(1, j // 8) and j < max_iter:
            continue
        checked = j
        theta, s = torch.linalg.eigh(_tridiagonal(alphas, betas))
        idx = _wanted(theta, which, k)
        values = theta.gather(-1, idx)
        resid = (beta[..., None] * s[..., -1, :].gather(-1, idx)).abs() / values.abs().clamp_min(torch.finfo(theta.dtype).tiny)
        invariant = bool((beta <= 1e-12 * theta.abs().amax(-1).clamp_min(1e-300)).all())
        done = tol is not None and j >= k and bool((resid <= tol).all())
        if done or invariant or j >= max_iter:
            break
    coeffs = s.gather(-1, idx[..., None, :].expand(*s.shape[:-1], idx.shape[-1]))  # (…, j, k)
    ritz = None
    if vectors:
        qs = basis if basis else (q for q, _, _ in _lanczos_steps(matvec, v0, False))
        ritz = sum(c[..., None] * q[..., None, :] for c, q in zip(coeffs.unbind(-2), qs))
    return LanczosResult(values, ritz, theta, s[..., 0, :] ** 2, j, resid)


def _start_vector(shape, like: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        generator = torch.Generator(device=like.device).manual_seed(0)
    return torch.randn(*shape, generator=generator, dtype=like.dtype, device=like.device)


# --- output Hessians ----------------------------------------------------------------------------
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


# --- loss Hessians ------------------------------------------------------------------------------
def _loss_hvp(model, x: Tensor, y: Tensor, loss: Callable, params: Params | None):
    """(layout, θ, ensemble, V ↦ ∇²_θ loss(model(θ; x), y)·V) for V of shape (…, P)."""
    if not callable(loss):
        raise ValueError(f"loss must be a callable (outputs, targets) -> scalar, got {loss!r}")
    layout, theta, ensemble = _parameters(model, params)
    if x.ndim < 1 or y.shape[:1] != x.shape[:1]:
        raise ValueError(f"x and y must have the same number of rows, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    x = x.to(dtype=theta.dtype, device=theta.device)

    def value(t: Tensor) -> Tensor:
        out = loss(tf.functional_call(model, layout.unflatten(t), (x,)), y)
        if out.numel() != 1:
            raise ValueError(f"loss must return a scalar, got shape {tuple(out.shape)}")
        return out.reshape(())

    # reverse-over-reverse: forward-mode AD through torch's fused losses fails (mse_loss: "ZeroTensors
    # are immutable", torch 2.13), while the double backward works for every differentiable loss
    grad_loss = tf.grad(value)
    one = tf.grad(lambda t, v: torch.dot(grad_loss(t), v), argnums=0)
    batched = tf.vmap(one, in_dims=(None, 0))  # over probe vectors
    if ensemble:
        batched = tf.vmap(batched, in_dims=(0, 0))
    return layout, theta, ensemble, lambda v: batched(theta, v)


def loss_hessian_eigenvalues(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, k: int = 1,
                             params: Params | None = None, tol: float = 1e-6, max_iter: int = 300,
                             generator: torch.Generator | None = None) -> Tensor:
    """The k largest eigenvalues (descending) of the Hessian of ``loss(model(x), y)`` w.r.t. all parameters.

    Lanczos with full reorthogonalization on HVPs (so that converged eigenvalues are not duplicated),
    stopped at relative residual ``tol``. Shape (k,), or (E, k) with an ensemble dimension in ``params``.
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], 1) if ensemble else (1,)
    v0 = _start_vector((*lead, layout.size), theta, generator)
    with torch.no_grad():
        res = lanczos(matvec, v0, which="largest", k=k, tol=tol, max_iter=min(max_iter, layout.size), reorthogonalize=True)
    return res.values[..., 0, :]


@dataclass(frozen=True)
class TraceEstimate:
    """Hutchinson's estimate of tr H and its standard error over the probes."""

    estimate: Tensor
    stderr: Tensor


def _rademacher(shape, like: Tensor, generator: torch.Generator | None) -> Tensor:
    return torch.sign(_start_vector(shape, like, generator)).add_(0.0)


def loss_hessian_trace(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, n_probes: int = 64,
                       params: Params | None = None, generator: torch.Generator | None = None) -> TraceEstimate:
    """tr H ≈ (1/S)·Σ_s zₛᵀHzₛ with Rademacher zₛ (Hutchinson 1990); unbiased, variance 2(‖H‖_F² − Σ H_ii²)/S.

    The S probes go through one vmapped HVP. Shapes () or (E,) for an ensemble.
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], n_probes) if ensemble else (n_probes,)
    z = _rademacher((*lead, layout.size), theta, generator)
    with torch.no_grad():
        quad = (z * matvec(z)).sum(-1)
    return TraceEstimate(quad.mean(-1), quad.std(-1) / math.sqrt(n_probes))


@dataclass(frozen=True)
class SpectralDensity:
    """Stochastic Lanczos quadrature: per probe, Gauss nodes (…, probes, m) and weights summing to 1."""

    nodes: Tensor
    weights: Tensor

    def smoothed(self, grid: Tensor, bandwidth: float) -> Tensor:
        """The density Σ_s Σ_j w_sj·N(grid; node_sj, bandwidth²) / probes on ``grid`` (integrates to 1)."""
        z = (grid[..., None, None, :] - self.nodes[..., None]) / bandwidth
        kernel = torch.exp(-0.5 * z * z) / (bandwidth * math.sqrt(2 * math.pi))
        return (self.weights[..., None] * kernel).sum(-2).mean(-2)


def loss_hessian_density(model: torch.nn.Module, x: Tensor, y: Tensor, loss: Callable, *, n_probes: int = 8,
                         n_iter: int = 64, params: Params | None = None,
                         generator: torch.Generator | None = None) -> SpectralDensity:
    """Spectral density (1/P)·Σ_i δ(λ − λ_i) of the loss Hessian by stochastic Lanczos quadrature.

    For a unit probe v, ``n_iter`` = m Lanczos steps give T_m = SΘSᵀ, and Σ_j (S_0j)² g(θ_j) is the
    m-node Gauss quadrature of vᵀg(H)v, exact for polynomials g of degree < 2m (Golub & Meurant 2010;
    Ghorbani, Krishnan & Xiao 2019). Gaussian probes make E[vᵀg(H)v] = (1/P)·tr g(H).
    """
    layout, theta, ensemble, matvec = _loss_hvp(model, x, y, loss, params)
    lead = (theta.shape[0], n_probes) if ensemble else (n_probes,)
    v0 = _start_vector((*lead, layout.size), theta, generator)
    with torch.no_grad():
        res = lanczos(matvec, v0, tol=None, max_iter=min(n_iter, layout.size), reorthogonalize=True)
    return SpectralDensity(res.ritz_values, res.weights)


# --- gradient orthogonality (Liu–Zhu–Belkin Theorem 3, eq. 22) ------------------------------------
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


# --- one hidden layer: exact ‖H‖ and its finite-width expectation ---------------------------------
def _sigma_derivatives(act: activations.Activation, u: Tensor) -> tuple[Tensor, Tensor]:
    """(σ′(u), σ″(u))."""
    return act.derivative(u), _second_derivative(act, u)


def _block_top(v: Tensor, d1: Tensor, d2: Tensor, s2: Tensor) -> Tensor:
    """Top |eigenvalue| of [[v σ″ ggᵀ, σ′ g], [σ′ gᵀ, 0]] with |g|² = s²: (|vσ″|s² + √(v²σ″²s⁴ + 4σ′²s²))/2."""
    a = (v * d2).abs() * s2
    return 0.5 * (a + torch.sqrt(a * a + 4 * d1 * d1 * s2))


def single_layer_hessian_norm(model: MLP, x: Tensor, params: Params | None = None) -> Tensor:
    """Exact ‖∇²_θ f(θ; x_i)‖₂ of a one-hidden-layer MLP, (n,) or (E, n), from its neuron blocks.

    With u_i = a₀w_i·x + c₀b_i and g = (a₀x, c₀), f's Hessian is block-diagonal by neuron: in the
    variables (w_i, b_i, v_i) the block is a₁·[[v_i σ″(u_i) ggᵀ, σ′(u_i) g], [σ′(u_i) gᵀ, 0]], of rank 2,
    so ‖H‖ = a₁·max_i (|v_iσ″|s² + √(v_i²σ″²s⁴ + 4σ′²s²))/2 with s² = |g|² (Liu–Zhu–Belkin §2, eq. 4).
    """
    if not isinstance(model, MLP) or model.depth != 1:
        raise ValueError("model must be a widenet.models.MLP with depth 1")
    check_twice_differentiable(model)
    own = dict(model.named_parameters())
    params = own if params is None else params
    (a0, c0), (a1, _) = model.multipliers(0), model.multipliers(1)
    x = x.to(own["weight0"])
    s2 = a0 * a0 * (x * x).sum(-1, keepdim=True) + c0 * c0  # (n, 1)
    u = a0 * torch.einsum("nd,...md->...nm", x, params["weight0"]) + c0 * params["bias0"][..., None, :]
    d1, d2 = _sigma_derivatives(model.activation, u.reshape(-1))
    v = params["weight1"][..., None, 0, :]  # (…, 1, m): the readout row
    return a1 * _block_top(v, d1.reshape(u.shape), d2.reshape(u.shape), s2).amax(-1)


def expected_single_layer_hessian_norm(widths, activation: str, *, s2: float, weight_std: float = 1.0,
                                       n_u: int = 4001, n_t: int = 4001) -> np.ndarray:
    """E‖H‖ of a one-hidden-layer ``ntk`` MLP at init, for each width m: (σ_w/√m)·E[max_{i≤m} T_i].

    T = (|vσ″(u)|s² + √(v²σ″(u)²s⁴ + 4σ′(u)²s²))/2 with u ~ N(0, s²), v ~ N(0, 1) independent
    (``single_layer_hessian_norm``; s² = a₀²|x|² + c₀² is also u's variance). Given u, T ≤ t iff
    t ≥ C = |σ′(u)|s and |v| ≤ (t² − C²)/(A t), A = |σ″(u)|s², so
        Q(t) = P(T > t) = E_u[ 1{t < C} + 1{t ≥ C}·erfc((t² − C²)/(√2·A t)) ],
        E[max_{i≤m} T_i] = ∫₀^∞ 1 − (1 − Q(t))^m dt,
    both by the trapezoid rule (u on ±10 s with ``n_u`` points, t up to where m·Q < 1e-16).
    """
    act = activations.get(activation)
    s = math.sqrt(s2)
    u = torch.linspace(-10 * s, 10 * s, n_u, dtype=torch.float64)
    d1, d2 = (d.abs().numpy() for d in _sigma_derivatives(act, u))
    pdf = np.exp(-0.5 * (u.numpy() / s) ** 2) / (s * math.sqrt(2 * math.pi))
    big_c, big_a = d1 * s, d2 * s2
    t_max = big_c.max() + big_a.max() * (8.5 + math.sqrt(2 * math.log(max(widths))))
    t = np.linspace(0.0, t_max, n_t)[1:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        tail = np.where(t < big_c, 1.0, special.erfc((t * t - big_c**2) / (math.sqrt(2) * np.maximum(big_a, 1e-300) * t)))
    q = np.clip(np.trapezoid(tail * pdf, u.numpy(), axis=1), 0.0, 1.0)
    out = []
    for m in widths:
        above = -np.expm1(m * np.log1p(-np.minimum(q, 1 - 1e-300)))
        out.append(weight_std / math.sqrt(m) * np.trapezoid(np.concatenate([[1.0], above]), np.concatenate([[0.0], t[:, 0]])))
    return np.asarray(out)


# --- Taylor remainders and assembly models (Liu–Zhu–Belkin §2, eqs. 4–5, Theorem 1) --------------
def as_params(model: torch.nn.Module, flat: Tensor) -> Params:
    """A flat vector (…, P) in ``named_parameters`` order (e.g. a Ritz vector) as a parameter dict."""
    return _Layout.of(model).unflatten(flat)


def taylor_remainder(fn: Callable[[Params], Tensor], params: Params, direction: Params, radius: float) -> Tensor:
    """f(θ + RΔ) − f(θ) − R·∇f(θ)·Δ: the remainder of the first-order Taylor model (eq. 1), i.e. the
    quadratic term ½R²ΔᵀH(ξ)Δ for some ξ on the segment. ``fn`` maps a parameter dict (leading dims
    allowed, e.g. networks × directions) to outputs; the gradient term is a Jacobian-vector product (no Jacobian stored)."""
    value, slope = _jvp(fn, params, direction)
    moved = fn({k: params[k] + radius * direction[k] for k in params})
    return moved - value - radius * slope


def _jvp(fn: Callable[[Params], Tensor], params: Params, direction: Params) -> tuple[Tensor, Tensor]:
    """(f(θ), J(θ)·Δ) by the double-vjp trick on plain autograd: JΔ = ∂⟨Jᵀu, Δ⟩/∂u. (torch.func.jvp and
    forward-mode AD import ~2.5 s of machinery on first use in every job process.)"""
    with torch.enable_grad():
        theta = {k: v.detach().requires_grad_(True) for k, v in params.items()}
        out = fn(theta)
        u = torch.zeros_like(out, requires_grad=True)
        grads = torch.autograd.grad(out, list(theta.values()), u, create_graph=True)
        (slope,) = torch.autograd.grad(sum((g * direction[k]).sum() for g, k in zip(grads, theta)), u)
    return out.detach(), slope


class AssemblyModel(torch.nn.Module):
    """f(θ; x) = s(m)⁻¹ Σᵢ vᵢ gᵢ(wᵢ; x), s(m) = √m (Liu–Zhu–Belkin eq. 4), with independent sub-models

        gᵢ(wᵢ; x) = k^(−1/2) Σⱼ a_ij tanh(u_ij·x),   wᵢ = (u_i1 … u_ik, a_i1 … a_ik) ~ N(0, I),

    two-layer tanh nets whose outer layer is trainable; the coefficients vᵢ are fixed (a buffer):
    ``sign`` (±1) or ``gaussian`` (N(0, 1)). Parameters ``inner`` (m, k, d) and ``outer`` (m, k).
    """

    COEFFICIENTS = ("sign", "gaussian")

    def __init__(self, in_dim: int, m: int, k: int, *, coefficients: str = "sign", generator=None, dtype=None, device=None):
        super().__init__()
        models.check_positive(in_dim=in_dim, m=m, k=k)
        if coefficients not in self.COEFFICIENTS:
            raise ValueError(f"unknown coefficients {coefficients!r}; allowed: {', '.join(self.COEFFICIENTS)}")
        factory = {"dtype": dtype or torch.get_default_dtype(), "device": device}
        v = torch.randn(m, generator=generator, **factory)
        self.register_buffer("v", torch.sign(v) if coefficients == "sign" else v)
        self.inner = torch.nn.Parameter(torch.randn(m, k, in_dim, generator=generator, **factory))
        self.outer = torch.nn.Parameter(torch.randn(m, k, generator=generator, **factory))
        self.m, self.k = m, k

    def submodels(self, params: Params, x: Tensor) -> Tensor:
        """gᵢ(wᵢ; x_n) of shape (…, n, m); leading dimensions of the parameters broadcast."""
        pre = torch.einsum("...mkd,nd->...nmk", params["inner"], x)
        return torch.einsum("...nmk,...mk->...nm", torch.tanh(pre), params["outer"]) / math.sqrt(self.k)

    def outputs(self, params: Params, x: Tensor) -> Tensor:
        """f(θ; x) of shape (…, n)."""
        return self.submodels(params, x) @ self.v / math.sqrt(self.m)

    def forward(self, x: Tensor) -> Tensor:
        return self.outputs(dict(self.named_parameters()), x)

    def smoothness_on_ball(self, params: Params, x: Tensor, radius: float) -> Tensor:
        """β_i(R) ≥ sup ‖∇²gᵢ(w; x)‖ over ‖w − wᵢ‖ ≤ R, per sub-model: (…, n, m).

        ∇²gᵢ is block-diagonal over hidden units j, each block k^(−1/2)[[a σ″ x xᵀ, σ′ x], [σ′ xᵀ, 0]] with
        norm k^(−1/2)(|aσ″|s² + √(a²σ″²s⁴ + 4σ′²s²))/2, s = |x|, increasing in |a|. On the ball
        |a| ≤ |a_ij| + R, |σ″| ≤ 4/(3√3) and |σ′| ≤ 1 for tanh. No global β exists: it grows with |a|.
        """
        s2 = (x * x).sum(-1)[:, None]  # (n, 1)
        a = params["outer"].abs().amax(-1).unsqueeze(-2) + radius  # (…, 1, m)
        one = torch.ones((), dtype=x.dtype, device=x.device)
        return _block_top(a, one, one * 4 / (3 * math.sqrt(3)), s2) / math.sqrt(self.k)

    def remainder_bound(self, params: Params, x: Tensor, radius: float) -> Tensor:
        """Eq. 5 with β = maxᵢ |vᵢ|·βᵢ(R) on the ball: |½ΔᵀH(ξ)Δ| ≤ β R² / (2 s(m)) for ‖Δ‖ ≤ R; (…, n).
        (For vᵢ = ±1 this is Theorem 1's βR²/(2s(m)); Gaussian vᵢ carry max|vᵢ| as in Appendix A.)"""
        beta = (self.v.abs() * self.smoothness_on_ball(params, x, radius)).amax(-1)
        return beta * radius**2 / (2 * math.sqrt(self.m))

    def top_eigenpair(self, params: Params, x: Tensor) -> tuple[Tensor, Params]:
        """The eigenvalue of largest |λ| of ∇²_θ f(θ; x_n) and its unit eigenvector, exactly: (…, n) and a
        parameter dict with (…, n) leading dimensions. H = s⁻¹ Σ vᵢ H_gᵢ is block-diagonal by sub-model and
        by hidden unit j, each block k^(−1/2)[[a σ″ x xᵀ, σ′ x], [σ′ xᵀ, 0]] acting on span(x/|x|, e_a) as
        [[A, B], [B, 0]] with A = aσ″s²/√k, B = σ′s/√k: λ = (A ± √(A² + 4B²))/2, eigenvector ∝ (B, λ − A)."""
        s = x.norm(dim=-1)[:, None, None]  # (n, 1, 1)
        pre = torch.einsum("...mkd,nd->...nmk", params["inner"], x)
        d1, d2 = _sigma_derivatives(activations.get("tanh"), pre.reshape(-1))
        a_coef = params["outer"].unsqueeze(-3) * d2.reshape(pre.shape) * s * s / math.sqrt(self.k)
        b_coef = d1.reshape(pre.shape) * s / math.sqrt(self.k)
        lam = 0.5 * (a_coef + torch.where(a_coef >= 0, 1.0, -1.0) * torch.sqrt(a_coef**2 + 4 * b_coef**2))
        scaled = (self.v[:, None] * lam / math.sqrt(self.m)).flatten(-2)  # (…, n, m·k)
        best = scaled.abs().argmax(-1, keepdim=True)
        mask = torch.zeros_like(scaled).scatter_(-1, best, 1.0).reshape(pre.shape)
        p, q = b_coef, lam - a_coef
        norm = torch.sqrt(p * p + q * q)
        direction = {"inner": (mask * p / norm).unsqueeze(-1) * (x / s[..., 0])[:, None, None, :],
                     "outer": mask * q / norm}
        return scaled.gather(-1, best)[..., 0], direction
