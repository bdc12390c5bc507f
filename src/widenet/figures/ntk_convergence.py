"""A6 ntk-convergence (Petersen–Zech Thms 11.16, 11.30): the empirical NTK → its analytic limit at rate n^(−1/2)."""

from __future__ import annotations

import numpy as np

from widenet import laws
from widenet.figures import style


@style.themed
def plot(ds):
    """(a, b) relative NTK error vs width for ntk and standard init; (c, d) K̂ and K at the largest width."""
    pars = list(ds.parameterization.values)
    fig, axes = style.figure(len(pars) + 2, rows=2, title="A6 ntk-convergence — empirical NTK → analytic limit at rate n^(−1/2)")
    width = ds.width.values.astype(float)
    colors = dict(zip(ds.depth.values, style.palette(ds.sizes["depth"])))
    markers = dict(zip(ds.activation.values, "osD^"))
    target = {"ntk": "K̂ vs K^NTK", "standard": "K̂/n vs K^LC + R/n\n(R: exact input-layer and bias terms)"}
    for letter, ax, par in zip("ab", axes, pars):
        lines = []
        for depth in ds.depth.values:
            for act in ds.activation.values:
                curve = ds.rel_error_mean.sel(parameterization=par, depth=depth, activation=act)
                se = ds.rel_error_se.sel(parameterization=par, depth=depth, activation=act)
                ax.errorbar(width, curve, yerr=2 * se, color=colors[depth], marker=markers[act], ms=4, capsize=2,
                            linestyle="-" if act == ds.activation.values[0] else ":",
                            label=f"L = {depth}, {act}")
                lines.append(f"L={depth} {act}: {float(ds.slope.sel(parameterization=par, depth=depth, activation=act)):+.2f}")
        top = float(ds.rel_error_mean.sel(parameterization=par).max())
        ax.loglog(width, top * (width / width[0]) ** -0.5, **style.THEORY, label="slope −1/2")
        ax.set_xscale("log", base=2)
        low, high = ax.get_ylim()
        ax.set_ylim(low, high * 12)  # headroom for the slope box above the curves
        ax.set_xlabel("hidden width n")
        ax.set_ylabel("relative Frobenius error ‖K̂ − K‖_F / ‖K‖_F")
        ax.legend(fontsize="x-small", ncol=2, loc="lower left")
        ok = sum(law.ok for law in laws.read(ds) if law.name.startswith(f"slope_{par}_"))
        style.annotate(ax, "fitted slopes (theory −0.5 ± 0.1):\n" + "\n".join(
            "   ".join(lines[i:i + 2]) for i in range(0, len(lines), 2)) + f"\n{ok}/{len(lines)} within tolerance",
                       loc="upper right")
        style.panel_title(ax, letter, f"{par} init: {target.get(par, par)}")
    depth, act, par = ds.depth.values[-1], ds.activation.values[0], pars[0]
    sel = dict(parameterization=par, activation=act, depth=depth, width=ds.width.values[-1])
    emp, lim = ds.empirical_ntk.sel(**sel), ds.limit_ntk.sel(**sel)
    vmin, vmax = float(min(emp.min(), lim.min())), float(max(emp.max(), lim.max()))
    rel = float(np.linalg.norm(emp - lim) / np.linalg.norm(lim))
    names = [f"empirical K̂, one network (rel. error {rel:.1%})", "analytic limit K^NTK"]
    for letter, ax, mat, name in zip("cd", axes[len(pars):], [emp, lim], names):
        im = ax.imshow(mat, vmin=vmin, vmax=vmax, cmap="viridis")
        ax.set_xticks(range(0, mat.shape[0], 3))
        ax.set_yticks(range(0, mat.shape[0], 3))
        ax.set_xlabel("input index")
        ax.set_ylabel("input index")
        fig.colorbar(im, ax=ax, shrink=0.85, label="kernel value")
        style.panel_title(ax, letter, f"{name}\n{par} init, {act}, L = {depth}, n = {int(sel['width'])}")
    return fig
