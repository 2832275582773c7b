"""Tests of the built maps against the real world, plus structural and cache checks."""

from __future__ import annotations

import dataclasses
import time
from collections import deque

import numpy as np
import pytest
from geographiclib.geodesic import Geodesic

from sim import hexgrid as hg
from sim.geo import hexmap as hmod
from sim.geo.hexmap import (
    OPERATIONAL,
    TACTICAL,
    HexMap,
    UnknownPlaceError,
    build_map,
    load_map,
)
from sim.geo.terrain import Terrain

URBAN = (Terrain.TOWN, Terrain.CITY)


@pytest.fixture(scope="module")
def op() -> HexMap:
    return build_map(OPERATIONAL)


@pytest.fixture(scope="module")
def tac() -> HexMap:
    return build_map(TACTICAL)


def geodesic_km(hm: HexMap, a: str, b: str) -> float:
    pa, pb = hm.place(a), hm.place(b)
    return Geodesic.WGS84.Inverse(pa.lat, pa.lon, pb.lat, pb.lon)["s12"] / 1000.0


def road_path(hm: HexMap, start: int, goal) -> list[int] | None:
    """BFS over road links; ``goal`` is a hex id or a predicate on hex ids."""
    is_goal = goal if callable(goal) else (lambda h: h == goal)
    prev = {start: -1}
    todo = deque([start])
    while todo:
        h = todo.popleft()
        if is_goal(h):
            path = [h]
            while prev[path[-1]] >= 0:
                path.append(prev[path[-1]])
            return path[::-1]
        for k in range(6):
            nb = int(hm.nbr[h, k])
            if nb >= 0 and hm.road[h, k] > 0 and nb not in prev:
                prev[nb] = h
                todo.append(nb)
    return None


# ------------------------------------------------------------------ grid and build


def test_sizes_and_box_coverage(op, tac):
    for hm in (op, tac):
        spec = hm.spec
        assert hm.n == hm.width * hm.height
        for lat in (spec.lat_min, spec.lat_max):
            for lon in (spec.lon_min, spec.lon_max):
                assert hm.hex_at_latlon(lat, lon) >= 0, (spec.name, lat, lon)
        # Hex (0, 0) is the NW corner.
        assert hm.hex_at_latlon(spec.lat_max, spec.lon_min) in {0, 1, hm.width, hm.width + 1}
        assert hm.x_km[0] == 0.0 and hm.y_km[0] == 0.0
        assert hm.area_km2 == pytest.approx(np.sqrt(3) / 2 * spec.hex_km**2)
    assert 3000 <= op.n <= 3600  # ~126 x 134 km at 2.5 km
    assert 3000 <= tac.n <= 4000  # ~30 x 25 km at 0.5 km


def test_build_time():
    t0 = time.perf_counter()
    build_map(OPERATIONAL)
    assert time.perf_counter() - t0 < 2.0


def test_latlon_round_trip(op):
    h = op.place_hex("Pokrovsk")
    assert op.hex_at_latlon(op.lat[h], op.lon[h]) == h
    assert op.hex_at_xy(op.x_km[h], op.y_km[h]) == h
    assert op.hex_id(*op.coords(h)) == h
    assert op.hex_id(-1, 0) == -1 and op.hex_at_latlon(50.0, 37.0) == -1


def test_distances_from_matches_scalar(op):
    a = op.place_hex("Pokrovsk")
    d = op.distances_from(a)
    for b in (0, op.n - 1, op.place_hex("Kramatorsk")):
        assert d[b] == op.distance(a, b)


# ------------------------------------------------------------------ real-world distances

# (a, b, quoted straight-line figure in km, tolerance of the quoted figure in km)
QUOTED = [
    ("Pokrovsk", "Myrnohrad", 6.5, 0.5),  # "about 6-7 km"
    ("Avdiivka", "Pokrovsk", 42.0, 4.2),  # "about 42 km"; the settlement centres are 45.3 km apart
    ("Kramatorsk", "Sloviansk", 14.0, 1.0),  # "about 14 km"
]


@pytest.mark.parametrize("a,b,quoted,tol", QUOTED)
def test_real_distances_operational(op, a, b, quoted, tol):
    ha, hb = op.place_hex(a), op.place_hex(b)
    hex_km = op.distance_km(ha, hb)
    true_km = geodesic_km(op, a, b)
    assert abs(hex_km - true_km) <= op.spec.hex_km  # within one hex of the geodesic
    assert abs(hex_km - quoted) <= tol + op.spec.hex_km  # and of the quoted figure
    # Hex steps times the spacing is never shorter than the straight line (minus one hex).
    assert op.distance(ha, hb) * op.spec.hex_km >= true_km - op.spec.hex_km


def test_real_distance_tactical(tac):
    for a, b in (("Pokrovsk", "Myrnohrad"), ("Pokrovsk", "Rodynske"), ("Pokrovsk", "Hryshyne")):
        hex_km = tac.distance_km(tac.place_hex(a), tac.place_hex(b))
        assert abs(hex_km - geodesic_km(tac, a, b)) <= tac.spec.hex_km


# ------------------------------------------------------------------ terrain


def test_pokrovsk_myrnohrad_urban(op, tac):
    for hm in (op, tac):
        for name in ("Pokrovsk", "Myrnohrad"):
            assert Terrain(hm.terrain[hm.place_hex(name)]) in URBAN, (hm.spec.name, name)
        assert hm.terrain[hm.place_hex("Pokrovsk")] == Terrain.CITY


def test_pokrovsk_built_up_area(tac):
    # Population / density gives ~27 km² for Pokrovsk; count urban share within 4 km of its centre.
    h = tac.place_hex("Pokrovsk")
    near = np.hypot(tac.x_km - tac.x_km[h], tac.y_km - tac.y_km[h]) < 4.0
    area = float((tac.urban_weight[near] * tac.area_km2).sum())
    assert 22.0 <= area <= 32.0


def test_terrain_shares(op, tac):
    for hm in (op, tac):
        counts = np.bincount(hm.terrain, minlength=len(Terrain))
        land = counts[Terrain.OPEN] + counts[Terrain.TREELINE]
        assert 0.20 <= counts[Terrain.TREELINE] / land <= 0.35
        assert set(np.unique(hm.terrain)) <= {int(t) for t in Terrain}
        assert hm.urban_weight.min() >= 0.0 and hm.urban_weight.max() <= 1.0
    mine = next(o for o in op.objectives if o.kind == "mine")
    assert op.terrain[mine.hex] == Terrain.INDUSTRIAL
    assert (op.terrain == Terrain.CITY).sum() >= 10  # Donetsk, Makiivka, Horlivka, Kramatorsk, ...


def test_treeline_noise_is_deterministic():
    lat = np.array([48.0, 48.3, 48.7])
    lon = np.array([36.9, 37.2, 37.9])
    a = hmod.treeline_noise(lat, lon)
    assert np.array_equal(a, hmod.treeline_noise(lat, lon))
    assert ((a >= 0) & (a <= 1)).all()


# ------------------------------------------------------------------ roads, rails, rivers


def test_hexside_arrays_symmetric(op, tac):
    for hm in (op, tac):
        for name in ("road", "rail", "river"):
            arr = getattr(hm, name)
            for k in range(6):
                nb = hm.nbr[:, k]
                on = nb >= 0
                assert np.array_equal(arr[on, k], arr[nb[on], hg.opposite(k)]), (hm.spec.name, name, k)
                assert not arr[~on, k].any()
        assert hm.road.max() <= 3 and hm.river.max() <= 2


def test_road_classes(op):
    assert (op.road == 3).any() and (op.road == 2).any() and (op.road == 1).any()


def test_road_pokrovsk_to_kostiantynivka(op):
    path = road_path(op, op.place_hex("Pokrovsk"), op.place_hex("Kostiantynivka"))
    assert path is not None
    assert len(path) - 1 >= op.distance(path[0], path[-1])


def test_road_pokrovsk_to_western_edge(op):
    path = road_path(op, op.place_hex("Pokrovsk"), lambda h: op.col[h] <= 1)
    assert path is not None
    assert op.lat[path[-1]] == pytest.approx(48.38, abs=0.1)  # the M-30 towards Pavlohrad


def test_tactical_roads(tac):
    assert road_path(tac, tac.place_hex("Pokrovsk"), tac.place_hex("Myrnohrad")) is not None
    assert road_path(tac, tac.place_hex("Pokrovsk"), lambda h: tac.col[h] == 0) is not None


def test_rail_and_rivers(op):
    assert op.rail.any()
    assert (op.river == 2).any()  # Siverskyi Donets
    assert (op.river == 1).any()
    # Bridges: some road links cross a river hexside (the rules let roads cross them).
    assert ((op.road > 0) & (op.river > 0)).any()


# ------------------------------------------------------------------ oblasts, places, objectives


def test_oblasts(op, tac):
    names = op.oblast_names
    assert names[op.oblast[op.place_hex("Mezhova")]] == "Dnipropetrovsk"
    assert names[op.oblast[op.place_hex("Pokrovsk")]] == "Donetsk"
    assert names[op.oblast[op.place_hex("Barvinkove")]] == "Kharkiv"
    agree = [names[op.oblast[p.hex]] == p.oblast for p in op.places]
    assert sum(agree) >= 0.97 * len(agree)
    assert tac.oblast_names[tac.oblast[tac.place_hex("Pokrovsk")]] == "Donetsk"


def test_objectives(op, tac):
    names = {o.name for o in op.objectives}
    for city in ("Pokrovsk", "Myrnohrad", "Selydove", "Kurakhove", "Kostiantynivka", "Druzhkivka"):
        assert city in names
    for city in ("Kramatorsk", "Sloviansk", "Dobropillia"):
        assert city in names
    assert any(o.kind == "mine" for o in op.objectives)
    junctions = [o for o in op.objectives if o.kind == "junction"]
    assert 3 <= len(junctions) <= hmod.MAX_JUNCTIONS
    assert "Pokrovsk junction" in names
    assert {o.kind for o in op.objectives} <= {"city", "town", "mine", "junction"}
    assert {o.name for o in tac.objectives} >= {"Pokrovsk", "Myrnohrad"}
    for o in op.objectives:
        assert 0 <= o.hex < op.n


def test_place_lookup(op):
    assert op.place_hex("pokrovsk") == op.place_hex("POKROVSK") == op.place_hex(" Pokrovsk ")
    assert op.place_hex("Pokrovsk junction") >= 0
    with pytest.raises(UnknownPlaceError) as exc:
        op.place_hex("Pokrovks")
    assert isinstance(exc.value, ValueError)
    assert "Pokrovsk" in exc.value.suggestions
    assert "Pokrovsk" in str(exc.value)


def test_polylines_for_drawing(op):
    for lines in (op.road_polylines, op.rail_polylines, op.river_polylines, op.border_polylines):
        assert lines
        for line_id, cls, pts in lines:
            assert isinstance(line_id, str) and isinstance(cls, int)
            assert pts.ndim == 2 and pts.shape[1] == 2


# ------------------------------------------------------------------ cache


SMALL = dataclasses.replace(
    TACTICAL, name="small-test", lon_min=37.1, lon_max=37.3, lat_min=48.25, lat_max=48.35, hex_km=1.0
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WARGAME_CACHE", str(tmp_path))
    monkeypatch.setattr(hmod, "_MEMO", {})
    return tmp_path / "maps"


def assert_same_map(a: HexMap, b: HexMap) -> None:
    assert a.spec == b.spec and (a.width, a.height) == (b.width, b.height)
    for name in ("col", "row", "q", "r", "x_km", "y_km", "lat", "lon", "nbr", *HexMap.STORED_ARRAYS):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert a.places == b.places and a.objectives == b.objectives and a.oblast_names == b.oblast_names
    for name in ("road_polylines", "rail_polylines", "river_polylines", "border_polylines"):
        la, lb = getattr(a, name), getattr(b, name)
        assert len(la) == len(lb)
        for (ia, ca, pa), (ib, cb, pb) in zip(la, lb, strict=True):
            assert ia == ib and ca == cb and np.array_equal(pa, pb)


def test_cache_round_trip(cache, monkeypatch):
    built = load_map(SMALL)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(hmod, "_MEMO", {})
    monkeypatch.setattr(hmod, "build_map", lambda spec: pytest.fail("should load from the cache"))
    loaded = load_map(SMALL)
    assert loaded is not built
    assert_same_map(built, loaded)
    assert not loaded.terrain.flags.writeable


def test_cache_is_pickle_free(cache):
    load_map(SMALL)
    (path,) = cache.glob("*.npz")
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


def test_cache_rebuilds_on_change(cache, monkeypatch):
    load_map(SMALL)
    key = hmod.cache_key(SMALL)
    other = dataclasses.replace(SMALL, hex_km=1.5)
    hm = load_map(other)
    assert hm.spec.hex_km == 1.5 and hmod.cache_key(other) != key
    assert len(list(cache.glob("*.npz"))) == 2
    monkeypatch.setattr(hmod, "BUILDER_VERSION", hmod.BUILDER_VERSION + 1)
    assert hmod.cache_key(SMALL) != key


def test_load_map_by_name(cache):
    assert load_map("tactical").spec == TACTICAL
    assert load_map("tactical") is load_map(TACTICAL)
    with pytest.raises(ValueError, match="unknown map"):
        load_map("nowhere")


@pytest.mark.parametrize("hex_km", [0.5, 1.0, 2.5])
def test_river_is_a_continuous_barrier(hex_km):
    """A river traced across a map splits it: no path crosses without crossing a river hexside."""
    from sim.geo import facts

    spec = dataclasses.replace(SMALL, hex_km=hex_km, lat_min=48.1, lat_max=48.5, lon_min=37.0, lon_max=37.4)
    b = hmod._Builder(spec)
    lons = np.linspace(36.9, 37.5, 13)
    lats = 48.3 + 0.04 * np.sin(lons * 40.0)  # a wiggly west-east river
    b.trace_river(facts.Polyline("RV-test", 1, "test", lats, lons))
    nbr = hg.neighbour_table(b.width, b.height)
    river_lat = np.interp(b.lon, lons, lats)
    north = np.nonzero(b.lat > river_lat + 0.03)[0]
    south = set(np.nonzero(b.lat < river_lat - 0.03)[0].tolist())
    seen = {int(north[0])}
    todo = [int(north[0])]
    while todo:
        h = todo.pop()
        for k in range(6):
            nb = int(nbr[h, k])
            if nb >= 0 and b.river[h, k] == 0 and nb not in seen:
                seen.add(nb)
                todo.append(nb)
    assert not seen & south
    assert set(north.tolist()) <= seen  # and the north bank is not cut up
