"""Supply and encirclement (notes §4.7): throughput under interdiction, not a yes/no path.

For each side, a multi-source shortest path runs from its supply sources over hexes the enemy does not hold. Each
step costs its distance (roads cheaper) over `supply.decay_km` plus -log(1 - X) for the enemy's interdiction X of
the hex entered, so the ratio exp(-cost) is the share of demand that arrives. Hexes no path reaches are pockets
(found as connected components with no source) and live on the drone and ground-robot floor. For units whose
supply is failing, the width of the corridor back to the sources is a minimum vertex cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numba import njit

from sim.rules.graph import link_graph, links
from sim.rules.kernels import corridor_cut, nearest_cost
from sim.units import SIDES, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def open_hexes(m: WargameModel, side: str) -> np.ndarray:
    """Hexes supply can pass for ``side``: not held by the enemy, not water."""
    return (m.own_share(other(side)) < m.p.supply.enemy_hold) & (m.map.terrain != 6)


class _SupplyGraph:
    """The link graph in CSR order with the parts of its weights that never change, kept per model and map.

    Each turn only the interdiction term and the closed links change: filling one preallocated matrix in place
    avoids a permutation, a sparse-matrix build and a logarithm per link (the logarithm is taken per hex).
    """

    def __init__(self, m: WargameModel, lk):
        p = m.p.supply
        fixed = link_graph(m.map)
        self.links = lk
        self.dst = lk.dst[fixed.order]
        length = np.where(lk.road > 0, 1.0, p.offroad_factor) * m.map.spec.hex_km / p.decay_km
        self.length = length[fixed.order]
        self.graph = fixed.with_weights(np.zeros(lk.src.size))


def _supply_graph(m: WargameModel) -> _SupplyGraph:
    lk = links(m.map)
    cached = m.__dict__.get("_supply_graph")
    if cached is None or cached.links is not lk:
        cached = m._supply_graph = _SupplyGraph(m, lk)
    return cached


def trace(m: WargameModel, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Supply ratio per hex (0 where unreachable) and the pocket id per hex (-1 where connected to a source)."""
    p = m.p.supply
    s = 0 if side == "ru" else 1
    n = m.map.n
    sg = _supply_graph(m)
    ok = open_hexes(m, side)
    x_enemy = m.interdiction[1 - s]
    toll = p.interdiction_weight * np.log1p(-np.minimum(x_enemy, 0.95))
    # a link into a closed hex costs length + inf; one out of it is never taken, since no way leads in (the sources
    # are open), so it needs no closing
    toll[~ok] = -np.inf
    weight = sg.graph.data
    _fill_weights(sg.length, toll, sg.dst, weight)
    sources = m.supply_sources[side]
    sources = sources[ok[sources]]
    if sources.size == 0:
        return np.zeros(n), np.where(ok, 0, -1).astype(np.int32)
    dist = nearest_cost(sg.graph.indptr, sg.graph.indices, weight, sources.astype(np.int64))
    ratio = np.exp(-dist)  # exp(-inf) is 0: no supply reaches where no way leads
    pocket = np.full(n, -1, dtype=np.int32)
    cut_off = np.flatnonzero(ok & np.isinf(dist))
    if cut_off.size:
        pocket[cut_off] = _pocket_labels(m.map, cut_off)
    return ratio, pocket


@njit(cache=True)
def _fill_weights(length: np.ndarray, toll: np.ndarray, dst: np.ndarray, out: np.ndarray) -> None:
    """``out = length - toll[dst] + 1e-9``, link by link in one pass (the same two roundings per link as the numpy
    expression, without gathering the tolls into a temporary array first)."""
    for i in range(out.size):
        out[i] = (length[i] - toll[dst[i]]) + 1e-9


def _pocket_labels(hexmap, cut_off: np.ndarray) -> np.ndarray:
    """Component labels of the sorted hexes ``cut_off`` as numbered over the whole map.

    Labelling the whole map's graph, where every other hex is a component of its own, numbers components in the
    order of their lowest hex; the same numbers come from the cut-off hexes alone: a component's label is its
    rank among the cut-off components plus the other hexes below its lowest hex.
    """
    return _label_components(hexmap.nbr, cut_off)


@njit(cache=True)
def _label_components(nbr: np.ndarray, hexes: np.ndarray) -> np.ndarray:
    """`_pocket_labels` by a search from each of the sorted ``hexes`` not yet labelled, over the neighbour table:
    pockets are a few hexes (eight on average), and this costs microseconds where labelling the map took a hundred.
    """
    position = np.full(nbr.shape[0], -1, np.int64)  # of each of the hexes in ``hexes``
    for i in range(hexes.size):
        position[hexes[i]] = i
    label = np.full(hexes.size, -1, np.int64)
    todo = np.empty(hexes.size, np.int64)
    found = 0
    for i in range(hexes.size):
        if label[i] >= 0:
            continue
        # hexes[i] is the lowest hex of a new component: below it lie `found` components and hexes[i] - i other hexes
        label[i] = found + hexes[i] - i
        found += 1
        todo[0], size = i, 1
        while size > 0:
            size -= 1
            for h in nbr[hexes[todo[size]]]:
                j = position[h] if h >= 0 else -1
                if j >= 0 and label[j] < 0:
                    label[j] = label[i]
                    todo[size] = j
                    size += 1
    return label


def corridor_width(m: WargameModel, side: str, region: np.ndarray, ratio: np.ndarray | None = None,
                   ground: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> int:
    """Fewest open hexes whose loss would cut ``region`` (hex ids) off from ground nearby that is not threatened
    (supply at or above `supply.op_encircled`).

    The cut is sought within `supply.corridor_radius_km` of the region: the corridor is a local feature, and a
    local graph keeps this to some microseconds (`kernels.corridor_cut`). ``ground`` is `_corridor_ground` of the
    same side and ratio, for a caller asking about several regions.
    """
    hm = m.map
    ok, well_fed, is_source = ground or _corridor_ground(m, side, ratio)
    radius = max(2, round(m.p.supply.corridor_radius_km / hm.spec.hex_km))
    return int(corridor_cut(hm.nbr, ok, np.asarray(region, dtype=np.int64), well_fed, is_source, radius, 10_000))


def _corridor_ground(m: WargameModel, side: str, ratio: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hexes a corridor may run through, those a way out may lead to, and the supply sources, as masks."""
    ok = open_hexes(m, side)
    # the way out leads to ground that is not itself threatened: strained is enough (far from the sources a whole
    # sector may be strained, and asking for well-supplied ground there found no corridor, so "no way out")
    well_fed = ok if ratio is None else ok & (ratio >= m.p.supply.op_encircled)
    is_source = np.zeros(m.map.n, dtype=bool)
    is_source[m.supply_sources[side]] = True
    return ok, well_fed, is_source


def resolve(m: WargameModel) -> None:
    p = m.p.supply
    m.pocket_info = []
    for side in SIDES:
        s = 0 if side == "ru" else 1
        ratio, pocket = trace(m, side)
        m.pocket[s] = pocket
        m.supply_ratio[s] = np.where(ratio > 0, np.maximum(ratio, p.floor), p.floor)
        units = m.side_units(side)  # nobody moves or dies in this phase
        threatened = []
        for u in units:
            r = ratio[u.hex]
            state = ("encircled" if r <= 0 else "supplied" if r >= p.strained else "strained" if r >= p.op_encircled
                     else "op_encircled")
            if state != u.status.supply and state in ("op_encircled", "encircled"):
                m.emit("supply", "supply", side, u.hex,
                       "{unit} at {at} is {state}: supply ratio {r:.2f} (interdicted or cut routes).",
                       unit=u.name, at=m.hex_label(u.hex), r=max(r, 0.0),
                       state="operationally encircled" if state == "op_encircled" else "encircled")
            u.status.supply = state
            if state == "op_encircled":
                threatened.append(u)
        pocketed = pocket[[u.hex for u in units]] if units else np.zeros(0, dtype=np.int32)
        if (pocketed >= 0).any():
            sizes = np.bincount(pocket[pocket >= 0])
            for pid in sorted(set(pocketed[pocketed >= 0].tolist())):  # np.unique's order, without its overhead
                inside = [u for u, q in zip(units, pocketed, strict=True) if q == pid]
                m.pocket_info.append(_pocket_entry(m, side, int(sizes[pid]), inside, 0.0))
        if threatened:
            # each cluster of threatened hexes has its own corridor: a pocket closing at one end of the front
            # says nothing about a garrison squeezed at the other
            region = np.array(sorted({u.hex for u in threatened}), dtype=np.int64)
            # clusters taken in the order of their lowest hex, as `graph.component_labels` orders them
            cluster = dict(zip(region.tolist(), _label_components(m.map.nbr, region).tolist(), strict=True))
            ground = _corridor_ground(m, side, ratio)
            for label in sorted(set(cluster.values())):
                hexes = np.array([h for h in region.tolist() if cluster[h] == label], dtype=np.int64)
                inside = [u for u in threatened if cluster[u.hex] == label]
                width = corridor_width(m, side, hexes, ratio, ground)
                m.pocket_info.append(_pocket_entry(m, side, int(hexes.size), inside, width * m.map.spec.hex_km))


def _pocket_entry(m: WargameModel, side: str, hexes: int, inside: list, corridor_km: float) -> dict:
    """One pocket (or threatened cluster) as the metrics, the map overlay and the AI read it."""
    return {"side": side, "hexes": hexes, "area_km2": float(hexes * m.map.area_km2), "units": len(inside),
            "personnel": float(sum(u.personnel for u in inside)), "corridor_km": corridor_km,
            "unit_ids": [u.uid for u in inside]}


def corridor_of(m: WargameModel, unit) -> float:
    """Width in km of the corridor out of the pocket or threatened cluster ``unit`` is in (inf if none)."""
    return next((pk["corridor_km"] for pk in m.pocket_info if unit.uid in pk["unit_ids"]), float("inf"))
