"""Compiled inner loops (numba) for the graph searches that dominate a turn.

Python pays for every step of a search; numpy and scipy pay a fixed toll per call that is larger than the work on
our small graphs. These kernels run whole searches in machine code. Each one answers exactly what the plain
version it replaced answered (a maximum flow has one value; a shortest distance is the same float whichever
search finds it; where two paths are equally short, `reach_rows` takes the one scipy's search takes), so the
rules' results do not depend on them. Compiled code is cached beside the source, so only the first
process on a machine pays for compiling.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit


@njit(cache=True)
def hex_steps(nbr: np.ndarray, sources: np.ndarray, ok: np.ndarray, radius: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Hex steps from the nearest of ``sources`` (a breadth-first search over the neighbour table ``nbr``, -1 off
    the map), entering and leaving only ``ok`` hexes (a source may be any hex), up to ``radius`` steps; radius + 1
    where it does not reach. Also the hexes reached, in the order found, and how many."""
    dist = np.full(nbr.shape[0], radius + 1, np.int64)
    queue = np.empty(nbr.shape[0], np.int64)
    tail = 0
    for h in sources:
        if dist[h] != 0:
            dist[h] = 0
            queue[tail] = h
            tail += 1
    head = 0
    while head < tail:
        h = queue[head]
        head += 1
        if not ok[h] or dist[h] >= radius:
            continue
        for j in range(6):
            g = nbr[h, j]
            if g >= 0 and ok[g] and dist[g] > dist[h] + 1:
                dist[g] = dist[h] + 1
                queue[tail] = g
                tail += 1
    return dist, queue, tail


@njit(cache=True)
def corridor_cut(nbr: np.ndarray, ok: np.ndarray, region: np.ndarray, well_fed: np.ndarray,
                 is_source: np.ndarray, radius: int, big: int) -> int:
    """Fewest open hexes whose loss cuts ``region`` off from the ground within ``radius`` hex steps that is well
    fed (or a supply source); ``big`` if no set of such hexes would, 0 if there is no such ground.

    A maximum flow with unit capacity on every open hex outside the region (Menger: the most hex-disjoint paths
    equal the fewest hexes that cut them), found by breadth-first augmenting paths on the hexes split into an
    entry and an exit node. Only hexes within ``radius`` steps of the region, through open ground, take part.
    """
    n = nbr.shape[0]
    dist, queue, tail = hex_steps(nbr, region, ok, radius)

    # the local graph: hex i of the local list has entry node i and exit node i + k; source 2k, sink 2k + 1
    index = np.full(n, -1, np.int64)
    k = 0
    any_outer = False
    for q in range(tail):
        h = queue[q]
        if ok[h] and dist[h] <= radius:
            index[h] = k
            k += 1
            if (dist[h] == radius and well_fed[h]) or is_source[h]:
                any_outer = True
    if not any_outer:
        return 0
    s_node, t_node = 2 * k, 2 * k + 1
    max_edges = 2 * (k + 6 * k + 2 * k)
    to = np.empty(max_edges, np.int64)
    cap = np.empty(max_edges, np.int64)
    nxt = np.empty(max_edges, np.int64)
    first = np.full(2 * k + 2, -1, np.int64)
    n_edges = 0
    for q in range(tail):
        h = queue[q]
        i = index[h]
        if i < 0:
            continue
        inner = dist[h] == 0
        # (frm, dst, capacity) for the entry -> exit edge, then each link out, then the source and sink edges
        n_edges = _add_edge(to, cap, nxt, first, n_edges, i, i + k, big if inner else 1)
        for j in range(6):
            g = nbr[h, j]
            if g >= 0 and index[g] >= 0:
                n_edges = _add_edge(to, cap, nxt, first, n_edges, i + k, index[g], big)
        if (dist[h] == radius and well_fed[h]) or is_source[h]:
            n_edges = _add_edge(to, cap, nxt, first, n_edges, s_node, i, big)
        if inner:
            n_edges = _add_edge(to, cap, nxt, first, n_edges, i + k, t_node, big)

    flow = 0
    via = np.empty(2 * k + 2, np.int64)  # the edge each node was reached by in this round's search
    seen = np.empty(2 * k + 2, np.bool_)
    order = np.empty(2 * k + 2, np.int64)
    while flow < big:
        seen[:] = False
        seen[s_node] = True
        order[0] = s_node
        head, tail = 0, 1
        while head < tail and not seen[t_node]:
            u = order[head]
            head += 1
            e = first[u]
            while e >= 0:
                v = to[e]
                if cap[e] > 0 and not seen[v]:
                    seen[v] = True
                    via[v] = e
                    order[tail] = v
                    tail += 1
                e = nxt[e]
        if not seen[t_node]:
            break
        push = big - flow
        v = t_node
        while v != s_node:
            e = via[v]
            push = min(push, cap[e])
            v = to[e ^ 1]
        v = t_node
        while v != s_node:
            e = via[v]
            cap[e] -= push
            cap[e ^ 1] += push
            v = to[e ^ 1]
        flow += push
    return min(flow, big)


@njit(cache=True)
def _add_edge(to, cap, nxt, first, n_edges, frm, dst, capacity):
    """Append edge frm -> dst and its residual twin (twins are e and e ^ 1); return the new edge count."""
    to[n_edges], cap[n_edges], nxt[n_edges] = dst, capacity, first[frm]
    first[frm] = n_edges
    to[n_edges + 1], cap[n_edges + 1], nxt[n_edges + 1] = frm, 0, first[dst]
    first[dst] = n_edges + 1
    return n_edges + 2


@njit(cache=True)
def reach_rows(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, through: np.ndarray, closed: np.ndarray,
               starts: np.ndarray, limit: float, q: _Queue) -> tuple[np.ndarray, np.ndarray]:
    """Dijkstra from each hex of ``starts`` over the hex links (a CSR graph), stopping at cost ``limit``: for each
    start, the cost of reaching every hex (inf beyond the limit) and the hex it is reached from (-1 if none).

    Passing through a hex costs ``through`` on top of entering it, and an infinite ``through`` (a zone of control)
    stops a unit that enters: this is the movement graph with an entry and an exit node per hex, searched without
    building the doubled graph. No link enters a ``closed`` hex (as if its weight were inf: a ground's closures
    need no pass over the weights). A unit leaves its own hex freely. Costs are the very floats scipy's search of the
    doubled graph gives, and so are the ways: where two hexes lead on equally cheaply, the one left at the lower
    cost wins, then the higher hex id. That is the order in which scipy's Dijkstra (a priority queue of (cost,
    node) pairs, the larger node first on equal costs, since SciPy 1.14) settles the exits, and keeping only a
    strict improvement makes the first exit settled the one that stays.

    ``q`` is `search_queue` of these very weights: making one costs more than a small search, so a caller asking
    often keeps it (the search leaves it empty again).
    """
    n = indptr.size - 1
    dist_out = np.full((starts.size, n), np.inf)
    prev_out = np.full((starts.size, n), -1, np.int64)
    no_targets = np.zeros(0, np.bool_)
    for row in range(starts.size):
        n_touched = _settle(q, indptr, indices, weights, through, closed, starts[row:row + 1], limit, no_targets, 0)
        _take_settled(q, n_touched, dist_out[row], prev_out[row])
    return dist_out, prev_out


@njit(cache=True)
def reach_until(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, through: np.ndarray,
                closed: np.ndarray, start: int, limit: float, q: _Queue,
                targets: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """`reach_rows` from one ``start`` that ends as soon as every hex of ``targets`` is settled: the costs and ways
    of the hexes settled by then (inf and -1 elsewhere), and whether the search ran to its end (then they are the
    whole reach). A settled hex's cost and way are final, so they are the ones the whole search gives."""
    n = indptr.size - 1
    is_target = np.zeros(n, np.bool_)
    n_targets = 0
    for h in targets:
        if not is_target[h]:
            is_target[h] = True
            n_targets += 1
    sources = np.full(1, start, np.int64)
    n_touched = _settle(q, indptr, indices, weights, through, closed, sources, limit, is_target, n_targets)
    complete = True
    for b in range(q.head.size):  # entries left in buckets if the search ended early
        if q.head[b] >= 0:
            complete = False
            q.head[b] = -1
    dist, prev = np.full(n, np.inf), np.full(n, -1, np.int64)
    _take_settled(q, n_touched, dist, prev)
    return dist, prev, complete


@njit(cache=True)
def _take_settled(q: _Queue, n_touched: int, dist: np.ndarray, prev: np.ndarray) -> None:
    """Copy the settled nodes' costs and ways out of ``q`` and leave it empty for the next search (a search run to
    its end settles every node it touched)."""
    for i in range(n_touched):
        v = q.touched[i]
        if q.done[v]:
            dist[v], prev[v] = q.dist[v], q.prev[v]
        q.dist[v], q.prev[v], q.left_at[v], q.done[v] = np.inf, -1, np.inf, False


@njit(cache=True)
def nearest_cost(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, sources: np.ndarray) -> np.ndarray:
    """Cost from the nearest of ``sources`` to every node of a CSR graph (inf where none leads): one Dijkstra
    with every source at cost 0."""
    through, closed = np.zeros(indptr.size - 1), np.zeros(indptr.size - 1, np.bool_)
    q = search_queue(indptr, indices, weights, through)
    _settle(q, indptr, indices, weights, through, closed, sources, np.inf, np.zeros(0, np.bool_), 0)
    return q.dist


_LARGEST = np.finfo(np.float64).max


class _Queue(NamedTuple):
    """A search's state: per node its cost, previous node, cost on leaving and whether it is settled; the nodes
    reached so far; and a ring of buckets ``width`` wide (Dial's algorithm), each a linked list of entries."""

    dist: np.ndarray
    prev: np.ndarray
    left_at: np.ndarray
    done: np.ndarray
    touched: np.ndarray
    width: float
    head: np.ndarray
    entry_node: np.ndarray
    entry_next: np.ndarray


@njit(cache=True)
def search_queue(indptr, indices, weights, through) -> _Queue:
    """An empty search over this graph (its weights and pass-through costs). Buckets are half the cheapest step
    wide, so a node settled from one bucket only improves nodes in later ones: each bucket is final when its turn
    comes, whatever the order within it (ways through ties are chosen by rule in `_settle`, not by that order)."""
    n = indptr.size - 1
    step_min, step_max, hop_max = np.inf, 0.0, 0.0
    for w in weights:
        if w < np.inf:
            step_min, step_max = min(step_min, w), max(step_max, w)
    for t in through:
        if t < np.inf:
            hop_max = max(hop_max, t)
    return empty_queue(n, indices.size, step_min, step_max + hop_max)


@njit(cache=True)
def empty_queue(n: int, n_links: int, step_min: float, step_max: float) -> _Queue:
    """`search_queue` for a graph of ``n`` nodes and ``n_links`` links whose steps (with any pass-through cost)
    cost from ``step_min`` to ``step_max``. Bounds wider than the true ones serve as well: buckets narrower than
    half the cheapest step, a ring longer than the dearest one needs."""
    if step_min <= 0.0:
        raise ValueError("the searches need positive step costs")
    width = 0.5 * step_min
    ahead = int(step_max / width) + 2  # one step reaches at most this many buckets ahead
    ring = 1
    while ring < ahead:  # a power of two, so a bucket's slot is a mask, not a division
        ring *= 2
    entries = n_links + n  # every improvement queues an entry; sources one each
    return _Queue(np.full(n, np.inf), np.full(n, -1, np.int64), np.full(n, np.inf), np.zeros(n, np.bool_),
                  np.empty(n, np.int64), width, np.full(ring, -1, np.int64), np.empty(entries, np.int64),
                  np.empty(entries, np.int64))


@njit(cache=True)
def link_weights(cost: np.ndarray, off_road: np.ndarray, river: np.ndarray, obstacle: np.ndarray,
                 flat: np.ndarray) -> np.ndarray:
    """Each link's ``cost`` for a vehicle, or inf where it leaves the road across a river or an obstacle
    (``obstacle[flat]``): the vehicles' closures in one pass instead of three arrays (the closed hexes are the
    searches' ``closed``)."""
    out = np.empty(cost.size)
    for i in range(cost.size):
        out[i] = np.inf if off_road[i] and (river[i] or obstacle[flat[i]]) else cost[i]
    return out


@njit(cache=True)
def _settle(q: _Queue, indptr, indices, weights, through, closed, sources, limit, is_target, n_targets) -> int:
    """Run the search from ``sources`` (each at cost 0, leaving its own node freely, entering no ``closed`` node) up
    to cost ``limit``, or until ``n_targets`` nodes marked in ``is_target`` are settled (0: to the end); fill
    ``q``'s arrays and return how many nodes it touched (listed first in ``q.touched``)."""
    slot = q.head.size - 1  # bucket b's slot is b & slot
    per_width = 1.0 / q.width  # bucket of cost d: int(d * per_width), the same rule for queueing and checking
    limit = min(limit, _LARGEST)  # so that one test, nd <= limit, also turns away closed (infinite) links
    dist, prev, left_at, done, touched, head = q.dist, q.prev, q.left_at, q.done, q.touched, q.head
    entry_node, entry_next = q.entry_node, q.entry_next
    n_touched = n_entries = 0
    for src in sources:
        if dist[src] > 0.0:
            dist[src] = 0.0
            touched[n_touched] = src
            n_touched += 1
            entry_node[n_entries], entry_next[n_entries], head[0] = src, head[0], n_entries
            n_entries += 1
    queued, bucket = n_entries, 0
    while queued > 0:
        k = head[bucket & slot]
        head[bucket & slot] = -1
        while k >= 0:
            u = entry_node[k]
            k = entry_next[k]
            queued -= 1
            if done[u] or int(dist[u] * per_width) != bucket:
                continue  # a stale entry: u was settled, or queued again more cheaply
            done[u] = True
            leave = dist[u] if prev[u] < 0 else dist[u] + through[u]
            left_at[u] = leave
            for e in range(indptr[u], indptr[u + 1]):
                nd = leave + weights[e]
                if not nd <= limit:
                    continue  # out of budget or closed
                v = indices[e]
                if done[v] or closed[v]:
                    continue
                if nd < dist[v]:
                    if dist[v] == np.inf:
                        touched[n_touched] = v
                        n_touched += 1
                    dist[v], prev[v] = nd, u
                    later = int(nd * per_width) & slot
                    entry_node[n_entries], entry_next[n_entries], head[later] = v, head[later], n_entries
                    n_entries += 1
                    queued += 1
                elif nd == dist[v]:  # a tie: keep the way left at the lower cost, then from the higher node
                    p = prev[v]
                    if leave < left_at[p] or (leave == left_at[p] and u > p):
                        prev[v] = u
            if n_targets > 0 and is_target[u]:
                n_targets -= 1
                if n_targets == 0:
                    head[bucket & slot] = k  # the entries left in this bucket: the caller empties the ring
                    return n_touched
        bucket += 1
    return n_touched
