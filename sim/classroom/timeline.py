"""Pause, rewind and branch: a game is scenario + parameters + seed + orders + injects, so any turn can be rebuilt.

``rewind(model, turn)`` replays the record up to the start of ``turn`` and returns a fresh model there; giving it
other orders or injects is a branch. Saves use the `game.json` format of `wargame run` with an extra ``injects``
list, so saves from runs, batches and the classroom load the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sim.classroom.injects import Inject, apply_inject
from sim.model import WargameModel
from sim.orders import order_from_dict

SAVE_FORMAT = "wargame-save"


class SaveError(ValueError):
    """A save file that cannot be read or replayed; the message says why."""


def _fresh_seed(seed: int | np.random.SeedSequence) -> int | np.random.SeedSequence:
    """A new SeedSequence equal to ``seed``: spawning from a shared one would change later games."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    return int(seed)


def _blank_like(model: WargameModel) -> WargameModel:
    scenario = model.scenario_path or getattr(model, "scenario_original", model.scenario)
    return WargameModel(scenario, seed=_fresh_seed(model.seed), params=dict(model.overrides))


def injects_of(model: WargameModel) -> list[Inject]:
    return list(getattr(model, "inject_log", []))


def replay(model: WargameModel, orders: list[list[dict]], injects: list[Inject], upto: int | None = None,
           on_turn: Callable[[WargameModel], None] | None = None) -> WargameModel:
    """Play recorded orders and injects into a fresh ``model`` up to the start of turn ``upto`` (default: all).

    Injects of a turn go in before its orders, as a facilitator gives them at the pause. ``on_turn`` is called at
    the start of every turn (and once at the end), e.g. to keep snapshots of control for the review.
    """
    from sim.orders import IllegalOrder

    last = len(orders) if upto is None else min(upto, len(orders))
    by_turn: dict[int, list[Inject]] = {}
    for inj in injects:
        by_turn.setdefault(inj.turn, []).append(inj)
    for t in range(last):
        if on_turn is not None:
            on_turn(model)
        for inj in by_turn.get(t, []):
            apply_inject(model, inj)
        for data in orders[t]:
            try:
                model.issue(order_from_dict(data))
            except IllegalOrder as exc:
                raise SaveError(f"turn {t}: recorded order {data} is refused on replay ({exc}); the save does not "
                                "match this scenario or rules version") from None
        model.end_turn()
        if model.over:
            break
    if not model.over and model.turn == last:  # injects given at the pause after the last recorded turn
        for inj in by_turn.get(last, []):
            apply_inject(model, inj)
    if on_turn is not None:
        on_turn(model)
    return model


def rewind(model: WargameModel, turn: int) -> WargameModel:
    """A new model at the start of ``turn`` of ``model``'s game (its orders and injects replayed)."""
    if not 0 <= turn <= model.turn:
        raise SaveError(f"can only rewind to a turn from 0 to {model.turn}, got {turn}")
    injects = [i for i in injects_of(model) if i.turn < turn]
    return replay(_blank_like(model), model.orders_as_data()[:turn], injects, upto=turn)


def play_on(model: WargameModel, turns: int | None = None,
            commanders: list[Callable[[WargameModel], Any]] | None = None) -> WargameModel:
    """Continue a game with the AI on both sides (or given commanders) for ``turns`` turns or to the end."""
    from sim.ai import commanders_for

    cmds = commanders if commanders is not None else commanders_for(model)
    stop = None if turns is None else model.turn + turns
    while not model.over and (stop is None or model.turn < stop):
        for c in cmds:
            for o in c(model):
                model.try_issue(o)
        model.end_turn()
    return model


def save_of(model: WargameModel) -> dict[str, Any]:
    """The replayable save of a game, in the `game.json` format plus its injects."""
    seed = model.seed
    is_seq = isinstance(seed, np.random.SeedSequence)
    path = model.scenario_path
    return {"format": SAVE_FORMAT, "version": 1, "scenario": model.scenario.id,
            "scenario_path": str(Path(path).resolve()) if path else None,
            "seed": None if is_seq else int(seed),
            "seed_entropy": int(seed.entropy) if is_seq else int(seed),
            "seed_spawn_key": list(seed.spawn_key) if is_seq else [],
            "parameters": dict(model.overrides), "orders": model.orders_as_data(),
            "injects": [i.to_dict() for i in injects_of(model)]}


def read_save(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise SaveError(f"cannot read save {path}: {exc.strerror}") from None
    except ValueError:
        raise SaveError(f"{path} is not a game save (not JSON)") from None
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise SaveError(f"{path} is not a game save (expected format {SAVE_FORMAT!r}, as `wargame run` writes "
                        "in game.json)")
    return data


def write_save(model: WargameModel, path: str | Path) -> Path:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(save_of(model), indent=1))
    tmp.replace(path)
    return path


def model_of_save(save: dict[str, Any], on_turn: Callable[[WargameModel], None] | None = None,
                  upto: int | None = None) -> WargameModel:
    """Rebuild the game a save describes by replaying it."""
    from sim.batch.runner import seed_of_save

    scenario = save.get("scenario_path")
    if not scenario or not Path(scenario).exists():
        scenario = save.get("scenario")
    model = WargameModel(scenario, seed=seed_of_save(save), params=save.get("parameters") or {})
    injects = [Inject.from_dict(d) for d in save.get("injects", [])]
    return replay(model, save.get("orders", []), injects, upto=upto, on_turn=on_turn)


def load_game(path: str | Path, on_turn: Callable[[WargameModel], None] | None = None) -> WargameModel:
    """A save file (or a `wargame run` folder holding game.json) replayed into a model."""
    path = Path(path)
    if path.is_dir():
        path = path / "game.json"
    return model_of_save(read_save(path), on_turn=on_turn)
