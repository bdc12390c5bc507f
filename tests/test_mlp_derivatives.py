"""widenet.models: per-layer widths and the closed-form forward, vjp, jvp and back-propagated signals
against torch.func (jacrev, vjp, jvp) on small float64 nets, with and without an ensemble dimension."""

from __future__ import annotations

import pytest
import torch
from torch import func as tf

from widenet import models
from widenet.models import MLP

F64 = torch.float64
CASES = [  # (activation, parameterization, widths, bias_std)
    ("relu", "ntk", [5, 3, 6], 0.5),
    ("tanh", "standard", [4, 7], 1.0),
    ("erf", "ntk", [6], 0.0),
    ("softplus", "meanfield", [9], 0.3),
    ("shaped_tanh", "standard", [3, 8, 2, 5], 0.2),
]
IDS = [f"{a}-{p}-{'x'.join(map(str, w))}" for a, p, w, _ in CASES]


def _setup(activation, parameterization, widths, bias_std, n_networks=None):
    model = MLP(3, widths=widths, activation=activation, parameterization=parameterization, weight_std=1.3,
                bias_std=bias_std, dtype=F64, generator=torch.Generator().manual_seed(1))
    gen = torch.Generator().manual_seed(2)
    params = model.sample_parameters(n_networks, generator=gen)
    for k in params:  # biases initialised at 0 would hide bias bugs
        params[k] = params[k] + 0.3 * torch.randn(params[k].shape, generator=gen, dtype=F64)
    x = torch.randn(6, 3, generator=gen, dtype=F64)
    return model, params, x, gen


def _reference(model, params, x):
    """f(x) through torch.func.functional_call, vmapped over a leading ensemble dimension if present."""
    call = lambda p: tf.functional_call(model, p, (x,))  # noqa: E731
    return tf.vmap(call)(params) if params["weight0"].ndim == 3 else call(params)


@pytest.mark.parametrize("n_networks", [None, 3])
@pytest.mark.parametrize(("activation", "parameterization", "widths", "bias_std"), CASES, ids=IDS)
def test_derivatives_match_torch_func(activation, parameterization, widths, bias_std, n_networks):
    model, params, x, gen = _setup(activation, parameterization, widths, bias_std, n_networks)
    lead = () if n_networks is None else (n_networks,)
    cot = torch.randn(lead + (x.shape[0],), generator=gen, dtype=F64)
    tangent = {k: torch.randn(v.shape, generator=gen, dtype=F64) for k, v in params.items() if k != "bias1"}

    def one(p, c, t):  # torch.func on one network
        f = lambda q: tf.functional_call(model, q, (x,))  # noqa: E731
        grads = tf.vjp(f, p)[1](c)[0]
        full_t = {k: t.get(k, torch.zeros_like(v)) for k, v in p.items()}
        return f(p), grads, tf.jvp(f, (p,), (full_t,))[1], tf.jacrev(f)(p)

    ref = tf.vmap(one)(params, cot, tangent) if n_networks else one(params, cot, tangent)
    f, grads, jt, jac = ref
    torch.testing.assert_close(models.outputs(model, params, x), f, rtol=1e-12, atol=1e-12)
    mine = models.vjp(model, params, x, cot)
    assert sorted(mine) == sorted(params)
    for k in params:
        assert mine[k].shape == params[k].shape
        torch.testing.assert_close(mine[k], grads[k], rtol=1e-10, atol=1e-12)
    f2, jt2 = models.jvp(model, params, x, tangent)
    torch.testing.assert_close(f2, f, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(jt2, jt, rtol=1e-10, atol=1e-12)
    # per-sample Jacobian rows: vjp with the basis cotangents e_i (broadcast as an extra leading dim)
    eye = torch.eye(x.shape[0], dtype=F64).reshape((x.shape[0],) + (1,) * len(lead) + (x.shape[0],))
    rows = models.vjp(model, params, x, eye.expand((x.shape[0],) + lead + (x.shape[0],)))
    for k in params:
        torch.testing.assert_close(rows[k].movedim(0, len(lead)), jac[k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("activation", "parameterization", "widths", "bias_std"), CASES[:2], ids=IDS[:2])
def test_signals_are_output_derivatives_of_the_preactivations(activation, parameterization, widths, bias_std):
    """δ_ℓ = ∂f(x_i)/∂z_ℓ(x_i): perturb z_ℓ through an additive hook and differentiate with autograd."""
    model, params, x, _ = _setup(activation, parameterization, widths, bias_std)
    zs, hs = models.forward(model, params, x)
    assert [z.shape[-1] for z in zs] == [*widths, 1] and len(hs) == len(widths) + 1
    torch.testing.assert_close(hs[0], x)
    deltas = models.backward(model, params, zs)
    torch.testing.assert_close(deltas[-1], torch.ones_like(zs[-1]))
    for ell in range(1, len(widths) + 1):
        def f_of_shift(shift, ell=ell):
            h = x
            for k in range(len(widths) + 1):
                z = models._dense(model, params, k, h) + (shift if k == ell - 1 else 0)
                h = model.activation.fn(z)
            return z.sum()

        expected = torch.func.grad(f_of_shift)(torch.zeros_like(zs[ell - 1]))
        torch.testing.assert_close(deltas[ell - 1], expected, rtol=1e-10, atol=1e-12)


def test_pullback_shares_one_forward_pass():
    model, params, x, gen = _setup("tanh", "ntk", [4, 5], 0.5, 2)
    f, fn = models.pullback(model, params, x)
    torch.testing.assert_close(f, models.outputs(model, params, x))
    cot = torch.randn(2, x.shape[0], generator=gen, dtype=F64)
    for k, g in fn(cot).items():
        torch.testing.assert_close(g, models.vjp(model, params, x, cot)[k])


def test_module_forward_and_preactivations_use_the_same_code():
    model, _, x, _ = _setup("relu", "ntk", [4, 1, 6], 0.5)
    params = dict(model.named_parameters())
    torch.testing.assert_close(model(x), models.outputs(model, params, x))
    for z, z2 in zip(model.preactivations(x), models.forward(model, params, x)[0]):
        torch.testing.assert_close(z, z2)
    assert model.widths == (4, 1, 6) and model.depth == 3 and model.dims == [3, 4, 1, 6, 1]
    assert model.weight1.shape == (1, 4) and model.weight2.shape == (6, 1)


def test_width_and_depth_shorthand_equals_widths():
    a = MLP(3, 8, 2, generator=torch.Generator().manual_seed(0), dtype=F64)
    b = MLP(3, widths=[8, 8], generator=torch.Generator().manual_seed(0), dtype=F64)
    assert a.width == b.width == 8 and a.widths == b.widths == (8, 8)
    for (n1, p1), (n2, p2) in zip(a.named_parameters(), b.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    ((3,), {}, "width and depth, or as widths"),
    ((3, 8), {}, "width and depth, or as widths"),
    ((3, 8, 2), {"widths": [8, 8]}, "either width and depth or widths"),
    ((3, None, 2), {"widths": [8, 8]}, "either width and depth or widths"),
    ((3,), {"widths": []}, "widths must be a non-empty list"),
    ((3,), {"widths": 8}, "widths must be a non-empty list"),
    ((3,), {"widths": [8, 0]}, r"widths\[1\] must be a positive integer"),
    ((3,), {"widths": [8, 2.5]}, r"widths\[1\] must be a positive integer"),
    ((3, 0, 2), {}, "width must be a positive integer"),
    ((3,), {"widths": [4, 4], "parameterization": "meanfield"}, "one hidden layer"),
])
def test_bad_widths_name_the_argument(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLP(*args, **kwargs)


def test_width_of_uneven_net_is_an_error():
    with pytest.raises(ValueError, match=r"widths=\[4, 2\]"):
        MLP(3, widths=[4, 2]).width
