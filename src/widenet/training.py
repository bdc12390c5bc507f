"""Full-batch gradient descent on squared losses, for one network or a whole ensemble at once.

``gradient_descent`` iterates θ_{k+1} = θ_k − h·∇_θ L(θ_k) with

    L(θ) = ℓ(f(θ; X) − Y) + λ‖θ‖²,   ℓ ∈ {sum: Σr², half_sum: ½Σr², mean: (1/n)Σr²},

so that on the train residual r = f − Y one step is r ↦ r − c·h·K̂·r + O(h²) with c = 2, 1, 2/n
(K̂ = JJᵀ, the empirical NTK; Hanin eq. 2.1.6, Petersen–Zech eq. 11.5.1). The gradient is the
vector–Jacobian product Jᵀ·∂ℓ/∂f (``torch.func.vjp``), so any ``torch.nn.Module`` mapping (n, d)
inputs to n scalars trains; a leading ensemble dimension in ``params`` trains every network in one
``torch.func.vmap``-ed step (no loop over networks).

``linearized=True`` trains the first-order Taylor model of Lee et al. 2019 (Hanin Theorem 2.2.1),

    f_lin(θ; x) = f(θ₀; x) + J(θ₀; x)(θ − θ₀),

evaluated by a Jacobian–vector product (``torch.func.jvp``), never a stored Jacobian; its gradient
is J(θ₀)ᵀ·∂ℓ/∂f. On train inputs its residual is exactly r_k = (I − c·h·K̂₀)^k r₀ (λ = 0).

A network whose loss becomes non-finite is frozen from that step on; ``Trajectory.diverged_at``
holds the step (−1 when it never diverged), and a warning names how many diverged.
"""

from __future__ import annotations

import functools
import json
import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np
import torch
import xarray as xr
from torch import func as tf

from widenet import models

Tensor = torch.Tensor
Params = dict[str, Tensor]

LOSSES = {  # name: (loss of the residual r, ∂loss/∂f)
    "sum": (lambda r: (r * r).sum(-1), lambda r: 2.0 * r),
    "half_sum": (lambda r: 0.5 * (r * r).sum(-1), lambda r: r),
    "mean": (lambda r: (r * r).mean(-1), lambda r: (2.0 / r.shape[-1]) * r),
}
# c in r ↦ (I − c·h·K̂) r: the factor each loss puts in front of the kernel
KERNEL_FACTOR = {"sum": lambda n: 2.0, "half_sum": lambda n: 1.0, "mean": lambda n: 2.0 / n}

log = logging.getLogger(__name__)


@dataclass
class Trajectory:
    """What ``gradient_descent`` returns. ``E`` is the ensemble shape: () for one network, (E,) otherwise.

    - ``params``: final parameters {name: (*E, *shape)};
    - ``loss``: (*E, steps + 1) training loss at θ₀ … θ_steps (NaN once a network has diverged);
    - ``record_steps`` (R,), ``train_outputs`` (*E, R, n), ``test_outputs`` (*E, R, n_test) or None;
    - ``checkpoint_steps`` (C,), ``checkpoints`` {name: (*E, C, *shape)}: parameters at those steps;
    - ``diverged_at`` (*E,) int64: first step whose loss was non-finite, −1 if none.
    """

    params: Params
    loss: Tensor
    record_steps: Tensor
    train_outputs: Tensor
    test_outputs: Tensor | None
    checkpoint_steps: Tensor
    checkpoints: Params
    diverged_at: Tensor
    loss_name: str
    lr: float
    linearized: bool

    @property
    def diverged(self) -> Tensor:
        return self.diverged_at >= 0


def scalar_outputs(model: torch.nn.Module) -> Callable[[Params, Tensor], Tensor]:
    """f(params, x) → (n,): the model as a function of its parameters (``models.module_outputs``)."""
    return functools.partial(models.module_outputs, model)


def _linearized_outputs(f: Callable[[Params, Tensor], Tensor]) -> Callable[[Params, Params, Tensor], Tensor]:
    """(θ, θ₀, x) ↦ f(θ₀; x) + J(θ₀; x)(θ − θ₀) for one network, by one ``torch.func.jvp``."""

    def f_lin(theta: Params, theta0: Params, x: Tensor) -> Tensor:
        delta = {k: theta[k] - theta0[k] for k in theta0}
        primal, tangent = tf.jvp(lambda p: f(p, x), (theta0,), (delta,))
        return primal + tangent

    return f_lin


def linearize(model: torch.nn.Module, params0: Params) -> Callable[[Params, Tensor], Tensor]:
    """f_lin(params, x) = f(θ₀; x) + J(θ₀; x)(params − θ₀) by one ``torch.func.jvp`` (Lee et al. 2019).

    ``params0`` and ``params`` may carry one leading ensemble dimension (the same for both).
    """
    single = _linearized_outputs(scalar_outputs(model))
    params0 = {k: v.detach() for k, v in params0.items()}
    ensemble = _ensemble_size(dict(model.named_parameters()), params0)

    def f_lin(params: Params, x: Tensor) -> Tensor:
        if ensemble is None:
            return single(params, params0, x)
        return tf.vmap(single, (0, 0, None))(params, params0, x)

    return f_lin


def gradient_descent(
    model: torch.nn.Module,
    x: Tensor,
    y: Tensor,
    *,
    lr: float,
    steps: int,
    loss: str = "mean",
    params: Params | None = None,
    linearized: bool = False,
    weight_decay: float = 0.0,
    x_test: Tensor | None = None,
    record_every: int | Sequence[int] | None = None,
    checkpoint_every: int | Sequence[int] | None = None,
    progress: Callable[[Iterable], Iterable] | None = None,
) -> Trajectory:
    """Full-batch GD θ_{k+1} = θ_k − lr·∇L(θ_k), k < ``steps`` (module docstring for L and c).

    ``params``: the model's own parameters when None; a dict like ``named_parameters`` with an
    optional leading ensemble dimension (e.g. ``MLP.sample_parameters(E)``) trains E networks at once.
    ``record_every``: outputs on ``x`` (and ``x_test``) are recorded at steps 0, k, 2k, … and the last
    (an int k), at the given steps (a sequence), or at the first and last step (None);
    ``checkpoint_every``: the parameters at such steps (int or sequence); None keeps none (θ₀ is the
    input, the final θ is ``params``). ``progress`` wraps the step iterator (e.g. ``cell.progress``).
    Runs on the device and dtype of the parameters.
    """
    theta0, ensemble = _check_params(model, params)
    like = next(iter(theta0.values()))
    x, y, x_test = _check_data(x, y, x_test, like)
    _check_settings(lr, steps, loss, weight_decay)
    record = _steps(record_every, steps, "record_every")
    keep = set() if checkpoint_every is None else _steps(checkpoint_every, steps, "checkpoint_every")
    _check_output(model, theta0, ensemble, x)
    if ensemble is None:  # one network: an ensemble of one
        theta0 = {k: v.unsqueeze(0) for k, v in theta0.items()}
    backend = _generic_backend
    if isinstance(model, models.MLP):
        backend = _mlp_backend
    elif isinstance(model, torch.nn.Linear) and model.out_features == 1:
        backend = _linear_backend
    outputs, step = backend(model, theta0, x, loss, weight_decay, linearized)
    trajectory = _descend(step, outputs, theta0, x, y, x_test, lr, steps, record, keep, progress)
    if ensemble is None:
        trajectory = _squeeze_ensemble(trajectory)
    trajectory.loss_name, trajectory.lr, trajectory.linearized = loss, float(lr), linearized
    return trajectory


def _weight_decay(theta: Params, grad: Params, total: Tensor, weight_decay: float, lead: int):
    """Adds λ‖θ‖² to the loss and 2λθ to the gradient (``lead`` ensemble dims are kept)."""
    if not weight_decay:
        return total, grad
    total = total + weight_decay * sum((t * t).flatten(lead).sum(-1) for t in theta.values())
    return total, {k: g + 2.0 * weight_decay * theta[k] for k, g in grad.items()}


def _generic_backend(model, theta0: Params, x: Tensor, loss: str, weight_decay: float, linearized: bool):
    """Any module through ``torch.func``: (outputs(θ, x), step(θ, x, y) ↦ (f, L, ∇L)), vmapped over the ensemble."""
    value, derivative = LOSSES[loss]
    plain = scalar_outputs(model)
    f = _linearized_outputs(plain) if linearized else (lambda theta, _theta0, x_: plain(theta, x_))

    def single(theta: Params, th0: Params, x_: Tensor, y: Tensor):
        out, pull = tf.vjp(lambda p: f(p, th0, x_), theta)
        r = out - y
        (grad,) = pull(derivative(r))
        return (out, *_weight_decay(theta, grad, value(r), weight_decay, 0))

    step, out = tf.vmap(single, (0, 0, None, None)), tf.vmap(f, (0, 0, None))
    return (lambda theta, x_: out(theta, theta0, x_)), (lambda theta, x_, y: step(theta, theta0, x_, y))


def _mlp_backend(model: models.MLP, theta0: Params, x: Tensor, loss: str, weight_decay: float, linearized: bool):
    """``widenet.models.MLP`` by its closed-form derivatives (batched matmuls over the ensemble,
    no autograd); the linearized gradient J(θ₀)ᵀ·∂ℓ/∂f reuses one forward pass at θ₀."""
    value, derivative = LOSSES[loss]
    if linearized:
        pull0 = models.pullback(model, theta0, x)[1]

        def outputs(theta: Params, x_: Tensor) -> Tensor:
            primal, tangent = models.jvp(model, theta0, x_, {k: theta[k] - theta0[k] for k in theta0})
            return primal + tangent

        def pullback(theta: Params, x_: Tensor):
            return outputs(theta, x_), pull0
    else:
        outputs = functools.partial(models.outputs, model)
        pullback = functools.partial(models.pullback, model)

    def step(theta: Params, x_: Tensor, y: Tensor):
        out, pull = pullback(theta, x_)
        r = out - y
        return (out, *_weight_decay(theta, pull(derivative(r)), value(r), weight_decay, 1))

    return outputs, step


def _linear_backend(model: torch.nn.Linear, theta0: Params, x: Tensor, loss: str, weight_decay: float, linearized: bool):
    """``torch.nn.Linear(d, 1)`` (f = x·w + b, its own linearization): explicit gradients ∂ℓ/∂f·x."""
    value, derivative = LOSSES[loss]

    def outputs(theta: Params, x_: Tensor) -> Tensor:
        out = theta["weight"][:, 0, :] @ x_.mT
        return out + theta["bias"] if "bias" in theta else out

    def step(theta: Params, x_: Tensor, y: Tensor):
        out = outputs(theta, x_)
        g = derivative(out - y)
        grad = {"weight": (g @ x_)[:, None, :]}
        if "bias" in theta:
            grad["bias"] = g.sum(-1, keepdim=True)
        return (out, *_weight_decay(theta, grad, value(out - y), weight_decay, 1))

    return outputs, step


def _descend(step, outputs, theta0, x, y, x_test, lr, steps, record, keep, progress) -> Trajectory:
    """The GD loop: one ensemble step per iteration; records outputs and checkpoints, flags divergence."""
    theta = {name: t.clone() for name, t in theta0.items()}  # updated in place
    n_nets = next(iter(theta.values())).shape[0]
    like = next(iter(theta.values()))
    active, frozen = torch.ones(n_nets, dtype=torch.bool, device=like.device), False
    diverged_at = torch.full((n_nets,), -1, dtype=torch.int64, device=like.device)
    losses = torch.full((n_nets, steps + 1), float("nan"), dtype=like.dtype, device=like.device)
    train_out, test_out, saved = [], [], []
    iterator = range(steps + 1) if progress is None else progress(range(steps + 1))
    for k in iterator:
        out, total, grad = step(theta, x, y)
        losses[:, k] = total.detach()
        finite = torch.isfinite(total)
        if not bool(finite.all()):  # one host sync per step; the rest only once something diverged
            diverged_at = torch.where(active & ~finite, k, diverged_at)
            active, frozen = active & finite, True
        if k in record:
            train_out.append(out.detach())
            if x_test is not None:
                test_out.append(outputs(theta, x_test).detach())
        if k in keep:
            saved.append({name: t.detach().clone() for name, t in theta.items()})
        if frozen and not bool(active.any()):  # every network diverged: frozen, the later records repeat
            later = sum(j > k for j in record)
            train_out += [out.detach()] * later
            test_out += [outputs(theta, x_test).detach()] * later if x_test is not None else []
            saved += [{name: t.detach().clone() for name, t in theta.items()}] * sum(j > k for j in keep)
            break
        if k < steps:
            _update(theta, grad, lr, active if frozen else None)
    after = torch.arange(steps + 1, device=like.device) >= torch.where(diverged_at < 0, steps + 1, diverged_at)[:, None]
    losses[after] = float("nan")
    _warn_diverged(diverged_at)
    return Trajectory(
        params=theta,
        loss=losses,
        record_steps=torch.tensor(sorted(record)),
        train_outputs=torch.stack(train_out, 1),
        test_outputs=torch.stack(test_out, 1) if test_out else None,
        checkpoint_steps=torch.tensor(sorted(keep), dtype=torch.int64),
        checkpoints={name: torch.stack([s[name] for s in saved], 1) for name in theta} if saved else {},
        diverged_at=diverged_at,
        loss_name="", lr=0.0, linearized=False,
    )


@torch.no_grad()
def _update(theta: Params, grad: Params, lr: float, active: Tensor | None) -> None:
    """θ ← θ − lr·∇L in place, for the ``active`` networks (None: all; diverged ones stay frozen)."""
    everyone = active is None
    for name, t in theta.items():
        if everyone:
            t.add_(grad[name], alpha=-lr)
        else:
            mask = active.reshape(active.shape + (1,) * (t.ndim - 1))
            t.copy_(torch.where(mask, t - lr * grad[name], t))


def _warn_diverged(diverged_at: Tensor) -> None:
    bad = diverged_at >= 0
    if bad.any():
        first = int(diverged_at[bad].min())
        log.warning("gradient descent: %d of %d networks diverged (non-finite loss; first at step %d); "
                    "they were frozen there", int(bad.sum()), bad.numel(), first)


def _squeeze_ensemble(t: Trajectory) -> Trajectory:
    sq = lambda v: None if v is None else v.squeeze(0)  # noqa: E731
    t.params = {k: sq(v) for k, v in t.params.items()}
    t.checkpoints = {k: sq(v) for k, v in t.checkpoints.items()}
    t.loss, t.train_outputs, t.test_outputs, t.diverged_at = (
        sq(t.loss), sq(t.train_outputs), sq(t.test_outputs), sq(t.diverged_at))
    return t


# --- argument checks: a ValueError naming the argument, before any work -------------------------
def _ensemble_size(own: Params, params: Params) -> int | None:
    extra = {params[name].ndim - p.ndim for name, p in own.items()}
    if extra == {0}:
        return None
    if extra == {1} and len({params[name].shape[0] for name in own}) == 1:
        return next(iter(params.values())).shape[0]
    raise ValueError("params must match the model's parameter shapes, optionally with one common leading ensemble dimension")


def _check_params(model: torch.nn.Module, params: Params | None) -> tuple[Params, int | None]:
    own = dict(model.named_parameters())
    if not own:
        raise ValueError("model has no parameters to train")
    if params is None:
        return {k: v.detach() for k, v in own.items()}, None
    missing = sorted(set(own) - set(params))
    if missing:
        raise ValueError(f"params lacks the model's parameters {missing}; it has {sorted(params)}")
    params = {k: params[k].detach() for k in own}
    size = _ensemble_size(own, params)
    for name, p in own.items():
        if tuple(params[name].shape[params[name].ndim - p.ndim:]) != tuple(p.shape):
            raise ValueError(f"params[{name!r}] has shape {tuple(params[name].shape)}; the model's is {tuple(p.shape)}")
    return params, size


def _check_data(x: Tensor, y: Tensor, x_test: Tensor | None, like: Tensor):
    x = torch.as_tensor(x).to(dtype=like.dtype, device=like.device)
    y = torch.as_tensor(y).to(dtype=like.dtype, device=like.device)
    if x.ndim != 2:
        raise ValueError(f"x must have shape (n, d); got {tuple(x.shape)}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.shape != (x.shape[0],):
        raise ValueError(f"y must have shape ({x.shape[0]},) (one target per row of x); got {tuple(y.shape)}")
    if x_test is not None:
        x_test = torch.as_tensor(x_test).to(dtype=like.dtype, device=like.device)
        if x_test.ndim != 2 or x_test.shape[1] != x.shape[1]:
            raise ValueError(f"x_test must have shape (m, {x.shape[1]}); got {tuple(x_test.shape)}")
    return x, y, x_test


def _check_settings(lr, steps, loss, weight_decay) -> None:
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; allowed: {', '.join(LOSSES)}")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not isinstance(weight_decay, (int, float)) or not weight_decay >= 0:
        raise ValueError(f"weight_decay must be a non-negative number, got {weight_decay!r}")


def _steps(every: int | Sequence[int] | None, steps: int, name: str) -> set[int]:
    if every is None:
        return {0, steps}
    if isinstance(every, int) and not isinstance(every, bool):
        if every <= 0:
            raise ValueError(f"{name} must be a positive integer or a sequence of steps, got {every!r}")
        return set(range(0, steps + 1, every)) | {steps}
    chosen = {int(k) for k in every}
    if not chosen or min(chosen) < 0 or max(chosen) > steps:
        raise ValueError(f"{name}: steps must lie in 0 … {steps}, got {sorted(chosen)}")
    return chosen


def _check_output(model: torch.nn.Module, theta0: Params, ensemble: int | None, x: Tensor) -> None:
    """The model must give one scalar per input row: output shape (n,) or (n, 1)."""
    first = theta0 if ensemble is None else {k: v[0] for k, v in theta0.items()}
    with torch.no_grad():
        out = tf.functional_call(model, first, (x,))
    if not isinstance(out, Tensor) or tuple(out.shape) not in ((x.shape[0],), (x.shape[0], 1)):
        shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"model must map (n, d) inputs to n scalars (output shape (n,) or (n, 1)); got {shape}")


# --- checkpoint stores: the `train` rule's output, read by measurement cells --------------------
def checkpoint_dataset(trajectory: Trajectory, model: models.MLP) -> xr.Dataset:
    """A self-explaining store of an ensemble's parameter checkpoints (lead dimension ``seed``).

    Variables: ``param_<name>`` (seed, checkpoint_step, <name>_dim0, …) the raw parameters of the
    ``MLP`` at the checkpoint steps; ``checkpoint_outputs`` (seed, checkpoint_step, sample) f on the
    train inputs there; ``train_loss`` (seed, step); ``diverged_at`` (seed). Attribute ``model``: the
    ``model_spec`` the MLP's constructor arguments as JSON (``load_checkpoints`` rebuilds it),
    ``learning_rate`` and ``loss_name``.
    """
    if trajectory.diverged_at.ndim != 1 or not trajectory.checkpoints:
        raise ValueError("trajectory must come from an ensemble run with checkpoint_every set")
    steps = trajectory.checkpoint_steps.cpu().numpy()
    data = {}
    for name, value in trajectory.checkpoints.items():
        dims = ("seed", "checkpoint_step") + tuple(f"{name}_dim{i}" for i in range(value.ndim - 2))
        data[f"param_{name}"] = (dims, value.cpu().numpy(), {"long_name": f"raw parameter {name} of the MLP", "units": "1"})
    recorded = trajectory.record_steps.tolist()
    at = [recorded.index(k) for k in steps] if set(steps) <= set(recorded) else None
    if at is not None:
        data["checkpoint_outputs"] = (("seed", "checkpoint_step", "sample"), trajectory.train_outputs[:, at].cpu().numpy(),
                                      {"long_name": "network output on the training inputs", "units": "1"})
    data["train_loss"] = (("seed", "step"), trajectory.loss.cpu().numpy(),
                          {"long_name": f"training loss ({trajectory.loss_name})", "units": "1"})
    data["diverged_at"] = ("seed", trajectory.diverged_at.cpu().numpy(),
                           {"long_name": "step at which the loss became non-finite (−1: never)", "units": "1"})
    ds = xr.Dataset(data, coords={
        "seed": ("seed", np.arange(trajectory.diverged_at.shape[0]), {"long_name": "network draw"}),
        "checkpoint_step": ("checkpoint_step", steps, {"long_name": "GD step of the checkpoint", "units": "1"}),
        "step": ("step", np.arange(trajectory.loss.shape[-1]), {"long_name": "GD step", "units": "1"}),
    })
    ds["model_spec"] = ((), json.dumps(model_spec(model)), {"long_name": "MLP constructor arguments (JSON)"})
    ds["learning_rate"] = ((), trajectory.lr, {"long_name": "GD step h", "units": "1"})
    ds["loss_name"] = ((), trajectory.loss_name, {"long_name": "training loss (sum | half_sum | mean)"})
    return ds


def model_spec(model: models.MLP) -> dict:
    """Constructor arguments that rebuild ``model`` (``models.MLP(**spec)``)."""
    return {"in_dim": model.in_dim, "widths": list(model.widths), "activation": model.activation.name,
            "parameterization": model.parameterization, "weight_std": model.weight_std, "bias_std": model.bias_std}


def load_checkpoints(ds: xr.Dataset, *, dtype: torch.dtype = torch.float64, device="cpu") -> tuple[models.MLP, Params, np.ndarray]:
    """(model, params, steps) from a checkpoint store: params {name: (seed, checkpoint_step, *shape)};
    length-1 grid dimensions that ``run_cell`` adds are dropped."""
    names = [v for v in ds.data_vars if v.startswith("param_")]
    extra = [d for d in ds[names[0]].dims if d not in ("seed", "checkpoint_step") and not d.startswith(names[0][6:] + "_dim")]
    ds = ds.squeeze(extra, drop=True)
    spec = json.loads(str(ds.model_spec.values))
    model = models.MLP(spec.pop("in_dim"), **spec, dtype=dtype, device=device)
    params = {v[6:]: torch.as_tensor(ds[v].values, dtype=dtype, device=device) for v in names}
    return model, params, ds.checkpoint_step.values
