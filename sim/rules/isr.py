"""ISR and strike fields: drone coverage per side, the strike capacity that kills what coverage detects, road
interdiction, and gap events in thin, tired sectors.

Coverage follows notes §4.5: I_s(h) = 1 - prod_u (1 - a_u crew_u exp(-d/L_u)) within R_max. Strike capacity is a
pool of kills per striker unit (drones and fires) that detected targets draw on in order (crossing infiltrators,
then assault forces, then found presence); when the pool runs dry, the rest get through ("someone gets through").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.rules.cohesion import units_by_uid
from sim.rules.graph import neighbour_any
from sim.units import SIDES, other

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import WargameModel
    from sim.units import Unit, UnitType


class StrikePool:
    """Kills each striker unit of a side can still deliver this turn, and which hexes each can reach."""

    def __init__(self, m: WargameModel, side: str):
        p, w = m.p, m.weather
        days = m.turn_days
        self.units = [u for u in _by_uid(m, side, _is_striker) if u.alive]
        ew = p.isr.ew_ru if side == "ru" else p.isr.ew_ua
        cold = p.weather.cold_sortie_factor if w.get("cold") else 1.0
        years = (m.date - m.scenario.calendar.start).days / 365.25
        growth = (1.0 + getattr(p.isr, f"sortie_growth_{side}")) ** years  # production ramps up through the war
        caps = []
        for u in self.units:
            ut = u.utype
            cap = 0.0
            if ut.sorties_per_day > 0:
                share = 1.0 - m.interdiction_share.get(u.uid, p.isr.interdiction_share)
                cap += (ut.sorties_per_day * days * w["visibility"] * ew * u.status.crew * cold * share * p.isr.p_hit
                        * growth)
            if ut.fires_per_day > 0:
                cap += ut.fires_per_day * days * p.fires.extra.p_hit
            caps.append(cap * min(1.0, u.personnel / max(ut.personnel, 1)))
        self.capacity = np.array(caps, dtype=float)
        self.reach = _reach_rows(m, side, self.units)

    def allocate(self, detected: np.ndarray) -> np.ndarray:
        """Spend capacity on ``detected`` targets per hex; return the expected kills per hex.

        Units are served in a fixed order; each spreads what it has over the targets it can reach in proportion
        to their size. Only hexes with targets are touched, so a turn's few target hexes cost little.
        """
        kills = np.zeros(detected.shape, dtype=float)
        idx = np.flatnonzero(detected > 0)
        if idx.size == 0 or not len(self.units):
            return kills
        if idx.size == 1:
            hid = int(idx[0])
            kills[hid] = self.allocate_at(hid, float(detected[hid]))
        else:
            kills[idx] = _spread(self.capacity, self.reach, idx, detected[idx].astype(float))
        return kills

    def allocate_at(self, hid: int, detected: float) -> float:
        """`allocate` of ``detected`` targets in hex ``hid`` and none elsewhere: the expected kills there, bit for bit,
        without the whole-map arrays (an assault asks about its one target hex)."""
        if not detected > 0 or not len(self.units):
            return 0.0
        return _spread_at(self.capacity, self.reach, hid, detected)

    def spend_on(self, unit_index: int, hid: int, targets: float) -> float:
        """A striker under a strike order spends its capacity on one hex first; return expected kills."""
        use = min(self.capacity[unit_index], targets)
        self.capacity[unit_index] -= use
        return use


def _reach_rows(m: WargameModel, side: str, units: list) -> np.ndarray:
    """The `within` mask of each striker, one row per unit: kept per side while no striker moves or changes (most
    turns), so it is shared by successive pools and must not be written to."""
    hm = m.map
    key = (hm, tuple((u.hex, max(u.utype.range_km, hm.spec.hex_km)) for u in units))
    cache = m.__dict__.setdefault("_strike_reach", {})
    hit = cache.get(side)
    if hit is None or hit[0] != key:
        rows = [within(hm, h, km) for h, km in key[1]]
        hit = cache[side] = (key, np.array(rows, dtype=bool).reshape(len(units), hm.n))
    return hit[1]


@njit(cache=True)
def _spread(capacity: np.ndarray, reach: np.ndarray, hexes: np.ndarray, remaining: np.ndarray) -> np.ndarray:
    """`StrikePool.allocate`'s loop over the units, compiled: returns the kills in ``hexes`` and spends
    ``capacity`` (and ``remaining``) in place.

    It does the arithmetic of the numpy version it replaced, operation for operation: a unit's targets are the
    remaining ones it reaches (0 elsewhere), summed the way numpy sums, and each target gets its share of what the
    unit uses.
    """
    got_total = np.zeros(hexes.size)
    targets = np.empty(hexes.size)
    for i in range(capacity.size):
        if not capacity[i] > 0:
            continue
        for j in range(hexes.size):
            targets[j] = remaining[j] if reach[i, hexes[j]] else 0.0
        total = _numpy_sum(targets)
        if total <= 0:
            continue
        use = total if total < capacity[i] else capacity[i]  # Python's min(capacity, total)
        ratio = use / total
        for j in range(hexes.size):
            got = targets[j] * ratio
            got_total[j] += got
            remaining[j] -= got
        capacity[i] -= use
    return got_total


@njit(cache=True)
def _spread_at(capacity: np.ndarray, reach: np.ndarray, hid: int, remaining: float) -> float:
    """`_spread` for one hex: the same arithmetic, where numpy's sum of a unit's one target is that target itself
    (it is never negative, so adding it to -0.0 and 0.0 leaves it as it is)."""
    got_total = 0.0
    for i in range(capacity.size):
        if not capacity[i] > 0:
            continue
        total = remaining if reach[i, hid] else 0.0
        if total <= 0:
            continue
        use = total if total < capacity[i] else capacity[i]
        got = total * (use / total)
        got_total += got
        remaining -= got
        capacity[i] -= use
    return got_total


@njit(cache=True)
def _numpy_sum(a: np.ndarray) -> float:
    """``a.sum()`` in numpy's own order, its pairwise summation: a run of more than 128 terms is split in two at a
    multiple of 8 and the halves' sums added, shorter runs go to `_run_sum`.

    The splitting is done with a stack rather than by recursion: numba cannot reload a cached recursive function.
    """
    starts = np.empty(128, np.int64)  # pending runs (start, length), or -1 and 0: "add the last two sums"
    lengths = np.empty(128, np.int64)
    sums = np.empty(128)
    starts[0], lengths[0] = 0, a.size
    pending, done = 1, 0
    while pending:
        pending -= 1
        start, n = starts[pending], lengths[pending]
        if start < 0:
            done -= 1
            sums[done - 1] += sums[done]
        elif n <= 128:
            sums[done] = _run_sum(a, start, n)
            done += 1
        else:
            half = n // 2
            half -= half % 8
            starts[pending], lengths[pending] = -1, 0  # after both halves: add them, the first on the left
            starts[pending + 1], lengths[pending + 1] = start + half, n - half
            starts[pending + 2], lengths[pending + 2] = start, half
            pending += 3
    return 0.0 + sums[0]  # numpy's reduction starts from 0.0


@njit(cache=True)
def _run_sum(a: np.ndarray, start: int, n: int) -> float:
    """numpy's pairwise sum of ``a[start:start + n]`` for n <= 128: under 8 terms one by one from -0.0, else in 8
    running sums combined pairwise, then the terms left over one by one."""
    if n < 8:
        res = -0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    r = a[start:start + 8].copy()
    i = 8
    while i < n - n % 8:
        for k in range(8):
            r[k] += a[start + i + k]
        i += 8
    res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
    while i < n:
        res += a[start + i]
        i += 1
    return res


def within(hexmap, hid: int, km: float) -> np.ndarray:
    """Read-only mask of hexes within ``km`` of hex ``hid`` (cached on the map: units seldom move)."""
    cache = hexmap.__dict__.setdefault("_within_cache", {})
    key = (hid, km)
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 4096:
            cache.clear()
        hit = hexmap.distances_from(hid) * hexmap.spec.hex_km <= km
        hit.flags.writeable = False
        cache[key] = hit
    return hit


def _decay(hexmap, hid: int, decay_km: float, range_km: float) -> np.ndarray:
    """exp(-d / L) within range, 0 beyond: the shape of one drone unit's coverage (cached on the map)."""
    cache = hexmap.__dict__.setdefault("_decay_cache", {})
    key = (hid, decay_km, range_km)
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 4096:
            cache.clear()
        d_km = hexmap.distances_from(hid) * hexmap.spec.hex_km
        hit = np.where(d_km <= range_km, np.exp(-d_km / decay_km), 0.0)
        hit.flags.writeable = False
        cache[key] = hit
    return hit


def _decay_support(hexmap, hid: int, decay_km: float, range_km: float) -> tuple[np.ndarray, np.ndarray]:
    """The hexes within range of one drone unit and `_decay` there (cached on the map).

    Beyond its range a unit adds log(1 - 0) = 0 to the log-miss, so coverage only needs the hexes in range.
    """
    cache = hexmap.__dict__.setdefault("_decay_support_cache", {})
    key = (hid, decay_km, range_km)
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 4096:
            cache.clear()
        where = np.flatnonzero(hexmap.distances_from(hid) * hexmap.spec.hex_km <= range_km)
        hit = cache[key] = (where, _decay(hexmap, hid, decay_km, range_km)[where])
    return hit


def _log_miss(hexmap, hid: int, decay_km: float, range_km: float, strength: float) -> tuple[np.ndarray, np.ndarray]:
    """`_decay_support` of one drone unit with its log-miss log(1 - min(a exp(-d/L), 0.999)) there for
    a = ``strength`` (cached on the map: most drone units keep their hex, crew and strength from turn to turn)."""
    cache = hexmap.__dict__.setdefault("_log_miss_cache", {})
    key = (hid, decay_km, range_km, strength)
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 2048:
            cache.clear()
        where, decay = _decay_support(hexmap, hid, decay_km, range_km)
        hit = cache[key] = (where, np.log1p(-np.minimum(strength * decay, 0.999)))
    return hit


def coverage(m: WargameModel, side: str) -> np.ndarray:
    """Drone ISR coverage I_s per hex for one side (before weather)."""
    hm = m.map
    where, terms = [], []
    for u in m.side_units(side):
        ut = u.utype
        if ut.recon <= 0:
            continue
        a = ut.recon * u.status.crew * min(1.0, u.personnel / max(ut.personnel, 1))
        hexes, log_miss = _log_miss(hm, u.hex, ut.recon_km, ut.range_km, a)
        where.append(hexes)
        terms.append(log_miss)
    if not where:
        return 1.0 - np.exp(np.zeros(hm.n))
    # bincount adds each hex's terms in unit order from 0, as a running sum over the units would
    log_miss = np.bincount(np.concatenate(where), weights=np.concatenate(terms), minlength=hm.n)
    return 1.0 - np.exp(log_miss)


def gap_events(m: WargameModel) -> None:
    """Thin, tired sectors open gaps (a botched rotation, a withdrawal without orders): ISR and garrison vanish there."""
    p = m.p
    m.gap[:] = 1.0
    frontage_km = 2.0 * m.map.spec.hex_km
    online_share, density_ref, g0 = p.gap.extra.online_share, p.gap.density_ref, p.gap.g0
    weeks = m.turn_days / 7.0
    for side in SIDES:
        units = [u for u in _by_uid(m, side, _is_manoeuvre) if u.alive]
        hexes = np.fromiter((u.hex for u in units), np.int64, len(units))
        enemy_near = neighbour_any(m.map, m.own_share(other(side)) >= 0.5)[hexes].tolist()
        front = [u for u, near in zip(units, enemy_near, strict=True) if near and not u.status.in_reserve]
        if not front:
            continue
        density = np.array([u.status.personnel for u in front], dtype=float) * online_share / frontage_km
        ratio = np.minimum(5.0, density_ref / np.maximum(density, 0.1))
        cohesion = np.array([u.status.cohesion for u in front], dtype=float)
        weekly = np.minimum(1.0, g0 * (1.0 - cohesion / 100.0) * ratio)
        draws = m.rng.random(len(front))  # the draws one call per unit would make, in the same order
        for u, draw, unit_weekly in zip(front, draws.tolist(), weekly.tolist(), strict=True):
            if draw < 1.0 - (1.0 - unit_weekly) ** weeks:  # Python's pow: numpy's may differ in the last bit
                hexes = np.flatnonzero(m.map.distances_from(u.hex) <= p.gap.radius)
                m.gap[0 if side == "ru" else 1, hexes] = p.gap.residual
                m.emit("isr", "gap", side, u.hex,
                       "Gap opens in the {side_name} line at {place}: {unit} thinned to {density:.1f} on-line "
                       "infantry per km (reference {ref:.0f}) at cohesion {coh:.0f}; ISR and garrison there fall "
                       "to {res:.0%} for this turn.",
                       side_name="Russian" if side == "ru" else "Ukrainian", place=m.hex_label(u.hex), unit=u.name,
                       density=u.personnel * online_share / frontage_km, ref=density_ref, coh=u.status.cohesion, res=p.gap.residual)


def _by_uid(m: WargameModel, side: str, is_kind: Callable[[UnitType], bool]) -> list[Unit]:
    """The side's units of a kind, dead or alive, in uid order (the order strike pools and gap events take them
    in): kept until a unit joins, as `sim.rules.cohesion.units_by_uid` is."""
    every = units_by_uid(m)
    cache = m.__dict__.get("_isr_rosters")
    if cache is None or cache[0] is not every:
        cache = m._isr_rosters = (every, {})
    units = cache[1].get((side, is_kind))
    if units is None:
        units = cache[1][side, is_kind] = [u for u in every if u.side == side and is_kind(u.utype)]
    return units


def _is_striker(ut: UnitType) -> bool:
    return ut.role in ("drone", "fires") or ut.sorties_per_day > 0


def _is_manoeuvre(ut: UnitType) -> bool:
    return ut.role == "manoeuvre"


def resolve(m: WargameModel) -> None:
    """Gap events, then coverage, interdiction and strike pools for both sides."""
    p = m.p
    gap_events(m)
    vis = m.weather["visibility"]
    m.strike_pools = {}
    for side in SIDES:
        s = 0 if side == "ru" else 1
        drones = [u for u in m.side_units(side) if u.utype.sorties_per_day > 0]
        total = sum(u.utype.sorties_per_day for u in drones) or 1.0
        sigma = sum(u.utype.sorties_per_day * m.interdiction_share.get(u.uid, p.isr.interdiction_share)
                    for u in drones) / total
        _isr_fields(m.map.nbr, coverage(m, side), m.presence[s], np.ascontiguousarray(m.own_share(side)), m.gap[s],
                    float(p.isr.drg_isr_bonus), float(p.isr.presence_interdiction), float(vis), float(sigma),
                    m.isr[s], m.interdiction[s])
        m.strike_pools[side] = StrikePool(m, side)


@njit(cache=True)
def _isr_fields(nbr: np.ndarray, cov: np.ndarray, presence: np.ndarray, own: np.ndarray, gap: np.ndarray,
                drg_bonus: float, presence_interdiction: float, vis: float, sigma: float, isr_out: np.ndarray,
                interdiction_out: np.ndarray) -> None:
    """One side's ISR and interdiction fields, written into ``isr_out`` and ``interdiction_out``, in two passes
    over the map instead of a dozen whole-map numpy operations; per hex the same operations in the same order as
    the numpy code it replaced:

        spotters = (presence > 0) & (own < 0.5)
        if spotters.any(): cov = 1 - (1 - cov) * (1 - drg_bonus * minimum(1, spotters + neighbour_sum(spotters)))
        isr = cov * gap
        infil = presence_interdiction * minimum(10, presence * (own < 0.5)); infil += 0.5 * neighbour_sum(infil)
        interdiction = clip(vis * isr * sigma + infil, 0, 0.95)

    A neighbour sum adds the six neighbours in direction order from the first, +0.0 for one off the map
    (`sim.rules.graph.neighbour_total`). The comparisons are written so that a NaN passes as numpy's would.
    """
    n = cov.size
    spotters = np.zeros(n)
    infil = np.empty(n)
    any_spotter = False
    for h in range(n):
        held = 1.0 if own[h] < 0.5 else 0.0
        if presence[h] > 0 and held:
            spotters[h] = 1.0
            any_spotter = True
        x = presence[h] * held
        infil[h] = presence_interdiction * (10.0 if x > 10.0 else x)
    for h in range(n):
        c = cov[h]
        if any_spotter:
            y = spotters[h] + _neighbour_sum(nbr, spotters, h)
            c = 1.0 - (1.0 - c) * (1.0 - drg_bonus * (1.0 if y > 1.0 else y))
        isr = c * gap[h]
        isr_out[h] = isr
        v = vis * isr * sigma + (infil[h] + 0.5 * _neighbour_sum(nbr, infil, h))
        interdiction_out[h] = 0.0 if v < 0.0 else 0.95 if v > 0.95 else v


@njit(cache=True)
def _neighbour_sum(nbr: np.ndarray, field: np.ndarray, h: int) -> float:
    """``field`` summed over the neighbours of hex ``h`` in direction order, +0.0 for one off the map."""
    total = field[nbr[h, 0]] if nbr[h, 0] >= 0 else 0.0
    for k in range(1, 6):
        total += field[nbr[h, k]] if nbr[h, k] >= 0 else 0.0
    return total

