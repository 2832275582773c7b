"""The hex map: a planar pointy-top hex grid over a lat/lon box, with terrain, roads, rails and rivers.

All per-hex arrays are numpy, indexed by ``hid = row * width + col`` (mesa even-r offset coordinates,
row 0 at the north edge). Per-hexside arrays have shape (n, 6) and follow ``sim.hexgrid.DIRECTIONS``.
``build_map`` derives everything from the facts in ``assets/geo/``; ``load_map`` caches the result
as a pickle-free ``.npz``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
from scipy import ndimage

from sim import hexgrid as hg
from sim.geo import facts
from sim.geo.terrain import Terrain

# Bump when the building rules change, so cached maps are rebuilt.
BUILDER_VERSION = 1

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class MapSpec:
    """A map: a lat/lon box (WGS84 degrees) and the hex spacing."""

    name: str
    lon_min: float
    lat_min: float
    lon_max: float
    lat_max: float
    hex_km: float  # centre-to-centre spacing of neighbouring hexes


# The operational map: western Donetsk from Pavlohrad's approaches to Donetsk, Horlivka and Sloviansk.
OPERATIONAL = MapSpec("operational", 36.4, 47.75, 38.1, 48.95, 2.5)
# The tactical map: the Pokrovsk-Myrnohrad agglomeration with Rodynske (N), Hryshyne (NW),
# Shevchenko and the Pokrovske mine (SW), Udachne (W) and Novohrodivka (SE); about 29.6 x 25 km.
TACTICAL = MapSpec("tactical", 36.97, 48.17, 37.37, 48.395, 0.5)
NAMED_MAPS: dict[str, MapSpec] = {"operational": OPERATIONAL, "tactical": TACTICAL}


@dataclass(frozen=True)
class Place:
    """A named settlement or site on the map."""

    name: str
    kind: str  # "city" | "town" | "village" | "site"
    hex: int
    lat: float
    lon: float
    population: int | None
    oblast: str


@dataclass(frozen=True)
class Objective:
    """A hex worth holding: a city or town, the mine, or a road junction."""

    name: str
    kind: str  # "city" | "town" | "mine" | "junction"
    hex: int


class UnknownPlaceError(ValueError):
    """A place name that is not on the map; the message lists close matches."""

    def __init__(self, name: str, suggestions: list[str] | tuple[str, ...] = ()) -> None:
        self.name = name
        self.suggestions = tuple(suggestions)
        msg = f"unknown place {name!r}"
        if self.suggestions:
            msg += "; did you mean: " + ", ".join(self.suggestions) + "?"
        else:
            msg += " (no similar names on this map)"
        super().__init__(msg)


PolylineXY = tuple[str, int, np.ndarray]  # (id, class, (m, 2) planar km points)


class HexMap:
    """A built map. Arrays are read-only so one instance can be shared by many simulations."""

    # Arrays stored in the cache; the others are derived from spec, width, height and origin.
    STORED_ARRAYS = ("terrain", "urban_weight", "oblast", "road", "rail", "river")

    def __init__(
        self,
        *,
        spec: MapSpec,
        width: int,
        height: int,
        origin_xy: tuple[float, float],
        terrain: np.ndarray,
        urban_weight: np.ndarray,
        oblast: np.ndarray,
        oblast_names: tuple[str, ...],
        road: np.ndarray,
        rail: np.ndarray,
        river: np.ndarray,
        places: tuple[Place, ...] = (),
        objectives: tuple[Objective, ...] = (),
        road_polylines: tuple[PolylineXY, ...] = (),
        rail_polylines: tuple[PolylineXY, ...] = (),
        river_polylines: tuple[PolylineXY, ...] = (),
        border_polylines: tuple[PolylineXY, ...] = (),
    ) -> None:
        self.spec = spec
        self.width = int(width)
        self.height = int(height)
        self.n = self.width * self.height
        self.projection = _projection_for(spec)
        # Projection coordinates (km) of the centre of hex (0, 0), the map frame's origin.
        self.origin_xy = (float(origin_xy[0]), float(origin_xy[1]))
        self.area_km2 = math.sqrt(3.0) / 2.0 * spec.hex_km**2

        hid = np.arange(self.n, dtype=np.int64)
        self.row, self.col = np.divmod(hid, self.width)
        self.q, self.r = hg.offset_to_axial(self.col, self.row)
        self.x_km, self.y_km = hg.axial_to_xy(self.q, self.r, spec.hex_km)
        self.lat, self.lon = self.projection.to_latlon(
            self.x_km + self.origin_xy[0], self.y_km + self.origin_xy[1]
        )
        self.nbr = hg.neighbour_table(self.width, self.height)

        self.terrain = np.asarray(terrain, dtype=np.int8)
        self.urban_weight = np.asarray(urban_weight, dtype=np.float32)
        self.oblast = np.asarray(oblast, dtype=np.int8)
        self.oblast_names = tuple(oblast_names)
        self.road = np.asarray(road, dtype=np.int8)
        self.rail = np.asarray(rail, dtype=bool)
        self.river = np.asarray(river, dtype=np.int8)
        for name, shape in (
            ("terrain", (self.n,)),
            ("urban_weight", (self.n,)),
            ("oblast", (self.n,)),
            ("road", (self.n, 6)),
            ("rail", (self.n, 6)),
            ("river", (self.n, 6)),
        ):
            if getattr(self, name).shape != shape:
                raise ValueError(f"{name} has shape {getattr(self, name).shape}, expected {shape}")
        for arr in (self.row, self.col, self.q, self.r, self.x_km, self.y_km, self.lat, self.lon, self.nbr):
            arr.flags.writeable = False
        for name in self.STORED_ARRAYS:
            getattr(self, name).flags.writeable = False

        self.places = tuple(places)
        self.objectives = tuple(objectives)
        self.road_polylines = tuple(road_polylines)
        self.rail_polylines = tuple(rail_polylines)
        self.river_polylines = tuple(river_polylines)
        self.border_polylines = tuple(border_polylines)
        self._place_index = {p.name.casefold(): p.hex for p in self.places}

    def __repr__(self) -> str:
        return f"HexMap({self.spec.name!r}, {self.width}x{self.height}, {self.spec.hex_km} km)"

    # ------------------------------------------------------------------ coordinates

    def hex_id(self, col, row):
        """Hex id of offset (col, row), or -1 off the map; ints or int arrays."""
        if np.ndim(col) == 0 and np.ndim(row) == 0:
            col, row = int(col), int(row)
            return row * self.width + col if 0 <= col < self.width and 0 <= row < self.height else -1
        col = np.asarray(col)
        row = np.asarray(row)
        ok = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return np.where(ok, row * self.width + col, -1)

    def coords(self, hid: int) -> tuple[int, int]:
        """Offset (col, row) of a hex id."""
        row, col = divmod(int(hid), self.width)
        return col, row

    def axial(self, hid: int) -> tuple[int, int]:
        """Axial (q, r) of a hex id."""
        return int(self.q[hid]), int(self.r[hid])

    def hex_at_xy(self, x, y):
        """Hex containing the map-frame point (x east, y south, km from hex (0, 0)); -1 off the map."""
        q, r = hg.xy_to_axial(x, y, self.spec.hex_km)
        col, row = hg.axial_to_offset(q, r)
        return self.hex_id(col, row)

    def latlon_to_xy(self, lat, lon):
        """Map-frame planar coordinates (km) of WGS84 lat/lon."""
        px, py = self.projection.to_xy(lat, lon)
        return px - self.origin_xy[0], py - self.origin_xy[1]

    def xy_to_latlon(self, x, y):
        """WGS84 lat/lon of map-frame planar coordinates (km)."""
        return self.projection.to_latlon(np.asarray(x) + self.origin_xy[0], np.asarray(y) + self.origin_xy[1])

    def hex_at_latlon(self, lat, lon):
        """Hex containing a WGS84 point; -1 off the map."""
        x, y = self.latlon_to_xy(lat, lon)
        return self.hex_at_xy(x, y)

    # ------------------------------------------------------------------ names

    def place_hex(self, name: str) -> int:
        """Hex of a named place or objective (case-insensitive; "(qualifier)" suffixes optional)."""
        key = name.strip().casefold()
        if key in self._place_index:
            return self._place_index[key]
        # Allow "Oleksandrivka" for "Oleksandrivka (Marinka)" when it is unambiguous.
        base = [p.hex for p in self.places if p.name.split(" (")[0].casefold() == key]
        if len(base) == 1:
            return base[0]
        for obj in self.objectives:
            if obj.name.casefold() == key:
                return obj.hex
        candidates = [p.name for p in self.places] + [o.name for o in self.objectives]
        folded = {c.casefold(): c for c in candidates}
        close = difflib.get_close_matches(key, list(folded), n=5, cutoff=0.6)
        if len(base) > 1:
            close = [
                p.name.casefold() for p in self.places if p.name.split(" (")[0].casefold() == key
            ] + close
        raise UnknownPlaceError(name, list(dict.fromkeys(folded[c] for c in close)))

    def place(self, name: str) -> Place:
        """The Place record of a named place (same matching rules as ``place_hex``)."""
        hid = self.place_hex(name)
        key = name.strip().casefold()
        for p in self.places:
            if p.hex == hid and (p.name.casefold() == key or p.name.split(" (")[0].casefold() == key):
                return p
        raise UnknownPlaceError(name, [p.name for p in self.places if p.hex == hid])

    # ------------------------------------------------------------------ distances

    def distance(self, a: int, b: int) -> int:
        """Hex steps between two hexes (in plain ints: the rules ask for one pair at a time, where numpy would
        spend more on its call than on the sum)."""
        return hg.distance(self._axial[a], self._axial[b])

    @cached_property
    def _axial(self) -> list[tuple[int, int]]:
        return list(zip(self.q.tolist(), self.r.tolist(), strict=True))

    @cached_property
    def ids(self) -> np.ndarray:
        """Every hex id in order, ``np.arange(n)`` (read-only, kept: whole-map passes over a list of hexes take it)."""
        ids = np.arange(self.n)
        ids.flags.writeable = False
        return ids

    def distance_km(self, a: int, b: int) -> float:
        """Planar distance between hex centres in km (projection error < 0.2 %)."""
        return float(math.hypot(self.x_km[a] - self.x_km[b], self.y_km[a] - self.y_km[b]))

    def distances_from(self, hid: int) -> np.ndarray:
        """Hex distances from one hex to every hex, as a read-only (n,) int array (cached: units seldom move)."""
        cache = self.__dict__.setdefault("_distance_cache", {})
        hit = cache.get(hid)
        if hit is None:
            if len(cache) > 4096:
                cache.clear()
            hit = hg.distance_arrays(self.q, self.r, self.q[hid], self.r[hid])
            hit.flags.writeable = False
            cache[hid] = hit
        return hit

    def within(self, hid: int, radius: int) -> tuple[np.ndarray, np.ndarray]:
        """Hexes within ``radius`` of a hex (ascending ids) and their distances, read-only and cached."""
        cache = self.__dict__.setdefault("_ring_cache", {})
        hit = cache.get((hid, radius))
        if hit is None:
            if len(cache) > 4096:
                cache.clear()
            d = self.distances_from(hid)
            hexes = np.flatnonzero(d <= radius)
            hit = (hexes, d[hexes])
            for a in hit:
                a.flags.writeable = False
            cache[(hid, radius)] = hit
        return hit

    def steps_within(self, km: float) -> int:
        """The most hex steps whose length (steps x ``hex_km``, as the rules multiply it) is at most ``km``; -1 if
        not even 0: ``within(hid, steps_within(km))`` holds exactly the hexes with ``d * hex_km <= km``."""
        hex_km = self.spec.hex_km
        steps = math.floor(km / hex_km)
        while steps >= 0 and steps * hex_km > km:
            steps -= 1
        while (steps + 1) * hex_km <= km:
            steps += 1
        return steps

    def neighbours(self, hid: int) -> list[int]:
        """On-map neighbours of a hex, in DIRECTIONS order."""
        return [int(h) for h in self.nbr[hid] if h >= 0]

    def terrain_counts(self) -> dict[str, int]:
        """Number of hexes per terrain class (for reports and sanity checks)."""
        counts = np.bincount(self.terrain.astype(np.int64), minlength=len(Terrain))
        return {t.name: int(counts[t]) for t in Terrain}


# ============================================================================ building

# Settlement extent: built-up area = population / density. 2,200 people per km² of built-up land is
# within the 2,000-3,000 /km² range of Donbas mining towns (Soviet blocks plus private-house districts)
# and gives Pokrovsk (60,127 in 2022) about 27 km² of town, in line with the brief's 25-30 km².
URBAN_DENSITY_PER_KM2 = 2_200.0
# Villages are mostly detached houses with large gardens, so they spread wider per inhabitant.
VILLAGE_DENSITY_PER_KM2 = 1_000.0
# Nominal populations where the facts sheet has none (most villages and many small towns).
NOMINAL_POPULATION = {"city": 10_000, "town": 3_000, "village": 800, "site": 0}
# Cities at least this big get a dense CITY core within CITY_CORE_FRACTION of their radius.
CITY_CORE_MIN_POP = 40_000
CITY_CORE_FRACTION = 0.5
# Industrial sites are assumed to have at least this built-up share (buildings, spoil heaps).
INDUSTRIAL_MIN_WEIGHT = 0.4

# Synthetic treeline field (no land-cover data is available): value noise over lat/lon lattices at
# three scales (~5.5, ~2.2 and ~0.9 km cells), so the pattern is the same at any hex size.
NOISE_OCTAVES = ((0.05, 0.075, 0.55), (0.02, 0.03, 0.30), (0.008, 0.012, 0.15))  # (dlat°, dlon°, weight)
# Seed picked among the first 20 candidates so that the small tactical box, which is only a few of the
# coarsest noise cells wide, also gets a typical share (28 %) rather than an outlier.
NOISE_SEED = 0x5EED0002
# Noise level above which open ground is TREELINE: the 76th percentile over the operational box, so
# noise gives ~24 % and river valleys bring the total to the brief's 25-30 % of open land.
TREELINE_THRESHOLD = 0.600

# Objectives: towns at least this big (about 20k; low enough to keep Kurakhove, 18.5k).
OBJECTIVE_MIN_POP = 18_000
OBJECTIVE_CITY_POP = 40_000  # objectives at least this big are "city", the rest "town"
JUNCTION_MIN_CLASS = 2  # a junction is where 3+ national/international road links meet...
JUNCTION_MIN_MAJOR_LINKS = 3
MAX_JUNCTIONS = 24  # ...or two different roads meet; keep the best few per map

# Oblast raster: cell size in degrees (~0.3 km), finer than any hex and than the borders' ~1 km accuracy.
OBLAST_CELL_DEG = (0.003, 0.004)  # (lat, lon)
OBLAST_ORDER = ("Donetsk", "Dnipropetrovsk", "Kharkiv", "Zaporizhzhia", "Luhansk")

_DIR_INDEX = {d: k for k, d in enumerate(hg.DIRECTIONS)}


def _projection_for(spec: MapSpec) -> hg.LocalProjection:
    """Projection centred on the box centre, so distortion is smallest where it matters most."""
    return hg.LocalProjection((spec.lat_min + spec.lat_max) / 2.0, (spec.lon_min + spec.lon_max) / 2.0)


def _grid_frame(spec: MapSpec) -> tuple[int, int, tuple[float, float]]:
    """Width, height and origin so the hexes cover the box; hex (0, 0) sits at the NW corner.

    The box edges are sampled densely because in transverse Mercator the parallels curve and the
    meridians converge, so the projected box is not a rectangle.
    """
    proj = _projection_for(spec)
    t = np.linspace(0.0, 1.0, 65)
    lat_t = spec.lat_min + t * (spec.lat_max - spec.lat_min)
    lon_t = spec.lon_min + t * (spec.lon_max - spec.lon_min)
    lats = np.concatenate([np.full_like(t, spec.lat_min), np.full_like(t, spec.lat_max), lat_t, lat_t])
    lons = np.concatenate([lon_t, lon_t, np.full_like(t, spec.lon_min), np.full_like(t, spec.lon_max)])
    x, y = proj.to_xy(lats, lons)
    sp = spec.hex_km
    row_step = sp * math.sqrt(3.0) / 2.0
    width = int(math.ceil((x.max() - x.min()) / sp - 1e-9)) + 1
    height = int(math.ceil((y.max() - y.min()) / row_step - 1e-9)) + 1
    return width, height, (float(x.min()), float(y.min()))


def _densify(x: np.ndarray, y: np.ndarray, step: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along a polyline at most ``step`` apart (original vertices kept)."""
    if len(x) < 2:
        return x.copy(), y.copy()
    seg = np.hypot(np.diff(x), np.diff(y))
    k = np.maximum(1, np.ceil(seg / step).astype(np.int64))
    idx = np.repeat(np.arange(len(seg)), k)
    frac = np.concatenate([np.arange(m) / m for m in k])
    xs = x[idx] + (x[idx + 1] - x[idx]) * frac
    ys = y[idx] + (y[idx + 1] - y[idx]) * frac
    return np.append(xs, x[-1]), np.append(ys, y[-1])


class _Builder:
    """Working state while a map is built (keeps the long build readable)."""

    def __init__(self, spec: MapSpec) -> None:
        self.spec = spec
        self.width, self.height, self.origin = _grid_frame(spec)
        self.n = self.width * self.height
        self.proj = _projection_for(spec)
        self.sp = spec.hex_km
        self.size = spec.hex_km / math.sqrt(3.0)
        hid = np.arange(self.n)
        row, col = np.divmod(hid, self.width)
        self.q, self.r = hg.offset_to_axial(col, row)
        self.x, self.y = hg.axial_to_xy(self.q, self.r, self.sp)
        self.lat, self.lon = self.proj.to_latlon(self.x + self.origin[0], self.y + self.origin[1])
        self.road = np.zeros((self.n, 6), np.int8)
        self.rail = np.zeros((self.n, 6), bool)
        self.river = np.zeros((self.n, 6), np.int8)
        self.roads_at: list[set[str]] = [set() for _ in range(self.n)]
        self.river_hexes = np.zeros(self.n, bool)

    # -- helpers

    def to_xy(self, lat, lon) -> tuple[np.ndarray, np.ndarray]:
        px, py = self.proj.to_xy(np.asarray(lat, float), np.asarray(lon, float))
        return px - self.origin[0], py - self.origin[1]

    def hid_of_axial(self, q: int, r: int) -> int:
        col, row = hg.axial_to_offset(q, r)
        if 0 <= col < self.width and 0 <= row < self.height:
            return row * self.width + col
        return -1

    def hids_at_xy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        q, r = hg.xy_to_axial(x, y, self.sp)
        col, row = hg.axial_to_offset(q, r)
        ok = (col >= 0) & (col < self.width) & (row >= 0) & (row < self.height)
        return np.where(ok, row * self.width + col, -1)

    def set_side(self, arr: np.ndarray, a: tuple[int, int], b: tuple[int, int], value) -> None:
        """Raise the hexside value between axial neighbours a and b (both directions)."""
        k = _DIR_INDEX[(b[0] - a[0], b[1] - a[1])]
        ha, hb = self.hid_of_axial(*a), self.hid_of_axial(*b)
        if ha < 0 or hb < 0:
            return
        arr[ha, k] = max(arr[ha, k], value)
        arr[hb, hg.opposite(k)] = max(arr[hb, hg.opposite(k)], value)

    # -- roads and railways

    def trace_links(self, line: facts.Polyline, arr: np.ndarray, value, road_id: str | None = None) -> None:
        """Link consecutive hexes along a line; gaps between non-neighbours are bridged with ``line()``."""
        x, y = self.to_xy(line.lat, line.lon)
        xs, ys = _densify(x, y, self.sp / 4.0)
        q, r = hg.xy_to_axial(xs, ys, self.sp)
        hids = self.hids_at_xy(xs, ys)
        prev: tuple[int, int] | None = None
        for qi, ri, h in zip(q.tolist(), r.tolist(), hids.tolist(), strict=True):
            if h < 0:
                prev = None
                continue
            cur = (qi, ri)
            if road_id is not None:
                self.roads_at[h].add(road_id)
            if prev is not None and cur != prev:
                path = hg.line(prev, cur)
                for u, v in zip(path, path[1:], strict=False):
                    self.set_side(arr, u, v, value)
                    if road_id is not None:
                        hv = self.hid_of_axial(*v)
                        if hv >= 0:
                            self.roads_at[hv].add(road_id)
            prev = cur

    # -- rivers along hexsides

    def _corner_near(self, x: float, y: float) -> tuple[float, float, int]:
        """Nearest hex corner to a point, and its type (0: edges at -30/90/210°, 1: at 30/150/270°)."""
        q, r = hg.xy_to_axial(x, y, self.sp)
        cx, cy = hg.axial_to_xy(q, r, self.sp)
        ang = math.degrees(math.atan2(y - cy, x - cx))
        i = int(round((ang + 30.0) / 60.0)) % 6
        a = math.radians(60.0 * i - 30.0)
        return cx + self.size * math.cos(a), cy + self.size * math.sin(a), i % 2

    def _mark_edge(self, x0: float, y0: float, x1: float, y1: float, value: int) -> None:
        mx, my = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        nx, ny = -(y1 - y0) / self.size, (x1 - x0) / self.size  # unit normal to the hexside
        off = 0.3 * self.size
        a = hg.xy_to_axial(mx + off * nx, my + off * ny, self.sp)
        b = hg.xy_to_axial(mx - off * nx, my - off * ny, self.sp)
        if (b[0] - a[0], b[1] - a[1]) in _DIR_INDEX:
            self.set_side(self.river, a, b, value)

    def trace_river(self, line: facts.Polyline) -> None:
        """Route a river along hexsides: snap its points to hex corners and walk the corner lattice.

        A chain of hexsides is a continuous barrier, so any path that crosses the river line crosses a
        river hexside (roads cross it on bridges; the movement rules decide what that costs).
        """
        x, y = self.to_xy(line.lat, line.lon)
        xs, ys = _densify(x, y, self.size / 3.0)
        hids = self.hids_at_xy(xs, ys)
        self.river_hexes[hids[hids >= 0]] = True
        # Work only near the map: corners more than two hexes outside cannot touch an on-map hexside.
        margin = 2.0 * self.sp
        near = (
            (xs > -margin)
            & (xs < self.width * self.sp + margin)
            & (ys > -margin)
            & (ys < self.height * self.sp + margin)
        )
        steps = {0: (-30.0, 90.0, 210.0), 1: (30.0, 150.0, 270.0)}
        cur: tuple[float, float, int] | None = None
        for xi, yi, ok in zip(xs.tolist(), ys.tolist(), near.tolist(), strict=True):
            if not ok:
                cur = None
                continue
            target = self._corner_near(xi, yi)
            if cur is None:
                cur = target
                continue
            vx, vy, t = cur
            for _ in range(1000):
                if math.hypot(target[0] - vx, target[1] - vy) < self.size / 2.0:
                    break
                best = None
                for deg in steps[t]:
                    a = math.radians(deg)
                    wx, wy = vx + self.size * math.cos(a), vy + self.size * math.sin(a)
                    d = math.hypot(target[0] - wx, target[1] - wy)
                    if best is None or d < best[0]:
                        best = (d, wx, wy)
                _, wx, wy = best
                self._mark_edge(vx, vy, wx, wy, line.cls)
                vx, vy, t = wx, wy, 1 - t
            cur = target

    # -- terrain

    def treeline_noise(self) -> np.ndarray:
        return treeline_noise(self.lat, self.lon)

    def urban(self, settlements: list[facts.Settlement]) -> tuple[np.ndarray, np.ndarray]:
        """Urban class and built-up share per hex from settlement discs sized by population."""
        cls = np.zeros(self.n, np.int8)
        keep_open = np.ones(self.n)
        hex_r = math.sqrt(self.sp**2 * math.sqrt(3.0) / 2.0 / math.pi)  # equal-area disc of a hex
        hex_area = math.pi * hex_r**2
        for s in settlements:
            if s.kind not in ("city", "town", "village"):
                continue
            pop = s.population if s.population else NOMINAL_POPULATION[s.kind]
            density = VILLAGE_DENSITY_PER_KM2 if s.kind == "village" else URBAN_DENSITY_PER_KM2
            radius = math.sqrt(pop / density / math.pi)
            sx, sy = self.to_xy(s.lat, s.lon)
            d = np.hypot(self.x - sx, self.y - sy)
            near = np.nonzero(d < radius + hex_r)[0]
            share = _disc_overlap(d[near], radius, hex_r) / hex_area
            keep_open[near] *= 1.0 - np.clip(share, 0.0, 1.0)
            base = Terrain.VILLAGE if s.kind == "village" else Terrain.TOWN
            within = near[d[near] <= radius]
            cls[within] = np.maximum(cls[within], base)
            big = s.kind == "city" and pop >= CITY_CORE_MIN_POP
            if big:
                core = near[d[near] <= CITY_CORE_FRACTION * radius]
                cls[core] = Terrain.CITY
            h = int(self.hids_at_xy(np.asarray(sx), np.asarray(sy)))
            if h >= 0:  # a settlement always marks the hex that contains it
                cls[h] = max(cls[h], Terrain.CITY if big else base)
        return cls, (1.0 - keep_open).astype(np.float32)

    # -- oblasts

    def oblasts(self, borders: list[facts.Polyline], settlements: list[facts.Settlement]):
        """Oblast per hex: flood-fill a fine lat/lon raster cut by the border lines, label by settlements."""
        names = list(OBLAST_ORDER)
        for extra in sorted(
            {s.oblast for s in settlements} | {n for b in borders for n in b.name.split("|")}
        ):
            if extra not in names:
                names.append(extra)
        index = {n: i for i, n in enumerate(names)}
        if not borders:
            votes = np.bincount([index[s.oblast] for s in settlements], minlength=len(names))
            return np.full(self.n, int(votes.argmax()), np.int8), tuple(names)
        all_lat = np.concatenate([b.lat for b in borders])
        all_lon = np.concatenate([b.lon for b in borders])
        lat0, lat1 = all_lat.min(), all_lat.max()
        lon0, lon1 = all_lon.min(), all_lon.max()
        dlat, dlon = OBLAST_CELL_DEG
        nr = int(math.ceil((lat1 - lat0) / dlat)) + 1
        nc = int(math.ceil((lon1 - lon0) / dlon)) + 1

        def cell(lat, lon):
            i = np.clip(((np.asarray(lat) - lat0) / dlat).astype(np.int64), 0, nr - 1)
            j = np.clip(((np.asarray(lon) - lon0) / dlon).astype(np.int64), 0, nc - 1)
            return i, j

        per_border = []
        barrier = np.zeros((nr, nc), bool)
        for b in borders:
            la, lo = _densify(b.lat, b.lon, min(dlat, dlon) / 4.0)
            m = np.zeros((nr, nc), bool)
            m[cell(la, lo)] = True
            m = ndimage.binary_dilation(m, iterations=1, structure=np.ones((3, 3), bool))
            per_border.append(m)
            barrier |= m
        comp, ncomp = ndimage.label(~barrier)
        label = np.full(ncomp + 1, -1)
        votes = np.zeros((ncomp + 1, len(names)), np.int64)
        for s in settlements:
            c = comp[cell(s.lat, s.lon)]
            if c > 0:
                votes[c, index[s.oblast]] += 1
        has = votes.sum(axis=1) > 0
        label[has] = votes[has].argmax(axis=1)
        # Components without settlements: use the pairs of the borders they touch.
        touch = [
            set(np.unique(comp[ndimage.binary_dilation(m, iterations=1)]).tolist()) - {0} for m in per_border
        ]
        for c in range(1, ncomp + 1):
            if label[c] >= 0:
                continue
            # Candidates: oblasts of the borders it touches, minus the labels of the labelled
            # components across those borders (robust to tripoints, where three borders meet).
            touching = [t for t in touch if c in t]
            cand = {n for b, t in zip(borders, touch, strict=True) if c in t for n in b.name.split("|")}
            cand -= {names[label[o]] for t in touching for o in t if o != c and label[o] >= 0}
            if len(cand) == 1:
                label[c] = index[cand.pop()]
        raster = label[comp]
        raster[comp == 0] = -1
        missing = raster < 0
        if missing.any():
            _, (ii, jj) = ndimage.distance_transform_edt(missing, return_indices=True)
            raster = raster[ii, jj]
        i, j = cell(self.lat, self.lon)
        return raster[i, j].astype(np.int8), tuple(names)


def _disc_overlap(d: np.ndarray, r1: float, r2: float) -> np.ndarray:
    """Area of intersection of two discs of radii r1, r2 whose centres are ``d`` apart."""
    d = np.asarray(d, float)
    out = np.zeros_like(d)
    small, big = min(r1, r2), max(r1, r2)
    inside = d <= big - small
    out[inside] = math.pi * small**2
    part = ~inside & (d < r1 + r2)
    dd = np.maximum(d[part], 1e-12)
    a1 = r1**2 * np.arccos(np.clip((dd**2 + r1**2 - r2**2) / (2 * dd * r1), -1, 1))
    a2 = r2**2 * np.arccos(np.clip((dd**2 + r2**2 - r1**2) / (2 * dd * r2), -1, 1))
    tri = 0.5 * np.sqrt(np.clip((-dd + r1 + r2) * (dd + r1 - r2) * (dd - r1 + r2) * (dd + r1 + r2), 0, None))
    out[part] = a1 + a2 - tri
    return out


def _hash01(i: np.ndarray, j: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic pseudo-random value in [0, 1) per integer lattice point (splitmix64 finaliser)."""
    h = i.astype(np.int64).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h ^= j.astype(np.int64).astype(np.uint64) * np.uint64(0xC2B2AE3D27D4EB4F)
    h ^= np.uint64(salt & 0xFFFFFFFFFFFFFFFF)
    h ^= h >> np.uint64(30)
    h *= np.uint64(0xBF58476D1CE4E5B9)
    h ^= h >> np.uint64(27)
    h *= np.uint64(0x94D049BB133111EB)
    h ^= h >> np.uint64(31)
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def treeline_noise(lat, lon) -> np.ndarray:
    """Smooth value noise in [0, 1] over WGS84 coordinates (synthetic stand-in for land cover).

    It depends only on the coordinates and fixed seeds, never on global random state, so every map
    and hex size sees the same pattern.
    """
    lat = np.asarray(lat, float)
    lon = np.asarray(lon, float)
    total = np.zeros(np.broadcast(lat, lon).shape)
    for octave, (dlat, dlon, weight) in enumerate(NOISE_OCTAVES):
        u = lat / dlat
        v = lon / dlon
        i0 = np.floor(u)
        j0 = np.floor(v)
        fu = u - i0
        fv = v - j0
        fu = fu * fu * (3 - 2 * fu)  # smoothstep, so the field has no creases at lattice lines
        fv = fv * fv * (3 - 2 * fv)
        salt = NOISE_SEED + 7919 * octave
        v00 = _hash01(i0, j0, salt)
        v01 = _hash01(i0, j0 + 1, salt)
        v10 = _hash01(i0 + 1, j0, salt)
        v11 = _hash01(i0 + 1, j0 + 1, salt)
        total += weight * ((v00 * (1 - fv) + v01 * fv) * (1 - fu) + (v10 * (1 - fv) + v11 * fv) * fu)
    return total / sum(w for _, _, w in NOISE_OCTAVES)


def _polylines_xy(b: _Builder, lines: list[facts.Polyline]) -> tuple[PolylineXY, ...]:
    out = []
    for ln in lines:
        x, y = b.to_xy(ln.lat, ln.lon)
        out.append((ln.id, int(ln.cls), np.column_stack([x, y])))
    return tuple(out)


def _junctions(b: _Builder, road: np.ndarray, places: list[Place]) -> list[Objective]:
    """Road junctions: 3+ national/international links, or two different roads, one per settlement."""
    major = (road >= JUNCTION_MIN_CLASS).sum(axis=1)
    n_roads = np.array([len(s) for s in b.roads_at])
    cand = np.nonzero((major >= JUNCTION_MIN_MAJOR_LINKS) | (n_roads >= 2))[0]
    named = [p for p in places if p.kind != "site"]
    if not named or len(cand) == 0:
        return []
    px, py = b.to_xy([p.lat for p in named], [p.lon for p in named])
    best: dict[str, tuple[tuple, int]] = {}
    for h in cand.tolist():
        d = np.hypot(px - b.x[h], py - b.y[h])
        k = int(d.argmin())
        score = (int(n_roads[h]), int(major[h]), -float(d[k]))
        name = named[k].name
        if name not in best or score > best[name][0]:
            best[name] = (score, h)
    ranked = sorted(best.items(), key=lambda kv: kv[1][0], reverse=True)[:MAX_JUNCTIONS]
    return [Objective(f"{name} junction", "junction", h) for name, (_, h) in ranked]


def blank_map(spec: MapSpec) -> HexMap:
    """A map with the spec's grid but no features (all OPEN, one oblast): for tests and tools."""
    width, height, origin = _grid_frame(spec)
    n = width * height
    return HexMap(
        spec=spec,
        width=width,
        height=height,
        origin_xy=origin,
        terrain=np.zeros(n, np.int8),
        urban_weight=np.zeros(n, np.float32),
        oblast=np.zeros(n, np.int8),
        oblast_names=OBLAST_ORDER,
        road=np.zeros((n, 6), np.int8),
        rail=np.zeros((n, 6), bool),
        river=np.zeros((n, 6), np.int8),
    )


def build_map(spec: MapSpec) -> HexMap:
    """Build a map from the facts in ``assets/geo/`` (no cache; see ``load_map``).

    Terrain rules: settlements are discs of area population / density (CITY core for cities of
    40k+, TOWN or VILLAGE around it, and always the hex containing the settlement); the Pokrovske
    mine is INDUSTRIAL; a reservoir point makes its hex WATER unless a road, railway or settlement
    uses that hex; the rest is OPEN, or TREELINE where a river runs (valleys, balkas) or a synthetic
    noise field is high (~27 % of the area: there is no land-cover data here).
    """
    b = _Builder(spec)
    settlements = facts.load_settlements()
    roads = facts.load_roads()
    rails = facts.load_railways()
    rivers, reservoirs = facts.load_rivers()
    borders = facts.load_borders()

    for ln in roads:
        b.trace_links(ln, b.road, ln.cls, road_id=ln.id)
    for ln in rails:
        b.trace_links(ln, b.rail, True)
    for ln in rivers:
        b.trace_river(ln)

    urban_cls, weight = b.urban(settlements)
    terrain = np.full(b.n, Terrain.OPEN, np.int8)
    terrain[(b.treeline_noise() >= TREELINE_THRESHOLD) | b.river_hexes] = Terrain.TREELINE
    terrain = np.where(urban_cls > 0, urban_cls, terrain).astype(np.int8)

    for s in settlements:
        if s.kind == "site":
            h = int(b.hids_at_xy(*map(np.asarray, b.to_xy(s.lat, s.lon))))
            if h >= 0:
                terrain[h] = Terrain.INDUSTRIAL
                weight[h] = max(weight[h], INDUSTRIAL_MIN_WEIGHT)
    used = b.road.any(axis=1) | b.rail.any(axis=1) | (urban_cls > 0)
    for res in reservoirs:
        h = int(b.hids_at_xy(*map(np.asarray, b.to_xy(res.lat, res.lon))))
        if h >= 0 and not used[h]:
            terrain[h] = Terrain.WATER
            weight[h] = 0.0
            for k in range(6):
                nb = b.hid_of_axial(int(b.q[h]) + hg.DIRECTIONS[k][0], int(b.r[h]) + hg.DIRECTIONS[k][1])
                if nb >= 0:
                    b.river[h, k] = b.river[nb, hg.opposite(k)] = facts.RIVER_MAJOR

    oblast, oblast_names = b.oblasts(borders, settlements)

    places = []
    for s in settlements:
        h = int(b.hids_at_xy(*map(np.asarray, b.to_xy(s.lat, s.lon))))
        if h >= 0:
            places.append(Place(s.name, s.kind, h, s.lat, s.lon, s.population, s.oblast))
    objectives = []
    for p in places:
        if p.kind in ("city", "town") and (p.population or 0) >= OBJECTIVE_MIN_POP:
            kind = "city" if p.population >= OBJECTIVE_CITY_POP else "town"
            objectives.append(Objective(p.name, kind, p.hex))
        elif p.kind == "site" and "mine" in p.name.lower():
            objectives.append(Objective(p.name, "mine", p.hex))
    objectives.extend(_junctions(b, b.road, places))

    return HexMap(
        spec=spec,
        width=b.width,
        height=b.height,
        origin_xy=b.origin,
        terrain=terrain,
        urban_weight=weight,
        oblast=oblast,
        oblast_names=oblast_names,
        road=b.road,
        rail=b.rail,
        river=b.river,
        places=tuple(places),
        objectives=tuple(objectives),
        road_polylines=_polylines_xy(b, roads),
        rail_polylines=_polylines_xy(b, rails),
        river_polylines=_polylines_xy(b, rivers),
        border_polylines=_polylines_xy(b, borders),
    )


# ============================================================================ caching

_MEMO: dict[str, HexMap] = {}


def cache_dir() -> Path:
    """Where built maps are cached: ``$WARGAME_CACHE/maps`` or ``<project>/.cache/maps``."""
    env = os.environ.get("WARGAME_CACHE")
    return (Path(env) / "maps") if env else PROJECT_ROOT / ".cache" / "maps"


def resolve_spec(spec_or_name: MapSpec | str) -> MapSpec:
    """A MapSpec from itself or from a name in NAMED_MAPS."""
    if isinstance(spec_or_name, MapSpec):
        return spec_or_name
    try:
        return NAMED_MAPS[str(spec_or_name).strip().lower()]
    except KeyError:
        raise ValueError(f"unknown map {spec_or_name!r}; known maps: {', '.join(NAMED_MAPS)}") from None


def cache_key(spec: MapSpec) -> str:
    """Hash of the spec, the builder version and the asset CSVs: changes whenever the map would."""
    h = hashlib.sha256()
    h.update(json.dumps(asdict(spec), sort_keys=True).encode())
    h.update(f"builder={BUILDER_VERSION}".encode())
    h.update(facts.assets_digest().encode())
    return h.hexdigest()[:20]


def _polylines_to_json(lines: tuple[PolylineXY, ...]) -> list:
    return [[i, c, pts.tolist()] for i, c, pts in lines]


def _polylines_from_json(data: list) -> tuple[PolylineXY, ...]:
    return tuple((str(i), int(c), np.asarray(pts, dtype=float).reshape(-1, 2)) for i, c, pts in data)


def save_npz(hm: HexMap, path: Path) -> None:
    """Write a map to ``path`` atomically (temp file + rename), pickle-free."""
    meta = {
        "spec": asdict(hm.spec),
        "width": hm.width,
        "height": hm.height,
        "origin_xy": list(hm.origin_xy),
        "oblast_names": list(hm.oblast_names),
        "places": [asdict(p) for p in hm.places],
        "objectives": [asdict(o) for o in hm.objectives],
        "road_polylines": _polylines_to_json(hm.road_polylines),
        "rail_polylines": _polylines_to_json(hm.rail_polylines),
        "river_polylines": _polylines_to_json(hm.river_polylines),
        "border_polylines": _polylines_to_json(hm.border_polylines),
        "builder_version": BUILDER_VERSION,
    }
    arrays = {name: getattr(hm, name) for name in HexMap.STORED_ARRAYS}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_npz(path: Path) -> HexMap:
    """Read a map written by ``save_npz`` (allow_pickle=False)."""
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        arrays = {name: data[name] for name in HexMap.STORED_ARRAYS}
    return HexMap(
        spec=MapSpec(**meta["spec"]),
        width=meta["width"],
        height=meta["height"],
        origin_xy=tuple(meta["origin_xy"]),
        oblast_names=tuple(meta["oblast_names"]),
        places=tuple(Place(**p) for p in meta["places"]),
        objectives=tuple(Objective(**o) for o in meta["objectives"]),
        road_polylines=_polylines_from_json(meta["road_polylines"]),
        rail_polylines=_polylines_from_json(meta["rail_polylines"]),
        river_polylines=_polylines_from_json(meta["river_polylines"]),
        border_polylines=_polylines_from_json(meta["border_polylines"]),
        **arrays,
    )


def load_map(spec_or_name: MapSpec | str, *, use_cache: bool = True) -> HexMap:
    """The map for a spec or name, from memory, the on-disk cache, or freshly built (then cached)."""
    spec = resolve_spec(spec_or_name)
    key = cache_key(spec)
    if use_cache and key in _MEMO:
        return _MEMO[key]
    path = cache_dir() / f"{spec.name}-{key}.npz"
    hm = None
    if use_cache and path.exists():
        try:
            hm = read_npz(path)
        except (OSError, ValueError, KeyError, TypeError):
            hm = None  # a corrupt or stale cache file is simply rebuilt
    if hm is None:
        hm = build_map(spec)
        if use_cache:
            save_npz(hm, path)
    if use_cache:
        _MEMO[key] = hm
    return hm


def timed_build(spec_or_name: MapSpec | str) -> tuple[HexMap, float]:
    """Build a map without the cache and return it with the wall time in seconds (for reports)."""
    t0 = time.perf_counter()
    hm = build_map(resolve_spec(spec_or_name))
    return hm, time.perf_counter() - t0
