"""A1 sphere-projection (Amari §4, Theorem 2): projected sphere coordinates → N(0, I/p)."""

from __future__ import annotations

import numpy as np
from scipy import stats

from widenet import laws
from widenet.figures import style


@style.themed
def plot(ds):
    """(a) p·Var(z) against p with the line 1; (b) histograms of √p·z₁ over the N(0, 1) density."""
    fig, (a, b) = style.figure(2, title="A1 sphere-projection — Amari Theorem 2: projected sphere → N(0, I/p)")
    _variance(a, ds)
    _histograms(b, ds)
    return fig


def _variance(ax, ds) -> None:
    p = ds.p.values
    ax.errorbar(p, ds.p_var_mean.values, yerr=2 * ds.p_var_se.values, marker="o", capsize=3,
                label="measured (mean over coordinates, ±2 SE)")
    ax.axhline(1.0, **style.THEORY, label="theory: p·Var = 1")
    style.axis_labels(ax, "ambient dimension p", "p · Var(z_i)  (dimensionless)", xlog=2)
    per_p = [law for law in laws.read(ds) if law.name.startswith("p_var")]
    style.annotate(ax, f"{sum(law.ok for law in per_p)}/{len(per_p)} values of p within 4 SE of 1", loc="lower right")
    low, high = float((ds.p_var_mean - 2 * ds.p_var_se).min()), float((ds.p_var_mean + 2 * ds.p_var_se).max())
    ax.set_ylim(min(low, 1.0) - 0.35 * (high - low), max(high, 1.0) + 0.45 * (high - low))  # room for legend and note
    ax.legend(loc="upper left", fontsize="small")
    style.panel_title(ax, "a", "variance of projected coordinates")


def _histograms(ax, ds) -> None:
    p = ds.p.values
    shown = p[np.unique(np.round(np.linspace(0, len(p) - 1, 4)).astype(int))]
    centres = ds.bin.values
    width = centres[1] - centres[0]
    for color, pv in zip(style.palette(len(shown)), shown):
        ax.step(centres, ds.hist_sqrt_p_z1.sel(p=pv), where="mid", color=color,
                label=f"p = {int(pv)}: KS to N(0, 1) {float(ds.ks_normal.sel(p=pv)):.3f}")
    t = np.linspace(centres[0] - width / 2, centres[-1] + width / 2, 400)
    ax.plot(t, stats.norm.pdf(t), **style.THEORY, label="N(0, 1) density")
    style.axis_labels(ax, "√p · z₁  (dimensionless)", "probability density")
    ax.set_ylim(0, 1.5 * float(ds.hist_sqrt_p_z1.max()))  # room for the legend above the curves
    ax.legend(loc="upper left", fontsize="x-small", ncol=2)
    style.panel_title(ax, "b", "histogram of √p·z₁")
