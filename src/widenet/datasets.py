"""Shared inputs, generated (never downloaded) and written once to ``data/datasets/<name>.nc``."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
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
    if spec["kind"] == "digits":
        return two_class_images(spec["n"], spec["classes"], spec["cifar_path"])
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


CIFAR_CLASSES = {"airplane": 0, "bird": 2}


def _cifar_images(path: Path, per_class: int) -> tuple[np.ndarray, np.ndarray, str] | None:
    """The first ``per_class`` airplanes and birds of the CIFAR-10 python batch ``data_batch_1`` at
    ``path``, or None when it is not there (nothing is ever downloaded)."""
    batch = Path(path) / "data_batch_1"
    if not batch.is_file():
        return None
    with open(batch, "rb") as fh:
        raw = pickle.load(fh, encoding="bytes")
    data, labels = np.asarray(raw[b"data"], dtype=np.float64), np.asarray(raw[b"labels"])
    picks = [np.flatnonzero(labels == c)[:per_class] for c in CIFAR_CLASSES.values()]
    return data[np.concatenate(picks)], np.repeat([1.0, -1.0], per_class), "CIFAR-10 airplane (+1) / bird (−1), data_batch_1"


def two_class_images(n: int, classes: list[int], cifar_path: str) -> xr.Dataset:
    """n images of two classes with labels ±1 (Liu–Zhu–Belkin Appendix B): CIFAR-10 airplane/bird when
    ``cifar_path`` holds the python batches, else scikit-learn's bundled 8×8 digits of ``classes``.
    Each image is scaled to norm √d, so that a first-layer ntk pre-activation has unit variance."""
    if n % 2 or len(classes) != 2:
        raise ValueError(f"digits dataset: n must be even and classes two digits, got n={n}, classes={classes}")
    found = _cifar_images(Path(cifar_path), n // 2) if cifar_path else None
    if found is None:
        from sklearn.datasets import load_digits

        digits = load_digits()
        picks = [np.flatnonzero(digits.target == c)[: n // 2] for c in classes]
        found = (digits.data[np.concatenate(picks)].astype(np.float64), np.repeat([1.0, -1.0], n // 2),
                 f"scikit-learn digits {classes[0]} (+1) / {classes[1]} (−1)")
    x, y, source = found
    x = x / np.linalg.norm(x, axis=1, keepdims=True) * np.sqrt(x.shape[1])
    return xr.Dataset(
        {"x": (("sample", "feature"), x, {"long_name": "image scaled to norm √d", "units": "1"}),
         "y": ("sample", y, {"long_name": "class label (±1)", "units": "1"}),
         "image_source": ((), source, {"long_name": "which images (CIFAR-10 when present, else scikit-learn digits)"})},
        coords={"sample": ("sample", range(n), {"long_name": "image index"}),
                "feature": ("feature", range(x.shape[1]), {"long_name": "pixel"})},
    )
