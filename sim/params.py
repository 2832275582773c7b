"""Named rule parameters: every number the rules use, with a unit, a default, a range and a source.

The defaults live in data (`sim/data/parameters.toml`, and `sim/data/doctrine.toml` for the AI); scenarios and batch
runs override them by dotted name (``"infiltration.eta" = 1.2``). Unknown names and out-of-range values are refused
with a message that names the parameter and what was expected.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import SimpleNamespace
from typing import Any

PARAMETER_FILES = ("parameters.toml", "doctrine.toml")


class ParameterError(ValueError):
    """A parameter override that names no parameter or holds a value out of range."""


@dataclass(frozen=True)
class ParamSpec:
    """One named parameter: its default, unit, allowed range and why it has that value."""

    name: str
    default: Any
    unit: str
    source: str
    doc: str
    low: float | None = None
    high: float | None = None
    fitted: str | None = None  # filled in by calibration: the fitted value's range, or None


def _specs_from_toml(data: dict, prefix: str = "") -> dict[str, ParamSpec]:
    specs: dict[str, ParamSpec] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "value" in value:
            rng = value.get("range")
            specs[name] = ParamSpec(
                name=name,
                default=value["value"],
                unit=value.get("unit", "1"),
                source=value.get("source", ""),
                doc=value.get("doc", ""),
                low=None if rng is None else rng[0],
                high=None if rng is None else rng[1],
                fitted=value.get("fitted"),
            )
            missing = [k for k in ("unit", "source", "doc") if k not in value]
            if missing:
                raise ParameterError(f"parameter {name} lacks {', '.join(missing)} in the rules data")
        elif isinstance(value, dict):
            specs.update(_specs_from_toml(value, f"{name}."))
        else:
            raise ParameterError(f"parameter {name} must be a table with value, unit, source and doc")
    return specs


@cache
def parameter_specs() -> dict[str, ParamSpec]:
    """All parameters known to the rules and the AI, by dotted name."""
    specs: dict[str, ParamSpec] = {}
    for filename in PARAMETER_FILES:
        text = resources.files("sim.data").joinpath(filename).read_text(encoding="utf-8")
        specs.update(_specs_from_toml(tomllib.loads(text)))
    return specs


def check_value(spec: ParamSpec, value: Any) -> Any:
    """Coerce ``value`` to the type of the default and check it against the range; raise ParameterError if not."""
    default = spec.default
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                value = value.lower() in ("true", "1", "yes")
            value = bool(value)
        elif isinstance(default, int) and not isinstance(default, bool):
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            value = int(value)
        elif isinstance(default, float):
            value = float(value)
        elif isinstance(default, str):
            value = str(value)
        elif isinstance(default, list):
            if isinstance(value, str):
                value = [float(v) for v in value.split(",")]
            if len(value) != len(default):
                raise ValueError
            value = [float(v) for v in value]
    except (TypeError, ValueError):
        raise ParameterError(
            f"parameter {spec.name}: expected {type(default).__name__}"
            + (f" of length {len(default)}" if isinstance(default, list) else "")
            + f" ({spec.unit}), got {value!r}"
        ) from None
    values = value if isinstance(value, list) else [value]
    for v in values:
        numeric = isinstance(v, int | float) and not isinstance(v, bool)
        if numeric and (spec.low is not None and v < spec.low or spec.high is not None and v > spec.high):
            raise ParameterError(
                f"parameter {spec.name}: {v} is out of range, expected {spec.low} to {spec.high} {spec.unit}"
            )
    return value


def resolve(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults with ``overrides`` applied and checked, as a flat {dotted name: value} dict."""
    specs = parameter_specs()
    values = {name: spec.default for name, spec in specs.items()}
    for name, value in (overrides or {}).items():
        if name not in specs:
            close = difflib.get_close_matches(name, specs, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; `wargame params` lists them all"
            raise ParameterError(f"unknown parameter {name!r}{hint}")
        values[name] = check_value(specs[name], value)
    return values


def as_namespace(values: dict[str, Any]) -> SimpleNamespace:
    """Nested attribute access (``p.infiltration.eta``) for fast, readable use inside the rules."""
    root = SimpleNamespace()
    for name, value in values.items():
        node = root
        *groups, leaf = name.split(".")
        for group in groups:
            if not hasattr(node, group):
                setattr(node, group, SimpleNamespace())
            node = getattr(node, group)
        setattr(node, leaf, value)
    return root


def parse_assignment(text: str) -> tuple[str, str]:
    """Split ``name=value`` from the command line; raise ParameterError when it is not of that form."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ParameterError(f"expected name=value, got {text!r}")
    return name.strip(), value.strip()
