"""A9 regions (Hanin §4, Figure 4.1, Theorems 4.2.1, 4.2.2): exact linear regions of random ReLU nets."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from widenet import laws, store
from widenet.figures import style

N0_STYLE = [dict(linestyle="-", marker="o"), dict(linestyle="--", marker="s"), dict(linestyle=":", marker="D")]
LAYER_COLORS = {0: "0.2", 1: "black", 2: "#1f4fd1", 3: "#d62728", 4: "#ff7f0e"}
LAYER_WIDTH = {0: 1.2, 1: 0.6, 2: 1.4, 3: 2.0, 4: 2.0}


def _n0_style(ds, n0) -> dict:
    return N0_STYLE[list(ds.input_dim.values).index(n0) % len(N0_STYLE)]


def _depth_colors(ds) -> dict:
    return dict(zip(ds.depth.values, style.palette(ds.sizes["depth"])))


def _partition(ax, ds, e: int, letter: str) -> None:
    """Hanin Figure 4.1: the example's convex regions in random qualitative colours, edges by layer."""
    sizes = ds.example_polygon_size.isel(example=e).values
    verts = ds.example_polygon.isel(example=e).values
    layer = ds.example_edge_layer.isel(example=e).values
    polys = [verts[c, :k] for c, k in enumerate(sizes) if k > 0]
    palette = matplotlib.colormaps["tab20"].colors
    rng = np.random.default_rng(e)
    faces = [palette[i] for i in rng.integers(0, len(palette), len(polys))]
    ax.add_collection(PolyCollection(polys, facecolors=faces, edgecolors="none", alpha=0.75))
    depth = int(ds.example_depth.isel(example=e))
    for ell in range(1, depth + 1):
        segs = [(verts[c, j], verts[c, (j + 1) % k]) for c, k in enumerate(sizes) for j in range(k) if layer[c, j] == ell]
        ax.add_collection(LineCollection(segs, colors=LAYER_COLORS.get(ell, "purple"), linewidths=LAYER_WIDTH.get(ell, 2.0),
                                         capstyle="round"))
    h = float(store.config_of(ds)["settings"]["example_half_width"])
    ax.set_xlim(-h, h)
    ax.set_ylim(-h, h)
    ax.set_aspect("equal")
    ax.set_xlabel("input x₁")
    ax.set_ylabel("input x₂")
    widths = [int(w) for w in ds.example_widths.isel(example=e).values if w > 0]
    n = int(ds.example_n_regions.isel(example=e))
    if depth == 1:
        what = f"{widths[0]} lines: {n} regions in view"
    else:
        what = f"widths {'·'.join(map(str, widths))}: {n} regions"
        handles = [Line2D([], [], color=LAYER_COLORS.get(ell, "purple"), lw=LAYER_WIDTH.get(ell, 2.0), label=f"layer {ell}")
                   for ell in range(1, depth + 1)]
        ax.legend(handles=handles, loc="upper right", fontsize="x-small", framealpha=0.9, frameon=True, title="nodal sets",
                  title_fontsize="x-small")
    kind = "hyperplane arrangement" if depth == 1 else "bent hyperplanes"
    style.panel_title(ax, letter, f"L = {depth}, N₀ = 2 ({kind})\n{what}")


def _per_depth(ax, ds, var: str, ylabel: str) -> None:
    """Means ±2 SE against N, colour = depth, line/marker = N₀."""
    n = ds.neurons.values.astype(float)
    colors = _depth_colors(ds)
    for n0 in ds.input_dim.values:
        for d in ds.depth.values:
            m = ds[f"{var}_mean"].sel(input_dim=n0, depth=d).transpose("neurons").values
            se = ds[f"{var}_se"].sel(input_dim=n0, depth=d).transpose("neurons").values
            ax.errorbar(n, m, yerr=2 * np.nan_to_num(se), color=colors[d], ms=3.5, capsize=2, lw=1.1, **_n0_style(ds, n0))
    style.axis_labels(ax, "total hidden neurons N = N₁ + … + N_L", ylabel, xlog=2, ylog=True)


def _reference(ax, ds, var: str, exponent: float, **kw) -> None:
    """N^exponent through the largest depth-1 mean at the largest N."""
    n = ds.neurons.values.astype(float)
    anchor = float(ds[f"{var}_mean"].sel(depth=ds.depth.values[0]).isel(neurons=-1).max())
    ax.plot(n, anchor * (n / n[-1]) ** exponent, **{**style.THEORY, **kw})


def _row(ds, prefix: str, label: str, theory: str = "") -> str:
    """One line of a law box: the law ``prefix + N₀`` for every N₀, 'v₁ | v₂ (theory) ✓✓'."""
    found = [laws.get(ds, f"{prefix}{n0}") for n0 in ds.input_dim.values if f"{prefix}{n0}" in ds.law.values]
    if not found:
        return f"{label}: too few wide nets to fit"
    values = " | ".join(f"{law.measured:.2f}" for law in found)
    if theory == "spread":
        theory = "∞-width " + " | ".join(f"{law.theory:.2f}" for law in found)
    marks = "".join("✓" if law.ok else "✗" for law in found)
    return f"{label}: {values}" + (f"  ({theory})" if theory else "") + f" {marks}"


def _law_box(ds, rows: list[str], fits: bool = True) -> str:
    n0 = " | ".join(str(int(v)) for v in ds.input_dim.values)
    fit = store.config_of(ds)["settings"]["fit_min_width"]
    return f"N₀ = {n0}" + (f"  (fits: layers ≥ {fit} wide)" if fits else "") + "\n" + "\n".join(rows)


@style.themed
def plot(ds):
    """(a, b) partitions (Figure 4.1); (c) regions vs N; (d) grid vs exact; (e) nodal length; (f) 1-D breakpoints;
    (g) measured / Kac–Rice density; a shared key."""
    settings = store.config_of(ds)["settings"]
    fig, axes = style.figure(
        8, rows=2, title="A9 regions — exact linear regions of random ReLU nets: densities grow with the number of neurons, "
                         "only weakly with depth (Hanin §4, Thms 4.2.1, 4.2.2)")
    a, b, c, d, e, f, g, key = axes
    for k, (ax, letter) in enumerate(zip([a, b], "ab")):
        if k < ds.sizes.get("example", 0):
            _partition(ax, ds, k, letter)
        else:
            ax.set_axis_off()
    refs = _region_counts(c, ds, float(settings["half_width"]))
    _grid_counts(d, ds, float(settings["half_width"]))
    _density(e, ds, "e", "nodal_length_per_area", "nodal_length", "nodal length per unit area  (1 / input unit)",
             f"2-D: nodal length in [−{settings['half_width']:g}, {settings['half_width']:g}]² ∝ N")
    _density(f, ds, "f", "breakpoints_per_length", "breakpoints", "breakpoints per unit length  (1 / input unit)",
             f"1-D: segments of length {settings['segment_length']:g} in [−1, 1]^N₀")
    _kac_rice(g, ds)
    _key(key, ds, refs, settings["fit_min_width"])
    return fig


def _region_counts(ax, ds, h: float) -> list:
    """(c) Region counts in the slice square (left axis) and per unit area (right); Zaslavsky for L = 1.
    Returns the legend entries of its reference lines for the shared key."""
    n = ds.neurons.values.astype(float)
    _per_depth(ax, ds, "n_regions", f"regions meeting the slice square [−{h:g}, {h:g}]²")
    refs = []
    if 1 in ds.depth.values:
        ax.plot(n, ds.zaslavsky_theory, color="black", lw=1)
        whole = ds.zaslavsky_whole_plane.sel(depth=1).transpose("neurons", ...)
        ax.plot(np.repeat(n, whole.size // n.size), whole.values.ravel(), "kx", ms=6)
        refs += [Line2D([], [], color="black", lw=1, marker="x",
                        label="(c) L = 1, whole plane: exact (×)\n     vs Zaslavsky 1 + N + N(N−1)/2")]
    _reference(ax, ds, "n_regions", 2.0)
    _reference(ax, ds, "n_regions", 1.0, linestyle=":", color="0.5")
    refs += [Line2D([], [], **style.THEORY, label="(c) ∝ N² (Thm 4.2.2, 2-D slice)"),
             Line2D([], [], **{**style.THEORY, "linestyle": ":", "color": "0.5"}, label="(c) ∝ N, for comparison")]
    area = (2 * h) ** 2
    right = ax.secondary_yaxis("right", functions=(lambda y: y / area, lambda y: y * area))
    right.set_ylabel("regions per unit area")
    bits = laws.get(ds, "far_below_2_to_N")
    top = float(np.fmax(ds.n_regions.max(), ds.zaslavsky_whole_plane.max()))
    note = _law_box(ds, [
        _row(ds, "vertices_slope_N0_", "slope, vertices/area", "theory 2"),
        _row(ds, "regions_slope_N0_", "slope, regions/area", "theory 1 to 2"),
        _row(ds, "regions_depth_spread_N0_", f"L-spread, N = {int(n[-1])}", "spread").replace("∞-width", "∞-width²"),
        f"all ≤ {top:.2g} regions ≪ 2^N: max log₂(#)/N = {bits.measured:.2f} {'✓' if bits.ok else '✗'}",
    ])
    ax.set_ylim(0.5, ax.get_ylim()[1] * 300)
    style.annotate(ax, note, loc="upper left")
    style.panel_title(ax, "c", "number of regions ∝ N² on a 2-D slice")
    return refs


def _grid_counts(ax, ds, h: float) -> None:
    """(d) Activation patterns seen on r × r grids against the exact region counts."""
    res, exact = ds.resolution.values, ds.n_regions.values
    for color, r in zip(style.palette(res.size), res):
        ax.loglog(exact.ravel(), ds.grid_count.sel(resolution=r).transpose(*ds.n_regions.dims).values.ravel(), ".",
                  color=color, ms=3, alpha=0.6, label=f"{int(r)} × {int(r)} grid")
    lo, hi = np.nanmin(exact), np.nanmax(exact)
    ax.plot([lo, hi], [lo, hi], **style.THEORY, label="grid = exact")
    style.axis_labels(ax, f"exact regions in [−{h:g}, {h:g}]²", "activation patterns seen on the grid")
    ax.legend(fontsize="x-small", loc="upper left", markerscale=3)
    frac = ds.grid_fraction_mean.sel(resolution=res[-1], neurons=ds.neurons.values[-1])
    law = laws.get(ds, "grid_undercounts")
    style.annotate(ax, f"grid ≤ exact for every net {'✓' if law.ok else '✗'}\n"
                       f"{int(res[-1])}² grid at N = {int(ds.neurons.values[-1])} finds\n"
                       f"{float(frac.min()):.0%}–{float(frac.max()):.0%} of the regions", loc="lower right")
    style.panel_title(ax, "d", "grid sampling undercounts")


def _density(ax, ds, letter: str, var: str, law_key: str, ylabel: str, title: str) -> None:
    """(e), (f) A density ∝ N (Theorem 4.2.1) per depth and N₀, with its fitted slopes and depth spreads."""
    _per_depth(ax, ds, var, ylabel)
    _reference(ax, ds, var, 1.0)
    ax.legend(handles=[Line2D([], [], **style.THEORY, label="∝ N (Thm 4.2.1)")], loc="upper left", fontsize="x-small")
    low, high = ax.get_ylim()
    ax.set_ylim(low / 12, high)
    style.annotate(ax, _law_box(ds, [
        _row(ds, f"{law_key}_slope_N0_", "slope vs N", "theory 1 ± 0.15"),
        _row(ds, f"{law_key}_depth_spread_N0_", f"L-spread, N = {int(ds.neurons.values[-1])}", "spread")]), loc="lower right")
    style.panel_title(ax, letter, title)


def _kac_rice(ax, ds) -> None:
    """(g) Measured / infinite-width Kac–Rice density against Σ 1/N_ℓ: depth enters through the widths only."""
    colors = _depth_colors(ds)
    for var, filled in [("breakpoints_per_length", True), ("nodal_length_per_area", False)]:
        for n0 in ds.input_dim.values:
            for depth in ds.depth.values:
                sel = dict(input_dim=n0, depth=depth)
                x = ds.inverse_width_sum.sel(**sel).transpose("neurons").values
                y = ds[f"{var}_gp_ratio_mean"].sel(**sel).transpose("neurons").values
                err = ds[f"{var}_gp_ratio_se"].sel(**sel).transpose("neurons").values
                ax.errorbar(x, y, yerr=2 * np.nan_to_num(err), fmt=_n0_style(ds, n0)["marker"], ms=4, color=colors[depth],
                            capsize=1.5, lw=0.8, mfc=colors[depth] if filled else "white", alpha=0.85)
    ax.axhline(1.0, **style.THEORY)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1, 2, 5)))  # plain 0.02, 0.05, 0.1 … labels, no crowded minor labels
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    style.axis_labels(ax, "Σ_ℓ 1/N_ℓ  (sum of inverse hidden widths)", "measured / infinite-width Kac–Rice density")
    style.annotate(ax, "L = 1: measured / exact Kac–Rice (± 4 SE)\n" + _law_box(ds, [
        _row(ds, "breakpoints_kac_rice_L1_N0_", "1-D breakpoints", "1"),
        _row(ds, "nodal_length_kac_rice_L1_N0_", "2-D nodal length", "1")], fits=False), loc="lower left")
    ax.legend(handles=[Line2D([], [], **style.THEORY, label="Kac–Rice, NNGP K⁽ℓ⁾ = ℓ + 2‖x‖²/N₀"),
                       Line2D([], [], marker="o", color="0.3", ls="", label="1-D breakpoints (filled)"),
                       Line2D([], [], marker="o", color="0.3", mfc="white", ls="", label="2-D nodal length (open)")],
              loc="upper right", fontsize="x-small")
    ax.set_ylim(0.0, max(ax.get_ylim()[1], 1.2) + 0.3)
    style.panel_title(ax, "g", "depth enters through Σ 1/N_ℓ (Thm 4.2.1's constant)")


def _key(ax, ds, refs: list, fit_min_width: int) -> None:
    """The shared key of panels (c)–(g) and a note on the networks, in the eighth panel."""
    ax.set_axis_off()
    handles = [Line2D([], [], color=col, lw=2.5, label=f"L = {int(depth)} hidden layers") for depth, col in _depth_colors(ds).items()]
    handles += [Line2D([], [], color="0.3", ms=5, **_n0_style(ds, n0),
                       label=f"N₀ = {int(n0)}" + (" (the input plane)" if n0 == 2 else " (random plane through 0)"))
                for n0 in ds.input_dim.values]
    ax.legend(handles=handles + refs, loc="upper left", bbox_to_anchor=(-0.05, 1.05), fontsize="x-small",
              title="panels (c)–(g)", title_fontsize="small", frameon=False, labelspacing=0.45)
    ax.text(-0.03, -0.04,
            f"{ds.sizes['seed']} networks per point, error bars ±2 SE. Hanin eq. 4.0.1:\n"
            "W ~ N(0, 2)/√fan_in, b ~ N(0, 1); N neurons split evenly over\n"
            f"L layers (first N mod L one wider); fits use layers ≥ {fit_min_width} wide.",
            transform=ax.transAxes, fontsize="x-small", va="bottom")
