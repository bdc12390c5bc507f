"""Outputs of many independent random networks at initialization, exact in law, two ways.

- ``direct``: draw every weight of the reference :class:`widenet.models.MLP` (``ntk``
  parameterization) and run it, batched over networks (``models.outputs`` on stacked parameters).
- ``conditional``: the Markov structure of Hanin §3.3.1 (used to prove Theorem 3.3.1). Given
  h⁽ℓ⁾ = σ(z⁽ℓ⁾) at the k inputs, the neurons z_i⁽ℓ⁺¹⁾ ∈ Rᵏ are i.i.d. N(0, K̂) with
  K̂ = σ_w²/N_ℓ · h⁽ℓ⁾ᵀh⁽ℓ⁾ + σ_b², so a layer costs N·k Gaussians instead of N².

``sample_deep_linear_log_norms`` samples log‖z⁽ᴸ⁺¹⁾‖ of square deep linear networks (Hanin §3.2).
Networks are drawn in chunks of ``chunk_size`` to bound memory; the draws depend on the seed
(or generator) and on the chunk size.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable

import torch
from tqdm.auto import tqdm

from widenet import activations, models
from widenet.models import MLP, check_positive

METHODS = ("direct", "conditional")
CHUNK_ELEMENTS = 2**24  # default chunk: about this many numbers in the largest tensor of a chunk


@torch.no_grad()
def sample_outputs(
    x,
    *,
    width: int,
    depth: int,
    activation: str | activations.Activation,
    n_networks: int,
    weight_std: float = 1.0,
    bias_std: float = 0.0,
    method: str = "conditional",
    seed: int = 0,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    psi: float = 1.0,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """Outputs (n_networks × k) at inputs ``x`` (k × d) of independent ``ntk`` MLPs with ``depth``
    hidden layers of ``width`` units and a width-1 readout:
    z⁽¹⁾ = (σ_w/√d)·W·x + σ_b·b,  z⁽ℓ⁺¹⁾ = (σ_w/√N)·W·σ(z⁽ℓ⁾) + σ_b·b,  W, b ~ N(0, 1).

    ``method`` is ``"direct"`` or ``"conditional"`` (Hanin §3.3.1, see the module docstring); both
    are exact. ``generator``, when given, replaces ``seed``. ``dtype`` defaults to x's floating dtype.
    ``psi`` is the shaped_tanh parameter.
    """
    _check_method(method)
    check_positive(width=width, depth=depth, n_networks=n_networks)
    if chunk_size is not None:
        check_positive(chunk_size=chunk_size)
    act = activations.get(activation, psi=psi, depth=depth)
    x = _as_inputs(x, dtype, device)
    gen = _generator(seed, generator, x.device)
    k, d = x.shape
    if method == "direct":
        model = MLP(
            d, width, depth, activation=act, weight_std=weight_std, bias_std=bias_std,
            generator=gen, dtype=x.dtype, device=x.device,
        )
        draw = partial(_direct_chunk, model, x, gen)
    else:
        draw = partial(_conditional_chunk, x, width, depth, act, weight_std, bias_std, gen)
    if chunk_size is None:
        chunk_size = default_chunk_size(method, width=width, depth=depth, k=k, d=d)
    out = torch.empty((n_networks, k), dtype=x.dtype, device=x.device)
    return _fill_in_chunks(out, draw, chunk_size, progress)


def default_chunk_size(method: str, *, width: int, depth: int, k: int, d: int) -> int:
    """Networks per chunk of ``sample_outputs`` so that a chunk's largest tensor holds about
    ``CHUNK_ELEMENTS`` numbers: the stacked parameters for ``direct`` (d·N + (L−1)·N² + (L+1)·N + 1
    per network), the k × N activations of one layer for ``conditional``."""
    _check_method(method)
    if method == "direct":
        per_network = d * width + (depth - 1) * width * width + (depth + 1) * width + 1
    else:
        per_network = k * width
    return max(1, CHUNK_ELEMENTS // per_network)


@torch.no_grad()
def sample_deep_linear_log_norms(
    width: int,
    depth: int,
    n_networks: int,
    *,
    method: str = "conditional",
    seed: int = 0,
    generator: torch.Generator | None = None,
    chunk_size: int | None = None,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    progress: bool = False,
) -> torch.Tensor:
    """log‖z⁽ᴸ⁺¹⁾(x)‖ (n_networks,) of deep linear networks z⁽ᴸ⁺¹⁾ = (1/√N)W⁽ᴸ⁺¹⁾ ⋯ (1/√N)W⁽¹⁾x
    with every width N₀ = … = N_{L+1} = ``width``, ``depth`` = L ≥ 0 and ‖x‖ = 1 (Hanin §3.2).

    The vector is renormalized after each layer and the log-norms summed (eq. 3.2.2). ``direct``
    multiplies N × N Gaussian matrices; ``conditional`` draws z⁽ℓ⁺¹⁾ | z⁽ℓ⁾ ~ N(0, ‖z⁽ℓ⁾‖²/N · I)
    from N Gaussians (Markov structure with σ(t) = t). By rotation invariance x = e₁.
    """
    _check_method(method)
    check_positive(width=width, n_networks=n_networks)
    if chunk_size is not None:
        check_positive(chunk_size=chunk_size)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ValueError(f"depth must be a non-negative integer, got {depth!r}")
    dtype = dtype or torch.get_default_dtype()
    device = torch.device(device or "cpu")
    gen = _generator(seed, generator, device)
    layer = _linear_layer_direct if method == "direct" else _linear_layer_conditional
    draw = partial(_deep_linear_chunk, layer, width, depth, gen, dtype, device)
    if chunk_size is None:
        chunk_size = max(1, CHUNK_ELEMENTS // (width * width if method == "direct" else width))
    out = torch.empty(n_networks, dtype=dtype, device=device)
    return _fill_in_chunks(out, draw, chunk_size, progress)


# --- chunk samplers (one chunk of n networks each) ---------------------------------------------
def _direct_chunk(model: MLP, x: torch.Tensor, gen: torch.Generator, n: int) -> torch.Tensor:
    return models.outputs(model, model.sample_parameters(n, generator=gen), x)  # batched over the n networks


def _conditional_chunk(
    x: torch.Tensor,
    width: int,
    depth: int,
    act: activations.Activation,
    weight_std: float,
    bias_std: float,
    gen: torch.Generator,
    n: int,
) -> torch.Tensor:
    """Hanin §3.3.1: z⁽ℓ⁺¹⁾ | z⁽ℓ⁾ has i.i.d. N(0, K̂⁽ℓ⁺¹⁾) neurons; layer 1 has K̂ = σ_w²/d·xxᵀ + σ_b²."""
    kernel = (weight_std**2 / x.shape[1]) * (x @ x.T) + bias_std**2  # (k × k), shared by the chunk
    for _ in range(depth):
        h = act(_gaussian_columns(kernel, n, width, gen))  # (n × k × N)
        kernel = (weight_std**2 / width) * (h @ h.transpose(1, 2)) + bias_std**2
    return _gaussian_columns(kernel, n, 1, gen)[..., 0]


def _gaussian_columns(kernel: torch.Tensor, n: int, m: int, gen: torch.Generator) -> torch.Tensor:
    """(n × k × m): m i.i.d. N(0, kernel) columns per network; ``kernel`` is (k × k) or (n × k × k)."""
    g = torch.randn((n, kernel.shape[-1], m), generator=gen, dtype=kernel.dtype, device=kernel.device)
    return psd_sqrt(kernel) @ g


def psd_sqrt(kernel: torch.Tensor) -> torch.Tensor:
    """A factor F with F Fᵀ = kernel for (batched) symmetric PSD kernels, singular ones included:
    V·diag(√λ₊) from the eigendecomposition, negative round-off eigenvalues clamped to 0."""
    eigenvalues, vectors = torch.linalg.eigh(kernel)
    return vectors * eigenvalues.clamp(min=0).sqrt().unsqueeze(-2)


def _deep_linear_chunk(
    layer: Callable[[torch.Tensor, torch.Generator], torch.Tensor],
    width: int,
    depth: int,
    gen: torch.Generator,
    dtype: torch.dtype,
    device: torch.device,
    n: int,
) -> torch.Tensor:
    u = torch.zeros((n, width), dtype=dtype, device=device)
    u[:, 0] = 1.0
    log_norm = torch.zeros(n, dtype=dtype, device=device)
    for _ in range(depth + 1):
        z = layer(u, gen)
        norm = torch.linalg.vector_norm(z, dim=-1)
        log_norm += norm.log()
        u = z / norm.unsqueeze(-1)
    return log_norm


def _linear_layer_direct(u: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    n, width = u.shape
    w = torch.randn((n, width, width), generator=gen, dtype=u.dtype, device=u.device)
    return (w @ u.unsqueeze(-1)).squeeze(-1) / math.sqrt(width)


def _linear_layer_conditional(u: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    g = torch.randn(u.shape, generator=gen, dtype=u.dtype, device=u.device)
    return g * (torch.linalg.vector_norm(u, dim=-1, keepdim=True) / math.sqrt(u.shape[-1]))


# --- helpers -----------------------------------------------------------------------------------
def _fill_in_chunks(
    out: torch.Tensor, draw: Callable[[int], torch.Tensor], chunk_size: int, progress: bool
) -> torch.Tensor:
    """Write ``draw(m)`` for successive chunks of m ≤ chunk_size networks into ``out`` (networks
    along dim 0). ``out`` is allocated before the chunk temporaries so that small results kept
    between them do not fragment glibc's heap (with a list + cat, peak RSS grew with the number of
    networks: 59 → 434 MiB from 10⁴ to 10⁵ networks at width 1024, chunk 1000)."""
    n_networks = out.shape[0]
    for start in tqdm(range(0, n_networks, chunk_size), disable=not progress, desc="chunks of networks"):
        chunk = draw(min(chunk_size, n_networks - start))
        out[start : start + len(chunk)] = chunk
    return out


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")


def _as_inputs(x, dtype: torch.dtype | None, device: torch.device | str | None) -> torch.Tensor:
    x = torch.as_tensor(x, device=device)
    if x.ndim != 2 or 0 in x.shape:
        raise ValueError(
            f"x must be a (k × d) matrix holding k ≥ 1 inputs of dimension d ≥ 1, got shape {tuple(x.shape)}"
        )
    return x.to(dtype or (x.dtype if x.is_floating_point() else torch.get_default_dtype()))


def _generator(seed: int, generator: torch.Generator | None, device: torch.device) -> torch.Generator:
    return generator if generator is not None else torch.Generator(device=device).manual_seed(seed)
