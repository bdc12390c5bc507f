"""Random-network samplers (widenet.sampling) and finite-width laws (widenet.finite_width).

Every test uses fixed seeds, so each is deterministic. Distributional checks use scipy's KS tests
with the threshold p > 1e-3 (a correct sampler fails one such check with probability 1e-3 per
p-value, and fixed seeds make the outcome reproducible); moment checks allow 4–5 standard errors.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from widenet import activations
from widenet.finite_width import (
    deep_linear_log_norm_cdf,
    deep_linear_log_norm_moments,
    fourth_cumulant_ratio,
    relu_fourth_cumulant_ratio,
)
from widenet.sampling import default_chunk_size, psd_sqrt, sample_deep_linear_log_norms, sample_outputs

P_MIN = 1e-3
X = torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.6, 0.8, 0.0, 0.0], [-1.0, 1.0, 1.0, 0.5]])


def _coordinates_and_products(z: torch.Tensor) -> list[np.ndarray]:
    k = z.shape[1]
    products = [z[:, a] * z[:, b] for a in range(k) for b in range(a + 1, k)]
    return [c.double().numpy() for c in [*z.T, *products]]


def _nngp(x: torch.Tensor, depth: int, activation: str, weight_std: float, bias_std: float) -> np.ndarray:
    """Readout covariance of the infinite-width GP (Hanin eq. 3.3.1), by 2-D Gauss–Hermite quadrature."""
    sigma = activations.get(activation).fn
    g, w = np.polynomial.hermite_e.hermegauss(100)
    g1, g2 = (a.ravel() for a in np.meshgrid(g, g, indexing="ij"))
    weights = np.outer(w, w).ravel() / (2 * math.pi)
    x = x.double().numpy()
    kernel = weight_std**2 * (x @ x.T) / x.shape[1] + bias_std**2
    for _ in range(depth):
        new = np.empty_like(kernel)
        for a in range(len(kernel)):
            for b in range(len(kernel)):
                u = math.sqrt(kernel[a, a]) * g1
                c = kernel[a, b] / math.sqrt(kernel[a, a])
                v = c * g1 + math.sqrt(max(kernel[b, b] - c * c, 0.0)) * g2
                su, sv = (sigma(torch.from_numpy(t)).numpy() for t in (u, v))
                new[a, b] = weights @ (su * sv)
        kernel = weight_std**2 * new + bias_std**2
    return kernel


# --- the two methods agree in law (Hanin Theorem 3.3.1's Markov structure) ---------------------
@pytest.mark.parametrize(
    "activation, width, depth, weight_std, bias_std",
    [
        ("relu", 1, 4, math.sqrt(2), 0.0),  # singular K̂ and many dead networks
        ("relu", 2, 3, math.sqrt(2), 0.0),
        ("tanh", 4, 2, 1.5, 0.5),
        ("erf", 16, 2, 1.0, 0.3),
        ("relu", 64, 1, math.sqrt(2), 0.2),
    ],
)
def test_direct_and_conditional_have_the_same_law(activation, width, depth, weight_std, bias_std):
    kw = dict(width=width, depth=depth, activation=activation, n_networks=3000,
              weight_std=weight_std, bias_std=bias_std)
    direct = sample_outputs(X, method="direct", seed=1, **kw)
    conditional = sample_outputs(X, method="conditional", seed=2, **kw)
    pvalues = [stats.ks_2samp(a, b, method="asymp").pvalue
               for a, b in zip(_coordinates_and_products(direct), _coordinates_and_products(conditional))]
    assert min(pvalues) > P_MIN, pvalues


def test_two_sample_check_has_power():
    """The same KS check tells width 2 from width 1024 (near the GP) at once."""
    kw = dict(depth=3, activation="relu", n_networks=3000, weight_std=math.sqrt(2))
    narrow = sample_outputs(X, width=2, seed=1, **kw)
    wide = sample_outputs(X, width=1024, seed=2, **kw)
    assert stats.ks_2samp(narrow[:, 0], wide[:, 0], method="asymp").pvalue < 1e-6


@pytest.mark.parametrize(
    "activation, weight_std, bias_std", [("relu", math.sqrt(2), 0.0), ("tanh", 1.0, 0.3), ("erf", 1.5, 0.2)]
)
def test_wide_outputs_have_mean_zero_and_nngp_covariance(activation, weight_std, bias_std):
    n, width, depth = 10_000, 256, 2
    z = sample_outputs(X, width=width, depth=depth, activation=activation, n_networks=n,
                       weight_std=weight_std, bias_std=bias_std, seed=3).double().numpy()
    kernel = _nngp(X, depth, activation, weight_std, bias_std)
    diag = np.diag(kernel)
    assert np.all(np.abs(z.mean(axis=0)) < 5 * np.sqrt(diag / n))
    stderr = np.sqrt((np.outer(diag, diag) + kernel**2) / n)
    assert np.all(np.abs(np.cov(z.T) - kernel) < 5 * stderr + 2 / width * diag.max()), (np.cov(z.T), kernel)


def test_singular_kernels_give_a_correct_factor():
    """Duplicate inputs and width-1 relu layers make K̂ singular (even zero): no crash, exact ties."""
    x = torch.tensor([[1.0, 2.0], [1.0, 2.0], [-1.0, 0.5]], dtype=torch.float64)
    z = sample_outputs(x, width=1, depth=6, activation="relu", n_networks=2000, weight_std=math.sqrt(2))
    assert torch.isfinite(z).all()
    torch.testing.assert_close(z[:, 0], z[:, 1], atol=1e-6, rtol=0)
    assert (z == 0).all(dim=1).double().mean() > 0.4  # dead networks output exactly 0
    rank_one = torch.tensor([[1.0, 1.0], [1.0, 1.0]], dtype=torch.float64).expand(4, 2, 2)
    factor = psd_sqrt(rank_one)
    torch.testing.assert_close(factor @ factor.transpose(-1, -2), rank_one)


# --- A3: deep linear networks (Hanin eq. 3.2.3) ------------------------------------------------
@pytest.mark.parametrize("width", [8, 16])
def test_deep_linear_cdf_of_one_layer_is_the_chi2_law(width):
    t = np.linspace(-1.5, 0.5, 41)
    expected = stats.chi2.cdf(width * np.exp(2 * t), width)
    np.testing.assert_allclose(deep_linear_log_norm_cdf(t, width, 0), expected, atol=1e-10)


@pytest.mark.parametrize(
    "method, width, depth", [("direct", 16, 8), ("conditional", 16, 8), ("conditional", 8, 32)]
)
def test_deep_linear_log_norms_match_the_exact_law(method, width, depth):
    samples = sample_deep_linear_log_norms(width, depth, 4000, method=method, dtype=torch.float64, seed=4)
    pvalue = stats.kstest(samples.numpy(), lambda t: deep_linear_log_norm_cdf(t, width, depth)).pvalue
    assert pvalue > P_MIN


def test_deep_linear_moments_at_large_width_are_minus_and_plus_half_beta():
    """Mean ≈ −β/2 and variance ≈ β/2, β = (L+1)/N; the text's ∓β/4 is rejected by the samples."""
    n, width, depth = 20_000, 128, 16
    beta = (depth + 1) / width
    mean, var = deep_linear_log_norm_moments(width, depth)
    assert mean == pytest.approx(-beta / 2, rel=0.01) and var == pytest.approx(beta / 2, rel=0.01)
    samples = sample_deep_linear_log_norms(width, depth, n, dtype=torch.float64, seed=5).numpy()
    mean_se, var_se = math.sqrt(var / n), var * math.sqrt(2 / (n - 1))
    assert abs(samples.mean() - mean) < 4 * mean_se and abs(samples.var() - var) < 4 * var_se
    assert abs(samples.mean() + beta / 4) > 10 * mean_se and abs(samples.var() - beta / 4) > 10 * var_se


# --- A8: fourth cumulant (Hanin Theorem 3.4.1) -------------------------------------------------
def test_relu_fourth_cumulant_grows_with_slope_5_in_depth_over_width():
    """κ₄/K² = (1 + 5/N)^L − 1 exactly for relu without bias, i.e. 5L/N at leading order:
    fitting log(1 + κ₄/K²) = L·log(1 + c/N) over L must give c = 5 within bootstrap error."""
    width, depths, n = 64, np.array([1, 2, 4]), 100_000
    values, stderrs = [], []
    for depth in depths:
        z = sample_outputs([[1.0]], width=width, depth=int(depth), activation="relu", n_networks=n,
                           weight_std=math.sqrt(2), seed=int(depth))
        estimate = fourth_cumulant_ratio(z[:, 0], n_boot=100, seed=0)
        values.append(estimate.value.item())
        stderrs.append(estimate.stderr.item())
    values, stderrs = np.array(values), np.array(stderrs)
    exact = np.array([relu_fourth_cumulant_ratio(width, int(d)) for d in depths])
    assert np.all(np.abs(values - exact) < 4 * stderrs), (values, exact, stderrs)
    slope = depths @ np.log1p(values) / (depths @ depths)
    slope_se = np.sqrt(np.sum((depths * stderrs / (1 + values)) ** 2)) / (depths @ depths)
    c, c_se = width * np.expm1(slope), width * np.exp(slope) * slope_se
    assert abs(c - 5) < 4 * c_se and c_se < 0.25, (c, c_se)


def test_fourth_cumulant_of_gaussian_samples_is_zero():
    gen = torch.Generator().manual_seed(0)
    z = torch.randn(100_000, 2, generator=gen, dtype=torch.float64) * torch.tensor([1.0, 3.0])
    estimate = fourth_cumulant_ratio(z, n_boot=100)
    assert estimate.value.shape == (2,)
    assert torch.all(estimate.value.abs() < 4 * estimate.stderr)
    expected_se = math.sqrt(24 / 100_000) / 3  # delta method: Var(excess kurtosis) ≈ 24/n
    assert torch.allclose(estimate.stderr, torch.full((2,), expected_se, dtype=torch.float64), rtol=0.3)


# --- determinism, dtype, device, chunks --------------------------------------------------------
@pytest.mark.parametrize("method", ["direct", "conditional"])
def test_same_seed_same_tensor(method):
    kw = dict(width=8, depth=2, activation="tanh", n_networks=50, method=method, chunk_size=16)
    a, b = sample_outputs(X, seed=7, **kw), sample_outputs(X, seed=7, **kw)
    assert torch.equal(a, b) and not torch.equal(a, sample_outputs(X, seed=8, **kw))
    assert torch.equal(a, sample_outputs(X, generator=torch.Generator().manual_seed(7), **kw))
    assert torch.equal(a, sample_outputs(X, seed=7, progress=True, **kw))
    assert a.shape == (50, 3)
    ln = dict(method=method, chunk_size=16)
    log_norms = [sample_deep_linear_log_norms(8, 3, 50, seed=7, **ln) for _ in range(2)]
    assert torch.equal(*log_norms)


def test_default_chunk_bounds_the_largest_tensor():
    """Width 1024, depth 4, k = 3, d = 10: 2²⁴ numbers hold 5461 networks' activations, 5 networks' weights."""
    assert default_chunk_size("conditional", width=1024, depth=4, k=3, d=10) == 5461
    assert default_chunk_size("direct", width=1024, depth=4, k=3, d=10) == 5


def test_dtype_follows_argument_or_input():
    kw = dict(width=4, depth=1, activation="erf", n_networks=3)
    assert sample_outputs(X, dtype=torch.float64, **kw).dtype == torch.float64
    assert sample_outputs(X.double().numpy(), **kw).dtype == torch.float64
    assert sample_outputs([[1, 0], [0, 1]], **kw).dtype == torch.get_default_dtype()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("method", ["direct", "conditional"])
def test_cuda(method):
    z = sample_outputs(X, width=32, depth=2, activation="relu", n_networks=100, method=method, device="cuda")
    assert z.device.type == "cuda" and z.shape == (100, 3)
    assert sample_deep_linear_log_norms(8, 2, 10, method=method, device="cuda").device.type == "cuda"


# --- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "change, match",
    [
        (dict(width=0), "width"),
        (dict(depth=-1), "depth"),
        (dict(n_networks=0), "n_networks"),
        (dict(x=torch.zeros(0, 4)), "x must"),
        (dict(x=torch.zeros(4)), "x must"),
        (dict(activation="sigmoid"), "activation.*relu"),
        (dict(method="exact"), "method.*direct, conditional"),
        (dict(chunk_size=0), "chunk_size"),
    ],
)
def test_bad_input_names_the_argument(change, match):
    kw = dict(x=X, width=4, depth=1, activation="relu", n_networks=10) | change
    with pytest.raises(ValueError, match=match):
        sample_outputs(**kw)


@pytest.mark.parametrize(
    "args, kw, match",
    [((0, 1, 10), {}, "width"), ((4, -1, 10), {}, "depth"), ((4, 1, 0), {}, "n_networks"),
     ((4, 1, 10), dict(method="exact"), "method")],
)
def test_deep_linear_bad_input_names_the_argument(args, kw, match):
    with pytest.raises(ValueError, match=match):
        sample_deep_linear_log_norms(*args, **kw)
