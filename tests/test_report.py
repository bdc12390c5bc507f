"""Report captions render as reStructuredText without errors, whatever the law descriptions contain."""

from __future__ import annotations

from types import SimpleNamespace

import jinja2
import numpy as np
import pytest
import xarray as xr
from docutils.core import publish_parts
from docutils.utils import SystemMessage

from widenet import laws, report, store
from conftest import ROOT

NASTY = "max |‖Xᵀα‖₂/√(eᵀK⁻¹e) − 1| of ‖Δθ*‖ at w_λ and *x*, `code`, [1]_ and a \\ backslash"


def _render(caption: str) -> str:
    """What ``snakemake --report`` does with a caption: Jinja on workflow/report/figure.rst, then docutils;
    halt_level 2 turns every reST warning or error (e.g. "Undefined substitution referenced") into an exception."""
    template = (ROOT / "workflow" / "report" / "figure.rst").read_text()
    text = jinja2.Environment().from_string(template).render(snakemake=SimpleNamespace(params=SimpleNamespace(caption=caption)))
    return publish_parts(text, writer="html", settings_overrides={"halt_level": 2, "report_level": 5})["body"]


def test_unescaped_bars_are_a_rest_error():
    with pytest.raises(SystemMessage, match="Undefined substitution"):
        _render("- |cos| between gradients")


def test_caption_with_rest_markup_characters_renders_literally(tmp_path):
    ds = xr.Dataset({"v": ("i", np.zeros(2), {"long_name": "a value", "units": "1"})},
                    coords={"i": ("i", [0, 1], {"long_name": "index"})},
                    attrs={**store.provenance(experiment="min-norm-distance", source="000 Amari", config={"profile": "quick"},
                                              device="cpu", wall_time_s=0.0)})
    ds = laws.attach(ds, [laws.Law("nasty", 0.5, 0.5, 0.1, NASTY)])
    html = _render(report.caption(store.write(ds, tmp_path / "s.nc")))
    assert "|‖Xᵀα‖₂/√(eᵀK⁻¹e) − 1|" in html and "‖Δθ*‖ at w_λ and *x*, `code`, [1]_ and a \\ backslash" in html
    assert "<strong>0.5</strong>" in html and "min-norm-distance" in html


def test_escape_leaves_plain_text_alone():
    assert report.escape("p·Var(z) at p = 64") == "p·Var(z) at p = 64"
    assert report.escape("|cos|") == "\\|cos\\|"
