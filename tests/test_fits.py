"""widenet.laws fit helpers against explicit least squares, and the shared quadrature rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from widenet import laws
from widenet.quadrature import gauss_hermite, gauss_legendre

RNG = np.random.default_rng(3)
X = np.array([16.0, 32, 64, 128, 256])


def test_loglog_slope_is_least_squares_with_its_standard_error():
    y = 2.5 * X**-0.5 * np.exp(0.05 * RNG.standard_normal(X.size))
    slope, intercept, se = laws.loglog_slope(X, y)
    A = np.stack([np.log(X), np.ones(X.size)], 1)
    coef, res, *_ = np.linalg.lstsq(A, np.log(y), rcond=None)
    cov = np.linalg.inv(A.T @ A) * res[0] / (X.size - 2)
    assert (slope, intercept, se) == pytest.approx((coef[0], coef[1], math.sqrt(cov[0, 0])), rel=1e-12)
    assert laws.loglog_slope([1, 2, 4], [3, 6, 12])[0] == pytest.approx(1.0, abs=1e-14)  # exact power law
    two = laws.loglog_slope([1, 2], [1, 4])
    assert two[0] == pytest.approx(2.0) and math.isnan(two[2])  # no SE from two points
    assert all(math.isnan(v) for v in laws.loglog_slope([1, 2, 3], [1, -1, np.nan]))  # one usable point


def test_loglog_slopes_fit_every_curve_and_honour_keep():
    y = xr.DataArray(np.exp(0.1 * RNG.standard_normal((3, X.size))) * X ** np.array([[1.0], [1.5], [2.0]]),
                     dims=("depth", "width"), coords={"depth": [1, 2, 3], "width": X})
    keep = y.width >= 32
    fit = laws.loglog_slopes(y, "width", keep)
    assert fit.slope.dims == ("depth",)
    for d in (1, 2, 3):
        curve = y.sel(depth=d)
        expected = laws.loglog_slope(X[1:], curve.values[1:])
        assert (float(fit.slope.sel(depth=d)), float(fit.intercept.sel(depth=d)), float(fit.slope_se.sel(depth=d))) \
            == pytest.approx(expected, rel=1e-12)


def test_pooled_slope_is_the_dummy_variable_least_squares():
    """One slope and one intercept per group: compare with lstsq on [log N, one-hot(group)]."""
    y = xr.DataArray(np.exp(0.05 * RNG.standard_normal((3, X.size))) * X**1.2 * np.array([[1.0], [2.0], [3.0]]),
                     dims=("depth", "neurons"), coords={"depth": [1, 2, 4], "neurons": X})
    keep = xr.DataArray(np.array([[1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [0, 0, 0, 1, 1]], bool), dims=y.dims, coords=y.coords)
    rows, target = [], []
    for g in range(3):
        for i in range(X.size):
            if keep.values[g, i]:
                rows.append([math.log(X[i]), *np.eye(3)[g]])
                target.append(math.log(y.values[g, i]))
    A, b = np.array(rows), np.array(target)
    coef, res, *_ = np.linalg.lstsq(A, b, rcond=None)
    se = math.sqrt(np.linalg.inv(A.T @ A)[0, 0] * res[0] / (len(b) - A.shape[1]))
    assert laws.pooled_loglog_slope(y, "neurons", "depth", keep) == pytest.approx((coef[0], se), rel=1e-10)
    assert all(math.isnan(v) for v in laws.pooled_loglog_slope(y, "neurons", "depth", keep & (y.neurons == 256)))


def test_slope_through_origin():
    x, se = np.array([1.0, 2, 3]), np.array([0.1, 0.2, 0.3])
    slope, slope_se = laws.slope_through_origin(x, 2 * x, se)
    assert slope == pytest.approx(2.0) and slope_se == pytest.approx(math.sqrt(np.sum(x**2 * se**2)) / 14)
    assert all(math.isnan(v) for v in laws.slope_through_origin([0.0], [1.0], [1.0]))


def test_quadrature_rules_integrate_polynomials_exactly():
    g, w = gauss_hermite(8)
    assert [w @ g**k for k in (0, 2, 4, 6)] == pytest.approx([1, 1, 3, 15], rel=1e-12)  # N(0, 1) moments
    assert w @ g**3 == pytest.approx(0, abs=1e-12)
    t, v = gauss_legendre(5)
    assert v @ t**8 == pytest.approx(2 / 9, rel=1e-12)
