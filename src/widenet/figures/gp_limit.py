"""A7 gp-limit (Hanin Theorem 3.3.1; Petersen–Zech Proposition 11.28): finite-width outputs → the NNGP."""

from __future__ import annotations

import numpy as np

from widenet import store
from widenet.figures import style

MARKERS = "osD^v"


@style.themed
def plot(ds):
    """(a) outputs at two inputs with the NNGP 2σ ellipse for several widths; (b) KS distance vs width;
    (c, d) excess kurtosis vs width per activation with its theory; (e) covariance error vs width."""
    settings = store.config_of(ds)["settings"]
    shown = [w for w in settings["scatter_widths"] if w in ds.width.values]
    acts = list(ds.activation.values)
    fig, axes = style.figure(len(shown) + 2 + len(acts), rows=2,
                             title="A7 gp-limit — finite-width outputs → NNGP Gaussian process (Hanin Thm 3.3.1; Petersen–Zech Prop. 11.28)")
    for i, (ax, width) in enumerate(zip(axes, shown)):
        _scatter(ax, ds, width, f"a{i + 1}", legend=i == 0)
    ks_ax, *kurtosis_axes, cov_ax = axes[len(shown):]
    _ks_distance(ks_ax, ds)
    for letter, ax, act in zip("cdefg", kurtosis_axes, acts):
        _kurtosis(ax, ds, act, letter, settings["n_networks"])
    _covariance_error(cov_ax, ds, "cdefg"[len(acts)])
    return fig


def _ellipse(cov2, radius=2.0, n=200):
    """Points of the ``radius``-σ ellipse of a 2 × 2 covariance."""
    t = np.linspace(0, 2 * np.pi, n)
    vals, vecs = np.linalg.eigh(cov2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ (radius * np.stack([np.cos(t), np.sin(t)]))


def _scatter(ax, ds, width, letter: str, legend: bool) -> None:
    """Outputs at the first two inputs (first activation, deepest net) with the NNGP 2σ ellipse."""
    act, depth = ds.activation.values[0], int(ds.depth.max())
    angles = ds.angle_deg.values
    gp = ds.nngp_covariance.sel(activation=act, depth=depth).values[:2, :2]
    z = ds.outputs.sel(activation=act, depth=depth, width=width).values[:, :2]
    inside = np.mean(np.einsum("ni,ij,nj->n", z, np.linalg.pinv(gp), z) <= 4.0)
    ax.scatter(z[:, 0], z[:, 1], s=3, alpha=0.35, color="C0", linewidths=0, label=f"{len(z)} networks")
    ex = _ellipse(gp)
    ax.plot(ex[0], ex[1], **style.THEORY, label="NNGP 2σ ellipse")
    lim = 4.2 * np.sqrt(gp.diagonal().max())
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    style.axis_labels(ax, f"z(x₁), x₁ at {angles[0]:g}°", f"z(x₂), x₂ at {angles[1]:g}°")
    style.annotate(ax, f"inside ellipse: {inside:.1%}\n(GP: {1 - np.exp(-2.0):.1%})", loc="lower right")
    if legend:
        ax.legend(fontsize="x-small", loc="upper left")
    style.panel_title(ax, letter, f"{act}, L = {depth}, width N = {int(width)}")


def _series_style(ds, act, depth) -> dict:
    """Colour = depth, marker = activation, solid line for the first activation, dotted for the others."""
    acts = list(ds.activation.values)
    colors = style.colors_by(ds.depth.values)
    return dict(color=colors[depth], marker=MARKERS[acts.index(act)], ms=4, linestyle="-" if act == acts[0] else ":")


def _ks_distance(ax, ds) -> None:
    width = ds.width.values.astype(float)
    slopes = []
    for act in ds.activation.values:
        for depth in ds.depth.values:
            ax.loglog(width, ds.ks_distance_mean.sel(activation=act, depth=depth), label=f"{act}, L = {int(depth)}",
                      **_series_style(ds, act, depth))
            slopes.append(f"{act} L={int(depth)}: {float(ds.ks_slope.sel(activation=act, depth=depth)):+.2f}")
    ax.axhline(float(ds.ks_null_mean.max()), color="0.5", linestyle="-.", label="mean KS of exact Gaussian samples")
    low, high = ax.get_ylim()
    ax.set_ylim(low / 3, high)
    style.axis_labels(ax, "hidden width N", "KS distance to N(0, K⁽ᴸ⁾(x, x)), mean over inputs", xlog=2)
    ax.legend(fontsize="x-small", ncol=2, loc="lower left")
    pairs = ["   ".join(slopes[i:i + 2]) for i in range(0, len(slopes), 2)]
    style.annotate(ax, "log-log slopes (must be < 0):\n" + "\n".join(pairs), loc="upper right")
    style.panel_title(ax, "b", "KS distance of each marginal → 0")


def _kurtosis(ax, ds, act, letter: str, n_networks: int) -> None:
    width = ds.width.values.astype(float)
    colors = style.colors_by(ds.depth.values)
    for depth in ds.depth.values:
        sel = dict(activation=act, depth=depth)
        kurtosis = ds.excess_kurtosis.sel(sel).mean("input")
        kurtosis_se = np.sqrt((ds.excess_kurtosis_se.sel(sel) ** 2).mean("input"))  # the inputs share networks
        ax.errorbar(width, kurtosis, yerr=2 * kurtosis_se, capsize=2, color=colors[depth], marker=_series_style(ds, act, depth)["marker"],
                    ms=4, linestyle="none", label=f"L = {int(depth)}")
        ax.plot(width, ds.excess_kurtosis_theory.sel(sel), color=colors[depth], linestyle="--", linewidth=1.2)
    theory = "exact 3((1 + 5/N)^L − 1)" if act == "relu" else "leading order 3κ₄/K² (eq. 3.4.1)"
    ax.plot([], [], color="0.3", linestyle="--", linewidth=1.2, label=theory)
    noise = 2 * np.sqrt(24.0 / n_networks)  # 2 SE of the sample excess kurtosis of Gaussian data
    ax.axhspan(-noise, noise, color="0.9", zorder=0, label="±2 SE of Gaussian data")
    ax.set_xscale("log", base=2)
    ax.set_yscale("symlog", linthresh=0.1, linscale=0.5)
    ax.set_ylim(bottom=-0.5)
    style.axis_labels(ax, "hidden width N", "excess kurtosis 3κ₄/K² (mean over inputs, ±2 SE)")
    ax.legend(fontsize="x-small", loc="upper right")
    style.panel_title(ax, letter, f"{act}: excess kurtosis → 0 like L/N")


def _covariance_error(ax, ds, letter: str) -> None:
    width = ds.width.values.astype(float)
    for act in ds.activation.values:
        for depth in ds.depth.values:
            ax.loglog(width, ds.covariance_rel_error.sel(activation=act, depth=depth), label=f"{act}, L = {int(depth)}",
                      **_series_style(ds, act, depth))
    ax.plot(width, ds.covariance_rel_noise.mean(("activation", "depth")), color="0.5", linestyle="-.",
            label="Monte Carlo size √ΣSE²/‖K‖_F")
    style.axis_labels(ax, "hidden width N", "‖Ĉ − K_NNGP‖_F / ‖K_NNGP‖_F", xlog=2)
    ax.legend(fontsize="x-small", loc="lower left", ncol=2)
    low, high = ax.get_ylim()
    ax.set_ylim(low / 4, high * 2)
    rows = [style.law_text(ds, f"covariance_{act}", f"{act}: {{measured:.2f}} (≤ {{tolerance:g}})") for act in ds.activation.values]
    style.annotate(ax, f"N = {int(ds.width.max())}: max |Ĉ − K|/SE\n" + "\n".join(rows), loc="upper right")
    style.panel_title(ax, letter, "output covariance → NNGP")
