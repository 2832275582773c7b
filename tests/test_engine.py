"""The rules engine as a whole: comparative behaviour over many seeds, determinism, invariants under random orders,
and a headless game on the operational map with the AI on both sides.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.ai import commanders_for
from sim.ai.russian import russian_orders
from sim.ai.ukrainian import ukrainian_orders
from sim.model import WargameModel
from sim.orders import Assault, Commit, DigIn, Infiltrate, Move, Reserve, Rotate, Strike, Withdraw
from sim.rules.assault import odds
from sim.rules.infiltration import manned
from sim.scenario import WEATHER_STATES
from tests.conftest import at, hexid, refresh, set_weather, unit, write_scenario

NO_GAPS = {"gap.g0": 0.0}
ROOT = Path(__file__).resolve().parents[1]


def gained(m: WargameModel, start: np.ndarray) -> float:
    """Russian control gained since ``start``, in km2."""
    return float((m.control - start).sum() * m.map.area_km2)


# ---------------------------------------------------------------------------------------------------- fortifications
def _assault_game(make_model, *, fort: bool, seed: int, manning: float | None = None) -> WargameModel:
    """A 60-strong Russian group at (30, 40) assaults (29, 40), held by 30 Ukrainians, over open steppe."""
    units = [unit("ru", "assault_detachment", 30, 40, personnel=60), unit("ua", "ua_infantry_battalion", 29, 40,
                                                                          personnel=30)]
    forts = [{"name": "line", "level": 3, "places": [at(29, 40)]}] if fort else []
    params = dict(NO_GAPS)
    if manning is not None:
        params["fortification.manning_per_km"] = manning
    m = make_model(base="operational", front_col=30, units=units, fortifications=forts, params=params, seed=seed,
                   supply={"ru": [at(33, 40)], "ua": [at(25, 40)]})
    set_weather(m, "clear")
    return m


@pytest.mark.slow
def test_unmanned_line_gives_no_bonus_manned_one_does(make_model):
    """Same garrison of 30 in the hex: no works; level-3 works it cannot man (threshold raised to 125); manned works."""
    results = {}
    for case, fort, manning in (("bare", False, None), ("unmanned", True, 50.0), ("manned", True, None)):
        wins, gains, ratios = [], [], []
        for seed in range(20):
            m = _assault_game(make_model, fort=fort, seed=seed, manning=manning)
            t = hexid(m, 29, 40)
            if fort:
                assert bool(manned(m, "ua")[t]) == (case == "manned")
            ratios.append(odds(m, Assault("ru", t))["ratio"])
            c0 = m.control.copy()
            assert m.try_issue(Assault("ru", t)) is None
            events = m.end_turn()
            wins.append(any(e.kind == "assault" and "ground gained" in e.text for e in events))
            gains.append(gained(m, c0))
        results[case] = (np.mean(wins), np.mean(gains), np.mean(ratios))
    bare, unmanned, man = results["bare"], results["unmanned"], results["manned"]
    assert unmanned[2] == pytest.approx(bare[2], rel=1e-12)  # same odds
    assert abs(unmanned[0] - bare[0]) <= 0.1 and abs(unmanned[1] - bare[1]) <= 0.1 * abs(bare[1]) + 0.5
    assert man[2] < bare[2] / 1.5  # posture 1.6 x F 1.3 = 2.08 on the defence
    assert man[0] < bare[0] - 0.25, results
    assert man[1] < bare[1] * 0.7, results


# ---------------------------------------------------------------------------------------------------- fog
def _infiltration_survival(make_model, state: str, seeds: int = 15) -> float:
    units = [unit("ru", "assault_detachment", 31, 40), unit("ua", "ua_infantry_battalion", 28, 40),
             unit("uad", "ua_drone_unit", 27, 40)]
    out = []
    # the sieve's strength is pinned (near the priors), so the case holds whatever the calibrated defaults are
    sieve = {"infiltration.eta": 0.5, "isr.p_hit": 0.12}
    for seed in range(seeds):
        m = make_model(base="operational", front_col=30, units=units, params={**NO_GAPS, **sieve}, seed=seed)
        set_weather(m, state)
        assert m.try_issue(Infiltrate("ru", hexid(m, 29, 40), personnel=120.0)) is None
        ev = next(e for e in m.end_turn() if e.kind == "infiltration")
        out.append(ev.data["surv"] / ev.data["n"])
    return float(np.mean(out))


@pytest.mark.slow
def test_fog_raises_infiltration_survival(make_model):
    clear, fog = _infiltration_survival(make_model, "clear"), _infiltration_survival(make_model, "fog")
    assert fog > clear + 0.15, (clear, fog)
    assert 0.1 < clear < 0.9  # the sieve neither kills all nor lets all through in clear weather


# ---------------------------------------------------------------------------------------------------- pockets
def _pocket_game(make_model, seed: int, cut: bool) -> tuple[WargameModel, list[float]]:
    """A battalion ringed at 2 hexes by Russian-held ground with a one-hex corridor west, which Russia may cut."""
    # the ring is nobody's and cut off from Russian supply, so the abandoned-ground rule would hand it back: off here
    m = make_model(base="operational", units=[unit("ua", "ua_infantry_battalion", 10, 45)],
                   params={**NO_GAPS, "control.vacuum_rate": 0.0}, seed=seed,
                   supply={"ru": ["edge:east"], "ua": [at(2, 45)]})
    h = m.units["ua"].hex
    corridor = hexid(m, 8, 45)
    assert m.map.distance(h, corridor) == 2
    ring = np.flatnonzero(m.map.distances_from(h) == 2)
    m.control[ring[ring != corridor]] = 1.0
    refresh(m)
    coh = [m.units["ua"].status.cohesion]
    m.end_turn()
    coh.append(m.units["ua"].status.cohesion)
    if cut:
        m.control[corridor] = 1.0
    for _ in range(3):
        m.end_turn()
        coh.append(m.units["ua"].status.cohesion)
    return m, coh


def test_cut_road_starves_the_pocket(make_model):
    from sim.rules import supply

    for seed in range(5):
        open_m, open_coh = _pocket_game(make_model, seed, cut=False)
        cut_m, cut_coh = _pocket_game(make_model, seed, cut=True)
        floor = cut_m.p.supply.floor
        h = cut_m.units["ua"].hex
        # with the corridor open the unit is fed; once cut, it lives on the drone and robot floor
        assert open_m.units["ua"].status.supply != "encircled"
        assert open_m.supply_ratio[1, h] > floor
        assert supply.corridor_width(open_m, "ua", np.array([h])) == 1
        assert cut_m.units["ua"].status.supply == "encircled"
        assert cut_m.supply_ratio[1, h] == pytest.approx(floor)
        assert cut_m.pocket[1, h] >= 0
        assert cut_m.metrics[-1]["ua_encircled"] == 1 and cut_m.metrics[-1]["ua_pocket_personnel"] > 0
        # cohesion: 10 points a week in the pocket
        assert open_coh[:2] == pytest.approx(cut_coh[:2])
        assert cut_coh[-1] <= open_coh[-1] - 25, (open_coh, cut_coh)
        assert all(b < a for a, b in zip(cut_coh[1:], cut_coh[2:], strict=False))


# ---------------------------------------------------------------------------------------------------- drones
def _front_units(rows=range(36, 46, 3)):
    units = []
    for i, r in enumerate(rows):
        units.append(unit(f"ru{i}", "assault_detachment", 31, r))
        units.append(unit(f"ua{i}", "ua_infantry_battalion", 29, r))
    return units


@pytest.mark.slow
def test_more_drone_capacity_slows_the_attacker(make_model):
    units = _front_units() + [unit("rud", "ru_drone_unit", 34, 40), unit("uad", "ua_drone_unit", 26, 40),
                              unit("uad2", "ua_drone_unit", 26, 37)]
    out = {}
    for p_hit in (0.03, 0.3):
        gains = []
        for seed in range(12):
            m = make_model(base="operational", front_col=30, units=units, turns=6, seed=seed,
                           params={"isr.p_hit": p_hit})
            c0 = m.control.copy()
            m.run(commanders=commanders_for(m))
            gains.append(gained(m, c0))
        out[p_hit] = float(np.mean(gains))
    assert out[0.03] > 0  # the attacker gets somewhere against few drones
    assert out[0.3] < 0.7 * out[0.03], out


@pytest.mark.slow
def test_more_drone_units_slow_the_attacker(make_model):
    base = _front_units() + [unit("rud", "ru_drone_unit", 34, 40)]
    out = {}
    for n_drones in (0, 3):
        units = base + [unit(f"uad{i}", "ua_drone_unit", 26, 37 + 3 * i) for i in range(n_drones)]
        gains = []
        for seed in range(10):
            m = make_model(base="operational", front_col=30, units=units, turns=6, seed=seed)
            c0 = m.control.copy()
            m.run(commanders=commanders_for(m))
            gains.append(gained(m, c0))
        out[n_drones] = float(np.mean(gains))
    assert out[3] < 0.8 * out[0], out  # three drone units take at least a fifth off the attacker's gains


# ---------------------------------------------------------------------------------------------------- garrisons
def _turns_to_fall(make_model, garrison: int, seeds: int = 10, cap: int = 12) -> float:
    units = [unit("ru1", "assault_detachment", 30, 40), unit("ru2", "assault_detachment", 30, 39),
             unit("ru3", "assault_detachment", 30, 41), unit("uad", "ua_drone_unit", 26, 40),
             unit("ua", "ua_infantry_battalion", 29, 40, personnel=garrison)]
    out = []
    for seed in range(seeds):
        m = make_model(base="operational", front_col=30, units=units, seed=seed, turns=30)
        t = hexid(m, 29, 40)
        turns = cap + 1
        for turn in range(cap):
            for uid in ("ru1", "ru2", "ru3"):
                u = m.units[uid]
                if u.alive and u.personnel * 0.3 >= 1:
                    m.try_issue(Infiltrate(uid, t, personnel=float(int(u.personnel * 0.3))))
            m.end_turn()
            if m.control[t] >= m.p.control.contested_high:
                turns = turn + 1
                break
        out.append(turns)
    return float(np.mean(out))


@pytest.mark.slow
def test_thinner_garrison_falls_faster(make_model):
    # three detachments feed about 360 people a turn into the hex: 30 defenders are swamped within a few turns,
    # while a 300-strong battalion (and the clearance it does) holds them off far longer
    thin, thick = _turns_to_fall(make_model, 30), _turns_to_fall(make_model, 300)
    assert thin <= 6, thin  # the thin garrison does fall
    assert thick >= thin + 3.0, (thin, thick)


# ---------------------------------------------------------------------------------------------------- determinism
GAME_UNITS = _front_units(range(30, 46, 3)) + [
    unit("rud", "ru_drone_unit", 34, 35), unit("uad", "ua_drone_unit", 25, 35), unit("rus", "storm_detachment", 32, 33),
    unit("rum", "motor_rifle_group", 32, 38), unit("ruf", "ru_fires", 35, 38), unit("uaf", "ua_fires", 24, 38),
    unit("uar", "ua_assault_reserve", 24, 34, reserve=True), unit("uam", "ua_mech_battalion", 27, 36)]
GAME = dict(base="operational", front_col=30, units=GAME_UNITS, start="2025-09-01",
            objectives=[{"name": "Pokrovsk", "at": "Pokrovsk", "radius": 1}],
            fortifications=[{"name": "belt", "level": 2, "line": [at(27, 28), at(27, 46)]}])


def fingerprint(m: WargameModel) -> str:
    h = hashlib.sha256(m.control.tobytes())
    h.update(m.presence.tobytes())
    h.update(json.dumps(m.metrics, sort_keys=True, default=str).encode())
    h.update(json.dumps([e.to_dict() for evs in m.history for e in evs], sort_keys=True, default=str).encode())
    h.update(json.dumps(m.orders_as_data(), sort_keys=True).encode())
    return h.hexdigest()


def play(path, seed: int, turns: int, params=None) -> WargameModel:
    m = WargameModel(path, seed=seed, params=params)
    commanders = commanders_for(m)
    for _ in range(turns):
        for c in commanders:
            c(m)
        m.end_turn()
    return m


@pytest.fixture(scope="module")
def game_scenario(tmp_path_factory):
    return write_scenario(tmp_path_factory.mktemp("game"), "game", turns=25, **GAME)


def test_same_seed_same_game(game_scenario):
    a, b = play(game_scenario, 7, 8), play(game_scenario, 7, 8)
    assert np.array_equal(a.control, b.control)
    assert json.dumps(a.metrics, default=str) == json.dumps(b.metrics, default=str)
    assert [[e.to_dict() for e in evs] for evs in a.history] == [[e.to_dict() for e in evs] for evs in b.history]
    assert a.orders_as_data() == b.orders_as_data()
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(play(game_scenario, 8, 8)) != fingerprint(a)  # the seed matters


def test_same_game_in_a_fresh_process(game_scenario, tmp_path):
    script = tmp_path / "replay.py"
    script.write_text(textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from tests.test_engine import fingerprint, play
        print(fingerprint(play({str(game_scenario)!r}, 7, 8)))
    """))
    env = {**os.environ, "PYTHONHASHSEED": "4242"}  # a different string-hash order than this process
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120,
                         cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == fingerprint(play(game_scenario, 7, 8))


# ---------------------------------------------------------------------------------------------------- invariants
KINDS = ("move", "commit", "infiltrate", "assault", "dig_in", "withdraw", "rotate", "reserve", "strike", "interdict")

ORDER = st.tuples(st.integers(0, 50), st.sampled_from(KINDS), st.integers(-4, 4), st.integers(-4, 4),
                  st.sampled_from([None, 0.05, 0.2, 0.35, 0.9]), st.sampled_from([None, "none", "motorcycle", "car"]),
                  st.integers(0, 50))
GAMES = st.tuples(st.integers(0, 2**31 - 1), st.sampled_from((None, *WEATHER_STATES)),
                  st.lists(st.lists(ORDER, max_size=10), min_size=1, max_size=4))


def make_order(m: WargameModel, spec):
    """An order from drawn numbers; infiltrations and assaults mostly aim at ground the unit's side does not hold."""
    i, kind, dc, dr, frac, vehicle, j = spec
    uids = sorted(m.units)
    uid, other = uids[i % len(uids)], uids[j % len(uids)]
    u = m.units[uid]
    col, row = m.map.coords(u.hex)
    scale = 3 if kind in ("strike", "interdict") else 1
    t = m.map.hex_id(col + dc * scale, row + dr * scale)
    t = u.hex if t < 0 else int(t)
    if kind in ("infiltrate", "assault") and j % 4:
        reach = 1 if kind == "assault" else 2
        near = np.flatnonzero((m.map.distances_from(u.hex) <= reach) & (m.own_share(u.side) < 0.8))
        if near.size:
            t = int(near[(dc + 4 + 9 * (dr + 4)) % near.size])
    if kind == "move":
        return Move(uid, t)
    if kind == "commit":
        return Commit(uid, t)
    if kind == "infiltrate":
        n = None if frac is None else float(max(1, round(u.personnel * frac)))
        return Infiltrate(uid, t, personnel=n, vehicle=vehicle)
    if kind == "assault":
        mates = [x for x in uids if x != uid and m.units[x].side == u.side and m.units[x].alive
                 and m.map.distance(m.units[x].hex, t) == 1]
        support = (mates[j % len(mates)],) if mates and j % 2 else (other,) if j % 5 == 0 and other != uid else ()
        return Assault(uid, t, support=support)
    if kind == "dig_in":
        return DigIn(uid)
    if kind == "withdraw":
        return Withdraw(uid, to=None if frac is None else t)
    if kind == "rotate":
        return Rotate(uid, relief=None if other == uid else other)
    if kind == "reserve":
        return Reserve(uid)
    return Strike(uid, t, mode="interdict" if kind == "interdict" else "strike")


def check_invariants(m: WargameModel) -> None:
    assert (m.presence >= 0).all(), m.presence.min()
    assert np.isfinite(m.presence).all() and np.isfinite(m.control).all()
    assert (m.control >= 0).all() and (m.control <= 1).all()
    for u in m.units.values():
        assert u.personnel >= 0, u
        assert 0 <= u.hex < m.map.n and u.cell.hid == u.hex, u
        assert 0 <= u.status.cohesion <= 100
    for side in ("ru", "ua"):
        b = m.books(side)
        assert b["units"] + b["presence"] + b["lost"] == pytest.approx(b["in"], rel=1e-6), (side, b)
        assert all(v >= 0 for v in m.losses[side].values()), m.losses[side]


SMALL_TACTICAL = dict(
    base="tactical", front_col=47, turns=30,
    units=[unit("r1", "ru_assault_group", 47, 10), unit("r2", "ru_drg", 48, 11), unit("r3", "ru_moto_group", 48, 9),
           unit("r4", "ru_apc_group", 49, 10), unit("r5", "ru_drone_team", 51, 10), unit("r6", "ru_mortar_section", 52, 12),
           unit("u1", "ua_position", 46, 10), unit("u2", "ua_position", 45, 12), unit("u3", "ua_squad", 44, 10),
           unit("u4", "ua_assault_squad", 42, 11, reserve=True), unit("u5", "ua_drone_team", 41, 10),
           unit("u6", "ua_mortar_section", 40, 12)],
    presence=[{"side": "ru", "at": at(45, 10), "personnel": 3.5}, {"side": "ua", "at": at(48, 10), "personnel": 1.5}],
    fortifications=[{"name": "line", "level": 1, "line": [at(45, 6), at(45, 14)]}],
    replacements=[{"side": "ru", "per_week": 20.0}],
)
SMALL_OPERATIONAL = dict(GAME, turns=30, replacements=[{"side": "ru", "per_week": 300.0},
                                                     {"side": "ua", "per_week": 80.0}])


@pytest.fixture(scope="module")
def random_scenarios(tmp_path_factory):
    d = tmp_path_factory.mktemp("random")
    return {"tactical": write_scenario(d, "tac", **SMALL_TACTICAL), "operational": write_scenario(d, "ops", **SMALL_OPERATIONAL)}


def _random_game(path, game) -> None:
    seed, forced, turns = game
    m = WargameModel(path, seed=seed)
    if forced is not None:
        set_weather(m, forced)
    check_invariants(m)
    for orders in turns:
        for spec in orders:
            m.try_issue(make_order(m, spec))
        m.end_turn()
        check_invariants(m)


@settings(max_examples=25, deadline=None)
@given(game=GAMES)
def test_random_orders_keep_the_books_tactical(random_scenarios, game):
    _random_game(random_scenarios["tactical"], game)


@settings(max_examples=25, deadline=None)
@given(game=GAMES)
def test_random_orders_keep_the_books_operational(random_scenarios, game):
    _random_game(random_scenarios["operational"], game)


# ---------------------------------------------------------------------------------------------------- headless game
def test_headless_ai_game_on_the_operational_map(game_scenario):
    m = WargameModel(game_scenario, seed=11)
    refused = []
    min_change = m.p.control.min_event_change
    for turn in range(25):
        for make in (russian_orders, ukrainian_orders):
            for order, reason in make(m):
                why = m.try_issue(order)
                if why is not None:
                    refused.append((turn, order.describe(), reason, why))
        before = m.control.copy()
        events = m.end_turn()
        changed = np.flatnonzero(np.abs(m.control - before) > min_change)
        explained = {e.hex for e in events if e.kind in ("control", "flip", "assault")}
        missing = [(m.hex_label(h), float(before[h]), float(m.control[h])) for h in changed if h not in explained]
        assert not missing, (turn, missing)
        check_invariants(m)
        if m.over:
            break
    assert not refused, refused[:10]
    assert m.turn == 25 and m.over and m.outcome is not None
    kinds = {e.kind for evs in m.history for e in evs}
    assert {"infiltration", "clearance", "control", "move"} <= kinds
    assert m.metrics[-1]["ru_control_km2"] > m.metrics[0]["ru_control_km2"]  # the attack gets somewhere


def test_a_finished_game_is_freed():
    """mesa 3.3.1 would keep every model alive through Agent._ids; a batch worker must not grow without limit."""
    import gc
    import weakref

    m = WargameModel("tutorial", seed=1)
    m.run()
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None


def test_replaying_an_ai_games_orders_gives_the_same_game():
    """What the AI looks at while choosing (reach, odds) must not change the game: saves replay only the orders."""
    from sim.ai import commanders_for
    from sim.orders import order_from_dict

    played = WargameModel("pokrovsk-axis-2024", seed=1)
    commanders = commanders_for(played)
    for _ in range(40):
        for command in commanders:
            command(played)
        played.end_turn()
    replay = WargameModel("pokrovsk-axis-2024", seed=1)
    for turn in played.orders_as_data():
        for order in turn:
            replay.issue(order_from_dict(order))
        replay.end_turn()
    assert np.array_equal(played.control, replay.control)
    assert {u.uid: (u.hex, u.personnel) for u in played.units.values()} == \
        {u.uid: (u.hex, u.personnel) for u in replay.units.values()}
