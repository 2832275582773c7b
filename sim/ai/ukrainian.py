"""The Ukrainian commander: hold lines and towns, clear infiltrators, keep drones over each sector, rotate tired
units, commit scarce reserves where a breach threatens supply, dig the next line, and pull out of a pocket at the
trigger the doctrine sets ('late' as historically, or 'early').
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.ai.common import View, allowed, in_range, infiltration_size, road_side
from sim.geo.terrain import Terrain
from sim.orders import Assault, Commit, DigIn, Infiltrate, Move, Order, Rotate, Strike, Withdraw
from sim.rules.assault import odds
from sim.rules.infiltration import hunt_radius
from sim.rules.movement import (
    allowance_km,
    breakout_target,
    distance_to_enemy,
    first_by,
    prefetch_reach,
    reachable,
    withdrawal_target,
)
from sim.rules.supply import corridor_of


def _threatened_cities(m, v: View, p) -> set[int]:
    """City hexes of the scenario's city objectives, still Ukrainian, with the enemy within hold_cities_km."""
    if p.hold_cities_km <= 0:
        return set()
    cities = {ob.name for ob in m.scenario.objectives if ob.kind == "city"}
    dense = m.map.terrain == int(Terrain.CITY)
    reach = p.hold_cities_km / m.map.spec.hex_km
    return {int(h) for name in sorted(cities) for h in m.objective_hexes.get(name, ())
            if dense[h] and v.own[h] >= 0.5 and v.dist[h] <= reach}


def _strongpoints(m, v: View, p) -> np.ndarray:
    """Towns and city hexes within `ai.ua.strongpoint_km` of the enemy: the second line of strongpoints (notes
    §1.6). A unit holding one stays there rather than leave it empty to plug a gap; bombing may break its works,
    but ruins still shelter a garrison."""
    built_up = (m.map.terrain == int(Terrain.TOWN)) | (m.map.terrain == int(Terrain.CITY))
    return built_up & (v.dist * m.map.spec.hex_km <= p.strongpoint_km)


def _beyond_any_reach(m, unit, hid: int) -> bool:
    """Whether ``hid`` is surely out of the unit's reach this turn (`reachable`, not committed): farther in hex steps
    than its allowance pays for at the cheapest step there is (the best road's factor or the easiest terrain,
    which mud and rivers only make dearer). Reserves too far off to relieve a unit are so told without a search."""
    p = m.p
    cheapest_step = m.map.spec.hex_km * min(min(p.movement.road_factor), min(p.terrain.move_cost))
    return m.map.distance(unit.hex, hid) * cheapest_step > allowance_km(m, unit) + 1e-6


def _back_to_the_line(m, v: View, p, reserves: list, used: set[str], held: set[int]) -> list[tuple[Order, str]]:
    """Line units rested in reserve go back to uncovered stretches of the line; fire brigades stay back for
    breaches and reliefs. Without this, battalions that broke in the summer of 2024 rested behind the line for
    good: by September the line held 8 of 40 units while 22 rested ones sat idle."""
    out = []
    rested = [r for r in reserves
              if r.uid not in used and not r.utype.fire_brigade and r.status.cohesion >= p.ready_cohesion]
    prefetch_reach(m, rested, commit=True)
    taken = np.zeros(m.map.n, dtype=bool)
    taken[list(held)] = True
    for r in rested:
        reach = reachable(m, r, commit=True)
        h = reach.hexes
        h = h[(v.own[h] >= m.p.control.contested_high) & ~taken[h]]
        if h.size == 0:
            continue
        dest = int(h[first_by(np.abs(v.dist[h] - 1), reach.dist[h], h)])
        held.add(dest)
        taken[dest] = True
        out.append((Commit(r.uid, dest), f"{r.name} returns to the line at {m.hex_label(dest)}, rested to cohesion "
                    f"{r.status.cohesion:.0f}"))
    return out


def _city_garrisons(m, v: View, threatened: set[int], used: set[str]) -> list[tuple[Order, str]]:
    """Send the nearest spare rear unit towards each threatened city hex that has no Ukrainian unit in it."""
    manned = {u.hex for u in m.side_units("ua", "manoeuvre")}
    spare = [u for u in sorted(v.rear_units(), key=lambda u: u.uid)
             if u.uid not in used and not u.status.in_reserve and u.hex not in threatened]
    out = []
    for h in sorted(threatened - manned):
        if not spare:
            break
        to_city = m.map.distances_from(h)
        u = min(spare, key=lambda u: (to_city[u.hex], u.uid))
        reach = reachable(m, u)
        ok = reach.hexes[v.own[reach.hexes] >= 0.5]
        if ok.size == 0:
            continue
        dest = int(ok[np.lexsort((ok, reach.dist[ok], to_city[ok]))[0]])
        if to_city[dest] >= to_city[u.hex]:
            continue
        spare.remove(u)
        out.append((Move(u.uid, dest), f"{u.name} moves to garrison {m.hex_label(h)}: the enemy is "
                    f"{v.dist[h] * m.map.spec.hex_km:.0f} km away"))
    return out


def _pressure(m) -> np.ndarray:
    """Russian people a drone unit could strike near the line: troops within two hexes of Ukrainian ground, and
    infiltrators already on it."""
    near_line = distance_to_enemy(m, "ru") <= 2
    return m.manoeuvre_personnel("ru") * near_line + m.presence[0]


@njit(cache=True)
def _within_steps(q: np.ndarray, r: np.ndarray, froms: np.ndarray, tos: np.ndarray, steps: float) -> np.ndarray:
    """Which hexes of ``tos`` are at most ``steps`` hexes from each of ``froms``, as a (froms, tos) mask: the hex
    distance of `hexgrid.distance_arrays` (axial ``q``, ``r``), without building the whole distance matrix.

    That distance is (|dq| + |dr| + |dq + dr|) // 2, a whole number, so it is at most ``steps`` exactly when the
    sum is at most 2 floor(steps) + 1."""
    most = 2 * math.floor(steps) + 1
    to_q, to_r = q[tos], r[tos]
    out = np.empty((froms.size, tos.size), np.bool_)
    for i in range(froms.size):
        from_q, from_r = q[froms[i]], r[froms[i]]
        for j in range(tos.size):
            dq = from_q - to_q[j]
            dr = from_r - to_r[j]
            out[i, j] = abs(dq) + abs(dr) + abs(dq + dr) <= most
    return out


@njit(cache=True, fastmath=True)
def _most_within_steps(q: np.ndarray, r: np.ndarray, froms: np.ndarray, tos: np.ndarray, weights: np.ndarray,
                       steps: float) -> float:
    """The largest sum of ``weights`` over the hexes of ``tos`` within ``steps`` of one of ``froms`` (0 if none):
    ``(_within_steps(...) @ weights).max()`` in one pass. Summed in any order (fastmath lets it use vector
    registers, several times faster), so it may differ from that in the last bits."""
    most = 2 * math.floor(steps) + 1
    to_q, to_r = q[tos], r[tos]
    best = 0.0
    for i in range(froms.size):
        from_q, from_r = q[froms[i]], r[froms[i]]
        total = 0.0
        for j in range(tos.size):
            dq = from_q - to_q[j]
            dr = from_r - to_r[j]
            total += weights[j] if abs(dq) + abs(dr) + abs(dq + dr) <= most else 0.0
        best = max(best, total)
    return best


def _hunted(m, hexes: np.ndarray) -> np.ndarray:
    """Which of ``hexes`` infiltrators hunting drone crews can reach: those within `hunt_radius` of a hex with one
    or more. The hex distance is the number of steps `hex_steps_to` counts on our maps, and for the few hexes
    asked about costs less than those steps over the whole map."""
    hunters = np.flatnonzero(m.presence[0] >= 1)
    return _within_steps(m.map.q, m.map.r, hexes, hunters, hunt_radius(m)).any(axis=1)


def _drone_posts(m, v: View, p, drones: list) -> dict[str, tuple[int, str]]:
    """Moves that put drone units over the Russian pressure: in uid order, each takes the post at its distance
    behind the line whose strike range covers the most pressure the units before it left uncovered (a second
    unit over the same ground counts `ai.ua.drone_overlap` as much), if that is `ai.ua.drone_shift_margin` times
    what its present post covers. Posts within reach of infiltrators hunting crews are avoided and left; a unit
    too near or too far from the line steps back to its distance."""
    if not drones:
        return {}
    hm = m.map
    left = _pressure(m)
    targets = np.flatnonzero(left > 0)
    crews_hunted = _hunted(m, np.array([u.hex for u, _ in drones], dtype=np.int64))
    band: dict[int, np.ndarray] = {}  # per distance wanted, the posts there would be if all ground were in reach
    out: dict[str, tuple[int, str]] = {}
    for (u, want), crew_hunted in zip(drones, crews_hunted, strict=True):
        steps = u.utype.range_km / hm.spec.hex_km
        here_ok = abs(int(v.dist[u.hex]) - want) <= 1 and not crew_hunted
        covers_here = hm.distances_from(u.hex)[targets] <= steps
        pressure = left[targets]  # as the units before this one left it
        here = float(pressure @ covers_here)
        dest, covered = None, covers_here
        if want not in band:
            own = np.flatnonzero((v.own >= 0.5) & (v.dist >= want) & (v.dist <= want + 1))
            band[want] = own[~_hunted(m, own)]  # own ground out of the hunters' reach
        anywhere = band[want][band[want] != u.hex]
        if here_ok and targets.size and anywhere.size:
            # no post at all, reachable or not, beats this one (with room for rounding): skip the reach search
            most = _most_within_steps(hm.q, hm.r, anywhere, targets, pressure, steps)
            stays = most == 0 or most * (1 + 1e-9) < p.drone_shift_margin * here
        else:
            stays = here_ok
        if not stays:
            reach = reachable(m, u)
            posts = anywhere[np.isfinite(reach.dist[anywhere])]
            if posts.size and targets.size:
                covers = _within_steps(hm.q, hm.r, posts, targets, steps)
                value = covers @ pressure
                best = first_by(-value, reach.dist[posts], posts)
                if value[best] > 0 and (value[best] > p.drone_shift_margin * here or not here_ok):
                    dest, covered = int(posts[best]), covers[best]
                    out[u.uid] = (dest, f"{u.name} moves over the Russian pressure at {m.hex_label(dest)}: ~"
                                        f"{value[best]:.0f} people in its range, against ~{here:.0f} where it is")
        if dest is None and not here_ok:
            step = v.step_towards(u, want)
            if step is not None:
                out[u.uid] = (step, f"{u.name} repositions {want} hexes behind the line")
                covered = hm.distances_from(step)[targets] <= steps
        left[targets[covered]] *= p.drone_overlap
    return out


def ukrainian_orders(m, skill: float = 1.0) -> list[tuple[Order, str]]:
    p = m.p.ai.ua
    v = View(m, "ua")
    km = m.map.spec.hex_km
    out: list[tuple[Order, str]] = []
    used: set[str] = set()
    trigger = p.late_corridor_km if p.withdraw_trigger == "late" else p.early_corridor_km
    ru_presence = m.presence[0] * (v.own > 0.2)
    strongpoint = _strongpoints(m, v, p)
    reserves = sorted([u for u in m.side_units("ua", "manoeuvre") if u.status.in_reserve and not u.status.broken],
                      key=lambda u: u.uid)

    def give(order: Order, reason: str) -> None:
        out.append((order, reason))
        used.update(order.busy)

    # hexes next door that a unit may clear of infiltrators (those Ukraine holds outright its garrison clears), and
    # which front units have one next door or infiltrators in their own hex: most have neither
    infiltrated = (ru_presence > 0.5) & (v.own < m.p.control.contested_high)
    front = sorted(v.front_units(), key=lambda u: u.uid)
    front_hexes = np.array([u.hex for u in front], dtype=np.int64)
    nbr = m.map.nbr[front_hexes]
    beside_infiltrators = ((nbr >= 0) & infiltrated[nbr]).any(axis=1) | (ru_presence[front_hexes] > 0.5)
    for u, infiltrators_near in zip(front, beside_infiltrators.tolist(), strict=True):
        if u.status.in_reserve:
            continue
        cut_off = u.status.supply in ("op_encircled", "encircled")
        if u.status.supply == "encircled" and breakout_target(m, u) is not None:
            give(Withdraw(u.uid), f"{u.name} breaks out: it is encircled")
            continue
        corridor = corridor_of(m, u) if cut_off else float("inf")
        if corridor <= trigger and u.status.supply != "encircled" and withdrawal_target(m, u) is not None:
            give(Withdraw(u.uid), f"{u.name} withdraws: the corridor is {corridor:.1f} km wide, at or below the "
                 f"{p.withdraw_trigger} trigger of {trigger:.1f} km")
            continue
        if u.status.cohesion < p.rotate_below:
            relief = next((r for r in reserves if r.uid not in used and r.status.cohesion >= p.ready_cohesion
                           and not _beyond_any_reach(m, r, u.hex) and u.hex in reachable(m, r)), None)
            if relief is not None:
                give(Rotate(u.uid, relief.uid), f"{u.name} rotates out at cohesion {u.status.cohesion:.0f}; "
                     f"{relief.name} relieves it")
                continue
        # clear infiltrators next door: assault where the odds are good, else counter-infiltrate
        # neighbours Ukraine holds outright are cleared by their garrison; orders may only target the others.
        # A strongpoint's garrison sends clearing groups rather than the whole unit: a counter-attack puts all of
        # it in the open under Russian drones, and a battalion bled that way soon has to leave its town
        if infiltrators_near:
            near = [int(h) for h in m.map.nbr[u.hex] if h >= 0 and infiltrated[h]]
            near += [u.hex] if ru_presence[u.hex] > 0.5 else []
            h = max(near, key=lambda h: (ru_presence[h], -h))
            if (h != u.hex and not strongpoint[u.hex] and m.control[h] < m.p.control.contested_high
                    and allowed(m, Assault(u.uid, h))):
                o = odds(m, Assault(u.uid, h), v.cache)
                if o["ratio"] >= p.counterattack_odds / skill:
                    give(Assault(u.uid, h), f"{u.name} counter-attacks {m.hex_label(h)} at odds {o['ratio']:.1f} "
                         f"against ~{ru_presence[h]:.0f} infiltrators")
                    continue
            n = infiltration_size(m, u, max(1.0, u.personnel * 0.2))
            if u.utype.can_infiltrate and h != u.hex and n is not None:
                give(Infiltrate(u.uid, h, personnel=n), f"{u.name} sends clearing groups into {m.hex_label(h)}")
                continue
        if p.dig_in and m.fort[u.hex] < 2:
            give(DigIn(u.uid), f"{u.name} digs in at {m.hex_label(u.hex)} (works level {m.fort[u.hex]})")
    # reserves to the worst breach near the supply roads
    threat = ru_presence * (1.0 + road_side(m, 2))
    ready = [r for r in reserves if r.uid not in used and r.status.cohesion >= p.ready_cohesion]
    for i, r in enumerate(ready):
        if threat.max() <= 0 or m.control[int(np.argmax(threat))] < p.reserve_commit * 0.5:
            break
        spots = np.argsort(-threat)[:5]
        if i == 0:  # the loop seldom stops early: find every ready reserve's reach in one go
            prefetch_reach(m, ready, commit=True)
        best = reachable(m, r, commit=True)
        for h in spots:
            h = int(h)
            if threat[h] <= 0:
                break
            cand = [int(x) for x in m.map.nbr[h] if x >= 0 and int(x) in best and v.own[int(x)] >= 0.8]
            if cand:
                dest = min(cand, key=lambda x: (float(best.dist[x]), x))
                if dest != r.hex:
                    give(Commit(r.uid, dest), f"{r.name} is committed towards the breach at {m.hex_label(h)} "
                         f"(~{ru_presence[h]:.0f} infiltrators beside a supply road)")
                    threat[h] = 0
                    break
    # cities the front nears get a garrison of their own; then thin sectors get the rear's spare units, one unit
    # to a hex so the line is covered rather than stacked
    held = {u.hex for u in m.side_units("ua", "manoeuvre")}
    for order, reason in _back_to_the_line(m, v, p, reserves, used, held):
        give(order, reason)
    threatened = _threatened_cities(m, v, p)
    for order, reason in _city_garrisons(m, v, threatened, used):
        give(order, reason)
    movers = [u for u in sorted(v.rear_units(), key=lambda u: u.uid)
              if u.uid not in used and not u.status.in_reserve and u.hex not in threatened and not strongpoint[u.hex]]
    v.prefetch_rear(movers)  # exactly the units that move up (the default would search every rear unit)
    for u in movers:
        dest = v.step_towards(u, 1, avoid=held)
        if dest is not None:
            held.add(dest)
            give(Move(u.uid, dest), f"{u.name} moves up to an uncovered stretch of the line at {m.hex_label(dest)}")
    # drones where the Russian pressure is, guns a half range behind the line; both strike what they reach
    support = sorted(m.side_units("ua", "drone") + m.side_units("ua", "fires"), key=lambda u: u.uid)
    # a third (drones) or half (guns) of their range behind the line, and beyond the infiltrators' reach, but never
    # so far back that they cannot strike past the line (at most half their range)
    wants = [max(1, int(u.utype.range_km / (3.0 if u.utype.role == "drone" else 2.0) / km),
                 int(min(p.standoff_km, u.utype.range_km / 2.0) / km)) for u in support]
    posts = _drone_posts(m, v, p, [(u, w) for u, w in zip(support, wants, strict=True) if u.utype.role == "drone"])
    guns = [u for u, want in zip(support, wants, strict=True) if u.utype.role != "drone"
            and abs(int(v.dist[u.hex]) - want) > 1]
    prefetch_reach(m, guns)
    shell_value = None
    for u, want in zip(support, wants, strict=True):
        if u.uid in posts:
            dest, reason = posts[u.uid]
            give(Move(u.uid, dest), reason)
            continue
        if u in guns:
            dest = v.step_towards(u, want)
            if dest is not None:
                give(Move(u.uid, dest), f"{u.name} repositions {want} hexes behind the line")
                continue
        reach = in_range(m, u.hex, u.utype.range_km)
        if not reach.size:
            continue
        drone = u.utype.role == "drone"
        if not drone and shell_value is None:  # Russian garrisons off Ukrainian ground, once for all guns
            shell_value = v.enemy_garrison * (v.own < 0.5)
        value = (ru_presence if drone else shell_value)[reach]
        best = int(np.argmax(value))
        if value[best] > 0:
            t = int(reach[best])
            give(Strike(u.uid, t), f"{u.name} hunts ~{ru_presence[t]:.0f} infiltrators at {m.hex_label(t)}" if drone
                 else f"{u.name} shells Russian concentration at {m.hex_label(t)}")
    return out
