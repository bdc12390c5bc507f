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
    gen = torch.Generator().manual_seed(stream_seed("dataset", name, spec.get("seed", 0)))
    if spec["kind"] == "sphere":
        x = unit_sphere(spec["n"], spec["dim"], gen).numpy()
        return xr.Dataset(
            {"x": (("sample", "feature"), x, {"long_name": "input on the unit sphere", "units": "1"})},
            coords={
                "sample": ("sample", range(spec["n"]), {"long_name": "input index"}),
                "feature": ("feature", range(spec["dim"]), {"long_name": "input coordinate"}),
            },
        )
    if spec["kind"] == "sphere-teacher":
        return sphere_teacher(spec["n"], spec["n_test"], spec["dim"], spec["frequency"], gen)
    if spec["kind"] == "points":
        return points(spec["x"], spec["y"], name)
    raise ValueError(f"unknown dataset kind {spec['kind']!r} for dataset {name!r}")


def teacher(x: torch.Tensor, direction: torch.Tensor, frequency: float) -> torch.Tensor:
    """The smooth single-index teacher y = sin(ω·√d·⟨u, x⟩) (|u| = 1; √d⟨u, x⟩ is O(1) on the unit sphere).
    Small ω keeps y nearly linear in x, i.e. in the top eigenspaces of the NTK on the sphere."""
    return torch.sin(frequency * x.shape[-1] ** 0.5 * (x @ direction))


def sphere_teacher(n: int, n_test: int, dim: int, frequency: float, generator: torch.Generator) -> xr.Dataset:
    """Training data for the training family: n train and n_test test inputs uniform on S^(dim−1),
    labelled by ``teacher`` with a random unit direction u."""
    x, x_test = unit_sphere(n, dim, generator), unit_sphere(n_test, dim, generator)
    u = unit_sphere(1, dim, generator)[0]
    feature = ("feature", range(dim), {"long_name": "input coordinate"})
    return xr.Dataset(
        {
            "x": (("sample", "feature"), x.numpy(), {"long_name": "training input on the unit sphere", "units": "1"}),
            "y": ("sample", teacher(x, u, frequency).numpy(), {"long_name": f"teacher target sin({frequency:g}·√d·⟨u, x⟩)", "units": "1"}),
            "x_test": (("test_sample", "feature"), x_test.numpy(), {"long_name": "test input on the unit sphere", "units": "1"}),
            "y_test": ("test_sample", teacher(x_test, u, frequency).numpy(), {"long_name": "teacher target at the test inputs", "units": "1"}),
            "teacher_direction": ("feature", u.numpy(), {"long_name": "teacher direction u", "units": "1"}),
        },
        coords={
            "sample": ("sample", range(n), {"long_name": "training input index"}),
            "test_sample": ("test_sample", range(n_test), {"long_name": "test input index"}),
            "feature": feature,
        },
    )


def points(x: list[float], y: list[float], name: str = "points") -> xr.Dataset:
    """Given one-dimensional training points (x_i, y_i), e.g. Petersen–Zech Figure 11.3's three."""
    if len(x) != len(y):
        raise ValueError(f"dataset {name!r}: x and y must have the same length, got {len(x)} and {len(y)}")
    return xr.Dataset(
        {
            "x": (("sample", "feature"), [[float(v)] for v in x], {"long_name": "training input", "units": "1"}),
            "y": ("sample", [float(v) for v in y], {"long_name": "training target", "units": "1"}),
        },
        coords={"sample": ("sample", range(len(x)), {"long_name": "training point index"}),
                "feature": ("feature", [0], {"long_name": "input coordinate"})},
    )
