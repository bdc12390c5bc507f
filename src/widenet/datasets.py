"""Shared inputs, generated (never downloaded) and written once to ``data/datasets/<name>.nc``."""

from __future__ import annotations

import torch
import xarray as xr

from widenet.config import stream_seed


def unit_sphere(n: int, dim: int, generator: torch.Generator, dtype=torch.float64) -> torch.Tensor:
    """n points uniform on S^(dim−1): normalized standard Gaussians."""
    x = torch.randn(n, dim, generator=generator, dtype=dtype)
    return x / x.norm(dim=1, keepdim=True)


def make(name: str, spec: dict) -> xr.Dataset:
    """Build dataset ``name`` from its config entry (``kind`` plus that kind's fields)."""
    gen = torch.Generator().manual_seed(stream_seed("dataset", name, spec["seed"]))
    if spec["kind"] == "sphere":
        x = unit_sphere(spec["n"], spec["dim"], gen).numpy()
        return xr.Dataset(
            {"x": (("sample", "feature"), x, {"long_name": "input on the unit sphere", "units": "1"})},
            coords={
                "sample": ("sample", range(spec["n"]), {"long_name": "input index"}),
                "feature": ("feature", range(spec["dim"]), {"long_name": "input coordinate"}),
            },
        )
    raise ValueError(f"unknown dataset kind {spec['kind']!r} for dataset {name!r}")
