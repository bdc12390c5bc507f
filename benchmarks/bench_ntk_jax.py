"""JAX side of the empirical-NTK benchmark: neural-tangents' three implementations (Novak et al.
2022) and a hand-written closed-form structured NTK, on the same problem as bench_ntk.py.

Runs in its own venv (see requirements-jax.txt):

    benchmarks/.venv-jax/bin/python benchmarks/bench_ntk_jax.py --json benchmarks/ntk_jax.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import jax
import jax.numpy as jnp
import neural_tangents as nt
from neural_tangents import stax


def median_seconds(fn, repeats: int, warmup: int = 2) -> float:
    """Median wall time of ``fn()`` (which must block until its result is ready) after warm-up."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mlp(width: int, depth: int):
    """depth × (Dense(width), Relu) then Dense(1), NTK parameterization, W_std = 1, no bias."""
    layers = [layer for _ in range(depth) for layer in (stax.Dense(width, b_std=None), stax.Relu())]
    return stax.serial(*layers, stax.Dense(1, b_std=None))


def closed_form_ntk(params, x):
    """Σ_ℓ (h_ℓ h_ℓᵀ / fan_in) ⊙ δ_{ℓ+1} δ_{ℓ+1}ᵀ for the stax MLP above (Novak et al. 2022 §3)."""
    weights = [p[0] for p in params if p]
    hs, slopes = [x], []
    for w in weights[:-1]:
        z = hs[-1] @ w / jnp.sqrt(w.shape[0])
        hs.append(jax.nn.relu(z))
        slopes.append((z > 0).astype(z.dtype))
    delta = slopes[-1] * weights[-1][:, 0] / jnp.sqrt(weights[-1].shape[0])
    ntk = hs[-1] @ hs[-1].T / hs[-1].shape[1]
    for ell in range(len(weights) - 2, -1, -1):
        ntk = ntk + (hs[ell] @ hs[ell].T / hs[ell].shape[1]) * (delta @ delta.T)
        if ell:
            delta = (delta @ weights[ell].T / jnp.sqrt(weights[ell].shape[0])) * slopes[ell - 1]
    return ntk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=1024)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--n", type=int, default=64)
    parser.add_argument("--dim", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args()

    init_fn, apply_fn, _ = mlp(args.width, args.depth)
    key_x, key_p = jax.random.split(jax.random.PRNGKey(0))
    x = jax.random.normal(key_x, (args.n, args.dim), jnp.float32)
    _, params = init_fn(key_p, x.shape)

    impls = {
        "nt_structured": nt.NtkImplementation.STRUCTURED_DERIVATIVES,
        "nt_jacobian": nt.NtkImplementation.JACOBIAN_CONTRACTION,
        "nt_ntvp": nt.NtkImplementation.NTK_VECTOR_PRODUCTS,
    }
    fns = {
        name: jax.jit(nt.empirical_ntk_fn(apply_fn, vmap_axes=0, implementation=impl))
        for name, impl in impls.items()
    }
    fns["jax_closed_form"] = jax.jit(lambda x1, x2, p: closed_form_ntk(p, x1))
    reference = fns["nt_jacobian"](x, None, params)
    results = {}
    for name, fn in fns.items():
        value = fn(x, None, params)
        error = float(jnp.abs(value.reshape(reference.shape) - reference).max() / jnp.abs(reference).max())
        seconds = median_seconds(lambda: fn(x, None, params).block_until_ready(), args.repeats)
        results[name] = {"ms": 1e3 * seconds, "rel_err_vs_nt_jacobian": error}

    print(f"jax {jax.__version__}, neural-tangents {nt.__version__}, devices {jax.devices()}")
    print(f"{'method':<18}{'ms':>10}{'rel. err':>12}")
    for name, row in results.items():
        print(f"{name:<18}{row['ms']:>10.2f}{row['rel_err_vs_nt_jacobian']:>12.1e}")
    if args.json:
        meta = {"jax": jax.__version__, "neural_tangents": nt.__version__, **vars(args)}
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
