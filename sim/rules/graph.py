"""Fixed sparse-graph structures over the hex map whose edge weights change every turn.

Movement and supply run Dijkstra each turn on graphs whose links never change, only their costs. Building the
compressed sparse structure once per map and refilling its weights (np.inf closes a link) keeps each turn's
graph to one array copy instead of a sort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.ndimage import label
from scipy.sparse import csr_matrix

from sim.rules.kernels import hex_steps


@dataclass(frozen=True)
class Links:
    """Every directed link between neighbouring hexes: source, direction, destination, road class, river."""

    src: np.ndarray
    k: np.ndarray
    dst: np.ndarray
    road: np.ndarray
    river: np.ndarray


class FixedGraph:
    """A CSR structure for edges (rows, cols) given once; `with_weights(data)` takes data in that edge order."""

    def __init__(self, rows: np.ndarray, cols: np.ndarray, n_nodes: int):
        order = np.lexsort((cols, rows))
        self.order = order
        self.indices = cols[order].astype(np.int32)
        self.indptr = np.searchsorted(rows[order], np.arange(n_nodes + 1)).astype(np.int32)
        self.n_nodes = n_nodes

    def with_weights(self, data: np.ndarray) -> csr_matrix:
        return self.with_sorted_weights(data[self.order])

    def with_sorted_weights(self, data: np.ndarray) -> csr_matrix:
        """The graph with ``data`` already in CSR order: ``data[i]`` weighs edge ``order[i]``."""
        return csr_matrix((data, self.indices, self.indptr), shape=(self.n_nodes, self.n_nodes))


def links(hexmap) -> Links:
    """The map's directed links, computed once per map (and again if its link arrays are replaced)."""
    key = (id(hexmap.nbr), id(hexmap.road), id(hexmap.river))
    cached = getattr(hexmap, "_links", None)
    if cached is None or getattr(hexmap, "_links_key", None) != key:
        hexmap._links_key = key
        hexmap._movement_graph = hexmap._link_graph = None
        n = hexmap.n
        src = np.repeat(np.arange(n), 6)
        k = np.tile(np.arange(6), n)
        dst = np.asarray(hexmap.nbr).ravel().astype(np.int64)
        on = dst >= 0
        src, k, dst = src[on], k[on], dst[on]
        cached = Links(src, k, dst, np.asarray(hexmap.road)[src, k].astype(np.int64),
                       np.asarray(hexmap.river)[src, k] > 0)
        hexmap._links = cached
    return cached


def movement_graph(hexmap) -> FixedGraph:
    """Two nodes per hex (entry h, exit h + n): links run exit -> entry, and each hex entry -> exit."""
    lk, n = links(hexmap), hexmap.n
    cached = getattr(hexmap, "_movement_graph", None)
    if cached is None:
        hexes = np.arange(n)
        cached = FixedGraph(np.concatenate([lk.src + n, hexes]), np.concatenate([lk.dst, hexes + n]), 2 * n)
        hexmap._movement_graph = cached
    return cached


def link_graph(hexmap) -> FixedGraph:
    """One node per hex, one edge per directed link."""
    lk = links(hexmap)
    cached = getattr(hexmap, "_link_graph", None)
    if cached is None:
        cached = FixedGraph(lk.src, lk.dst, hexmap.n)
        hexmap._link_graph = cached
    return cached


# Hex neighbours in an (r, q) axial array: (0, +-1), (-1, 0), (-1, +1), (+1, 0), (+1, -1).
_HEX_STRUCTURE = np.array([[0, 1, 1], [1, 1, 1], [1, 1, 0]], dtype=bool)


def hex_steps_to(hexmap, mask: np.ndarray, none: int = 10_000) -> np.ndarray:
    """Hex steps from every hex to the nearest hex in ``mask`` (``none`` everywhere if the mask is empty).

    One compiled breadth-first search over the neighbour table from every hex of the mask at once: a step count
    is an integer, so any search that finds the shortest one gives the same answer (it replaced a chamfer
    distance transform on the map laid out in axial coordinates, which cost several times more).
    """
    return hex_steps(hexmap.nbr, np.flatnonzero(mask), np.ones(hexmap.n, dtype=np.bool_), none - 1)[0]


def component_labels(hexmap, hexes: np.ndarray) -> np.ndarray:
    """Connected-component label (1, 2, ...) of each of ``hexes``, linking hexes that are neighbours.

    One C pass of ``scipy.ndimage.label`` over the axial layout, where hex neighbours are the structure's
    neighbours: a fraction of the cost of building a sparse graph for ``connected_components``.
    """
    flat, shape = _axial_embed(hexmap)
    grid = np.zeros(shape, dtype=bool)
    grid.ravel()[flat[hexes]] = True
    return label(grid, structure=_HEX_STRUCTURE)[0].ravel()[flat[hexes]]


def _axial_embed(hexmap) -> tuple[np.ndarray, tuple[int, int]]:
    """Each hex's cell in a 2-D array laid out in axial (r, q) coordinates, and the array's shape (cached)."""
    embed = getattr(hexmap, "_axial_embed", None)
    if embed is None:
        q = hexmap.q - hexmap.q.min()
        shape = (int(hexmap.r.max()) + 1, int(q.max()) + 1)
        embed = hexmap._axial_embed = (hexmap.r * shape[1] + q, shape)
    return embed


def neighbour_total(hexmap, field: np.ndarray) -> np.ndarray:
    """Sum of a per-hex field over each hex's on-map neighbours, added in direction order.

    Bit for bit what ``np.append(field, 0)[nbr].sum(axis=1)`` gives (numpy adds a short row left to right), in one
    compiled pass: numpy pays more for gathering six columns than for the additions.
    """
    return _neighbour_total(padded_neighbours(hexmap), np.asarray(field, dtype=float))


def padded_neighbours(hexmap) -> np.ndarray:
    """The neighbour table with n (one past the last hex) for off the map, as int64 (cached on the map): a
    compiled pass over neighbours reads an (n + 1)-array at it with no test for off the map."""
    cached = getattr(hexmap, "_padded_nbr", None)
    if cached is None or cached[0] is not hexmap.nbr:
        padded = np.where(hexmap.nbr >= 0, hexmap.nbr, hexmap.n).astype(np.int64)
        cached = hexmap._padded_nbr = (hexmap.nbr, padded)
    return cached[1]


@njit(cache=True)
def _neighbour_total(padded_nbr: np.ndarray, field: np.ndarray) -> np.ndarray:
    """`neighbour_total` on the padded neighbour table (six directions): a term off the map is +0.0."""
    n = padded_nbr.shape[0]
    padded = np.empty(n + 1)
    padded[:n] = field
    padded[n] = 0.0
    total = np.empty(n)
    for h in range(n):
        row = padded_nbr[h]
        total[h] = (((((padded[row[0]] + padded[row[1]]) + padded[row[2]]) + padded[row[3]]) + padded[row[4]])
                    + padded[row[5]])
    return total


def neighbour_any(hexmap, mask: np.ndarray) -> np.ndarray:
    """Whether any on-map neighbour of each hex is in ``mask``: ``np.append(mask, False)[nbr].any(axis=1)`` in
    one compiled pass, for the reason given in `neighbour_total`."""
    return _neighbour_any(padded_neighbours(hexmap), np.asarray(mask, dtype=np.bool_))


@njit(cache=True)
def _neighbour_any(padded_nbr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`neighbour_any` on the padded neighbour table: off the map is never in the mask."""
    n = padded_nbr.shape[0]
    padded = np.zeros(n + 1, np.bool_)
    padded[:n] = mask
    out = np.zeros(n, np.bool_)
    for h in range(n):
        for j in range(6):
            if padded[padded_nbr[h, j]]:
                out[h] = True
                break
    return out
