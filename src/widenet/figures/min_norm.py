"""Figure of A2 min-norm-distance (Amari §3, §5, §6, Theorem 1, Remark 2)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import NullFormatter
from matplotlib.lines import Line2D

from widenet import laws, store
from widenet.figures import style

CASE_LABEL = {"features": "features (v only)", "shallow": "shallow (L = 1)", "deep2": "deep (L = 2)", "deep3": "deep (L = 3)"}
ACT_STYLE = {0: dict(marker="o", linestyle="-", mfc=None), 1: dict(marker="s", linestyle="--", mfc="white")}
BLOCK_LABEL = {"readout": "readout v", "input_layer": "input layer W⁽¹⁾", "hidden_layers": "hidden W⁽ℓ⁾, ℓ ≥ 2",
               "biases": "biases b"}


def _colors(ds):
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {case: cycle[i % len(cycle)] for i, case in enumerate(ds.case.values)}


def _series(ax, ds, var, colors, *, cases=None, sel=None, x="width", **kw):
    """One line per (case, activation): colour = case, marker/line style = activation."""
    for case in cases if cases is not None else ds.case.values:
        for j, act in enumerate(ds.activation.values):
            curve = ds[var].sel(dict(sel or {}, case=case, activation=act)).dropna(x)
            st = ACT_STYLE[j % 2]
            ax.plot(curve[x], curve, color=colors[case], marker=st["marker"], linestyle=st["linestyle"],
                    mfc=st["mfc"] or colors[case], ms=4, lw=1.2, **kw)


def _series_handles(ds, colors):
    """Legend entries shared by all panels: colour = case, marker/line style = activation."""
    handles = [Line2D([], [], color=colors[c], lw=2, label=CASE_LABEL.get(c, c)) for c in ds.case.values]
    for j, act in enumerate(ds.activation.values):
        st = ACT_STYLE[j % 2]
        handles.append(Line2D([], [], color="0.3", marker=st["marker"], linestyle=st["linestyle"],
                              mfc=st["mfc"] or "0.3", label=f"σ = {act}"))
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


def min_norm_distance(ds):
    """A2: (a) ‖Δθ*‖₂ and θ₀ norms vs p; (b) non-linear residual vs p; (c) n × p heatmap of p‖Δθ*‖_∞;
    (d) ‖Δθ*‖_∞ vs p; (e) K/p concentration; (f) p‖Δθ*‖_∞ vs n (Remark 2); (g) blocks of Δθ*;
    (h) ‖Δθ*‖₂ against its infinite-width prediction."""
    settings = store.config_of(ds)["settings"]
    fit_n, min_w = settings["fit_n"], settings["fit_min_width"]
    fig, (a, b, c, d, e, f, g, h) = style.figure(
        8, rows=2, title="A2 min-norm-distance — a solution lies within O(p^(−1/2)) of any wide random network "
        "(Amari §3–6, Theorem 1, Remark 2; standard param., σ_v = σ_w = σ_b = 1)")
    colors = _colors(ds)
    p = ds.width.values.astype(float)
    largest = int(p.max())
    at = dict(n=fit_n)
    deep_cases = [cs for cs in ds.case.values if cs != "features"]

    # (a) distance and the size of θ₀
    _series(a, ds, "delta_norm_geomean", colors, sel=at)
    v0 = ds.theta0_readout_norm_mean.mean("case")
    a.plot(p, v0, color="0.45", marker="D", ms=4, lw=1, label="‖v₀‖₂ → σ_v (eqs. 35, 39)")
    neuron = ds.theta0_neuron_norm_mean.mean("case")
    a.plot(p, neuron, color="0.45", marker="^", ms=4, lw=1, label="RMS ‖(w_i; b_i)‖₂ → √(σ_w² + σ_b²)")
    a.axhline(settings["weight_std"], color="0.45", ls=":", lw=1)
    a.axhline(np.hypot(settings["weight_std"], settings["bias_std"]), color="0.45", ls=":", lw=1)
    y0 = float(np.exp(np.log(ds.delta_norm_geomean.sel(dict(at, width=largest))).mean()))
    _reference(a, p, y0, largest, -0.5, "∝ p^(−1/2) (eq. 34)")
    _loglog(a, "hidden width p", "parameter-space distance (Euclidean norm)")
    a.legend(fontsize="x-small", loc="lower left")
    a.set_ylim(a.get_ylim()[0] / 8, a.get_ylim()[1] * 3)
    style.annotate(a, f"slope of ‖Δθ*‖₂ (n = {fit_n}, p ≥ {min_w}):\n" + _fits(ds, "fit_delta_norm"), loc="upper right")
    style.panel_title(a, "a", f"‖Δθ*‖₂ shrinks, θ₀ stays O(1)  (n = {fit_n})")

    # (b) non-linear residual, Theorem 1
    _series(b, ds, "relative_residual_median", colors, cases=deep_cases, sel=at)
    _loglog(b, "hidden width p", "‖f(θ₀ + Δθ*) − f*‖₂ / ‖e‖₂  (relative)")
    exact = [law for law in laws.read(ds) if law.name.startswith("residual_exact")]
    note = f"slope vs p (n = {fit_n}, p ≥ {min_w}):\n" + _fits(ds, "fit_residual", cases=deep_cases)
    if exact:
        note += f"\nfeatures (linear in v): ≤ {max(law.measured for law in exact):.0e} (exact)"
    style.annotate(b, note, loc="upper right")
    b.set_ylim(top=b.get_ylim()[1] * 30)
    style.panel_title(b, "b", "non-linear residual → 0 (Theorem 1)")

    # (c) Remark 2 heatmap
    case_c = "features" if "features" in ds.case.values else ds.case.values[0]
    act_c = ds.activation.values[0]
    heat = ds.p_delta_sup_median.sel(case=case_c, activation=act_c).transpose("n", "width")
    vals = np.ma.masked_invalid(heat.values)
    im = c.imshow(vals, origin="lower", aspect="auto", cmap="viridis", norm=LogNorm(vmin=vals.min(), vmax=vals.max()))
    c.set_facecolor("0.85")
    for (i, j), v in np.ndenumerate(heat.values):
        text = "n > P" if not np.isfinite(v) else f"{v:.0f}" if v >= 10 else f"{v:.1f}"
        c.text(j, i, text, ha="center", va="center", fontsize=7,
               color="0.2" if not np.isfinite(v) or v > np.sqrt(vals.min() * vals.max()) * 3 else "white")
    idx_p = np.arange(len(p))
    lp, ln = np.log2(p), np.log2(heat.n.values.astype(float))

    def row(n_of_p):  # fractional row index of n(p) on the (log-spaced) n axis
        return np.interp(np.log2(n_of_p), ln, np.arange(len(ln)), left=np.nan, right=np.nan)

    c.plot(idx_p, row(np.sqrt(p)), color="white", lw=1.5, ls="--")
    c.plot(idx_p, row(p), color="#ff5050", lw=2, ls=":")
    c.set_xticks(idx_p, [str(int(v)) for v in p], rotation=45)
    c.set_yticks(np.arange(len(ln)), [str(int(v)) for v in heat.n.values])
    c.set_xlabel("hidden width p\nwhite – –: n = √p (Remark 2),  red ⋯: n = p" + (" = P" if case_c == "features" else "")
                 + ",  grey: n > P (K singular)", fontsize="small")
    c.set_ylabel("training inputs n")
    fig.colorbar(im, ax=c, shrink=0.9, label="p · ‖Δθ*‖_∞ (median over seeds)")
    style.panel_title(c, "c", f"Remark 2: p‖Δθ*‖_∞ over n × p ({case_c}, {act_c})")

    # (d) sup norm
    _series(d, ds, "delta_sup_geomean", colors, sel=at)
    y0 = float(np.exp(np.log(ds.delta_sup_geomean.sel(dict(at, width=largest))).mean()))
    d.plot(p, y0 * (largest / p) * np.sqrt(np.log(p) / np.log(largest)), **style.THEORY, label="∝ √(2 ln p)/p")
    _reference(d, p, y0, largest, -1.0, "∝ 1/p (eq. 64)", linestyle=":")
    _loglog(d, "hidden width p", "‖Δθ*‖_∞  (largest single-parameter change)")
    d.legend(fontsize="x-small", loc="lower left")
    style.annotate(d, f"slope of ‖Δθ*‖_∞/√(2 ln p) (n = {fit_n}):\n" + _fits(ds, "fit_delta_sup"), loc="upper right")
    d.set_ylim(bottom=d.get_ylim()[0] / 30, top=d.get_ylim()[1] * 3)
    style.panel_title(d, "d", "‖Δθ*‖_∞ ∝ 1/p up to logs (eqs. 34, 64)")

    # (e) K/p concentration, eq. 33
    _series(e, ds, "kp_error_rms", colors)
    y0 = float(np.exp(np.log(ds.kp_error_rms.sel(width=largest)).mean()))
    _reference(e, p, y0, largest, -0.5, "∝ p^(−1/2)")
    _loglog(e, "hidden width p", "‖K/p − K∞‖_F / ‖K∞‖_F  (RMS over seeds)")
    e.legend(fontsize="x-small", loc="lower left")
    n_kp = settings["kernel_n"]
    style.annotate(e, f"slope of the seed spread of K/p\n({max(settings['kernel_seeds'], settings['n_seeds'])} draws, "
                   f"first {n_kp} inputs):\n" + _fits(ds, "fit_kp_spread"), loc="upper right")
    e.set_ylim(top=e.get_ylim()[1] * 4)
    style.panel_title(e, "e", "K/p → K∞ = lim K/p  (eqs. 33, 60, 74)")

    # (f) growth with n at the largest p
    _series(f, ds, "p_delta_sup_median", colors, sel=dict(width=largest), x="n")
    n = ds.n.values.astype(float)
    y0 = float(np.exp(np.log(ds.p_delta_sup_median.sel(width=largest, n=n.min())).mean()))
    _reference(f, n, y0, n.min(), 2.0, "∝ n² (Remark 2, eq. 38)")
    f.set_xscale("log", base=2)
    f.set_yscale("log")
    f.set_xlabel("training inputs n")
    f.set_ylabel(f"p · ‖Δθ*‖_∞ at p = {largest}  (median)")
    f.legend(fontsize="x-small", loc="upper left")
    style.annotate(f, "fitted exponent in n:\n" + _fits(ds, "fit_remark2"), loc="lower right")
    f.set_ylim(bottom=f.get_ylim()[0] / 6)
    style.panel_title(f, "f", f"Remark 2: growth with n  (p = {largest})")

    # (g) blocks of Δθ*
    case_g = "deep3" if "deep3" in ds.case.values else ds.case.values[-1]
    blocks = ds.delta_block_geomean.sel(dict(at, case=case_g, activation=act_c))
    palette = style.palette(len(ds.block))
    for color, blk in zip(palette, ds.block.values):
        curve = blocks.sel(block=blk).dropna("width")
        if curve.size:
            g.plot(curve.width, curve, marker="o", ms=4, color=color, label=BLOCK_LABEL.get(str(blk), str(blk)))
    ref = blocks.sel(block="readout", width=largest)
    _reference(g, p, float(ref), largest, -0.5, "∝ p^(−1/2)")
    ref = blocks.sel(block="input_layer", width=largest)
    if np.isfinite(ref):
        _reference(g, p, float(ref), largest, -1.0, "∝ 1/p", linestyle=":")
    _loglog(g, "hidden width p", f"‖Δθ*‖₂ of the block (n = {fit_n})")
    g.legend(fontsize="x-small", loc="lower left", ncol=2)
    if deep_cases:
        style.annotate(g, "slope of the input-layer block:\n" + _fits(ds, "fit_input_block", cases=deep_cases)
                       + "\n(eqs. 60–62 would give −½: in standard param.\n K⁽²⁾ = O(1), not O(p))", loc="upper right")
    g.set_ylim(bottom=g.get_ylim()[0] / 3, top=g.get_ylim()[1] * 60)
    style.panel_title(g, "g", f"where Δθ* lives ({case_g}, {act_c})")

    # (h) prefactor: ‖Δθ*‖₂ against √(eᵀK∞⁻¹e/p)
    _series(h, ds, "prefactor_median", colors, sel=at)
    h.axhline(1.0, **style.THEORY, label="infinite-width prediction (ratio 1)")
    h.set_xscale("log", base=2)
    h.set_yscale("log")
    h.set_xlabel("hidden width p")
    h.set_ylabel("‖Δθ*‖₂ / √(eᵀK∞⁻¹e / p)  (median)")
    h.legend(fontsize="x-small", loc="upper right")
    style.annotate(h, f"at p = {largest} (n = {fit_n}):\n" + _fits(ds, "fit_prefactor", fmt="{:.3f}"), loc="lower left")
    h.set_ylim(0.3, max(3.0, float(ds.prefactor_median.sel(at).max()) * 1.3))
    _plain_log_ticks(h, [t for t in (0.5, 1, 2, 5, 10, 20) if t < h.get_ylim()[1]])
    style.panel_title(h, "h", "‖Δθ*‖₂ ≈ √(eᵀ(pK∞)⁻¹e): the O(1/√p) prefactor")
    fig.legend(handles=_series_handles(ds, colors), loc="outside lower center", ncol=len(ds.case) + len(ds.activation),
               fontsize="small")
    return fig
