"""B3 linearization: network vs linearization, distances against width, per-layer movement."""

from __future__ import annotations

import numpy as np

from widenet import laws, store
from widenet.figures import style

MARKERS = {"relu": "o", "erf": "s"}
LAYER_COLORS = {"input": "tab:blue", "hidden": "tab:green", "readout": "tab:red"}


@style.themed
def plot(ds):
    """(a) f and f_lin on a test input; (b) relative NTK change; (c) output and parameter gaps; (d) per-layer movement."""
    s = store.config_of(ds)["settings"]
    fig, (a, b, c, d, e, f) = style.figure(6, rows=2, title="B3 linearization — the network and f(θ₀) + J(θ₀)(θ − θ₀), same θ₀, "
                                                        f"same GD ({s['loss']} loss, {s['steps']} steps) — Hanin Thm 2.2.1; "
                                                        "Petersen–Zech §11.5.4; Lee et al. 2019")
    _trajectories(a, ds)
    _kernel_change(b, ds)
    _gaps(c, d, ds)
    _movement(e, ds)
    _layers(f, ds)
    return fig


def _fit(ds, metric: str, act, depth) -> str:
    """' (−0.52 ✓)': the fitted slope of ``metric`` and, where it is a law, whether it holds."""
    slope = float(ds.slope.sel(metric=metric, activation=act, depth=depth))
    found = [law for law in laws.read(ds) if law.name == f"{metric}_{act}_L{depth}"]
    return f" ({slope:+.2f}{' ✓' if found and found[0].ok else ' ✗' if found else ', no law'})"


def _fit_law(ds, name: str) -> str:
    found = [law for law in laws.read(ds) if law.name == name]
    return f" ({found[0].measured:+.2f} {'✓' if found[0].ok else '✗'})" if found else ""


def _trajectories(ax, ds) -> None:
    depth, act = int(ds.depth.min()), "erf" if "erf" in ds.activation else str(ds.activation.values[0])
    widths = [int(ds.width.min()), int(ds.width.max())]
    for color, width in zip(["tab:orange", "tab:blue"], widths):
        sel = dict(depth=depth, width=width, activation=act, init="ntk")
        ax.plot(ds.record_step, ds.test_output.sel(**sel), color=color, label=f"network, n = {width}")
        ax.plot(ds.record_step, ds.test_output_lin.sel(**sel), color=color, linestyle="--", label=f"linearized, n = {width}")
    style.axis_labels(ax, "GD step k", "output f_k(x) at one test input")
    ax.legend(fontsize="small", title=f"ntk, {act}, depth {depth}, seed 0", title_fontsize="small")
    style.panel_title(ax, "a", "the linearization tracks the network")


def _lines(ax, ds, var, law, init="ntk", linestyle="-", prefix=""):
    """One line per (depth, activation), the fitted slope of law ``law``_<act>_L<depth> in its label."""
    colors = dict(zip(ds.depth.values, style.palette(ds.sizes["depth"])))
    for depth in ds.depth.values:
        for act in ds.activation.values:
            curve = ds[var].sel(depth=depth, activation=act, init=init).mean("seed")
            ax.loglog(ds.width, curve, marker=MARKERS.get(str(act), "o"), ms=4, color=colors[depth], linestyle=linestyle,
                      label=f"{prefix}{act}, L = {depth}{_fit(ds, law, act, depth)}")


def _reference(ax, ds, value, exponent, label, linestyle="--"):
    n = ds.width.values.astype(float)
    ax.loglog(n, value * (n / n[0]) ** exponent, color="black", linestyle=linestyle, linewidth=1.1, label=label)


def _kernel_change(ax, ds) -> None:
    _lines(ax, ds, "ntk_change", "ntk_change")
    top = float(ds.ntk_change.sel(init="ntk").mean("seed").isel(width=0).max())
    _reference(ax, ds, top, -0.5, "n^(−1/2) (theorem bound)", ":")
    _reference(ax, ds, top, -1.0, "n^(−1) (smooth σ, Dyer & Gur-Ari)")
    style.axis_labels(ax, "width n", "‖K̂_T − K̂₀‖_F / ‖K̂₀‖_F", xlog=2)
    ax.legend(fontsize="x-small", loc="lower left", title="ntk init (fitted slope)", title_fontsize="x-small")
    ax.set_ylim(ax.get_ylim()[0] / 8, None)
    style.panel_title(ax, "b", "relative change of the empirical NTK")


def _gaps(ax_out, ax_par, ds) -> None:
    for ax, var, law, letter, title, label in (
        (ax_out, "output_gap_train", "output_gap", "c", "outputs: network vs linearization", "sup_t max_i |f_t − f_t^lin| (train)"),
        (ax_par, "param_gap", "param_gap", "d", "parameters: network vs linearization", "sup_t ‖θ_t − θ_t^lin‖"),
    ):
        _lines(ax, ds, var, law)
        top = float(ds[var].sel(init="ntk").mean("seed").isel(width=0).max())
        _reference(ax, ds, top, -0.5, "n^(−1/2) (theorems)", ":")
        _reference(ax, ds, top, -1.0, "n^(−1)")
        style.axis_labels(ax, "width n", label, xlog=2)
        ax.legend(fontsize="x-small", loc="lower left", ncol=2, title="ntk init (fitted slope)", title_fontsize="x-small")
        ax.set_ylim(ax.get_ylim()[0] / 20, None)
        style.panel_title(ax, letter, title)


def _movement(ax, ds) -> None:
    _lines(ax, ds, "param_move", "param_move", prefix="ntk, ")
    _lines(ax, ds, "param_move", "standard_move", init="standard", linestyle="--", prefix="standard, ")
    style.axis_labels(ax, "width n", "‖θ_T − θ₀‖", xlog=2)
    ax.legend(fontsize="x-small", loc="lower left", ncol=2, title="theory: ntk O(1); standard (h ∝ 1/n) n^(−1/2)",
              title_fontsize="x-small")
    ax.set_ylim(ax.get_ylim()[0] / 10, None)
    style.panel_title(ax, "e", "how far the parameters move")


def _layers(ax, ds) -> None:
    depth = int(ds.depth.max())
    act = "erf" if "erf" in ds.activation else str(ds.activation.values[0])
    for init, linestyle in (("ntk", "-"), ("standard", "--")):
        rel = (ds.layer_move / ds.layer_norm0).sel(depth=depth, activation=act, init=init).mean("seed")
        for layer in ds.layer.values:
            if np.isfinite(rel.sel(layer=layer)).any():
                ax.loglog(ds.width, rel.sel(layer=layer), linestyle=linestyle, marker="o", ms=3,
                          color=LAYER_COLORS[str(layer)], label=f"{layer}, {init}")
    style.axis_labels(ax, "width n", "‖Δ(W_ℓ, b_ℓ)‖ / ‖(W_ℓ, b_ℓ)₀‖", xlog=2)
    ax.legend(fontsize="x-small", loc="lower left", ncol=2, title=f"{act}, depth {depth}", title_fontsize="x-small")
    ax.set_ylim(ax.get_ylim()[0] / 10, ax.get_ylim()[1] * 300)
    text = "depth 1, slope of ‖ΔU‖/‖Δv‖:\n" + "\n".join(
        f"{init} {act}{_fit_law(ds, f'layer_ratio_{init}_{act}')}" for init in ("ntk", "standard") for act in ds.activation.values)
    stable = laws.get(ds, "stable")
    text += f"\nmax c·h·λ_max(K̂₀) = {stable.measured:.2f} ({'stable' if stable.ok else 'UNSTABLE ≥ 2'})"
    if bool(ds.unstable_at_first_width.any()):
        text += "\nunstable step at the first width!"
    if bool(ds.diverged.any()):
        text += f"\n{int(ds.diverged.sum())} of {ds.diverged.size} networks diverged: their laws are ✗"
    style.annotate(ax, text, loc="upper right")
    style.panel_title(ax, "f", "per-layer relative movement")
