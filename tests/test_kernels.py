"""The compiled kernels against the library answers they replaced, on random inputs: each must give the same
bits, since the calibrated games were played with the library versions."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from sim import hexgrid
from sim.ai.ukrainian import _most_within_steps, _within_steps
from sim.rules import movement
from sim.rules.graph import component_labels, hex_steps_to, neighbour_any, neighbour_total
from sim.rules.isr import _isr_fields, _numpy_sum, _spread
from sim.rules.kernels import corridor_cut, nearest_cost, reach_rows, reach_until, search_queue
from sim.rules.supply import _label_components


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
    closed = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))  # as if links into them were inf
    queue = search_queue(g.indptr, g.indices, g.data, through)
    dist, prev = reach_rows(g.indptr, g.indices, g.data, through, closed, starts, limit, queue)
    again = reach_rows(g.indptr, g.indices, g.data, through, closed, starts[::-1], limit, queue)  # a kept queue is reusable
    assert np.array_equal(again[0], dist[::-1]) and np.array_equal(again[1], prev[::-1])
    g = csr_matrix((np.where(closed[g.indices], np.inf, g.data), g.indices, g.indptr), shape=g.shape)
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


@settings(max_examples=300, deadline=None)
@given(g=weighted_graphs(), data=st.data())
def test_a_search_ended_at_its_targets_holds_the_whole_searchs_costs_and_ways(g, data):
    """Every hex `reach_until` holds has the cost and way of the whole search, every target in reach is held, and
    a search that says it ran to its end is the whole search; the queue is left ready for the next search."""
    n = g.shape[0]
    start = data.draw(st.integers(0, n - 1))
    targets = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=3)), dtype=np.int64)
    limit = data.draw(st.sampled_from([1.0, 2.5, 4.0, np.inf]))
    through, closed = np.zeros(n), np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    links = g.indptr, g.indices, g.data, through, closed
    queue = search_queue(g.indptr, g.indices, g.data, through)
    dist, prev, complete = reach_until(*links, start, limit, queue, targets)
    (whole_dist,), (whole_prev,) = reach_rows(*links, np.array([start]), limit, queue)
    held = np.isfinite(dist)
    assert np.array_equal(dist[held], whole_dist[held]) and np.array_equal(prev[held], whole_prev[held])
    assert np.array_equal(held[targets], np.isfinite(whole_dist[targets]))
    assert np.array_equal(prev[~held], np.full(n - held.sum(), -1))
    if complete or targets.size == 0:
        assert np.array_equal(dist, whole_dist)
    again = reach_rows(*links, np.array([start]), limit, queue)
    assert np.array_equal(again[0][0], whole_dist) and np.array_equal(again[1][0], whole_prev)


def test_a_forced_fall_back_searched_only_to_the_near_ground_picks_as_the_whole_search_does():
    """`_fall_back_hex` ends its search once the near safe ground is settled; the whole reach must give the same
    hex for every unit, on ground where many units have near safe ground and many do not."""
    from sim.model import WargameModel

    m = WargameModel("pokrovsk-axis-2024", seed=3)
    picks = 0
    for u in sorted(m.units.values(), key=lambda u: u.uid):
        dist = movement.distance_to_enemy(m, u.side)
        movement.invalidate(m)
        cut = movement._fall_back_hex(m, u, dist, within_km=5.0)
        movement.prefetch_reach(m, [u])  # the whole reach is cached now, so the pick reads it
        assert movement._fall_back_hex(m, u, dist, within_km=5.0) == cut
        picks += cut is not None
    assert picks > 20


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


# -------------------------------------------------------------------------- kernels kept beside their rules
finite_values = st.floats(0.0, 1e4, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(values=st.lists(st.one_of(st.just(0.0), finite_values), max_size=700))
def test_numpy_order_sum_equals_numpy_sum(values):
    """Long runs too: numpy splits a run of more than 128 terms in two, so lengths up to 700 test the splits."""
    a = np.array(values, dtype=float)
    got, want = _numpy_sum(a), a.sum()
    assert got == want and np.signbit(got) == np.signbit(want)


def test_numpy_order_sum_on_map_sized_arrays():
    rng = np.random.default_rng(5)
    for n in (0, 1, 7, 8, 129, 1000, 3276):
        a = rng.random(n) * 10 ** rng.uniform(-3, 4, n)
        assert _numpy_sum(a) == a.sum()


def _spread_with_numpy(capacity, reach, hexes, remaining):
    """The strike allocation as it was written in numpy, before it was compiled."""
    got_total, reach = np.zeros(hexes.size), reach[:, hexes]
    for i in np.flatnonzero(capacity > 0):
        targets = np.where(reach[i], remaining, 0.0)
        total = targets.sum()
        if total <= 0:
            continue
        use = min(capacity[i], total)
        got = targets * (use / total)
        got_total += got
        remaining -= got
        capacity[i] -= use
    return got_total


@settings(max_examples=150, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_strike_allocation_equals_the_numpy_version(seed):
    rng = np.random.default_rng(seed)
    units, n, k = int(rng.integers(0, 20)), 300, int(rng.integers(1, 200))
    capacity = rng.random(units) * 10 ** rng.uniform(-1, 3, units)
    capacity[rng.random(units) < 0.2] = 0.0
    reach = rng.random((units, n)) < rng.random()
    hexes = np.sort(rng.choice(n, k, replace=False))
    remaining = rng.random(k) * 10 ** rng.uniform(-1, 3, k)
    c1, c2, r1, r2 = capacity.copy(), capacity.copy(), remaining.copy(), remaining.copy()
    assert np.array_equal(_spread_with_numpy(c1, reach, hexes, r1), _spread(c2, reach, hexes, r2))
    assert np.array_equal(c1, c2) and np.array_equal(r1, r2)


def test_neighbour_total_and_coverage_equal_numpys_on_the_real_map():
    from sim.model import WargameModel

    hm = WargameModel("pokrovsk-axis-2024", seed=0).map
    field = np.random.default_rng(2).random(hm.n) * 1000
    assert np.array_equal(neighbour_total(hm, field), np.append(field, 0.0)[hm.nbr].sum(axis=1))
    rng = np.random.default_rng(3)
    froms, tos = rng.choice(hm.n, 40, replace=False), rng.choice(hm.n, 300, replace=False)
    for steps in (0.0, 1.0, 2.5, 4.0, 7.9, 12.0):
        want = hexgrid.distance_arrays(hm.q[froms][:, None], hm.r[froms][:, None], hm.q[tos][None, :],
                                       hm.r[tos][None, :]) <= steps
        assert np.array_equal(_within_steps(hm.q, hm.r, froms, tos, steps), want)


def _real_map():
    from sim.model import WargameModel

    return WargameModel("pokrovsk-axis-2024", seed=0).map


def test_hex_steps_and_neighbour_masks_equal_a_plain_search_on_the_real_map():
    hm = _real_map()
    graph = nx.Graph((h, int(g)) for h in range(hm.n) for g in hm.nbr[h] if g >= 0)
    rng = np.random.default_rng(5)
    for share in (0.0005, 0.01, 0.2):
        mask = rng.random(hm.n) < share
        mask[rng.integers(hm.n)] = True
        want = nx.multi_source_dijkstra_path_length(graph, set(np.flatnonzero(mask).tolist()))
        assert hex_steps_to(hm, mask).tolist() == [want[h] for h in range(hm.n)]
        assert np.array_equal(neighbour_any(hm, mask), np.append(mask, False)[hm.nbr].any(axis=1))
    assert (hex_steps_to(hm, np.zeros(hm.n, dtype=bool), none=77) == 77).all()


def test_pocket_labels_group_and_order_components_as_scipys_label_does():
    """Supply's compiled labelling numbers components as a labelling of the whole map would; its clusters and
    their order (by lowest hex) are those of `graph.component_labels`, which numbers them 1, 2, ..."""
    hm = _real_map()
    rng = np.random.default_rng(6)
    for size in (1, 5, 40, 400):
        centre = rng.integers(hm.n)
        near = np.flatnonzero(hm.distances_from(centre) <= 12)
        hexes = np.sort(rng.choice(near, min(size, near.size), replace=False))
        ours = np.unique(_label_components(hm.nbr, hexes), return_inverse=True)[1]
        assert np.array_equal(ours + 1, component_labels(hm, hexes))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.sampled_from([0.5, 1.0, 2.0])), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_first_by_is_the_first_of_a_lexsort(pairs, rnd):
    ids = np.array(rnd.sample(range(1000), len(pairs)), dtype=np.int64)  # unique, as hex ids are
    rank, cost = (np.array(column) for column in zip(*pairs, strict=True))
    assert movement.first_by(rank, cost, ids) == np.lexsort((ids, cost, rank))[0]


def test_drone_post_bound_is_never_below_the_best_post():
    """The Ukrainian AI skips a drone unit's reach search when this bound says no post can beat where it is, so
    the bound, allowing for its rounding, must be at least the best post's exact value."""
    hm = _real_map()
    rng = np.random.default_rng(7)
    for steps in (1.0, 2.5, 6.0):
        posts, targets = rng.choice(hm.n, 60, replace=False), rng.choice(hm.n, 400, replace=False)
        weights = rng.random(400) * rng.choice([1.0, 1e-3, 1e3], 400)
        exact = (_within_steps(hm.q, hm.r, posts, targets, steps) @ weights).max()
        assert _most_within_steps(hm.q, hm.r, posts, targets, weights, steps) * (1 + 1e-9) >= exact


def _isr_fields_with_numpy(hm, cov, presence, own, gap, bonus, per_presence, vis, sigma):
    """The numpy expressions `isr._isr_fields` replaced."""
    spotters = (presence > 0) & (own < 0.5)
    if spotters.any():
        near = bonus * np.minimum(1.0, spotters + neighbour_total(hm, spotters.astype(float)))
        cov = 1.0 - (1.0 - cov) * (1.0 - near)
    isr = cov * gap
    infil = per_presence * np.minimum(10.0, presence * (own < 0.5))
    infil = infil + 0.5 * neighbour_total(hm, infil)
    return isr, np.clip(vis * isr * sigma + infil, 0.0, 0.95)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), spotted=st.booleans())
def test_isr_fields_equal_the_numpy_expressions_on_the_real_map(seed, spotted):
    hm = _real_map()
    rng = np.random.default_rng(seed)
    cov, own, gap = rng.random(hm.n), rng.random(hm.n), rng.uniform(0.3, 1.0, hm.n)
    presence = np.where(rng.random(hm.n) < 0.05, rng.uniform(0, 30, hm.n), 0.0)
    if not spotted:  # no infiltrators on enemy ground: the spotters' bonus is skipped
        presence[own < 0.5] = 0.0
    knobs = rng.uniform(0.05, 0.9, 4)
    isr, interdiction = np.empty(hm.n), np.empty(hm.n)
    _isr_fields(hm.nbr, cov, presence, own, gap, *knobs, isr, interdiction)
    want_isr, want_interdiction = _isr_fields_with_numpy(hm, cov, presence, own, gap, *knobs)
    assert np.array_equal(isr, want_isr) and np.array_equal(interdiction, want_interdiction)
    assert (interdiction > 0).any() and (interdiction < 0.95).any()
