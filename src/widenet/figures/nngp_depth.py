"""A4 nngp-depth (Pleiss Figure 1; Hanin §3.3.3): the infinite-width NNGP kernel with depth."""

from __future__ import annotations

import math

import numpy as np

from widenet import store
from widenet.figures import style


@style.themed
def plot(ds):
    """(a) relu K(φ)/K(0) by depth; (b) 1 − C⁽ℓ⁾ vs ℓ; (c) tanh K⁽ℓ⁾(x,x) vs ℓ; (d) shaped vs eq. 3.3.7."""
    settings = store.config_of(ds)["settings"]
    fig, (a, b, c, d) = style.figure(4, rows=2, title="A4 nngp-depth — infinite-width NNGP kernel with depth (Pleiss Fig. 1; Hanin §3.3.3)")
    acts = list(ds.activation.values)
    if "relu" in acts:
        corr = ds.correlation.sel(activation="relu")
        shown = [ell for ell in settings["show_depths"] if ell in corr.depth]
        for color, ell in zip(style.palette(len(shown)), shown):
            a.plot(np.degrees(ds.angle.values), corr.sel(depth=ell), color=color, label=f"ℓ = {ell}")
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
            d.plot(np.degrees(ds.angle.values), k.sel(depth=ell), color=color, label=f"ℓ/L = {ell / deep:.2f}")
            d.plot(np.degrees(ds.angle.values), lim.sel(depth=ell), color="black", linestyle="--", linewidth=1)
        d.plot([], [], **style.THEORY, label="Hanin eq. 3.3.7")
        d.set_xlabel("angle φ between inputs (degrees)")
        d.set_ylabel("K⁽ℓ⁾(x, x_φ)")
        d.legend(title=f"shaped tanh, L = {deep}, ψ = {settings['psi']:g}", fontsize="small")
        style.annotate(d, style.law_text(ds, "shaped_tanh_eq_3_3_7", "sup error / sup K at τ = 1: {measured:.1e}"), loc="upper right")
        style.panel_title(d, "d", "shaped tanh: non-degenerate large-depth limit")
    return fig
