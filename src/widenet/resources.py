"""What one cell needs from a machine, estimated from its params: the Snakemake ``resources`` of
its job (what SLURM is asked for), and the check that refuses a cell whose estimate exceeds the
configured ``cell_limits`` before any job is submitted.

Torch-free (the Snakefile calls it for every cell). The model is generic, one vocabulary of params
for every experiment, and meant as an order of magnitude: a cell works on an ensemble of ``E``
networks (``n_seeds``, ``n_networks``; vmapped in chunks of at most ``CHUNK``) of depth ``D``
(``depth``, or the largest of ``depths``), hidden width ``H`` (``width``, ``neurons``), a linear
size ``F`` (``n_features`` random features, ``p`` sphere dimension), input dimension ``d``
(``input_dim``, at least 16), on ``N`` inputs (``n_inputs``, ``n_points``, ``n_angles``, at least 16):

    elements ≈ D·H² + N·(D + 1)·H + F·(N + d)            (weights and activations of one network)
    memory   ≈ BASE_MB + 4 · itemsize · min(E, CHUNK) · elements   (with gradients and a temporary)
    runtime  ≈ BASE_MIN + 6 · E · N · (D·H² + d·F) flop at FLOPS   (a forward and a backward per input)
"""

from __future__ import annotations

import math

BASE_MB = 1500  # interpreter, torch, xarray, netCDF4
BASE_MIN = 2
CHUNK = 10
FLOPS = 1e9  # flop/s of one CPU core on this kind of work, a conservative figure
HIDDEN = ("width", "neurons")
LINEAR = ("n_features", "p")
DEPTHS = ("depth", "depths")
ENSEMBLES = ("n_seeds", "n_networks")
INPUTS = ("n_inputs", "n_points", "n_angles")


def _largest(params: dict, names: tuple[str, ...], default: float) -> float:
    values = []
    for name in names:
        value = params.get(name)
        values += value if isinstance(value, list) else [value]
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return max(numbers, default=default)


def estimate(cell: dict) -> dict[str, int]:
    """``{"mem_mb", "runtime"}`` (MB, minutes) of a cell config from ``widenet.config.cells``."""
    params = cell["params"]
    hidden, linear = _largest(params, HIDDEN, 0.0), _largest(params, LINEAR, 0.0)
    depth = max(_largest(params, DEPTHS, 1.0), 1.0)
    ensemble = max(_largest(params, ENSEMBLES, 1.0), 1.0)
    inputs = max(_largest(params, INPUTS, 16.0), 16.0)
    dim = max(_largest(params, ("input_dim",), 16.0), 16.0)
    itemsize = 4 if cell.get("dtype") == "float32" else 8
    elements = depth * hidden**2 + inputs * (depth + 1) * hidden + linear * (inputs + dim)
    mem_mb = BASE_MB + 4 * itemsize * min(ensemble, CHUNK) * elements / 2**20
    runtime = BASE_MIN + 6 * ensemble * inputs * (depth * hidden**2 + dim * linear) / FLOPS / 60
    return {"mem_mb": _ceil(mem_mb), "runtime": _ceil(runtime)}


def _ceil(value: float) -> int:
    return int(min(math.ceil(value), 2**62))


def check(cell: dict, limits: dict) -> str | None:
    """Why the cell cannot run under ``limits`` (``mem_mb``, ``runtime``), or None when it fits."""
    need = estimate(cell)
    for key, unit in (("mem_mb", "MB"), ("runtime", "min")):
        if need[key] > limits[key]:
            return (
                f"experiment.{cell['experiment']} cell {cell['cell']}: estimated {key} {need[key]:.3g} {unit} "
                f"exceeds cell_limits.{key} = {limits[key]} (widenet.resources.estimate; raise the limit "
                f"or shrink the grid)"
            )
    return None
