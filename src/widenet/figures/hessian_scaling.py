"""B5 hessian-scaling (Liu–Zhu–Belkin eq. 1, Thm 4): ‖H‖ vs width per depth, the finite-width law, ‖∇f‖² vs Θ."""

from __future__ import annotations

import numpy as np

from widenet import laws
from widenet.figures import style


@style.themed
def plot(ds):
    """(a), (b) ‖H‖ vs width per depth for each activation, with the exact depth-1 finite-width law and
    the −1/2 asymptote; (c) √m·‖H‖, where the extreme-value growth shows; (d) ‖∇f‖²/Θ(x, x) vs width."""
    acts = [str(a) for a in ds.activation.values]
    fig, axes = style.figure(len(acts) + 2, rows=2, title="B5 hessian-scaling — output Hessian ‖∇²_θ f‖ vs width "
                             "(Liu–Zhu–Belkin Thm 4), ntk parameterization")
    for letter, ax, act in zip("ab", axes, acts):
        _hessian_panel(ax, ds, act, letter)
    _rescaled_panel(axes[-2], ds, "abcd"[len(acts)])
    _gradient_panel(axes[-1], ds, "abcde"[len(acts) + 1])
    return fig


def _steps_label(ds, step) -> str:
    return "init" if int(step) == 0 else f"GD step {int(step)}"


def _hessian_panel(ax, ds, act: str, letter: str) -> None:
    width = ds.width.values.astype(float)
    colors = style.colors_by(ds.depth.values)
    steps = [ds.step.values[0]] + ([ds.step.values[-1]] if ds.sizes["step"] > 1 else [])
    for depth in ds.depth.values:
        for step, marker, fill in zip(steps, ["o", "s"], ["full", "none"]):
            mean = ds.hessian_norm_mean.sel(activation=act, depth=depth, step=step)
            se = ds.hessian_norm_se.sel(activation=act, depth=depth, step=step)
            label = f"depth {int(depth)}, {_steps_label(ds, step)}"
            ax.errorbar(width, mean, yerr=2 * se, marker=marker, fillstyle=fill, color=colors[depth], capsize=2,
                        linestyle="-" if step == steps[0] else ":", label=label)
    if 1 in ds.depth.values:
        ax.plot(width, ds.hessian_norm_law.sel(activation=act), color="0.25", linewidth=2.2, alpha=0.6, zorder=0,
                label="depth 1: exact E‖H‖ (max of m blocks)")
    anchor = ds.hessian_norm_mean.sel(activation=act).isel(step=0).max("depth")
    ax.plot(width, float(anchor[0]) * (width / width[0]) ** -0.5, **style.THEORY, label="asymptote ∝ width^(−1/2)")
    style.axis_labels(ax, "hidden width m", "mean ‖∇²_θ f(θ; x)‖₂  (±2 SE)", xlog=2, ylog=True)
    ax.legend(fontsize="x-small", loc="lower left")
    style.annotate(ax, _slopes_text(ds, act), loc="upper right")
    style.panel_title(ax, letter, f"{act}: Hessian norm vs width")


def _slopes_text(ds, act: str) -> str:
    lines = []
    for law in laws.read(ds):
        if law.name == f"slope_depth1_{act}":
            lines.append(f"depth 1: slope {law.measured:.3f}\n  exact law {law.theory:.3f} ± {law.tolerance:g} "
                         + ("✓" if law.ok else "✗"))
        elif law.name.startswith("slope_depth") and law.name.endswith(f"_{act}"):
            depth = law.name.removeprefix("slope_depth").split("_")[0]
            lines.append(f"depth {depth}: slope {law.measured:.3f}")
        elif law.name == f"lanczos_vs_blocks_{act}":
            lines.append(f"Lanczos vs exact blocks: {law.measured:.0e}")
    skipped = ds.hessian_norm_mean.sel(activation=act).isel(step=0).isnull()
    if bool(skipped.any()):
        where = [f"depth {int(d)} > {int(ds.width.where(~skipped.sel(depth=d)).max())}" for d in ds.depth.values
                 if bool(skipped.sel(depth=d).any())]
        lines.append("not run (max_parameters):\n  " + ", ".join(where))
    return "\n".join(lines)


def _rescaled_panel(ax, ds, letter: str) -> None:
    width = ds.width.values.astype(float)
    for act, marker in zip(ds.activation.values, "o^v"):
        for depth, color in style.colors_by(ds.depth.values).items():
            mean = ds.hessian_norm_mean.sel(activation=act, depth=depth).isel(step=0)
            ax.plot(width, np.sqrt(width) * mean, marker=marker, color=color, label=f"{act}, depth {int(depth)}")
        if 1 in ds.depth.values:
            ax.plot(width, np.sqrt(width) * ds.hessian_norm_law.sel(activation=act), color="0.25", linewidth=2.2,
                    alpha=0.6, zorder=0)
    ax.plot([], [], color="0.25", linewidth=2.2, alpha=0.6, label="depth 1: exact E[max of m blocks]")
    style.axis_labels(ax, "hidden width m", "√m · mean ‖∇²_θ f‖₂  (flat under width^(−1/2))", xlog=2)
    ax.legend(fontsize="x-small", ncol=2, loc="upper left")
    ax.set_ylim(0, 1.35 * float((np.sqrt(width) * ds.hessian_norm_mean.isel(step=0)).max()))
    style.panel_title(ax, letter, "√m·‖H‖ grows like √log m (a max of m blocks)")


def _gradient_panel(ax, ds, letter: str) -> None:
    width = ds.width.values.astype(float)
    for act, marker in zip(ds.activation.values, "o^v"):
        for depth, color in style.colors_by(ds.depth.values).items():
            ratio = ds.gradient_ratio.sel(activation=act, depth=depth).isel(step=0)
            ax.plot(width, ratio, marker=marker, color=color, label=f"{act}, depth {int(depth)}")
    ax.axhline(1.0, **style.THEORY, label="theory: ‖∇f‖² → Θ(x, x)")
    style.axis_labels(ax, "hidden width m", "mean ‖∇_θ f‖² / analytic NTK Θ(x, x)", xlog=2)
    ax.legend(fontsize="x-small", ncol=2, loc="lower right")
    gaps = [law for law in laws.read(ds) if law.name.startswith("gradient_ntk_")]
    style.annotate(ax, "\n".join(f"{law.name.removeprefix('gradient_ntk_')}: max |ratio − 1| at largest width "
                                 f"{law.measured:.3f} " + ("✓" if law.ok else "✗") for law in gaps), loc="upper right")
    ax.set_ylim(0.5, 1.5)
    style.panel_title(ax, letter, "the gradient stays Θ(1): ‖∇f‖² → NTK")
