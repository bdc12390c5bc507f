"""Self-explaining xarray stores: one atomic writer, provenance attributes, self-checks."""

from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import xarray as xr
import yaml

import widenet

ENGINE = "netcdf4"


def git_commit(cwd: str | Path | None = None) -> str:
    """HEAD's commit hash (with ``+dirty`` for a modified tree), or "unknown" outside a checkout."""
    try:
        run = lambda *args: subprocess.run(  # noqa: E731
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        commit = run("rev-parse", "HEAD")
        dirty = run("status", "--porcelain", "--untracked-files=no")
        return commit + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


CONVENTIONS = "CF-1.11"


def utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def package_version(name: str) -> str:
    """Installed version of a distribution, read from its metadata (importing torch costs ~1 s)."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def history_line(step: str, when: str | None = None) -> str:
    """One CF ``history`` line: ``<UTC time> widenet <version>: <step>``."""
    return f"{when or utc_now()} widenet {widenet.__version__}: {step}"


def cells_history(parts: list[xr.Dataset]) -> str:
    """One ``history`` line summarising the cell stores an aggregate combines (first to last creation)."""
    created = sorted(p.attrs.get("created", "?") for p in parts)
    devices = ",".join(sorted({p.attrs.get("device", "unknown") for p in parts}))
    return f"{created[0]} to {created[-1]} widenet {widenet.__version__}: computed {len(parts)} cells on {devices}"


def provenance(*, experiment: str, source: str, config: dict, device: str, wall_time_s: float,
               step: str | None = None, history: str = "") -> dict:
    """Global attributes every store carries, following the CF conventions (CF-1.11, §2.6.2).

    ``source`` (the argument) names the texts and sections the experiment reproduces; it is stored as
    CF ``references``, while the ``source`` attribute names the software that produced the data.
    ``history`` holds earlier lines (e.g. ``cells_history``); the line of this ``step`` (default: the
    cell's key, or "aggregate") is appended. Torch is never imported here: figure and aggregate jobs
    do not pay for it.
    """
    from widenet.registry import EXPERIMENTS

    commit, torch_version, now = git_commit(), package_version("torch"), utc_now()
    step = step or (f"cell {config['cell']}" if "cell" in config else "aggregate and fit laws")
    exp = EXPERIMENTS.get(experiment)
    return {
        "Conventions": CONVENTIONS,
        "title": f"{experiment}: {exp.title}" if exp else experiment,
        "source": f"widenet {widenet.__version__} (git {commit}), torch {torch_version}, "
                  f"python {platform.python_version()}",
        "history": "\n".join(filter(None, [history, history_line(f"{step} on {device}", now)])),
        "references": source,
        "comment": "Units follow UDUNITS-2; '1' marks dimensionless quantities.",
        "experiment": experiment,
        "config": yaml.safe_dump(config, sort_keys=False),
        "widenet_version": widenet.__version__,
        "git_commit": commit,
        "torch_version": torch_version,
        "python_version": platform.python_version(),
        "device": device,
        "wall_time_s": float(wall_time_s),
        "created": now,
    }


def check_self_explaining(ds: xr.Dataset) -> None:
    """Every data variable and non-index coordinate needs a ``long_name``; raise naming the culprits."""
    missing = [str(n) for n, v in {**ds.data_vars, **ds.coords}.items() if "long_name" not in v.attrs]
    if missing:
        raise ValueError(f"store variables without a long_name attribute: {', '.join(sorted(missing))}")


def atomic_path(path: Path):
    """A temp file beside ``path`` with the mode a plain ``open`` would give (mkstemp makes it 0600)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return tmp


def write(ds: xr.Dataset, path: str | Path) -> Path:
    """Write ``ds`` atomically: a temp file in the same directory, then ``os.replace``.

    A crash mid-write leaves any previous store at ``path`` intact.
    """
    check_self_explaining(ds)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = atomic_path(path)
    try:
        ds.to_netcdf(tmp, engine=ENGINE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read(path: str | Path) -> xr.Dataset:
    """Load a store fully into memory (the file is closed on return)."""
    with xr.open_dataset(path, engine=ENGINE) as ds:
        return ds.load()


def config_of(ds: xr.Dataset) -> dict:
    """The resolved config recorded in a store's provenance."""
    return yaml.safe_load(ds.attrs["config"])
