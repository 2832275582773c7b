"""Movement, withdrawal, rotation and reserves.

Entering a hex costs its width in km times the terrain's cost (or the road's factor along a road link), slowed by
mud off roads. Vehicles cannot cross a river without a road (a bridge) nor any anti-tank obstacle; men on foot can,
at a price. A unit may not enter a hex the enemy holds beyond `movement.enemy_control_limit` (that takes an
infiltration or an assault), and must stop on entering a hex next to a hex the enemy holds with troops in it
(zone of control). Moving through enemy interdiction costs people.
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim.orders import Commit, DigIn, Move, Reserve, Rotate, Withdraw
from sim.units import Unit, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def allowance_km(m: WargameModel, unit: Unit, commit: bool = False) -> float:
    p = m.p.movement
    speed = {"foot": p.speed_foot, "wheeled": p.speed_wheeled, "tracked": p.speed_tracked}[unit.utype.mobility]
    days = min(m.turn_days, p.max_turn_days)
    return speed * days * (2.0 if commit else 1.0)


def invalidate(m: WargameModel) -> None:
    """Forget cached movement arrays and reachable sets: the ground has changed."""
    m._move_ctx = {}
    m._reach_cache = {}


def _context(m: WargameModel, side: str) -> dict:
    """Arrays movement needs for one side, cached until the ground changes (see ``invalidate``)."""
    cache = getattr(m, "_move_ctx", None)
    if cache is None:
        invalidate(m)
        cache = m._move_ctx
    if side in cache:
        return cache[side]
    p = m.p
    enemy = other(side)
    enemy_share = m.own_share(enemy)
    enemy_troops = m.manoeuvre_personnel(enemy) + m.presence[0 if enemy == "ru" else 1]
    enemy_held = (enemy_share >= p.control.contested_high) & (enemy_troops > 0)
    zoc = np.append(enemy_held, False)[m.map.nbr].any(axis=1)
    ctx = {
        "closed": enemy_share > p.movement.enemy_control_limit,
        "zoc": zoc,
        "terrain_cost": np.asarray(p.terrain.move_cost)[m.map.terrain],
    }
    cache[side] = ctx
    return ctx


def reachable(m: WargameModel, unit: Unit, commit: bool = False) -> dict[int, tuple[float, int]]:
    """Hexes the unit can reach this turn: {hex: (cost km, previous hex)}; its own hex costs 0."""
    ctx = _context(m, unit.side)
    key = (unit.uid, unit.hex, commit, bool(m.weather.get("mud")))
    hit = m._reach_cache.get(key)
    if hit is None:
        if ctx["zoc"][unit.hex]:
            hit = _search(m, unit, commit, ctx)  # leaving a zone of control: the graph below forbids it
        else:
            hit = _search_graph(m, unit, commit, ctx)
        m._reach_cache[key] = hit
    return hit


def _step_costs(m: WargameModel, mobility: str, ctx: dict) -> csr_matrix:
    """Sparse graph of movement costs (km of effort) for one side and mobility; ZOC hexes have no way out."""
    key = ("graph", mobility, bool(m.weather.get("mud")))
    if key in ctx:
        return ctx[key]
    hm, p = m.map, m.p
    n = hm.n
    src = np.repeat(np.arange(n), 6)
    k = np.tile(np.arange(6), n)
    dst = hm.nbr.ravel()
    on = dst >= 0
    src, k, dst = src[on], k[on], dst[on]
    road = hm.road[src, k]
    river = hm.river[src, k] > 0
    vehicle = mobility != "foot"
    mud = 1.0
    if m.weather.get("mud"):
        mud = 1.0 / {"foot": p.weather.mud_foot, "wheeled": p.weather.mud_wheeled, "tracked": p.weather.mud_tracked}[mobility]
    km = hm.spec.hex_km
    cost = np.where(road > 0, km * np.asarray(p.movement.road_factor)[road], km * ctx["terrain_cost"][dst] * mud)
    cost = cost + np.where((road == 0) & river, 0.5 * km, 0.0)
    keep = ~ctx["closed"][dst] & ~ctx["zoc"][src]
    if vehicle:
        keep &= ~((road == 0) & (river | m.obstacle[src, k]))
    graph = csr_matrix((cost[keep], (src[keep], dst[keep])), shape=(n, n))
    ctx[key] = graph
    return graph


def _search_graph(m: WargameModel, unit: Unit, commit: bool, ctx: dict) -> dict[int, tuple[float, int]]:
    graph = _step_costs(m, unit.utype.mobility, ctx)
    budget = allowance_km(m, unit, commit) + 1e-9
    dist, pred = dijkstra(graph, directed=True, indices=unit.hex, limit=budget, return_predecessors=True)
    hexes = np.flatnonzero(np.isfinite(dist))
    return {int(h): (float(dist[h]), int(pred[h]) if pred[h] >= 0 else -1) for h in hexes}


def _search(m: WargameModel, unit: Unit, commit: bool, ctx: dict) -> dict[int, tuple[float, int]]:
    hm, p = m.map, m.p
    mob = unit.utype.mobility
    vehicle = mob != "foot"
    mud = 1.0
    if m.weather.get("mud"):
        mud = 1.0 / {"foot": p.weather.mud_foot, "wheeled": p.weather.mud_wheeled, "tracked": p.weather.mud_tracked}[mob]
    road_factor = p.movement.road_factor
    budget = allowance_km(m, unit, commit)
    km = hm.spec.hex_km
    start = unit.hex
    best: dict[int, tuple[float, int]] = {start: (0.0, -1)}
    heap = [(0.0, start)]
    nbr, road, river = hm.nbr, hm.road, hm.river
    closed, zoc, tcost = ctx["closed"], ctx["zoc"], ctx["terrain_cost"]
    obstacle = m.obstacle
    while heap:
        cost, h = heapq.heappop(heap)
        if cost > best[h][0]:
            continue
        if h != start and zoc[h]:
            continue  # entered an enemy zone of control: stop here
        for k in range(6):
            nb = int(nbr[h, k])
            if nb < 0 or closed[nb]:
                continue
            rc = int(road[h, k])
            if rc:
                step = km * road_factor[rc]
            else:
                step = km * tcost[nb] * mud
                if river[h, k]:
                    if vehicle:
                        continue
                    step += km * 0.5
            if vehicle and obstacle[h, k] and not rc:
                continue
            new = cost + step
            if new <= budget + 1e-9 and (nb not in best or new < best[nb][0] - 1e-12):
                best[nb] = (new, h)
                heapq.heappush(heap, (new, nb))
    return best


def path_to(best: dict[int, tuple[float, int]], dest: int) -> list[int]:
    path = [dest]
    while best[path[-1]][1] >= 0:
        path.append(best[path[-1]][1])
    return path[::-1]


def move_unit(m: WargameModel, unit: Unit, dest: int, commit: bool = False, why: str = "moves") -> bool:
    """Move along the cheapest path; pay interdiction losses on the way. Return False if dest is out of reach."""
    best = reachable(m, unit, commit)
    if dest not in best:
        return False
    path = path_to(best, dest)
    if len(path) < 2:
        return True
    s_enemy = 1 if unit.side == "ru" else 0
    exposure = float(m.interdiction[s_enemy, path[1:]].sum())
    factor = 2.0 if unit.utype.mobility != "foot" else 1.0
    loss_share = min(0.5, exposure * m.p.movement.interdiction_loss * factor)
    lost = m.record_loss(unit.side, "interdiction", unit.personnel * loss_share, unit)
    unit.place(m.cells[dest])
    unit.status.fort_work = 0.0
    m.emit("movement", "move", unit.side, dest,
           "{unit} {why} {frm} -> {to} ({hexes} hexes, {km:.1f} km of effort){loss}.",
           unit=unit.name, why=why, frm=m.hex_label(path[0]), to=m.hex_label(dest), hexes=len(path) - 1,
           km=best[dest][0], loss=f"; {lost:.0f} lost to drones on the roads (interdiction {exposure:.2f})" if lost >= 1 else "")
    return True


def distance_to_enemy(m: WargameModel, side: str) -> np.ndarray:
    """Hex distance from every hex to the nearest hex the enemy holds (large where there is none); cached."""
    _context(m, side)
    cached = m._move_ctx.get(("dist", side))
    if cached is not None:
        return cached
    enemy_held = m.own_share(other(side)) >= 0.5
    dist = np.full(m.map.n, 10_000, dtype=np.int64)
    dist[enemy_held] = 0
    seen = enemy_held.copy()
    frontier = enemy_held
    nbr = m.map.nbr
    d = 0
    while frontier.any():
        d += 1
        reached = np.zeros(m.map.n + 1, dtype=bool)
        reached[nbr[frontier].ravel()] = True
        frontier = reached[:-1] & ~seen
        dist[frontier] = d
        seen |= frontier
    m._move_ctx[("dist", side)] = dist
    return dist


def withdrawal_target(m: WargameModel, unit: Unit) -> int | None:
    """Best hex to fall back to: farther from the enemy, own-held, preferring prepared lines, then closeness."""
    best = reachable(m, unit)
    dist = distance_to_enemy(m, unit.side)
    here = dist[unit.hex]
    own = m.held(unit.side)
    s = 0 if unit.side == "ru" else 1
    options = []
    for h, (cost, _) in best.items():
        if h == unit.hex or not own[h] or dist[h] <= here:
            continue
        fort_bonus = 3 if m.fort[h] > 0 and m.fort_side[h] in (-1, s) else 0
        options.append((-(fort_bonus + min(dist[h] - here, 3)), cost, h))
    if not options:
        return None
    return min(options)[2]


def resolve(m: WargameModel) -> None:
    """Carry out move, commit, withdraw, rotate, reserve and dig-in orders, in the order given.

    Paths are planned against the ground as it was when the orders were given (the same cached reach the order
    checks used), so an order accepted is an order carried out, unless interdiction kills the unit on the way.
    """
    for order in m.turn_orders:
        unit = m.units.get(order.unit)
        if unit is None or not unit.alive:
            continue
        if isinstance(order, Move):
            if not move_unit(m, unit, order.to):
                m.emit("movement", "blocked", unit.side, order.to, "{unit} could not reach {to}: the way closed "
                       "during the turn.", unit=unit.name, to=m.hex_label(order.to))
        elif isinstance(order, Commit):
            unit.status.in_reserve = False
            if not move_unit(m, unit, order.to, commit=True, why="is committed from reserve,"):
                m.emit("movement", "blocked", unit.side, order.to, "{unit} could not reach {to}.",
                       unit=unit.name, to=m.hex_label(order.to))
        elif isinstance(order, Withdraw):
            dest = order.to if order.to is not None else withdrawal_target(m, unit)
            if dest is None or not move_unit(m, unit, dest, why="withdraws"):
                m.emit("movement", "blocked", unit.side, unit.hex, "{unit} found no safer ground to withdraw to.",
                       unit=unit.name)
        elif isinstance(order, Rotate):
            _rotate(m, unit, order.relief)
        elif isinstance(order, Reserve):
            unit.status.in_reserve = True
            m.emit("movement", "reserve", unit.side, unit.hex, "{unit} goes into reserve at {at}.",
                   unit=unit.name, at=m.hex_label(unit.hex))
        elif isinstance(order, DigIn):
            unit.status.digging = True


def _rotate(m: WargameModel, unit: Unit, relief_id: str | None) -> None:
    if relief_id:
        relief = m.units[relief_id]
        a, b = unit.hex, relief.hex
        if move_unit(m, relief, a, why="relieves " + unit.name + ","):
            unit.place(m.cells[b])
            unit.status.in_reserve = True
            relief.status.in_reserve = False
            unit.status.weeks_in_line = 0.0
            m.emit("movement", "rotate", unit.side, a, "{unit} is rotated out to {to}; {relief} takes its place.",
                   unit=unit.name, to=m.hex_label(b), relief=relief.name)
        return
    dest = withdrawal_target(m, unit)
    if dest is not None:
        move_unit(m, unit, dest, why="rotates out,")
    unit.status.in_reserve = True
    unit.status.weeks_in_line = 0.0
