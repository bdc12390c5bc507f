"""widenet.curvature against dense Hessians, autograd Jacobians and exact identities on small nets."""

from __future__ import annotations

import math

import pytest
import torch
from torch import func as tf

from widenet import activations, curvature, models
from widenet.curvature import _common
from widenet.models import MLP

F64 = torch.float64


def _net(depth=2, width=6, activation="tanh", bias_std=0.5, seed=0, **kw):
    gen = torch.Generator().manual_seed(seed)
    return MLP(4, width, depth, activation=activation, bias_std=bias_std, dtype=F64, generator=gen, **kw)


def _x(n=3, d=4, seed=1):
    return torch.randn(n, d, dtype=F64, generator=torch.Generator().manual_seed(seed))


def _dense_flat_hessians(model, x):
    return curvature.dense_output_hessian(model, x)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_hvp_matches_dense_hessian(depth):
    model, x = _net(depth), _x()
    hessians = _dense_flat_hessians(model, x)  # (n, P, P)
    # the dense reference itself against autograd's Hessian of the plain module call, one input
    names = [n for n, _ in model.named_parameters()]
    direct = tf.hessian(lambda *ps: tf.functional_call(model, dict(zip(names, ps)), (x[:1],)).sum(), argnums=tuple(range(len(names))))(
        *[p.detach() for p in model.parameters()])
    assert float(direct[0][0].reshape(-1)[0]) == pytest.approx(float(hessians[0, 0, 0]), abs=1e-14)
    v = {n: torch.randn(x.shape[0], *p.shape, dtype=F64, generator=torch.Generator().manual_seed(2)) for n, p in model.named_parameters()}
    hv = curvature.hvp(model, x, v)
    flat_v = torch.cat([v[n].reshape(x.shape[0], -1) for n in names], -1)
    flat_hv = torch.cat([hv[n].reshape(x.shape[0], -1) for n in names], -1)
    torch.testing.assert_close(flat_hv, torch.einsum("npq,nq->np", hessians, flat_v), rtol=0, atol=1e-13)


def test_hvp_on_any_module_and_ensembles():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Softplus(), torch.nn.Linear(5, 1)).double()
    x = _x()
    v = {n: torch.ones_like(p) for n, p in seq.named_parameters()}
    hv = curvature.hvp(seq, x, v)
    dense = curvature.dense_output_hessian(seq, x)
    flat = torch.cat([hv[n].reshape(3, -1) for n in v], -1)
    torch.testing.assert_close(flat, dense.sum(-1), rtol=0, atol=1e-13)
    model = _net(2)
    ens = model.sample_parameters(3, generator=torch.Generator().manual_seed(3))
    both = curvature.hvp(model, x, {n: torch.ones_like(p) for n, p in ens.items()}, params=ens)
    assert both["weight1"].shape == (3, 3, 6, 6)
    one = curvature.hvp(model, x, {n: torch.ones_like(p[0]) for n, p in ens.items()}, params={n: p[1] for n, p in ens.items()})
    torch.testing.assert_close(both["weight1"][1], one["weight1"], rtol=0, atol=1e-14)


@pytest.mark.parametrize("depth,activation", [(1, "tanh"), (2, "softplus"), (3, "erf")])
def test_lanczos_norm_matches_dense(depth, activation):
    model, x = _net(depth, activation=activation), _x()
    dense = torch.linalg.eigvalsh(_dense_flat_hessians(model, x)).abs().amax(-1)
    lanczos = curvature.output_hessian_norm(model, x, method="lanczos", tol=1e-10)
    torch.testing.assert_close(lanczos, dense, rtol=1e-9, atol=0)
    # auto is dense on a net this small; the stated tolerance 1e-6 bounds the relative error
    assert torch.equal(curvature.output_hessian_norm(model, x), curvature.output_hessian_norm(model, x, method="dense"))
    loose = curvature.output_hessian_norm(model, x, method="lanczos", tol=1e-6)
    assert float(((loose - dense).abs() / dense).max()) <= 1e-6


def test_lanczos_on_ensembles_and_eigenvectors():
    model, x = _net(2, width=8), _x(4)
    ens = model.sample_parameters(3, generator=torch.Generator().manual_seed(4))
    norms = curvature.output_hessian_norm(model, x, params=ens, method="lanczos", tol=1e-10)
    assert norms.shape == (3, 4)
    torch.testing.assert_close(norms, curvature.output_hessian_norm(model, x, params=ens, method="dense"), rtol=1e-9, atol=0)
    res = curvature.output_hessian_eigenpairs(model, x, k=2, vectors=True, tol=1e-10)
    hessians = _dense_flat_hessians(model, x)
    residual = torch.einsum("npq,nkq->nkp", hessians, res.vectors) - res.values[..., None] * res.vectors
    assert float(residual.abs().max()) < 1e-8
    torch.testing.assert_close(res.vectors.norm(dim=-1), torch.ones(4, 2, dtype=F64))
    eig = torch.linalg.eigvalsh(hessians)
    top2 = eig.gather(-1, eig.abs().topk(2, dim=-1).indices)
    torch.testing.assert_close(res.values, top2, rtol=1e-9, atol=1e-12)


def test_spectrum_comes_in_near_pairs_at_one_hidden_layer():
    """Each neuron block [[vσ″ggᵀ, σ′g], [σ′gᵀ, 0]] has eigenvalues of both signs: why power iteration on H stalls."""
    model, x = _net(1, width=5), _x(1)
    eig = torch.linalg.eigvalsh(_dense_flat_hessians(model, x)[0])
    nonzero = eig[eig.abs() > 1e-12]
    assert (nonzero > 0).sum() == (nonzero < 0).sum() == 5


def test_single_layer_closed_form_is_the_hessian_norm():
    model, x = _net(1, width=7, activation="softplus", bias_std=0.8), _x(5)
    dense = torch.linalg.eigvalsh(_dense_flat_hessians(model, x)).abs().amax(-1)
    torch.testing.assert_close(curvature.single_layer_hessian_norm(model, x), dense, rtol=1e-12, atol=0)
    ens = model.sample_parameters(2, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(curvature.single_layer_hessian_norm(model, x, params=ens),
                               curvature.output_hessian_norm(model, x, params=ens, method="dense"), rtol=1e-12, atol=0)


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_expected_single_layer_norm_matches_monte_carlo(activation):
    """E[max of m blocks] by quadrature against 4000 sampled maxima (standard error ≈ 0.3 %)."""
    m, s2, draws = 64, 1.3, 4000
    gen = torch.Generator().manual_seed(6)
    u = math.sqrt(s2) * torch.randn(draws, m, dtype=F64, generator=gen)
    v = torch.randn(draws, m, dtype=F64, generator=gen)
    d1, d2 = _common._sigma_derivatives(activations.get(activation), u.reshape(-1))
    maxima = _common._block_top(v, d1.reshape(u.shape), d2.reshape(u.shape), torch.tensor(s2)).amax(-1) / math.sqrt(m)
    law = curvature.expected_single_layer_hessian_norm([m], activation, s2=s2)[0]
    se = float(maxima.std()) / math.sqrt(draws)
    assert abs(float(maxima.mean()) - law) < 4 * se


def test_gradient_gram_matches_autograd_and_layer_one_is_orthogonal():
    model, x = MLP(4, widths=[5, 3, 6], activation="tanh", bias_std=0.7, dtype=F64,
                   generator=torch.Generator().manual_seed(7)), _x()
    own = {n: p.detach() for n, p in model.named_parameters()}
    for layer in (1, 2, 3):
        jac = tf.jacrev(lambda p: models.forward(model, p, x)[0][layer - 1])(own)  # (n, m, param…)
        flat = torch.cat([j.reshape(*j.shape[:2], -1) for j in jac.values()], -1)
        gram = torch.einsum("nip,njp->nij", flat, flat)
        torch.testing.assert_close(curvature.neuron_gradient_gram(model, x, layer), gram, rtol=1e-12, atol=1e-14)
        cos = gram / gram.diagonal(dim1=-2, dim2=-1).sqrt()[..., :, None] / gram.diagonal(dim1=-2, dim2=-1).sqrt()[..., None, :]
        m = cos.shape[-1]
        mean_abs = (cos.abs().sum((-2, -1)) - m).mean() / (m * (m - 1))
        assert float(curvature.gradient_orthogonality(model, x, layer)) == pytest.approx(float(mean_abs), abs=1e-13)
    assert float(curvature.gradient_orthogonality(model, x, 1)) == 0.0
    ens = model.sample_parameters(2, generator=torch.Generator().manual_seed(8))
    both = curvature.gradient_orthogonality(model, x, 2, params=ens)
    assert both.shape == (2,)
    assert float(both[1]) == pytest.approx(float(curvature.gradient_orthogonality(model, x, 2, {n: p[1] for n, p in ens.items()})), abs=1e-14)


def _loss_setup():
    model, x = _net(2, width=5), _x(6)
    y = torch.randn(6, dtype=F64, generator=torch.Generator().manual_seed(9))
    loss = torch.nn.functional.mse_loss
    layout = _common._Layout.of(model)
    theta = layout.flatten(dict(model.named_parameters()))[0]
    dense = tf.hessian(lambda t: loss(tf.functional_call(model, layout.unflatten(t), (x,)), y))(theta)
    return model, x, y, loss, dense


def test_loss_hessian_top_eigenvalues_trace_and_density_match_dense():
    model, x, y, loss, dense = _loss_setup()
    eig = torch.linalg.eigvalsh(dense)
    top = curvature.loss_hessian_eigenvalues(model, x, y, loss, k=4, tol=1e-10)
    torch.testing.assert_close(top, eig.flip(0)[:4], rtol=1e-8, atol=1e-12)
    trace = curvature.loss_hessian_trace(model, x, y, loss, n_probes=400, generator=torch.Generator().manual_seed(10))
    assert abs(float(trace.estimate - eig.sum())) < 4 * float(trace.stderr)
    density = curvature.loss_hessian_density(model, x, y, loss, n_probes=3, n_iter=12)
    torch.testing.assert_close(density.weights.sum(-1), torch.ones(3, dtype=F64))
    # Gauss quadrature is exact for polynomials of degree < 2m: Σ w θ^p = vᵀHᵖv for p ≤ 2m − 1
    v = _common._start_vector((3, dense.shape[0]), dense, None)
    v = v / v.norm(dim=-1, keepdim=True)
    for p in range(0, 23, 2):
        exact = torch.einsum("sp,pq,sq->s", v, torch.linalg.matrix_power(dense, p), v)
        torch.testing.assert_close((density.weights * density.nodes**p).sum(-1), exact, rtol=1e-8, atol=1e-14)
    # with as many steps as parameters the nodes are the eigenvalues themselves
    full = curvature.loss_hessian_density(model, x, y, loss, n_probes=1, n_iter=dense.shape[0])
    nodes = full.nodes[0][full.weights[0] > 1e-20]
    assert float((nodes[:, None] - eig[None, :]).abs().amin(1).max()) < 1e-9
    grid = torch.linspace(float(eig[0]) - 1, float(eig[-1]) + 1, 4001, dtype=F64)
    area = torch.trapezoid(density.smoothed(grid, 0.05), grid)
    assert float(area) == pytest.approx(1.0, abs=1e-6)


def test_bad_input_names_the_argument():
    model, x = _net(2), _x()
    with pytest.raises(ValueError, match="method"):
        curvature.output_hessian_norm(model, x, method="power")
    with pytest.raises(ValueError, match="model: activation 'relu'"):
        curvature.output_hessian_norm(_net(2, activation="relu"), x)
    with pytest.raises(ValueError, match="model: activation 'relu'"):
        curvature.single_layer_hessian_norm(_net(1, activation="relu"), x)
    with pytest.raises(ValueError, match="model: output must be one scalar"):
        curvature.output_hessian_norm(torch.nn.Linear(4, 2).double(), x)
    for layer in (0, 3, 1.0, True):
        with pytest.raises(ValueError, match="layer must be an integer in 1…2"):
            curvature.gradient_orthogonality(model, x, layer)
    with pytest.raises(ValueError, match="loss must be a callable"):
        curvature.loss_hessian_trace(model, x, torch.zeros(3, dtype=F64), "mse")
    with pytest.raises(ValueError, match="x must have shape"):
        curvature.output_hessian_norm(model, x[0])
    with pytest.raises(ValueError, match="which"):
        curvature.lanczos(lambda v: v, torch.ones(3), which="smallest")


def test_assembly_model_top_eigenpair_and_bound():
    gen = torch.Generator().manual_seed(11)
    net = curvature.AssemblyModel(3, 4, 2, coefficients="gaussian", generator=gen, dtype=F64)
    x = torch.randn(5, 3, dtype=F64, generator=gen)
    hessians = curvature.dense_output_hessian(net, x)
    eig = torch.linalg.eigvalsh(hessians)
    params = {k: v.detach() for k, v in net.named_parameters()}
    value, direction = net.top_eigenpair(params, x)
    torch.testing.assert_close(value, eig.gather(-1, eig.abs().argmax(-1, keepdim=True))[:, 0], rtol=1e-12, atol=1e-14)
    flat = torch.cat([direction["inner"].reshape(5, -1), direction["outer"].reshape(5, -1)], -1)
    residual = torch.einsum("npq,nq->np", hessians, flat) - value[:, None] * flat
    assert float(residual.abs().max()) < 1e-12
    # β on the ball bounds the Hessian norm anywhere within radius R of the centre
    shift = {k: torch.randn_like(v) for k, v in params.items()}
    size = torch.sqrt(sum((t**2).sum() for t in shift.values()))
    moved = {k: params[k] + 0.9 * shift[k] / size for k in params}
    norm_moved = torch.linalg.eigvalsh(curvature.dense_output_hessian(net, x, moved)).abs().amax(-1)
    bound = 2 * net.remainder_bound(params, x, 1.0)  # = β R² / √m at R = 1, i.e. β/√m
    assert bool((norm_moved <= bound).all())


def test_relu_autograd_hessian_is_not_zero_only_its_sigma_second_term_is():
    """Why relu is refused: autograd drops σ'' = δ but keeps the cross-layer terms (∂²f/∂v_i∂w_i = σ′(u_i)x/√m),
    so "the output Hessian of relu is zero almost everywhere" is false; it just misses the kinks."""
    model, x = _net(1, activation="relu", bias_std=0.0), _x()
    norms = torch.linalg.eigvalsh(curvature.dense_output_hessian(model, x)).abs().amax(-1)
    assert bool((norms > 0.1).all())


def test_taylor_remainder_is_exact_on_a_quadratic_and_matches_closed_form_jvp():
    a = torch.randn(4, 4, dtype=F64, generator=torch.Generator().manual_seed(12))
    a = a + a.T
    theta, delta = {"w": torch.randn(3, 4, dtype=F64)}, {"w": torch.randn(3, 4, dtype=F64)}
    quad = lambda p: 0.5 * torch.einsum("...i,ij,...j->...", p["w"], a, p["w"]) + p["w"].sum(-1)  # noqa: E731
    expected = 0.5 * 4.0 * torch.einsum("...i,ij,...j->...", delta["w"], a, delta["w"])
    torch.testing.assert_close(curvature.taylor_remainder(quad, theta, delta, 2.0), expected, rtol=1e-12, atol=1e-12)
    model, x = _net(2), _x()
    params = model.sample_parameters(2, generator=torch.Generator().manual_seed(13))
    direction = {k: torch.randn_like(v) for k, v in params.items()}
    value, slope = models.jvp(model, params, x, direction)
    moved = models.outputs(model, {k: params[k] + 0.5 * direction[k] for k in params}, x)
    torch.testing.assert_close(curvature.taylor_remainder(lambda p: models.outputs(model, p, x), params, direction, 0.5),
                               moved - value - 0.5 * slope, rtol=1e-10, atol=1e-13)
