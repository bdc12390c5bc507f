"""A8 fourth-cumulant (Hanin Theorem 3.4.1): κ₄/K² of the output grows like depth/width."""

from __future__ import annotations

import numpy as np
from matplotlib import ticker

from widenet import store
from widenet.figures import style

Y_LABEL = "κ₄/K²  (±2 bootstrap SE)"


@style.themed
def plot(ds):
    """κ₄/K² vs L/N for all (N, L) with bootstrap error bars: (a) relu with 5L/N, the exact finite-N
    law and its fixed-L/N limit; (b) relu at small L/N with the fitted slope; (c) tanh."""
    fit_max_ratio = store.config_of(ds)["settings"]["fit_max_ratio"]
    acts = list(ds.activation.values)
    fig, axes = style.figure(2 * ("relu" in acts) + len(acts) - ("relu" in acts),
                             title="A8 fourth-cumulant — κ₄/K² grows like depth/width (Hanin Theorem 3.4.1)")
    colors = style.colors_by(ds.width.values)
    if "relu" in acts:
        _relu_all(axes.pop(0), ds, colors)
        _relu_small_ratio(axes.pop(0), ds, colors, fit_max_ratio)
    for letter, ax, act in zip("cd" if "relu" in acts else "abc", axes, [a for a in acts if a != "relu"]):
        _other_activation(ax, ds, act, colors, letter, fit_max_ratio)
    return fig


def _points(ax, ds, act, colors, lo_clip=None) -> None:
    """κ₄/K² ± 2 SE per width; ``lo_clip`` keeps lower error bars above it (log axes)."""
    for width in ds.width.values:
        sel = ds.sel(activation=act, width=width)
        y, err = sel.kappa4_ratio.values, 2 * sel.kappa4_ratio_se.values
        lower = err if lo_clip is None else np.minimum(err, y - lo_clip)
        ax.errorbar(sel.depth_over_width, y, yerr=[lower, err], fmt="o", ms=5, capsize=2, color=colors[width],
                    label=f"N = {int(width)}")


def _at_every_cell(ax, ds, values, label: str) -> None:
    """Crosses at every (N, L): a theory value per cell."""
    ax.plot(ds.depth_over_width.values.ravel(), values.transpose(*ds.depth_over_width.dims).values.ravel(), "x",
            color="black", ms=5, label=label)


def _relu_all(ax, ds, colors) -> None:
    _points(ax, ds, "relu", colors, lo_clip=1e-3)
    ratio = ds.depth_over_width.values
    grid = np.geomspace(ratio.min() * 0.8, ratio.max() * 1.25, 100)
    ax.plot(grid, 5 * grid, **style.THEORY, label="5L/N (Theorem 3.4.1)")
    ax.plot(grid, np.expm1(5 * grid), color="0.4", linestyle=":", label="e^(5L/N) − 1 (exact law, N → ∞ at fixed L/N)")
    _at_every_cell(ax, ds, ds.kappa4_ratio_exact.sel(activation="relu"), "exact (1 + 5/N)^L − 1")
    _ratio_axis(ax)
    ax.set_yscale("log")
    style.axis_labels(ax, "L/N (hidden layers / width)", Y_LABEL)
    ax.legend(fontsize="x-small", loc="upper left")
    style.panel_title(ax, "a", "relu, C_W = 2: all (N, L)")


def _relu_small_ratio(ax, ds, colors, fit_max_ratio: float) -> None:
    small = ds.depth_over_width <= 2 * fit_max_ratio + 1e-12
    for width in ds.width.values:
        sel = ds.sel(activation="relu", width=width).where(small.sel(width=width), drop=True)
        if sel.sizes["depth"]:
            ax.errorbar(sel.depth_over_width, sel.kappa4_ratio, yerr=2 * sel.kappa4_ratio_se, fmt="o", ms=5, capsize=2,
                        color=colors[width], label=f"N = {int(width)}")
    x = np.linspace(0, 2 * fit_max_ratio * 1.05, 50)
    slope, se = float(ds.fit_slope.sel(activation="relu")), float(ds.fit_slope_se.sel(activation="relu"))
    ax.fill_between(x, (slope - 2 * se) * x, (slope + 2 * se) * x, color="C1", alpha=0.2, linewidth=0)
    ax.plot(x, slope * x, color="C1", label=f"fit through 0 (L/N ≤ {fit_max_ratio:g}): {slope:.2f}·L/N")
    ax.plot(x, 5 * x, **style.THEORY, label="5L/N")
    ax.axvspan(0, fit_max_ratio, color="0.9", zorder=0)
    ax.set_xlim(0, 2 * fit_max_ratio * 1.05)
    ax.set_ylim(bottom=min(0.0, float(ds.kappa4_ratio.sel(activation="relu").min())))
    style.axis_labels(ax, "L/N", Y_LABEL)
    ax.legend(fontsize="x-small", loc="upper left")
    exact = float(ds.fit_slope_exact.sel(activation="relu"))
    style.annotate(ax, style.law_text(ds, "relu_slope_small_ratio", "slope {measured:.2f} ± {tolerance:.2f} (2 SE), theory {theory:g}")
                   + f"\nexact finite-N law, same fit: {exact:.2f}", loc="lower right")
    style.panel_title(ax, "b", "relu at small L/N: slope 5")


def _other_activation(ax, ds, act, colors, letter: str, fit_max_ratio: float) -> None:
    _points(ax, ds, act, colors)
    _at_every_cell(ax, ds, ds.kappa4_ratio_leading.sel(activation=act), "leading order of eq. 3.4.1 at each (N, L)")
    ax.axhline(0, color="0.8", linewidth=0.8)
    _ratio_axis(ax)
    style.axis_labels(ax, "L/N", Y_LABEL)
    ax.legend(fontsize="x-small", loc="upper left")
    fmt = f"slope at L/N ≤ {fit_max_ratio:g}" + ": {measured:.2f} (leading order {theory:.2f} ± {tolerance:.2f})"
    style.annotate(ax, style.law_text(ds, f"{act}_slope_small_ratio", fmt), loc="lower right")
    style.panel_title(ax, letter, f"{act}, C_W = {2.0 if act == 'relu' else 1.0:g}")


def _ratio_axis(ax) -> None:
    """Log₂ x axis labelled with fractions (1/64, 1/32, …) for L/N on power-of-two grids."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(
        lambda x, _: f"1/{round(1 / x)}" if x < 1 and abs(1 / x - round(1 / x)) < 1e-6 else f"{x:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
