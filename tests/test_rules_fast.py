"""The turn phases' fast private paths give exactly what the public queries they stand in for give."""

from __future__ import annotations

import copy
import datetime as dt
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from sim.ai import play_side
from sim.ai.common import best_reachable
from sim.geo.hexmap import NAMED_MAPS, load_map
from sim.model import WargameModel
from sim.orders import Assault
from sim.rules import assault, legality, movement, weather
from sim.rules.graph import hex_steps_to, links, neighbour_total
from sim.rules.supply import _pocket_labels
from sim.scenario import WEATHER_STATES


def _bfs_steps(hm, mask: np.ndarray) -> np.ndarray:
    dist = np.full(hm.n, 10_000, dtype=np.int64)
    dist[mask] = 0
    seen, frontier, d = mask.copy(), mask, 0
    while frontier.any():
        d += 1
        reached = np.zeros(hm.n + 1, dtype=bool)
        reached[hm.nbr[frontier].ravel()] = True
        frontier = reached[:-1] & ~seen
        dist[frontier] = d
        seen |= frontier
    return dist


@pytest.mark.parametrize("name", sorted(NAMED_MAPS))
def test_hex_steps_match_breadth_first_search(name):
    hm = load_map(NAMED_MAPS[name])
    rng = np.random.default_rng(5)
    for share in (0.0, 0.0003, 0.001, 0.01, 0.2, 0.7):
        for _ in range(5):
            mask = rng.random(hm.n) < share
            assert np.array_equal(hex_steps_to(hm, mask), _bfs_steps(hm, mask))
    corners = np.zeros(hm.n, dtype=bool)
    corners[[0, hm.width - 1, hm.n - hm.width, hm.n - 1]] = True
    assert np.array_equal(hex_steps_to(hm, corners), _bfs_steps(hm, corners))


def _played(turns: int) -> WargameModel:
    """pokrovsk-axis-2024 after a few AI-against-AI turns: a mid-game state with units on the move."""
    m = WargameModel("pokrovsk-axis-2024", seed=3)
    for _ in range(turns):
        play_side(m, "ru")
        play_side(m, "ua")
        m.end_turn()
    return m


def test_fallback_target_is_withdrawal_target():
    m = _played(4)
    for u in sorted(m.units.values(), key=lambda u: u.uid):
        if u.alive:
            assert movement._fallback_target(m, u) == movement.withdrawal_target(m, u), u.uid


@pytest.mark.parametrize("name", sorted(NAMED_MAPS))
def test_pocket_labels_match_whole_map_components(name):
    hm = load_map(NAMED_MAPS[name])
    lk = links(hm)
    rng = np.random.default_rng(1)
    for share in (0.001, 0.01, 0.1, 0.5, 0.9, 1.0):
        inside = rng.random(hm.n) < share
        cut_off = np.flatnonzero(inside)
        keep = inside[lk.src] & inside[lk.dst]
        sub = csr_matrix((np.ones(int(keep.sum())), (lk.src[keep], lk.dst[keep])), shape=(hm.n, hm.n))
        labels = connected_components(sub, directed=False)[1]
        assert np.array_equal(_pocket_labels(hm, cut_off), labels[cut_off])


def test_neighbour_total_adds_like_numpy_row_sums():
    hm = load_map(NAMED_MAPS["operational"])
    rng = np.random.default_rng(2)
    for _ in range(20):
        field = rng.random(hm.n) * 10.0 ** rng.uniform(-6, 6, hm.n)
        field[rng.random(hm.n) < 0.5] = 0.0
        expected = np.append(field, 0.0)[hm.nbr].sum(axis=1)
        assert np.array_equal(neighbour_total(hm, field).view(np.int64), expected.view(np.int64))


def test_single_hex_allocation_matches_the_general_one():
    m = _played(2)
    rng = np.random.default_rng(4)
    for side in ("ru", "ua"):
        pool = m.strike_pools[side]
        far = np.flatnonzero(~pool.reach.any(axis=0))
        assert far.size
        for h in rng.choice(np.flatnonzero(pool.reach.any(axis=0)), 20):
            one, two = copy.copy(pool), copy.copy(pool)
            one.capacity, two.capacity = pool.capacity.copy(), pool.capacity.copy()
            target = np.zeros(m.map.n)
            target[h] = rng.uniform(1, 400)
            kills_one = one.allocate(target)
            target[far[0]] = 50.0  # a second hex nobody reaches takes the general path and changes nothing
            kills_two = two.allocate(target)
            assert kills_one[h] == kills_two[h]
            assert np.array_equal(one.capacity, two.capacity)


def _scan(m: WargameModel, side: str, uid: str) -> list:
    return [o for o in m.pending[side] if uid in o.busy]


def test_pending_index_follows_issue_undo_and_edits():
    m = _played(2)
    play_side(m, "ru")
    uids = sorted({uid for o in m.pending["ru"] for uid in o.busy})
    assert len(m.pending["ru"]) > 3 and uids

    def same():
        for uid in uids + ["nobody"]:
            assert m.pending_for("ru", uid) == _scan(m, "ru", uid)
            assert all(a is b for a, b in zip(m.pending_for("ru", uid), _scan(m, "ru", uid), strict=True))

    same()
    last = m.undo("ru")
    same()
    before = m.undo("ru")
    m.pending["ru"].append(last)  # by hand: one order back, another missing
    same()
    m.pending["ru"][-1] = before  # replaced in place
    same()
    m.pending["ru"].clear()
    same()
    play_side(m, "ru")
    same()
    m.end_turn()
    same()


def _fresh_weights(m: WargameModel, side: str, mobility: str) -> np.ndarray:
    """The movement graph's weights built from scratch, as `_step_costs` did before it refilled a kept matrix."""
    ctx = movement._context(m, side)
    base = movement._link_base(m, links(m.map))
    mud = 1.0
    if m.weather.get("mud"):
        mud = 1.0 / getattr(m.p.weather, f"mud_{mobility}")
    cost = movement._base_cost(m, dict(base), mud)
    closed = ctx["closed"][base["dst"]]
    if mobility != "foot":
        closed = closed | (base["off_road"] & (base["river"] | m.obstacle.reshape(-1)[base["flat"]]))
    weights = np.concatenate([np.where(ctx["zoc"], np.inf, 1e-12), cost])
    weights[m.map.n:][closed] = np.inf
    return weights


def test_kept_movement_graphs_are_refilled_after_the_ground_changes():
    m = _played(1)
    for turn in range(3):
        for side in ("ru", "ua"):
            for mobility in ("foot", "wheeled", "tracked"):
                graph = movement._step_costs(m, mobility, movement._context(m, side))
                assert np.array_equal(graph.data, _fresh_weights(m, side, mobility))
        units = [u for u in m.units.values() if u.alive]
        before = {u.uid: movement.reachable(m, u) for u in units}
        play_side(m, "ru")
        play_side(m, "ua")
        m.end_turn()  # units move and control changes: the kept matrices get new weights
        if turn == 0:
            assert any(u.hex != before[u.uid].start for u in units)
        fresh = copy.deepcopy(m)
        fresh.__dict__.pop("_move_graphs", None)
        movement.invalidate(fresh)
        for u in units:
            if u.alive:
                a, b = movement.reachable(m, u), movement.reachable(fresh, fresh.units[u.uid])
                assert np.array_equal(a.dist, b.dist) and np.array_equal(a.prev, b.prev)


def _living_from_scratch(m: WargameModel, side: str, role: str | None) -> list:
    return [u for u in m.units.values() if u.side == side and u.alive and (role is None or u.utype.role == role)]


def _personnel_from_scratch(m: WargameModel, side: str) -> np.ndarray:
    total = np.zeros(m.map.n)
    for u in _living_from_scratch(m, side, "manoeuvre"):
        total[u.hex] += u.personnel * (0.5 if u.status.in_reserve else 1.0)
    return total


def test_kept_unit_answers_follow_every_change():
    """`side_units` and `manoeuvre_personnel` are kept between changes: each kind of change must show at once."""
    m = _played(2)
    ua = m.side_units("ua", "manoeuvre")
    mover, casualty, resting = ua[0], ua[1], ua[2]

    def same():
        for side in ("ru", "ua"):
            for role in (None, "manoeuvre", "drone"):
                assert m.side_units(side, role) == _living_from_scratch(m, side, role)
            kept = m.manoeuvre_personnel(side)
            assert np.allclose(kept, _personnel_from_scratch(m, side), rtol=0, atol=1e-9)
            for h in (mover.hex, casualty.hex, resting.hex):
                assert m.manoeuvre_personnel_at(side, h) == kept[h]

    same()
    mover.place(m.cells[int(m.map.nbr[mover.hex][m.map.nbr[mover.hex] >= 0][0])])
    same()
    casualty.status.personnel = 0.5  # dead: gone from the living
    same()
    casualty.status.personnel = 40.0  # back (a reinforcement refilling it)
    same()
    resting.status.in_reserve = not resting.status.in_reserve
    same()
    m.side_units("ua").clear()  # a caller's list is its own copy
    same()
    fresh = copy.deepcopy(m)  # a copy works its answers out afresh, then follows its own changes
    fresh.units[casualty.uid].status.personnel = 0.0
    assert fresh.side_units("ua", "manoeuvre") == _living_from_scratch(fresh, "ua", "manoeuvre")
    same()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), days=st.integers(1, 40), month=st.integers(1, 12),
       weights=st.lists(st.lists(st.integers(0, 20), min_size=6, max_size=6).filter(any), min_size=12, max_size=12))
def test_weather_days_are_the_draws_of_rng_choice(seed, days, month, weights):
    """`draw_days` draws all of a turn's days at once: the states and the generator afterwards must be what one
    ``rng.choice`` a day gives (the calibrated games were played with those draws)."""
    table = np.array(weights, dtype=float).T  # (states, 12); any month's numbers, normalised as the rule does
    clim = SimpleNamespace(**{s: table[i].tolist() for i, s in enumerate(WEATHER_STATES)})
    start = dt.date(2025, month, 20)  # most spans cross into the next month
    fast = SimpleNamespace(scenario=SimpleNamespace(weather=clim), rng=np.random.default_rng(seed))
    slow = np.random.default_rng(seed)
    expected = []
    for d in range(days):
        col = table[:, (start + dt.timedelta(days=d)).month - 1]
        expected.append(WEATHER_STATES[int(slow.choice(len(WEATHER_STATES), p=col / col.sum()))])
    assert weather.draw_days(fast, start, days) == expected
    assert fast.rng.random() == slow.random()


@pytest.mark.parametrize("scenario, turns", [("pokrovsk-axis-2024", 6), ("fortress-belt-2026", 3)])
def test_defence_of_every_hex_at_once_equals_each_hexs_defence(scenario, turns):
    """The AI's odds read the defence of all hexes from one pass (`_defence_powers`); it must be, bit for bit, the
    defence `odds` works out for one target."""
    m = WargameModel(scenario, seed=4)
    for _ in range(turns):
        play_side(m, "ru")
        play_side(m, "ua")
        m.end_turn()
    w = assault._weather(m)
    for side in ("ru", "ua"):
        at_once = assault._defence_powers(m, side, w)
        each = [assault._defence(m, side, t, w, None)["cp_def"] for t in range(m.map.n)]
        assert at_once.tolist() == each
        assert np.count_nonzero(at_once) > 50  # defended ground, not an empty map


@pytest.mark.parametrize("scenario, turns", [("pokrovsk-axis-2024", 5), ("fortress-belt-2026", 2)])
def test_best_odds_is_the_best_of_each_units_full_odds(scenario, turns):
    """The AI ranks assaults by `best_odds` (all units in one array pass); for every unit with targets it must
    give the ratio and the first target `odds` ranks best one by one, and `gain_chance` its p_gain."""
    m = WargameModel(scenario, seed=6)
    for _ in range(turns):
        play_side(m, "ru")
        play_side(m, "ua")
        m.end_turn()
    for side in ("ru", "ua"):
        units = [u for u in m.side_units(side, "manoeuvre") if legality.assault_targets(m, u)]
        targets = [legality.assault_targets(m, u) for u in units]
        assert len(units) > 3  # a real front, not a trivial case
        fast = assault.best_odds(m, units, targets, {})
        for u, ts, (ratio, target) in zip(units, targets, fast, strict=True):
            full = [assault.odds(m, Assault(u.uid, t)) for t in ts]
            best = max(o["ratio"] for o in full)
            assert (ratio, target) == (best, ts[[o["ratio"] for o in full].index(best)])
            assert assault.gain_chance(m, ratio) == full[ts.index(target)]["p_gain"]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=st.integers(1, 60))
def test_best_reachable_is_the_first_of_a_lexsort(data, n):
    """`best_reachable`: of the reachable, allowed hexes ranked below the limit, the lowest rank, then cost, then id."""
    ints = st.integers(0, 4)
    cost = np.array(data.draw(st.lists(st.sampled_from([0.0, 1.5, 2.0, 3.25, np.inf]), min_size=n, max_size=n)))
    ok = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    rank = np.array(data.draw(st.lists(ints, min_size=n, max_size=n)), dtype=float)
    below = float(data.draw(ints))
    h = np.flatnonzero(np.isfinite(cost) & ok & (rank < below))
    want = int(h[np.lexsort((h, cost[h], rank[h]))[0]]) if h.size else None
    assert best_reachable(movement.Reach(cost, np.full(n, -1), 0), ok, rank, below) == want
