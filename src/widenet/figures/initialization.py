"""Figures of the initialization family (A1, A3, A7, A8); each reads only its store."""

from __future__ import annotations

import numpy as np
from matplotlib import ticker
from scipy import stats

from widenet import laws, store
from widenet.figures import style


def sphere_projection(ds):
    """A1: (a) p·Var(z) against p with the line 1; (b) histograms of √p·z₁ over the N(0, 1) density."""
    fig, (a, b) = style.figure(2, title="A1 sphere-projection — Amari Theorem 2: projected sphere → N(0, I/p)")
    p = ds.p.values
    mean, se = ds.p_var_mean.values, ds.p_var_se.values
    a.errorbar(p, mean, yerr=2 * se, marker="o", capsize=3, label="measured (mean over coordinates, ±2 SE)")
    a.axhline(1.0, **style.THEORY, label="theory: p·Var = 1")
    a.set_xscale("log", base=2)
    a.set_xlabel("ambient dimension p")
    a.set_ylabel("p · Var(z_i)  (dimensionless)")
    held = sum(law.ok for law in laws.read(ds) if law.name.startswith("p_var"))
    total = sum(1 for law in laws.read(ds) if law.name.startswith("p_var"))
    style.annotate(a, f"{held}/{total} values of p within 4 SE of 1", loc="lower right")
    a.legend(loc="upper right")
    style.panel_title(a, "a", "variance of projected coordinates")

    shown = p[np.unique(np.round(np.linspace(0, len(p) - 1, 4)).astype(int))]
    colors = style.palette(len(shown))
    centres = ds.bin.values
    width = centres[1] - centres[0]
    for color, pv in zip(colors, shown):
        b.step(centres, ds.hist_sqrt_p_z1.sel(p=pv), where="mid", color=color,
               label=f"p = {int(pv)} (KS to N(0,1) = {float(ds.ks_normal.sel(p=pv)):.3f})")
    t = np.linspace(centres[0] - width / 2, centres[-1] + width / 2, 400)
    b.plot(t, stats.norm.pdf(t), **style.THEORY, label="N(0, 1) density")
    b.set_xlabel("√p · z₁  (dimensionless)")
    b.set_ylabel("probability density")
    b.legend(loc="upper left", fontsize="x-small")
    style.panel_title(b, "b", "histogram of √p·z₁")
    return fig


def _by_width(ds):
    """Colour per width N (viridis, small to large)."""
    return dict(zip(ds.width.values, style.palette(ds.sizes["width"])))


# --- A3 -------------------------------------------------------------------------------------------
def deep_linear(ds):
    """A3: (a) histograms of log‖z‖ for several β over the exact law (eq. 3.2.3); (b) mean and
    variance vs β for all (N, L) with ∓β/2 (and the text's ∓β/4); (c) moments/β vs β, exact per N."""
    fig, (a, b, c) = style.figure(3, title="A3 deep-linear — log‖z⁽ᴸ⁺¹⁾‖ of deep linear nets: exact law of Hanin eq. 3.2.3")
    beta = ds.beta.transpose("width", "depth").values
    widths, depths = ds.width.values, ds.depth.values
    # (a) four cells with β spread log-evenly over the grid
    flat = [(float(beta[i, j]), int(widths[i]), int(depths[j])) for i in range(len(widths)) for j in range(len(depths))]
    chosen = []
    for target in np.geomspace(min(flat)[0], max(flat)[0], 4):
        pick = min(flat, key=lambda f: abs(np.log(f[0] / target)))
        if pick not in chosen:
            chosen.append(pick)
    for color, (bval, n, depth) in zip([f"C{i}" for i in range(len(chosen))], chosen):
        cell = ds.sel(width=n, depth=depth)
        t = cell.exact_pdf_t.values
        a.hist(cell.log_norm.values, bins=np.linspace(t[0], t[-1], 50), density=True, histtype="step", color=color, linewidth=1.4,
               label=f"N = {n}, L = {depth}: β = {bval:.3g}, KS p = {float(cell.ks_pvalue):.2f}")
        a.plot(t, cell.exact_pdf, color="black", linestyle="--", linewidth=1)
    ends = [ds.exact_pdf_t.sel(width=n, depth=depth).where(ds.exact_pdf.sel(width=n, depth=depth)
                                                           > 1e-3 * ds.exact_pdf.sel(width=n, depth=depth).max())
            for _, n, depth in chosen]
    a.set_xlim(min(float(e.min()) for e in ends), max(float(e.max()) for e in ends))
    a.plot([], [], **style.THEORY, label="exact law (eq. 3.2.3)")
    a.set_xlabel("log‖z⁽ᴸ⁺¹⁾(x)‖")
    a.set_ylabel("probability density")
    a.legend(fontsize="x-small", loc="upper left")
    style.panel_title(a, "a", f"histograms ({ds.sizes['network']} networks each)")

    # (b) mean and variance against β
    colors = _by_width(ds)
    for n in widths:
        cell = ds.sel(width=n)
        b.errorbar(cell.beta, cell.log_norm_mean, yerr=2 * cell.log_norm_mean_se, fmt="o", ms=4, color=colors[n], capsize=2,
                   label=f"N = {int(n)}")
        b.errorbar(cell.beta, cell.log_norm_var, yerr=2 * cell.log_norm_var_se, fmt="s", ms=4, mfc="none", color=colors[n], capsize=2)
    grid = np.linspace(0, float(ds.beta.max()) * 1.05, 100)
    b.plot(grid, -grid / 2, **style.THEORY, label="∓β/2 (leading order of eq. 3.2.3)")
    b.plot(grid, grid / 2, **style.THEORY)
    b.plot(grid, -grid / 4, color="0.55", linestyle=":", label="∓β/4 as printed in Hanin §3.2")
    b.plot(grid, grid / 4, color="0.55", linestyle=":")
    b.axhline(0, color="0.8", linewidth=0.8)
    b.set_xlabel("β = (L + 1)/N")
    b.set_ylabel("mean (●) and variance (□) of log‖z‖")
    b.legend(fontsize="x-small", loc="upper left")
    style.panel_title(b, "b", "moments vs β, ±2 SE")

    # (c) moments / β: collapse onto ½ as N grows; exact O(1/N) corrections per N
    for n in widths:
        cell = ds.sel(width=n)
        c.errorbar(cell.beta, -cell.log_norm_mean / cell.beta, yerr=2 * cell.log_norm_mean_se / cell.beta, fmt="o", ms=4,
                   color=colors[n], capsize=2)
        c.errorbar(cell.beta, cell.log_norm_var / cell.beta, yerr=2 * cell.log_norm_var_se / cell.beta, fmt="s", ms=4,
                   mfc="none", color=colors[n], capsize=2)
        span = [float(cell.beta.min()), float(cell.beta.max())]
        c.plot(span, [-float(cell.exact_mean[0] / cell.beta[0])] * 2, color=colors[n], linewidth=1)
        c.plot(span, [float(cell.exact_var[0] / cell.beta[0])] * 2, color=colors[n], linewidth=1, linestyle="-.")
    c.axhline(0.5, **style.THEORY, label="½ (N → ∞)")
    c.axhline(0.25, color="0.55", linestyle=":", label="¼ as printed")
    c.plot([], [], color="0.3", linewidth=1, label="exact −mean/β per N")
    c.plot([], [], color="0.3", linewidth=1, linestyle="-.", label="exact var/β per N")
    c.set_xscale("log")
    c.set_xlabel("β = (L + 1)/N")
    c.set_ylabel("−mean/β (●) and variance/β (□)")
    c.legend(fontsize="x-small", loc="lower right", ncol=2)
    c.set_ylim(0.1, 0.85)
    largest = int(widths.max())
    style.annotate(c, "\n".join([
        style.law_text(ds, f"mean_slope_N{largest}", f"N = {largest}: mean/β = {{measured:.3f}} (theory {{theory:g}})"),
        style.law_text(ds, f"var_slope_N{largest}", f"N = {largest}: var/β = {{measured:.3f}} (theory {{theory:g}})"),
        style.law_text(ds, "ks_exact_min_pvalue", "min KS p vs exact law: {measured:.3f}"),
    ]), loc="upper left")
    style.panel_title(c, "c", "moments per unit β")
    return fig


# --- A7 -------------------------------------------------------------------------------------------
def _ellipse(cov2, radius=2.0, n=200):
    t = np.linspace(0, 2 * np.pi, n)
    vals, vecs = np.linalg.eigh(cov2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ (radius * np.stack([np.cos(t), np.sin(t)]))


def gp_limit(ds):
    """A7: (a) outputs at two inputs with the NNGP 2σ ellipse for several widths; (b) KS distance
    vs width; (c, d) excess kurtosis vs width per activation with its theory; (e) covariance error."""
    settings = store.config_of(ds)["settings"]
    shown = [w for w in settings["scatter_widths"] if w in ds.width.values]
    fig, axes = style.figure(len(shown) + 2 + ds.sizes["activation"], rows=2,
                             title="A7 gp-limit — finite-width outputs → NNGP Gaussian process (Hanin Thm 3.3.1; Petersen–Zech Prop. 11.28)")
    act, depth = ds.activation.values[0], int(ds.depth.max())
    angles = ds.angle_deg.values
    gp = ds.nngp_covariance.sel(activation=act, depth=depth).values[:2, :2]
    lim = 4.2 * np.sqrt(gp.diagonal().max())
    inside_gp = 1 - np.exp(-2.0)
    for i, (ax, width) in enumerate(zip(axes, shown)):
        z = ds.outputs.sel(activation=act, depth=depth, width=width).values[:, :2]
        inside = np.mean(np.einsum("ni,ij,nj->n", z, np.linalg.pinv(gp), z) <= 4.0)
        ax.scatter(z[:, 0], z[:, 1], s=3, alpha=0.35, color="C0", linewidths=0, label=f"{len(z)} networks")
        ex = _ellipse(gp)
        ax.plot(ex[0], ex[1], **style.THEORY, label="NNGP 2σ ellipse")
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xlabel(f"z(x₁), x₁ at {angles[0]:g}°")
        ax.set_ylabel(f"z(x₂), x₂ at {angles[1]:g}°")
        style.annotate(ax, f"inside ellipse: {inside:.1%}\n(GP: {inside_gp:.1%})", loc="lower right")
        if i == 0:
            ax.legend(fontsize="x-small", loc="upper left")
        style.panel_title(ax, f"a{i + 1}", f"{act}, L = {depth}, width N = {int(width)}")
    acts = list(ds.activation.values)
    b, *kurt_axes, d = axes[len(shown):]
    width = ds.width.values.astype(float)
    colors = dict(zip(ds.depth.values, style.palette(ds.sizes["depth"])))
    lines = {a_: "-" if i == 0 else ":" for i, a_ in enumerate(acts)}
    markers = {a_: m for a_, m in zip(acts, "osD^v")}
    slopes = []
    for a_ in acts:
        for L in ds.depth.values:
            kw = dict(color=colors[L], linestyle=lines[a_], marker=markers[a_], ms=4)
            b.loglog(width, ds.ks_distance_mean.sel(activation=a_, depth=L), label=f"{a_}, L = {int(L)}", **kw)
            slopes.append(f"{a_} L={int(L)}: {float(ds.ks_slope.sel(activation=a_, depth=L)):+.2f}")
            d.loglog(width, ds.covariance_rel_error.sel(activation=a_, depth=L), label=f"{a_}, L = {int(L)}", **kw)
    b.axhline(float(ds.ks_null_mean.max()), color="0.5", linestyle="-.", label="mean KS of exact Gaussian samples")
    b.set_xscale("log", base=2)
    low, high = b.get_ylim()
    b.set_ylim(low / 3, high)
    b.set_xlabel("hidden width N")
    b.set_ylabel("KS distance to N(0, K⁽ᴸ⁾(x, x)), mean over inputs")
    b.legend(fontsize="x-small", ncol=2, loc="lower left")
    style.annotate(b, "log-log slopes (must be < 0):\n" + "\n".join("   ".join(slopes[i:i + 2]) for i in range(0, len(slopes), 2)),
                   loc="upper right")
    style.panel_title(b, "b", "KS distance of each marginal → 0")

    noise = 2 * np.sqrt(24.0 / settings["n_networks"])  # 2 SE of the sample excess kurtosis of Gaussian data
    for letter, ax, a_ in zip("cdefg", kurt_axes, acts):
        for L in ds.depth.values:
            kurt = ds.excess_kurtosis.sel(activation=a_, depth=L).mean("input")
            kse = np.sqrt((ds.excess_kurtosis_se.sel(activation=a_, depth=L) ** 2).mean("input"))  # inputs share networks
            ax.errorbar(width, kurt, yerr=2 * kse, capsize=2, color=colors[L], marker=markers[a_], ms=4, linestyle="none",
                        label=f"L = {int(L)}")
            ax.plot(width, ds.excess_kurtosis_theory.sel(activation=a_, depth=L), color=colors[L], linestyle="--", linewidth=1.2)
        theory = "exact 3((1 + 5/N)^L − 1)" if a_ == "relu" else "leading order 3κ₄/K² (eq. 3.4.1)"
        ax.plot([], [], color="0.3", linestyle="--", linewidth=1.2, label=theory)
        ax.axhspan(-noise, noise, color="0.9", zorder=0, label="±2 SE of Gaussian data")
        ax.set_xscale("log", base=2)
        ax.set_yscale("symlog", linthresh=0.1, linscale=0.5)
        ax.set_ylim(bottom=-0.5)
        ax.set_xlabel("hidden width N")
        ax.set_ylabel("excess kurtosis 3κ₄/K² (mean over inputs, ±2 SE)")
        ax.legend(fontsize="x-small", loc="upper right")
        style.panel_title(ax, letter, f"{a_}: excess kurtosis → 0 like L/N")
    letter = "cdefg"[len(kurt_axes)]

    noise_cov = ds.covariance_rel_noise.mean(("activation", "depth"))
    d.plot(width, noise_cov, color="0.5", linestyle="-.", label="Monte Carlo size √ΣSE²/‖K‖_F")
    d.set_xscale("log", base=2)
    d.set_xlabel("hidden width N")
    d.set_ylabel("‖Ĉ − K_NNGP‖_F / ‖K_NNGP‖_F")
    d.legend(fontsize="x-small", loc="lower left", ncol=2)
    low, high = d.get_ylim()
    d.set_ylim(low / 4, high * 2)
    largest = int(ds.width.max())
    style.annotate(d, f"N = {largest}: max |Ĉ − K|/SE\n" + "\n".join(
        style.law_text(ds, f"covariance_{a_}", f"{a_}: {{measured:.2f}} (≤ {{tolerance:g}})") for a_ in acts),
                   loc="upper right")
    style.panel_title(d, letter, "output covariance → NNGP")
    return fig


# --- A8 -------------------------------------------------------------------------------------------
def fourth_cumulant(ds):
    """A8: κ₄/K² vs L/N for all (N, L) with bootstrap error bars: (a) relu with 5L/N, the exact
    finite-N law and its fixed-L/N limit; (b) relu at small L/N with the fitted slope; (c) tanh."""
    settings = store.config_of(ds)["settings"]
    acts = list(ds.activation.values)
    fig, axes = style.figure(2 + (len(acts) > 1), title="A8 fourth-cumulant — κ₄/K² grows like depth/width (Hanin Theorem 3.4.1)")
    colors = _by_width(ds)
    r_max = settings["fit_max_ratio"]
    ratio_all = ds.depth_over_width.values
    grid = np.geomspace(ratio_all.min() * 0.8, ratio_all.max() * 1.25, 100)

    def points(ax, act, lo_clip=None):
        for n in ds.width.values:
            sel = ds.sel(activation=act, width=n)
            y, err = sel.kappa4_ratio.values, 2 * sel.kappa4_ratio_se.values
            lower = err if lo_clip is None else np.minimum(err, y - lo_clip)
            ax.errorbar(sel.depth_over_width, y, yerr=[lower, err], fmt="o", ms=5, capsize=2, color=colors[n], label=f"N = {int(n)}")

    a, b = axes[0], axes[1]
    if "relu" in acts:
        points(a, "relu", lo_clip=1e-3)
        a.plot(grid, 5 * grid, **style.THEORY, label="5L/N (Theorem 3.4.1)")
        a.plot(grid, np.expm1(5 * grid), color="0.4", linestyle=":", label="e^(5L/N) − 1 (exact law, N → ∞ at fixed L/N)")
        ex = ds.kappa4_ratio_exact.sel(activation="relu")
        a.plot(ds.depth_over_width.values.ravel(), ex.transpose(*ds.depth_over_width.dims).values.ravel(), "x", color="black",
               ms=5, label="exact (1 + 5/N)^L − 1")
        _ratio_axis(a)
        a.set_yscale("log")
        a.set_xlabel("L/N (hidden layers / width)")
        a.set_ylabel("κ₄/K²  (±2 bootstrap SE)")
        a.legend(fontsize="x-small", loc="upper left")
        style.panel_title(a, "a", "relu, C_W = 2: all (N, L)")

        small = ds.depth_over_width <= 2 * r_max + 1e-12
        for n in ds.width.values:
            sel = ds.sel(activation="relu", width=n).where(small.sel(width=n), drop=True)
            if sel.sizes["depth"]:
                b.errorbar(sel.depth_over_width, sel.kappa4_ratio, yerr=2 * sel.kappa4_ratio_se, fmt="o", ms=5, capsize=2,
                           color=colors[n], label=f"N = {int(n)}")
        x = np.linspace(0, 2 * r_max * 1.05, 50)
        slope, se = float(ds.fit_slope.sel(activation="relu")), float(ds.fit_slope_se.sel(activation="relu"))
        b.fill_between(x, (slope - 2 * se) * x, (slope + 2 * se) * x, color="C1", alpha=0.2, linewidth=0)
        b.plot(x, slope * x, color="C1", label=f"fit through 0 (L/N ≤ {r_max:g}): {slope:.2f}·L/N")
        b.plot(x, 5 * x, **style.THEORY, label="5L/N")
        b.axvspan(0, r_max, color="0.9", zorder=0)
        b.set_xlim(0, 2 * r_max * 1.05)
        b.set_ylim(bottom=min(0.0, float(ds.kappa4_ratio.sel(activation="relu").min())))
        b.set_xlabel("L/N")
        b.set_ylabel("κ₄/K²  (±2 bootstrap SE)")
        b.legend(fontsize="x-small", loc="upper left")
        style.annotate(b, style.law_text(ds, "relu_slope_small_ratio", "slope {measured:.2f} ± {tolerance:.2f} (2 SE), theory {theory:g}")
                       + f"\nexact finite-N law, same fit: {float(ds.fit_slope_exact.sel(activation='relu')):.2f}", loc="lower right")
        style.panel_title(b, "b", "relu at small L/N: slope 5")
        rest = [act for act in acts if act != "relu"]
    else:
        rest = acts
    for letter, ax, act in zip("cd", axes[2:] if "relu" in acts else axes, rest):
        points(ax, act)
        lead = ds.kappa4_ratio_leading.sel(activation=act)
        ax.plot(ds.depth_over_width.values.ravel(), lead.transpose(*ds.depth_over_width.dims).values.ravel(), "x", color="black", ms=5,
                label="leading order of eq. 3.4.1 at each (N, L)")
        ax.axhline(0, color="0.8", linewidth=0.8)
        _ratio_axis(ax)
        ax.set_xlabel("L/N")
        ax.set_ylabel("κ₄/K²  (±2 bootstrap SE)")
        ax.legend(fontsize="x-small", loc="upper left")
        style.annotate(ax, style.law_text(ds, f"{act}_slope_small_ratio",
                                          "slope at L/N ≤ " + f"{r_max:g}" + ": {measured:.2f} (leading order {theory:.2f} ± {tolerance:.2f})"),
                       loc="lower right")
        style.panel_title(ax, letter, f"{act}, C_W = {_cw(act):g}")
    return fig


def _ratio_axis(ax) -> None:
    """Log₂ x axis labelled with fractions (1/64, 1/32, …) for L/N on power-of-two grids."""
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(ticker.FuncFormatter(
        lambda x, _: f"1/{round(1 / x)}" if x < 1 and abs(1 / x - round(1 / x)) < 1e-6 else f"{x:g}"))
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())


def _cw(act: str) -> float:
    return 2.0 if act == "relu" else 1.0
