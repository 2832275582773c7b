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
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra, maximum_flow

from sim.units import SIDES, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def _edges(m: WargameModel):
    cached = getattr(m.map, "_supply_edges", None)
    if cached is None:
        nbr = m.map.nbr
        src = np.repeat(np.arange(m.map.n), 6)
        dst = nbr.ravel()
        ok = dst >= 0
        road = m.map.road.ravel()[ok]
        cached = (src[ok], dst[ok], road)
        m.map._supply_edges = cached
    return cached


def open_hexes(m: WargameModel, side: str) -> np.ndarray:
    """Hexes supply can pass for ``side``: not held by the enemy, not water."""
    return (m.own_share(other(side)) < m.p.supply.enemy_hold) & (m.map.terrain != 6)


def trace(m: WargameModel, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Supply ratio per hex (0 where unreachable) and the pocket id per hex (-1 where connected to a source)."""
    p = m.p.supply
    s = 0 if side == "ru" else 1
    n = m.map.n
    src, dst, road = _edges(m)
    ok = open_hexes(m, side)
    keep = ok[src] & ok[dst]
    x_enemy = m.interdiction[1 - s]
    length = np.where(road > 0, 1.0, p.offroad_factor) * m.map.spec.hex_km / p.decay_km
    weight = length - p.interdiction_weight * np.log1p(-np.minimum(x_enemy[dst], 0.95))
    graph = csr_matrix((weight[keep] + 1e-9, (src[keep], dst[keep])), shape=(n, n))
    sources = m.supply_sources[side]
    sources = sources[ok[sources]]
    if sources.size == 0:
        return np.zeros(n), np.where(ok, 0, -1).astype(np.int32)
    dist = dijkstra(graph, directed=True, indices=sources, min_only=True)
    ratio = np.exp(-dist)
    ratio[~np.isfinite(dist)] = 0.0
    _, labels = connected_components(graph, directed=False)
    fed = np.unique(labels[sources])
    pocket = np.where(ok & ~np.isin(labels, fed), labels, -1).astype(np.int32)
    return ratio, pocket


def corridor_width(m: WargameModel, side: str, region: np.ndarray) -> int:
    """Fewest open hexes whose loss would cut ``region`` (hex ids) off from the side's sources."""
    n = m.map.n
    src, dst, _ = _edges(m)
    ok = open_hexes(m, side)
    keep = ok[src] & ok[dst]
    big = 10_000
    inside = np.zeros(n, dtype=bool)
    inside[region] = True
    sources = m.supply_sources[side]
    sources = sources[ok[sources]]
    split_cap = np.where(inside, big, 1)
    rows = [np.arange(n), src[keep] + n]
    cols = [np.arange(n) + n, dst[keep]]
    caps = [np.where(ok, split_cap, 0), np.full(int(keep.sum()), big)]
    s_node, t_node = 2 * n, 2 * n + 1
    rows += [np.full(sources.size, s_node), region + n]
    cols += [sources, np.full(region.size, t_node)]
    caps += [np.full(sources.size, big), np.full(region.size, big)]
    graph = csr_matrix((np.concatenate(caps).astype(np.int32),
                        (np.concatenate(rows), np.concatenate(cols))), shape=(2 * n + 2, 2 * n + 2))
    graph.sum_duplicates()
    flow = maximum_flow(graph, s_node, t_node).flow_value
    return int(min(flow, big))


def resolve(m: WargameModel) -> None:
    p = m.p.supply
    m.pocket_info = []
    for side in SIDES:
        s = 0 if side == "ru" else 1
        ratio, pocket = trace(m, side)
        m.pocket[s] = pocket
        m.supply_ratio[s] = np.where(ratio > 0, np.maximum(ratio, p.floor), p.floor)
        threatened = []
        for u in m.side_units(side):
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
                threatened.append(u.hex)
        for pid in np.unique(pocket[pocket >= 0]):
            hexes = np.flatnonzero(pocket == pid)
            units = [u for u in m.side_units(side) if pocket[u.hex] == pid]
            if units:
                m.pocket_info.append({"side": side, "hexes": int(hexes.size),
                                      "area_km2": float(hexes.size * m.map.area_km2), "units": len(units),
                                      "personnel": float(sum(u.personnel for u in units)), "corridor_km": 0.0})
        if threatened:
            region = np.unique(np.array(threatened, dtype=np.int64))
            width = corridor_width(m, side, region)
            m.pocket_info.append({"side": side, "hexes": int(region.size), "area_km2": float(region.size * m.map.area_km2),
                                  "units": sum(1 for u in m.side_units(side) if u.status.supply == "op_encircled"),
                                  "personnel": float(sum(u.personnel for u in m.side_units(side)
                                                         if u.status.supply == "op_encircled")),
                                  "corridor_km": width * m.map.spec.hex_km})
