"""B6 taylor-remainder (Liu–Zhu–Belkin §2, Thm 1, Thm 4): remainder vs width, random and worst directions."""

from __future__ import annotations

import numpy as np

from widenet import laws
from widenet.figures import style


@style.themed
def plot(ds):
    """One panel per model: |remainder| vs width for each R, random (solid) and worst (dashed) directions,
    the eq. 5 bound for assembly models (dotted); the m^(−1) and m^(−1/2) reference slopes."""
    order = ["network-1", "network-2", "assembly-sign", "assembly-gaussian"]
    models = sorted((str(m) for m in ds.model.values), key=order.index)
    fig, axes = style.figure(len(models), rows=1 if len(models) <= 3 else 2,
                             title="B6 taylor-remainder — |f(θ₀+Δ) − f(θ₀) − ∇f·Δ|, ‖Δ‖ = R (Liu–Zhu–Belkin §2, Thm 1)")
    for letter, ax, model in zip("abcd", axes, models):
        _panel(ax, ds, model, letter)
    return fig


def _panel(ax, ds, model: str, letter: str) -> None:
    width = ds.width.values.astype(float)
    colors = style.colors_by(ds.radius.values)
    for radius, color in colors.items():
        ax.plot(width, ds.random_mean.sel(model=model, radius=radius), "o-", color=color, ms=4)
        ax.plot(width, ds.worst_mean.sel(model=model, radius=radius), "s--", color=color, ms=4)
        if model.startswith("assembly"):
            ax.plot(width, ds.bound_mean.sel(model=model, radius=radius), ":", color=color, linewidth=2)
        ax.plot([], [], color=color, linewidth=6, label=f"R = {radius:g}")
    ax.plot([], [], "ko-", ms=4, label="random directions (mean)")
    ax.plot([], [], "ks--", ms=4, label="top Hessian eigenvector")
    if model.startswith("assembly"):
        ax.plot([], [], "k:", linewidth=2, label="eq. 5 bound (β on the ball)")
    unit = ds.radius.values[np.argmin(abs(ds.radius.values - 1.0))]
    for slope, source, dash, text in ((-1.0, ds.random_mean, "-.", "m^(−1)"), (-0.5, ds.worst_mean, (0, (1, 1)), "m^(−1/2)")):
        start = float(source.sel(model=model, radius=unit)[0]) * 0.5
        ax.plot(width, start * (width / width[0]) ** slope, color="0.45", linewidth=1.2, linestyle=dash, label=f"reference ∝ {text}")
    style.axis_labels(ax, "width m (hidden units / sub-models)", "|quadratic Taylor term|", xlog=2, ylog=True)
    low, high = ax.get_ylim()
    ax.set_ylim(low / (high / low) ** 0.4, high * (high / low) ** 0.6)  # room for the legend below, the note above
    ax.legend(fontsize="x-small", loc="lower left", ncol=2)
    style.annotate(ax, _text(ds, model), loc="upper right")
    style.panel_title(ax, letter, model.replace("network-", "network, depth ").replace("assembly-", "assembly, vᵢ "))


def _text(ds, model: str) -> str:
    found = {law.name.removesuffix(f"_{model}"): law for law in laws.read(ds) if law.name.endswith(f"_{model}")}
    mark = lambda law: "✓" if law.ok else "✗"  # noqa: E731
    lines = [f"slope random {found['random_slope'].measured:.2f} (−1) {mark(found['random_slope'])}",
             f"slope worst {found['worst_slope'].measured:.2f} (−½, √log m) {mark(found['worst_slope'])}",
             f"R-exponent (random) {found['radius_exponent'].measured:.2f} (2) {mark(found['radius_exponent'])}"]
    if "bound_holds" in found:
        lines += [f"bound holds for every draw: max r/bound {found['bound_holds'].measured:.2f} {mark(found['bound_holds'])}",
                  f"bound/r (random) ∝ m^{found['looseness_slope'].measured:.2f}",
                  f"r = s⁻¹Σvᵢrᵢ to {found['identity'].measured:.0e}"]
    return "\n".join(lines)
