"""Curvature timings (issue 9): Lanczos ‖H‖ vs scipy eigsh on the same HVPs; one HVP vs one gradient.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_curvature.py [--width 1024] [--depth 2]

Output-Hessian norms of an ntk tanh MLP at 8 inputs in float64 on the CPU, one thread. ``eigsh(k=1)``
(ARPACK, tol 1e-6) is driven input by input by the same torch HVPs; both are compared with a tight
reference (Lanczos at tol 1e-12) to state the accuracy reached.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from scipy.sparse.linalg import LinearOperator, eigsh
from torch import func as tf

from widenet import curvature, models
from widenet.curvature import _common, output
from widenet.datasets import unit_sphere
from widenet.models import MLP


def _eigsh_norms(model, x, tol):
    """ARPACK's Lanczos (``eigsh``, k=1, largest magnitude) per input on the same HVPs as ``lanczos``."""
    layout, theta, _ = _common._parameters(model, None)
    out = []
    for i in range(x.shape[0]):
        hvp = output._batched_output_hvp(model, layout, theta, x[i : i + 1], False)
        op = LinearOperator((layout.size, layout.size), dtype=np.float64,
                            matvec=lambda v, hvp=hvp: hvp(torch.from_numpy(np.ravel(v))[None])[0].numpy())
        out.append(abs(eigsh(op, k=1, which="LM", tol=tol, return_eigenvectors=False)[0]))
    return torch.tensor(out)


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--depth", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(0)
    x = unit_sphere(8, 10, gen)
    model = MLP(10, args.width, args.depth, activation="tanh", bias_std=1.0, dtype=torch.float64, generator=gen)
    ref = curvature.output_hessian_norm(model, x, method="lanczos", tol=1e-12)
    lanczos, t_lanczos = _timed(lambda: curvature.output_hessian_norm(model, x, method="lanczos", tol=1e-6))
    arpack, t_arpack = _timed(lambda: _eigsh_norms(model, x, 1e-6))
    print(f"depth {args.depth}, width {args.width}, 8 inputs, float64, 1 thread")
    print(f"lanczos: {t_lanczos:.2f} s, max rel err {float(((lanczos - ref).abs() / ref).max()):.1e}")
    print(f"eigsh  : {t_arpack:.2f} s, max rel err {float(((arpack - ref).abs() / ref).max()):.1e}")
    print(f"ratio lanczos / eigsh = {t_lanczos / t_arpack:.2f}")
    layout, theta, _ = _common._parameters(model, None)
    f = _common._scalar_output(model, layout)
    for n in (8, 1):
        grads = tf.vmap(tf.grad(f), in_dims=(None, 0))
        hvp = output._batched_output_hvp(model, layout, theta, x[:n], False)
        v = torch.randn(n, layout.size, dtype=torch.float64, generator=gen)
        out = torch.empty_like(v)
        grads(theta, x[:n]), hvp(v, out=out)  # warm-up
        t_grad = min(_timed(lambda: grads(theta, x[:n]))[1] for _ in range(7))
        t_hvp = min(_timed(lambda: hvp(v, out=out))[1] for _ in range(7))
        print(f"{n} input(s): per-input gradients (torch.func) {t_grad * 1e3:.1f} ms; HVPs (as Lanczos runs them) "
              f"{t_hvp * 1e3:.1f} ms; ratio {t_hvp / t_grad:.2f}")
    params, one = dict(model.named_parameters()), torch.ones(1, dtype=torch.float64)
    with torch.no_grad():
        t_closed = min(_timed(lambda: models.vjp(model, params, x[:1], one))[1] for _ in range(7))
    print(f"1 input: closed-form gradient (models.vjp) {t_closed * 1e3:.1f} ms; HVP / that gradient {t_hvp / t_closed:.2f}")

if __name__ == "__main__":
    main()
