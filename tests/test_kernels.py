"""The compiled graph searches against the library answers they replaced, on random graphs."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim import hexgrid
from sim.rules import movement
from sim.rules.kernels import corridor_cut, nearest_cost, reach_rows


@st.composite
def weighted_graphs(draw, max_nodes: int = 14):
    """A random directed graph in CSR form with positive weights, some of them infinite (closed links)."""
    n = draw(st.integers(2, max_nodes))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), min_size=1, max_size=4 * n,
                          unique=True))
    pairs = [(a, b) for a, b in pairs if a != b] or [(0, 1)]
    # weights from a few values, so equally cheap routes are common
    weights = draw(st.lists(st.sampled_from([0.5, 1.0, 1.5, 2.0, np.inf]), min_size=len(pairs), max_size=len(pairs)))
    rows, cols = np.array(pairs).T
    g = csr_matrix((np.array(weights), (rows, cols)), shape=(n, n))
    g.sort_indices()
    return g


@settings(max_examples=300, deadline=None)
@given(g=weighted_graphs(), data=st.data())
def test_reach_costs_and_ways_equal_scipys(g, data):
    """Costs to the last bit, and of equally cheap ways the very one scipy's Dijkstra keeps (weights are drawn
    from a few values, so ties are the rule here, not the exception)."""
    n = g.shape[0]
    starts = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3)), dtype=np.int64)
    limit = data.draw(st.sampled_from([1.0, 2.5, 4.0, np.inf]))
    through = np.zeros(n)  # no pass-through cost: the plain graph scipy searches
    dist, prev = reach_rows(g.indptr, g.indices, g.data, through, starts, limit)
    want_dist, want_prev = dijkstra(g, directed=True, indices=starts, limit=limit, return_predecessors=True)
    assert np.array_equal(dist, want_dist)
    want_prev[np.arange(starts.size), starts] = -1
    assert np.array_equal(prev, np.where(want_prev < 0, -1, want_prev))
    for row, start in enumerate(starts):  # the rule itself, so a change in scipy's order cannot hide a change here
        for v in np.flatnonzero(np.isfinite(dist[row])):
            col = g[:, [v]].tocoo()  # every link into v
            cheapest = [(dist[row, u], -u) for u, w in zip(col.row, col.data, strict=True)
                        if u != v and dist[row, u] + w == dist[row, v]]
            assert prev[row, v] == (-1 if v == start else -min(cheapest)[1])


def test_reach_on_the_real_map_equals_scipys_search_of_the_entry_exit_graph():
    """The compiled search skips the doubled graph (an entry and an exit node per hex, zones of control closing
    the way through); its costs and ways must still be what scipy finds on that graph, ties included."""
    from sim.model import WargameModel

    m = WargameModel("pokrovsk-axis-2024", seed=3)
    units = sorted(m.units.values(), key=lambda u: u.uid)
    movement.prefetch_reach(m, units)
    n, ties = m.map.n, 0
    for u in units:
        best = movement.reachable(m, u)
        graph = movement._step_costs(m, u.utype.mobility, movement._context(m, u.side))
        limit = movement.allowance_km(m, u) + 1e-9
        dist, pred = dijkstra(graph, directed=True, indices=u.hex + n, limit=limit, return_predecessors=True)
        h = best.hexes[best.hexes != u.hex]
        assert np.array_equal(best.dist[h], dist[h])
        assert np.array_equal(best.prev[h], pred[h] - n)  # an entry's predecessor is the previous hex's exit
        ties += _tied_hexes(graph, dist, n, h)
    assert ties > 100  # the map has many equally cheap ways, so the tie-break was exercised


def _tied_hexes(graph: csr_matrix, dist: np.ndarray, n: int, hexes: np.ndarray) -> int:
    """How many of ``hexes`` two or more exits reach at exactly their cost."""
    into = graph[n:, :n].tocsc()  # exit rows -> entry columns
    tied = 0
    for v in hexes:
        lo, hi = into.indptr[v], into.indptr[v + 1]
        tied += int(np.sum(dist[n + into.indices[lo:hi]] + into.data[lo:hi] == dist[v]) > 1)
    return tied


@settings(max_examples=150, deadline=None)
@given(g=weighted_graphs(), data=st.data())
def test_nearest_source_cost_equals_scipys(g, data):
    n = g.shape[0]
    sources = np.array(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3)), dtype=np.int64)
    assert np.array_equal(nearest_cost(g.indptr, g.indices, g.data, sources),
                          dijkstra(g, directed=True, indices=sources, min_only=True))


def _menger_width(nbr, ok, region, outer) -> int:
    """Fewest open hexes outside ``region`` whose loss separates it from ``outer`` (networkx's node cut)."""
    g = nx.DiGraph()
    for h in np.flatnonzero(ok):
        inner = h in region
        g.add_edge(("in", h), ("out", h), capacity=10_000 if inner else 1)
        for k in nbr[h][nbr[h] >= 0]:
            if ok[k]:
                g.add_edge(("out", h), ("in", int(k)), capacity=10_000)
    for h in np.flatnonzero(outer):
        g.add_edge("s", ("in", h), capacity=10_000)
    for h in region:
        if ok[h]:
            g.add_edge(("out", h), "t", capacity=10_000)
    if "s" not in g or "t" not in g:
        return 0
    return min(int(nx.maximum_flow_value(g, "s", "t")), 10_000)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_corridor_cut_is_the_fewest_hexes_that_cut_the_region_off(data):
    width, height, radius = 7, 7, 2
    nbr = hexgrid.neighbour_table(width, height)
    n = width * height
    ok = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    fed = ok & np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    centre = (height // 2) * width + width // 2
    region = np.array(sorted({centre, *data.draw(st.lists(st.sampled_from(nbr[centre][nbr[centre] >= 0].tolist()),
                                                          max_size=2))}), dtype=np.int64)
    is_source = np.zeros(n, dtype=bool)
    # ground within the radius, through open hexes, as the kernel's search finds it
    steps = np.full(n, radius + 1)
    steps[region] = 0
    for d in range(radius):
        for h in np.flatnonzero((steps == d) & ok):
            for k in nbr[h][nbr[h] >= 0]:
                if ok[k] and steps[k] > d + 1:
                    steps[k] = d + 1
    local = ok & (steps <= radius)
    outer = local & (steps == radius) & fed
    expected = _menger_width(nbr, local, set(region.tolist()), outer) if outer.any() else 0
    assert corridor_cut(nbr, ok, region, fed, is_source, radius, 10_000) == expected
