"""Infiltration, the central rule (notes §4.4): a flow of small groups through a capacity-limited sieve.

1. Commit: a unit sends n people as groups of g towards a target hex.
2. Cross: each group is detected with p = 1 - exp(-eta I V Cn m_veh sqrt(g) t_exp km), where km is the kill-zone
   ground crossed.
3. Strike: the defender's strike pool kills detected people until it runs dry; the rest get through.
4. Accumulate: survivors join the side's hidden presence in the target hex.
5. Clear: each turn the defender finds presence with ISR and infantry, and kills what it finds.
6. Side effects: presence interdicts roads (see isr.py), hunts drone crews near it and spots for its own side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim import hexgrid
from sim.orders import Infiltrate
from sim.rules.cohesion import full_strength
from sim.rules.control import frozen_mask
from sim.units import VEHICLES, Unit, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def concealment(m: WargameModel, side_defending: str, hexes: np.ndarray | None = None) -> np.ndarray:
    """Detection multiplier Cn per hex (in ``hexes`` only, if given) for infiltrators of the other side: terrain,
    foliage, unmanned works, snow."""
    if hexes is None:
        cn = _ground_concealment(m).copy()
        works = np.flatnonzero(m.fort > 0)
        if works.size:
            cn[works] = concealment(m, side_defending, works)
        return cn
    return _concealment_at(m, side_defending, hexes)


def _concealment_at(m: WargameModel, side_defending: str, hexes: np.ndarray,
                    personnel: np.ndarray | None = None) -> np.ndarray:
    """`concealment` in ``hexes``; ``personnel`` is the defender's `manoeuvre_personnel`, if the caller has it.
    Only hexes with works ask whether they are manned (a third of the calls have none)."""
    cn = _ground_concealment(m)[hexes]
    works = np.flatnonzero(m.fort[hexes] > 0)
    if works.size:
        if personnel is None:
            personnel = m.manoeuvre_personnel(side_defending)
        unmanned = works[~_manned(m, side_defending, hexes[works], personnel)]
        cn[unmanned] *= m.p.fortification.unmanned_shelter
    return cn


def concealment_by_hex(m: WargameModel, side_defending: str, hexes: list[int]) -> dict[int, float]:
    """`concealment` in a few hexes, as {hex: Cn}: orders look up their targets one at a time."""
    ids = np.array(sorted(set(hexes)), dtype=np.int64)  # np.unique's order, at a fraction of its cost for a few ids
    return dict(zip(ids.tolist(), concealment(m, side_defending, ids).tolist(), strict=True))


def _ground_concealment(m: WargameModel) -> np.ndarray:
    """Cn from terrain, foliage and snow alone: it changes with the weather only (cached on the model)."""
    p = m.p
    leaf_on, snow = m.weather.get("leaf_on", True), bool(m.weather.get("snow_cover"))
    key = (m.map, tuple(p.terrain.concealment), p.terrain.treeline_leaf_off, p.weather.snow_cover_detection,
           leaf_on, snow)
    cached = m.__dict__.get("_ground_concealment")
    if cached is None or cached[0] != key:
        cn = np.asarray(p.terrain.concealment, dtype=float)[m.map.terrain]
        if not leaf_on:
            cn = np.where(m.map.terrain == 1, p.terrain.treeline_leaf_off, cn)
        if snow:
            cn = cn * p.weather.snow_cover_detection
        cn.flags.writeable = False
        cached = m._ground_concealment = (key, cn)
    return cached[1]


def manned(m: WargameModel, side: str, hexes: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Hexes whose fortifications count for ``side``: its garrison meets the manning threshold (in ``hexes`` only,
    if given)."""
    return _manned(m, side, hexes, m.manoeuvre_personnel(side))


def _manned(m: WargameModel, side: str, hexes: np.ndarray | slice, personnel: np.ndarray) -> np.ndarray:
    """`manned`, given the side's `manoeuvre_personnel`."""
    s = 0 if side == "ru" else 1
    return (personnel[hexes] + m.presence[s, hexes]) * m.gap[s, hexes] >= _manning_need(m)


def manned_at(m: WargameModel, side: str, hid: int) -> bool:
    """``manned(m, side)[hid]``, for one hex: an assault's defence asks about its target alone."""
    s = 0 if side == "ru" else 1
    return bool((m.manoeuvre_personnel_at(side, hid) + m.presence[s, hid]) * m.gap[s, hid] >= _manning_need(m))


def _manning_need(m: WargameModel) -> float:
    return m.p.fortification.manning_per_km * m.map.spec.hex_km


def detection_probability(eta: float, isr: float, visibility: float, cn: float, vehicle: str, group: int,
                          km: float, p) -> float:
    """Chance that one group is detected crossing ``km`` of the defender's kill zone."""
    return 1.0 - math.exp(-_detection_exponent(eta, isr, visibility, cn, VEHICLES.index(vehicle), group, km, p))


def _detection_exponent(eta, isr, visibility, cn, vehicle, group, km, p):
    """eta I V Cn m_veh sqrt(g) t_exp km for one group (``vehicle`` an index into VEHICLES) or, given arrays, for
    many: the same products in the same order, so each element is bit for bit what one group alone gives."""
    m_veh = np.asarray(p.infiltration.vehicle_detect)[vehicle]
    t_exp = np.asarray(p.infiltration.vehicle_exposure)[vehicle]
    return eta * isr * visibility * cn * m_veh * np.sqrt(group) * t_exp * km


def preview(m: WargameModel, order: Infiltrate) -> dict:
    """Expected outcome of an infiltration before it is committed: numbers and the reasons behind them."""
    unit = m.units[order.unit]
    p = m.p
    defender = other(unit.side)
    d = 1 if defender == "ua" else 0
    n = committed(m, order)
    g = order.group_size or p.infiltration.group_size
    vehicle = order.vehicle or ("none" if unit.utype.vehicle == "apc" else unit.utype.vehicle)
    vis = m.weather.get("visibility", 1.0) * _night(m)
    km = m.map.distance(unit.hex, order.target) * m.map.spec.hex_km
    cn = float(concealment(m, defender)[order.target])
    isr = float(m.isr[d, order.target])
    pdet = detection_probability(p.infiltration.eta, isr, vis, cn, vehicle, g, km, p)
    pool = getattr(m, "strike_pools", {}).get(defender)
    cap = float(pool.capacity[pool.reach[:, order.target]].sum()) if pool is not None and len(pool.units) else 0.0
    detected = n * pdet
    killed = min(detected, cap)
    return {"committed": n, "groups": math.ceil(n / g), "p_detect": pdet, "expected_detected": detected,
            "strike_capacity": cap, "expected_killed": killed, "expected_survivors": n - killed,
            "survival": (n - killed) / n if n else 0.0,
            "reasons": [f"defender drone coverage {isr:.2f}", f"visibility {vis:.2f}", f"concealment {cn:.2f}",
                        f"groups of {g} {'on foot' if vehicle == 'none' else 'by ' + vehicle}",
                        f"{km:.1f} km of kill zone to cross", f"defender strike capacity in reach ~{cap:.0f} kills"]}


def committed(m: WargameModel, order: Infiltrate) -> float:
    return _committed(m.units[order.unit], order, m.p)


def _committed(unit: Unit, order: Infiltrate, p) -> float:
    """`committed`, for a caller that has the unit at hand."""
    cap = unit.personnel * p.infiltration.max_commit_share
    want = order.personnel if order.personnel is not None else unit.personnel * p.ai.ru.commit_share
    return float(max(0.0, min(want, cap)))


def left_to_send(m: WargameModel, unit) -> tuple[float, float]:
    """(personnel already sent by the unit's infiltration orders this turn, personnel it may still send)."""
    p = m.p
    # most often the unit's first order this turn: a unit no order takes up has none to search
    mine = m.pending_for(unit.side, unit.uid) if unit.uid in m.ordered_units() else ()
    sent = sum(_committed(unit, o, p) for o in mine if isinstance(o, Infiltrate) and o.unit == unit.uid) if mine else 0
    return sent, unit.personnel * p.infiltration.max_commit_share - sent


def _night(m: WargameModel) -> float:
    return m.p.weather.night_factor if "night" in m.scenario.calendar.phases else 1.0


@dataclass(slots=True)
class _Batch:
    """One infiltration order on its way: who crosses where, how, and how many the defender detects."""

    order: Infiltrate
    unit: Unit
    n: int  # people committed
    g: int  # people per group
    vehicle: str
    groups: int
    cn: float  # concealment of the target
    pdet: float = 0.0  # chance that one group is detected
    detected: int = 0  # people in detected groups


def cross(m: WargameModel) -> None:
    """Resolve every infiltration order: commit, cross, strike, accumulate."""
    p = m.p
    flows = [o for o in m.turn_orders if isinstance(o, Infiltrate)]
    if not flows:
        return
    vis = m.weather["visibility"] * _night(m)
    cn_by_side = {}
    batches = []
    frozen = frozen_mask(m)
    for order in flows:
        unit = m.units.get(order.unit)
        if unit is None or not unit.alive:
            continue
        if frozen is not None and frozen[order.target]:  # classroom hook: nobody infiltrates a ceasefire sector
            m.emit("infiltration", "ceasefire", unit.side, order.target,
                   "{unit} does not infiltrate {target}: a ceasefire freezes that sector.",
                   unit=unit.name, target=m.hex_label(order.target))
            continue
        defender = other(unit.side)
        if defender not in cn_by_side:  # the garrisons as they are now: the first side's groups have left already
            cn_by_side[defender] = concealment_by_hex(m, defender, [o.target for o in flows])
        n = round(_committed(unit, order, p))
        if n < 1:
            continue
        g = order.group_size or p.infiltration.group_size
        vehicle = order.vehicle or ("none" if unit.utype.vehicle == "apc" else unit.utype.vehicle)
        unit.status.personnel -= float(n)  # they leave the unit: now in the field
        batches.append(_Batch(order, unit, n, g, vehicle, math.ceil(n / g), cn_by_side[defender][order.target]))
    if not batches:
        return
    # detection chances for all batches at once (nothing they depend on changed in the loop)
    targets = np.array([b.order.target for b in batches])
    origins = np.array([b.unit.hex for b in batches])
    defenders = np.array([1 if b.unit.side == "ru" else 0 for b in batches])
    hm = m.map
    steps = hexgrid.distance_arrays(hm.q[origins], hm.r[origins], hm.q[targets], hm.r[targets])
    exponent = _detection_exponent(p.infiltration.eta, m.isr[defenders, targets], vis, np.array([b.cn for b in batches]),
                                   np.array([_VEHICLE_INDEX[b.vehicle] for b in batches]),
                                   np.array([b.g for b in batches]), np.maximum(1, steps) * hm.spec.hex_km, p)
    for b, x in zip(batches, exponent.tolist(), strict=True):
        b.pdet = 1.0 - math.exp(-x)  # math's exp, as one group at a time: numpy's may differ in the last bit
    # one call draws for every batch in turn, exactly as one call per batch would
    det_groups = m.rng.binomial([b.groups for b in batches], [b.pdet for b in batches]).tolist()
    for b, det in zip(batches, det_groups, strict=True):
        b.detected = min(b.n, det * b.g)
    # strikes: each defending side's pool serves all detected groups at once, vehicles before men on foot
    for defender in ("ru", "ua"):
        mine = [b for b in batches if b.unit.side != defender]
        if mine:
            _strike(m, defender, mine, vis)


_VEHICLE_INDEX = {v: i for i, v in enumerate(VEHICLES)}


def _strike(m: WargameModel, defender: str, batches: list[_Batch], vis: float) -> None:
    """One defender's strike pool kills detected infiltrators (mounted groups first); the rest join the presence."""
    pool = m.strike_pools[defender]
    targets = [b.order.target for b in batches]
    target_array = np.array(targets)
    wanted = np.array([b.detected for b in batches], dtype=float)
    mounted = np.array([b.vehicle != "none" for b in batches])
    share = np.zeros(len(batches))
    for tier in (mounted, ~mounted):
        if not tier.any():
            continue
        hexes, tier_wanted = target_array[tier], wanted[tier]
        target = np.bincount(hexes, weights=tier_wanted, minlength=m.map.n)  # added in order, as np.add.at would
        kills = pool.allocate(target)
        shared = target[hexes]
        share[tier] = np.where(shared > 0, kills[hexes] * tier_wanted / np.where(shared > 0, shared, 1.0), 0.0)
    share = share.tolist()
    # one call draws for every detected batch in turn; a batch with nobody detected draws nothing either way
    kill_p = [min(1.0, expected / b.detected) if b.detected else 0.0 for b, expected in zip(batches, share, strict=True)]
    killed_all = m.rng.binomial([b.detected for b in batches], kill_p).tolist()
    side = other(defender)
    a = 0 if side == "ru" else 1
    seen = m.isr[1 - a, target_array].tolist()
    hidden = dict(zip(targets, m.presence[a, target_array].tolist(), strict=True))  # each target's, as it grows
    for b, expected, killed, isr in zip(batches, share, killed_all, seen, strict=True):
        unit, n, target, detected = b.unit, b.n, b.order.target, b.detected
        survivors = n - killed
        m.record_loss(side, "drones", killed)
        unit.status.losses["drones"] = unit.status.losses.get("drones", 0.0) + killed
        hidden[target] += survivors
        m.emit("infiltration", "infiltration", side, target,
               "Infiltration into {target} by {unit}: {n} committed in {groups} groups of {g}{veh}, {det} "
               "detected (chance {pdet:.0%} per group: coverage {isr:.2f}, visibility {vis:.2f}), {killed} killed "
               "by drones and fires ({cap}), {surv} got through; hidden presence there now {pres:.0f}.",
               target=m.hex_label(target), unit=unit.name, n=n, groups=b.groups, g=b.g,
               veh="" if b.vehicle == "none" else f" on {b.vehicle}s", det=detected, pdet=b.pdet,
               isr=isr, vis=vis, killed=killed,
               cap="strike capacity ran out" if expected < detected - 0.5 else "capacity sufficed",
               surv=survivors, pres=hidden[target])
    m.presence[a, list(hidden)] = list(hidden.values())


def clear(m: WargameModel) -> None:
    """Defenders find and kill hidden presence in ground they hold or contest, with drones and infantry."""
    p = m.p
    days = m.turn_days
    for side in ("ru", "ua"):
        a = 0 if side == "ru" else 1
        d = 1 - a
        defender = other(side)
        pres = m.presence[a]
        hexes = np.flatnonzero((pres > 0.5) & (m.own_share(side) < p.control.contested_high))
        if hexes.size == 0:
            continue
        personnel = m.manoeuvre_personnel(defender)
        cn = _concealment_at(m, defender, hexes, personnel)
        garrison = (personnel[hexes] + m.presence[d, hexes]) * m.gap[d, hexes]
        rate = p.infiltration.clear_eta * m.isr[d, hexes] * m.weather["visibility"] * cn \
            + p.infiltration.clear_zeta * garrison / m.map.area_km2
        p_find = 1.0 - np.exp(-rate * days)
        # np.minimum(np.maximum(...)) is np.clip without its overhead, ten times the work for a few hundred hexes
        found = m.rng.binomial(np.round(pres[hexes]).astype(np.int64), np.minimum(np.maximum(p_find, 0.0), 1.0))
        target = np.zeros(m.map.n)
        target[hexes] = found
        drone_exp = m.strike_pools[defender].allocate(target)[hexes]
        ratio = garrison / np.maximum(found, 1)
        inf_exp = np.minimum(found - drone_exp, found * np.minimum(1.0, p.infiltration.infantry_kill * days / 7.0
                                                                   * np.minimum(ratio, 5.0)))
        inf_exp = np.maximum(inf_exp, 0.0)
        kill_p = np.where(found > 0, np.minimum(np.maximum((drone_exp + inf_exp) / np.maximum(found, 1), 0.0), 1.0), 0.0)
        # found is drawn from the rounded presence (1.5 hidden -> 2 to find): never kill more than are there
        killed = np.minimum(m.rng.binomial(found, kill_p), pres[hexes])
        drone_part = np.where(drone_exp + inf_exp > 0, drone_exp / np.maximum(drone_exp + inf_exp, 1e-9), 0.0)
        by_drones = np.minimum(np.round(killed * drone_part), killed)
        # hunger: presence beyond its own supply wastes away
        unsupplied = m.supply_ratio[a, hexes] < p.supply.op_encircled
        starve = np.where(unsupplied, pres[hexes] * p.infiltration.unsupplied_attrition * days, 0.0)
        starve = np.minimum(starve, pres[hexes] - killed)
        m.presence[a, hexes] = np.maximum(pres[hexes] - killed - starve, 0.0)
        m.record_loss(side, "drones", float(by_drones.sum()))
        m.record_loss(side, "clearance", float((killed - by_drones).sum()))
        m.record_loss(side, "attrition", float(starve.sum()))
        hit = np.flatnonzero(killed >= 1)
        if hit.size == 0:
            continue
        at = hexes[hit]
        left = m.presence[a, at]
        before = left + killed[hit] + starve[hit]
        for h, n_found, n_before, isr, c, gar, n_killed, drones, n_left in zip(
                at.tolist(), found[hit].tolist(), before.tolist(), m.isr[d, at].tolist(), cn[hit].tolist(),
                garrison[hit].tolist(), killed[hit].tolist(), by_drones[hit].tolist(), left.tolist(), strict=True):
            m.emit("clearance", "clearance", defender, h,
                   "Clearing {place}: {found} of {pres:.0f} hidden infiltrators found (ISR {isr:.2f}, "
                   "concealment {cn:.2f}, garrison {gar:.0f}), {killed} killed ({drones:.0f} by drones); "
                   "{left:.0f} remain.",
                   place=m.hex_label(h), found=n_found, pres=n_before, isr=isr, cn=c, gar=gar,
                   killed=int(n_killed), drones=drones, left=n_left)


def hunt_radius(m: WargameModel) -> int:
    """Hex steps within which infiltrators hunt drone crews (`isr.hunt_radius_km`, at least one hex)."""
    return max(1, round(m.p.isr.hunt_radius_km / m.map.spec.hex_km))


def hunt_crews(m: WargameModel) -> None:
    """Infiltrators near enemy drone units hunt their crews: a drone is easy to replace, an operator is not."""
    p = m.p
    radius = hunt_radius(m)
    for side in ("ru", "ua"):
        hunters_side = 0 if other(side) == "ru" else 1
        hunters = m.presence[hunters_side]
        for u in sorted(m.side_units(side, "drone"), key=lambda u: u.uid):
            near = float(hunters[_hexes_within(m.map, u.hex, radius)].sum())
            if near >= 1:
                loss = min(p.isr.crew_loss_max, near * p.isr.crew_loss_per_hunter) * m.turn_days / 7.0
                u.status.crew = max(0.1, u.status.crew - loss)
                m.emit("infiltration", "crew_hunt", other(side), u.hex,
                       "{n:.0f} enemy infiltrators near {unit} hunt its operators: crew factor down {loss:.0%} to "
                       "{crew:.0%}.", n=near, unit=u.name, loss=loss, crew=u.status.crew)
            else:
                u.status.crew = min(1.0, u.status.crew + p.isr.crew_recovery * m.turn_days / 7.0)
            ceiling = getattr(m, "crew_ceiling", {}).get(side)
            if ceiling is not None and m.turn < ceiling[1]:  # classroom hook: a drone-shortage inject caps crews
                u.status.crew = min(u.status.crew, ceiling[0])


def _hexes_within(hexmap, hid: int, radius: int) -> np.ndarray:
    """Ids, in order, of the hexes at most ``radius`` steps from ``hid`` (cached on the map: drone units seldom move)."""
    cache = hexmap.__dict__.setdefault("_hexes_within_cache", {})
    hit = cache.get((hid, radius))
    if hit is None:
        if len(cache) > 4096:
            cache.clear()
        hit = cache[(hid, radius)] = np.flatnonzero(hexmap.distances_from(hid) <= radius)
    return hit


def absorb(m: WargameModel) -> None:
    """Presence in ground its side now holds rejoins the side's units, if a unit stands within a few hexes.

    The people fill units up to full strength (`cohesion.full_strength`, as replacements do), nearest first: those
    within the few hexes, then under-strength units farther off, to which the men are sent back. Only what no unit
    has room for stays with the nearest, so detachments at the tip of an advance do not swell without bound.
    """
    hi = m.p.control.contested_high
    for side in ("ru", "ua"):
        s = 0 if side == "ru" else 1
        units = m.side_units(side, "manoeuvre")
        if not units:
            continue
        hexes = np.flatnonzero((m.presence[s] > 0) & (m.own_share(side) >= hi))
        if hexes.size == 0:
            continue
        at = np.array([u.hex for u in units])
        hm = m.map
        steps = hexgrid.distance_arrays(hm.q[at], hm.r[at], hm.q[hexes, None], hm.r[hexes, None])  # hex x unit
        by_distance = np.argsort(steps, axis=1, kind="stable")
        full = np.array([full_strength(m, u) for u in units])
        for h, row, order in zip(hexes.tolist(), steps, by_distance.tolist(), strict=True):
            nearest = order[0]  # the first unit at the least distance, as argmin gives
            if row[nearest] > 3:
                continue
            left = float(m.presence[s, h])
            m.presence[s, h] = 0.0
            for i in order:
                room = full[i] - units[i].personnel
                if room > 0:
                    take = min(room, left)
                    units[i].status.personnel += float(take)
                    left -= take
                    if left <= 0:
                        break
            if left > 0:
                units[nearest].status.personnel += float(left)
