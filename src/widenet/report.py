"""Report captions: each figure's fitted laws against their theory values, as reStructuredText."""

from __future__ import annotations

import re
from pathlib import Path

from widenet import laws, store
from widenet.registry import EXPERIMENTS

# reST inline markup: |…| substitutions, *emphasis*, `roles`, name_ references, [1]_ footnotes, \ escapes
RST_SPECIAL = re.compile(r"([\\`*_|\[\]<>])")


def escape(text: str) -> str:
    """``text`` as literal reST: every inline-markup character backslash-escaped (``|cos|`` stays ``|cos|``)."""
    return RST_SPECIAL.sub(r"\\\1", str(text))


def law_line(law: laws.Law) -> str:
    verdict = "agrees" if law.ok else "DISAGREES"
    return (f"- {escape(law.description)}: measured **{law.measured:.4g}**, theory {law.theory:.4g} "
            f"± {law.tolerance:.2g} ({verdict})")


def caption(path: str | Path) -> str:
    """Caption of the figure rendered from store ``path``: title, source, and every law."""
    ds = store.read(path)
    exp = EXPERIMENTS[ds.attrs["experiment"]]
    lines = [f"**{escape(exp.id)}** — {escape(exp.title)}. Source: {escape(exp.source)}.", ""]
    lines += [law_line(law) for law in laws.read(ds)] or ["- (no fitted laws in this store)"]
    profile = store.config_of(ds).get("profile", "?")
    lines += ["", escape(f"Profile {profile}; widenet {ds.attrs['widenet_version']}, "
                         f"commit {ds.attrs['git_commit'][:12]}, device {ds.attrs['device']}.")]
    return "\n".join(lines)
