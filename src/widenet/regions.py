"""Exact linear regions of ReLU networks on lines and planes (Hanin §4; Hanin & Rolnick 2019).

A network is given by its **hidden** layers only, as lists ``weights``/``biases`` of the matrices
exactly as applied (any 1/√fan_in factor already inside W; the readout makes no breakpoints):

    z⁽¹⁾ = W₁x + b₁,   z⁽ℓ⁾ = W_ℓ·relu(z⁽ℓ⁻¹⁾) + b_ℓ.

Neuron (ℓ, i) is *on* where z_i⁽ℓ⁾ > 0. Its nodal set H_i⁽ℓ⁾ = {z_i⁽ℓ⁾ = 0} is a "bent
hyperplane" (Hanin §4.1, Figure 4.1). Everything is traced exactly, never sampled: on a cell where
the patterns of layers < ℓ are fixed, every z_i⁽ℓ⁾ is affine, so on a segment it is affine in t
and on a plane its zero set is a line.

- 1-D (Theorem 4.2.1 with N₀ = 1; Lemma 1.1.2): ``breakpoints_1d``, ``count_breakpoints_1d``.
- 2-D (Theorems 4.2.1, 4.2.2): ``partition_2d`` splits convex polygons neuron by neuron, layer by
  layer; ``count_patterns_grid`` is the sampled count it is compared with.
- ``random_relu_net``: random hidden layers as in Hanin eq. 4.0.1.

Regions. On any set where the pattern P is fixed, every z⁽ℓ⁾ equals an affine map fixed by P, so
{x : pattern(x) = P} is an intersection of half-spaces, hence convex. So the connected components
of the complement of the nodal set are convex, each meets the square in one convex cell, and the
cells of the subdivision carry distinct activation patterns: ``n_regions`` = number of cells =
number of patterns met in the square = Hanin's N_A (§4.2, Q2) for A the square. Sampling can only
miss cells, so ``count_patterns_grid ≤ n_regions``.

Tolerance. A polygon vertex whose distance to a neuron's line is at most ``tol·half_width``
(default 1e-9·h) is taken to lie on the line: it goes to both sides and the line cuts the cell only
if other vertices lie strictly on both sides, so a line through a vertex makes no sliver (and a
cell thinner than tol·h is not split further). Float64 throughout by default, on the CPU.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "Partition",
    "boundary_crossings",
    "edge_layers",
    "interior_vertices",
    "layer_widths",
    "random_segments",
    "slice_basis",
    "zaslavsky_counts",
    "breakpoints_1d",
    "count_breakpoints_1d",
    "count_patterns_grid",
    "partition_2d",
    "random_relu_net",
]

TOL = 1e-9
F64 = torch.float64
EDGE = 1e-9  # a partition vertex within EDGE·R of the square's boundary lies on it
_SEGMENT_CHUNK = 256  # segments traced together by count_breakpoints_1d (bounds memory)


# --- networks -----------------------------------------------------------------------------------
def random_relu_net(
    in_dim: int,
    widths: Sequence[int],
    *,
    generator: torch.Generator | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[list[Tensor], list[Tensor]]:
    """Hidden layers of a random ReLU net as in Hanin eq. 4.0.1: W ~ N(0, 2)/√fan_in, b ~ N(0, 1).

    Returns ``(weights, biases)``; layer ℓ draws W_ℓ (N_ℓ × N_{ℓ−1}) then b_ℓ from ``generator``.
    """
    dims = [in_dim, *widths]
    if not widths or any(not isinstance(d, int) or isinstance(d, bool) or d <= 0 for d in dims):
        raise ValueError(f"in_dim and widths must be positive integers (at least one width); got {in_dim!r}, {widths!r}")
    weights, biases = [], []
    for fan_in, fan_out in zip(dims[:-1], dims[1:]):
        weights.append(torch.randn(fan_out, fan_in, generator=generator, dtype=dtype) * math.sqrt(2.0 / fan_in))
        biases.append(torch.randn(fan_out, generator=generator, dtype=dtype))
    return weights, biases


def _as_net(weights: Sequence[Tensor], biases: Sequence[Tensor], dtype: torch.dtype) -> tuple[list[Tensor], list[Tensor]]:
    """Detached CPU copies in ``dtype``, checked to chain; layers are numbered from 1 as in Hanin."""
    weights = [torch.as_tensor(w).detach().to("cpu", dtype) for w in weights]
    biases = [torch.as_tensor(b).detach().to("cpu", dtype) for b in biases]
    if not weights:
        raise ValueError("need at least one hidden layer; got no weight matrices")
    if len(weights) != len(biases):
        raise ValueError(f"got {len(weights)} weight matrices but {len(biases)} bias vectors")
    for ell, (w, b) in enumerate(zip(weights, biases), start=1):
        if w.ndim != 2:
            raise ValueError(f"layer {ell}: weight must be a matrix, got shape {tuple(w.shape)}")
        if tuple(b.shape) != (w.shape[0],):
            raise ValueError(
                f"layer {ell}: bias shape {tuple(b.shape)} does not match weight shape {tuple(w.shape)}; "
                f"expected ({w.shape[0]},)"
            )
        if ell > 1 and w.shape[1] != weights[ell - 2].shape[0]:
            raise ValueError(
                f"layer {ell}: weight shape {tuple(w.shape)} does not chain with layer {ell - 1} weight shape "
                f"{tuple(weights[ell - 2].shape)}; expected {weights[ell - 2].shape[0]} columns"
            )
    return weights, biases


def _patterns(weights: list[Tensor], biases: list[Tensor], x: Tensor) -> Tensor:
    """Activation patterns z > 0 of all neurons at the rows of x, layers in order: (n, N₁ + … + N_L) bool."""
    on, h = [], x
    for w, b in zip(weights, biases):
        h = torch.addmm(b, h, w.T)
        on.append(h > 0)
        h.clamp_(min=0)
    return torch.cat(on, 1)


# --- 1-D: exact breakpoints on segments -----------------------------------------------------------
def _sign_changes(z: Tensor, seg: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Sign changes of each neuron between consecutive points of one segment.

    A change between points p and p + 1 lies at fraction α = z_p/(z_p − z_{p+1}) of the piece, exact
    as z is affine there. Exact zeros (non-generic, e.g. the hat function of Hanin §1.1.2) are
    skipped: a point is compared with the last nonzero point before it, and a change across zeros
    gets α = 1, i.e. sits on the existing point p + 1. Returns (p, neuron i, α) sorted by p then α.
    """
    if not (z == 0).any():
        on = z > 0
        p, i = ((on[:-1] ^ on[1:]) & (seg[1:] == seg[:-1])[:, None]).nonzero(as_tuple=True)
    else:
        last = torch.where(z != 0, torch.arange(z.shape[0])[:, None], -1).cummax(0).values[:-1]
        same = last >= _segment_starts(seg)[1:, None]
        last = last.clamp(min=0)
        q, i = ((z.gather(0, last) * z[1:] < 0) & same).nonzero(as_tuple=True)
        p = last[q, i]
    zp = z[p, i]
    alpha = zp / (zp - z[p + 1, i])
    order = torch.argsort(alpha, stable=True)
    order = order[torch.argsort(p[order], stable=True)]
    return p[order], i[order], alpha[order]


def _insert(seg: Tensor, t: Tensor, z: Tensor, k: Tensor, i: Tensor, alpha: Tensor, t_new: Tensor):
    """Insert the sign changes (k, i, α), sorted by k, as points after point k.

    z there is interpolated (exact: affine on the piece) with z_i = 0. With j the rank of a new
    point, new point j lands at k_j + j + 1 and old point k at k + #{new points with k_j < k}.
    """
    z_new = torch.lerp(z[k], z[k + 1], alpha[:, None])
    z_new[torch.arange(k.numel()), i] = 0.0
    m, n = t.numel(), k.numel()
    before = torch.zeros(m, dtype=torch.long)
    before[1:] = torch.cumsum(torch.bincount(k, minlength=m), 0)[:-1]
    pos_old = torch.arange(m) + before
    pos_new = k + torch.arange(n) + 1
    seg_out = torch.empty(m + n, dtype=seg.dtype)
    t_out = torch.empty(m + n, dtype=t.dtype)
    z_out = torch.empty(m + n, z.shape[1], dtype=z.dtype)
    seg_out[pos_old], seg_out[pos_new] = seg, seg[k]
    t_out[pos_old], t_out[pos_new] = t, t_new
    z_out[pos_old], z_out[pos_new] = z, z_new
    return seg_out, t_out, z_out


def _segment_starts(seg: Tensor) -> Tensor:
    """Index of the first point of each point's segment (points sorted by segment)."""
    rows = torch.arange(seg.numel())
    starts = torch.where(torch.cat([seg.new_ones(1, dtype=torch.bool), seg[1:] != seg[:-1]]), rows, 0)
    return starts.cummax(0).values


def _trace_segments(weights: list[Tensor], biases: list[Tensor], starts: Tensor, ends: Tensor) -> tuple[Tensor, Tensor]:
    """(segment index, t) of every sign change of every neuron on x(t) = start + t·(end − start).

    Layer by layer: the sign changes of layers < ℓ cut each segment into pieces on which z⁽ℓ⁾ is
    affine, so z⁽ℓ⁾ at the piece ends (one matmul for all pieces) locates its sign changes exactly;
    they become new piece ends.
    """
    seg = torch.arange(starts.shape[0]).repeat_interleave(2)
    t = torch.tensor([0.0, 1.0], dtype=starts.dtype).repeat(starts.shape[0])
    z = torch.addmm(biases[0], torch.lerp(starts[seg], ends[seg], t[:, None]), weights[0].T)
    found_seg, found_t = [], []
    for ell in range(len(weights)):
        if ell:
            z = torch.addmm(biases[ell], z.clamp_(min=0), weights[ell].T)
        k, i, alpha = _sign_changes(z, seg)
        t_new = torch.lerp(t[k], t[k + 1], alpha)
        found_seg.append(seg[k])
        found_t.append(t_new)
        if ell + 1 < len(weights):
            inside = alpha < 1  # α = 1: the change sits on an existing point
            seg, t, z = _insert(seg, t, z, k[inside], i[inside], alpha[inside], t_new[inside])
    return torch.cat(found_seg), torch.cat(found_t)


def _as_segments(weights: list[Tensor], starts, ends, dtype: torch.dtype) -> tuple[Tensor, Tensor]:
    starts, ends = (torch.as_tensor(x).detach().to("cpu", dtype) for x in (starts, ends))
    in_dim = weights[0].shape[1]
    if starts.shape != ends.shape or starts.ndim != 2 or starts.shape[1] != in_dim:
        raise ValueError(
            f"starts and ends must both have shape (n_segments, {in_dim}); got {tuple(starts.shape)} and {tuple(ends.shape)}"
        )
    return starts, ends


def breakpoints_1d(weights, biases, start, end, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """Sorted t ∈ (0, 1) where some neuron's pre-activation changes sign along x(t) = start + t·(end − start).

    One entry per sign change of each neuron, so the length is Hanin's Z_A for N₀ = 1 (§4.2,
    Z_A = Σ_ℓ Σ_i #{z_i⁽ℓ⁾ = 0}); distinct neurons share a t only non-generically. Exact
    piecewise-linear tracing, no sampling (see ``count_breakpoints_1d``).
    """
    weights, biases = _as_net(weights, biases, dtype)
    start, end = (torch.atleast_1d(torch.as_tensor(x).detach().to("cpu", dtype)) for x in (start, end))
    in_dim = weights[0].shape[1]
    if start.shape != (in_dim,) or end.shape != (in_dim,):
        raise ValueError(f"start and end must both have shape ({in_dim},); got {tuple(start.shape)} and {tuple(end.shape)}")
    starts, ends = start[None], end[None]
    return torch.sort(_trace_segments(weights, biases, starts, ends)[1]).values


def count_breakpoints_1d(weights, biases, starts, ends, *, dtype: torch.dtype = torch.float64) -> Tensor:
    """Number of sign changes of all neurons on each segment starts[s] → ends[s], (n_segments, N₀) each.

    Same exact tracing as ``breakpoints_1d``, batched over segments (in chunks of 256 to bound
    memory). Returns an int64 tensor of shape (n_segments,).
    """
    weights, biases = _as_net(weights, biases, dtype)
    starts, ends = _as_segments(weights, starts, ends, dtype)
    counts = []
    for lo in range(0, starts.shape[0], _SEGMENT_CHUNK):
        seg, _ = _trace_segments(weights, biases, starts[lo : lo + _SEGMENT_CHUNK], ends[lo : lo + _SEGMENT_CHUNK])
        counts.append(torch.bincount(seg, minlength=min(_SEGMENT_CHUNK, starts.shape[0] - lo)))
    return torch.cat(counts) if counts else torch.zeros(0, dtype=torch.long)


# --- 2-D: exact partition of a square --------------------------------------------------------------
@dataclass(frozen=True)
class Partition:
    """Convex cells of the activation-pattern subdivision of a square [−h, h]² in (u, v) coordinates.

    ``vertices``: (n_regions, K, 2) counter-clockwise polygons, each padded to K by repeating its
    last vertex; ``n_vertices``: (n_regions,) true vertex counts; ``patterns``: (n_regions,
    N₁ + … + N_L) bool, neuron on (z > 0), layers in order; ``nodal_length``: length in (u, v)
    units of the nodal set (all bent-hyperplane pieces of all neurons of all hidden layers) inside
    the square, i.e. Hanin's Z_A (Theorem 4.2.1) for A the square: the sum of the chords along
    which cells were split, so coinciding pieces (non-generic) count once and pieces on the
    square's boundary not at all.
    """

    vertices: Tensor
    n_vertices: Tensor
    patterns: Tensor
    nodal_length: float

    @property
    def n_regions(self) -> int:
        """Number of cells = regions of the square (see the module docstring)."""
        return self.vertices.shape[0]

    @property
    def cells(self) -> list[tuple[Tensor, Tensor]]:
        """(vertices (k, 2), activation pattern) per cell."""
        return [(v[:n], p) for v, n, p in zip(self.vertices, self.n_vertices.tolist(), self.patterns)]


def _as_square(origin, basis, half_width: float, in_dim: int, dtype: torch.dtype) -> tuple[Tensor, Tensor, float]:
    origin, basis = torch.as_tensor(origin, dtype=dtype), torch.as_tensor(basis, dtype=dtype)
    if origin.shape != (in_dim,):
        raise ValueError(f"origin must have shape ({in_dim},) to match the first layer; got {tuple(origin.shape)}")
    if basis.shape != (2, in_dim):
        raise ValueError(f"basis must have shape (2, {in_dim}); got {tuple(basis.shape)}")
    singular = torch.linalg.svdvals(basis)
    if not torch.isfinite(singular).all() or singular[1] <= 1e-12 * singular[0]:
        raise ValueError(f"basis is not rank 2 (singular values {singular.tolist()}); its rows must span a plane")
    if not (math.isfinite(half_width) and half_width > 0):
        raise ValueError(f"half_width must be a positive finite number; got {half_width!r}")
    return origin, basis, float(half_width)


def _compact(points: Tensor, keep: Tensor, counts: Tensor, width: int) -> Tensor:
    """Kept points of each row in order, padded to ``width`` by repeating the last kept point."""
    order = torch.sort((~keep).to(torch.uint8), dim=1, stable=True).indices
    slot = torch.minimum(torch.arange(width), (counts - 1)[:, None])
    return points.gather(1, order.gather(1, slot)[..., None].expand(-1, -1, 2))


def _cut(verts: Tensor, n: Tensor, f: Tensor, sign: Tensor, direction: Tensor, width: int):
    """Split convex polygons by the lines {f = 0}; every polygon has vertices with sign +1 and −1.

    ``f``/``sign``: values and signs (0 = on the line) at the padded vertices. The on-side keeps the
    vertices with sign ≥ 0, the off-side those with sign ≤ 0, both gain the edge crossings.
    Returns (on polygons, on counts, off polygons, off counts, chord length per polygon).
    """
    m, k = f.shape
    valid = torch.arange(k) < n[:, None]
    f_next, sign_next, verts_next = f.roll(-1, 1), sign.roll(-1, 1), verts.roll(-1, 1)
    cross = sign * sign_next < 0  # the padding repeats the last vertex, so roll closes the polygon
    alpha = torch.where(cross, f / torch.where(cross, f - f_next, 1.0), 0.0)
    crossings = torch.lerp(verts, verts_next, alpha[..., None])
    points = torch.stack([verts, crossings], 2).reshape(m, 2 * k, 2)
    on_line = torch.stack([valid & (sign == 0), cross], 2).reshape(m, 2 * k)
    keep_on = torch.stack([valid & (sign >= 0), cross], 2).reshape(m, 2 * k)
    keep_off = torch.stack([valid & (sign <= 0), cross], 2).reshape(m, 2 * k)
    along = (points * direction[:, None]).sum(-1)
    chord = along.masked_fill(~on_line, -math.inf).amax(1) - along.masked_fill(~on_line, math.inf).amin(1)
    n_on, n_off = keep_on.sum(1), keep_off.sum(1)
    width = max(width, int(n_on.max()), int(n_off.max()))
    on = _compact(points, keep_on, n_on, width)
    off = _compact(points, keep_off, n_off, width)
    return on, n_on, off, n_off, chord


def _refine(verts: Tensor, n_verts: Tensor, coef: Tensor, tol: float):
    """Split every cell by the lines of one layer, neuron after neuron.

    ``coef``: (N, P, 3), neuron i is z_i = coef[i, p]·(u, v, 1) on input cell p (affine there).
    Returns (verts, n_verts, parent, on pattern (C, N), nodal length of this layer) of the C cells.
    """
    n_cells, width = n_verts.shape[0], verts.shape[1]
    capacity = 2 * n_cells + 64
    buf_verts = verts.new_empty(capacity, width, 2)
    buf_n = n_verts.new_empty(capacity)
    parent = torch.empty(capacity, dtype=torch.long)
    on = torch.empty(capacity, coef.shape[0], dtype=torch.bool)
    buf_verts[:n_cells], buf_n[:n_cells], parent[:n_cells] = verts, n_verts, torch.arange(n_cells)
    length = []
    for i in range(coef.shape[0]):
        a = coef[i][parent[:n_cells]]
        f = torch.addcmul(torch.addcmul(a[:, 2:], buf_verts[:n_cells, :, 0], a[:, :1]), buf_verts[:n_cells, :, 1], a[:, 1:2])
        grad = a[:, :2].norm(dim=1, keepdim=True)
        sign = (f > tol * grad).to(torch.int8) - (f < -tol * grad).to(torch.int8)
        pos, neg = (sign > 0).any(1), (sign < 0).any(1)
        on[:n_cells, i] = pos
        idx = (pos & neg).nonzero().squeeze(1)
        m = idx.numel()
        if m == 0:
            continue
        direction = torch.stack([-a[idx, 1], a[idx, 0]], 1) / grad[idx]
        v_on, n_on, v_off, n_off, chord = _cut(buf_verts[idx], buf_n[idx], f[idx], sign[idx], direction, width)
        length.append(chord.sum())
        if n_cells + m > capacity:
            capacity = 2 * (n_cells + m)
            buf_verts, buf_n, parent, on = (_grow(x, capacity) for x in (buf_verts, buf_n, parent, on))
        if v_on.shape[1] > width:
            pad = buf_verts[:, -1:].expand(-1, v_on.shape[1] - width, -1)
            buf_verts, width = torch.cat([buf_verts, pad], 1), v_on.shape[1]
        new = slice(n_cells, n_cells + m)
        buf_verts[idx], buf_n[idx] = v_on, n_on
        buf_verts[new], buf_n[new] = v_off, n_off
        parent[new], on[new] = parent[idx], on[idx]
        on[new, i] = False
        n_cells += m
    total = torch.stack(length).sum().item() if length else 0.0
    return buf_verts[:n_cells], buf_n[:n_cells], parent[:n_cells], on[:n_cells], total


def _grow(x: Tensor, capacity: int) -> Tensor:
    out = x.new_empty(capacity, *x.shape[1:])
    out[: x.shape[0]] = x
    return out


def _next_coefficients(coef: Tensor, parent: Tensor, on: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """Coefficients (N_next, C, 3) of z⁽ℓ⁺¹⁾ = W·(on ⊙ z⁽ℓ⁾) + b on each cell, z⁽ℓ⁾ = coef[:, parent]."""
    masked = coef[:, parent] * on.T[..., None].to(coef.dtype)
    nxt = (weight @ masked.reshape(masked.shape[0], -1)).reshape(weight.shape[0], -1, 3)
    nxt[..., 2] += bias[:, None]
    return nxt


def partition_2d(
    weights,
    biases,
    origin,
    basis,
    half_width: float,
    *,
    tol: float = TOL,
    dtype: torch.dtype = torch.float64,
) -> Partition:
    """Exact partition of the square x = origin + u·basis[0] + v·basis[1], (u, v) ∈ [−h, h]².

    Layer by layer, every cell of the layers so far is split by each neuron of the next layer in
    turn (its zero set is a line there; Hanin §4.1, Figure 4.1). All cells are processed at once
    per neuron as padded vertex arrays. ``tol``: vertices within tol·h of a line lie on it.
    Returns a ``Partition`` (cells, patterns, ``n_regions``, ``nodal_length``; Theorems 4.2.1/4.2.2).
    """
    weights, biases = _as_net(weights, biases, dtype)
    origin, basis, h = _as_square(origin, basis, half_width, weights[0].shape[1], dtype)
    if not (math.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol must be a non-negative finite number; got {tol!r}")
    verts = torch.tensor([[[-h, -h], [h, -h], [h, h], [-h, h]]], dtype=dtype)
    n_verts = torch.tensor([4])
    patterns = torch.zeros(1, 0, dtype=torch.bool)
    coef = torch.cat([weights[0] @ basis.T, (weights[0] @ origin + biases[0])[:, None]], 1)[:, None]
    length = 0.0
    for ell in range(len(weights)):
        verts, n_verts, parent, on, layer_length = _refine(verts, n_verts, coef, tol * h)
        patterns = torch.cat([patterns[parent], on], 1)
        length += layer_length
        if ell + 1 < len(weights):
            coef = _next_coefficients(coef, parent, on, weights[ell + 1], biases[ell + 1])
    return Partition(verts, n_verts, patterns, length)


# --- grid sampling ------------------------------------------------------------------------------
def count_patterns_grid(
    weights,
    biases,
    origin,
    basis,
    half_width: float,
    resolution: int,
    *,
    chunk: int = 1 << 14,
    dtype: torch.dtype = torch.float64,
) -> int:
    """Distinct activation patterns on the resolution × resolution grid of the square (edges included).

    The sampled count beside the exact ``partition_2d(...).n_regions``; it can only undercount.
    Grids with resolution 2^k + 1 are nested, so the count is non-decreasing along them. Points
    are evaluated ``chunk`` at a time to bound memory.
    """
    weights, biases = _as_net(weights, biases, dtype)
    origin, basis, h = _as_square(origin, basis, half_width, weights[0].shape[1], dtype)
    if not isinstance(resolution, int) or isinstance(resolution, bool) or resolution < 2:
        raise ValueError(f"resolution must be an integer ≥ 2; got {resolution!r}")
    axis = torch.linspace(-h, h, resolution, dtype=dtype)
    seen = []
    for lo in range(0, resolution * resolution, chunk):
        flat = torch.arange(lo, min(lo + chunk, resolution * resolution))
        uv = torch.stack([axis[flat // resolution], axis[flat % resolution]], 1)
        packed = np.packbits(_patterns(weights, biases, origin + uv @ basis).numpy(), axis=1)
        seen.append(np.unique(packed.view(np.dtype((np.void, packed.shape[1])))))
    return int(np.unique(np.concatenate(seen)).size)


# --- A9 helpers: random slices and segments, counts on a partition, Zaslavsky, edge layers ----------
def layer_widths(neurons: int, depth: int) -> list[int]:
    """N neurons over L layers as evenly as possible, the first N mod L layers one wider."""
    base, extra = divmod(neurons, depth)
    return [base + 1] * extra + [base] * (depth - extra)


def slice_basis(in_dim: int, generator: torch.Generator) -> torch.Tensor:
    """(2, N₀) orthonormal rows: the input plane for N₀ = 2, else two random orthonormal directions."""
    if in_dim == 2:
        return torch.eye(2, dtype=F64)
    q, _ = torch.linalg.qr(torch.randn(in_dim, 2, generator=generator, dtype=F64))
    return q.T.contiguous()


def square_corners(half_width: float) -> np.ndarray:
    h = half_width
    return np.array([[-h, -h], [h, -h], [h, h], [-h, h]], dtype=float)


def boundary_crossings(weights, biases, basis: torch.Tensor, half_width: float) -> int:
    """Sign changes of all neurons along the four sides of the square (exact 1-D tracing)."""
    corners = torch.as_tensor(square_corners(half_width), dtype=F64) @ basis
    return int(count_breakpoints_1d(weights, biases, corners, corners.roll(-1, 0)).sum())


def interior_vertices(partition, half_width: float) -> float:
    """Vertices of the nodal set inside the open square: 4 cells meet at each (generic crossing)."""
    valid = torch.arange(partition.vertices.shape[1]) < partition.n_vertices[:, None]
    inside = partition.vertices.abs().amax(-1) < half_width * (1 - EDGE)
    return float((valid & inside).sum()) / 4.0


def slice_lines(weights, biases, basis: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Depth 1: neuron i is the line a_i·(u, v) + c_i = 0 of the slice."""
    return (weights[0] @ basis.T).numpy(), biases[0].numpy()


def line_intersections(a: np.ndarray, c: np.ndarray) -> np.ndarray:
    """All pairwise intersection points (N(N − 1)/2, 2) of the lines a_i·p + c_i = 0."""
    i, j = np.triu_indices(a.shape[0], 1)
    if i.size == 0:
        return np.zeros((0, 2))
    return np.linalg.solve(np.stack([a[i], a[j]], 1), -np.stack([c[i], c[j]], 1)[..., None])[..., 0]


def zaslavsky_counts(weights, biases, basis: torch.Tensor, half_width: float) -> tuple[int, int]:
    """Depth 1: (regions of the whole plane, 1 + #lines meeting [−R, R]² + #intersections inside).

    Whole plane: with ≥ 2 lines in general position every region has a vertex, so the square
    [−R_Z, R_Z]² with R_Z > max |vertex coordinate| meets every region; it is partitioned with
    tol = 0 (the default relative tol, 1e-9·R_Z with R_Z up to ~1e9, would merge true cells).
    """
    a, c = slice_lines(weights, biases, basis)
    points = line_intersections(a, c)
    reach = 1.05 * float(np.abs(points).max()) + 1.0 if points.size else 1.0
    origin = torch.zeros(basis.shape[1], dtype=F64)
    whole = partition_2d(weights, biases, origin, basis, reach, tol=0.0).n_regions
    values = square_corners(half_width) @ a.T + c
    meeting = int(((values.min(0) < 0) & (values.max(0) > 0)).sum())
    inside = int((np.abs(points).max(1) < half_width).sum()) if points.size else 0
    return whole, 1 + meeting + inside


def random_segments(n: int, in_dim: int, length: float, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """(starts, ends) of n segments of the given length with uniform centres in [−1, 1]^N₀ and uniform directions."""
    centres = torch.rand(n, in_dim, generator=generator, dtype=F64) * 2 - 1
    dirs = torch.randn(n, in_dim, generator=generator, dtype=F64)
    dirs = dirs / dirs.norm(dim=1, keepdim=True) * (length / 2)
    return centres - dirs, centres + dirs


def edge_layers(weights, biases, partition, tol: float = 1e-7) -> np.ndarray:
    """For each polygon edge k → k + 1 the hidden layer of the neuron whose nodal set it lies on.

    Every edge inside the square is a piece of some neuron's nodal set (no nodal set crosses a
    cell's interior). On a cell with pattern P, neuron (ℓ, i) is affine, a·x + c, with the maps
    composed through the neurons that are on; the edge belongs to the neuron vanishing at both
    ends (smallest |a·x + c|/‖a‖). Returns (n_regions, K) int: layer ℓ ≥ 1, 0 for the square's
    boundary (no neuron within tol·R), −1 for padding.
    """
    verts, sizes, patterns = partition.vertices, partition.n_vertices, partition.patterns
    m, k = sizes.shape[0], verts.shape[1]
    h = float(verts.abs().amax())
    coef = torch.zeros(m, 0, 3, dtype=F64)
    layer_of = []
    a, c, start = None, None, 0
    for ell, (w, b) in enumerate(zip(weights, biases), start=1):
        if a is None:
            a, c = w.expand(m, -1, -1), b.expand(m, -1)
        else:
            on = patterns[:, start - w.shape[1] : start].to(F64)
            a, c = w @ (on[..., None] * a), (w @ (on * c)[..., None])[..., 0] + b
        coef = torch.cat([coef, torch.cat([a, c[..., None]], -1)], 1)
        layer_of += [ell] * w.shape[0]
        start += w.shape[0]
    slot = torch.arange(k).expand(m, -1)
    nxt = torch.where(slot + 1 < sizes[:, None], slot + 1, 0)  # the last edge closes the polygon
    ends = torch.stack([verts, verts.gather(1, nxt[..., None].expand(-1, -1, 2))], 2)  # (m, K, 2 ends, 2)
    vals = torch.einsum("mkex,mnx->mkne", ends, coef[..., :2]) + coef[:, None, :, None, 2]
    dist = vals.abs().amax(-1) / coef[:, None, :, :2].norm(dim=-1).clamp_min(1e-300)
    best, idx = dist.min(-1)
    layers = torch.tensor(layer_of)[idx]
    layers = torch.where(best <= tol * h, layers, torch.zeros_like(layers))
    return torch.where(slot < sizes[:, None], layers, torch.full_like(layers, -1)).numpy()
