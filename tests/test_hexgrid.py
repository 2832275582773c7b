"""Tests for sim.hexgrid: hand cases, property tests, mesa regression and projection accuracy."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import hexgrid as hg

coord = st.integers(min_value=-60, max_value=60)
axial = st.tuples(coord, coord)


# ---------------------------------------------------------------- hand cases


def test_directions_and_opposite():
    assert hg.DIRECTIONS == ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))
    for k in range(6):
        dq, dr = hg.DIRECTIONS[k]
        oq, or_ = hg.DIRECTIONS[hg.opposite(k)]
        assert (dq + oq, dr + or_) == (0, 0)


def test_offset_axial_hand_cases():
    # even-r: even rows are shoved right, so row 0 and row 1 share q at col 0 differently.
    assert hg.offset_to_axial(0, 0) == (0, 0)
    assert hg.offset_to_axial(0, 1) == (-1, 1)
    assert hg.offset_to_axial(3, 2) == (2, 2)
    assert hg.offset_to_axial(3, 3) == (1, 3)
    assert hg.axial_to_offset(-1, 1) == (0, 1)
    assert hg.axial_to_offset(1, 3) == (3, 3)


def test_offset_axial_arrays():
    cols, rows = np.meshgrid(np.arange(7), np.arange(6))
    q, r = hg.offset_to_axial(cols, rows)
    assert isinstance(q, np.ndarray) and q.shape == cols.shape
    c2, r2 = hg.axial_to_offset(q, r)
    assert np.array_equal(c2, cols) and np.array_equal(r2, rows)


def test_distance_hand_cases():
    assert hg.distance((0, 0), (0, 0)) == 0
    assert hg.distance((0, 0), (3, 0)) == 3
    assert hg.distance((0, 0), (2, -3)) == 3
    assert hg.distance((1, -2), (-2, 3)) == 5
    d = hg.distance_arrays(np.array([0, 1]), np.array([0, -2]), 0, 0)
    assert d.tolist() == [0, 2]


def test_neighbours_ring_range_small():
    assert hg.neighbours((0, 0)) == list(hg.DIRECTIONS)
    assert sorted(hg.ring((0, 0), 1)) == sorted(hg.DIRECTIONS)
    assert hg.ring((4, 5), 0) == [(4, 5)]
    assert len(hg.hex_range((0, 0), 2)) == 19


def test_line_hand_case():
    assert hg.line((0, 0), (3, 0)) == [(0, 0), (1, 0), (2, 0), (3, 0)]
    assert hg.line((2, 2), (2, 2)) == [(2, 2)]


def test_pixel_geometry():
    sp = 2.5
    for q, r in hg.DIRECTIONS:
        x, y = hg.axial_to_xy(q, r, sp)
        assert math.hypot(x, y) == pytest.approx(sp)
    # SE (0, 1) lies south (positive y) and E (1, 0) lies east.
    assert hg.axial_to_xy(0, 1, sp)[1] > 0
    assert hg.axial_to_xy(1, 0, sp) == pytest.approx((sp, 0.0))
    corners = hg.hex_corners(0.0, 0.0, sp)
    assert len(corners) == 6
    for cx, cy in corners:
        assert math.hypot(cx, cy) == pytest.approx(sp / math.sqrt(3))
    assert hg.xy_to_axial(0.2, -0.3, sp) == (0, 0)


def test_cube_round_arrays():
    q, r = hg.cube_round(np.array([0.1, 0.9, 2.4]), np.array([0.1, -0.1, 0.02]))
    assert q.tolist() == [0, 1, 2] and r.tolist() == [0, 0, 0]


# ---------------------------------------------------------------- properties


@given(axial, axial)
def test_distance_symmetric(a, b):
    assert hg.distance(a, b) == hg.distance(b, a) >= 0


@given(axial, axial, axial)
def test_triangle_inequality(a, b, c):
    assert hg.distance(a, c) <= hg.distance(a, b) + hg.distance(b, c)


@given(axial, st.integers(min_value=0, max_value=12))
def test_ring_and_range_sizes(center, k):
    ring = hg.ring(center, k)
    assert len(ring) == (6 * k if k else 1)
    assert len(set(ring)) == len(ring)
    assert all(hg.distance(center, h) == k for h in ring)
    rng = hg.hex_range(center, k)
    assert len(rng) == 3 * k * (k + 1) + 1
    assert len(set(rng)) == len(rng)
    assert all(hg.distance(center, h) <= k for h in rng)


@given(axial, axial)
def test_line_length_and_contiguity(a, b):
    ln = hg.line(a, b)
    assert len(ln) == hg.distance(a, b) + 1
    assert ln[0] == tuple(a) and ln[-1] == tuple(b)
    for u, v in zip(ln, ln[1:], strict=False):
        assert hg.distance(u, v) == 1


@given(st.integers(-200, 200), st.integers(-200, 200))
def test_offset_round_trip(col, row):
    q, r = hg.offset_to_axial(col, row)
    assert hg.axial_to_offset(q, r) == (col, row)


@given(axial, st.floats(min_value=0.1, max_value=10.0))
def test_pixel_round_trip(h, spacing):
    x, y = hg.axial_to_xy(h[0], h[1], spacing)
    assert hg.xy_to_axial(x, y, spacing) == tuple(h)


@settings(max_examples=50)
@given(axial, st.floats(min_value=-0.45, max_value=0.45), st.floats(min_value=-0.45, max_value=0.45))
def test_points_inside_hex_round_to_it(h, fx, fy):
    # The inscribed circle has radius spacing/2, so any offset shorter than that stays in the hex.
    sp = 1.0
    x, y = hg.axial_to_xy(h[0], h[1], sp)
    if math.hypot(fx, fy) < 0.5:
        assert hg.xy_to_axial(x + fx, y + fy, sp) == tuple(h)


def test_pixel_round_trip_vectorised():
    q, r = np.meshgrid(np.arange(-5, 6), np.arange(-5, 6))
    x, y = hg.axial_to_xy(q, r, 0.5)
    q2, r2 = hg.xy_to_axial(x, y, 0.5)
    assert np.array_equal(q2, q) and np.array_equal(r2, r)


# ---------------------------------------------------------------- mesa regression


@pytest.mark.parametrize("w,h", [(17, 13), (6, 5), (1, 4)])
def test_neighbour_table_matches_mesa(w, h):
    from mesa.discrete_space import HexGrid

    grid = HexGrid((w, h), torus=False, random=random.Random(0))
    table = hg.neighbour_table(w, h)
    assert table.shape == (w * h, 6) and table.dtype == np.int32
    for cell in grid.all_cells:
        col, row = cell.coordinate
        hid = row * w + col
        mesa_nbrs = {c.coordinate[1] * w + c.coordinate[0] for c in cell.neighborhood}
        ours = {int(x) for x in table[hid] if x >= 0}
        assert ours == mesa_nbrs, (col, row)


def test_neighbour_table_directions_consistent():
    w, h = 9, 8
    t = hg.neighbour_table(w, h)
    for hid in range(w * h):
        q, r = hg.offset_to_axial(hid % w, hid // w)
        for k, (dq, dr) in enumerate(hg.DIRECTIONS):
            n = t[hid, k]
            if n >= 0:
                assert hg.offset_to_axial(int(n) % w, int(n) // w) == (q + dq, r + dr)
                assert t[n, hg.opposite(k)] == hid


# ---------------------------------------------------------------- projection


def test_projection_round_trip_and_orientation():
    p = hg.LocalProjection(48.35, 37.25)
    assert p.to_xy(48.35, 37.25) == pytest.approx((0.0, 0.0), abs=1e-9)
    x, y = p.to_xy(48.0, 37.5)
    assert x > 0 and y > 0  # east and south of the centre
    lat, lon = p.to_latlon(x, y)
    assert (lat, lon) == pytest.approx((48.0, 37.5), abs=1e-9)
    lats = np.linspace(47.75, 48.95, 5)
    lons = np.linspace(36.4, 38.1, 5)
    xs, ys = p.to_xy(lats, lons)
    la, lo = p.to_latlon(xs, ys)
    assert np.allclose(la, lats) and np.allclose(lo, lons)


def test_projection_accuracy_against_geodesics():
    from geographiclib.geodesic import Geodesic

    geod = Geodesic.WGS84
    p = hg.LocalProjection((47.75 + 48.95) / 2, (36.4 + 38.1) / 2)
    rng = np.random.default_rng(7)
    pts = np.column_stack([rng.uniform(47.75, 48.95, 200), rng.uniform(36.4, 38.1, 200)])
    corners = np.array([[47.75, 36.4], [47.75, 38.1], [48.95, 36.4], [48.95, 38.1]])
    pts = np.vstack([pts, corners])
    xs, ys = p.to_xy(pts[:, 0], pts[:, 1])
    worst = 0.0
    for i in range(0, len(pts) - 1):
        j = len(pts) - 1 - i
        if i == j:
            continue
        true_km = geod.Inverse(pts[i, 0], pts[i, 1], pts[j, 0], pts[j, 1])["s12"] / 1000.0
        if true_km < 1.0:
            continue
        planar = math.hypot(xs[i] - xs[j], ys[i] - ys[j])
        worst = max(worst, abs(planar - true_km) / true_km)
    assert worst < 0.002, worst


@pytest.mark.parametrize("w,h", [(17, 13), (6, 5), (1, 4), (63, 52)])
def test_fast_grid_is_mesas_grid(w, h):
    """The model's grid links the same cells under the same keys in the same order as mesa's HexGrid."""
    from mesa.discrete_space import HexGrid

    from sim.model import FastHexGrid

    for _ in range(2):  # the second build reuses the per-process table
        ours = FastHexGrid((w, h), torus=False, random=random.Random(0))
        theirs = HexGrid((w, h), torus=False, random=random.Random(0))
        assert list(ours._cells) == list(theirs._cells)
        for coord, cell in theirs._cells.items():
            mine = ours._cells[coord].connections
            assert [(k, c.coordinate) for k, c in mine.items()] == [(k, c.coordinate) for k, c in cell.connections.items()]
            assert all(c is ours._cells[c.coordinate] for c in mine.values())
            assert [c.coordinate for c in ours._cells[coord].neighborhood] == [c.coordinate for c in cell.neighborhood]
