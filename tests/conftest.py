"""Fixtures for the rules and engine tests: small scenario files written into tmp_path.

`make_scenario(units=[...], ...)` writes a scenario TOML (and, when a front is asked for, a start-control CSV next
to it) and returns its path; `make_model(...)` builds a WargameModel from one. Units are given with `unit(id, type,
col, row, ...)`. A front is drawn with `front_col`: Russia holds every hex at or east of that column, Ukraine the
rest. Helpers set the weather (`set_weather`) and recompute derived fields after a test changes the state by hand
(`refresh`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.geo.hexmap import NAMED_MAPS, load_map
from sim.model import WargameModel

SCALE_OF = {"tactical": "tactical", "operational": "operational"}
TURN_DAYS = {"tactical": 1, "operational": 7}


def unit(uid: str, utype: str, col: int, row: int, **extra: Any) -> dict[str, Any]:
    """A scenario unit entry at an explicit hex."""
    return {"id": uid, "type": utype, "at": {"col": col, "row": row}, **extra}


def at(col: int, row: int) -> dict[str, int]:
    return {"col": col, "row": row}


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {v!r} to TOML")


def _key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() else json.dumps(k)


def _table(name: str, data: dict[str, Any]) -> str:
    return f"[{name}]\n" + "".join(f"{_key(k)} = {_toml_value(v)}\n" for k, v in data.items())


def scenario_text(*, units: list[dict], base: str = "tactical", turns: int = 20, turn_days: int | None = None,
                  start: str = "2025-07-01", default_control: float = 0.0, control_file: str | None = None,
                  presence: list[dict] = (), fortifications: list[dict] = (), obstacles: list[dict] = (),
                  supply: dict[str, list] | None = None, parameters: dict[str, Any] | None = None,
                  objectives: list[dict] = (), replacements: list[dict] = (), reinforcements: list[dict] = (),
                  offensives: list[dict] = (), scenario_id: str = "test") -> str:
    """The TOML text of a small scenario."""
    parts = [
        f'id = "{scenario_id}"\ntitle = "Test scenario"\nscale = "{SCALE_OF[base]}"\ndescription = "written by a test"\n',
        _table("map", {"base": base}),
        _table("calendar", {"start": dt.date.fromisoformat(start), "turn_days": turn_days or TURN_DAYS[base],
                            "turns": turns}),
        _table("sides.ru", {"name": "Russia"}),
        _table("sides.ua", {"name": "Ukraine"}),
    ]
    st: dict[str, Any] = {"default_control": float(default_control)}
    if control_file:
        st["control"] = control_file
    if presence:
        st["presence"] = list(presence)
    parts.append(_table("start", st))
    parts.append(_table("supply", supply or {"ru": ["edge:east"], "ua": ["edge:west"]}))
    if parameters:
        parts.append(_table("parameters", parameters))
    for key, rows in (("units", units), ("fortifications", fortifications), ("obstacles", obstacles),
                      ("objectives", objectives), ("replacements", replacements),
                      ("reinforcements", reinforcements), ("offensives", offensives)):
        for row in rows:
            parts.append(f"[[{key}]]\n" + "".join(f"{_key(k)} = {_toml_value(v)}\n" for k, v in row.items()))
    return "\n".join(parts)


def write_control_csv(path: Path, base: str, control: np.ndarray) -> None:
    hm = load_map(NAMED_MAPS[base])
    lines = ["col,row,control_ru"]
    lines += [f"{int(hm.col[h])},{int(hm.row[h])},{float(control[h]):.6f}" for h in range(hm.n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def front_control(base: str, front_col: int | Callable) -> np.ndarray:
    """Start control: Russia (1.0) at or east of ``front_col``, Ukraine (0.0) west of it; or a callable."""
    hm = load_map(NAMED_MAPS[base])
    if callable(front_col):
        return np.asarray(front_col(hm), dtype=float)
    return np.where(hm.col >= front_col, 1.0, 0.0)


def write_scenario(directory: Path, name: str, *, front_col: int | Callable | None = None,
                   base: str = "tactical", **kw) -> Path:
    """Write ``name``.toml (and its start-control CSV when ``front_col`` is given) into ``directory``."""
    if front_col is not None:
        csv_name = f"{name}-control.csv"
        write_control_csv(directory / csv_name, base, front_control(base, front_col))
        kw["control_file"] = csv_name
    path = directory / f"{name}.toml"
    path.write_text(scenario_text(base=base, **kw), encoding="utf-8")
    return path


@pytest.fixture
def make_scenario(tmp_path):
    """Write a small scenario into tmp_path: make_scenario(units=[...], front_col=..., base=..., ...) -> path."""
    counter = {"n": 0}

    def make(**kw) -> Path:
        counter["n"] += 1
        return write_scenario(tmp_path, f"scenario{counter['n']}", **kw)

    return make


@pytest.fixture
def make_model(make_scenario):
    """Build a model from a fresh small scenario: make_model(units=[...], seed=0, params={...}, **scenario)."""

    def make(*, seed: int = 0, params: dict[str, Any] | None = None, **kw) -> WargameModel:
        return WargameModel(make_scenario(**kw), seed=seed, params=params)

    return make


@pytest.fixture
def pg():
    """pygame initialised for one test (headless), and shut down after it, cached fonts first."""
    import os

    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import pygame

    from sim.ui.game import shutdown

    pygame.init()
    yield
    shutdown()


def hexid(m: WargameModel, col: int, row: int) -> int:
    h = m.map.hex_id(col, row)
    assert h >= 0, (col, row)
    return int(h)


def set_weather(m: WargameModel, state: str) -> None:
    """Make this turn's (already rolled) weather ``state`` every day, and every later turn too."""
    from sim.rules import movement, weather

    m.forced_weather = state
    m.weather = weather.summarise(m.p, [state] * m.turn_days, m.date, state)
    movement.invalidate(m)


def refresh(m: WargameModel) -> None:
    """Recompute the fields derived from control and units after a test changed them by hand."""
    from sim.rules import isr, movement, supply

    movement.invalidate(m)
    isr.resolve(m)
    supply.resolve(m)
    movement.invalidate(m)
