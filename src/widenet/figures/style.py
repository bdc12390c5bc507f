"""The one shared figure style: theme, sizes, series colours, law annotations, saving.

Importing this module (or any figure module) changes no global matplotlib state: the backend is
left alone and the theme is applied only inside ``context()``, which every plot function enters
through ``@themed``. Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so
rendering needs no GUI backend and leaves no figure registered with pyplot.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import matplotlib
import matplotlib.style
import numpy as np
from matplotlib.figure import Figure

from widenet import laws, store

PANEL = (4.6, 3.6)  # inches per panel
DPI = 160  # of saved files
THEORY = dict(color="black", linestyle="--", linewidth=1.2)
# seaborn's "ticks"/"paper"/"colorblind" theme as shipped with matplotlib (no seaborn import needed); its
# marker edge width 0 made unfilled markers ("x", open circles and squares) invisible: edges are drawn
THEME = ["seaborn-v0_8-ticks", "seaborn-v0_8-paper", "seaborn-v0_8-colorblind",
         {"figure.dpi": 110, "savefig.dpi": DPI, "axes.titlesize": "medium", "legend.frameon": False,
          "lines.markeredgewidth": 1.0}]


def context():
    """The widenet theme as a context: ``with style.context(): ...`` (rcParams restored on exit)."""
    return matplotlib.style.context(THEME)


def themed(plot):
    """Decorator: run a plot function ``plot(ds) -> Figure`` inside ``context()``."""

    @functools.wraps(plot)
    def wrapper(*args, **kwargs):
        with context():
            return plot(*args, **kwargs)

    return wrapper


def figure(n_panels: int, *, title: str, rows: int = 1):
    """A figure with ``n_panels`` axes (a), (b), … and a suptitle (call inside ``context()``)."""
    cols = -(-n_panels // rows)
    fig = Figure(figsize=(PANEL[0] * cols, PANEL[1] * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.remove()
    fig.suptitle(title)
    return fig, list(axes[:n_panels])


def panel_title(ax, letter: str, text: str) -> None:
    ax.set_title(f"({letter}) {text}", loc="left")


def palette(n: int):
    """``n`` colours sampled from viridis, avoiding its two ends (as seaborn.color_palette does)."""
    return [matplotlib.colormaps["viridis"](t) for t in np.linspace(0, 1, n + 2)[1:-1]]


def colors_by(values) -> dict:
    """One ``palette`` colour per value (e.g. per width, small to large)."""
    values = list(values)
    return dict(zip(values, palette(len(values))))


def cycle_colors() -> list:
    """The theme's series colours (call inside ``context()``)."""
    return matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


def annotate(ax, text: str, loc: str = "lower left") -> None:
    """A boxed note in a corner of ``ax`` (measured slopes and their theory values)."""
    pos = {"lower left": (0.03, 0.03, "left", "bottom"), "upper right": (0.97, 0.97, "right", "top"),
           "upper left": (0.03, 0.97, "left", "top"), "lower right": (0.97, 0.03, "right", "bottom")}[loc]
    ax.text(pos[0], pos[1], text, transform=ax.transAxes, ha=pos[2], va=pos[3], fontsize="small",
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="0.7"))


def law_text(ds, name: str, fmt: str = "{description}: {measured:.3f} (theory {theory:g})") -> str:
    law = laws.get(ds, name)
    return fmt.format(**law.__dict__) + (" ✓" if law.ok else " ✗")


def axis_labels(ax, xlabel: str, ylabel: str, *, xlog: int | None = None, ylog: bool = False) -> None:
    """Label both axes; ``xlog`` is the base of a log x axis, ``ylog`` a log₁₀ y axis."""
    if xlog:
        ax.set_xscale("log", base=xlog)
    if ylog:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def save(fig, *paths: str | Path) -> None:
    """Save ``fig`` to each path atomically (temp file in the same directory, then rename).

    The layout engine runs for the first file only: its positions (in inches, independent of the
    format) are kept for the others, which saves a third of a figure job's rendering time."""
    for i, path in enumerate(map(Path, paths)):
        if i == 1:
            fig.set_layout_engine("none")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.atomic_path(path)
        try:
            with context():
                fig.savefig(tmp, dpi=DPI)
            os.replace(tmp, path)
        finally:
            Path(tmp).unlink(missing_ok=True)
