"""Movement, withdrawal, rotation and reserves.

Entering a hex costs its width in km times the terrain's cost (or the road's factor along a road link), slowed by
mud off roads. Vehicles cannot cross a river without a road (a bridge) nor any anti-tank obstacle; men on foot can,
at a price. A unit may not enter a hex the enemy holds beyond `movement.enemy_control_limit` (that takes an
infiltration or an assault), and must stop on entering a hex next to a hex the enemy holds with troops in it
(zone of control). Moving through enemy interdiction costs people. A unit cut off from supply altogether withdraws
by breaking out: on foot, in small groups, to its side's ground within `supply.breakout_km`, losing
`supply.breakout_loss` of its people on the way.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

from sim.geo.terrain import Terrain
from sim.orders import Commit, DigIn, Move, Reserve, Rotate, Withdraw
from sim.rules.graph import hex_steps_to, links, movement_graph, padded_neighbours
from sim.rules.kernels import empty_queue, link_weights, reach_rows, reach_until
from sim.units import Unit, other

if TYPE_CHECKING:
    from sim.model import WargameModel


_THROUGH = 1e-12
"""The cost of passing through a hex outside a zone of control (from its entry to its exit node)."""


def allowance_km(m: WargameModel, unit: Unit, commit: bool = False) -> float:
    p = m.p.movement
    speed = getattr(p, "speed_" + unit.utype.mobility)  # speed_foot, speed_wheeled or speed_tracked
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
    p, enemy = m.p, other(side)
    closed, zoc, through = _ground(m.control, enemy == "ru", m.manoeuvre_personnel(enemy),
                                   m.presence[0 if enemy == "ru" else 1], p.control.contested_high,
                                   p.movement.enemy_control_limit, padded_neighbours(m.map))
    ctx = cache[side] = {"closed": closed, "zoc": zoc, "through": through}
    return ctx


@njit(cache=True)
def _ground(control: np.ndarray, enemy_is_ru: bool, personnel: np.ndarray, presence: np.ndarray, hi: float,
            limit: float, padded_nbr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_context`'s arrays in two compiled passes: the hexes closed to the side (the enemy's share above
    ``limit``), its zones of control (next to a hex the enemy holds, share at least ``hi``, with troops in it:
    `graph.neighbour_any`) and the cost of passing through each hex (inf in a zone of control)."""
    n = control.size
    closed = np.empty(n, np.bool_)
    enemy_held = np.zeros(n + 1, np.bool_)  # the last entry stands for off the map
    for h in range(n):
        share = control[h] if enemy_is_ru else 1.0 - control[h]  # m.own_share(enemy)
        closed[h] = share > limit
        enemy_held[h] = share >= hi and personnel[h] + presence[h] > 0
    zoc = np.zeros(n, np.bool_)
    through = np.full(n, _THROUGH)
    for h in range(n):
        for j in range(6):
            if enemy_held[padded_nbr[h, j]]:
                zoc[h] = True
                through[h] = np.inf
                break
    return closed, zoc, through


_HEX_ID = (int, np.integer)


class Reach(Mapping):
    """Where a unit can get to this turn: maps hex -> (cost in km of effort, previous hex on the way).

    Backed by the search's arrays, so asking whether a hex is in reach costs nothing and no dict is built.
    A reach not ``complete`` holds only the hexes a search settled before it stopped (`_reach_settling`): what it
    holds is exact, but a hex it lacks may still be in reach.
    """

    def __init__(self, dist: np.ndarray, prev: np.ndarray, start: int, complete: bool = True):
        self.dist, self.prev, self.start, self.complete = dist, prev, start, complete

    @cached_property
    def hexes(self) -> np.ndarray:
        """The hexes in reach, in id order (worked out on first use: most reaches are only asked about a hex)."""
        return np.flatnonzero(np.isfinite(self.dist))

    def path(self, dest: int) -> np.ndarray:
        """The hexes from the start to ``dest``, both included (``dest`` must be in reach)."""
        return _path(self.prev, self.start, dest)

    def __contains__(self, hid) -> bool:
        return isinstance(hid, _HEX_ID) and 0 <= hid < self.dist.size and bool(self.dist[hid] < np.inf)

    def __getitem__(self, hid) -> tuple[float, int]:
        if hid not in self:
            raise KeyError(hid)
        return (0.0, -1) if hid == self.start else (float(self.dist[hid]), int(self.prev[hid]))

    def __iter__(self):
        return (int(h) for h in self.hexes)

    def __len__(self) -> int:
        return int(self.hexes.size)


@njit(cache=True)
def _path(prev: np.ndarray, start: int, dest: int) -> np.ndarray:
    """`Reach.path` in one compiled pass: follow ``prev`` back from ``dest`` to ``start``."""
    steps, h = 0, dest
    while h != start:
        h = prev[h]
        steps += 1
    path = np.empty(steps + 1, np.int64)
    h = dest
    for i in range(steps, -1, -1):
        path[i] = h
        h = prev[h]
    return path


def reachable(m: WargameModel, unit: Unit, commit: bool = False) -> Reach:
    """Hexes the unit can reach this turn: {hex: (cost km, previous hex)}; its own hex costs 0."""
    _context(m, unit.side)
    key = _reach_key(m, unit, commit)
    hit = m._reach_cache.get(key)
    if hit is None or not hit.complete:
        prefetch_reach(m, (unit,), commit)
        hit = m._reach_cache[key]
    return hit


def _reach_settling(m: WargameModel, unit: Unit, targets: np.ndarray, commit: bool = False) -> Reach:
    """A reach that holds each of ``targets`` if it is in reach at all, searched only as far as that takes: a
    cached one that does, else a search that stops once every target is settled (run to its end, it is the
    whole reach). Asking about a few hexes near the unit, this spares searching all of a vehicle's reach."""
    ctx = _context(m, unit.side)
    key = _reach_key(m, unit, commit)
    hit = m._reach_cache.get(key)
    if hit is not None and (hit.complete or np.isfinite(hit.dist[targets]).all()):
        return hit
    *links, queue = _search_for(m, unit.utype.mobility, ctx)
    dist, prev, complete = reach_until(*links, unit.hex, key[3] + 1e-9, queue, np.asarray(targets, dtype=np.int64))
    hit = m._reach_cache[key] = Reach(dist, prev, unit.hex, complete)
    return hit


def _reach_key(m: WargameModel, unit: Unit, commit: bool) -> tuple:
    """What a reach depends on besides the cached ground: units of a side alike in these share one answer."""
    return unit.side, unit.hex, unit.utype.mobility, allowance_km(m, unit, commit), bool(m.weather.get("mud"))


def prefetch_reach(m: WargameModel, units, commit: bool = False) -> None:
    """Work out the reach of several units at once, so later ``reachable`` calls for them are cache hits.

    One compiled search (`kernels.reach_rows`) per side and mobility serves many start hexes. Of two equally cheap
    ways it takes the one scipy's Dijkstra takes (the calibration was fitted on those paths: breaking such ties by
    hex id or by drone exposure instead changed who paid interdiction on the way enough to move the fit from 88 %
    of weeks in the band to 81 %).
    """
    groups: dict[tuple, dict[tuple, int]] = {}
    for u in units:
        _context(m, u.side)
        key = _reach_key(m, u, commit)
        hit = m._reach_cache.get(key)
        if hit is None or not hit.complete:
            groups.setdefault((u.side, u.utype.mobility, key[3]), {})[key] = u.hex
    cache = m._reach_cache
    for (side, mobility, budget), todo in groups.items():
        *links, queue = _search_for(m, mobility, _context(m, side))
        starts = np.fromiter(todo.values(), dtype=np.int64, count=len(todo))
        dist, prev = reach_rows(*links, starts, budget + 1e-9, queue)
        for row, (key, start) in enumerate(todo.items()):
            cache[key] = Reach(dist[row], prev[row], start)


def _search_for(m: WargameModel, mobility: str, ctx: dict) -> tuple:
    """What `reach_rows` searches for one side and mobility: the hex links (the graph's rows n to 2n - 1 are the
    hexes' exits, whose links lead to entries 0 to n - 1), their costs, the pass-through costs, the closed hexes
    and a search queue for them, kept until the ground changes (the costs and the queue longer: they depend only
    on the map, the mud and the obstacles, see `_link_weights` and `_priced`).

    Wheeled and tracked units share one: their step costs differ only by the mud, so on dry ground they are the
    same array (foot differs too by what closes to vehicles).
    """
    vehicle, mud = mobility != "foot", _mud_factor(m, mobility)
    key = ("search", vehicle, mud)
    if key not in ctx:
        base = _link_base(m, links(m.map))
        _, queue = _priced(m, base, mud)
        ctx[key] = (*base["exits"], _link_weights(m, base, vehicle, mud), ctx["through"], ctx["closed"], queue)
    return ctx[key]


def _link_weights(m: WargameModel, base: dict, vehicle: bool, mud: float) -> np.ndarray:
    """The step costs with the vehicles' closures (`kernels.link_weights`) for vehicles, kept in ``base`` until
    the obstacles change (read-only: every search shares them)."""
    cost, _ = _priced(m, base, mud)
    if not vehicle:
        return cost
    obstacle = m.obstacle.reshape(-1)
    hit = base.get(("vehicle", mud))
    if hit is None or not np.array_equal(hit[0], obstacle):
        weights = link_weights(cost, base["off_road"], base["river"], obstacle, base["flat"])
        weights.flags.writeable = False
        hit = base[("vehicle", mud)] = (obstacle.copy(), weights)
    return hit[1]


def _mud_factor(m: WargameModel, mobility: str) -> float:
    """How much the mud multiplies off-road step costs for this mobility (1 on dry ground)."""
    if not m.weather.get("mud"):
        return 1.0
    return 1.0 / getattr(m.p.weather, "mud_" + mobility)  # mud_foot, mud_wheeled or mud_tracked


def _step_costs(m: WargameModel, mobility: str, ctx: dict) -> csr_matrix:
    """Movement costs (km of effort) for one side and mobility as a graph with two nodes per hex (for checks:
    the searches themselves use `_search_for`'s arrays, the rows of this graph that they need).

    Node h is where a unit enters hex h and node h + n where it leaves it. Entering costs the step; passing from
    entry to exit is free except in a zone of control, which has no way through: a unit that enters one stops.
    A unit starting there begins at its exit node, so it may always leave.
    """
    _, into, weights, through, closed, _ = _search_for(m, mobility, ctx)
    weights = np.where(closed[into], np.inf, weights)
    return movement_graph(m.map).with_sorted_weights(np.concatenate([through, weights]))


def _link_base(m: WargameModel, lk) -> dict:
    """What step costs share across turns and sides: per-link arrays fixed by the map and the cost parameters.

    The arrays are in the movement graph's CSR order, so a turn's weights need no permutation: its first n
    entries are the hexes' entry -> exit edges (rows 0 to n - 1 hold one each), then come the links, exit rows
    n to 2n - 1. Keyed by the links, terrain and parameters it was built from, so a test or inject that changes
    any of them gets fresh arrays without having to know about this cache.
    """
    p = m.p
    key = (m.map.terrain.tobytes(), m.map.spec.hex_km, tuple(p.terrain.move_cost), tuple(p.movement.road_factor))
    base = m.__dict__.get("_move_base")
    if base is None or base["links"] is not lk or base["key"] != key:
        fixed, n = movement_graph(m.map), m.map.n
        assert np.array_equal(fixed.order[:n], lk.src.size + np.arange(n)), "entry -> exit edges first, in hex order"
        i = fixed.order[n:]  # the link in each later CSR slot
        base = m._move_base = {"links": lk, "key": key, "dst": lk.dst[i], "road": lk.road[i], "river": lk.river[i],
                               "off_road": lk.road[i] == 0, "flat": lk.src[i] * 6 + lk.k[i],
                               "exits": (fixed.indptr[n:] - n, fixed.indices[n:])}
    return base


def _base_cost(m: WargameModel, base: dict, mud: float) -> np.ndarray:
    """Step cost of every link before closures: terrain (slowed by ``mud``) off roads, the road's factor on them."""
    p, km = m.p, m.map.spec.hex_km
    off_road = base["off_road"]
    terrain_cost = np.asarray(p.terrain.move_cost)[m.map.terrain]
    cost = np.where(off_road, km * terrain_cost[base["dst"]] * mud, km * np.asarray(p.movement.road_factor)[base["road"]])
    return cost + np.where(off_road & base["river"], 0.5 * km, 0.0)


def _priced(m: WargameModel, base: dict, mud: float) -> tuple:
    """`_base_cost` and an empty search queue for it, kept in ``base`` per mud factor. The queue's buckets and ring
    come from the cheapest and dearest step of all links, open or closed: wider bounds than the open links' serve
    as well (`empty_queue`), so every search at this mud factor shares it (each leaves it empty again)."""
    key = ("cost", mud)
    if key not in base:
        cost = _base_cost(m, base, mud)
        cost.flags.writeable = False
        finite = cost[np.isfinite(cost)]
        base[key] = (cost, empty_queue(m.map.n, cost.size, float(finite.min()), float(finite.max()) + _THROUGH))
    return base[key]


def move_unit(m: WargameModel, unit: Unit, dest: int, commit: bool = False, why: str = "moves") -> bool:
    """Move along the cheapest path; pay interdiction losses on the way. Return False if dest is out of reach."""
    best = _reach_settling(m, unit, np.array([dest]), commit)
    if dest not in best:
        return False
    path = best.path(dest)
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
           unit=unit.name, why=why, frm=m.hex_label(best.start), to=m.hex_label(dest), hexes=len(path) - 1,
           km=float(best.dist[dest]), loss=f"; {lost:.0f} lost to drones on the roads (interdiction {exposure:.2f})" if lost >= 1 else "")
    return True


def distance_to_enemy(m: WargameModel, side: str) -> np.ndarray:
    """Hex distance from every hex to the nearest hex the enemy holds (large where there is none), read-only.

    Kept until the enemy's ground changes, not just until an ``invalidate``: the phases after the mid-turn
    invalidations (overruns, breaks) ask again although control has not moved.
    """
    _context(m, side)  # the side's ground is fixed from its first question in a turn, as for `reachable`
    cache = m.__dict__.setdefault("_enemy_steps", {})
    hit = cache.get(side)
    if hit is not None and _same_values(hit[0], m.control):  # the cheap test: control has not moved at all
        return hit[2]
    enemy_held = m.own_share(other(side)) >= 0.5
    if hit is None or not np.array_equal(hit[1], enemy_held):
        steps = hex_steps_to(m.map, enemy_held)
        steps.flags.writeable = False
    else:
        steps = hit[2]  # control moved, but not across the half-way mark
    cache[side] = (m.control.copy(), enemy_held, steps)
    return steps


@njit(cache=True)
def _same_values(a: np.ndarray, b: np.ndarray) -> bool:
    """``np.array_equal(a, b)`` for two 1-d arrays, in one compiled pass that stops at the first difference (no
    temporary array)."""
    i = 0
    while i < a.size and i < b.size and a[i] == b[i]:
        i += 1
    return i == a.size == b.size


def withdrawal_target(m: WargameModel, unit: Unit) -> int | None:
    """Best hex to fall back to: farther from the enemy, own-held, preferring prepared lines, then closeness."""
    return _fall_back_hex(m, unit, distance_to_enemy(m, unit.side))


def breakout_target(m: WargameModel, unit: Unit) -> int | None:
    """Where an encircled unit breaks out to: the nearest hex its side holds outside every pocket, within
    `supply.breakout_km` as the crow flies (small groups slip through the ring on foot); None if there is none."""
    s = 0 if unit.side == "ru" else 1
    disc, steps = m.map.within(unit.hex, m.map.steps_within(m.p.supply.breakout_km + 1e-9))
    control = m.control[disc]
    own_share = control if s == 0 else 1.0 - control  # m.own_share(unit.side) there
    out = (own_share >= m.p.control.contested_high) & (m.pocket[s, disc] < 0)
    out &= m.map.terrain[disc] != int(Terrain.WATER)
    i = np.flatnonzero(out)
    if i.size == 0:
        return None
    return int(disc[i[np.argmin(steps[i])]])  # nearest, then lowest id (the first of the least steps)


def break_out(m: WargameModel, unit: Unit, dest: int, why: str) -> None:
    """Move an encircled unit's survivors to ``dest`` (a `breakout_target`), losing `supply.breakout_loss` of them."""
    frm = unit.hex
    lost = m.record_loss(unit.side, "encirclement", unit.personnel * m.p.supply.breakout_loss, unit)
    unit.place(m.cells[dest])
    unit.status.fort_work = 0.0
    unit.status.supply = "strained"  # out of the pocket; the next supply phase says how well it is fed
    m.emit("movement", "breakout", unit.side, dest,
           "{unit} {why} breaks out of the pocket at {frm} to {to}, losing {lost:.0f} on the way.",
           unit=unit.name, why=why, frm=m.hex_label(frm), to=m.hex_label(dest), lost=lost)


def _fall_back_hex(m: WargameModel, unit: Unit, dist: np.ndarray, within_km: float | None = None) -> int | None:
    """`withdrawal_target` given the hex distances to the enemy (the AI's cached ones or the turn phases').

    With ``within_km``, safe ground that close is taken when there is any, so a unit thrown out of its position
    lands beside it rather than at the best works a week's march away. That ground is looked for only among the
    few hexes that near (`HexMap.within`), and the whole map only when none of it is in reach.
    """
    ru = unit.side == "ru"
    safer = (m.control, ru, m.p.control.contested_high, dist, unit.hex)  # what `_is_safer` reads
    works = (m.fort, m.fort_side, 0 if ru else 1)
    if within_km is not None:
        # the near safe ground, in reach or not: if any of it is in reach the pick is among it, so the search
        # may stop once it is all settled (no other cost is read then)
        disc = m.map.within(unit.hex, m.map.steps_within(within_km + 1e-9))[0]
        near = _safer_hexes(disc, *safer)
        if near.size:
            best = _fall_back_choice(_reach_settling(m, unit, near).dist, near, *safer, *works)
            if best >= 0:
                return int(best)
            # none in reach: that search ran to its end, so the whole reach below is the cached one
    best = _fall_back_choice(reachable(m, unit).dist, m.map.ids, *safer, *works)
    return None if best < 0 else int(best)


@njit(cache=True)
def _is_safer(h: int, control: np.ndarray, ru: bool, hi: float, steps: np.ndarray, start: int) -> bool:
    """Whether hex ``h`` is ground to fall back to from ``start``: held by the side (`WargameModel.held`) and
    farther from the enemy (``steps``)."""
    held = control[h] >= hi if ru else control[h] <= 1.0 - hi
    return h != start and held and steps[h] > steps[start]


@njit(cache=True)
def _safer_hexes(hexes: np.ndarray, control: np.ndarray, ru: bool, hi: float, steps: np.ndarray,
                 start: int) -> np.ndarray:
    """The hexes of ``hexes`` that `_is_safer`, in their order."""
    keep = np.zeros(hexes.size, np.bool_)
    for i in range(hexes.size):
        keep[i] = _is_safer(hexes[i], control, ru, hi, steps, start)
    return hexes[keep]


@njit(cache=True)
def _fall_back_choice(cost: np.ndarray, hexes: np.ndarray, control: np.ndarray, ru: bool, hi: float,
                      steps: np.ndarray, start: int, fort: np.ndarray, fort_side: np.ndarray, s: int) -> int:
    """`_fall_back_hex`'s pick among ``hexes`` (ascending ids) in one pass (-1 for none): of those in reach
    (finite ``cost``) that `_is_safer`, the best score, then the cheapest, then the lowest id. The score,
    -(3 for usable works + the steps gained, at most 3), is an integer."""
    here = steps[start]
    best, best_score, best_cost = -1, 0, 0.0
    for h in hexes:
        if not cost[h] < np.inf or not _is_safer(h, control, ru, hi, steps, start):
            continue
        bonus = 3 if fort[h] > 0 and (fort_side[h] == -1 or fort_side[h] == s) else 0
        score = -(bonus + min(steps[h] - here, 3))
        if best < 0 or score < best_score or (score == best_score and cost[h] < best_cost):
            best, best_score, best_cost = h, score, cost[h]
    return best


def first_by(rank: np.ndarray, cost: np.ndarray, ids: np.ndarray) -> int:
    """Index of the lowest ``rank``, then lowest ``cost``, then lowest id: ``np.lexsort((ids, cost, rank))[0]``
    without sorting everything (ids are unique, so the answer is the same), in one compiled pass."""
    if rank.size == 0:
        raise ValueError("first_by of no candidates")
    return int(_first_by(rank, cost, ids))


@njit(cache=True)
def _first_by(rank: np.ndarray, cost: np.ndarray, ids: np.ndarray) -> int:
    best = 0
    for i in range(1, rank.size):
        if rank[i] < rank[best] or (rank[i] == rank[best] and (
                cost[i] < cost[best] or (cost[i] == cost[best] and ids[i] < ids[best]))):
            best = i
    return best


def _fallback_target(m: WargameModel, unit: Unit, forced: bool = False) -> int | None:
    """The hex `withdrawal_target` picks; a ``forced`` fall-back (overrun, broken) stays within
    ``movement.forced_fall_back_km`` when safe ground is that close."""
    within = m.p.movement.forced_fall_back_km if forced else None
    return _fall_back_hex(m, unit, distance_to_enemy(m, unit.side), within)


_MOVEMENT_ORDERS = (Move, Commit, Withdraw, Rotate, Reserve, DigIn)


def resolve(m: WargameModel) -> None:
    """Carry out move, commit, withdraw, rotate, reserve and dig-in orders, in the order given.

    Paths are planned against the ground as it was when the orders were given (the same cached reach the order
    checks used), so an order accepted is an order carried out, unless interdiction kills the unit on the way.
    Both sides' ground is fixed here, before anyone moves, so the result never depends on what a player or the
    AI happened to look at while giving orders.
    """
    for side in ("ru", "ua"):
        _context(m, side)
    for order in m.turn_orders:
        if not isinstance(order, _MOVEMENT_ORDERS):
            continue  # most of a turn's orders are infiltrations and assaults, for other phases
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
            if unit.status.supply == "encircled" and order.to is None:
                dest = breakout_target(m, unit)
                if dest is not None:
                    break_out(m, unit, dest, why="withdraws:")
                    continue
            dest = order.to if order.to is not None else _fallback_target(m, unit)
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
    dest = _fallback_target(m, unit)
    if dest is not None:
        move_unit(m, unit, dest, why="rotates out,")
    unit.status.in_reserve = True
    unit.status.weeks_in_line = 0.0
