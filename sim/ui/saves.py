"""Save and load games as versioned JSON.

A game is scenario + parameters + seed + orders (the model is deterministic), so a save holds only those and
loading replays the orders turn by turn. A bad file raises ``SaveError`` with one sentence and is never touched;
writing goes through a temporary file and a rename so a failed write never clobbers the good save.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import WargameModel
from sim.orders import order_from_dict
from sim.scenario import ScenarioError, find_scenario, scenario_hash

FORMAT = "wargame-save"
VERSION = 1


class SaveError(Exception):
    """A save that cannot be written or loaded; the message is one sentence for the player."""


def save_data(model: WargameModel, side: str = "ua", difficulty: str = "normal") -> dict[str, Any]:
    """The save of ``model`` as plain data (orders so far plus this turn's pending orders)."""
    if model.scenario_path is None:
        raise SaveError("this game was built from an in-memory scenario, so it cannot be saved")
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "scenario": model.scenario.id,
                            "scenario_path": str(Path(model.scenario_path).resolve()),
                            "scenario_hash": scenario_hash(model.scenario_path)}
    if isinstance(model.seed, np.random.SeedSequence):
        data.update(seed=None, seed_entropy=int(model.seed.entropy), seed_spawn_key=list(model.seed.spawn_key))
    else:
        data["seed"] = int(model.seed)
    data.update(parameters=dict(model.overrides), side=side, difficulty=difficulty, turn=model.turn,
                orders=model.orders_as_data(),
                pending={s: [o.to_dict() for o in orders] for s, orders in model.pending.items()})
    return data


def save_game(model: WargameModel, path: str | Path, side: str = "ua", difficulty: str = "normal") -> Path:
    """Write the save atomically: a temporary file in the same folder, then a rename over the old save."""
    path = Path(path)
    data = save_data(model, side, difficulty)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SaveError(f"could not write {path}: {exc.strerror or exc}") from None
    return path


def read_save(path: str | Path) -> dict[str, Any]:
    """Read and check the envelope of a save file (format and version), without replaying it."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise SaveError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError:
        raise SaveError(f"{path} is not a saved game (it is not valid JSON; the file may be truncated)") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise SaveError(f"{path} is not a saved game of this wargame (format is not {FORMAT!r})")
    if data.get("version") != VERSION:
        raise SaveError(f"{path} is a version {data.get('version')!r} save; this game reads version {VERSION}")
    for key in ("scenario", "orders"):
        if key not in data:
            raise SaveError(f"{path} is incomplete: it has no {key!r} field")
    return data


def _scenario_path(data: dict[str, Any]) -> Path:
    stored = data.get("scenario_path")
    if stored and Path(stored).exists():
        return Path(stored)
    try:
        return find_scenario(str(data["scenario"]))
    except ScenarioError:
        raise SaveError(f"the save is of scenario {data['scenario']!r}, which is not installed") from None


def model_from_save(data: dict[str, Any], turns: int | None = None, pending: bool = True) -> WargameModel:
    """Rebuild the game of a checked save: replay its orders (only the first ``turns`` turns if given)."""
    from sim.batch.runner import seed_of_save

    path = _scenario_path(data)
    want = data.get("scenario_hash")
    if want and scenario_hash(path) != want:
        raise SaveError(f"scenario {data['scenario']!r} has changed since the game was saved (its file hash differs), "
                        "so the saved orders would not replay the same game")
    try:
        model = WargameModel(path, seed=seed_of_save(data), params=data.get("parameters") or {})
    except (ScenarioError, ValueError, TypeError, KeyError) as exc:
        raise SaveError(f"the save cannot rebuild its game: {exc}") from None
    orders = data["orders"] if turns is None else data["orders"][:turns]
    try:
        for turn in orders:
            for od in turn:
                model.issue(order_from_dict(od))
            model.end_turn()
        if pending and turns is None:
            for ods in (data.get("pending") or {}).values():
                for od in ods:
                    model.issue(order_from_dict(od))
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise SaveError(f"the saved orders do not replay (turn {model.turn + 1}): {exc}") from None
    return model


def load_game(path: str | Path) -> WargameModel:
    """Load a save: check it, rebuild the game and replay its orders; raise SaveError on any problem."""
    return model_from_save(read_save(path))
