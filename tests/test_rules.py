"""Hand-worked tests of single rules: each expected value is computed here from the formula and the parameters,
not by calling the code under test a second time.
"""

from __future__ import annotations

import copy
import datetime as dt
import math

import numpy as np
import pytest

from sim import hexgrid
from sim.geo.hexmap import NAMED_MAPS, load_map
from sim.geo.terrain import Terrain
from sim.orders import (
    Assault,
    Commit,
    DigIn,
    IllegalOrder,
    Infiltrate,
    Move,
    Reserve,
    Rotate,
    Strike,
    Withdraw,
)
from sim.params import as_namespace, resolve
from sim.rules import cohesion, control, infiltration, isr, movement, supply, weather
from sim.rules.assault import odds
from sim.rules.infiltration import detection_probability, manned
from sim.rules.isr import StrikePool
from sim.units import SUPPLY_STATES, VEHICLES, unit_types
from tests.conftest import at, hexid, refresh, set_weather, unit

P = as_namespace(resolve())
NO_GAPS = {"gap.g0": 0.0}  # gap events are random; rule tests switch them off


# ---------------------------------------------------------------------------------------------------- detection
@pytest.mark.parametrize("vehicle", VEHICLES)
def test_detection_probability_matches_formula(vehicle):
    eta, i_def, vis, cn, group, km = 0.36, 0.8, 0.25, 0.4, 3, 2.5
    v = VEHICLES.index(vehicle)
    m_veh = P.infiltration.vehicle_detect[v]
    t_exp = P.infiltration.vehicle_exposure[v]
    expected = 1.0 - math.exp(-eta * i_def * vis * cn * m_veh * group ** 0.5 * t_exp * km)
    got = detection_probability(eta, i_def, vis, cn, vehicle, group, km, P)
    assert got == pytest.approx(expected, rel=1e-12)


def test_detection_probability_worked_numbers():
    # on foot, groups of 4, full coverage, clear day, open ground, one 2.5 km hex: 1 - exp(-0.36 * 2 * 2.5)
    assert detection_probability(0.36, 1.0, 1.0, 1.0, "none", 4, 2.5, P) == pytest.approx(1 - math.exp(-1.8))
    # a car (x4 detection, x0.3 exposure) in fog (V 0.25): 1 - exp(-0.36 * 0.25 * 4 * 0.3 * 2 * 2.5)
    assert detection_probability(0.36, 1.0, 0.25, 1.0, "car", 4, 2.5, P) == pytest.approx(1 - math.exp(-0.54))
    # nobody watching: never detected
    assert detection_probability(0.36, 0.0, 1.0, 1.0, "apc", 12, 5.0, P) == 0.0


def test_detection_rises_with_group_size_coverage_and_visibility():
    base = dict(eta=0.36, isr=0.6, visibility=1.0, cn=0.7, vehicle="none", group=3, km=2.5, p=P)
    p0 = detection_probability(**base)
    assert detection_probability(**{**base, "group": 6}) > p0
    assert detection_probability(**{**base, "isr": 0.9}) > p0
    assert detection_probability(**{**base, "visibility": P.weather.visibility.fog}) < p0
    assert detection_probability(**{**base, "cn": P.terrain.concealment[int(Terrain.CITY)]}) < p0


# ---------------------------------------------------------------------------------------------------- strike pool
def _drone_model(make_model, **kw):
    m = make_model(units=[unit("dr", "ua_drone_team", 40, 10), unit("sq", "ua_squad", 44, 10)], params=NO_GAPS,
                   **kw)
    set_weather(m, "clear")
    return m


def test_strike_pool_capacity_formula(make_model):
    m = _drone_model(make_model)
    pool = StrikePool(m, "ua")
    ut = unit_types()["ua_drone_team"]
    assert [u.uid for u in pool.units] == ["dr"]
    # sorties/day x days x V x EW x crew x cold x (1 - interdiction share) x p_hit; July: no cold factor
    expected = ut.sorties_per_day * 1 * 1.0 * P.isr.ew_ua * 1.0 * 1.0 * (1 - P.isr.interdiction_share) * P.isr.p_hit
    assert pool.capacity[0] == pytest.approx(expected)
    # it reaches range_km (in 0.5 km tactical hexes), no farther
    d = m.map.distances_from(m.units["dr"].hex)
    edge = int(ut.range_km / m.map.spec.hex_km)
    assert pool.reach[0][d == edge].all() and not pool.reach[0][d == edge + 1].any()


def test_drone_sorties_grow_by_the_yearly_rate(make_model):
    m = make_model(units=[unit("dr", "ua_drone_team", 40, 10), unit("sq", "ua_squad", 44, 10)],
                   params={**NO_GAPS, "isr.sortie_growth_ua": 1.0})
    set_weather(m, "clear")
    now = StrikePool(m, "ua").capacity[0]
    m.date = m.date + dt.timedelta(days=365)  # a year on at +100 % a year: twice the sorties
    assert StrikePool(m, "ua").capacity[0] == pytest.approx(now * 2 ** (365 / 365.25))


def test_replacements_refill_drone_crews_too(make_model):
    m = make_model(units=[unit("dr", "ua_drone_team", 40, 10, personnel=4), unit("sq", "ua_squad", 44, 10)],
                   params=NO_GAPS, replacements=[{"side": "ua", "per_week": 700.0}])
    cohesion.reinforce(m)
    dr = m.units["dr"]
    assert dr.personnel > 4.0
    assert dr.personnel <= cohesion.full_strength(m, dr) + 1e-9


@pytest.mark.parametrize("scale", [1.0, 2.5])
def test_scheduled_reinforcements_arrive_at_the_scaled_strength(make_model, scale):
    m = make_model(front_col=50, units=[unit("sq", "ua_squad", 40, 10)],
                   params={**NO_GAPS, "replacements.ru_reinforcement_scale": scale},
                   reinforcements=[{"id": "new", "type": "ru_assault_group", "at": at(55, 10), "personnel": 6,
                                    "arrive": "2025-07-01"}])
    before = m.books_in["ru"]
    cohesion.reinforce(m)
    assert m.units["new"].personnel == pytest.approx(6 * scale)
    assert m.books_in["ru"] == pytest.approx(before + 6 * scale)  # the books count what arrived
    assert m.units["sq"].personnel == 8  # starting units are not scaled


def _two_battalions(make_model, near: float, far: float):
    """Two Ukrainian battalions a given number of people above or below full strength (1.5 x the type's): 'near'
    at (20, 40), 'far' ten hexes west; the ground west of column 35 is Ukraine's."""
    units = [unit("near", "ua_infantry_battalion", 20, 40), unit("far", "ua_infantry_battalion", 10, 40)]
    m = make_model(base="operational", front_col=35, units=units,
                   params={**NO_GAPS, "replacements.ua_strength_cap": 1.5})
    full = 1.5 * m.units["near"].utype.personnel
    assert cohesion.full_strength(m, m.units["near"]) == pytest.approx(full)
    m.units["near"].status.personnel = full + near
    m.units["far"].status.personnel = full + far
    return m, full


def test_replacements_stop_at_the_sides_full_strength(make_model):
    m, full = _two_battalions(make_model, near=50.0, far=-80.0)  # the side is 30 short of full strength
    m.presence[1, hexid(m, 30, 40)] = 10.0  # ten of its men are out clearing: not missing
    cohesion._replace(m, "ua", 700.0)
    assert m.units["far"].personnel == pytest.approx(full - 80 + 20)
    assert m.units["near"].personnel == pytest.approx(full + 50)
    m2, _ = _two_battalions(make_model, near=100.0, far=-80.0)  # over strength as a whole: nobody is replaced
    cohesion._replace(m2, "ua", 700.0)
    assert m2.units["far"].personnel == pytest.approx(full - 80)


def test_rejoining_presence_fills_units_with_room_before_swelling_the_nearest(make_model):
    m, full = _two_battalions(make_model, near=0.0, far=-100.0)
    h = hexid(m, 21, 40)  # next to 'near', in ground Ukraine holds
    m.presence[1, h] = 150.0
    infiltration.absorb(m)
    assert m.presence[1, h] == 0.0
    assert m.units["far"].personnel == pytest.approx(full)  # sent back to the unit with room
    assert m.units["near"].personnel == pytest.approx(full + 50)  # only the surplus stays with the nearest


def test_strike_pool_capacity_limits_kills(make_model):
    m = _drone_model(make_model)
    pool = StrikePool(m, "ua")
    a, b, far = hexid(m, 42, 10), hexid(m, 44, 12), hexid(m, 59, 40)
    assert pool.reach[0, a] and pool.reach[0, b] and not pool.reach[0, far]
    pool.capacity[:] = 5.0
    detected = np.zeros(m.map.n)
    detected[a], detected[b], detected[far] = 3.0, 7.0, 4.0
    kills = pool.allocate(detected)
    # 10 detected in reach, capacity 5: kills = min(5, 10), shared in proportion 3:7; nothing out of reach
    assert kills.sum() == pytest.approx(5.0)
    assert kills[a] == pytest.approx(1.5) and kills[b] == pytest.approx(3.5) and kills[far] == 0.0
    assert pool.capacity[0] == pytest.approx(0.0)
    # the pool is spent: a second wave gets through untouched
    assert pool.allocate(detected).sum() == 0.0


def test_strike_pool_kills_all_detected_when_capacity_suffices(make_model):
    m = _drone_model(make_model)
    pool = StrikePool(m, "ua")
    a = hexid(m, 42, 10)
    pool.capacity[:] = 20.0
    detected = np.zeros(m.map.n)
    detected[a] = 6.0
    assert pool.allocate(detected)[a] == pytest.approx(6.0)
    assert pool.capacity[0] == pytest.approx(14.0)


# ---------------------------------------------------------------------------------------------------- control
# the control rule's numbers are pinned here, so the hand-worked cases hold whatever the calibrated defaults are
KAPPA, FLIP_RATIO = 0.3, 1.5
PINNED = {"infiltration.kappa": KAPPA, "infiltration.flip_ratio": FLIP_RATIO, "infiltration.flip_turns": 2}


def _control_model(make_model, **params):
    """Operational scale (weekly turns, so the control step is kappa itself); the only unit sits far away."""
    m = make_model(base="operational", units=[unit("far", "ua_infantry_battalion", 2, 2)],
                   params={**NO_GAPS, **PINNED, **params})
    return m, hexid(m, 20, 45)


def test_control_shift_kappa_formula(make_model):
    m, h = _control_model(make_model)
    m.control[h] = 0.5
    m.presence[0, h], m.presence[1, h] = 30.0, 10.0
    control.resolve(m)
    # Russia holds (c >= 0.5), theta 1: dc = kappa (30 - 10) / (30 + 10) = 0.3 x 0.5
    assert m.control[h] == pytest.approx(0.5 + KAPPA * 20 / 40)


def test_a_city_core_changes_hands_at_the_urban_pace(make_model):
    m, _ = _control_model(make_model, **{"control.urban_pace": 0.25})
    h = hexid(m, 23, 34)  # Pokrovsk's core
    assert m.map.terrain[h] == Terrain.CITY
    m.control[h] = 0.5
    m.presence[0, h], m.presence[1, h] = 30.0, 10.0
    control.resolve(m)
    assert m.control[h] == pytest.approx(0.5 + 0.25 * KAPPA * 20 / 40)


def test_control_shift_theta_weights_the_holder(make_model):
    m, h = _control_model(make_model, **{"infiltration.theta": 2.0})
    m.control[h] = 0.4  # Ukraine holds: its garrison counts double
    m.presence[0, h], m.presence[1, h] = 30.0, 10.0
    control.resolve(m)
    assert m.control[h] == pytest.approx(0.4 + KAPPA * (30 - 2 * 10) / (30 + 2 * 10))


def test_control_shift_scales_with_turn_length_and_hex_size(make_model):
    m = make_model(units=[unit("far", "ua_squad", 2, 2)], params={**NO_GAPS, **PINNED})  # tactical: 1-day turns, 0.5 km hexes
    h = hexid(m, 50, 10)
    m.control[h] = 0.5
    m.presence[0, h], m.presence[1, h] = 30.0, 10.0
    control.resolve(m)
    # a day is 1/7 of kappa's week, and a 0.5 km hex holds 1/5 of the ground of kappa's 2.5 km hex
    assert m.control[h] == pytest.approx(0.5 + KAPPA / 7 * (2.5 / 0.5) * 0.5)


def test_flip_needs_ratio_for_two_turns(make_model):
    m, h = _control_model(make_model)
    m.control[h] = 0.7
    m.presence[0, h], m.presence[1, h] = 40.0, 10.0  # ratio 4 >= 1.5
    control.resolve(m)
    # 0.7 + 0.3 x 0.6 = 0.88 would cross 0.8, but this is only the first turn above the ratio: held at 0.79
    assert m.control[h] == pytest.approx(0.79)
    assert m.flip_count[h] == 1
    assert [e.kind for e in m.events if e.hex == h] == ["control"]
    m.events = []
    control.resolve(m)
    assert m.control[h] == 1.0  # second turn: it changes hands
    assert m.flip_count[h] == 0
    assert [e.kind for e in m.events if e.hex == h] == ["flip"]


def test_grey_zone_holds_below_flip_ratio(make_model):
    m, h = _control_model(make_model)
    m.control[h] = 0.7
    m.presence[0, h], m.presence[1, h] = 14.0, 10.0  # ratio 1.4 < 1.5
    control.resolve(m)
    assert m.control[h] == pytest.approx(0.7 + KAPPA * 4 / 24)
    for _ in range(6):
        control.resolve(m)
        assert m.control[h] == pytest.approx(0.79)
        assert m.flip_count[h] == 0


def test_flip_at_once_when_defender_gone(make_model):
    m, h = _control_model(make_model)
    m.control[h] = 0.7
    m.presence[0, h] = 5.0
    control.resolve(m)
    assert m.control[h] == 1.0


def test_flip_rule_is_symmetric_for_ukraine(make_model):
    m, h = _control_model(make_model)
    m.control[h] = 0.3
    m.presence[0, h], m.presence[1, h] = 10.0, 40.0
    control.resolve(m)
    # 0.3 - 0.3 x 0.6 = 0.12 would cross 0.2: held at 0.21 for one turn, then flips to 0
    assert m.control[h] == pytest.approx(0.21)
    control.resolve(m)
    assert m.control[h] == 0.0


def test_manned_works_weigh_the_holders_garrison(make_model):
    # operational map: a 2.5 km hex needs 10 people to man its works; level 2, fort_weight 1 -> the garrison x 3
    fort = [{"name": "works", "level": 2, "places": [at(20, 45), at(22, 45)]}]
    m = make_model(base="operational", units=[unit("far", "ua_infantry_battalion", 2, 2)], fortifications=fort,
                   params={**NO_GAPS, **PINNED, "control.fort_weight": 1.0})
    manned_hex, empty_hex = hexid(m, 20, 45), hexid(m, 22, 45)
    for h, ua in ((manned_hex, 20.0), (empty_hex, 5.0)):  # 5 people cannot man the works
        m.control[h] = 0.4
        m.presence[0, h], m.presence[1, h] = 30.0, ua
    control.resolve(m)
    # manned: Ukraine counts 3 x 20 = 60 against 30, so control moves back towards Ukraine
    assert m.control[manned_hex] == pytest.approx(0.4 + KAPPA * (30 - 60) / (30 + 60))
    # unmanned: the works count for nothing
    assert m.control[empty_hex] == pytest.approx(0.4 + KAPPA * (30 - 5) / (30 + 5))


# ---------------------------------------------------------------------------------------------------- manning
def test_fortification_counts_only_when_manned(make_model):
    fort = [{"name": "works", "level": 2, "places": [at(44, 10), at(44, 14), at(44, 18)]}]
    m = make_model(units=[unit("pos", "ua_position", 44, 10), unit("res", "ua_squad", 44, 18, reserve=True)],
                   fortifications=fort, params=NO_GAPS)
    x, y, z = hexid(m, 44, 10), hexid(m, 44, 14), hexid(m, 44, 18)
    assert m.fort[x] == m.fort[y] == m.fort[z] == 2
    need = P.fortification.manning_per_km * 0.5  # 2 people per 0.5 km hex
    assert need == pytest.approx(2.0)
    mask = manned(m, "ua")
    assert mask[x]  # a 3-person position mans it
    assert not mask[y]  # nobody there
    assert mask[z]  # a reserve squad of 8 counts half: 4 >= 2
    m.presence[1, y] = 1.9
    assert not manned(m, "ua")[y]
    m.presence[1, y] = 2.0
    assert manned(m, "ua")[y]
    m.gap[1, x] = 0.5  # a gap thins the position to 1.5 people
    assert not manned(m, "ua")[x]


def test_unmanned_works_shelter_infiltrators(make_model):
    fort = [{"name": "works", "level": 2, "places": [at(44, 10), at(44, 14)]}]
    m = make_model(units=[unit("pos", "ua_position", 44, 10)], fortifications=fort, params=NO_GAPS)
    set_weather(m, "clear")
    cn = infiltration.concealment(m, "ua")
    x, y = hexid(m, 44, 10), hexid(m, 44, 14)
    base = np.asarray(P.terrain.concealment)[m.map.terrain]
    assert cn[x] == pytest.approx(base[x])
    assert cn[y] == pytest.approx(base[y] * P.fortification.unmanned_shelter)


# ---------------------------------------------------------------------------------------------------- odds
def _odds_model(make_model, *, ua_col: int, fort: bool):
    """Russian detachment at (30, 40) attacks (29, 40); the Ukrainian battalion is at (ua_col, 40)."""
    units = [unit("ru", "assault_detachment", 30, 40, personnel=400, quality=0.6),
             unit("ua", "ua_infantry_battalion", ua_col, 40, personnel=200, quality=0.8),
             unit("uad", "ua_drone_unit", 26, 40)]
    forts = [{"name": "line", "level": 2, "places": [at(29, 40)]}] if fort else []
    m = make_model(base="operational", front_col=30, units=units, fortifications=forts, params=NO_GAPS,
                   supply={"ru": [at(33, 40)], "ua": [at(26, 40)]})
    set_weather(m, "clear")
    refresh(m)
    return m, hexid(m, 29, 40)


def _hand_odds(m, target: int, base_def: float, level: int) -> dict:
    """Notes §4.6 by hand: CP = N q sup coh/100, defence x posture x F x T x (1 + omega I V); P = 1/(1+(R50/R)^k)."""
    ru = m.units["ru"]
    assert ru.status.supply == "supplied"
    cp_att = 400 * 0.6 * 1.0 * 80 / 100 * (1 + P.assault.blind_bonus * 0.0)
    terrain = P.terrain.defence[int(m.map.terrain[target])]
    overwatch = 1 + P.assault.omega * float(m.isr[1, target]) * 1.0
    cp_def = base_def * P.assault.posture[level] * P.fortification.multiplier[level] * terrain * overwatch
    r = cp_att / cp_def
    lam = P.assault.lambda0 * 7
    return {"attack_power": cp_att, "defence_power": cp_def, "ratio": r,
            "p_gain": 1 / (1 + (P.assault.r50 / r) ** P.assault.k),
            "expected_attacker_losses": min(400 * P.assault.extra.max_casualty, 400 * lam * r ** -P.assault.a)}


def test_odds_preview_matches_formula_with_manned_works(make_model):
    m, t = _odds_model(make_model, ua_col=29, fort=True)
    assert m.units["ua"].status.supply == "supplied"
    assert m.isr[1, t] > 0.1  # the drone unit watches the hex: overwatch is part of the sum
    o = odds(m, Assault("ru", t))
    want = _hand_odds(m, t, base_def=200 * 0.8 * 1.0 * 80 / 100, level=2)
    for key, value in want.items():
        assert o[key] == pytest.approx(value, rel=1e-9), key
    assert o["expected_defender_losses"] == pytest.approx(
        min(200 * P.assault.extra.max_casualty, 200 * P.assault.lambda0 * 7 * want["ratio"] ** P.assault.b))
    assert o["defenders"] == ["ua"]


def test_unmanned_works_give_no_odds_bonus(make_model):
    # the battalion stands next to the works, not in them: it lends garrison_spread / 6 of itself to the hex
    m_fort, t = _odds_model(make_model, ua_col=28, fort=True)
    m_bare, _ = _odds_model(make_model, ua_col=28, fort=False)
    assert m_fort.fort[t] == 2 and m_bare.fort[t] == 0
    assert not manned(m_fort, "ua")[t]
    o_fort, o_bare = odds(m_fort, Assault("ru", t)), odds(m_bare, Assault("ru", t))
    want = _hand_odds(m_fort, t, base_def=200 * 0.8 * 80 / 100 * P.control.extra.garrison_spread / 6, level=0)
    assert o_fort["defence_power"] == pytest.approx(want["defence_power"])
    for key in ("ratio", "p_gain", "defence_power", "expected_attacker_losses", "expected_defender_losses"):
        assert o_fort[key] == pytest.approx(o_bare[key], rel=1e-12), key


def test_manned_works_raise_defence(make_model):
    m_fort, t = _odds_model(make_model, ua_col=29, fort=True)
    m_bare, _ = _odds_model(make_model, ua_col=29, fort=False)
    o_fort, o_bare = odds(m_fort, Assault("ru", t)), odds(m_bare, Assault("ru", t))
    # level 2 manned: posture 1.5 x F 1.2 against posture 1.0 x F 1.0
    factor = P.assault.posture[2] * P.fortification.multiplier[2]
    assert o_fort["defence_power"] == pytest.approx(o_bare["defence_power"] * factor)
    assert o_fort["p_gain"] < o_bare["p_gain"]


def test_presence_adds_half_a_soldier_of_defence(make_model):
    m, t = _odds_model(make_model, ua_col=28, fort=False)
    before = odds(m, Assault("ru", t))["defence_power"]
    m.presence[1, t] = 6.0  # 6 x presence_quality 0.5 = 3 more base power
    after = odds(m, Assault("ru", t))["defence_power"]
    terrain = P.terrain.defence[int(m.map.terrain[t])]
    overwatch = 1 + P.assault.omega * float(m.isr[1, t])
    assert after - before == pytest.approx(6.0 * P.control.extra.presence_quality * terrain * overwatch)


# ---------------------------------------------------------------------------------------------------- movement
def _road_case():
    """A tactical hex with a road link to one neighbour and an open, roadless neighbour."""
    hm = load_map(NAMED_MAPS["tactical"])
    for h in range(hm.n):
        ks = [k for k in range(6) if hm.nbr[h, k] >= 0 and hm.road[h, k] > 0]
        if not ks:
            continue
        for k in range(6):
            j = int(hm.nbr[h, k])
            if j >= 0 and hm.road[h, k] == 0 and hm.terrain[j] == Terrain.OPEN and not hm.road[j].any():
                return hm, h, int(hm.nbr[h, ks[0]]), int(hm.road[h, ks[0]]), j
    raise AssertionError("no road hex found on the tactical map")


def test_road_is_cheaper_than_open_ground(make_model):
    hm, h, road_nb, rc, open_nb = _road_case()
    col, row = hm.coords(h)
    m = make_model(units=[unit("sq", "ua_squad", col, row)], params=NO_GAPS)
    set_weather(m, "clear")
    best = movement.reachable(m, m.units["sq"])
    km = 0.5
    assert best[road_nb][0] == pytest.approx(km * P.movement.road_factor[rc])
    assert best[open_nb][0] == pytest.approx(km * P.terrain.move_cost[int(Terrain.OPEN)])
    assert best[road_nb][0] < best[open_nb][0]
    # the allowance: 4 km a day on foot
    assert max(c for c, _ in best.values()) <= P.movement.speed_foot * 1 + 1e-9


def test_mud_slows_off_road_not_road(make_model):
    hm, h, road_nb, rc, open_nb = _road_case()
    col, row = hm.coords(h)
    m = make_model(units=[unit("sq", "ua_squad", col, row)], params=NO_GAPS)
    set_weather(m, "rain")  # a week of rain is mud
    assert m.weather["mud"]
    best = movement.reachable(m, m.units["sq"])
    assert best[open_nb][0] == pytest.approx(0.5 * 1.0 / P.weather.mud_foot)
    assert best[road_nb][0] == pytest.approx(0.5 * P.movement.road_factor[rc])


def _with_river(m, bridge: tuple[int, int] | None = None):
    """Replace the model's map by a copy with no roads and a river between columns 40 and 41, top to bottom."""
    hm = copy.copy(m.map)
    river = np.zeros_like(hm.river)
    road = np.zeros_like(hm.road)
    for h in range(hm.n):
        for k in range(6):
            nb = int(hm.nbr[h, k])
            if nb >= 0 and hm.col[h] <= 40 < hm.col[nb]:
                river[h, k] = river[nb, hexgrid.opposite(k)] = 1
    if bridge is not None:
        a, b = bridge
        k = next(k for k in range(6) if hm.nbr[a, k] == b)
        road[a, k] = road[b, hexgrid.opposite(k)] = 1
    hm.river, hm.road = river, road
    m.map = hm
    movement.invalidate(m)


def test_river_blocks_vehicles_not_foot(make_model):
    m = make_model(units=[unit("car", "ua_assault_squad", 40, 5), unit("sq", "ua_squad", 40, 5)], params=NO_GAPS)
    set_weather(m, "clear")
    _with_river(m)
    east = hexid(m, 41, 5)
    assert m.map.terrain[east] == Terrain.OPEN
    by_car = movement.reachable(m, m.units["car"])
    assert len(by_car) > 100  # 25 km of allowance, but all of it on the west bank
    assert not any(m.map.col[h] >= 41 for h in by_car)
    on_foot = movement.reachable(m, m.units["sq"])
    # wading costs half a hex more: 0.5 km x 1.0 + 0.5 km x 0.5
    assert on_foot[east][0] == pytest.approx(0.75)
    assert m.try_issue(Move("car", east)) is not None
    assert m.try_issue(Move("sq", east)) is None


def test_bridge_lets_vehicles_cross(make_model):
    m = make_model(units=[unit("car", "ua_assault_squad", 40, 5)], params=NO_GAPS)
    set_weather(m, "clear")
    west, east = hexid(m, 40, 5), hexid(m, 41, 5)
    _with_river(m, bridge=(west, east))
    by_car = movement.reachable(m, m.units["car"])
    assert by_car[east][0] == pytest.approx(0.5 * P.movement.road_factor[1])
    assert any(m.map.col[h] >= 42 for h in by_car)


def test_real_rivers_stop_vehicles_on_the_operational_map(make_model):
    m = make_model(base="operational", units=[unit("mech", "ua_mech_battalion", 15, 47),
                                              unit("inf", "ua_infantry_battalion", 15, 47)], params=NO_GAPS)
    set_weather(m, "clear")
    hm = m.map

    def crossings(best):
        n = 0
        for h, (_, prev) in best.items():
            if prev < 0:
                continue
            k = next(k for k in range(6) if hm.nbr[prev, k] == h)
            n += bool(hm.river[prev, k] and not hm.road[prev, k])
        return n

    assert crossings(movement.reachable(m, m.units["mech"])) == 0
    assert crossings(movement.reachable(m, m.units["inf"])) > 0


def test_enemy_held_hexes_are_closed(make_model):
    m = make_model(front_col=47, units=[unit("sq", "ua_squad", 44, 10)], params=NO_GAPS)
    set_weather(m, "clear")
    a, b = hexid(m, 45, 10), hexid(m, 45, 12)
    m.control[a], m.control[b] = 0.51, 0.5  # the limit is control above enemy_control_limit = 0.5
    movement.invalidate(m)
    best = movement.reachable(m, m.units["sq"])
    assert a not in best and b in best
    assert all(m.control[h] <= 0.5 for h in best)
    assert m.try_issue(Move("sq", hexid(m, 47, 10))).find("out of") >= 0


def _wall(hm):
    """Russia holds column 47 except a gap at row 10."""
    return np.where((hm.col == 47) & (hm.row != 10), 1.0, 0.0)


def test_zone_of_control_stops_movement(make_model):
    m = make_model(front_col=_wall, units=[unit("sq", "ua_squad", 44, 10)], params=NO_GAPS)
    set_weather(m, "clear")
    gap, beyond = hexid(m, 47, 10), hexid(m, 48, 10)
    best = movement.reachable(m, m.units["sq"])
    assert gap in best and beyond in best  # an empty wall: walk through the gap
    wall = np.flatnonzero(m.control >= 0.8)
    m.presence[0, wall] = 5.0  # now Russians sit in the wall: the gap is under their zone of control
    movement.invalidate(m)
    best = movement.reachable(m, m.units["sq"])
    zoc = movement._context(m, "ua")["zoc"]
    assert zoc[gap] and zoc[hexid(m, 46, 10)]
    # the squad may enter the zone in front of the wall, but must stop there: neither the gap nor beyond
    assert hexid(m, 46, 10) in best and gap not in best and beyond not in best
    assert not any(m.map.col[h] >= 47 for h in best)
    start = m.units["sq"].hex
    for _, (_, prev) in best.items():
        assert prev < 0 or prev == start or not zoc[prev]  # nobody moves on out of a zone of control


def _overrun_model(make_model, **params):
    """A Ukrainian mechanised battalion on the front line (column 20 is Russian), and level-3 works 8 hexes back,
    well within the week's reach of a vehicle unit; then Russia takes the battalion's hex."""
    m = make_model(base="operational", front_col=21, units=[unit("mech", "ua_mech_battalion", 20, 30)],
                   fortifications=[{"name": "Rear works", "level": 3, "places": [at(12, 30)]}],
                   params={**NO_GAPS, **params})
    u = m.units["mech"]
    m.control[u.hex] = 1.0
    refresh(m)
    return m, u


def test_an_overrun_unit_lands_beside_its_lost_position(make_model):
    m, u = _overrun_model(make_model)
    lost = u.hex
    control.overrun(m)
    assert 1 <= m.map.distances_from(lost)[u.hex] * m.map.spec.hex_km <= P.movement.forced_fall_back_km
    assert m.control[u.hex] == 0.0 and u.personnel == pytest.approx(0.85 * 250)  # 15 % lost on the way out


def test_with_no_safe_ground_near_an_overrun_unit_goes_as_far_as_it_must(make_model):
    m, u = _overrun_model(make_model, **{"movement.forced_fall_back_km": 0.0})
    control.overrun(m)
    assert u.hex == hexid(m, 12, 30)  # nothing within 0 km: the best works in reach, as a withdrawal would


# ---------------------------------------------------------------------------------------------------- supply
def _supply_model(make_model):
    m = make_model(units=[unit("sq", "ua_squad", 50, 10)], params=NO_GAPS)
    set_weather(m, "clear")
    return m, m.units["sq"].hex


def _ring(m, centre: int, radius: int, skip=()) -> np.ndarray:
    ring = np.flatnonzero(m.map.distances_from(centre) == radius)
    return np.array([h for h in ring if h not in set(skip)], dtype=np.int64)


def test_supply_ratio_next_to_a_source(make_model):
    m, _ = _supply_model(make_model)
    hm = m.map
    row = next(r for r in range(hm.height) if not hm.road[hexid(m, 1, r)].any())
    ratio, pocket = supply.trace(m, "ua")
    assert ratio[hexid(m, 0, row)] == pytest.approx(1.0)  # a source hex
    # one off-road step from the west-edge sources: exp(-0.5 km x 2.5 / 200 km)
    assert ratio[hexid(m, 1, row)] == pytest.approx(math.exp(-0.5 * P.supply.offroad_factor / P.supply.decay_km))
    assert (pocket == -1).all()


def test_interdiction_cuts_throughput(make_model):
    m, h = _supply_model(make_model)
    m.interdiction[:] = 0.0
    r0 = supply.trace(m, "ua")[0][h]
    m.interdiction[0, h] = 0.3  # Russian drones over the last hex: every route into it pays (1 - X)
    r1 = supply.trace(m, "ua")[0][h]
    assert r1 == pytest.approx(r0 * (1 - 0.3) ** P.supply.interdiction_weight)


def test_closed_ring_makes_a_pocket(make_model):
    m, h = _supply_model(make_model)
    m.control[_ring(m, h, 3)] = 1.0
    refresh(m)
    ratio, pocket = supply.trace(m, "ua")
    inside = np.flatnonzero(m.map.distances_from(h) <= 2)
    assert ratio[h] == 0.0
    assert pocket[h] >= 0 and (pocket[inside] == pocket[h]).all()
    assert pocket[hexid(m, 50, 30)] == -1
    assert m.units["sq"].status.supply == "encircled"
    assert m.supply_ratio[1, h] == pytest.approx(P.supply.floor)
    assert any(pk["side"] == "ua" and pk["units"] == 1 for pk in m.pocket_info)
    assert any(e.kind == "supply" and e.hex == h for e in m.events)
    assert supply.corridor_width(m, "ua", np.array([h])) == 0


def _abandoned_pocket(make_model, rate: float, units=()):
    """Operational scale (the weekly step is vacuum_rate itself): Russia holds all but a pocket of radius 2."""
    m = make_model(base="operational", units=[unit("far", "ua_infantry_battalion", 2, 2), *units],
                   params={**NO_GAPS, **PINNED, "control.vacuum_rate": rate})
    centre = hexid(m, 20, 45)
    m.control[m.map.distances_from(centre) >= 3] = 1.0
    refresh(m)
    supply.resolve(m)  # finds the pocket, as the turn before would have
    rings = {r: np.flatnonzero(m.map.distances_from(centre) == r) for r in (0, 1, 2)}
    assert (m.pocket[1][np.concatenate(list(rings.values()))] >= 0).all()
    return m, rings


def test_an_empty_pocket_passes_to_the_side_around_it_from_the_edge_inwards(make_model):
    m, rings = _abandoned_pocket(make_model, rate=0.5)
    control.resolve(m)
    assert m.control[rings[2]] == pytest.approx(0.5)  # next to Russian-held ground: half way in one week
    assert (m.control[rings[1]] == 0.0).all() and m.control[rings[0]] == 0.0  # not yet reached
    control.resolve(m)
    assert (m.control[rings[2]] == 1.0).all()  # 1.0 from 0.5: nobody is there to hold a grey zone
    assert (m.control[rings[1]] == 0.0).all()  # the edge moves only once the ring outside is held
    control.resolve(m)
    assert m.control[rings[1]] == pytest.approx(0.5) and m.control[rings[0]] == 0.0
    assert any("cut off from Ukrainian supply" in e.text for e in m.events if e.hex in set(rings[2].tolist()))


def _encircled_squad(make_model, **params):
    """A Ukrainian squad in a pocket of radius 2: Russia holds the ring 3 hexes out; its side's ground starts at 4."""
    m = make_model(units=[unit("sq", "ua_squad", 50, 10)], params={**NO_GAPS, **params})
    set_weather(m, "clear")
    u = m.units["sq"]
    centre = u.hex
    m.control[_ring(m, centre, 3)] = 1.0
    refresh(m)
    assert u.status.supply == "encircled"
    return m, u, centre


def test_a_unit_that_breaks_in_a_pocket_slips_out_to_the_nearest_ground_of_its_side(make_model):
    m, u, centre = _encircled_squad(make_model)
    u.status.cohesion = 5.0
    cohesion.resolve(m)
    assert m.map.distances_from(centre)[u.hex] == 4 and m.pocket[1][u.hex] < 0  # the nearest hex outside the ring
    lost = u.status.losses["encirclement"]
    assert lost == pytest.approx(P.supply.breakout_loss * (u.personnel + lost))
    assert any(e.kind == "breakout" for e in m.events)


def test_a_unit_that_breaks_in_a_pocket_with_no_ground_of_its_side_near_surrenders(make_model):
    m, u, centre = _encircled_squad(make_model, **{"supply.breakout_km": 1.0})
    assert 4 * m.map.spec.hex_km > 1.0
    u.status.cohesion = 5.0
    cohesion.resolve(m)
    assert not u.alive and u.hex == centre and m.losses["ua"]["encirclement"] > 0
    books = m.books("ua")
    assert books["in"] == pytest.approx(books["units"] + books["presence"] + books["lost"])
    assert any(e.kind == "surrender" for e in m.events)


def test_withdrawing_from_a_pocket_means_breaking_out_if_there_is_ground_near(make_model):
    m, u, centre = _encircled_squad(make_model)
    before = u.personnel
    m.issue(Withdraw("sq"))
    m.turn_orders = m.pending["ua"]
    movement.resolve(m)
    assert m.map.distances_from(centre)[u.hex] == 4
    assert u.personnel == pytest.approx(before * (1 - P.supply.breakout_loss))
    m2, _, _ = _encircled_squad(make_model, **{"supply.breakout_km": 1.0})
    with pytest.raises(IllegalOrder, match="encircled"):
        m2.issue(Withdraw("sq"))


def test_each_threatened_cluster_gets_its_own_corridor(make_model):
    m = make_model(units=[unit("a", "ua_squad", 50, 10), unit("b", "ua_squad", 50, 30)], params=NO_GAPS)
    a, b = m.units["a"], m.units["b"]
    m.control[_ring(m, a.hex, 3, skip=[hexid(m, 47, 10)])] = 1.0  # a ring round "a" with a one-hex gap
    refresh(m)
    m.interdiction[0, [a.hex, b.hex]] = 0.9  # drones over both: every route in pays 90 %
    supply.resolve(m)
    assert a.status.supply == b.status.supply == "op_encircled"
    threatened = [pk for pk in m.pocket_info if pk["side"] == "ua"]
    assert sorted(pk["unit_ids"] for pk in threatened) == [["a"], ["b"]]
    assert supply.corridor_of(m, a) == pytest.approx(m.map.spec.hex_km)  # the one open hex of the ring
    assert supply.corridor_of(m, b) > 3 * m.map.spec.hex_km  # open country round "b"


def test_a_manned_pocket_is_not_abandoned(make_model):
    m, rings = _abandoned_pocket(make_model, rate=1.0, units=[unit("held", "ua_infantry_battalion", 20, 45)])
    for _ in range(3):
        control.resolve(m)
    assert (m.control[rings[2]] == 1.0).all()  # empty ground goes
    assert (m.control[rings[1]] == 0.0).all() and m.control[rings[0]] == 0.0  # the battalion and its neighbours stay


def test_abandoned_ground_rule_off(make_model):
    m, rings = _abandoned_pocket(make_model, rate=0.0)
    control.resolve(m)
    assert (m.control[np.concatenate(list(rings.values()))] == 0.0).all()


def test_corridor_width_is_a_minimum_cut(make_model):
    m, h = _supply_model(make_model)
    gap1 = hexid(m, 53, 10)
    assert m.map.distance(h, gap1) == 3
    m.control[_ring(m, h, 3, skip=[gap1])] = 1.0
    refresh(m)
    assert supply.trace(m, "ua")[0][h] > 0
    assert m.units["sq"].status.supply != "encircled"
    assert supply.corridor_width(m, "ua", np.array([h])) == 1
    # widen the gap by a second ring hex beside the first
    gap2 = next(int(x) for x in m.map.nbr[gap1] if x >= 0 and m.map.distance(h, int(x)) == 3)
    m.control[gap2] = 0.0
    refresh(m)
    assert supply.corridor_width(m, "ua", np.array([h])) == 2
    # cut the road: both gaps fall
    m.control[[gap1, gap2]] = 1.0
    refresh(m)
    assert supply.trace(m, "ua")[0][h] == 0.0
    assert m.units["sq"].status.supply == "encircled"


# ---------------------------------------------------------------------------------------------------- weather
def test_fog_lowers_visibility():
    d = dt.date(2025, 7, 1)
    clear = weather.summarise(P, ["clear"] * 7, d)
    fog = weather.summarise(P, ["fog"] * 7, d)
    assert clear["visibility"] == pytest.approx(P.weather.visibility.clear)
    assert fog["visibility"] == pytest.approx(P.weather.visibility.fog) and fog["visibility"] < clear["visibility"]
    assert fog["blind_days"] == 7 and clear["blind_days"] == 0
    mixed = weather.summarise(P, ["clear", "fog", "fog", "overcast"], d)
    assert mixed["visibility"] == pytest.approx((1.0 + 0.25 + 0.25 + 0.85) / 4)
    assert mixed["blind_share"] == pytest.approx(0.5)
    assert mixed["dominant"] == "fog"
    assert weather.summarise(P, ["rain"] * 7, d, forced="fog")["visibility"] == pytest.approx(0.25)


@pytest.mark.parametrize("date, mud, leaf_on", [
    (dt.date(2025, 3, 9), False, False),  # day 68: before the spring thaw
    (dt.date(2025, 4, 1), True, False),  # day 91
    (dt.date(2025, 7, 1), False, True),
    (dt.date(2025, 10, 19), False, True),  # day 292: a day before the autumn rasputitsa
    (dt.date(2025, 11, 1), True, False),  # day 305
    (dt.date(2025, 12, 15), False, False),
])
def test_mud_and_leaf_windows(date, mud, leaf_on):
    flags = weather.season(P, date)
    assert flags["mud"] is mud and flags["leaf_on"] is leaf_on
    assert weather.summarise(P, ["clear"] * 7, date)["mud"] is mud


def test_a_wet_week_is_mud_in_summer():
    assert weather.summarise(P, ["rain"] * 4 + ["clear"] * 3, dt.date(2025, 7, 1))["mud"]
    assert not weather.summarise(P, ["rain"] * 3 + ["clear"] * 4, dt.date(2025, 7, 1))["mud"]


def test_forced_fog_reaches_the_next_turn_and_lowers_detection(make_model):
    units = [unit("ru", "ru_assault_group", 47, 10), unit("dr", "ua_drone_team", 42, 10)]
    m = make_model(front_col=47, units=units, params=NO_GAPS)
    target = Infiltrate("ru", hexid(m, 45, 10), personnel=2.0)
    set_weather(m, "clear")
    isr.resolve(m)
    p_clear = infiltration.preview(m, target)["p_detect"]
    m.forced_weather = "fog"
    m.end_turn()  # rolls the next turn's weather, forced
    assert m.weather["dominant"] == "fog" and m.weather["visibility"] == pytest.approx(0.25)
    isr.resolve(m)
    p_fog = infiltration.preview(m, target)["p_detect"]
    assert p_fog < p_clear


def test_leaf_off_treelines_conceal_less(make_model):
    m = make_model(units=[unit("sq", "ua_squad", 44, 10)], params=NO_GAPS)
    tree = m.map.terrain == Terrain.TREELINE
    m.weather = weather.summarise(P, ["clear"], dt.date(2025, 7, 1))
    assert np.allclose(infiltration.concealment(m, "ua")[tree], P.terrain.concealment[int(Terrain.TREELINE)])
    m.weather = weather.summarise(P, ["clear"], dt.date(2025, 12, 1))
    assert np.allclose(infiltration.concealment(m, "ua")[tree], P.terrain.treeline_leaf_off)


# ---------------------------------------------------------------------------------------------------- cohesion
def _cohesion_model(make_model):
    units = [unit("ua", "ua_infantry_battalion", 20, 40, personnel=200),
             unit("ru", "assault_detachment", 40, 40, personnel=400)]
    m = make_model(base="operational", front_col=35, units=units, params=NO_GAPS)
    m.isr[:] = 0.0
    return m, m.units["ua"], m.units["ru"]


def test_losses_lower_cohesion(make_model):
    m, ua, ru = _cohesion_model(make_model)
    cohesion.mark_turn_start(m)
    ua.lose(20.0, "assault")  # 10 % of 200
    ru.lose(40.0, "assault")  # 10 % of 400, with Russian loss tolerance 0.5
    cohesion.resolve(m)
    assert ua.status.cohesion == pytest.approx(80 - P.cohesion.casualty_factor * 10)
    assert ru.status.cohesion == pytest.approx(80 - 10 * (1 - unit_types()["assault_detachment"].loss_tolerance))


def test_encirclement_lowers_cohesion(make_model):
    m, ua, ru = _cohesion_model(make_model)
    ua.status.supply, ru.status.supply = "encircled", "op_encircled"
    cohesion.mark_turn_start(m)
    cohesion.resolve(m)
    assert ua.status.cohesion == pytest.approx(80 - P.cohesion.encircled_loss)
    assert ru.status.cohesion == pytest.approx(80 - P.cohesion.op_encircled_loss * 0.5)


def test_reserve_raises_cohesion(make_model):
    m, ua, _ = _cohesion_model(make_model)
    ua.status.in_reserve = True
    cohesion.mark_turn_start(m)
    cohesion.resolve(m)
    assert ua.status.cohesion == pytest.approx(80 + P.cohesion.rest_recovery)
    ua.status.cohesion = 95.0
    cohesion.resolve(m)
    assert ua.status.cohesion == 100.0


def test_fatigue_and_exposed_rear(make_model):
    m, ua, _ = _cohesion_model(make_model)
    ua.status.weeks_in_line = P.cohesion.line_weeks  # the next week is past the limit
    m.isr[0, ua.hex] = 0.9  # Russian drones over the unit's rear
    cohesion.mark_turn_start(m)
    cohesion.resolve(m)
    assert ua.status.cohesion == pytest.approx(80 - P.cohesion.line_decay - P.cohesion.exposed_rear_loss)


def test_unit_breaks_below_break_point(make_model):
    m, ua, _ = _cohesion_model(make_model)
    ua.status.cohesion = 32.0
    cohesion.mark_turn_start(m)
    ua.lose(10.0, "drones")  # 5 %: 32 -> 27, below 30
    cohesion.resolve(m)
    assert ua.status.cohesion == pytest.approx(27.0)
    assert ua.status.broken and ua.status.in_reserve
    assert any(e.kind == "break" for e in m.events)


# ---------------------------------------------------------------------------------------------------- legality
@pytest.fixture
def legal_model(make_model):
    units = [unit("sq", "ua_squad", 44, 10), unit("pos", "ua_position", 44, 12), unit("dr", "ua_drone_team", 40, 10),
             unit("res", "ua_assault_squad", 38, 10, reserve=True), unit("ra", "ru_assault_group", 47, 10)]
    m = make_model(front_col=47, units=units, params=NO_GAPS, turns=3)
    set_weather(m, "clear")
    return m


MAX_D = int(P.infiltration.range_km / 0.5)  # farthest infiltration target in tactical hexes


def _farthest(m, uid: str) -> int:
    """The hex farthest from a unit: ~29 km for a unit at (40, 10) on the tactical map, beyond any drone team."""
    u = m.units[uid]
    h = int(np.argmax([m.map.distance_km(u.hex, x) for x in range(m.map.n)]))
    assert m.map.distance_km(u.hex, h) > u.utype.range_km
    return h


REFUSALS = [
    ("unknown unit", lambda m: Move("ghost", hexid(m, 43, 10)), "no unit called 'ghost'"),
    ("off the map", lambda m: Move("sq", m.map.n + 5), "not a hex on this map"),
    ("move out of reach", lambda m: Move("sq", hexid(m, 5, 50)), "out of"),
    ("move in place", lambda m: Move("sq", hexid(m, 44, 10)), "already there"),
    ("move into enemy ground", lambda m: Move("sq", hexid(m, 48, 10)), "out of"),
    ("infiltrate by position", lambda m: Infiltrate("pos", hexid(m, 47, 12)), "cannot infiltrate"),
    ("infiltrate own ground", lambda m: Infiltrate("sq", hexid(m, 43, 10)), "already held by your side"),
    ("infiltrate too far", lambda m: Infiltrate("sq", hexid(m, 44 - MAX_D - 1, 10)), f"must be 1 to {MAX_D} hexes"),
    ("infiltrate too many", lambda m: Infiltrate("sq", hexid(m, 47, 10), personnel=8.0), "commit between"),
    ("infiltrate odd group", lambda m: Infiltrate("sq", hexid(m, 47, 10), group_size=20), "group size"),
    ("infiltrate by tank", lambda m: Infiltrate("sq", hexid(m, 47, 10), vehicle="tank"), "vehicle must be"),
    ("assault from afar", lambda m: Assault("sq", hexid(m, 47, 10)), "must be next to"),
    ("assault by drones", lambda m: Assault("dr", hexid(m, 41, 10)), "not a manoeuvre unit"),
    ("assault from reserve", lambda m: Assault("res", hexid(m, 39, 10)), "commit it first"),
    ("assault both sides", lambda m: Assault("sq", hexid(m, 45, 10), support=("ra",)), "both sides"),
    ("assault own ground", lambda m: Assault("sq", hexid(m, 45, 10)), "already held by your side"),
    ("strike beyond range", lambda m: Strike("dr", _farthest(m, "dr")), "beyond"),
    ("strike with rifles", lambda m: Strike("sq", hexid(m, 47, 10)), "no drones or guns"),
    ("strike mode", lambda m: Strike("dr", hexid(m, 47, 10), mode="nuke"), "mode must be"),
    ("commit not in reserve", lambda m: Commit("sq", hexid(m, 43, 10)), "is not in reserve"),
    ("reserve twice", lambda m: Reserve("res"), "already in reserve"),
    ("rotate in reserve", lambda m: Rotate("res"), "already resting"),
    ("rotate with enemy", lambda m: Rotate("sq", relief="ra"), "no unit of yours"),
    ("relief not in reserve", lambda m: Rotate("sq", relief="dr"), "is not in reserve"),
    ("dig by drones", lambda m: DigIn("dr"), "does not dig"),
    ("withdraw out of reach", lambda m: Withdraw("sq", to=hexid(m, 5, 50)), "out of reach"),
    ("not an order", lambda m: "move sq east", "not an order"),
]


@pytest.mark.parametrize("case, make, reason", REFUSALS, ids=[c[0] for c in REFUSALS])
def test_illegal_orders_refused_with_reason(legal_model, case, make, reason):
    m = legal_model
    got = m.try_issue(make(m))
    assert got is not None and reason in got, got
    assert not m.pending["ua"] and not m.pending["ru"]


def test_unit_ordered_twice(legal_model):
    m = legal_model
    assert m.try_issue(DigIn("sq")) is None
    got = m.try_issue(Reserve("sq"))
    assert got is not None and "already has an order" in got
    assert m.try_issue(Assault("ra", hexid(m, 46, 10), support=("ra",))) is not None  # named twice
    assert m.undo("ua") == DigIn("sq")
    assert m.try_issue(Reserve("sq")) is None


def test_a_reserve_relieves_one_unit_a_turn(make_model):
    units = [unit("a", "ua_squad", 44, 10), unit("b", "ua_squad", 44, 11),
             unit("res", "ua_assault_squad", 42, 10, reserve=True)]
    m = make_model(front_col=47, units=units, params=NO_GAPS)
    assert m.try_issue(Rotate("a", relief="res")) is None
    assert "already has an order" in m.try_issue(Rotate("b", relief="res"))  # it cannot be in two places
    assert "already has an order" in m.try_issue(Commit("res", hexid(m, 41, 10)))
    m.undo("ua")
    assert m.try_issue(Rotate("b", relief="res")) is None


def test_one_unit_may_infiltrate_several_hexes_within_its_cap(legal_model):
    m = legal_model
    ra = m.units["ra"]
    ra.status.personnel = 40.0  # 14 may go in a turn
    cap = ra.personnel * P.infiltration.max_commit_share
    a, b = hexid(m, 45, 10), hexid(m, 45, 11)
    assert m.try_issue(Infiltrate("ra", a, personnel=2.0)) is None
    assert "already has an order" in m.try_issue(Infiltrate("ra", a, personnel=1.0))  # the same hex twice
    assert "less 2 already sent" in m.try_issue(Infiltrate("ra", b, personnel=cap - 1.0))  # over the cap in all
    assert m.try_issue(Infiltrate("ra", b, personnel=cap - 2.0)) is None  # exactly the rest fits
    assert "already has an order" in m.try_issue(Reserve("ra"))  # any other order is still one to a unit
    m.undo("ru")
    assert "ra" in m.ordered_units() and m.ordered_units("ru") == {"ra"}  # the first infiltration still stands
    m.undo("ru")
    assert "ra" not in m.ordered_units()
    before = ra.personnel
    for target, n in ((a, 2.0), (b, 3.0)):
        assert m.try_issue(Infiltrate("ra", target, personnel=n)) is None
    m.end_turn()
    crossed = {e.hex for e in m.events if e.phase == "infiltration" and e.data.get("unit") == ra.name}
    assert {a, b} <= crossed and ra.personnel <= before - 5.0 + 1e-9  # both groups left the unit


def test_legal_orders_accepted(legal_model):
    m = legal_model
    assert m.try_issue(Move("sq", hexid(m, 43, 10))) is None
    assert m.try_issue(Infiltrate("ra", hexid(m, 45, 10), personnel=2.0)) is None
    assert m.try_issue(Strike("dr", hexid(m, 47, 10))) is None
    assert m.try_issue(Commit("res", hexid(m, 39, 11))) is None
    assert m.try_issue(DigIn("pos")) is None
    assert [o.unit for o in m.pending["ua"]] == ["sq", "dr", "res", "pos"]


def test_no_orders_after_the_game_ends(make_model):
    m = make_model(units=[unit("sq", "ua_squad", 44, 10)], turns=1, params=NO_GAPS)
    m.end_turn()
    assert m.over
    assert "game is over" in m.try_issue(DigIn("sq"))


def test_supply_states_order_matches_combat_factors():
    # the combat factor table is indexed by SUPPLY_STATES: supplied 1.0 down to encircled 0.5 (notes §4.7)
    assert SUPPLY_STATES == ("supplied", "strained", "op_encircled", "encircled")
    assert list(P.supply.combat_factor) == sorted(P.supply.combat_factor, reverse=True)


def test_the_log_says_when_an_offensive_opens_and_ends(make_model):
    import datetime as dt

    # daily turns from 1 July; the offensive runs 3-4 July: announced with the forecast for its first and last+1 day
    m = make_model(front_col=45, units=[unit("ru", "ru_assault_group", 46, 10)], params={"gap.g0": 0.0},
                   offensives=[{"name": "push on the station", "side": "ru", "start": dt.date(2025, 7, 3),
                                "end": dt.date(2025, 7, 4)}])
    said = {}
    for _ in range(5):
        for e in m.end_turn():
            if e.kind == "offensive":
                said[e.turn] = e.text
    assert said == {1: "The Russian command opens the push on the station, planned to 2025-07-04: its commanders "
                       "send more groups to more points.",
                    3: "The Russian command ends the push on the station."}
