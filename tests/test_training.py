"""The GD engine (widenet.training) against closed forms: least squares, the linearized residual
(I − c·h·K̂₀)^k r₀, the loss factors c, ensembles = single runs, divergence flags, bad input."""

from __future__ import annotations

import math

import pytest
import torch

from widenet import tangents
from widenet.models import MLP
from widenet.training import KERNEL_FACTOR, gradient_descent, linearize

F64 = torch.float64


def _data(n=8, d=5, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, dtype=F64, generator=gen), torch.randn(n, dtype=F64, generator=gen), gen


def _mlp(gen, width=32, depth=2, activation="erf", parameterization="ntk"):
    return MLP(5, width, depth, activation=activation, parameterization=parameterization, bias_std=0.5,
               dtype=F64, generator=gen)


@pytest.mark.parametrize("loss", ["sum", "half_sum", "mean"])
def test_least_squares_iterates_equal_the_closed_form(loss):
    """Linear model f = Aw: w_k − w_∞ = (I − c·h·AᵀA)^k (w₀ − w_∞) exactly (Hanin eq. 1.3.6)."""
    x, y, gen = _data(n=6, d=20)
    model = torch.nn.Linear(20, 1, bias=False).to(F64)
    c = KERNEL_FACTOR[loss](6)
    h = 0.5 / (c * torch.linalg.matrix_norm(x, 2) ** 2).item()
    traj = gradient_descent(model, x, y, lr=h, steps=200, loss=loss, record_every=50, checkpoint_every=50)
    w0 = model.weight.detach()[0]
    limit = w0 + torch.linalg.pinv(x) @ (y - x @ w0)
    step = torch.eye(20, dtype=F64) - c * h * x.T @ x
    for j, k in enumerate(traj.checkpoint_steps.tolist()):
        expected = limit + torch.linalg.matrix_power(step, k) @ (w0 - limit)
        assert torch.allclose(traj.checkpoints["weight"][j, 0], expected, rtol=0, atol=1e-13)
    assert traj.loss.shape == (201,) and traj.train_outputs.shape == (5, 6)
    assert torch.all(traj.loss.diff() <= 1e-15)  # monotone descent below the step bound


def test_linearized_residual_is_the_kernel_power():
    """On train inputs the linearized model's residual is r_k = (I − c·h·K̂₀)^k r₀ (Lee et al. 2019)."""
    x, y, gen = _data()
    model = _mlp(gen)
    kernel = tangents.empirical_ntk(model, x)
    c = KERNEL_FACTOR["mean"](8)
    h = 1.0 / (c * torch.linalg.eigvalsh(kernel).max()).item()
    traj = gradient_descent(model, x, y, lr=h, steps=60, linearized=True, record_every=20)
    r0 = traj.train_outputs[0] - y
    step = torch.eye(8, dtype=F64) - c * h * kernel
    for j, k in enumerate(traj.record_steps.tolist()):
        assert torch.allclose(traj.train_outputs[j] - y, torch.linalg.matrix_power(step, k) @ r0, atol=1e-12)


def test_ensemble_equals_single_runs_and_linearize_matches():
    x, y, gen = _data()
    model = _mlp(gen, activation="tanh")
    params = model.sample_parameters(3, gen)
    kw = dict(lr=0.3, steps=25, x_test=x[:2], record_every=5, checkpoint_every=[0, 10, 25])
    for linearized in (False, True):
        batch = gradient_descent(model, x, y, params=params, linearized=linearized, **kw)
        one = gradient_descent(model, x, y, params={k: v[1] for k, v in params.items()}, linearized=linearized, **kw)
        assert batch.loss.shape == (3, 26) and batch.test_outputs.shape == (3, 6, 2)
        assert torch.allclose(batch.loss[1], one.loss, rtol=1e-12)
        assert torch.allclose(batch.checkpoints["weight1"][1], one.checkpoints["weight1"], rtol=1e-12)
        assert batch.checkpoints["weight1"].shape == (3, 3, 32, 32)
    f_lin = linearize(model, params)
    assert torch.allclose(f_lin(batch.params, x), batch.train_outputs[:, -1], atol=1e-13)


def test_weight_decay_gives_the_ridge_solution_for_model_and_linearization():
    """GD on Σ(Aw − y)² + λ‖w‖² from any w₀ converges to Aᵀ(AAᵀ + λI)⁻¹y (Petersen–Zech Thm 11.3)."""
    x, y, gen = _data(n=6, d=20)
    model = torch.nn.Linear(20, 1, bias=False).to(F64)
    lam = 0.3
    h = 0.4 / (torch.linalg.matrix_norm(x, 2) ** 2 + lam).item()
    plain = gradient_descent(model, x, y, lr=h, steps=3000, loss="sum", weight_decay=lam)
    lin = gradient_descent(model, x, y, lr=h, steps=3000, loss="sum", weight_decay=lam, linearized=True)
    ridge = x.T @ torch.linalg.solve(x @ x.T + lam * torch.eye(6, dtype=F64), y)
    assert torch.allclose(plain.params["weight"][0], ridge, atol=1e-12)
    assert torch.allclose(lin.params["weight"][0], ridge, atol=1e-12)


def test_divergent_networks_are_flagged_and_frozen():
    """Above the step bound (h > 1/s_max² for `sum`) the loss grows like |1 − 2h s_max²|^(2k)."""
    x, y, gen = _data(n=6, d=20)
    model = torch.nn.Linear(20, 1, bias=False).to(F64)
    s_max2 = (torch.linalg.matrix_norm(x, 2) ** 2).item()
    params = {"weight": torch.zeros(2, 1, 20, dtype=F64)}
    stable = gradient_descent(model, x, y, lr=0.9 / s_max2, steps=50, loss="sum", params=params)
    assert not stable.diverged.any()
    traj = gradient_descent(model, x, y, lr=3.0 / s_max2, steps=2000, loss="sum", params=params)
    # growth factor 5 per step: |r| ~ 5^k overflows the squared loss near k = 308·ln 10/(2 ln 5) ≈ 220
    assert traj.diverged.all() and 150 < int(traj.diverged_at[0]) < 300
    k = int(traj.diverged_at[0])
    assert torch.isnan(traj.loss[:, k:]).all() and torch.isfinite(traj.loss[:, :k]).all()
    assert torch.isfinite(traj.params["weight"]).all()  # frozen at the last finite step
    recorded = gradient_descent(model, x, y, lr=3.0 / s_max2, steps=2000, loss="sum", params=params, record_every=500,
                                checkpoint_every=1000, x_test=x[:2])
    assert recorded.train_outputs.shape == (2, 5, 6) and recorded.test_outputs.shape == (2, 5, 2)
    assert recorded.checkpoints["weight"].shape == (2, 3, 1, 20)
    assert torch.equal(recorded.checkpoints["weight"][:, -1], traj.params["weight"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(loss="l1"), "loss"),
        (dict(lr=0.0), "lr"),
        (dict(lr=-1.0), "lr"),
        (dict(steps=0), "steps"),
        (dict(steps=2.5), "steps"),
        (dict(record_every=0), "record_every"),
        (dict(weight_decay=-1.0), "weight_decay"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    x, y, gen = _data()
    model = _mlp(gen, width=4, depth=1)
    args = dict(lr=0.1, steps=3) | kwargs
    with pytest.raises(ValueError, match=match):
        gradient_descent(model, x, y, **args)


def test_bad_shapes_are_named():
    x, y, gen = _data()
    model = _mlp(gen, width=4, depth=1)
    with pytest.raises(ValueError, match="y must"):
        gradient_descent(model, x, y[:-1], lr=0.1, steps=1)
    with pytest.raises(ValueError, match="x_test"):
        gradient_descent(model, x, y, lr=0.1, steps=1, x_test=x[:, :2])
    with pytest.raises(ValueError, match="model must map"):
        gradient_descent(torch.nn.Linear(5, 3).to(F64), x, y, lr=0.1, steps=1)
    with pytest.raises(ValueError, match="params"):
        gradient_descent(model, x, y, lr=0.1, steps=1, params={"weight0": torch.zeros(4, 5, dtype=F64)})


def test_loss_factor_c_sets_the_first_step():
    """One small step moves the residual by −c·h·K̂·r₀ + O(h²): c = 2, 1, 2/n for sum, half_sum, mean."""
    x, y, gen = _data()
    model = _mlp(gen, activation="tanh")
    kernel = tangents.empirical_ntk(model, x)
    for loss, c in [("sum", 2.0), ("half_sum", 1.0), ("mean", 2.0 / 8)]:
        traj = gradient_descent(model, x, y, lr=1e-6, steps=1, loss=loss)
        r0 = traj.train_outputs[0] - y
        moved = traj.train_outputs[1] - traj.train_outputs[0]
        assert torch.allclose(moved, -c * 1e-6 * kernel @ r0, rtol=1e-4, atol=1e-13), loss
        assert math.isclose(KERNEL_FACTOR[loss](8), c)


class _Wrapped(torch.nn.Module):
    """An MLP hidden from the closed-form fast path (trains through torch.func)."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)


@pytest.mark.parametrize("linearized", [False, True])
def test_mlp_fast_path_equals_torch_func(linearized):
    x, y, gen = _data()
    model = _mlp(gen, activation="tanh", depth=3, width=16)
    params = model.sample_parameters(2, gen)
    kw = dict(lr=0.2, steps=10, weight_decay=0.01, params=params, linearized=linearized, x_test=x[:3], checkpoint_every=5)
    fast = gradient_descent(model, x, y, **kw)
    slow = gradient_descent(_Wrapped(model), x, y, **(kw | {"params": {f"net.{k}": v for k, v in params.items()}}))
    assert torch.allclose(fast.loss, slow.loss, rtol=1e-12)
    assert torch.allclose(fast.test_outputs, slow.test_outputs, rtol=1e-12, atol=1e-14)
    assert torch.allclose(fast.checkpoints["weight2"], slow.checkpoints["net.weight2"], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bias", [False, True])
def test_linear_fast_path_equals_torch_func(bias):
    x, y, gen = _data(n=6, d=20)
    model = torch.nn.Linear(20, 1, bias=bias).to(F64)
    params = {k: torch.randn(3, *v.shape, dtype=F64, generator=gen) for k, v in model.named_parameters()}
    kw = dict(lr=0.01, steps=10, weight_decay=0.1, params=params, x_test=x[:3], checkpoint_every=5, loss="sum")
    fast = gradient_descent(model, x, y, **kw)
    slow = gradient_descent(_Wrapped(model), x, y, **(kw | {"params": {f"net.{k}": v for k, v in params.items()}}))
    assert torch.allclose(fast.loss, slow.loss, rtol=1e-12)
    assert torch.allclose(fast.checkpoints["weight"], slow.checkpoints["net.weight"], rtol=1e-12, atol=1e-14)
