"""The Russian commander: seep in by infiltration, assault where the odds allow and drones are blind, envelop
towns and cut roads rather than storm them, drive at the scenario's main effort while holding elsewhere, feed
units forward along the whole line, and pause units only when losses exceed the loss tolerance.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim.ai.common import (
    View,
    allowed,
    best_reachable,
    current_offensive,
    in_range,
    infiltration_size,
    main_effort_km,
    road_side,
)
from sim.geo.terrain import Terrain
from sim.orders import Assault, Commit, Infiltrate, Move, Order, Reserve, Strike
from sim.rules.assault import best_odds, gain_chance
from sim.rules.legality import assault_targets
from sim.rules.movement import prefetch_reach, reachable


def _cities(m) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The map's city hexes, their neighbours (-1 off the map) and a mask of the hexes that are not cities; worked
    out once per map, as terrain never changes in a game (read-only)."""
    cache = m.__dict__.get("_ai_cities")
    if cache is None or cache[0] is not m.map:
        dense = m.map.terrain == int(Terrain.CITY)
        cities = np.flatnonzero(dense)
        cache = m._ai_cities = (m.map, cities, m.map.nbr[cities], ~dense)
        for a in cache[1:]:
            a.flags.writeable = False
    return cache[1:]


def _target_scores(m, v: View, p, effort_km: np.ndarray) -> np.ndarray:
    """How attractive each hex is to infiltrate: thin garrison, partly taken, beside roads, hidden from drones,
    towards the main effort's current objective; a city only once it is mostly surrounded. The factors are
    multiplied in place, in this order."""
    cities, around, open_ground = _cities(m)
    scores = 1.0 / (1.0 + v.enemy_garrison / 50.0)  # weakness
    scores *= 1.0 + 2.0 * v.own  # progress
    scores *= 1.0 + p.envelop_weight * (road_side(m) & open_ground)  # envelop
    scores *= 1.0 - 0.5 * m.isr[v.e]  # blind
    if np.isfinite(effort_km).any():
        scores *= np.exp(-p.objective_pull * effort_km / max(p.main_effort_km, 1e-9))  # toward
    ringed = (np.where(around >= 0, v.own[around], 0.0) >= m.p.control.contested_high).mean(axis=1)
    scores[cities[ringed < p.city_ring]] = 0.0  # closed: not yet surrounded
    return scores


def _towards_main_effort(m, v: View, unit, effort_km: np.ndarray) -> int | None:
    """The reachable own hex nearest the main effort, cheapest first; None if none is nearer than here."""
    return best_reachable(reachable(m, unit), v.own_half, effort_km, effort_km[unit.hex])


@njit(cache=True)
def _spread_groups(near: np.ndarray, dist: np.ndarray, start: np.ndarray, budget: np.ndarray, open_ground: np.ndarray,
                   scores: np.ndarray, planned: np.ndarray, enough: np.ndarray, garrison: np.ndarray, margin: float,
                   min_send: float, n_targets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Share each unit's infiltrators among its best targets, unit by unit (compiled: ~20 units a turn, each with a
    few dozen hexes in range). Unit ``s`` sends ``budget[s]`` people to the open hexes among ``near[start[s]:
    start[s + 1]]`` (at ``dist`` hexes): each target gets what it takes to outnumber its garrison (``margin`` x
    garrison, less what is already on its way, at least ``min_send``), best first (score / distance, less for a hex
    already holding enough), up to ``n_targets`` targets; whatever is left goes to the last one. Updates ``planned``
    and returns the groups as (unit index, hex, personnel) arrays."""
    out_unit = np.empty(budget.size * n_targets, np.int64)
    out_hex = np.empty(budget.size * n_targets, np.int64)
    out_n = np.empty(budget.size * n_targets)
    hexes = np.empty(near.size, np.int64)
    value = np.empty(near.size)
    k_out = 0
    for s in range(budget.size):
        size = 0
        for j in range(start[s], start[s + 1]):
            h = near[j]
            if open_ground[h] and dist[j] >= 1:
                hexes[size] = h
                value[size] = scores[h] / dist[j] / (1.0 + planned[h] / enough[h])
                size += 1
        if size == 0:
            continue  # nowhere open within reach
        left = budget[s]
        for k in range(n_targets):
            i = np.argmax(value[:size])
            if value[i] <= 0:
                break  # only cities not yet surrounded, or nothing, within reach
            value[i] = 0.0  # taken; the others keep their value, as only this hex's plan changes
            h = hexes[i]
            need = margin * garrison[h] - planned[h]
            n = float(round(min(left, max(min_send, need))))
            if k == n_targets - 1 or left - n < min_send:
                n = left  # the last target, or too few left for another: all of the rest go here
            planned[h] += n
            out_unit[k_out], out_hex[k_out], out_n[k_out] = s, h, n
            k_out += 1
            left -= n
            if left < 1:
                break
    return out_unit[:k_out], out_hex[:k_out], out_n[:k_out]


def russian_orders(m, skill: float = 1.0) -> list[tuple[Order, str]]:
    p = m.p.ai.ru
    v = View(m, "ru")
    hi = m.p.control.contested_high
    blind = m.weather.get("blind_share", 0.0)
    infil_share = p.infiltration_share + (p.blind_infiltration_share - p.infiltration_share) * min(1.0, 2.0 * blind)
    max_d = max(1, int(m.p.infiltration.range_km / m.map.spec.hex_km))
    out: list[tuple[Order, str]] = []
    front = sorted(v.front_units(), key=lambda u: u.uid)
    pause_below = 100.0 * (1.0 - p.loss_tolerance) * 0.6
    active = []
    rested = [u for u in front if u.status.in_reserve and not (u.status.broken or u.status.cohesion < pause_below)]
    prefetch_reach(m, rested, commit=True)  # back into the fight where they stand: their reach found in one go
    for u in front:
        if u.status.broken or u.status.cohesion < pause_below:
            if not u.status.in_reserve:
                out.append((Reserve(u.uid), f"{u.name} pauses to regroup: cohesion {u.status.cohesion:.0f} below "
                            f"what loss tolerance {p.loss_tolerance:.1f} accepts"))
            continue
        if u.status.in_reserve:  # rested enough: back into the fight where it stands
            dest = next((int(h) for h in m.map.nbr[u.hex] if h >= 0 and v.own[h] >= hi
                         and allowed(m, Commit(u.uid, int(h)))), None)
            if dest is not None:
                out.append((Commit(u.uid, dest), f"{u.name} returns to the fight at cohesion {u.status.cohesion:.0f}"))
            continue
        active.append(u)
    # formed assaults for the units with the best odds, as many as the effort split allows
    candidates = [(u, targets) for u in active if (targets := assault_targets(m, u))]
    best = best_odds(m, [u for u, _ in candidates], [targets for _, targets in candidates], v.cache)
    assault_options = [(ratio, u, target) for (u, _), (ratio, target) in zip(candidates, best, strict=True)]
    assault_options.sort(key=lambda t: (-t[0], t[1].uid))
    n_assault = round((1.0 - infil_share) * len(active))
    assaulting = set()
    for ratio, u, target in assault_options[:n_assault]:
        if ratio >= p.min_odds / skill:
            out.append((Assault(u.uid, target), f"{u.name} assaults {m.hex_label(target)} at odds {ratio:.1f} "
                        f"(chance {gain_chance(m, ratio):.0%}; {blind:.0%} of days drone-blind)"))
            assaulting.add(u.uid)
    # a hex already holding enough people to outnumber its garrison is worth less than a fresh one: spread out
    enough = m.p.infiltration.flip_ratio * v.enemy_garrison + p.mass_per_hex
    planned = m.presence[v.s].copy()
    # outside the main effort, units only hold the enemy in place with a smaller share
    effort_km = main_effort_km(m, "ru", int(p.main_effort_depth), p.main_effort_km / max(p.supporting_effort_km, 1e-9))
    secondary = np.isfinite(effort_km).any()
    scores = _target_scores(m, v, p, effort_km)
    # in the scenario's offensives the command sends more groups, to more points along the line
    offensive = current_offensive(m, "ru")
    surge = p.offensive_intensity if offensive else 1.0
    n_targets = max(1, int(p.targets_per_unit * surge))
    during = f" ({offensive.name})" if offensive else ""
    share = min(1.0, p.commit_share * surge)
    senders, nears, dists, budgets = [], [], [], []
    for u in active:
        if u.uid in assaulting or not u.utype.can_infiltrate:
            continue
        unit_share = share * p.secondary_commit if secondary and effort_km[u.hex] > p.main_effort_km else share
        budget = infiltration_size(m, u, max(1.0, u.personnel * unit_share * min(skill, 1.2)))
        if budget is None:
            continue  # a remnant too small to send anyone
        near, dist = m.map.within(u.hex, max_d)
        senders.append(u)
        nears.append(near)
        dists.append(dist)
        budgets.append(budget)
    if senders:
        start = np.zeros(len(senders) + 1, dtype=np.int64)
        np.cumsum([near.size for near in nears], out=start[1:])
        groups = _spread_groups(np.concatenate(nears), np.concatenate(dists), start, np.array(budgets), v.own < hi,
                                scores, planned, enough, v.enemy_garrison,
                                p.send_margin * m.p.infiltration.flip_ratio, float(p.min_send), n_targets)
        hexes = groups[1]  # what the reasons quote, read for all groups at once
        quoted = (v.enemy_garrison[hexes], m.isr[v.e, hexes], m.control[hexes])
        for s, h, n, garrison, coverage, control in zip(*(a.tolist() for a in (*groups, *quoted)), strict=True):
            u = senders[s]
            out.append((Infiltrate(u.uid, h, personnel=n),
                        f"{u.name} infiltrates {m.hex_label(h)}{during}: garrison there ~{garrison:.0f}, "
                        f"Ukrainian drone coverage {coverage:.2f}, control {control:.2f}"))
    # feed the rear forward; drones just behind the line; fires in range of the front
    km = m.map.spec.hex_km
    # one unit to a hex along the line, so the whole front is worked rather than a few crowded hexes
    # and units in the rear of a secondary sector shift to the main effort
    occupied = {u.hex for u in m.side_units("ru", "manoeuvre")}
    movers = [u for u in sorted(v.rear_units(), key=lambda u: u.uid) if u.status.cohesion >= pause_below]
    support = sorted(m.side_units("ru", "drone") + m.side_units("ru", "fires"), key=lambda u: u.uid)
    wants = [max(1, int(u.utype.range_km / (3.0 if u.utype.role == "drone" else 2.0) / km)) for u in support]
    # every search below in one go: rear units shift to the main effort or move up, support units far from
    # their distance behind the line reposition (the rest, and units pausing to regroup, need none)
    v.prefetch_rear(movers + [u for u, want in zip(support, wants, strict=True) if abs(int(v.dist[u.hex]) - want) > 1])
    for u in movers:
        if secondary and effort_km[u.hex] > p.main_effort_km:
            dest = _towards_main_effort(m, v, u, effort_km)
            if dest is not None:
                out.append((Move(u.uid, dest), f"{u.name} shifts towards the main effort "
                            f"({effort_km[u.hex]:.0f} km away)"))
                continue
        dest = v.step_towards(u, 1, avoid=occupied)
        if dest is not None:
            occupied.add(dest)
            out.append((Move(u.uid, dest), f"{u.name} moves up to a stretch of the front no unit works"))
    unstruck = v.own < 0.5  # enemy ground no group bombards yet: one group to a target
    for u, want in zip(support, wants, strict=True):
        if abs(int(v.dist[u.hex]) - want) > 1:
            dest = v.step_towards(u, want)
            if dest is not None:
                out.append((Move(u.uid, dest), f"{u.name} repositions {want} hexes behind the line"))
                continue
        if u.utype.fires_per_day > 0:
            reach = in_range(m, u.hex, u.utype.range_km)
            reach = reach[unstruck[reach]]
            if reach.size:
                value = v.enemy_garrison[reach] * (1.0 + m.fort[reach])
                best = value.argmax()
                t = int(reach[best])
                unstruck[t] = False
                if value[best] > 0:
                    out.append((Strike(u.uid, t), f"{u.name} bombards {m.hex_label(t)} (garrison "
                                f"~{v.enemy_garrison[t]:.0f}, works level {m.fort[t]})"))
    return out
