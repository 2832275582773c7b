"""Pause, rewind and branch: a game is scenario + parameters + seed + orders + injects, so any turn can be rebuilt.

``rewind(model, turn)`` replays the game's record up to the start of ``turn`` and returns a fresh model there;
giving it other orders or injects is a branch. Saves are `sim.saves`, the one format every part of the game uses.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.model import WargameModel
from sim.saves import SaveError, model_from_save, save_data


def rewind(model: WargameModel, turn: int) -> WargameModel:
    """A new model at the start of ``turn`` of ``model``'s game (its orders and injects replayed)."""
    if not 0 <= turn <= model.turn:
        raise SaveError(f"can only rewind to a turn from 0 to {model.turn}, got {turn}")
    if model.scenario_path is None:
        raise SaveError("this game was built from an in-memory scenario, so it cannot be rebuilt")
    return model_from_save(save_data(model), upto=turn, pending=False)


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
