"""AI commanders for both sides: doctrine you can read, tune and argue with.

A commander is a function of the model and its side that returns orders, each with a one-line reason. It uses
only what a player could: the model's public queries, the odds previews and ordinary orders through `issue`.
Doctrine numbers live in `sim/data/doctrine.toml` (`ai.ru.*`, `ai.ua.*`) and can be swept like any parameter.
"""

from __future__ import annotations

from collections.abc import Callable

from sim.ai.russian import russian_orders
from sim.ai.ukrainian import ukrainian_orders
from sim.orders import Order

Commander = Callable[["object"], list[tuple[Order, str]]]
DIFFICULTY = {"easy": 0.5, "normal": 1.0, "hard": 1.5}


def play_side(model, side: str, difficulty: str = "normal") -> list[tuple[Order, str]]:
    """Give the side's orders for this turn; return (order, reason) for each order accepted."""
    make = russian_orders if side == "ru" else ukrainian_orders
    accepted = []
    for order, reason in make(model, DIFFICULTY.get(difficulty, 1.0)):
        refusal = model.try_issue(order)
        if refusal is None:
            accepted.append((order, reason))
        else:  # the AI should never give an illegal order: keep a record so tests can prove it
            model.__dict__.setdefault("ai_refused", []).append((model.turn, order, refusal))
    log = getattr(model, "ai_reasons", None)
    if log is None:
        log = model.ai_reasons = {}
    log[(model.turn, side)] = accepted
    return accepted


def commanders_for(model, sides=("ru", "ua"), difficulty: str = "normal") -> list[Callable]:
    """Callables for `WargameModel.run(commanders=...)`: the AI plays each of ``sides``."""
    def make(side):
        def command(m):
            play_side(m, side, difficulty)
            return []
        return command
    return [make(s) for s in sides]
