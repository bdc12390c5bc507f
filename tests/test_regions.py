"""Exact ReLU region counting (widenet.regions) against closed forms, geometry and sampling.

Hanin §1.1.2 (hat function, Lemma 1.1.2), §4 (eq. 4.0.1, Theorems 4.2.1/4.2.2, Zaslavsky).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from widenet import regions
from widenet.regions import (
    breakpoints_1d,
    count_breakpoints_1d,
    count_patterns_grid,
    partition_2d,
    random_relu_net,
)

F64 = torch.float64
O2, I2 = torch.zeros(2), torch.eye(2)  # the unit plane of ℝ²


def net(in_dim, widths, seed):
    return random_relu_net(in_dim, widths, generator=torch.Generator().manual_seed(seed))


def plane(in_dim, seed):
    """A random origin and a random (non-orthonormal) basis of a plane in ℝ^in_dim."""
    g = torch.Generator().manual_seed(1000 + seed)
    return torch.randn(in_dim, generator=g, dtype=F64) * 0.3, torch.randn(2, in_dim, generator=g, dtype=F64)


def plane_lines(weights, biases, origin, basis):
    """Depth 1: neuron i is the line a_i·(u, v) + c_i = 0 in plane coordinates."""
    w, b = weights[0], biases[0]
    return (w @ basis.T).numpy(), (w @ origin + b).numpy()


def cross(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def clip(p0, d, polygon):
    """Parameter interval {t : p0 + t·d ∈ polygon} of a line in a counter-clockwise convex polygon."""
    lo, hi = -np.inf, np.inf
    for a, b in zip(polygon, np.roll(polygon, -1, 0)):
        e = b - a
        base, slope = cross(e, p0 - a), cross(e, d)  # inside: base + t·slope ≥ 0
        if abs(slope) < 1e-300:
            if base < 0:
                return np.inf, -np.inf
        elif slope > 0:
            lo = max(lo, -base / slope)
        else:
            hi = min(hi, -base / slope)
    return lo, hi


def square(h):
    return np.array([[-h, -h], [h, -h], [h, h], [-h, h]], dtype=float)


# --- depth 1: line arrangements ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n_lines", [1, 6, 17, 30])
def test_depth_one_count_is_one_plus_lines_plus_intersections(seed, n_lines):
    in_dim = 2 if seed % 2 == 0 else 3
    weights, biases = net(in_dim, [n_lines], seed)
    origin, basis = plane(in_dim, seed)
    h = 1.3
    a, c = plane_lines(weights, biases, origin, basis)
    corners = square(h) @ a.T + c  # (4, N)
    meets = (corners.min(0) < 0) & (corners.max(0) > 0)
    inside = 0
    for i, j in itertools.combinations(range(n_lines), 2):
        point = np.linalg.solve(np.stack([a[i], a[j]]), -np.array([c[i], c[j]]))
        inside += bool(np.all(np.abs(point) < h))
    part = partition_2d(weights, biases, origin, basis, h)
    assert part.n_regions == 1 + meets.sum() + inside
    length = 0.0
    for ai, ci in zip(a, c):  # chord of each line: clip it, parametrized by arc length
        lo, hi = clip(-ci * ai / (ai @ ai), np.array([-ai[1], ai[0]]) / np.linalg.norm(ai), square(h))
        length += max(hi - lo, 0.0)
    assert part.nodal_length == pytest.approx(length, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n_lines", [2, 9, 24])
def test_zaslavsky_whole_plane(seed, n_lines):
    """L = 1 and a square holding every intersection: 1 + N + N(N − 1)/2 regions (Hanin §4.2)."""
    weights, biases = net(2, [n_lines], seed)
    a, c = weights[0].numpy(), biases[0].numpy()
    pairs = itertools.combinations(range(n_lines), 2)
    points = [np.linalg.solve(np.stack([a[i], a[j]]), -np.array([c[i], c[j]])) for i, j in pairs]
    h = 1.5 * np.abs(points).max()
    part = partition_2d(weights, biases, torch.zeros(2), torch.eye(2, dtype=F64), h)
    assert part.n_regions == 1 + n_lines + n_lines * (n_lines - 1) // 2


def test_lines_through_vertices_make_no_slivers():
    """Non-generic depth 1: four lines through the centre (two through corners) and one on an edge."""
    h = 1.0
    weights = [torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0], [1.0, 1.0], [1.0, 0.0]], dtype=F64)]
    biases = [torch.tensor([0.0, 0.0, 0.0, 0.0, -h], dtype=F64)]
    part = partition_2d(weights, biases, torch.zeros(2), torch.eye(2), h)
    assert part.n_regions == 8
    assert part.nodal_length == pytest.approx(4 * h + 4 * np.sqrt(2) * h, rel=1e-14)
    assert np.allclose(signed_areas(part), h * h / 2)
    t = breakpoints_1d(weights, biases, torch.tensor([-1.0, -0.5]), torch.tensor([1.0, 0.5]))
    assert torch.allclose(t, torch.full((4,), 0.5, dtype=F64), rtol=0, atol=1e-15)  # one per neuron


# --- deeper nets: the subdivision is a consistent planar partition ------------------------------------
def planar_graph(part, h):
    """Merge coincident vertices, split cell edges at T-junctions; return V, sub-edges → cells."""
    polygons = [v.numpy() for v, _ in part.cells]
    points = np.concatenate(polygons)
    pairs = cKDTree(points).query_pairs(r=1e-7 * h, output_type="ndarray")
    graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(points),) * 2)
    n_vertices, label = connected_components(graph, directed=False)
    where = np.zeros((n_vertices, 2))
    where[label] = points
    edges, owner, start = [], [], 0
    for cell, polygon in enumerate(polygons):
        ids = label[start : start + len(polygon)]
        start += len(polygon)
        for a, b in zip(ids, np.roll(ids, -1)):
            if a != b:
                edges.append((a, b))
                owner.append(cell)
    edges = np.array(edges)
    a, d = where[edges[:, 0]], where[edges[:, 1]] - where[edges[:, 0]]
    rel = where[None] - a[:, None]  # (E, V, 2)
    s = (rel * d[:, None]).sum(-1) / (d * d).sum(1)[:, None]
    dist = np.abs(cross(d[:, None], rel)) / np.linalg.norm(d, axis=1)[:, None]
    on = (s > 1e-9) & (s < 1 - 1e-9) & (dist < 1e-7 * h)
    sub_edges = {}
    for e, (u, w) in enumerate(edges):
        chain = [u, *np.flatnonzero(on[e])[np.argsort(s[e, on[e]])], w]
        for p, q in zip(chain[:-1], chain[1:]):
            sub_edges.setdefault((min(p, q), max(p, q)), []).append(owner[e])
    return n_vertices, where, sub_edges


PARTITION_CASES = [  # (in_dim, widths, seed, half_width)
    (2, [6, 5, 4], 0, 1.5),
    (2, [8, 8], 1, 1.0),
    (2, [3, 3, 3, 3, 3], 2, 2.0),
    (3, [5, 6, 4], 3, 1.0),
    (2, [12, 10, 8], 4, 0.7),
]


@pytest.fixture(scope="module", params=PARTITION_CASES, ids=lambda c: f"N0={c[0]}-{c[1]}-seed{c[2]}")
def case(request):
    in_dim, widths, seed, h = request.param
    weights, biases = net(in_dim, widths, seed)
    origin, basis = plane(in_dim, seed)
    return weights, biases, origin, basis, h, partition_2d(weights, biases, origin, basis, h)


def signed_areas(part):
    out = []
    for v, _ in part.cells:
        x, y = v[:, 0].numpy(), v[:, 1].numpy()
        out.append(0.5 * (x @ np.roll(y, -1) - y @ np.roll(x, -1)))
    return np.array(out)


def test_cells_tile_the_square(case):
    *_, h, part = case
    areas = signed_areas(part)
    assert part.n_regions > 10
    assert (areas > 0).all()  # counter-clockwise, non-degenerate
    assert areas.sum() == pytest.approx((2 * h) ** 2, rel=1e-9)


def test_euler_characteristic_and_adjacency(case):
    *_, h, part = case
    n_vertices, where, sub_edges = planar_graph(part, h)
    assert n_vertices - len(sub_edges) + part.n_regions == 1  # V − E + F = 1 for a disk
    patterns = part.patterns.numpy()
    at_side = np.abs(where) > h * (1 - 1e-9)  # vertex on the side u = ±h (column 0) or v = ±h
    for (p, q), cells in sub_edges.items():
        on_boundary = np.any(at_side[p] & at_side[q] & (np.sign(where[p]) == np.sign(where[q])))
        assert len(cells) == (1 if on_boundary else 2)
        if len(cells) == 2:
            assert (patterns[cells[0]] != patterns[cells[1]]).any()
    assert len(np.unique(patterns, axis=0)) == part.n_regions  # one cell per activation pattern


def test_centroid_pattern_is_the_stored_pattern(case):
    weights, biases, origin, basis, _, part = case
    centroids = torch.stack([v.mean(0) for v, _ in part.cells])  # the vertex mean lies inside a convex cell
    assert torch.equal(regions._patterns(weights, biases, origin + centroids @ basis), part.patterns)


def test_nodal_length_is_half_the_interior_perimeter(case):
    *_, h, part = case
    perimeter = sum(torch.linalg.vector_norm(v - v.roll(-1, 0), dim=1).sum().item() for v, _ in part.cells)
    assert part.nodal_length == pytest.approx((perimeter - 8 * h) / 2, rel=1e-9)


# --- grid sampling ---------------------------------------------------------------------------------
def test_grid_undercounts_and_converges():
    weights, biases = net(2, [6, 5, 4], 0)
    exact = partition_2d(weights, biases, O2, I2, 1.5).n_regions
    counts = [count_patterns_grid(weights, biases, O2, I2, 1.5, 2**k + 1) for k in range(2, 10)]  # 5 … 513
    assert counts == sorted(counts)  # nested grids
    assert max(counts) <= exact
    assert counts[0] < exact == counts[-1]


def test_grid_never_exceeds_exact(case):
    weights, biases, origin, basis, h, part = case
    assert count_patterns_grid(weights, biases, origin, basis, h, 301) <= part.n_regions


# --- 1-D ---------------------------------------------------------------------------------------------
def test_breakpoints_match_fine_sampling():
    weights, biases = net(2, [8, 8, 8], 5)
    start, end = torch.tensor([-2.0, -1.0], dtype=F64), torch.tensor([2.0, 1.5], dtype=F64)
    exact = breakpoints_1d(weights, biases, start, end)
    t = torch.linspace(0, 1, 200_001, dtype=F64)
    on = regions._patterns(weights, biases, torch.lerp(start, end, t[:, None]))
    flips = (on[1:] ^ on[:-1]).nonzero()[:, 0]
    assert exact.numel() == flips.numel() > 10
    assert torch.allclose(exact, t[flips] + 0.5 / 200_000, atol=1e-5)  # each in its sample interval


def test_breakpoints_match_partition_crossings(case):
    weights, biases, origin, basis, h, part = case
    p0, p1 = np.array([-0.9 * h, -0.3 * h]), np.array([0.8 * h, 0.95 * h])
    entries = []
    for v, _ in part.cells:
        lo, hi = clip(p0, p1 - p0, v.numpy())
        lo, hi = max(lo, 0.0), min(hi, 1.0)
        if hi - lo > 1e-12:
            entries.append(lo)
    crossings = np.sort(entries)[1:]  # each traversed cell but the first is entered at a crossing
    start, end = (origin + torch.from_numpy(p) @ basis for p in (p0, p1))
    exact = breakpoints_1d(weights, biases, start, end)
    assert exact.numel() == len(crossings) > 0
    np.testing.assert_allclose(exact.numpy(), crossings, atol=1e-9)


def test_batched_counts_match_single_segments():
    weights, biases = net(3, [7, 6], 6)
    g = torch.Generator().manual_seed(6)
    starts, ends = torch.randn(300, 3, generator=g, dtype=F64), torch.randn(300, 3, generator=g, dtype=F64)
    counts = count_breakpoints_1d(weights, biases, starts, ends)  # 300 > one chunk of 256
    single = [breakpoints_1d(weights, biases, s, e).numel() for s, e in zip(starts, ends)]
    assert counts.tolist() == single
    assert count_breakpoints_1d(weights, biases, starts[:0], ends[:0]).shape == (0,)


def test_hat_function_breakpoints():
    """Hanin §1.1.2: f(x) = σ((2, −4)·σ((1, 1)ᵀx + (0, −1/2)ᵀ)) is the hat with kinks at 0, 1/2, 1."""
    weights = [torch.tensor([[1.0], [1.0]], dtype=F64), torch.tensor([[2.0, -4.0]], dtype=F64)]
    biases = [torch.tensor([0.0, -0.5], dtype=F64), torch.tensor([0.0], dtype=F64)]
    t = breakpoints_1d(weights, biases, torch.tensor([-1.0]), torch.tensor([2.0]))
    assert torch.allclose(t, torch.tensor([1 / 3, 1 / 2, 2 / 3], dtype=F64), rtol=0, atol=1e-15)
    x = torch.linspace(-1, 2, 301, dtype=F64)
    f = (weights[1] @ (weights[0] @ x[None] + biases[0][:, None]).clamp(min=0)).clamp(min=0)[0]  # outer σ as in the text
    hat = torch.where((x >= 0) & (x <= 0.5), 2 * x, torch.where((x > 0.5) & (x <= 1), 2 - 2 * x, 0.0))
    assert torch.allclose(f, hat, atol=1e-12)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("width", [1, 4, 25])
def test_one_layer_breakpoints_lemma_1_1_2(seed, width):
    """Lemma 1.1.2: a one-layer 1-D net breaks exactly at ξ_i = −b_i/W_i, so at most N₁ times."""
    weights, biases = net(1, [width], seed)
    start, end = torch.tensor([-3.0], dtype=F64), torch.tensor([4.0], dtype=F64)
    t = breakpoints_1d(weights, biases, start, end)
    xi = -biases[0] / weights[0][:, 0]
    expected = torch.sort((xi[(xi > -3) & (xi < 4)] + 3) / 7).values
    assert t.numel() <= width
    assert torch.allclose(t, expected, rtol=0, atol=1e-14)


# --- random nets and bad input ------------------------------------------------------------------------
def test_accepts_parameters_and_float32():
    weights, biases = net(2, [6, 4], 8)
    params = [torch.nn.Parameter(x.float()) for x in (*weights, *biases)]
    part = partition_2d(params[:2], params[2:], O2, I2, 1.0)
    assert part.n_regions == partition_2d(weights, biases, O2, I2, 1.0).n_regions
    assert count_patterns_grid(params[:2], params[2:], O2, I2, 1.0, 65) <= part.n_regions


def test_random_relu_net_follows_eq_4_0_1():
    weights, biases = net(50, [400, 300], 0)
    assert [tuple(w.shape) for w in weights] == [(400, 50), (300, 400)]
    assert weights[0].dtype == F64
    assert weights[0].var().item() == pytest.approx(2 / 50, rel=0.03)
    assert weights[1].var().item() == pytest.approx(2 / 400, rel=0.03)
    assert torch.cat(biases).var().item() == pytest.approx(1.0, rel=0.1)
    assert torch.equal(net(2, [3], 9)[0][0], net(2, [3], 9)[0][0])


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda w, b: partition_2d(w, b, O2, torch.tensor([[1.0, 2.0], [2.0, 4.0]]), 1.0), "not rank 2"),
        (lambda w, b: partition_2d(w, b, O2, torch.eye(3), 1.0), r"basis must have shape \(2, 2\)"),
        (lambda w, b: partition_2d(w, b, torch.zeros(3), I2, 1.0), r"origin must have shape \(2,\)"),
        (lambda w, b: partition_2d(w, b, O2, I2, 0.0), "half_width must be a positive"),
        (lambda w, b: partition_2d(w, b, O2, I2, -1.0), "half_width must be a positive"),
        (lambda w, b: partition_2d(w, b, O2, I2, float("nan")), "half_width must be a positive"),
        (lambda w, b: partition_2d(w, b, O2, I2, 1.0, tol=-1.0), "tol must be"),
        (
            lambda w, b: partition_2d([w[0], torch.zeros(3, 4)], b, O2, I2, 1.0),
            r"layer 2: weight shape \(3, 4\) does not chain with layer 1 weight shape \(5, 2\)",
        ),
        (
            lambda w, b: partition_2d(w, [torch.zeros(4), b[1]], O2, I2, 1.0),
            r"layer 1: bias shape \(4,\) does not match weight shape \(5, 2\)",
        ),
        (lambda w, b: partition_2d(w, b[:1], O2, I2, 1.0), "2 weight matrices but 1 bias"),
        (lambda w, b: partition_2d([], [], O2, I2, 1.0), "at least one hidden layer"),
        (lambda w, b: breakpoints_1d(w, b, O2, torch.zeros(3)), r"start and end must both have shape \(2,\)"),
        (lambda w, b: count_breakpoints_1d(w, b, torch.zeros(4, 3), torch.zeros(4, 3)), r"\(n_segments, 2\)"),
        (lambda w, b: count_patterns_grid(w, b, O2, I2, 1.0, 1), "resolution must be an integer"),
        (lambda w, b: random_relu_net(2, [3, 0]), "positive integers"),
    ],
)
def test_bad_input_names_the_problem(call, match):
    weights, biases = net(2, [5, 3], 0)
    with pytest.raises(ValueError, match=match):
        call(weights, biases)
