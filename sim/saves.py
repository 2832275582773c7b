"""Saved games: one versioned JSON format for the game window, the classroom, `wargame run` and batches.

A save holds what defines a game (scenario, its file hash, seed, parameter overrides, every resolved turn's orders,
the White Cell's injects) plus the orders given so far this turn and a few settings of whoever saved it. Loading
replays it: the model is deterministic, so the replay is the game. Writing is atomic (a temporary file renamed over
the old save), and a file that cannot be used is refused with one sentence, never touched.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.model import WargameModel
from sim.orders import IllegalOrder, order_from_dict
from sim.scenario import ScenarioError, find_scenario, scenario_hash

FORMAT = "wargame-save"
VERSION = 1


class SaveError(ValueError):
    """A save that cannot be written, read or replayed; the message is one sentence for the user."""


def save_data(model: WargameModel, **settings: Any) -> dict[str, Any]:
    """The save of ``model`` as plain data; ``settings`` (side, difficulty...) are stored alongside."""
    path = model.scenario_path
    data: dict[str, Any] = {"format": FORMAT, "version": VERSION, "scenario": model.scenario.id,
                            "scenario_path": str(Path(path).resolve()) if path else None,
                            "scenario_hash": scenario_hash(path) if path else None}
    seed = model.seed
    if isinstance(seed, np.random.SeedSequence) and seed.spawn_key:  # a batch run: root seed and its index
        data.update(seed=None, seed_entropy=int(seed.entropy), seed_spawn_key=[int(k) for k in seed.spawn_key])
    elif isinstance(seed, np.random.SeedSequence):  # SeedSequence(n) is the same stream as seed n
        data.update(seed=int(seed.entropy), seed_entropy=int(seed.entropy), seed_spawn_key=[])
    else:
        data.update(seed=int(seed), seed_entropy=int(seed), seed_spawn_key=[])
    data.update(parameters=dict(model.overrides), turn=model.turn, orders=model.orders_as_data(),
                pending={s: [o.to_dict() for o in orders] for s, orders in model.pending.items()},
                injects=[i.to_dict() for i in getattr(model, "inject_log", [])], **settings)
    return data


def write_save(data: dict[str, Any], path: str | Path) -> Path:
    """Write save data atomically: a temporary file in the same folder, then a rename over the old save."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SaveError(f"could not write {path}: {exc.strerror or exc}") from None
    return path


def save_game(model: WargameModel, path: str | Path, **settings: Any) -> Path:
    """Save ``model`` to ``path`` (atomically)."""
    if model.scenario_path is None:
        raise SaveError("this game was built from an in-memory scenario, so it cannot be saved")
    return write_save(save_data(model, **settings), path)


def read_save(path: str | Path) -> dict[str, Any]:
    """Read and check a save's envelope without replaying it; a `wargame run` folder means its game.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "game.json"
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


def seed_of_save(data: dict[str, Any]) -> int | np.random.SeedSequence:
    """The seed to rebuild a saved game with: the plain int, or a batch run's SeedSequence."""
    if data.get("seed") is not None:
        return int(data["seed"])
    return np.random.SeedSequence(int(data["seed_entropy"]), spawn_key=tuple(data.get("seed_spawn_key", ())))


def _scenario_path(data: dict[str, Any]) -> Path:
    stored = data.get("scenario_path")
    if stored and Path(stored).exists():
        return Path(stored)
    try:
        return find_scenario(str(data["scenario"]))
    except ScenarioError:
        raise SaveError(f"the save is of scenario {data['scenario']!r}, which is not installed") from None


def model_from_save(data: dict[str, Any], upto: int | None = None, pending: bool = True,
                    on_turn: Callable[[WargameModel], None] | None = None) -> WargameModel:
    """Rebuild the game of a checked save by replaying it, to the start of turn ``upto`` if given.

    Each turn's injects go in before its orders, as the White Cell gives them at the pause. ``on_turn`` is called
    at the start of every replayed turn and once at the end (the review keeps snapshots that way).
    """
    from sim.classroom.injects import Inject, InjectError, apply_inject

    path = _scenario_path(data)
    want = data.get("scenario_hash")
    if want and scenario_hash(path) != want:
        raise SaveError(f"scenario {data['scenario']!r} has changed since the game was saved (its file hash differs), "
                        "so the saved orders would not replay the same game")
    try:
        model = WargameModel(path, seed=seed_of_save(data), params=data.get("parameters") or {})
        injects = [Inject.from_dict(d) for d in data.get("injects") or []]
    except (ScenarioError, InjectError, ValueError, TypeError, KeyError) as exc:
        raise SaveError(f"the save cannot rebuild its game: {exc}") from None
    orders = data["orders"]
    last = len(orders) if upto is None else min(upto, len(orders))
    by_turn: dict[int, list] = {}
    for inj in injects:
        by_turn.setdefault(inj.turn, []).append(inj)
    try:
        for t in range(last):
            if on_turn is not None:
                on_turn(model)
            for inj in by_turn.get(t, []):
                apply_inject(model, inj)
            for od in orders[t]:
                model.issue(order_from_dict(od))
            model.end_turn()
            if model.over:
                break
        if not model.over and model.turn == last:  # injects given at the pause after the last recorded turn
            for inj in by_turn.get(last, []):
                apply_inject(model, inj)
        if pending and upto is None and not model.over:
            for ods in (data.get("pending") or {}).values():
                for od in ods:
                    model.issue(order_from_dict(od))
    except (IllegalOrder, InjectError, ValueError, TypeError, AttributeError, KeyError) as exc:
        raise SaveError(f"the saved game does not replay (turn {model.turn + 1}): {exc}; the save does not match "
                        "this scenario or rules version") from None
    if on_turn is not None:
        on_turn(model)
    return model


def load_game(path: str | Path, on_turn: Callable[[WargameModel], None] | None = None) -> WargameModel:
    """Load a save (or a `wargame run` folder): check it, rebuild the game and replay it."""
    return model_from_save(read_save(path), on_turn=on_turn)
