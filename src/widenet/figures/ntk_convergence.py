"""A6 ntk-convergence (Petersen–Zech Thms 11.16, 11.30): the empirical NTK → its analytic limit at rate n^(−1/2).

Seaborn draws the mean error with its ±2 SE band over the seeds and the kernel heatmaps. It is imported
inside ``plot``: 0.05–0.14 s measured in a figure job, where widenet.laws has already loaded scipy.stats
(cold, with scipy.stats, it costs 1.4–2.0 s).
"""

from __future__ import annotations

import numpy as np

from widenet import laws
from widenet.figures import style

TARGET = {"ntk": "K̂ vs K^NTK", "standard": "K̂/n vs K^LC + R/n\n(R: exact input-layer and bias terms)"}


@style.themed
def plot(ds):
    """(a, b) relative NTK error vs width for ntk and standard init, mean and ±2 SE band over the seeds;
    (c, d) K̂ and K at the largest width."""
    import seaborn as sns

    pars = list(ds.parameterization.values)
    fig, axes = style.figure(len(pars) + 2, rows=2, title="A6 ntk-convergence — empirical NTK → analytic limit at rate n^(−1/2)")
    for letter, ax, par in zip("ab", axes, pars):
        _error_vs_width(sns, ax, ds, par, letter)
    _heatmaps(sns, axes[len(pars):], ds)
    return fig


def _error_vs_width(sns, ax, ds, par: str, letter: str) -> None:
    errors = ds.rel_error.sel(parameterization=par).to_dataframe().reset_index()
    errors["L"] = errors["depth"].map(lambda d: f"L = {d}")
    sns.lineplot(data=errors, x="width", y="rel_error", hue="L", style="activation", markers=True, dashes=True,
                 errorbar=("se", 2), err_kws={"alpha": 0.15}, palette=style.palette(ds.sizes["depth"]), ms=5, ax=ax)
    width = ds.width.values.astype(float)
    top = float(ds.rel_error_mean.sel(parameterization=par).max())
    ax.plot(width, top * (width / width[0]) ** -0.5, **style.THEORY, label="slope −1/2")
    style.axis_labels(ax, "hidden width n", f"‖K̂ − K‖_F / ‖K‖_F  (mean, ±2 SE over {ds.sizes['seed']} nets)", xlog=2, ylog=True)
    low, high = ax.get_ylim()
    ax.set_ylim(low / 8, high * 12)  # room for the legend below and the slope box above the curves
    ax.legend(fontsize="x-small", ncol=2, loc="lower left")
    lines = [f"L={d} {a}: {float(ds.slope.sel(parameterization=par, depth=d, activation=a)):+.2f}"
             for d in ds.depth.values for a in ds.activation.values]
    ok = sum(law.ok for law in laws.read(ds) if law.name.startswith(f"slope_{par}_"))
    style.annotate(ax, "fitted slopes (theory −0.5 ± 0.1):\n" + "\n".join(
        "   ".join(lines[i:i + 2]) for i in range(0, len(lines), 2)) + f"\n{ok}/{len(lines)} within tolerance", loc="upper right")
    style.panel_title(ax, letter, f"{par} init: {TARGET.get(par, par)}")


def _heatmaps(sns, axes, ds) -> None:
    depth, act, par = ds.depth.values[-1], ds.activation.values[0], ds.parameterization.values[0]
    sel = dict(parameterization=par, activation=act, depth=depth, width=ds.width.values[-1])
    emp, lim = ds.empirical_ntk.sel(**sel), ds.limit_ntk.sel(**sel)
    vmin, vmax = float(min(emp.min(), lim.min())), float(max(emp.max(), lim.max()))
    rel = float(np.linalg.norm(emp - lim) / np.linalg.norm(lim))
    names = [f"empirical K̂, one network (rel. error {rel:.1%})", "analytic limit K^NTK"]
    for letter, ax, mat, name in zip("cd", axes, [emp, lim], names):
        sns.heatmap(mat.values, ax=ax, vmin=vmin, vmax=vmax, cmap="viridis", square=True, xticklabels=3, yticklabels=3,
                    cbar_kws={"shrink": 0.85, "label": "kernel value"})
        style.axis_labels(ax, "input index", "input index")
        style.panel_title(ax, letter, f"{name}\n{par} init, {act}, L = {depth}, n = {int(sel['width'])}")
