"""B7 gradient-orthogonality (Liu–Zhu–Belkin Thm 3, Appendix B, Figure 3): mean |cos| of neuron gradients."""

from __future__ import annotations

from widenet import laws
from widenet.figures import style


@style.themed
def plot(ds):
    """(a) full net: layers 2 and 3 vs m, init and trained, with the layer-2 limit; (b) bottleneck net:
    each layer vs m_b, with the discrepancy to the paper's Figure 3 (right) written on it."""
    nets = [n for n in ("full", "bottleneck") if n in ds.network.values]
    fig, axes = style.figure(len(nets), title="B7 gradient-orthogonality — mean |cos| between neuron gradients "
                             "(Liu–Zhu–Belkin Thm 3, Fig. 3)")
    for letter, ax, net in zip("ab", axes, nets):
        (_full if net == "full" else _bottleneck)(ax, ds, letter)
    return fig


def _note(ax, lines: list[str]) -> None:
    ax.text(0.97, 0.97, "\n".join(lines), transform=ax.transAxes, ha="right", va="top", fontsize="x-small",
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="0.7"))


def _curves(ax, ds, net: str) -> None:
    width = ds.width.values.astype(float)
    colors = {2: "C0", 3: "C2"}
    for layer, color in colors.items():
        for stage, style_kw in (("init", dict(marker="o", linestyle="-")), ("trained", dict(marker="s", linestyle="--", fillstyle="none"))):
            mean = ds.cos_mean.sel(network=net, layer=layer, stage=stage)
            se = ds.cos_se.sel(network=net, layer=layer, stage=stage)
            ax.errorbar(width, mean, yerr=2 * se, color=color, capsize=2, label=f"layer {layer}, {stage}", **style_kw)


def _full(ax, ds, letter: str) -> None:
    _curves(ax, ds, "full")
    width = ds.width.values.astype(float)
    ax.plot(width, ds.layer2_theory.sel(network="full"), **style.THEORY, label="layer 2 limit (Gram recursion) ∝ m^(−1/2)")
    style.axis_labels(ax, "width m of every hidden layer", "mean |cos θ_ij|  (eq. 22; ±2 SE)", xlog=2, ylog=True)
    ax.legend(fontsize="x-small", loc="lower left")
    mark = lambda law: "✓" if law.ok else "✗"  # noqa: E731
    slopes = [laws.get(ds, f"full_slope_layer{layer}_{stage}") for layer in (2, 3) for stage in ("init", "trained")]
    limit = laws.get(ds, "full_layer2_constant")
    _note(ax, [f"{ds.sizes['seed']} nets; 20 images: {str(ds.image_source.values.ravel()[0])}",
               "slopes (theory −½): " + ", ".join(f"{law.measured:.2f}{mark(law)}" for law in slopes),
               "  (layer 2 init, trained; layer 3 init, trained)",
               f"√m·E|cos|, layer 2, m = {int(ds.width.max())}: {limit.measured:.3f} vs limit {limit.theory:.3f} {mark(limit)}",
               "layer 1: |cos| = 0 exactly (not drawn)"])
    _headroom(ax)
    style.panel_title(ax, letter, "3 hidden layers of width m: |cos| ∝ m^(−1/2)")


def _bottleneck(ax, ds, letter: str) -> None:
    _curves(ax, ds, "bottleneck")
    width = ds.width.values.astype(float)
    outer = int(ds.input_layer_width.sel(network="bottleneck").values.ravel()[0])
    ax.plot(width, ds.layer2_theory.sel(network="bottleneck"), **style.THEORY, label=f"layer 2 limit at m₁ = {outer}")
    style.axis_labels(ax, "bottleneck width m_b (layer 2)", "mean |cos θ_ij| (eq. 22; ±2 SE)", xlog=2, ylog=True)
    ax.legend(fontsize="x-small", loc="lower left")
    flat, steep = laws.get(ds, "bottleneck_layer2_flat"), laws.get(ds, "bottleneck_layer3_slope")
    _note(ax, [f"layer 2 (the bottleneck) slope {flat.measured:.3f}: flat, set by m₁ = {outer}",
               f"layer 3 slope {steep.measured:.3f}: its inputs are the m_b units",
               "Discrepancy with the paper's Fig. 3 (right), which shows the",
               "bottleneck layer's |cos| falling with m_b: by Thm 3 it is set",
               "by m₁ and stays flat; the fall with m_b is layer 3's."])
    _headroom(ax)
    style.panel_title(ax, letter, f"bottleneck m₁ = m₃ = {outer}, m₂ = m_b")


def _headroom(ax) -> None:
    low, high = ax.get_ylim()
    ax.set_ylim(low / (high / low) ** 1.0, high * (high / low) ** 0.9)  # legend below, note above the curves
