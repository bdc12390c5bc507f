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


TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def test_cell_store_carries_provenance_and_its_own_config():
    ds = cells.run_cell(_tiny_cell(), device="cpu")
    assert ds.attrs["experiment"] == "sphere-projection"
    # CF global attributes: references = the texts, source = the software, one history line per step
    assert ds.attrs["Conventions"] == "CF-1.11"
    assert ds.attrs["title"].startswith("sphere-projection: Projecting the uniform sphere")
    assert "Amari" in ds.attrs["references"] and "Theorem 2" in ds.attrs["references"]
    assert re.fullmatch(r"widenet 0\.\d+\.\d+ \(git \S+\), torch 2\.\S+, python 3\.\S+", ds.attrs["source"])
    assert re.fullmatch(TIMESTAMP + r" widenet \S+: cell p-32 on cpu", ds.attrs["history"])
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


@pytest.fixture(scope="module")
def nngp_store(tmp_path_factory):
    """A small nngp-depth aggregate of the cells 'erf' and 'shaped_tanh' (string axis values of different lengths)."""
    tmp_path = tmp_path_factory.mktemp("nngp-store")
    cfg = config.compose(["experiment.nngp-depth.grid.activation=[erf,shaped_tanh]",
                          "experiment.nngp-depth.settings.shaped_depth=60", "experiment.nngp-depth.settings.n_angles=19",
                          "experiment.nngp-depth.settings.max_depth=5", "experiment.nngp-depth.settings.show_depths=[1]"],
                         conf_dir=ROOT / "conf")
    paths = [store.write(cells.run_cell(c, device="cpu"), tmp_path / f"{key}.nc") for key, c in config.cells(cfg, "nngp-depth").items()]
    return store.read(store.write(cells.aggregate(config.experiment_config(cfg, "nngp-depth"), paths), tmp_path / "agg.nc"))


def test_aggregate_keeps_string_axis_values_of_different_lengths(nngp_store):
    """Cells 'erf' and 'shaped_tanh' combine without truncating either name."""
    assert sorted(nngp_store.activation.values.tolist()) == ["erf", "shaped_tanh"]
    assert laws.get(nngp_store, "shaped_tanh_eq_3_3_7").measured < 0.05


def test_aggregate_store_has_cf_attributes_and_a_history_line_per_step(nngp_store):
    attrs = nngp_store.attrs
    assert attrs["Conventions"] == "CF-1.11" and attrs["title"].startswith("nngp-depth: ")
    assert "Pleiss Figure 1" in attrs["references"] and attrs["source"].startswith("widenet ")
    cells_line, aggregate_line = attrs["history"].splitlines()  # one line per step: the cells, then the aggregate
    assert re.fullmatch(TIMESTAMP + " to " + TIMESTAMP + r" widenet \S+: computed 2 cells on cpu", cells_line)
    assert re.fullmatch(TIMESTAMP + r" widenet \S+: aggregate and fit laws on cpu", aggregate_line)


def test_cells_history_summarises_the_cells_of_an_aggregate():
    parts = [xr.Dataset(attrs={"created": t, "device": d}) for t, d in
             [("2026-01-02T00:00:00Z", "cpu"), ("2026-01-01T00:00:00Z", "cuda:0"), ("2026-01-03T00:00:00Z", "cpu")]]
    assert re.fullmatch(r"2026-01-01T00:00:00Z to 2026-01-03T00:00:00Z widenet \S+: computed 3 cells on cpu,cuda:0",
                        store.cells_history(parts))


UNITS_LITERAL = re.compile(r"""["']units["']\s*[:,]\s*["']([^"']*)["']|\bunits\s*=\s*["']([^"']*)["']""")


@pytest.fixture(scope="module")
def udunits():
    from pyudunits2 import UnitSystem

    return UnitSystem.from_udunits2_xml()


def test_udunits_parser_rejects_what_is_not_a_unit(udunits):
    udunits.unit("1 / s")
    with pytest.raises(Exception):
        udunits.unit("1 / input unit")


def test_every_units_string_the_code_writes_parses_as_udunits(udunits):
    found = {}
    for path in sorted((ROOT / "src" / "widenet").rglob("*.py")):
        for match in UNITS_LITERAL.finditer(path.read_text()):
            found.setdefault(match.group(1) if match.group(1) is not None else match.group(2), path.name)
    assert {"1", "s"} <= set(found), "the scan finds the units the stores use"
    bad = {}
    for unit, where in found.items():
        try:
            udunits.unit(unit)
        except Exception as err:  # noqa: BLE001 (pyudunits2 raises several types)
            bad[unit] = f"{where}: {type(err).__name__}"
    assert not bad, f"units strings that UDUNITS-2 cannot parse (use '1' for dimensionless): {bad}"


REGIONS_TINY = ["experiment.regions.grid.input_dim=[2]", "experiment.regions.grid.neurons=[8]",
                "experiment.regions.settings.depths=[1,2]", "experiment.regions.settings.n_seeds=2",
                "experiment.regions.settings.min_width=2", "experiment.regions.settings.fit_min_width=2",
                "experiment.regions.settings.grid_resolutions=[9]", "experiment.regions.settings.n_segments=4",
                "experiment.regions.settings.example_neurons=6", "experiment.regions.settings.example_depths=[1]"]


def test_numeric_variables_of_built_stores_have_udunits_units(udunits, nngp_store, tmp_path):
    from helpers import run_experiment

    regions = run_experiment("regions", tmp_path, REGIONS_TINY)  # densities per unit length and area of input space
    bad = []
    for ds in (nngp_store, cells.run_cell(_tiny_cell(), device="cpu"), regions):
        for name, var in {**ds.data_vars, **ds.coords}.items():
            if var.dtype.kind not in "iufb":
                continue
            if name in ds.data_vars and "units" not in var.attrs:
                bad.append(f"{ds.attrs['experiment']}.{name}: no units")
            elif "units" in var.attrs:
                try:
                    udunits.unit(var.attrs["units"])
                except Exception:  # noqa: BLE001 (pyudunits2 raises several types)
                    bad.append(f"{ds.attrs['experiment']}.{name}: {var.attrs['units']!r}")
    assert not bad, f"numeric variables without UDUNITS-2 units: {bad}"


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
