"""B2 regimes: lazy (NTK) versus mean-field training of one hidden layer (Hanin §2.1–2.4)."""

from __future__ import annotations

import numpy as np

from widenet import laws, store
from widenet.figures import style

COLORS = {"ntk": "tab:blue", "meanfield": "tab:orange"}
LABELS = {"ntk": "NTK, γ = 1", "meanfield": "mean field, γ = √N"}


@style.themed
def plot(ds):
    """(a) relative first-layer changes vs N with fitted slopes; (b, c) (W1·x₀/√d, W2) per neuron before/after."""
    s = store.config_of(ds)["settings"]
    fig, (a, b, c) = style.figure(3, title=f"B2 regimes — one hidden layer ({s['activation']}), n = 16 inputs on S⁹, "
                                           f"GD with η = γ²h on the {s['loss']} loss (Hanin §2.1–2.4)")
    _changes(a, ds)
    for ax, letter, reg in ((b, "b", "ntk"), (c, "c", "meanfield")):
        _neurons(ax, ds, reg, letter)
    return fig


def _changes(ax, ds) -> None:
    n = ds.width.values.astype(float)
    for reg in ds.regime.values:
        color = COLORS[reg]
        for var, marker, style_ in (("w1_rel_change", "o", "-"), ("preact_rms_change", "s", "--"), ("preact_max_change", "^", ":")):
            mean = ds[f"{var}_mean"].sel(regime=reg)
            ax.loglog(n, mean, marker=marker, linestyle=style_, color=color, ms=4)
    for reg in ds.regime.values:
        ax.plot([], [], color=COLORS[reg], label=LABELS[reg])
    ax.plot([], [], "o-", color="0.4", ms=4, label="‖ΔW1‖_F/‖W1‖_F")
    ax.plot([], [], "s--", color="0.4", ms=4, label="rms Δ(W1·x/√d)")
    ax.plot([], [], "^:", color="0.4", ms=4, label="max Δ(W1·x/√d) (not fitted)")
    ref = ds.w1_rel_change_mean.sel(regime="ntk").values[0] * (n / n[0]) ** -0.5
    ax.loglog(n, ref, **style.THEORY, label="N^(−1/2)")
    style.axis_labels(ax, "hidden width N", "change during training (relative / rms)", xlog=2)
    ax.legend(fontsize="x-small", loc="lower left", ncol=2)
    text = "\n".join(style.law_text(ds, name, f"{label}: slope {{measured:.2f}} (theory {{theory:g}} ± 0.1)")
                     for name, label in (("w1_rel_change_ntk", "NTK ‖ΔW1‖/‖W1‖"), ("preact_rms_change_ntk", "NTK rms Δz"),
                                         ("w1_rel_change_meanfield", "MF ‖ΔW1‖/‖W1‖"), ("preact_rms_change_meanfield", "MF rms Δz")))
    text += f"\nmax Δz slope (NTK): {float(ds.preact_max_change_slope_ntk):.2f} (√log(nN) factor)"
    text += "\n" + style.law_text(ds, "trained", "final/initial loss ≤ {measured:.0e}")
    style.annotate(ax, text, loc="upper right")
    low, high = ax.get_ylim()
    ax.set_ylim(low / 15, high * 400)
    style.panel_title(ax, "a", "how far the first layer moves")


def _neurons(ax, ds, reg, letter) -> None:
    width = int(ds.width.max())
    v = ds.neuron_values.sel(regime=reg, width=width).dropna("neuron")
    ax.scatter(v.sel(quantity="preact_before"), v.sel(quantity="readout_before"), s=4, color="0.6", alpha=0.6,
               label="before training", rasterized=True)
    ax.scatter(v.sel(quantity="preact_after"), v.sel(quantity="readout_after"), s=4, color=COLORS[reg], alpha=0.6,
               label="after training", rasterized=True)
    moved = np.hypot(v.sel(quantity="preact_after") - v.sel(quantity="preact_before"),
                     v.sel(quantity="readout_after") - v.sel(quantity="readout_before"))
    style.axis_labels(ax, "first-layer pre-activation W1ᵢ·x₀/√d", "readout weight W2ᵢ (raw)")
    ax.legend(fontsize="small", loc="upper left", markerscale=3)
    style.annotate(ax, f"N = {width}, seed 0, one input x₀\nmean per-neuron move {float(moved.mean()):.2g}", loc="lower right")
    style.panel_title(ax, letter, f"neurons, {LABELS[reg]}")
