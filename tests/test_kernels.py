"""Infinite-width kernels (widenet.kernels) against Monte Carlo, quadrature, wide networks and the
large-depth statements of Hanin §3.3.3 / Pleiss Fig. 1 / Pleiss Thm 1."""

import math

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev, vmap

from widenet import activations, kernels
from widenet.models import MLP

F64 = torch.float64


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _slope(x, y) -> float:
    return float(np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)[0])


# --- Gaussian expectations --------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "erf"])
def test_closed_forms_match_monte_carlo_within_5_standard_errors(name):
    """E[σσ], E[σ'σ'] for (Var u, Var v, ρ) triples vs 4·10⁵ Gaussian samples: |Δ| < 5 SE each."""
    act = activations.get(name)
    n = 400_000
    z1, z2 = torch.randn(2, n, generator=_gen(0), dtype=F64)
    for k11, k22, rho in [(1.0, 1.0, 0.0), (0.5, 2.0, 0.6), (2.0, 1.5, -0.8), (1.0, 1.0, 0.99)]:
        u = math.sqrt(k11) * z1
        v = math.sqrt(k22) * (rho * z1 + math.sqrt(1 - rho**2) * z2)
        k12 = rho * math.sqrt(k11 * k22)
        exact = kernels.gaussian_moments(name, torch.tensor(k11, dtype=F64), torch.tensor(k22, dtype=F64),
                                         torch.tensor(k12, dtype=F64))
        for sample, value in zip((act.fn(u) * act.fn(v), act.derivative(u) * act.derivative(v)), exact):
            se = sample.std() / math.sqrt(n)
            assert abs(sample.mean() - value) < 5 * se, (k11, k22, rho)


@pytest.mark.parametrize("name, n_nodes", [("relu", 16), ("erf", 160)])
def test_quadrature_matches_closed_forms_to_1e_8(name, n_nodes):
    """relu: exact angular rule (kinks split off); erf: 160² Gauss–Hermite nodes.
    Variances 0.3 … 2.5, ρ ∈ [−1, 1] (21 values, endpoints included)."""
    var = torch.tensor([0.3, 1.0, 2.5], dtype=F64)
    rho = torch.linspace(-1, 1, 21, dtype=F64)
    k11, k22 = var[:, None, None], var[None, :, None]
    k12 = rho * torch.sqrt(k11 * k22)
    closed = kernels.gaussian_moments(name, k11, k22, k12)
    quad = kernels.gaussian_moments(name, k11, k22, k12, quadrature=True, n_nodes=n_nodes)
    for c, q in zip(closed, quad):
        torch.testing.assert_close(q, c, rtol=0, atol=1e-8)


@pytest.mark.parametrize("name, n_nodes", [("relu", 16), ("erf", 160)])
def test_deep_recursion_quadrature_matches_closed_forms(name, n_nodes):
    x = torch.randn(5, 3, generator=_gen(1), dtype=F64)
    kw = dict(depth=3, activation=name, weight_std=1.3, bias_std=0.4)
    closed = kernels.analytic(x, **kw)
    quad = kernels.analytic(x, **kw, quadrature=True, n_nodes=n_nodes)
    for key in ("nngp", "ntk"):
        torch.testing.assert_close(quad[key], closed[key], rtol=0, atol=1e-8)


@pytest.mark.parametrize("name", ["tanh", "arctan", "softplus"])
def test_gauss_hermite_converged_at_default_nodes_for_unit_variance(name):
    """Default 96² nodes vs 256² nodes on depth-2 kernels with variances ≈ 1.1: agree to 1e-6 (measured
    NTK gaps: tanh 1.2e-9, arctan 1.5e-7 (poles at ±i, nearer than tanh's ±iπ/2), softplus 1e-15)."""
    x = torch.nn.functional.normalize(torch.randn(4, 3, generator=_gen(2), dtype=F64), dim=1) * math.sqrt(3)
    default = kernels.analytic(x, depth=2, activation=name, bias_std=0.3)
    fine = kernels.analytic(x, depth=2, activation=name, bias_std=0.3, n_nodes=256)
    for key in ("nngp", "ntk"):
        torch.testing.assert_close(default[key], fine[key], rtol=0, atol=1e-6)


# --- API conventions ---------------------------------------------------------------------------
def test_symmetric_call_dtype_and_layers_are_consistent():
    x1 = torch.randn(4, 3, generator=_gen(3))
    x2 = torch.randn(2, 3, generator=_gen(4))
    kw = dict(depth=3, activation="tanh", weight_std=1.2, bias_std=0.2)
    sym = kernels.analytic(x1, **kw, dtype=F64)
    assert sym["nngp"].dtype == F64 and sym["nngp"].shape == (4, 4)
    assert kernels.analytic(x1, x2, **kw)["ntk"].dtype == torch.float32
    both = kernels.analytic(x1, x1, **kw, dtype=F64)
    torch.testing.assert_close(sym["ntk"], both["ntk"], rtol=1e-12, atol=0)
    # Gauss–Hermite conditions on the first argument, so symmetry holds to quadrature accuracy only
    torch.testing.assert_close(sym["nngp"], sym["nngp"].T, rtol=0, atol=1e-8)
    layers = kernels.analytic_layers(x1, x2, **kw, dtype=F64)
    assert layers["nngp"].shape == (4, 4, 2)
    for ell in (1, 2):
        shallow = kernels.analytic(x1, x2, **{**kw, "depth": ell}, dtype=F64)
        torch.testing.assert_close(layers["ntk"][ell], shallow["ntk"], rtol=1e-12, atol=0)
    input_kernel = 1.2**2 * x1.double() @ x2.double().T / 3 + 0.2**2
    torch.testing.assert_close(layers["nngp"][0], input_kernel, rtol=1e-12, atol=0)


def test_arccos_kernel_is_the_relu_expectation():
    """Pleiss Thm 1 vs the independent angular quadrature; analytic(depth=1) = arccos/d (P–Z Ex. 11.17)."""
    x1 = torch.randn(6, 4, generator=_gen(5), dtype=F64)
    x2 = torch.randn(3, 4, generator=_gen(6), dtype=F64)
    k = kernels.arccos_kernel(x1, x2)
    sq1, sq2 = (x1 * x1).sum(1)[:, None], (x2 * x2).sum(1)[None, :]
    quad, _ = kernels.gaussian_moments("relu", sq1, sq2, x1 @ x2.T, quadrature=True, n_nodes=16)
    torch.testing.assert_close(k, quad, rtol=0, atol=1e-12)
    shallow = kernels.analytic(x1, x2, depth=1, activation="relu")["nngp"]
    torch.testing.assert_close(shallow, k / 4, rtol=1e-12, atol=0)


# --- wide networks ------------------------------------------------------------------------------
def _per_parameter_grams(model: MLP, x: torch.Tensor, n_networks: int, generator) -> dict[str, torch.Tensor]:
    """{name: ∂f/∂θ_name · ∂f/∂θ_nameᵀ}, each (n_networks, n, n), for freshly sampled networks."""
    params = model.sample_parameters(n_networks, generator)
    jac = vmap(jacrev(lambda p: functional_call(model, p, (x,))))(params)
    return {k: torch.einsum("mip,mjp->mij", j.flatten(2), j.flatten(2)) for k, j in jac.items()}


def _assert_mean_within_5_se(sample: torch.Tensor, limit: torch.Tensor, rel_tol: float, label: str) -> None:
    mean, se = sample.mean(0), sample.std(0) / math.sqrt(sample.shape[0])
    assert ((mean - limit).abs() < 5 * se).all(), label
    assert (mean - limit).norm() / limit.norm() < rel_tol, label


CASES = [(name, depth, bias) for name in ("relu", "erf") for depth in (1, 2, 3) for bias in (0.0, 0.5)]


@pytest.mark.parametrize("name, depth, bias_std", CASES)
def test_analytic_matches_wide_networks(name, depth, bias_std):
    """ntk parameterization, 32 networks of width 512, inputs in R⁵. K̂_ntk = Σ_θ ∂f∂fᵀ; K̂_nngp is its
    readout part (σ_w²/n)·σ(z⁽ᴸ⁾)σ(z⁽ᴸ⁾)ᵀ + σ_b², the output covariance given the hidden layers. Every
    entry of the mean within 5 standard errors of the limit (the O(1/width) bias is ≈ √(32/512) = 0.25 SE)
    and relative Frobenius error < 5 % (measured ≤ 3.7 %)."""
    x = torch.randn(4, 5, generator=_gen(7))
    model = MLP(5, 512, depth, activation=name, weight_std=1.2, bias_std=bias_std)
    limit = kernels.analytic(x, depth=depth, activation=name, weight_std=1.2, bias_std=bias_std)
    gram = _per_parameter_grams(model, x, 32, _gen(8))
    _assert_mean_within_5_se(gram[f"weight{depth}"] + gram[f"bias{depth}"], limit["nngp"], 0.05, "nngp")
    _assert_mean_within_5_se(sum(gram.values()), limit["ntk"], 0.05, "ntk")


@pytest.mark.parametrize("name, depth, bias_std", CASES)
def test_lecun_ntk_matches_wide_standard_networks(name, depth, bias_std):
    """standard (LeCun) parameterization, 32 networks of width n = 512: the weights with fan-in n give
    (1/n)·K̂ within 5 SE of K^LC entrywise (max |z| measured 2.4; relative error < 5 %, measured ≤ 2.8 %);
    the input layer and biases add O(d/n) (total relative error < 6 %, measured ≤ 3.2 %)."""
    x = torch.randn(4, 5, generator=_gen(7))
    kw = dict(activation=name, weight_std=1.2, bias_std=bias_std)
    model = MLP(5, 512, depth, parameterization="standard", **kw)
    limit = kernels.lecun_ntk(x, depth=depth, **kw)
    gram = {k: g / 512 for k, g in _per_parameter_grams(model, x, 32, _gen(8)).items()}
    fan_in_n = sum(gram[f"weight{ell}"] for ell in range(1, depth + 1))
    _assert_mean_within_5_se(fan_in_n, limit, 0.05, "fan-in n")
    total = sum(gram.values()).mean(0)
    assert (total - limit).norm() / limit.norm() < 0.06
    # with the exact input-layer and bias remainder R/n, the whole (1/n)·K̂ is within 5 SE
    _assert_mean_within_5_se(sum(gram.values()), kernels.lecun_ntk(x, depth=depth, width=512, **kw), 0.05, "total")


# --- large depth (A4) ----------------------------------------------------------------------------
def test_relu_critical_variance_is_preserved_and_correlation_converges_like_ell_minus_2():
    """C_W = 2, no bias, φ = π/2: K(x,x) constant; 1 − C⁽ℓ⁾ slope over ℓ ∈ [100, 1000] is −2 ± 0.1
    (measured −1.93; the correction is O(log ℓ/ℓ)), and ℓ²(1 − C⁽ℓ⁾) → 9π²/2 (from ε′ = ε − (2√2/3π)ε^{3/2})
    within 5 % at ℓ = 1000 (measured 0.971·9π²/2). K(φ)/K(0) flattens with depth (Pleiss Fig. 1)."""
    depth = 1000
    x = kernels.unit_vectors(torch.linspace(0, math.pi, 7), 3, dtype=F64)
    k = kernels.analytic_layers(x, depth=depth, activation="relu", weight_std=math.sqrt(2))["nngp"]
    diag = torch.diagonal(k, dim1=1, dim2=2)
    torch.testing.assert_close(diag, torch.full_like(diag, 2 / 3), rtol=1e-12, atol=0)
    one_minus_c = 1 - k[:, 0, 3] / k[:, 0, 0]
    ell = torch.arange(100, depth + 1)
    assert _slope(ell, one_minus_c[ell]) == pytest.approx(-2, abs=0.1)
    assert depth**2 * one_minus_c[depth] == pytest.approx(9 * math.pi**2 / 2, rel=0.05)
    normalized_min = (k[:, 0, :] / k[:, 0, :1]).amin(1)
    assert (normalized_min[1:21].diff() > 0).all()


def test_tanh_variance_decays_like_one_over_two_ell():
    """C_W = 1, no bias, K⁽⁰⁾ = 1: 2ℓ·K⁽ℓ⁾(x,x) = 1.044, 1.014, 1.0023 at ℓ = 10, 100, 1000 (Hanin §3.3.3,
    with the README's sign fix K' ≈ K − 2K²; the gap is ≈ (5/6)·log ℓ/(2ℓ)). Assert within 1 % at ℓ = 1000
    and a monotone approach."""
    x = torch.ones(1, 2, dtype=F64)
    k = kernels.analytic_layers(x, depth=1000, activation="tanh")["nngp"][:, 0, 0]
    gaps = [abs(2 * ell * k[ell].item() - 1) for ell in (10, 100, 1000)]
    assert gaps[2] < 0.01
    assert gaps[0] > gaps[1] > gaps[2]


def test_linear_kernel_is_unchanged_with_depth():
    x = torch.randn(5, 3, generator=_gen(9), dtype=F64)
    k = kernels.analytic_layers(x, depth=20, activation="linear")["nngp"]
    torch.testing.assert_close(k, k[:1].expand_as(k), rtol=1e-12, atol=0)


@pytest.mark.parametrize("psi", [0.5, -1.0])
def test_shaped_tanh_matches_hanin_3_3_7_at_depth_1000(psi):
    """L = 1000, unit inputs in R² (K⁽⁰⁾(x,x) = 1/2) at 7 angles: layer ℓ vs eq. 3.3.7 at τ = ℓ/L for
    ℓ = 0, 250, 500, 1000, relative error < 1 % (measured ≤ 4·10⁻⁴: O(1/L)). 8 Gauss–Hermite nodes are
    exact for this cubic σ."""
    depth = 1000
    x = kernels.unit_vectors(torch.linspace(0, math.pi, 7), 2, dtype=F64)
    layers = kernels.analytic_layers(x, depth=depth, activation="shaped_tanh", psi=psi, n_nodes=8)["nngp"]
    tau = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=F64)
    limit = kernels.shaped_tanh_limit(x, psi=psi, tau=tau)
    scale = limit[:, :1, :1]  # K(x, x), the same for all unit inputs
    error = ((layers[(tau * depth).long()] - limit).abs() / scale).max()
    assert error < 0.01
    output = kernels.analytic(x, depth=depth, activation="shaped_tanh", psi=psi, n_nodes=8)["nngp"]
    torch.testing.assert_close(output, layers[-1], rtol=1e-12, atol=0)


# --- random features (A5) -------------------------------------------------------------------------
def test_random_features_converge_to_arccos_like_inverse_sqrt_d():
    """Mean over 64 draws of sup over 61 angles of |k_d − arccos|: log-log slope −0.5 ± 0.1 over
    d = 16 … 16384 (measured −0.49), and √d·error ≈ 1.1 at d = 16384 (assert < 2)."""
    x = kernels.unit_vectors(torch.linspace(0, math.pi, 61), 2, dtype=F64)
    limit = kernels.arccos_kernel(x[:1], x)
    ds = [16, 64, 256, 1024, 4096, 16384]
    gen = _gen(10)
    errors = [
        (kernels.random_features_kernel(x[:1], x, n_features=d, generator=gen, n_draws=64) - limit)
        .abs().amax((1, 2)).mean().item()
        for d in ds
    ]
    assert _slope(ds, errors) == pytest.approx(-0.5, abs=0.1)
    assert math.sqrt(ds[-1]) * errors[-1] < 2
    single = kernels.random_features_kernel(x, n_features=8, generator=_gen(11))
    assert single.shape == (61, 61)


# --- errors ---------------------------------------------------------------------------------------
def test_invalid_arguments_raise_value_error_naming_them():
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match="activation"):
        kernels.analytic(x, depth=2, activation="swish")
    for depth in (0, -1):
        with pytest.raises(ValueError, match="depth"):
            kernels.analytic_layers(x, depth=depth, activation="relu")
    with pytest.raises(ValueError, match="n_features"):
        kernels.random_features_kernel(x, n_features=0)
    with pytest.raises(ValueError, match="x1"):
        kernels.analytic(torch.randn(3), depth=1, activation="relu")
    with pytest.raises(ValueError, match="tau"):
        kernels.shaped_tanh_limit(torch.ones(1, 2), psi=1.0, tau=1.0)  # 2ψτK⁽⁰⁾ = 1: blow-up


def test_shaped_tanh_closed_form_matches_quadrature():
    """Isserlis' closed form for σ(t) = t + ψt³/(3L) equals Gauss–Hermite (exact for polynomials)."""
    from widenet import activations
    from widenet.kernels import gaussian_moments

    act = activations.get("shaped_tanh", psi=-1.3, depth=7)
    k11 = torch.tensor([0.4, 1.2, 2.0], dtype=torch.float64)
    k22 = torch.tensor([0.9, 0.3, 2.0], dtype=torch.float64)
    k12 = torch.tensor([0.2, -0.5, 2.0], dtype=torch.float64)
    closed = gaussian_moments(act, k11, k22, k12)
    quad = gaussian_moments(act, k11, k22, k12, quadrature=True)
    for a, b in zip(closed, quad):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_infinite_width_is_the_one_entry_point():
    """analytic, analytic_layers and lecun_ntk are views of infinite_width; with ``width`` the LeCun kernel
    gains the exact input-layer and bias terms R/n, at depth 1 R = 1 + σ_w²·E[σ′σ′]·(x·x′ + 1)."""
    x1, x2 = torch.randn(4, 3, generator=_gen(5), dtype=F64), torch.randn(3, 3, generator=_gen(6), dtype=F64)
    kw = dict(activation="relu", weight_std=1.3, bias_std=0.4)
    deep = kernels.infinite_width(x1, x2, depth=3, **kw, layers=True)
    assert {k: v.shape for k, v in deep.items()} == {k: (4, 4, 3) for k in ("nngp", "ntk", "lecun")}
    out = kernels.infinite_width(x1, x2, depth=3, **kw)
    for key in out:
        torch.testing.assert_close(out[key], deep[key][-1], rtol=0, atol=0)
    assert torch.equal(kernels.analytic(x1, x2, depth=3, **kw)["ntk"], out["ntk"])
    assert torch.equal(kernels.analytic_layers(x1, x2, depth=3, **kw)["nngp"], deep["nngp"])
    assert torch.equal(kernels.lecun_ntk(x1, x2, depth=3, **kw), out["lecun"])
    n = 512
    rest = n * (kernels.lecun_ntk(x1, x2, depth=1, width=n, **kw) - kernels.lecun_ntk(x1, x2, depth=1, **kw))
    sigma = 1.3**2 * x1 @ x2.T / 3 + 0.4**2
    diag1, diag2 = 1.3**2 * (x1 * x1).sum(1) / 3 + 0.4**2, 1.3**2 * (x2 * x2).sum(1) / 3 + 0.4**2
    e_dd = activations.get("relu").moments(diag1[:, None], diag2[None, :], sigma)[1]
    torch.testing.assert_close(rest, 1 + 1.3**2 * e_dd * (x1 @ x2.T + 1), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="width"):
        kernels.lecun_ntk(x1, depth=1, width=0, **kw)
    with pytest.raises(TypeError, match="widht"):
        kernels.analytic(x1, depth=1, widht=3, **kw)
