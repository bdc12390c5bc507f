"""A3 deep-linear (Hanin §3.2, eq. 3.2.3): log‖z⁽ᴸ⁺¹⁾‖ of deep linear networks against its exact law."""

from __future__ import annotations

import numpy as np

from widenet.figures import style


@style.themed
def plot(ds):
    """(a) histograms of log‖z‖ for several β over the exact law (eq. 3.2.3); (b) mean and variance vs β
    for all (N, L) with ∓β/2 (and the text's ∓β/4); (c) moments/β vs β, exact per N."""
    fig, (a, b, c) = style.figure(3, title="A3 deep-linear — log‖z⁽ᴸ⁺¹⁾‖ of deep linear nets: exact law of Hanin eq. 3.2.3")
    _histograms(a, ds)
    colors = style.colors_by(ds.width.values)
    _moments(b, ds, colors)
    _moments_per_beta(c, ds, colors)
    return fig


def _spread_cells(ds, n: int = 4) -> list[tuple[float, int, int]]:
    """Up to ``n`` cells (β, N, L) with β spread log-evenly over the grid."""
    beta = ds.beta.transpose("width", "depth").values
    cells = [(float(beta[i, j]), int(w), int(d)) for i, w in enumerate(ds.width.values) for j, d in enumerate(ds.depth.values)]
    chosen = []
    for target in np.geomspace(min(cells)[0], max(cells)[0], n):
        pick = min(cells, key=lambda cell: abs(np.log(cell[0] / target)))
        if pick not in chosen:
            chosen.append(pick)
    return chosen


def _histograms(ax, ds) -> None:
    chosen = _spread_cells(ds)
    lows, highs = [], []
    for color, (beta, width, depth) in zip(style.cycle_colors(), chosen):
        cell = ds.sel(width=width, depth=depth)
        t = cell.exact_pdf_t.values
        ax.hist(cell.log_norm.values, bins=np.linspace(t[0], t[-1], 50), density=True, histtype="step", color=color,
                linewidth=1.4, label=f"N = {width}, L = {depth}: β = {beta:.3g}, KS p = {float(cell.ks_pvalue):.2f}")
        ax.plot(t, cell.exact_pdf, color="black", linestyle="--", linewidth=1)
        visible = t[cell.exact_pdf.values > 1e-3 * cell.exact_pdf.values.max()]
        lows.append(visible.min()), highs.append(visible.max())
    ax.set_xlim(min(lows), max(highs))
    ax.plot([], [], **style.THEORY, label="exact law (eq. 3.2.3)")
    style.axis_labels(ax, "log‖z⁽ᴸ⁺¹⁾(x)‖", "probability density")
    ax.legend(fontsize="x-small", loc="upper left")
    style.panel_title(ax, "a", f"histograms ({ds.sizes['network']} networks each)")


def _moments(ax, ds, colors) -> None:
    for width in ds.width.values:
        cell = ds.sel(width=width)
        ax.errorbar(cell.beta, cell.log_norm_mean, yerr=2 * cell.log_norm_mean_se, fmt="o", ms=4, color=colors[width],
                    capsize=2, label=f"N = {int(width)}")
        ax.errorbar(cell.beta, cell.log_norm_var, yerr=2 * cell.log_norm_var_se, fmt="s", ms=4, mfc="none",
                    color=colors[width], capsize=2)
    beta = np.linspace(0, float(ds.beta.max()) * 1.05, 100)
    ax.plot(beta, -beta / 2, **style.THEORY, label="∓β/2 (leading order of eq. 3.2.3)")
    ax.plot(beta, beta / 2, **style.THEORY)
    ax.plot(beta, -beta / 4, color="0.55", linestyle=":", label="∓β/4 as printed in Hanin §3.2")
    ax.plot(beta, beta / 4, color="0.55", linestyle=":")
    ax.axhline(0, color="0.8", linewidth=0.8)
    style.axis_labels(ax, "β = (L + 1)/N", "mean (●) and variance (□) of log‖z‖")
    ax.legend(fontsize="x-small", loc="upper left")
    style.panel_title(ax, "b", "moments vs β, ±2 SE")


def _moments_per_beta(ax, ds, colors) -> None:
    """Moments/β collapse onto ½ as N grows; the exact O(1/N) corrections per N as lines."""
    for width in ds.width.values:
        cell = ds.sel(width=width)
        ax.errorbar(cell.beta, -cell.log_norm_mean / cell.beta, yerr=2 * cell.log_norm_mean_se / cell.beta, fmt="o", ms=4,
                    color=colors[width], capsize=2)
        ax.errorbar(cell.beta, cell.log_norm_var / cell.beta, yerr=2 * cell.log_norm_var_se / cell.beta, fmt="s", ms=4,
                    mfc="none", color=colors[width], capsize=2)
        span = [float(cell.beta.min()), float(cell.beta.max())]
        ax.plot(span, [-float(cell.exact_mean[0] / cell.beta[0])] * 2, color=colors[width], linewidth=1)
        ax.plot(span, [float(cell.exact_var[0] / cell.beta[0])] * 2, color=colors[width], linewidth=1, linestyle="-.")
    ax.axhline(0.5, **style.THEORY, label="½ (N → ∞)")
    ax.axhline(0.25, color="0.55", linestyle=":", label="¼ as printed")
    ax.plot([], [], color="0.3", linewidth=1, label="exact −mean/β per N")
    ax.plot([], [], color="0.3", linewidth=1, linestyle="-.", label="exact var/β per N")
    ax.set_xscale("log")
    style.axis_labels(ax, "β = (L + 1)/N", "−mean/β (●) and variance/β (□)")
    ax.legend(fontsize="x-small", loc="lower right", ncol=2)
    ax.set_ylim(0.1, 0.85)
    largest = int(ds.width.max())
    style.annotate(ax, "\n".join([
        style.law_text(ds, f"mean_slope_N{largest}", f"N = {largest}: mean/β = {{measured:.3f}} (theory {{theory:g}})"),
        style.law_text(ds, f"var_slope_N{largest}", f"N = {largest}: var/β = {{measured:.3f}} (theory {{theory:g}})"),
        style.law_text(ds, "ks_exact_min_pvalue", "min KS p vs exact law: {measured:.3f}"),
    ]), loc="upper left")
    style.panel_title(ax, "c", "moments per unit β")
