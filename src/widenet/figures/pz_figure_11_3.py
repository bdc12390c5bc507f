"""B4 pz-figure-11-3: Petersen–Zech Figure 11.3 — the draws before and after training."""

from __future__ import annotations

from widenet import laws, store
from widenet.figures import style


def _draws(ax, ds, var, color):
    for curve in ds[var].values:
        ax.plot(ds.x, curve, color=color, linewidth=0.5, alpha=0.35)
    ax.plot(ds.x, ds[var].mean("draw"), color="black", linestyle="--", linewidth=1.4, label="mean of the draws")
    ax.plot(ds.train_x, ds.train_y, "o", color="red", ms=6, zorder=5, label="training data")
    ax.set_xlabel("input x")
    ax.set_ylabel("network output Φ(x)")


@style.themed
def plot(ds):
    """(a) 80 draws at init with the NNGP ±2 std band; (b) the same draws after GD: all pass through the data."""
    s = store.config_of(ds)["settings"]
    n, steps = ds.sizes["draw"], ds.sizes["step"] - 1
    fig, (a, b) = style.figure(2, title=f"B4 pz-figure-11-3 — {n} networks Φ(x) = vᵀarctan(Ux + b) + c, "
                                        f"n = {int(ds.width)} (Petersen–Zech Fig. 11.3)")
    _draws(a, ds, "output_before", "tab:blue")
    band = 2 * ds.init_std_grid
    a.plot(ds.x, band, color="0.25", linestyle=":", linewidth=1.6, label="±2·std Φ(x), NNGP formula")
    a.plot(ds.x, -band, color="0.25", linestyle=":", linewidth=1.6)
    a.legend(fontsize="small", loc="upper left", frameon=True, framealpha=0.9)
    at = ", ".join(f"{v:g}" for v in ds.std_x.values)
    style.annotate(a, style.law_text(ds, "init_std", f"std Φ(x), x ∈ {{{{{at}}}}}: max rel. error {{measured:.3f}}"),
                   loc="lower right")
    style.panel_title(a, "a", "at initialization")
    _draws(b, ds, "output_after", "tab:orange")
    b.set_ylim(a.get_ylim())
    b.legend(fontsize="small", loc="upper left")
    literal = laws.get(ds, "literal_loss_fails")
    style.annotate(b, f"loss (1/m)Σ(Φ(x_i) − y_i)², h = 1/n, {steps} steps\n"
                      + style.law_text(ds, "max_train_residual", "max |residual| = {measured:.1e}")
                      + f"\nliteral loss Σ(Φ − y)² at h = 1/n: {literal.measured:.0f}/{n} draws diverge",
                   loc="lower right")
    style.panel_title(b, "b", "after training")
    return fig
