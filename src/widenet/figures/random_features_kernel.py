"""A5 random-features-kernel (Pleiss Theorem 1; Petersen–Zech Theorem 11.16): relu features → arc-cosine kernel."""

from __future__ import annotations

import numpy as np

from widenet import laws, store
from widenet.figures import style


@style.themed
def plot(ds):
    """(a) k_d vs angle and the arc-cosine limit; (b) sup-error vs d; (c) Gram eigenvalue decay."""
    settings = store.config_of(ds)["settings"]
    fig, (a, b, c) = style.figure(3, title="A5 random-features-kernel — relu features → arc-cosine kernel (Pleiss Thm 1)")
    shown = [d for d in settings["show_features"] if d in ds.n_features]
    for color, d in zip(style.palette(len(shown)), shown):
        k = ds.kernel.sel(n_features=d)
        a.plot(np.degrees(ds.angle.values), k.isel(seed=0), color=color, label=f"d = {d} (one draw)")
    a.plot(np.degrees(ds.angle.values), ds.limit, **style.THEORY, label="limit (1/2π)(sin φ + (π − φ)cos φ)")
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
