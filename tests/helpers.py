"""Run an experiment's cells in-process (the same code the Snakemake jobs run) and aggregate."""

from __future__ import annotations

from pathlib import Path

from widenet import cells, config, store

ROOT = Path(__file__).resolve().parents[1]


def run_experiment(exp_id: str, tmp_path: Path, overrides: list[str] = ()) -> "xarray.Dataset":  # noqa: F821
    cfg = config.compose(list(overrides), conf_dir=ROOT / "conf")
    datasets = {}
    name = cfg["experiment"][exp_id]["settings"].get("dataset")
    if name:
        from widenet.datasets import make

        datasets[name] = store.write(make(name, cfg["datasets"][name]), tmp_path / f"dataset-{name}.nc")
    paths = [
        store.write(cells.run_cell(c, device="cpu", datasets=datasets), tmp_path / exp_id / f"{key}.nc")
        for key, c in config.cells(cfg, exp_id).items()
    ]
    return cells.aggregate(config.experiment_config(cfg, exp_id), paths)
