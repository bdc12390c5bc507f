"""widenet.tangents: every empirical-NTK method against a per-sample autograd Gram."""

from __future__ import annotations

import pytest
import torch

from widenet.models import MLP
from widenet.tangents import METHODS, empirical_ntk

ACTIVATIONS = ("relu", "tanh", "erf", "softplus", "shaped_tanh")
ARCHITECTURES = [("ntk", 1), ("ntk", 2), ("ntk", 3), ("standard", 1), ("standard", 3), ("meanfield", 1)]


def autograd_gram(model: torch.nn.Module, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """Reference Θ̂ = J(x1) J(x2)ᵀ with one torch.autograd.grad call per sample."""
    params = list(model.parameters())

    def jacobian(x: torch.Tensor) -> torch.Tensor:
        grads = [torch.autograd.grad(model(xi[None]).sum(), params) for xi in x]
        return torch.stack([torch.cat([g.flatten() for g in gs]) for gs in grads])

    return jacobian(x1) @ jacobian(x2).T


def assert_kernel_close(actual: torch.Tensor, expected: torch.Tensor, rtol: float = 1e-6) -> None:
    """Agreement to ``rtol`` relative to the kernel's scale (entries near zero get the same absolute slack)."""
    torch.testing.assert_close(actual, expected, rtol=rtol, atol=rtol * expected.abs().max().item())


def make_mlp(activation: str, parameterization: str, depth: int, bias_std: float, seed: int = 0) -> MLP:
    generator = torch.Generator().manual_seed(seed)
    return MLP(
        3, 8, depth, activation=activation, parameterization=parameterization,
        weight_std=1.5, bias_std=bias_std, generator=generator, dtype=torch.float64,
    )


def inputs(n: int, seed: int) -> torch.Tensor:
    return torch.randn(n, 3, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


@pytest.mark.parametrize("bias_std", [0.0, 0.5])
@pytest.mark.parametrize(("parameterization", "depth"), ARCHITECTURES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_methods_match_autograd(activation: str, parameterization: str, depth: int, bias_std: float) -> None:
    model = make_mlp(activation, parameterization, depth, bias_std)
    x1, x2 = inputs(5, seed=1), inputs(4, seed=2)
    for other, expected in ((None, autograd_gram(model, x1, x1)), (x2, autograd_gram(model, x1, x2))):
        for method in ("structured", "jacobian", "ntvp", "auto"):
            ntk = empirical_ntk(model, x1, other, method=method)
            assert ntk.shape == expected.shape and ntk.dtype == torch.float64
            assert_kernel_close(ntk, expected)


def test_gram_is_symmetric_positive_semidefinite() -> None:
    model = make_mlp("tanh", "ntk", 2, bias_std=0.3)
    x = inputs(12, seed=3)
    for method in ("structured", "jacobian", "ntvp"):
        ntk = empirical_ntk(model, x, method=method)
        torch.testing.assert_close(ntk, ntk.T, rtol=1e-12, atol=1e-12)
        eigenvalues = torch.linalg.eigvalsh(ntk)
        assert eigenvalues.min() >= -1e-10 * eigenvalues.max()
        assert torch.all(ntk.diagonal() > 0)


def test_auto_is_structured_for_mlp_and_jacobian_otherwise() -> None:
    model = make_mlp("erf", "standard", 2, bias_std=0.1)
    x = inputs(4, seed=4)
    assert torch.equal(empirical_ntk(model, x), empirical_ntk(model, x, method="structured"))
    generic = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 1)).double()
    assert torch.equal(empirical_ntk(generic, x), empirical_ntk(generic, x, method="jacobian"))
    assert_kernel_close(empirical_ntk(generic, x, method="ntvp"), autograd_gram(generic, x, x))
    with pytest.raises(TypeError, match="MLP"):
        empirical_ntk(generic, x, method="structured")


def test_keeps_model_dtype_and_returns_a_detached_kernel() -> None:
    model = MLP(3, 16, 2, activation="relu", generator=torch.Generator().manual_seed(5))  # float32
    x = inputs(6, seed=5).requires_grad_()
    reference = autograd_gram(model.double(), x.detach(), x.detach())
    model.float()
    for method in ("structured", "jacobian", "ntvp"):
        ntk = empirical_ntk(model, x, method=method)
        assert ntk.dtype == torch.float32 and not ntk.requires_grad
        assert_kernel_close(ntk.double(), reference, rtol=1e-5)


def test_unknown_method_is_rejected_with_the_allowed_ones() -> None:
    model = make_mlp("relu", "ntk", 1, bias_std=0.0)
    with pytest.raises(ValueError, match="'bogus'") as info:
        empirical_ntk(model, inputs(2, seed=6), method="bogus")
    assert all(method in str(info.value) for method in METHODS)


@pytest.mark.parametrize("method", ["structured", "jacobian"])
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_ensemble_params_match_each_member(method, activation):
    """Stacked parameters give every member's NTK in one vmapped call."""
    gen = torch.Generator().manual_seed(3)
    model = MLP(5, 32, 2, activation=activation, parameterization="standard", bias_std=0.5, dtype=torch.float64)
    x1 = torch.randn(6, 5, generator=gen, dtype=torch.float64)
    x2 = torch.randn(4, 5, generator=gen, dtype=torch.float64)
    stacked = model.sample_parameters(3, generator=gen)
    together = empirical_ntk(model, x1, x2, method=method, params=stacked)
    assert together.shape == (3, 6, 4)
    for i in range(3):
        single = empirical_ntk(model, x1, x2, method=method, params={k: v[i] for k, v in stacked.items()})
        torch.testing.assert_close(together[i], single, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="leading ensemble dimension"):
        empirical_ntk(model, x1, params={k: v[None] for k, v in stacked.items()})
