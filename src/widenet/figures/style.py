"""The one shared figure style: theme, sizes, series colours, law annotations, saving."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from widenet import laws, store  # noqa: E402

PANEL = (4.6, 3.6)  # inches per panel
THEORY = dict(color="black", linestyle="--", linewidth=1.2)


def apply() -> None:
    # seaborn's "ticks"/"paper"/"colorblind" theme as shipped with matplotlib: importing seaborn
    # (and scipy.stats with it) cost 1 s in every figure job
    plt.style.use(["seaborn-v0_8-ticks", "seaborn-v0_8-paper", "seaborn-v0_8-colorblind"])
    plt.rcParams.update({"figure.dpi": 110, "savefig.dpi": 160, "axes.titlesize": "medium", "legend.frameon": False})


def figure(n_panels: int, *, title: str, rows: int = 1):
    """A figure with ``n_panels`` axes (a), (b), … and a suptitle."""
    apply()
    cols = -(-n_panels // rows)
    fig, axes = plt.subplots(rows, cols, figsize=(PANEL[0] * cols, PANEL[1] * rows), squeeze=False, layout="constrained")
    axes = axes.ravel()
    for ax in axes[n_panels:]:
        ax.remove()
    fig.suptitle(title)
    return fig, list(axes[:n_panels])


def panel_title(ax, letter: str, text: str) -> None:
    ax.set_title(f"({letter}) {text}", loc="left")


def palette(n: int):
    """``n`` colours sampled from viridis, avoiding its two ends (as seaborn.color_palette does)."""
    return [plt.get_cmap("viridis")(t) for t in np.linspace(0, 1, n + 2)[1:-1]]


def annotate(ax, text: str, loc: str = "lower left") -> None:
    """A boxed note in a corner of ``ax`` (measured slopes and their theory values)."""
    pos = {"lower left": (0.03, 0.03, "left", "bottom"), "upper right": (0.97, 0.97, "right", "top"),
           "upper left": (0.03, 0.97, "left", "top"), "lower right": (0.97, 0.03, "right", "bottom")}[loc]
    ax.text(pos[0], pos[1], text, transform=ax.transAxes, ha=pos[2], va=pos[3], fontsize="small",
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="0.7"))


def law_text(ds, name: str, fmt: str = "{description}: {measured:.3f} (theory {theory:g})") -> str:
    law = laws.get(ds, name)
    return fmt.format(**law.__dict__) + (" ✓" if law.ok else " ✗")


def save(fig, *paths: str | Path) -> None:
    """Save ``fig`` to each path atomically (temp file in the same directory, then rename)."""
    for path in map(Path, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.atomic_path(path)
        try:
            fig.savefig(tmp)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
    plt.close(fig)
