"""Report captions: each figure's fitted laws against their theory values, as reStructuredText."""

from __future__ import annotations

from pathlib import Path

from widenet import laws, store
from widenet.registry import EXPERIMENTS


def caption(path: str | Path) -> str:
    """Caption of the figure rendered from store ``path``: title, source, and every law."""
    ds = store.read(path)
    exp = EXPERIMENTS[ds.attrs["experiment"]]
    lines = [f"**{exp.id}** — {exp.title}. Source: {exp.source}.", ""]
    fitted = laws.read(ds)
    for law in fitted:
        verdict = "agrees" if law.ok else "DISAGREES"
        lines.append(
            f"- {law.description}: measured **{law.measured:.4g}**, theory {law.theory:.4g} "
            f"± {law.tolerance:.2g} ({verdict})"
        )
    if not fitted:
        lines.append("- (no fitted laws in this store)")
    lines += ["", f"Profile {store.config_of(ds).get('profile', '?')}; widenet {ds.attrs['widenet_version']}, "
              f"commit {ds.attrs['git_commit'][:12]}, device {ds.attrs['device']}."]
    return "\n".join(lines)
