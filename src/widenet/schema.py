"""JSON-schema fragments for experiment configs (torch-free: the Snakefile imports this).

Each experiment declares the schema of its ``settings`` and ``grid`` with these helpers; the
composed config is validated against them before any job runs (``widenet.config.validate``).
"""

from __future__ import annotations

ACTIVATIONS = ("relu", "tanh", "erf", "arctan", "softplus", "linear", "shaped_tanh")
PARAMETERIZATIONS = ("ntk", "standard", "meanfield")


def pos_int() -> dict:
    return {"type": "integer", "minimum": 1}


def nonneg_int() -> dict:
    return {"type": "integer", "minimum": 0}


def number(minimum: float | None = None, exclusive: bool = False) -> dict:
    s: dict = {"type": "number"}
    if minimum is not None:
        s["exclusiveMinimum" if exclusive else "minimum"] = minimum
    return s


def choice(values) -> dict:
    return {"enum": list(values)}


def string() -> dict:
    return {"type": "string"}


def boolean() -> dict:
    return {"type": "boolean"}


def axis(item: dict) -> dict:
    """A grid axis: a non-empty list of distinct values, each matching ``item``."""
    return {"type": "array", "items": item, "minItems": 1, "uniqueItems": True}


def int_list(minimum: int = 1) -> dict:
    """A non-empty list of integers ≥ minimum (used inside settings, e.g. depths to plot)."""
    return {"type": "array", "items": {"type": "integer", "minimum": minimum}, "minItems": 1}


def obj(properties: dict, required: bool = True) -> dict:
    """A closed object: unknown keys are errors; every declared key is required by default."""
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        **({"required": sorted(properties)} if required else {}),
    }
