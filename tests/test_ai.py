"""The AI commanders behave as their doctrine says, in set-up situations, and never give an illegal order."""

from __future__ import annotations

import pytest

from sim.ai import commanders_for, play_side
from sim.ai.russian import russian_orders
from sim.ai.ukrainian import ukrainian_orders
from sim.model import WargameModel
from sim.orders import Assault, Commit, Rotate, Withdraw
from tests.conftest import hexid, refresh, set_weather, unit


def _kinds(orders, cls):
    return [o for o, _ in orders if isinstance(o, cls)]


def test_assaults_rise_when_drones_are_blind():
    counts = {}
    for state in ("clear", "fog"):
        m = WargameModel("pokrovsk-axis-2024", seed=1)
        set_weather(m, state)
        counts[state] = len(_kinds(russian_orders(m), Assault))
    assert counts["fog"] > counts["clear"], counts


@pytest.mark.parametrize("trigger, leaves", [("early", True), ("late", False)])
def test_pocket_is_left_at_the_early_trigger_and_held_at_the_late_one(make_model, trigger, leaves):
    m = make_model(front_col=45, units=[unit("bn", "ua_squad", 44, 10)],
                   params={"ai.ua.withdraw_trigger": trigger, "gap.g0": 0.0})
    set_weather(m, "clear")
    bn = m.units["bn"]
    bn.status.supply = "op_encircled"
    m.pocket_info = [{"side": "ua", "hexes": 1, "area_km2": 0.2, "units": 1, "personnel": 8.0, "corridor_km": 5.0}]
    withdrawals = _kinds(ukrainian_orders(m), Withdraw)
    assert bool(withdrawals) is leaves
    if leaves:
        assert withdrawals[0].unit == "bn"


def test_reserves_go_to_the_breach(make_model):
    m = make_model(front_col=50, units=[unit("line", "ua_squad", 49, 20), unit("res", "ua_assault_squad", 36, 20,
                                                                           reserve=True)],
                   params={"gap.g0": 0.0})
    set_weather(m, "clear")
    breach = hexid(m, 40, 20)
    m.control[breach] = 0.35
    m.presence[0, breach] = 30.0
    refresh(m)
    commits = _kinds(ukrainian_orders(m), Commit)
    assert commits and commits[0].unit == "res"
    assert m.map.distance(commits[0].to, breach) <= 1


def test_tired_units_are_rotated_by_a_reserve(make_model):
    m = make_model(front_col=45, units=[unit("tired", "ua_squad", 44, 10, cohesion=35.0),
                                        unit("fresh", "ua_squad", 42, 10, reserve=True)], params={"gap.g0": 0.0})
    set_weather(m, "clear")
    rotations = _kinds(ukrainian_orders(m), Rotate)
    assert [(o.unit, o.relief) for o in rotations] == [("tired", "fresh")]


def test_every_ai_order_has_a_reason_and_none_is_refused():
    m = WargameModel("pokrovsk-axis-2024", seed=2)
    for _ in range(6):
        for side in ("ru", "ua"):
            for order, reason in play_side(m, side):
                assert reason and order.unit in reason or m.units[order.unit].name in reason
        m.end_turn()
    assert getattr(m, "ai_refused", []) == []
    assert m.ai_reasons[(0, "ru")]


@pytest.mark.slow
@pytest.mark.parametrize("scenario", ["tutorial", "pokrovsk-2025", "fortress-belt-2026", "pokrovsk-axis-2024"])
def test_ai_against_ai_plays_every_scenario_to_its_end_without_an_illegal_order(scenario):
    m = WargameModel(scenario, seed=5)
    m.run(commanders=commanders_for(m))
    assert m.over and m.turn == m.scenario.calendar.turns or m.outcome["level"] == "decisive"
    assert getattr(m, "ai_refused", []) == []


@pytest.mark.slow
@pytest.mark.parametrize("random_side", ["ru", "ua"])
def test_a_random_player_loses_clearly_to_each_ai(random_side):
    """Over seeded games of the main scenario, the side giving random orders loses every game (measured: 4 of 4)."""
    from sim.ai.random_player import random_commander

    ai_side = "ua" if random_side == "ru" else "ru"
    wins = 0
    seeds = (0, 1, 2)
    for seed in seeds:
        m = WargameModel("pokrovsk-axis-2024", seed=seed)
        m.run(commanders=[random_commander(random_side, seed), *commanders_for(m, sides=(ai_side,))])
        wins += m.outcome["winner"] == ai_side
    assert wins == len(seeds)
