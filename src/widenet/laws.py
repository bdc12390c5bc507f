"""Fitted laws: a measured number set against its theory value, stored inside the dataset.

A store carries its laws as variables over a ``law`` dimension (``law_measured``,
``law_theory``, ``law_tolerance``, ``law_holds``, ``law_description``), so that the figure,
the report caption and the tests read the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr
from scipy import stats


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
    """Least-squares slope, intercept and slope standard error of log y against log x
    (``scipy.stats.linregress`` over the finite points; NaN below 2 points, the SE NaN below 3)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # non-positive values are left out below
        lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    keep = np.isfinite(lx) & np.isfinite(ly)
    lx, ly = lx[keep], ly[keep]
    if lx.size < 2:
        return float("nan"), float("nan"), float("nan")
    fit = stats.linregress(lx, ly)
    return float(fit.slope), float(fit.intercept), float(fit.stderr) if lx.size > 2 else float("nan")


def loglog_slopes(y: xr.DataArray, dim: str, keep: xr.DataArray | None = None) -> xr.Dataset:
    """``loglog_slope`` of y against its coordinate ``dim`` for every index of the other dimensions:
    a Dataset of ``slope``, ``intercept`` and ``slope_se`` over them. Points where ``keep`` is False
    (or y is not positive and finite) are left out."""
    if keep is not None:
        y = y.where(keep)
    slope, intercept, se = xr.apply_ufunc(
        lambda v, x: loglog_slope(x, v), y, y[dim], input_core_dims=[[dim], [dim]],
        output_core_dims=[[], [], []], vectorize=True,
    )
    return xr.Dataset({"slope": slope, "intercept": intercept, "slope_se": se})


def pooled_loglog_slope(y: xr.DataArray, dim: str, group: str, keep: xr.DataArray | None = None) -> tuple[float, float]:
    """(slope, SE) of log y against log ``dim`` with one common slope and one intercept per index of
    ``group`` (least squares with group-centred logs); points where ``keep`` is False or y is not
    positive and finite are left out."""
    ly = np.log(y.where(y > 0) if keep is None else y.where(keep & (y > 0)))
    lx = np.log(y[dim]).where(np.isfinite(ly))
    dx, dy = lx - lx.mean(dim), ly - ly.mean(dim)
    sxx, sxy = float((dx * dx).sum()), float((dx * dy).sum())
    n_points, n_groups = int(np.isfinite(ly).sum()), int((np.isfinite(ly).sum(dim) > 0).sum())
    dof = n_points - n_groups - 1
    if sxx <= 0 or n_groups == 0:
        return float("nan"), float("nan")
    slope = sxy / sxx
    resid = float(((dy - slope * dx) ** 2).sum())
    return slope, (float(np.sqrt(resid / dof / sxx)) if dof > 0 else float("nan"))


def slope_through_origin(x, y, se) -> tuple[float, float]:
    """Unweighted least-squares slope of y = a·x (no intercept) and its standard error from the
    independent per-point standard errors ``se``: a = Σxy/Σx², SE = √(Σx²se²)/Σx². Unweighted:
    weights 1/se² estimated from the same samples would favour the points that fluctuated low."""
    x, y, se = (np.asarray(v, float) for v in (x, y, se))
    den = np.sum(x * x)
    if den == 0:  # no point in the fit range
        return float("nan"), float("nan")
    return float(np.sum(x * y) / den), float(np.sqrt(np.sum(x * x * se * se)) / den)


def attach(ds: xr.Dataset, laws: list[Law]) -> xr.Dataset:
    """Return ``ds`` with the laws as variables over the ``law`` dimension (replacing any present)."""
    ds = ds.drop_dims("law", errors="ignore")
    if not laws:
        return ds
    names = [law.name for law in laws]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate law names: {names}")

    def var(values, long_name, units="1"):
        return ("law", np.asarray(values), {"long_name": long_name, **({"units": units} if units else {})})

    return ds.assign_coords(law=("law", names, {"long_name": "fitted law"})).assign(
        law_measured=var([law.measured for law in laws], "measured value"),
        law_theory=var([law.theory for law in laws], "theory value"),
        law_tolerance=var([law.tolerance for law in laws], "tolerance"),
        law_holds=var([law.ok for law in laws], "measured agrees with theory within tolerance"),
        law_description=var([law.description for law in laws], "what is measured", units=None),  # text: no unit
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
