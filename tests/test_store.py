"""Stores: atomic writes, self-explaining variables, provenance, bitwise reproducibility on CPU."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pytest
import xarray as xr
import yaml

from widenet import cells, config, laws, store
from conftest import ROOT


def _tiny_cell(p=32):
    cfg = config.compose(["experiment.sphere-projection.settings.n_points=256"], conf_dir=ROOT / "conf")
    return config.cells(cfg, "sphere-projection")[f"p-{p}"]


def test_same_config_gives_bitwise_identical_data_on_cpu(tmp_path):
    cfg = _tiny_cell()
    a = store.read(store.write(cells.run_cell(cfg, device="cpu"), tmp_path / "a.nc"))
    b = store.read(store.write(cells.run_cell(cfg, device="cpu"), tmp_path / "b.nc"))
    for name in a.data_vars:
        if name != "cell_wall_time_s":  # provenance: wall time differs by design
            assert a[name].values.tobytes() == b[name].values.tobytes(), name
    other = cells.run_cell(_tiny_cell(64), device="cpu")
    assert not np.array_equal(a.ks_normal.values, other.ks_normal.values), "cells draw from different streams"


def test_cell_store_carries_provenance_and_its_own_config():
    ds = cells.run_cell(_tiny_cell(), device="cpu")
    assert ds.attrs["experiment"] == "sphere-projection"
    assert "Amari" in ds.attrs["source"]
    assert yaml.safe_load(ds.attrs["config"])["axes"] == {"p": 32}
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?|unknown", ds.attrs["git_commit"])
    assert ds.attrs["torch_version"].startswith("2.")
    assert ds.attrs["device"] == "cpu" and ds.attrs["wall_time_s"] > 0
    assert ds.p.values.tolist() == [32]


def test_git_commit_is_unknown_outside_a_checkout(tmp_path):
    assert store.git_commit(tmp_path) == "unknown"


def _dataset(value):
    return xr.Dataset({"v": ("i", np.full(3, value), {"long_name": "a value", "units": "1"})},
                      coords={"i": ("i", np.arange(3), {"long_name": "index"})})


def test_failed_write_keeps_the_old_store_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "s.nc"
    store.write(_dataset(1.0), path)

    def explode(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", explode)
    with pytest.raises(OSError, match="disk full"):
        store.write(_dataset(2.0), path)
    monkeypatch.undo()
    assert store.read(path).v.values.tolist() == [1.0, 1.0, 1.0]
    assert [p.name for p in tmp_path.iterdir()] == ["s.nc"]


def test_write_refuses_variables_without_long_name(tmp_path):
    ds = _dataset(1.0)
    ds["w"] = ("i", np.zeros(3))
    with pytest.raises(ValueError, match="without a long_name attribute: w"):
        store.write(ds, tmp_path / "s.nc")
    assert not list(tmp_path.iterdir())


def test_laws_round_trip_through_a_store(tmp_path):
    fitted = [laws.Law("slope", -0.48, -0.5, 0.1, "error slope"), laws.Law("bound", 3.0, 0.0, 0.0, "below bound", holds=True)]
    ds = store.read(store.write(laws.attach(_dataset(0.0), fitted), tmp_path / "s.nc"))
    back = laws.read(ds)
    assert [law.name for law in back] == ["slope", "bound"]
    assert back[0].measured == -0.48 and back[0].ok and back[1].ok
    assert not laws.Law("x", -0.3, -0.5, 0.1, "off").ok


def test_loglog_slope_recovers_a_power_law():
    x = np.array([16, 32, 64, 128, 256.0])
    slope, intercept, se = laws.loglog_slope(x, 3.0 * x**-0.5)
    assert slope == pytest.approx(-0.5, abs=1e-12) and intercept == pytest.approx(np.log(3.0))


def _requirement_names(items):
    alias = {"pytorch": "torch", "netcdf4": "netcdf4"}
    names = set()
    for item in items:
        name = re.split(r"[<>=!\[ ]", item.strip(), maxsplit=1)[0].lower()
        names.add(alias.get(name, name))
    return names


def test_environment_yml_lists_the_pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = _requirement_names(project["dependencies"] + project["optional-dependencies"]["test"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = [d for d in env["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip"))]
    assert _requirement_names(conda) == wanted
    # the version bounds agree as well
    bounds = lambda items: {_requirement_names([i]).pop(): re.sub(r"^[A-Za-z0-9_.\-\[\]]+", "", i.replace(" ", "")) for i in items}  # noqa: E731
    assert bounds(conda) == bounds(project["dependencies"] + project["optional-dependencies"]["test"])


def test_aggregate_keeps_string_axis_values_of_different_lengths(tmp_path):
    """Cells 'erf' and 'shaped_tanh' combine without truncating either name."""
    cfg = config.compose(["experiment.nngp-depth.grid.activation=[erf,shaped_tanh]",
                          "experiment.nngp-depth.settings.shaped_depth=60", "experiment.nngp-depth.settings.n_angles=19",
                          "experiment.nngp-depth.settings.max_depth=5", "experiment.nngp-depth.settings.show_depths=[1]"],
                         conf_dir=ROOT / "conf")
    paths = [store.write(cells.run_cell(c, device="cpu"), tmp_path / f"{key}.nc") for key, c in config.cells(cfg, "nngp-depth").items()]
    ds = store.read(store.write(cells.aggregate(config.experiment_config(cfg, "nngp-depth"), paths), tmp_path / "agg.nc"))
    assert sorted(ds.activation.values.tolist()) == ["erf", "shaped_tanh"]
    assert laws.get(ds, "shaped_tanh_eq_3_3_7").measured < 0.05


def test_stores_and_figures_get_the_usual_file_mode(tmp_path):
    """The atomic writer's temp file (mkstemp: 0600) ends as a normally readable file."""
    import os

    from widenet.figures import style

    path = store.write(_dataset(1.0), tmp_path / "s.nc")
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    fig, _ = style.figure(1, title="t")
    style.save(fig, tmp_path / "f.png")
    assert (tmp_path / "f.png").stat().st_mode & 0o777 == 0o666 & ~umask
