"""A2 min-norm-distance (Amari §3, §5, §6, Theorem 1, Remark 2): a solution within O(p^(−1/2)) of a wide random net."""

from __future__ import annotations

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from widenet import laws, store
from widenet.figures import style

CASE_LABEL = {"features": "features (v only)", "shallow": "shallow (L = 1)", "deep2": "deep (L = 2)", "deep3": "deep (L = 3)"}
ACT_STYLE = {0: dict(marker="o", linestyle="-", mfc=None), 1: dict(marker="s", linestyle="--", mfc="white")}
BLOCK_LABEL = {"readout": "readout v", "input_layer": "input layer W⁽¹⁾", "hidden_layers": "hidden W⁽ℓ⁾, ℓ ≥ 2",
               "biases": "biases b"}


def _colors(ds):
    cycle = style.cycle_colors()
    return {case: cycle[i % len(cycle)] for i, case in enumerate(ds.case.values)}


def _series(ax, ds, var, colors, *, cases=None, sel=None, x="width", **kw):
    """One line per (case, activation): colour = case, marker/line style = activation."""
    for case in cases if cases is not None else ds.case.values:
        for j, act in enumerate(ds.activation.values):
            curve = ds[var].sel(dict(sel or {}, case=case, activation=act)).dropna(x)
            look = ACT_STYLE[j % 2]
            ax.plot(curve[x], curve, color=colors[case], marker=look["marker"], linestyle=look["linestyle"],
                    mfc=look["mfc"] or colors[case], ms=4, lw=1.2, **kw)


def _series_handles(ds, colors):
    """Legend entries shared by all panels: colour = case, marker/line style = activation."""
    handles = [Line2D([], [], color=colors[c], lw=2, label=CASE_LABEL.get(c, c)) for c in ds.case.values]
    for j, act in enumerate(ds.activation.values):
        look = ACT_STYLE[j % 2]
        handles.append(Line2D([], [], color="0.3", marker=look["marker"], linestyle=look["linestyle"],
                              mfc=look["mfc"] or "0.3", label=f"σ = {act}"))
    return handles


def _fits(ds, var, cases=None, fmt="{:+.2f}"):
    """'case: tanh −0.51 ✓ / relu −0.49 ✓' lines from the stored fit and the laws' verdicts."""
    by_name = {law.name: law for law in laws.read(ds)}
    prefix = {"fit_delta_norm": "delta_norm_slope", "fit_delta_sup": "delta_sup_slope", "fit_residual": "residual_slope",
              "fit_kp_spread": "kp_spread_slope", "fit_input_block": "input_block_slope",
              "fit_remark2": "remark2_exponent", "fit_prefactor": "prefactor"}[var]
    lines = []
    for case in cases if cases is not None else ds.case.values:
        parts = []
        for act in ds.activation.values:
            law = by_name.get(f"{prefix}_{case}_{act}")
            if law is not None:
                parts.append(f"{act} {fmt.format(law.measured)} {'✓' if law.ok else '✗'}")
        lines.append(f"{case}: " + " / ".join(parts))
    return "\n".join(lines)


def _loglog(ax, xlabel, ylabel):
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def _reference(ax, x, y0, x0, power, label, **kw):
    x = np.asarray(x, float)
    ax.plot(x, y0 * (x / x0) ** power, **{**style.THEORY, **kw}, label=label)


def _plain_log_ticks(ax, ticks):
    ax.set_yticks(ticks, [f"{t:g}" for t in ticks])
    ax.yaxis.set_minor_formatter(NullFormatter())


@style.themed
def plot(ds):
    """(a) ‖Δθ*‖₂ and θ₀ norms vs p; (b) non-linear residual vs p; (c) n × p heatmap of p‖Δθ*‖_∞;
    (d) ‖Δθ*‖_∞ vs p; (e) K/p concentration; (f) p‖Δθ*‖_∞ vs n (Remark 2); (g) blocks of Δθ*;
    (h) ‖Δθ*‖₂ against its infinite-width prediction."""
    settings = store.config_of(ds)["settings"]
    fig, axes = style.figure(
        8, rows=2, title="A2 min-norm-distance — a solution lies within O(p^(−1/2)) of any wide random network "
        "(Amari §3–6, Theorem 1, Remark 2; standard param., σ_v = σ_w = σ_b = 1)")
    colors = _colors(ds)
    for panel, ax in zip([_distance, _residual, _remark2_heatmap, _sup_norm, _kernel_concentration, _growth_with_n,
                          _blocks, _prefactor], axes):
        panel(ax, ds, colors, settings)
    fig.legend(handles=_series_handles(ds, colors), loc="outside lower center", ncol=len(ds.case) + len(ds.activation),
               fontsize="small")
    return fig


def _geomean_at(var, sel) -> float:
    """Geometric mean of ``var`` over its remaining dims at ``sel`` (anchors reference lines)."""
    return float(np.exp(np.log(var.sel(sel)).mean()))


def _distance(ax, ds, colors, settings) -> None:
    """‖Δθ*‖₂ shrinks like p^(−1/2) while the norms of θ₀ stay O(1) (eqs. 34, 35, 39)."""
    fit_n, p = settings["fit_n"], ds.width.values.astype(float)
    _series(ax, ds, "delta_norm_geomean", colors, sel=dict(n=fit_n))
    ax.plot(p, ds.theta0_readout_norm_mean.mean("case"), color="0.45", marker="D", ms=4, lw=1, label="‖v₀‖₂ → σ_v (eqs. 35, 39)")
    ax.plot(p, ds.theta0_neuron_norm_mean.mean("case"), color="0.45", marker="^", ms=4, lw=1,
            label="RMS ‖(w_i; b_i)‖₂ → √(σ_w² + σ_b²)")
    ax.axhline(settings["weight_std"], color="0.45", ls=":", lw=1)
    ax.axhline(np.hypot(settings["weight_std"], settings["bias_std"]), color="0.45", ls=":", lw=1)
    largest = int(p.max())
    _reference(ax, p, _geomean_at(ds.delta_norm_geomean, dict(n=fit_n, width=largest)), largest, -0.5, "∝ p^(−1/2) (eq. 34)")
    _loglog(ax, "hidden width p", "parameter-space distance (Euclidean norm)")
    ax.legend(fontsize="x-small", loc="lower left")
    ax.set_ylim(ax.get_ylim()[0] / 8, ax.get_ylim()[1] * 3)
    style.annotate(ax, f"slope of ‖Δθ*‖₂ (n = {fit_n}, p ≥ {settings['fit_min_width']}):\n" + _fits(ds, "fit_delta_norm"),
                   loc="upper right")
    style.panel_title(ax, "a", f"‖Δθ*‖₂ shrinks, θ₀ stays O(1)  (n = {fit_n})")


def _residual(ax, ds, colors, settings) -> None:
    """Theorem 1: the non-linear residual ‖f(θ₀ + Δθ*) − f*‖ → 0 (exactly 0 for the linear `features` case)."""
    fit_n = settings["fit_n"]
    deep_cases = [case for case in ds.case.values if case != "features"]
    _series(ax, ds, "relative_residual_median", colors, cases=deep_cases, sel=dict(n=fit_n))
    _loglog(ax, "hidden width p", "‖f(θ₀ + Δθ*) − f*‖₂ / ‖e‖₂  (relative)")
    exact = [law for law in laws.read(ds) if law.name.startswith("residual_exact")]
    note = f"slope vs p (n = {fit_n}, p ≥ {settings['fit_min_width']}):\n" + _fits(ds, "fit_residual", cases=deep_cases)
    if exact:
        note += f"\nfeatures (linear in v): ≤ {max(law.measured for law in exact):.0e} (exact)"
    style.annotate(ax, note, loc="upper right")
    ax.set_ylim(top=ax.get_ylim()[1] * 30)
    style.panel_title(ax, "b", "non-linear residual → 0 (Theorem 1)")


def _heatmap_labels(ax, heat, vals) -> None:
    """The value in each cell ('n > P' where K is singular), dark text on light cells."""
    light = np.sqrt(vals.min() * vals.max()) * 3
    for (i, j), v in np.ndenumerate(heat.values):
        text = "n > P" if not np.isfinite(v) else f"{v:.0f}" if v >= 10 else f"{v:.1f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color="0.2" if not np.isfinite(v) or v > light else "white")


def _remark2_heatmap(ax, ds, colors, settings) -> None:
    """Remark 2: p‖Δθ*‖_∞ over n × p, with the curves n = √p and n = p."""
    case = "features" if "features" in ds.case.values else ds.case.values[0]
    act = ds.activation.values[0]
    heat = ds.p_delta_sup_median.sel(case=case, activation=act).transpose("n", "width")
    vals = np.ma.masked_invalid(heat.values)
    im = ax.imshow(vals, origin="lower", aspect="auto", cmap="viridis", norm=LogNorm(vmin=vals.min(), vmax=vals.max()))
    ax.set_facecolor("0.85")
    _heatmap_labels(ax, heat, vals)
    p, log_n = ds.width.values.astype(float), np.log2(heat.n.values.astype(float))

    def row(n_of_p):  # fractional row index of n(p) on the (log-spaced) n axis
        return np.interp(np.log2(n_of_p), log_n, np.arange(len(log_n)), left=np.nan, right=np.nan)

    ax.plot(np.arange(len(p)), row(np.sqrt(p)), color="white", lw=1.5, ls="--")
    ax.plot(np.arange(len(p)), row(p), color="#ff5050", lw=2, ls=":")
    ax.set_xticks(np.arange(len(p)), [str(int(v)) for v in p], rotation=45)
    ax.set_yticks(np.arange(len(log_n)), [str(int(v)) for v in heat.n.values])
    ax.set_xlabel("hidden width p\nwhite – –: n = √p (Remark 2),  red ⋯: n = p" + (" = P" if case == "features" else "")
                  + ",  grey: n > P (K singular)", fontsize="small")
    ax.set_ylabel("training inputs n")
    ax.figure.colorbar(im, ax=ax, shrink=0.9, label="p · ‖Δθ*‖_∞ (median over seeds)")
    style.panel_title(ax, "c", f"Remark 2: p‖Δθ*‖_∞ over n × p ({case}, {act})")


def _sup_norm(ax, ds, colors, settings) -> None:
    """‖Δθ*‖_∞ ∝ 1/p up to the √(2 ln p) of a Gaussian maximum (eqs. 34, 64)."""
    fit_n, p = settings["fit_n"], ds.width.values.astype(float)
    largest = int(p.max())
    _series(ax, ds, "delta_sup_geomean", colors, sel=dict(n=fit_n))
    y0 = _geomean_at(ds.delta_sup_geomean, dict(n=fit_n, width=largest))
    ax.plot(p, y0 * (largest / p) * np.sqrt(np.log(p) / np.log(largest)), **style.THEORY, label="∝ √(2 ln p)/p")
    _reference(ax, p, y0, largest, -1.0, "∝ 1/p (eq. 64)", linestyle=":")
    _loglog(ax, "hidden width p", "‖Δθ*‖_∞  (largest single-parameter change)")
    ax.legend(fontsize="x-small", loc="lower left")
    style.annotate(ax, f"slope of ‖Δθ*‖_∞/√(2 ln p) (n = {fit_n}):\n" + _fits(ds, "fit_delta_sup"), loc="upper right")
    ax.set_ylim(bottom=ax.get_ylim()[0] / 30, top=ax.get_ylim()[1] * 3)
    style.panel_title(ax, "d", "‖Δθ*‖_∞ ∝ 1/p up to logs (eqs. 34, 64)")


def _kernel_concentration(ax, ds, colors, settings) -> None:
    """K/p → K∞ (eq. 33): the seed spread of K/p shrinks like p^(−1/2)."""
    p = ds.width.values.astype(float)
    largest = int(p.max())
    _series(ax, ds, "kp_error_rms", colors)
    _reference(ax, p, _geomean_at(ds.kp_error_rms, dict(width=largest)), largest, -0.5, "∝ p^(−1/2)")
    _loglog(ax, "hidden width p", "‖K/p − K∞‖_F / ‖K∞‖_F  (RMS over seeds)")
    ax.legend(fontsize="x-small", loc="lower left")
    draws = max(settings["kernel_seeds"], settings["n_seeds"])
    style.annotate(ax, f"slope of the seed spread of K/p\n({draws} draws, first {settings['kernel_n']} inputs):\n"
                   + _fits(ds, "fit_kp_spread"), loc="upper right")
    ax.set_ylim(top=ax.get_ylim()[1] * 4)
    style.panel_title(ax, "e", "K/p → K∞ = lim K/p  (eqs. 33, 60, 74)")


def _growth_with_n(ax, ds, colors, settings) -> None:
    """Remark 2: p‖Δθ*‖_∞ at the largest p grows with the number of inputs n."""
    largest = int(ds.width.max())
    _series(ax, ds, "p_delta_sup_median", colors, sel=dict(width=largest), x="n")
    n = ds.n.values.astype(float)
    _reference(ax, n, _geomean_at(ds.p_delta_sup_median, dict(width=largest, n=n.min())), n.min(), 2.0,
               "∝ n² (Remark 2, eq. 38)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    style.axis_labels(ax, "training inputs n", f"p · ‖Δθ*‖_∞ at p = {largest}  (median)")
    ax.legend(fontsize="x-small", loc="upper left")
    style.annotate(ax, "fitted exponent in n:\n" + _fits(ds, "fit_remark2"), loc="lower right")
    ax.set_ylim(bottom=ax.get_ylim()[0] / 6)
    style.panel_title(ax, "f", f"Remark 2: growth with n  (p = {largest})")


def _blocks(ax, ds, colors, settings) -> None:
    """Where Δθ* lives: readout ∝ p^(−1/2), input layer ∝ 1/p (not eqs. 60–62's p^(−1/2))."""
    fit_n, p = settings["fit_n"], ds.width.values.astype(float)
    largest = int(p.max())
    case, act = ("deep3" if "deep3" in ds.case.values else ds.case.values[-1]), ds.activation.values[0]
    blocks = ds.delta_block_geomean.sel(n=fit_n, case=case, activation=act)
    for color, block in zip(style.palette(len(ds.block)), ds.block.values):
        curve = blocks.sel(block=block).dropna("width")
        if curve.size:
            ax.plot(curve.width, curve, marker="o", ms=4, color=color, label=BLOCK_LABEL.get(str(block), str(block)))
    _reference(ax, p, float(blocks.sel(block="readout", width=largest)), largest, -0.5, "∝ p^(−1/2)")
    input_layer = blocks.sel(block="input_layer", width=largest)
    if np.isfinite(input_layer):
        _reference(ax, p, float(input_layer), largest, -1.0, "∝ 1/p", linestyle=":")
    _loglog(ax, "hidden width p", f"‖Δθ*‖₂ of the block (n = {fit_n})")
    ax.legend(fontsize="x-small", loc="lower left", ncol=2)
    deep_cases = [c for c in ds.case.values if c != "features"]
    if deep_cases:
        style.annotate(ax, "slope of the input-layer block:\n" + _fits(ds, "fit_input_block", cases=deep_cases)
                       + "\n(eqs. 60–62 would give −½: in standard param.\n K⁽²⁾ = O(1), not O(p))", loc="upper right")
    ax.set_ylim(bottom=ax.get_ylim()[0] / 3, top=ax.get_ylim()[1] * 60)
    style.panel_title(ax, "g", f"where Δθ* lives ({case}, {act})")


def _prefactor(ax, ds, colors, settings) -> None:
    """‖Δθ*‖₂ against √(eᵀK∞⁻¹e/p): the infinite-width prefactor of the O(1/√p) distance."""
    fit_n = settings["fit_n"]
    _series(ax, ds, "prefactor_median", colors, sel=dict(n=fit_n))
    ax.axhline(1.0, **style.THEORY, label="infinite-width prediction (ratio 1)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    style.axis_labels(ax, "hidden width p", "‖Δθ*‖₂ / √(eᵀK∞⁻¹e / p)  (median)")
    ax.legend(fontsize="x-small", loc="lower right")
    style.annotate(ax, f"at p = {int(ds.width.max())} (n = {fit_n}):\n" + _fits(ds, "fit_prefactor", fmt="{:.3f}"),
                   loc="upper right")
    ax.set_ylim(0.3, max(3.0, float(ds.prefactor_median.sel(n=fit_n).max()) * 1.3))
    _plain_log_ticks(ax, [t for t in (0.5, 1, 2, 5, 10, 20) if t < ax.get_ylim()[1]])
    style.panel_title(ax, "h", "‖Δθ*‖₂ ≈ √(eᵀ(pK∞)⁻¹e): the O(1/√p) prefactor")
