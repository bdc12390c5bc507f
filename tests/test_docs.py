"""The product carries its own catalogue: every experiment is documented, and nothing points outside the repository."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT
from widenet.registry import EXPERIMENTS

OUTSIDE = re.compile(r"\.\./shared|/work/shared|seeds/README\.md|EXPERIMENTS\.md|ARCHITECTURE\.md")


def test_every_registered_experiment_has_its_section_in_docs_experiments_md():
    text = (ROOT / "docs" / "experiments.md").read_text()
    missing = [exp_id for exp_id in EXPERIMENTS if f"`{exp_id}`" not in text]
    assert not missing, f"docs/experiments.md lacks: {missing}"
    assert "## Errata of the source texts" in text
    assert "docs/experiments.md" in (ROOT / "README.md").read_text()


def test_no_tracked_file_refers_to_a_path_outside_the_repository():
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    hits = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".py", ".md", ".yaml", ".yml", ".smk", ".rst", ".toml", ".txt", ".cfg"} or name == "Snakefile":
            if path.is_file() and path.name != "test_docs.py":
                hits += [f"{name}:{i}" for i, line in enumerate(path.read_text().splitlines(), 1) if OUTSIDE.search(line)]
    assert not hits, f"references outside the repository: {hits}"


def test_the_grid_table_in_the_docs_is_the_one_the_configs_give():
    from widenet import catalogue

    text = (ROOT / "docs" / "experiments.md").read_text()
    table = catalogue.grids_table(ROOT / "conf")
    assert catalogue.with_table(text, table) == text, "run: python -m widenet.catalogue --write"
    assert "| `regions` |" in table and "neurons ∈ {16, 32, 64, 128}" in table  # the quick grid of A9
