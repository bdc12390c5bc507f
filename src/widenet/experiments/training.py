"""The `train` stage any experiment can name (registry ``train=``): an ensemble of MLPs trained on the
cell's dataset, written as parameter checkpoints for that experiment's measurement cells.

Settings read from the cell (declare them in the experiment's schema): ``dataset`` (with targets ``y``,
e.g. kind ``sphere-teacher``), ``width``, ``depth``, ``activation``, ``n_seeds``, ``bias_std``,
``train_steps``, ``train_lr`` (the step h), ``train_loss`` (sum | half_sum | mean),
``checkpoint_steps`` (list of GD steps); optional ``parameterization`` (default ntk) and ``weight_std``
(default 1). The initial parameters are drawn from the cell's ``init`` stream; checkpoint step 0 holds them.
"""

from __future__ import annotations

import xarray as xr

from widenet.cells import Cell
from widenet.models import MLP
from widenet.training import checkpoint_dataset, gradient_descent


def train_checkpoints(cell: Cell) -> xr.Dataset:
    """GD on the cell's dataset for ``n_seeds`` networks at once; checkpoints at ``checkpoint_steps``."""
    p, data = cell.params, cell.dataset()
    if "y" not in data:
        raise ValueError(f"dataset {p['dataset']!r} has no targets y: use a training set (kind sphere-teacher or points)")
    x, y = cell.tensor(data.x.values), cell.tensor(data.y.values)
    model = MLP(x.shape[1], p["width"], p["depth"], activation=p["activation"],
                parameterization=p.get("parameterization", "ntk"), weight_std=p.get("weight_std", 1.0),
                bias_std=p["bias_std"], dtype=cell.dtype, device=cell.device)
    params = model.sample_parameters(p["n_seeds"], cell.generator("init"))
    steps = p["train_steps"]
    keep = sorted({int(k) for k in p["checkpoint_steps"]} | {0, steps})
    trajectory = gradient_descent(
        model, x, y, lr=p["train_lr"], steps=steps, loss=p["train_loss"], params=params,
        record_every=keep, checkpoint_every=keep,
        progress=lambda it: cell.progress(it, "GD steps", total=steps + 1),
    )
    return checkpoint_dataset(trajectory, model)
