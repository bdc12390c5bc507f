"""A1 sphere-projection (Amari Theorem 2): projected uniform sphere points have covariance I/p."""

from __future__ import annotations

import numpy as np
import pytest

from widenet import laws
from widenet.sphere import sphere_coordinate_cdf, sphere_projection_sample
from helpers import run_experiment


def test_p_var_within_three_percent_of_one_at_p_1024():
    import torch

    z = sphere_projection_sample(1024, 10, 20_000, torch.Generator().manual_seed(11)).numpy()
    p_var = 1024 * z.var(axis=0, ddof=1)
    assert abs(p_var.mean() - 1) < 0.03  # SE of the mean ≈ √(2/M)/√10 = 0.3 %
    assert np.all(abs(p_var - 1) < 0.05)  # each coordinate: SE ≈ 1 %
    off = 1024 * np.cov(z, rowvar=False)[~np.eye(10, dtype=bool)]
    assert np.all(abs(off) < 0.05)  # orthogonal directions are uncorrelated


def test_exact_coordinate_law_is_a_beta_and_tends_to_normal():
    from scipy import stats

    t = np.linspace(-0.5, 0.5, 11)
    for p in (16, 256):
        # (t + 1)/2 ~ Beta((p−1)/2, (p−1)/2): symmetric, variance 1/p
        assert sphere_coordinate_cdf(0.0, p) == pytest.approx(0.5)
        a = (p - 1) / 2
        assert 4 * stats.beta.var(a, a) == pytest.approx(1 / p)
    gap = [np.abs(sphere_coordinate_cdf(t / np.sqrt(p), p) - stats.norm.cdf(t)).max() for p in (16, 64, 256)]
    assert gap[0] > gap[1] > gap[2]


def test_quick_grid_laws(tmp_path):
    ds = run_experiment("sphere-projection", tmp_path, ["experiment.sphere-projection.grid.p=[16,256,1024]"])
    assert laws.get(ds, "p_var_p1024").ok
    assert abs(laws.get(ds, "p_var_p1024").measured - 1) < 0.03
    assert all(law.ok for law in laws.read(ds))
