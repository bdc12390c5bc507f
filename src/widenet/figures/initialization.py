"""Figures of the initialization family (A1, A2, A3, A7, A8)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from widenet import laws
from widenet.figures import style


def sphere_projection(ds):
    """A1: (a) p·Var(z) against p with the line 1; (b) histograms of √p·z₁ over the N(0, 1) density."""
    fig, (a, b) = style.figure(2, title="A1 sphere-projection — Amari Theorem 2: projected sphere → N(0, I/p)")
    p = ds.p.values
    mean, se = ds.p_var_mean.values, ds.p_var_se.values
    a.errorbar(p, mean, yerr=2 * se, marker="o", capsize=3, label="measured (mean over coordinates, ±2 SE)")
    a.axhline(1.0, **style.THEORY, label="theory: p·Var = 1")
    a.set_xscale("log", base=2)
    a.set_xlabel("ambient dimension p")
    a.set_ylabel("p · Var(z_i)  (dimensionless)")
    held = sum(law.ok for law in laws.read(ds) if law.name.startswith("p_var"))
    total = sum(1 for law in laws.read(ds) if law.name.startswith("p_var"))
    style.annotate(a, f"{held}/{total} values of p within 4 SE of 1", loc="lower right")
    a.legend(loc="upper right")
    style.panel_title(a, "a", "variance of projected coordinates")

    shown = p[np.unique(np.round(np.linspace(0, len(p) - 1, 4)).astype(int))]
    colors = style.palette(len(shown))
    centres = ds.bin.values
    width = centres[1] - centres[0]
    for color, pv in zip(colors, shown):
        b.step(centres, ds.hist_sqrt_p_z1.sel(p=pv), where="mid", color=color,
               label=f"p = {int(pv)} (KS to N(0,1) = {float(ds.ks_normal.sel(p=pv)):.3f})")
    t = np.linspace(centres[0] - width / 2, centres[-1] + width / 2, 400)
    b.plot(t, stats.norm.pdf(t), **style.THEORY, label="N(0, 1) density")
    b.set_xlabel("√p · z₁  (dimensionless)")
    b.set_ylabel("probability density")
    b.legend(loc="upper left", fontsize="x-small")
    style.panel_title(b, "b", "histogram of √p·z₁")
    return fig
