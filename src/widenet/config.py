"""Compose the Hydra config under ``conf/``, validate it, and expand grids into cells.

Torch-free: the Snakefile calls ``compose`` once per invocation, before the DAG is built. Hydra and
jsonschema are imported inside the functions that use them, so cell jobs (which only need
``stream_seed``) do not pay for them.
Every error is a ``ConfigError`` that names the offending key and what is allowed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from pathlib import Path

from widenet.registry import DATASET_KINDS, EXPERIMENTS
from widenet.schema import choice, obj

GROUPS = ("profile",)
DEVICE_PATTERN = r"^(auto|cpu|cuda(:[0-9]+)?|mps)$"


class ConfigError(ValueError):
    """An invalid configuration; the message names the key and the allowed values."""


def default_conf_dir() -> Path:
    return Path.cwd() / "conf"


def profiles(conf_dir: Path) -> list[str]:
    return sorted(p.stem for p in (Path(conf_dir) / "profile").glob("*.yaml"))


def _as_value_overrides(overrides: list[str]) -> list[str]:
    """Turn ``a.b=v`` into ``++a.b=v`` so unknown keys reach the schema (which lists allowed keys)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(list(overrides))
    except HydraException as err:
        raise ConfigError(f"override syntax: {err}") from None
    out = []
    for text, ov in zip(overrides, parsed):
        key = ov.key_or_group
        if ov.is_sweep_override():
            text = _sweep_as_list(text, ov)
        plain = ov.package is None and not text.startswith(("+", "~"))
        out.append(text if key in GROUPS or not plain else "++" + text)
    return out


GRID_KEY = re.compile(r"^experiment\.[^.]+\.grid\.[^.]+$")


def _sweep_as_list(text: str, ov) -> str:
    """A sweep on a grid axis (``experiment.X.grid.width=64,128`` or ``range(16,65,16)``) as that list.

    The cells are the grid's product anyway, so a sweep there means "these values"; a sweep on
    any other key stays an error.
    """
    from hydra.core.override_parser.types import ChoiceSweep, RangeSweep

    key = ov.key_or_group
    if not GRID_KEY.match(key):
        raise ConfigError(
            f"override {text!r}: sweep syntax is only read on a grid axis (experiment.<id>.grid.<axis>); "
            f"give a list, e.g. {key}=[1,2,3]"
        )
    if not isinstance(ov.value(), (ChoiceSweep, RangeSweep)):
        raise ConfigError(f"override {text!r}: a grid axis takes a list, a,b,c or range(start,stop[,step])")
    values = list(ov.sweep_iterator())
    return f"{text.split('=', 1)[0]}={json.dumps(values)}"


def compose(overrides: list[str] | tuple[str, ...] = (), conf_dir: str | Path | None = None) -> dict:
    """Compose ``conf/config.yaml`` with Hydra ``overrides``; return the validated plain dict."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    conf_dir = Path(conf_dir or default_conf_dir()).resolve()
    if not (conf_dir / "config.yaml").is_file():
        raise ConfigError(f"no config.yaml in config directory {str(conf_dir)!r}")
    overrides = list(overrides)
    for text in overrides:
        if text.split("=", 1)[0].lstrip("+~") == "profile" and "=" in text:
            name = text.split("=", 1)[1]
            if name not in profiles(conf_dir):
                raise ConfigError(f"unknown profile {name!r}; allowed: {', '.join(profiles(conf_dir))}")
    try:
        value_overrides = _as_value_overrides(overrides)
        with initialize_config_dir(config_dir=str(conf_dir), version_base=None):
            cfg = hydra_compose("config", overrides=value_overrides + _unlisted_experiments(conf_dir))
        _apply_profile_blocks(cfg, value_overrides, conf_dir)
        data = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=True)
    except (HydraException, OmegaConfBaseException) as err:
        raise ConfigError(f"config error: {err}") from None
    validate(data, conf_dir)
    return data


def _unlisted_experiments(conf_dir: Path) -> list[str]:
    """``+experiment@experiment.<id>=<id>`` for every registered experiment with a ``conf/experiment/<id>.yaml``
    that config.yaml's defaults list does not name: an experiment's conf file is all the config it needs."""
    import yaml

    defaults = yaml.safe_load((conf_dir / "config.yaml").read_text()).get("defaults") or []
    listed = {key.split("@experiment.", 1)[1] for item in defaults if isinstance(item, dict) for key in item
              if "@experiment." in key}
    return [f"+experiment@experiment.{exp_id}={exp_id}" for exp_id in EXPERIMENTS
            if exp_id not in listed and (conf_dir / "experiment" / f"{exp_id}.yaml").is_file()]


def _apply_profile_blocks(cfg, value_overrides: list[str], conf_dir: Path) -> None:
    """Per experiment: its conf file < an entry in ``conf/profile/<profile>.yaml`` < the file's own
    ``profiles.<profile>`` block < command-line overrides. (Hydra loads an experiment without a defaults
    line after the profile, so its file's values are merged under the profile entry again here.)"""
    import yaml
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf, open_dict

    allowed = profiles(conf_dir)
    entries = (yaml.safe_load((conf_dir / "profile" / f"{cfg.profile}.yaml").read_text()) or {}).get("experiment") or {}

    given = {}
    for ov in OverridesParser.create().parse_overrides(value_overrides):
        if ov.key_or_group.startswith("experiment.") and not ov.is_delete():
            value = OmegaConf.select(cfg, ov.key_or_group)
            given[ov.key_or_group] = OmegaConf.to_container(value) if OmegaConf.is_config(value) else value
    with open_dict(cfg):
        for exp_id, node in cfg.get("experiment", {}).items():
            blocks = node.pop("profiles", None) or {}
            unknown = sorted(set(blocks) - set(allowed))
            if unknown:
                raise ConfigError(f"experiment.{exp_id}.profiles: unknown profile {unknown[0]!r}; allowed: {', '.join(allowed)}")
            node.merge_with(entries.get(exp_id) or {}, blocks.get(cfg.profile) or {})
        for key, value in given.items():
            OmegaConf.update(cfg, key, value, merge=False)


def _schema(conf_dir: Path) -> dict:
    experiments = {
        exp.id: {
            **obj({"settings": obj(exp.settings), "grid": obj(exp.grid), "dtype": choice(["float32", "float64"])}),
            "required": ["grid", "settings"],
        }
        for exp in EXPERIMENTS.values()
    }
    datasets = {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                obj({"kind": {"const": kind}, **fields}) for kind, fields in DATASET_KINDS.items()
            ]
        },
    }
    return obj(
        {
            "profile": choice(profiles(conf_dir)),
            "experiments": {"type": "array", "items": choice(EXPERIMENTS), "minItems": 1, "uniqueItems": True},
            "device": {"type": "string", "pattern": DEVICE_PATTERN},
            "dtype": choice(["float32", "float64"]),
            "seed": {"type": "integer", "minimum": 0},
            "datasets": datasets,
            "experiment": obj(experiments),
            "cell_limits": obj({"mem_mb": {"type": "integer", "minimum": 1}, "runtime": {"type": "integer", "minimum": 1}}),
        }
    )


def _key_path(path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _explain(err) -> str:
    key = _key_path(err.absolute_path)
    schema = err.schema
    if err.validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(schema.get("properties", {})))
        allowed = ", ".join(sorted(schema.get("properties", {}))) or "(none)"
        return f"unknown key {'.'.join(filter(None, [key if key != '<root>' else '', extra[0]]))!r}; allowed keys here: {allowed}"
    if err.validator == "enum":
        return f"{key}: {err.instance!r} is not allowed; allowed: {', '.join(map(str, schema['enum']))}"
    if err.validator == "minItems" and err.instance == []:
        return f"{key}: empty grid/list; give at least one value"
    if err.validator in ("minimum", "exclusiveMinimum"):
        bound = schema.get("minimum", schema.get("exclusiveMinimum"))
        rel = "≥" if err.validator == "minimum" else ">"
        return f"{key}: {err.instance!r} is out of range; must be {rel} {bound}"
    if err.validator == "type":
        return f"{key}: {err.instance!r} has the wrong type; expected {schema['type']}"
    if err.validator == "required":
        return f"{key}: {err.message}"
    if err.validator == "oneOf" and isinstance(err.instance, dict):
        kinds = ", ".join(DATASET_KINDS)
        return f"{key}: invalid dataset (kind must be one of: {kinds}, with its fields): {err.instance!r}"
    return f"{key}: {err.message}"


def validate(cfg: dict, conf_dir: str | Path | None = None) -> None:
    """Raise ``ConfigError`` naming the first offending key (schema, then cross-field checks)."""
    import jsonschema

    conf_dir = Path(conf_dir or default_conf_dir())
    validator = jsonschema.Draft202012Validator(_schema(conf_dir))
    errors = sorted(validator.iter_errors(cfg), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        deepest = max(errors, key=lambda e: len(e.absolute_path))
        raise ConfigError(_explain(_leaf(deepest)))
    for exp_id, exp in cfg["experiment"].items():
        name = exp["settings"].get("dataset")
        if name is not None and name not in cfg["datasets"]:
            raise ConfigError(
                f"experiment.{exp_id}.settings.dataset: unknown dataset {name!r}; "
                f"allowed: {', '.join(cfg['datasets']) or '(none defined under datasets)'}"
            )
        problem = EXPERIMENTS[exp_id].check(exp) if EXPERIMENTS[exp_id].check else None
        if problem:
            raise ConfigError(f"experiment.{exp_id}.{problem}")
    _check_cell_limits(cfg)


def _check_cell_limits(cfg: dict) -> None:
    """Refuse a cell whose estimated memory or runtime (``widenet.resources``) exceeds ``cell_limits``."""
    from widenet import resources

    for exp_id in cfg["experiment"]:
        for cell in cells(cfg, exp_id).values():
            reason = resources.check(cell, cfg["cell_limits"])
            if reason:
                raise ConfigError(reason)


def _leaf(err):
    """For oneOf/anyOf errors descend to the most specific sub-error when there is one."""
    while err.context:
        err = max(err.context, key=lambda e: len(e.absolute_path))
    return err


# --- cells ---------------------------------------------------------------------------------------
def format_value(value) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def cell_key(axes: dict) -> str:
    """File-name key of a cell, e.g. ``width-64__depth-2`` (axes in the registry's order)."""
    return "__".join(f"{name}-{format_value(value)}" for name, value in axes.items())


def cells(cfg: dict, exp_id: str) -> dict[str, dict]:
    """All cells of an experiment: key → the cell's own resolved config (nothing of other cells)."""
    exp = cfg["experiment"][exp_id]
    names = list(EXPERIMENTS[exp_id].grid)
    out = {}
    for values in itertools.product(*(exp["grid"][n] for n in names)):
        axes = dict(zip(names, values))
        key = cell_key(axes)
        out[key] = {
            "experiment": exp_id,
            "cell": key,
            "axes": axes,
            "params": {**exp["settings"], **axes},
            "seed": cfg["seed"],
            "dtype": exp.get("dtype", cfg["dtype"]),
        }
    return out


def stream_seed(*parts) -> int:
    """A 63-bit seed derived from (experiment, cell, seed, stream): independent, reproducible streams."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def experiment_config(cfg: dict, exp_id: str) -> dict:
    """What the aggregate store records: the experiment's settings and grid plus global keys."""
    return {
        "experiment": exp_id,
        "profile": cfg["profile"],
        "seed": cfg["seed"],
        "dtype": cfg["dtype"],
        **cfg["experiment"][exp_id],  # an experiment's own dtype, if set, wins
    }


