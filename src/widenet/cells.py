"""Run one cell of an experiment, and aggregate cells into the experiment's store.

A cell's job receives only its own resolved config (``widenet.config.cells``); its random
streams derive from (experiment, cell, seed), so the same config gives identical numbers on CPU.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import xarray as xr
from tqdm.auto import tqdm

from widenet import laws, store
from widenet.config import stream_seed
from widenet.registry import EXPERIMENTS


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` picks CUDA when present, else CPU; anything else is passed to ``torch.device``."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={name!r} requested but CUDA is not available on this machine")
    return device


@dataclass
class Cell:
    """What an experiment's ``compute`` function sees: its parameters, RNG streams, device."""

    experiment: str
    key: str
    axes: dict
    params: dict
    seed: int = 0
    dtype: torch.dtype = torch.float64
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: dict, *, device: str = "auto", datasets: dict | None = None) -> "Cell":
        return cls(
            experiment=cfg["experiment"],
            key=cfg["cell"],
            axes=dict(cfg["axes"]),
            params=dict(cfg["params"]),
            seed=int(cfg["seed"]),
            dtype=getattr(torch, cfg["dtype"]),
            device=resolve_device(device),
            datasets=datasets or {},
        )

    def generator(self, stream: str = "") -> torch.Generator:
        """A generator on the cell's device seeded from (experiment, cell, seed, stream)."""
        gen = torch.Generator(device=self.device)
        gen.manual_seed(stream_seed(self.experiment, self.key, self.seed, stream))
        return gen

    def tensor(self, values) -> torch.Tensor:
        return torch.as_tensor(np.asarray(values), dtype=self.dtype, device=self.device)

    def dataset(self) -> xr.Dataset:
        """The dataset named by the ``dataset`` setting."""
        return self.datasets[self.params["dataset"]]

    def progress(self, iterable, desc: str, total: int | None = None):
        """tqdm progress on stderr (the job's log file), refreshed at most every 2 s."""
        return tqdm(iterable, desc=f"{self.experiment}/{self.key}: {desc}", total=total, file=sys.stderr, mininterval=2.0)


def _label_axes(ds: xr.Dataset, axes: dict) -> xr.Dataset:
    for name in axes:
        ds[name].attrs.setdefault("long_name", name.replace("_", " "))
        ds[name].attrs.setdefault("units", "1")
    return ds


def _object_strings(ds: xr.Dataset) -> xr.Dataset:
    """String coordinates as Python objects: fixed-width unicode ('<U3' vs '<U4') would be
    truncated to the first cell's width when cells are combined."""
    return ds.assign_coords({name: c.astype(object) for name, c in ds.coords.items() if c.dtype.kind in "US"})


def run_cell(
    cfg: dict, *, device: str = "auto", datasets: dict[str, str | Path] | None = None, stage: str = "compute"
) -> xr.Dataset:
    """Compute one cell; returns its dataset with outer axes as length-1 dims and provenance attrs.

    ``stage="train"`` runs the experiment's ``train`` function instead (its parameter checkpoints,
    ``data/<id>/checkpoints/<cell>.nc``, which the ``compute`` stage then reads as the dataset
    named ``checkpoints``).
    """
    exp = EXPERIMENTS[cfg["experiment"]]
    if stage not in ("compute", "train") or getattr(exp, stage) is None:
        raise ValueError(f"stage {stage!r}: {exp.id} has no such function; allowed: compute"
                         + (", train" if exp.train else ""))
    cell = Cell.from_config(
        cfg, device="cpu" if exp.cpu_only else device,
        datasets={name: store.read(path) for name, path in (datasets or {}).items()},
    )
    start = time.perf_counter()
    ds = exp.load(stage)(cell)
    if cell.device.type == "cuda":
        torch.cuda.synchronize(cell.device)
    wall = time.perf_counter() - start
    ds = _label_axes(ds.expand_dims({name: [value] for name, value in cell.axes.items()}), cell.axes)
    ds["cell_wall_time_s"] = xr.DataArray(
        np.full([1] * len(cell.axes), wall), dims=list(cell.axes), attrs={"long_name": "cell compute time", "units": "s"}
    )
    ds.attrs = store.provenance(
        experiment=exp.id, source=exp.source, config=cfg, device=str(cell.device), wall_time_s=wall,
        step=f"{'cell' if stage == 'compute' else stage} {cell.key}",
    )
    return ds


def aggregate(exp_cfg: dict, cell_paths: list[str | Path]) -> xr.Dataset:
    """Combine cell stores into the experiment store, then run ``summarize`` (derived data, laws).

    ``exp_cfg`` is ``widenet.config.experiment_config(cfg, exp_id)``.
    """
    exp = EXPERIMENTS[exp_cfg["experiment"]]
    start = time.perf_counter()
    parts = [_object_strings(store.read(p)) for p in cell_paths]
    devices = sorted({p.attrs.get("device", "unknown") for p in parts})
    ds = xr.combine_by_coords(parts, combine_attrs="drop_conflicts", data_vars="all")
    ds = _label_axes(ds, dict.fromkeys(exp.grid))
    if exp.summarize:
        ds = exp.load("summarize")(ds, exp_cfg)
    compute_time = float(ds["cell_wall_time_s"].sum()) + time.perf_counter() - start
    ds.attrs = store.provenance(
        experiment=exp.id, source=exp.source, config=exp_cfg, device=",".join(devices), wall_time_s=compute_time,
        history=store.cells_history(parts),
    )
    ds.attrs["laws"] = "\n".join(law.text() for law in laws.read(ds))
    return ds
