"""Fitted laws: a measured number set against its theory value, stored inside the dataset.

A store carries its laws as variables over a ``law`` dimension (``law_measured``,
``law_theory``, ``law_tolerance``, ``law_holds``, ``law_description``), so that the figure,
the report caption and the tests read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr


@dataclass(frozen=True)
class Law:
    """``measured`` agrees with ``theory`` when |measured − theory| ≤ tolerance (or ``holds`` says)."""

    name: str
    measured: float
    theory: float
    tolerance: float
    description: str
    holds: bool | None = None

    @property
    def ok(self) -> bool:
        if self.holds is not None:
            return bool(self.holds)
        return bool(np.isfinite(self.measured) and abs(self.measured - self.theory) <= self.tolerance)

    def text(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{self.description}: {self.measured:.3g} (theory {self.theory:.3g} ± {self.tolerance:.2g}) {mark}"


def loglog_slope(x, y) -> tuple[float, float, float]:
    """Least-squares slope, intercept and slope standard error of log y against log x."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    keep = np.isfinite(lx) & np.isfinite(ly)
    lx, ly = lx[keep], ly[keep]
    if lx.size < 2:
        return float("nan"), float("nan"), float("nan")
    A = np.stack([lx, np.ones_like(lx)], axis=1)
    coef, *_ = np.linalg.lstsq(A, ly, rcond=None)
    dof = max(lx.size - 2, 1)
    resid = ly - A @ coef
    se = np.sqrt(resid @ resid / dof / np.sum((lx - lx.mean()) ** 2)) if lx.size > 2 else float("nan")
    return float(coef[0]), float(coef[1]), float(se)


def attach(ds: xr.Dataset, laws: list[Law]) -> xr.Dataset:
    """Return ``ds`` with the laws as variables over the ``law`` dimension (replacing any present)."""
    ds = ds.drop_dims("law", errors="ignore")
    if not laws:
        return ds
    names = [law.name for law in laws]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate law names: {names}")

    def var(values, long_name, units="1"):
        return ("law", np.asarray(values), {"long_name": long_name, "units": units})

    return ds.assign_coords(law=("law", names, {"long_name": "fitted law"})).assign(
        law_measured=var([law.measured for law in laws], "measured value"),
        law_theory=var([law.theory for law in laws], "theory value"),
        law_tolerance=var([law.tolerance for law in laws], "tolerance"),
        law_holds=var([law.ok for law in laws], "measured agrees with theory within tolerance"),
        law_description=var([law.description for law in laws], "what is measured", units=""),
    )


def read(ds: xr.Dataset) -> list[Law]:
    """The laws stored in ``ds`` (empty when it has none)."""
    if "law" not in ds.dims:
        return []
    return [
        Law(
            name=str(name),
            measured=float(ds.law_measured.sel(law=name)),
            theory=float(ds.law_theory.sel(law=name)),
            tolerance=float(ds.law_tolerance.sel(law=name)),
            description=str(ds.law_description.sel(law=name).item()),
            holds=bool(ds.law_holds.sel(law=name)),
        )
        for name in ds.law.values
    ]


def get(ds: xr.Dataset, name: str) -> Law:
    for law in read(ds):
        if law.name == name:
            return law
    raise KeyError(f"no law {name!r} in store; have: {[law.name for law in read(ds)]}")
