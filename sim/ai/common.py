"""What both commanders need: where the front is, who is where, what threatens what."""

from __future__ import annotations

from functools import cached_property

import numpy as np
from numba import njit

from sim.orders import IllegalOrder
from sim.rules import legality
from sim.rules.movement import Reach, distance_to_enemy, prefetch_reach, reachable
from sim.units import Unit


class View:
    """Per-turn arrays a commander reads, computed once per side and turn."""

    def __init__(self, m, side: str):
        self.m = m
        self.side = side
        self.enemy = "ua" if side == "ru" else "ru"
        self.s = 0 if side == "ru" else 1
        self.e = 1 - self.s
        self.own = m.own_share(side)
        self.dist = distance_to_enemy(m, side)
        self.cache: dict = {}  # shared by the odds previews of this turn's decisions
        self._prefetched = False

    @cached_property
    def enemy_garrison(self) -> np.ndarray:
        """Personnel holding each hex for the enemy; worked out on first use, as not every doctrine reads it."""
        from sim.rules.control import garrison

        return garrison(self.m, self.enemy)

    @cached_property
    def own_garrison(self) -> np.ndarray:
        """Personnel holding each hex for this side; worked out on first use."""
        from sim.rules.control import garrison

        return garrison(self.m, self.side)

    def front_units(self, role: str = "manoeuvre") -> list[Unit]:
        return [u for u in self.m.side_units(self.side, role) if self.dist[u.hex] <= 1]

    def rear_units(self, role: str = "manoeuvre") -> list[Unit]:
        return [u for u in self.m.side_units(self.side, role) if self.dist[u.hex] > 1]

    def prefetch_rear(self, units: list[Unit] | None = None) -> None:
        """Find the reach of the units about to move (by default every rear unit out of reserve: they are the ones
        that move up) in one go, once a turn: one Dijkstra call for all of them costs much less than one call
        each. A commander that knows exactly which units it will ask about names them, so none is searched for
        nothing."""
        if not self._prefetched:
            self._prefetched = True
            prefetch_reach(self.m, [u for u in self.rear_units() if not u.status.in_reserve] if units is None else units)

    @cached_property
    def own_half(self) -> np.ndarray:
        """Hexes this side holds at least half of (read-only): the ground its units move on."""
        half = self.own >= 0.5
        half.flags.writeable = False
        return half

    def step_towards(self, unit: Unit, want_dist: int, avoid: set[int] | None = None) -> int | None:
        """The reachable hex closest to ``want_dist`` hexes from the enemy, cheapest first; None if here is best."""
        self.prefetch_rear()
        ok = self.own_half
        if avoid:
            ok = ok.copy()
            ok[np.fromiter(avoid, dtype=np.int64, count=len(avoid))] = False
        gap = np.abs(self.dist - want_dist)
        return best_reachable(reachable(self.m, unit), ok, gap, gap[unit.hex])


def best_reachable(reach: Reach, ok: np.ndarray, rank: np.ndarray, below: float) -> int | None:
    """Of the hexes in ``reach`` where ``ok`` is set and ``rank`` is below ``below``, the one with the lowest rank,
    then cost, then id (`first_by`'s order); None if there is none. A limit of the unit's own hex's rank leaves that
    hex out. One compiled pass over the reach's costs: no list of the hexes in reach is built."""
    best = _best_reachable(reach.dist, ok, rank, below)
    return None if best < 0 else int(best)


@njit(cache=True)
def _best_reachable(cost: np.ndarray, ok: np.ndarray, rank: np.ndarray, below) -> int:
    best = -1
    for h in range(cost.size):
        if cost[h] < np.inf and ok[h] and rank[h] < below and (
                best < 0 or rank[h] < rank[best] or (rank[h] == rank[best] and cost[h] < cost[best])):
            best = h
    return best


def allowed(m, order) -> bool:
    """Whether the rules would accept ``order`` now (the AI checks before it chooses, as a player would)."""
    try:
        legality.check(m, order)
    except IllegalOrder:
        return False
    return True


def infiltration_size(m, unit: Unit, wanted: float) -> float | None:
    """Personnel to send: ``wanted`` rounded and kept within the rules' commit cap; None if not even one."""
    cap = unit.personnel * m.p.infiltration.max_commit_share
    n = min(round(wanted), int(cap))
    return float(n) if n >= 1 else None


def main_effort_km(m, side: str, depth: int = 1, supporting_scale: float = 1.0) -> np.ndarray:
    """Distance in km from each hex to the side's current objectives on its axes of effort (inf if it has none).

    The scenario lists each axis's places in the order the side means to take them; the current ones are the
    first the side does not yet hold, so an axis moves on as each falls (its last place stays once all are held).
    The main effort pursues ``depth`` places at once, each supporting effort one; distances to a supporting
    effort's objective count ``supporting_scale`` times, so a narrower sector can be read with the same yardstick.
    """
    own = m.own_share(side)
    hi = m.p.control.contested_high

    def current(axis: np.ndarray, k: int) -> list[int]:
        return [int(h) for h in axis if own[h] < hi][:max(1, k)] or [int(axis[-1])]

    main = getattr(m, "main_effort", {}).get(side, ())
    steps = [m.map.distances_from(h) for h in (current(main, depth) if len(main) else ())]
    for axis in getattr(m, "supporting_efforts", {}).get(side, ()):
        if len(axis):
            steps.append(m.map.distances_from(current(axis, 1)[0]) * supporting_scale)
    if not steps:
        return np.full(m.map.n, np.inf)
    nearest = steps[0]
    for more in steps[1:]:  # pairwise rather than np.min over a stacked copy: a minimum is exact in any order
        nearest = np.minimum(nearest, more)
    return nearest * m.map.spec.hex_km


def current_offensive(m, side: str):
    """The scenario's offensive of ``side`` under way on this turn's date, or None."""
    return next((o for o in m.scenario.offensives if o.side == side and o.covers(m.date)), None)


def ring_hexes(m, hid: int, radius: int) -> np.ndarray:
    return np.flatnonzero(m.map.distances_from(hid) <= radius)


def in_range(m, hid: int, range_km: float) -> np.ndarray:
    """Hexes whose centres are at most ``range_km`` from hex ``hid``, in id order: the hexes where
    ``distances_from(hid) * hex_km <= range_km``, taken from the map's cached rings (a fire unit asks each turn
    from a hex it seldom leaves) rather than from a pass over the whole map."""
    km = m.map.spec.hex_km
    steps = int(range_km / km)  # then the last whole number of hexes whose length in km is within range
    while (steps + 1) * km <= range_km:
        steps += 1
    while steps >= 0 and steps * km > range_km:
        steps -= 1
    return m.map.within(hid, steps)[0] if steps >= 0 else np.empty(0, dtype=np.int64)


def road_side(m, min_class: int = 1) -> np.ndarray:
    """Hexes with a road of at least ``min_class`` across one of their sides; worked out once per map, as roads
    never change in a game (read-only)."""
    cache = m.__dict__.get("_ai_road_side")
    if cache is None or cache[0] is not m.map:
        cache = m._ai_road_side = (m.map, {})
    mask = cache[1].get(min_class)
    if mask is None:
        mask = cache[1][min_class] = (m.map.road >= min_class).any(axis=1)
        mask.flags.writeable = False
    return mask
