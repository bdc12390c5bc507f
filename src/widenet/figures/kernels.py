"""Figures of the kernel family: A4 nngp-depth, A5 random-features-kernel, A6 ntk-convergence."""

from __future__ import annotations

import math

import numpy as np

from widenet import laws, store
from widenet.figures import style


def _degrees(ds):
    return np.degrees(ds.angle.values)


def nngp_depth(ds):
    """A4: (a) relu K(φ)/K(0) by depth; (b) 1 − C⁽ℓ⁾ vs ℓ; (c) tanh K⁽ℓ⁾(x,x) vs ℓ; (d) shaped vs eq. 3.3.7."""
    settings = store.config_of(ds)["settings"]
    fig, (a, b, c, d) = style.figure(4, rows=2, title="A4 nngp-depth — infinite-width NNGP kernel with depth (Pleiss Fig. 1; Hanin §3.3.3)")
    acts = list(ds.activation.values)
    if "relu" in acts:
        corr = ds.correlation.sel(activation="relu")
        shown = [ell for ell in settings["show_depths"] if ell in corr.depth]
        for color, ell in zip(style.palette(len(shown)), shown):
            a.plot(_degrees(ds), corr.sel(depth=ell), color=color, label=f"ℓ = {ell}")
        a.set_xlabel("angle φ between inputs (degrees)")
        a.set_ylabel("K⁽ℓ⁾(φ) / K⁽ℓ⁾(0)")
        a.legend(title="relu, C_W = 2", fontsize="small")
        style.panel_title(a, "a", "normalized kernel flattens with depth")

        one_minus = (1 - corr.sel(angle=math.pi / 2, method="nearest")).dropna("depth")
        b.loglog(one_minus.depth, one_minus, "o", ms=3, label="1 − C⁽ℓ⁾(π/2), relu")
        ell = one_minus.depth.values
        b.loglog(ell, 4.5 * math.pi**2 / ell.astype(float) ** 2, **style.THEORY, label="(9π²/2)·ℓ⁻²")
        b.set_xlabel("depth ℓ (hidden layers)")
        b.set_ylabel("1 − C⁽ℓ⁾  (correlation deficit)")
        b.legend()
        style.annotate(b, style.law_text(ds, "relu_decorrelation_slope", "fitted slope (ℓ ≥ 200): {measured:.3f}, theory {theory:g}")
                       + "\n" + style.law_text(ds, "relu_decorrelation_constant", "ℓ²(1 − C) at ℓ = 1000: {measured:.1f}, theory {theory:.1f}"))
        style.panel_title(b, "b", "relu correlations approach 1 like ℓ⁻²")
    if "tanh" in acts:
        diag = ds.kernel.sel(activation="tanh").isel(angle=0).dropna("depth")
        c.loglog(diag.depth, diag, "o", ms=3, label="K⁽ℓ⁾(x, x), tanh, C_W = 1")
        c.loglog(diag.depth, 1 / (2.0 * diag.depth), **style.THEORY, label="1/(2ℓ)")
        c.set_xlabel("depth ℓ (hidden layers)")
        c.set_ylabel("K⁽ℓ⁾(x, x)  (variance)")
        c.legend()
        style.annotate(c, style.law_text(ds, "tanh_2l_K", "2ℓ·K⁽ℓ⁾ at ℓ = 1000: {measured:.3f} (theory {theory:g})"))
        style.panel_title(c, "c", "tanh variance decays like 1/(2ℓ)")
    if "shaped_tanh" in acts:
        k, lim = ds.kernel.sel(activation="shaped_tanh"), ds.shaped_limit.sel(activation="shaped_tanh")
        deep = settings["shaped_depth"]
        taus = [0.25, 0.5, 1.0]
        for color, tau in zip(style.palette(len(taus)), taus):
            ell = int(k.depth.sel(depth=tau * deep, method="nearest"))
            d.plot(_degrees(ds), k.sel(depth=ell), color=color, label=f"ℓ/L = {ell / deep:.2f}")
            d.plot(_degrees(ds), lim.sel(depth=ell), color="black", linestyle="--", linewidth=1)
        d.plot([], [], **style.THEORY, label="Hanin eq. 3.3.7")
        d.set_xlabel("angle φ between inputs (degrees)")
        d.set_ylabel("K⁽ℓ⁾(x, x_φ)")
        d.legend(title=f"shaped tanh, L = {deep}, ψ = {settings['psi']:g}", fontsize="small")
        style.annotate(d, style.law_text(ds, "shaped_tanh_eq_3_3_7", "sup error / sup K at τ = 1: {measured:.1e}"), loc="upper right")
        style.panel_title(d, "d", "shaped tanh: non-degenerate large-depth limit")
    return fig


def random_features_kernel(ds):
    """A5: (a) k_d vs angle and the arc-cosine limit; (b) sup-error vs d; (c) Gram eigenvalue decay."""
    settings = store.config_of(ds)["settings"]
    fig, (a, b, c) = style.figure(3, title="A5 random-features-kernel — relu features → arc-cosine kernel (Pleiss Thm 1)")
    shown = [d for d in settings["show_features"] if d in ds.n_features]
    for color, d in zip(style.palette(len(shown)), shown):
        k = ds.kernel.sel(n_features=d)
        a.plot(_degrees(ds), k.isel(seed=0), color=color, label=f"d = {d} (one draw)")
    a.plot(_degrees(ds), ds.limit, **style.THEORY, label="limit (1/2π)(sin φ + (π − φ)cos φ)")
    a.set_xlabel("angle φ between unit inputs (degrees)")
    a.set_ylabel("kernel k(x, x_φ)")
    a.legend(fontsize="small")
    style.panel_title(a, "a", "random-features kernel")

    d = ds.n_features.values.astype(float)
    b.errorbar(d, ds.sup_error_mean, yerr=2 * ds.sup_error_se, fmt="o", capsize=3, label=f"mean over {ds.sizes['seed']} draws (±2 SE)")
    law = laws.get(ds, "sup_error_slope")
    b.loglog(d, np.exp(float(ds.fit_intercept)) * d**law.measured, color="C1", label=f"fit: slope {law.measured:.3f}")
    b.loglog(d, ds.sup_error_mean.values[0] * (d / d[0]) ** -0.5, **style.THEORY, label="theory: slope −1/2")
    b.set_xlabel("number of features d")
    b.set_ylabel("sup over φ of |k_d − k|")
    b.legend()
    style.annotate(b, style.law_text(ds, "sup_error_slope", "slope {measured:.3f} (theory {theory:g} ± {tolerance:g})"))
    style.panel_title(b, "b", "uniform error ∝ d^(−1/2)")

    i, eig = ds.eigen_index.values, ds.eigenvalue.values
    keep = eig > 0
    c.loglog(i[keep], eig[keep], ".", ms=3, label=f"arc-cosine Gram, n = {i.size}, d = {settings['spectrum_dim']}")
    first, last = ds.spectrum_fit_range.values
    alpha = laws.get(ds, "spectrum_alpha").measured
    sel = (i >= first) & (i <= last)
    ref = eig[sel][0] * (i[sel] / i[sel][0]) ** -alpha
    c.loglog(i[sel], ref, color="C1", label=f"power-law fit i^(−{alpha:.2f}) (ranks {first}–{last})")
    c.loglog(i[sel], eig[sel][0] * (i[sel] / i[sel][0]) ** -1.0, **style.THEORY, label="i^(−1) (α must exceed 1)")
    c.set_xlabel("eigenvalue rank i")
    c.set_ylabel("eigenvalue λ_i")
    c.legend(fontsize="small")
    style.panel_title(c, "c", "kernel spectrum decays as a power law")
    return fig


def ntk_convergence(ds):
    """A6: (a, b) relative NTK error vs width for ntk and standard init; (c, d) K̂ and K at the largest width."""
    pars = list(ds.parameterization.values)
    fig, axes = style.figure(len(pars) + 2, rows=2, title="A6 ntk-convergence — empirical NTK → analytic limit at rate n^(−1/2)")
    width = ds.width.values.astype(float)
    colors = dict(zip(ds.depth.values, style.palette(ds.sizes["depth"])))
    markers = dict(zip(ds.activation.values, "osD^"))
    target = {"ntk": "K̂ vs K^NTK", "standard": "K̂/n vs K^LC + R/n (exact input/bias terms)"}
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
