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

from sim.rules.graph import link_graph, links
from sim.units import SIDES, other

if TYPE_CHECKING:
    from sim.model import WargameModel


def open_hexes(m: WargameModel, side: str) -> np.ndarray:
    """Hexes supply can pass for ``side``: not held by the enemy, not water."""
    return (m.own_share(other(side)) < m.p.supply.enemy_hold) & (m.map.terrain != 6)


def trace(m: WargameModel, side: str) -> tuple[np.ndarray, np.ndarray]:
    """Supply ratio per hex (0 where unreachable) and the pocket id per hex (-1 where connected to a source)."""
    p = m.p.supply
    s = 0 if side == "ru" else 1
    n = m.map.n
    lk = links(m.map)
    ok = open_hexes(m, side)
    x_enemy = m.interdiction[1 - s]
    length = np.where(lk.road > 0, 1.0, p.offroad_factor) * m.map.spec.hex_km / p.decay_km
    weight = length - p.interdiction_weight * np.log1p(-np.minimum(x_enemy[lk.dst], 0.95)) + 1e-9
    weight[~(ok[lk.src] & ok[lk.dst])] = np.inf
    graph = link_graph(m.map).with_weights(weight)
    sources = m.supply_sources[side]
    sources = sources[ok[sources]]
    if sources.size == 0:
        return np.zeros(n), np.where(ok, 0, -1).astype(np.int32)
    dist = dijkstra(graph, directed=True, indices=sources, min_only=True)
    ratio = np.exp(-dist)
    ratio[~np.isfinite(dist)] = 0.0
    pocket = np.full(n, -1, dtype=np.int32)
    cut_off = np.flatnonzero(ok & ~np.isfinite(dist))
    if cut_off.size:
        inside = np.zeros(n, dtype=bool)
        inside[cut_off] = True
        keep = inside[lk.src] & inside[lk.dst]
        sub = csr_matrix((np.ones(int(keep.sum())), (lk.src[keep], lk.dst[keep])), shape=(n, n))
        _, labels = connected_components(sub, directed=False)
        pocket[cut_off] = labels[cut_off]
    return ratio, pocket


def corridor_width(m: WargameModel, side: str, region: np.ndarray, ratio: np.ndarray | None = None) -> int:
    """Fewest open hexes whose loss would cut ``region`` (hex ids) off from well-supplied ground nearby.

    The cut is sought within `supply.corridor_radius_km` of the region: the corridor is a local feature, and a
    local graph keeps this a fraction of a millisecond.
    """
    p = m.p.supply
    hm = m.map
    n = hm.n
    ok = open_hexes(m, side)
    radius = max(2, round(p.corridor_radius_km / hm.spec.hex_km))
    dist = np.full(n, radius + 1, dtype=np.int64)
    dist[region] = 0
    frontier = np.zeros(n, dtype=bool)
    frontier[region] = True
    for d in range(1, radius + 1):
        reached = np.zeros(n + 1, dtype=bool)
        reached[hm.nbr[frontier & ok].ravel()] = True
        frontier = reached[:-1] & (dist > d) & ok
        dist[frontier] = d
    well_fed = ok if ratio is None else ok & (ratio >= p.strained)
    outer = ((dist == radius) & well_fed) | np.isin(np.arange(n), m.supply_sources[side]) & (dist <= radius) & ok
    if not outer.any():
        return 0
    local = np.flatnonzero((dist <= radius) & ok)
    k = local.size
    index = np.full(n, -1, dtype=np.int64)
    index[local] = np.arange(k)
    lk = links(hm)
    keep = (index[lk.src] >= 0) & (index[lk.dst] >= 0)
    a, b = index[lk.src[keep]], index[lk.dst[keep]]
    big = 10_000
    inner = np.zeros(k, dtype=bool)
    inner[index[region[index[region] >= 0]]] = True
    starts, ends = index[np.flatnonzero(outer)], index[region[index[region] >= 0]]
    s_node, t_node = 2 * k, 2 * k + 1
    rows = np.concatenate([np.arange(k), a + k, np.full(starts.size, s_node), ends + k])
    cols = np.concatenate([np.arange(k) + k, b, starts, np.full(ends.size, t_node)])
    caps = np.concatenate([np.where(inner, big, 1), np.full(a.size, big), np.full(starts.size + ends.size, big)])
    graph = csr_matrix((caps.astype(np.int32), (rows, cols)), shape=(2 * k + 2, 2 * k + 2))
    graph.sum_duplicates()
    return int(min(maximum_flow(graph, s_node, t_node).flow_value, big))


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
            width = corridor_width(m, side, region, ratio)
            m.pocket_info.append({"side": side, "hexes": int(region.size), "area_km2": float(region.size * m.map.area_km2),
                                  "units": sum(1 for u in m.side_units(side) if u.status.supply == "op_encircled"),
                                  "personnel": float(sum(u.personnel for u in m.side_units(side)
                                                         if u.status.supply == "op_encircled")),
                                  "corridor_km": width * m.map.spec.hex_km})
