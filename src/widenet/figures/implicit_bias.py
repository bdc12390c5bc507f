"""B1 implicit-bias: GD on least squares — convergence to w* + ŵ₀, ridge limits, the step bound."""

from __future__ import annotations

import numpy as np

from widenet import store
from widenet.figures import style


@style.themed
def plot(ds):
    """(a) ‖w_k − (w* + ŵ₀)‖ and ‖P_null w_k‖ vs k with the rate line; (b) ‖w_λ − w*‖ vs λ; (c) the step bound."""
    s = store.config_of(ds)["settings"]
    p = int(ds.n_features) if "n_features" in ds.coords else "?"
    fig, (a, b, c) = style.figure(3, title=f"B1 implicit-bias — GD on least squares with P = {p} random tanh features, "
                                           f"n = {ds.sizes['rank']} (Hanin §1.3.2; Petersen–Zech Thm 11.3)")
    _convergence(a, ds, s)
    _ridge(b, ds)
    _step_bound(c, ds)
    return fig


def _convergence(ax, ds, s) -> None:
    colors = style.palette(ds.sizes["init"])
    for color, init in zip(colors, ds.init.values):
        ax.semilogy(ds.step, ds.distance_to_limit.sel(init=init), color=color, label=f"w₀ {init}")
        if float(ds.null_init.sel(init=init)) > 0:
            ax.semilogy(ds.step, ds.null_component.sel(init=init), color=color, linestyle=":", linewidth=1.6)
    ax.plot([], [], color="0.3", label="solid: ‖w_k − (w* + ŵ₀)‖")
    ax.plot([], [], color="0.3", linestyle=":", label="dotted: ‖P_null w_k‖ (= ‖ŵ₀‖)")
    start = float(ds.distance_to_limit.isel(step=0).max())
    ax.semilogy(ds.step, start * ds.rate_theory, **style.THEORY, label="‖w₀ − w_∞‖·(1 − 2h·s_min²)^k")
    ax.set_ylim(1e-13, 1e5)
    style.axis_labels(ax, "GD step k", "distance (weight-space norm)")
    ax.legend(fontsize="x-small", loc="upper right", ncol=2)
    style.annotate(ax, f"h·s_max² = {s['lr_times_smax2']:g}, loss Σ(Aw − y)²\n"
                   + style.law_text(ds, "rate", "rate {measured:.5f} (theory {theory:.5f})") + "\n"
                   + style.law_text(ds, "closed_form", "eq. 1.3.6 to {measured:.0e}") + "\n"
                   + style.law_text(ds, "null_space_fixed", "P_null(w_k − w₀) ≤ {measured:.0e}"), loc="lower left")
    style.panel_title(ax, "a", "convergence to min-norm + ŵ₀")


def _ridge(ax, ds) -> None:
    ax.loglog(ds.ridge_lambda, ds.ridge_distance_exact, **style.THEORY, label="closed form ‖Aᵀ(AAᵀ + λI)⁻¹y − w*‖")
    ax.loglog(ds.ridge_lambda, ds.ridge_distance_gd, "o", label="GD with weight decay λ, from w₀ = 0")
    style.axis_labels(ax, "weight decay λ", "‖w_λ − w*‖")
    ax.legend(fontsize="small", loc="upper left")
    style.annotate(ax, style.law_text(ds, "ridge_slope", "slope at small λ: {measured:.3f} (theory {theory:g})") + "\n"
                   + style.law_text(ds, "ridge_closed_form", "GD vs closed form: {measured:.0e}"), loc="lower right")
    style.panel_title(ax, "b", "ridge limit → min-norm as λ → 0")


def _step_bound(ax, ds) -> None:
    for color, factor in zip(["tab:green", "tab:red"], ds.h_times_smax2.values):
        side = "below" if factor < 1 else "above"
        ax.semilogy(ds.stability_step, ds.stability_distance.sel(h_times_smax2=factor), color=color,
                    label=f"h = {factor:g}/s_max² ({side} the bound)")
    style.axis_labels(ax, "GD step k", "‖w_k − w*‖ from w₀ = 0")
    growth = np.nanmax(ds.stability_distance.values) / float(ds.stability_distance.isel(stability_step=0).max())
    ax.legend(fontsize="small", loc="upper left", title=f"stable iff |1 − 2h·s_max²| < 1\n(above: grows ×{growth:.0e})",
              title_fontsize="small")
    style.panel_title(ax, "c", "the step bound for Σ(Aw − y)²")
