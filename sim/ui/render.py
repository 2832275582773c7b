"""Map rendering with pygame: a camera, a tile-cached map renderer, and a headless PNG export.

The static map (terrain, control shading, grid, borders, rivers, railways, roads, front line) is drawn
once per zoom level into 256-px tiles anchored to the world, kept in an LRU cache, so a frame is
mostly tile blits plus the few things that change every frame (labels, markers, highlights, units).
That keeps the interactive game at 60 fps while panning; a new zoom level or a new control field
costs one re-render of the visible tiles.

Coordinates: world = map-frame km (x east, y south, hex (0, 0) at the origin, as in ``HexMap``);
world pixels = km * pixels-per-km; screen = world pixels minus the camera's integer origin.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from sim import hexgrid as hg  # noqa: E402
from sim.geo.hexmap import HexMap  # noqa: E402
from sim.geo.terrain import Terrain  # noqa: E402
from sim.ui.symbols import Colour, draw_counter, get_font, text_surface  # noqa: E402

# ============================================================================ style

TERRAIN_COLOURS: dict[Terrain, Colour] = {
    Terrain.OPEN: (236, 224, 184),  # pale wheat
    Terrain.TREELINE: (176, 199, 146),  # soft green
    Terrain.VILLAGE: (206, 189, 164),  # light grey-brown
    Terrain.TOWN: (158, 155, 150),  # grey
    Terrain.CITY: (84, 92, 110),  # dark slate
    Terrain.INDUSTRIAL: (142, 122, 152),  # purple-grey
    Terrain.WATER: (122, 172, 222),  # blue
}
BACKGROUND: Colour = (52, 56, 64)

UA_COLOUR: Colour = (47, 111, 191)
RU_COLOUR: Colour = (204, 44, 40)
CONTESTED_COLOUR: Colour = (128, 128, 132)
CONTROL_ALPHA = {"ua": 0.40, "ru": 0.34, "contested": 0.42}
HATCH_COLOUR: Colour = (88, 88, 94)
FRONT_COLOUR: Colour = (28, 18, 18)
CONTESTED_MIN, CONTESTED_MAX = 0.2, 0.8

# Roads by class (1 regional, 2 national, 3 international): (fill, casing, fill width at scale 1).
ROAD_STYLES: dict[int, tuple[Colour, Colour, float]] = {
    3: ((214, 58, 36), (96, 28, 18), 3.6),
    2: ((242, 146, 38), (112, 62, 20), 2.8),
    1: ((250, 222, 92), (98, 82, 40), 1.8),
}
ROAD_NAMES = {3: "International road (M, E)", 2: "National road (H)", 1: "Regional road"}
RAIL_COLOUR: Colour = (26, 26, 26)
RIVER_COLOUR: Colour = (62, 124, 198)
BORDER_COLOUR: Colour = (92, 40, 132)
BORDER_HALO: Colour = (206, 186, 226)
OBLAST_LABEL_COLOUR: Colour = (92, 40, 132)
LABEL_COLOUR: Colour = (20, 20, 24)
DOT_COLOUR: Colour = (250, 250, 250)
OBJECTIVE_FILL: Colour = (246, 196, 36)
OBJECTIVE_EDGE: Colour = (40, 30, 10)
JUNCTION_COLOUR: Colour = (60, 40, 30)
HIGHLIGHT_COLOUR: Colour = (255, 255, 255)
SELECTED_COLOUR: Colour = (255, 214, 0)

TILE = 256  # tile side in pixels
GRID_MIN_PX = 18.0  # hex outlines appear when a hex is at least this many pixels across
HATCH_MIN_PX = 7.0
TOWN_LABEL_MIN_PPK = 4.0  # pixels per km from which towns / villages are labelled
VILLAGE_LABEL_MIN_PPK = 12.0

_ANGLES = np.radians(60.0 * np.arange(6) - 30.0)


def line_scale(ppk: float) -> float:
    """Line-width multiplier: lines thicken gently as the map zooms in, but stay readable zoomed out."""
    return float(np.clip((ppk / 8.0) ** 0.35, 0.65, 2.4))


def _blend(a: np.ndarray, b: Colour, alpha: float) -> np.ndarray:
    return a * (1.0 - alpha) + np.asarray(b, float) * alpha


# ============================================================================ camera


@dataclass
class Camera:
    """World km <-> screen pixel transform: centre (km), scale (pixels per km) and screen size."""

    cx: float = 0.0
    cy: float = 0.0
    ppk: float = 10.0
    width: int = 1280
    height: int = 800
    min_ppk: float = 0.5
    max_ppk: float = 600.0

    def origin(self) -> tuple[int, int]:
        """World-pixel position of the screen's top-left pixel, snapped to whole pixels so the cached
        tiles and everything drawn through the camera line up exactly."""
        return round(self.cx * self.ppk - self.width / 2.0), round(self.cy * self.ppk - self.height / 2.0)

    def world_to_screen(self, x, y):
        """Screen pixel coordinates (floats, or float arrays for array input) of world km."""
        ox, oy = self.origin()
        if np.ndim(x) or np.ndim(y):
            return np.asarray(x, float) * self.ppk - ox, np.asarray(y, float) * self.ppk - oy
        return float(x) * self.ppk - ox, float(y) * self.ppk - oy

    def screen_to_world(self, px, py):
        """World km of screen pixel coordinates (floats or arrays)."""
        ox, oy = self.origin()
        if np.ndim(px) or np.ndim(py):
            return (np.asarray(px, float) + ox) / self.ppk, (np.asarray(py, float) + oy) / self.ppk
        return (float(px) + ox) / self.ppk, (float(py) + oy) / self.ppk

    def screen_to_hex(self, hexmap: HexMap, px: float, py: float) -> int:
        """Hex id drawn at the screen pixel containing (px, py), or -1 off the map.

        The pixel's centre is tested, which matches pygame's polygon fill except on hex edges.
        """
        x, y = self.screen_to_world(math.floor(px) + 0.5, math.floor(py) + 0.5)
        q, r = hg.xy_to_axial(x, y, hexmap.spec.hex_km)
        col, row = hg.axial_to_offset(q, r)
        return int(hexmap.hex_id(col, row))

    def fit(self, hexmap: HexMap, width: int | None = None, height: int | None = None, margin_px: int = 8) -> Camera:
        """Centre and scale the view so the whole map fits the screen; returns self for chaining."""
        if width is not None:
            self.width = int(width)
        if height is not None:
            self.height = int(height)
        x0, y0, x1, y1 = map_bounds(hexmap)
        self.cx, self.cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
        avail_w = max(1, self.width - 2 * margin_px)
        avail_h = max(1, self.height - 2 * margin_px)
        self.ppk = min(avail_w / (x1 - x0), avail_h / (y1 - y0))
        self.min_ppk = min(self.min_ppk, self.ppk)
        return self

    def zoom_at(self, factor: float, px: float, py: float) -> None:
        """Zoom by ``factor`` keeping the world point under screen pixel (px, py) in place (mouse wheel)."""
        wx, wy = self.screen_to_world(float(px), float(py))
        self.ppk = float(np.clip(self.ppk * factor, self.min_ppk, self.max_ppk))
        self.cx = wx - (px - self.width / 2.0) / self.ppk
        self.cy = wy - (py - self.height / 2.0) / self.ppk

    def pan(self, dx: float, dy: float) -> None:
        """Move the view by (dx, dy) screen pixels (the map slides the other way; drag = pan(-rel))."""
        self.cx += dx / self.ppk
        self.cy += dy / self.ppk

    def visible_world(self) -> tuple[float, float, float, float]:
        """World-km box (x0, y0, x1, y1) on screen."""
        x0, y0 = self.screen_to_world(0.0, 0.0)
        x1, y1 = self.screen_to_world(float(self.width), float(self.height))
        return x0, y0, x1, y1


def map_bounds(hexmap: HexMap) -> tuple[float, float, float, float]:
    """World-km box (x0, y0, x1, y1) that contains every hex of the map."""
    sp = hexmap.spec.hex_km
    size = sp / math.sqrt(3.0)
    return (
        float(hexmap.x_km.min()) - sp / 2.0,
        float(hexmap.y_km.min()) - size,
        float(hexmap.x_km.max()) + sp / 2.0,
        float(hexmap.y_km.max()) + size,
    )


# ============================================================================ overlays


class UnitLike(Protocol):
    """What the renderer needs from a unit (``UnitMarker`` or any object with these attributes)."""

    hid: int
    side: str
    symbol: str
    size: str
    strength: float
    label: str | None


@dataclass
class UnitMarker:
    """A unit as drawn on the map: where, whose, what, and how strong (0..1)."""

    hid: int
    side: str  # "ru" | "ua"
    symbol: str  # infantry, mechanised, armour, drone, artillery, reconnaissance, engineer
    size: str  # team ... brigade
    strength: float = 1.0
    label: str | None = None
    selected: bool = False


@dataclass
class RenderState:
    """Optional overlays for ``MapRenderer.draw``; every field may be left empty."""

    control: np.ndarray | None = None  # (n,) 0 Ukrainian .. 1 Russian
    units: Sequence[UnitLike] = ()
    highlight: set[int] | frozenset[int] = frozenset()
    selected: int | None = None
    grid: bool | None = None  # hex outlines: None = automatic by zoom
    labels: bool = True


@dataclass
class _Line:
    kind: str  # "road" | "rail" | "river" | "border"
    cls: int
    name: str
    pts: np.ndarray  # (m, 2) km
    bbox: tuple[float, float, float, float]


@dataclass
class _Overlay:
    fills: np.ndarray  # (n, 3) uint8 hex fill colours with control shading
    contested: np.ndarray  # (n,) bool
    front: np.ndarray  # (k, 2, 2) km segments along hexsides where control crosses 0.5


@dataclass
class _ZoomCache:
    border_dashes: np.ndarray  # (k, 4) world px segments
    rail_ticks: np.ndarray  # (k, 4) world px segments


@dataclass
class _PlaceLabel:
    name: str
    kind: str
    x: float
    y: float
    font_px: int
    min_ppk: float
    italic: bool = False
    marked: bool = False  # an objective marker sits at the anchor: no dot, wider gap


@dataclass
class DrawStats:
    """Timing and cache figures of the last ``draw`` call (for profiling and the debug overlay)."""

    ms: float = 0.0
    tiles_drawn: int = 0
    tiles_rendered: int = 0
    labels: int = 0
    extra: dict[str, float] = field(default_factory=dict)


# ============================================================================ renderer


class MapRenderer:
    """Draws a ``HexMap`` (and optional overlays) onto any pygame surface through a ``Camera``."""

    def __init__(
        self, hexmap: HexMap, *, colours: np.ndarray | None = None, max_tiles: int = 192
    ) -> None:
        """``colours`` optionally replaces the terrain palette with one (r, g, b) per hex (debug views)."""
        self.hexmap = hexmap
        self.max_tiles = int(max_tiles)
        sp = hexmap.spec.hex_km
        self._size = sp / math.sqrt(3.0)
        self._corners = np.stack(
            [
                hexmap.x_km[:, None] + self._size * np.cos(_ANGLES)[None, :],
                hexmap.y_km[:, None] + self._size * np.sin(_ANGLES)[None, :],
            ],
            axis=-1,
        )  # (n, 6, 2) km
        if colours is None:
            palette = np.array([TERRAIN_COLOURS[t] for t in Terrain], float)
            self._base = palette[np.asarray(hexmap.terrain, np.int64)]
        else:
            self._base = np.asarray(colours, float).reshape(hexmap.n, 3)
        self._base_fills = np.clip(np.rint(self._base), 0, 255).astype(np.uint8)
        bx0, by0, bx1, by1 = map_bounds(hexmap)
        # A box surely covered by hexes (the map's edges zig-zag by up to a hex).
        self._interior = (bx0 + 1.5 * sp, by0 + 2.5 * self._size, bx1 - 1.5 * sp, by1 - 2.5 * self._size)
        self._hatch = self._hatch_segments()
        self._lines = self._prepare_lines()
        self._labels = self._prepare_labels()
        self._tiles: OrderedDict[tuple, pygame.Surface] = OrderedDict()
        self._overlays: OrderedDict[str, _Overlay] = OrderedDict()
        self._zooms: OrderedDict[float, _ZoomCache] = OrderedDict()
        self.stats = DrawStats()
        self.unit_hitboxes: list[tuple[pygame.Rect, UnitLike]] = []

    # ------------------------------------------------------------------ preparation

    def _hatch_segments(self) -> np.ndarray:
        """(n, 3, 2, 2) km: three 45-degree chords of each hex's inscribed circle (grey-zone hatching)."""
        r = 0.42 * self.hexmap.spec.hex_km
        d = np.array([math.sqrt(0.5), -math.sqrt(0.5)])  # up-right on screen (y south)
        nrm = np.array([math.sqrt(0.5), math.sqrt(0.5)])
        out = np.zeros((self.hexmap.n, 3, 2, 2))
        centres = np.column_stack([self.hexmap.x_km, self.hexmap.y_km])
        for k, t in enumerate((-0.5 * r, 0.0, 0.5 * r)):
            half = math.sqrt(r * r - t * t)
            mid = centres + t * nrm
            out[:, k, 0] = mid - half * d
            out[:, k, 1] = mid + half * d
        return out

    def _prepare_lines(self) -> list[_Line]:
        hm = self.hexmap
        out: list[_Line] = []
        for kind, lines in (
            ("border", hm.border_polylines),
            ("river", hm.river_polylines),
            ("rail", hm.rail_polylines),
            ("road", hm.road_polylines),
        ):
            for name, cls, pts in lines:
                p = np.asarray(pts, float).reshape(-1, 2)
                if len(p) < 2:
                    continue
                bbox = (float(p[:, 0].min()), float(p[:, 1].min()), float(p[:, 0].max()), float(p[:, 1].max()))
                out.append(_Line(kind, int(cls), str(name), p, bbox))
        return out

    def _prepare_labels(self) -> list[_PlaceLabel]:
        """Place labels in priority order (big cities first), each with its font and zoom threshold."""
        hm = self.hexmap
        labels = []
        marked = {o.hex for o in hm.objectives}
        for p in hm.places:
            if p.hex in marked:  # label the objective marker, not a dot beside it
                x, y = float(hm.x_km[p.hex]), float(hm.y_km[p.hex])
            else:
                x, y = hm.latlon_to_xy(p.lat, p.lon)
            pop = p.population or 0
            if p.kind == "city":
                font = 28 if pop >= 300_000 else 25 if pop >= 100_000 else 23 if pop >= 40_000 else 20
                labels.append(_PlaceLabel(p.name, p.kind, float(x), float(y), font, 0.0))
            elif p.kind == "town":
                labels.append(_PlaceLabel(p.name, p.kind, float(x), float(y), 18, TOWN_LABEL_MIN_PPK))
            elif p.kind == "village":
                labels.append(_PlaceLabel(p.name, p.kind, float(x), float(y), 16, VILLAGE_LABEL_MIN_PPK))
            else:
                labels.append(_PlaceLabel(p.name, p.kind, float(x), float(y), 15, VILLAGE_LABEL_MIN_PPK, True))
        rank = {"city": 0, "town": 1, "village": 2, "site": 3}
        pops = {p.name: p.population or 0 for p in hm.places}
        for lb in labels:
            h = int(hm.hex_at_xy(lb.x, lb.y))
            lb.marked = h in marked and lb.x == float(hm.x_km[h]) and lb.y == float(hm.y_km[h])
        labels.sort(key=lambda lb: (rank.get(lb.kind, 4), -pops.get(lb.name, 0), lb.name))
        return labels

    # ------------------------------------------------------------------ caches

    def invalidate(self) -> None:
        """Drop every cached tile and overlay (call after the map or palette changes)."""
        self._tiles.clear()
        self._overlays.clear()
        self._zooms.clear()

    def _overlay(self, control: np.ndarray | None) -> tuple[str, _Overlay | None]:
        """Control shading and front line for a control field, cached by the field's drawn classes."""
        if control is None:
            return "", None
        c = np.nan_to_num(np.asarray(control, float).reshape(self.hexmap.n), nan=0.0)
        ru_side = c > 0.5
        cls = np.where(c <= CONTESTED_MIN, 0, np.where(c >= CONTESTED_MAX, 3, np.where(ru_side, 2, 1)))
        key = hashlib.blake2b(cls.astype(np.uint8).tobytes(), digest_size=10).hexdigest()
        ov = self._overlays.get(key)
        if ov is not None:
            self._overlays.move_to_end(key)
            return key, ov
        fills = self._base.copy()
        fills[cls == 0] = _blend(fills[cls == 0], UA_COLOUR, CONTROL_ALPHA["ua"])
        fills[cls == 3] = _blend(fills[cls == 3], RU_COLOUR, CONTROL_ALPHA["ru"])
        grey = (cls == 1) | (cls == 2)
        fills[grey] = _blend(fills[grey], CONTESTED_COLOUR, CONTROL_ALPHA["contested"])
        segs = []
        nbr = self.hexmap.nbr
        for k in range(3):  # E, NE, NW: each shared hexside once
            b = nbr[:, k]
            a = np.nonzero((b >= 0) & (ru_side != ru_side[np.maximum(b, 0)]))[0]
            if len(a):
                c0, c1 = (6 - k) % 6, (7 - k) % 6  # the two corners shared with neighbour k
                segs.append(np.stack([self._corners[a, c0], self._corners[a, c1]], axis=1))
        front = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
        ov = _Overlay(np.clip(np.rint(fills), 0, 255).astype(np.uint8), grey, front)
        self._overlays[key] = ov
        while len(self._overlays) > 4:
            self._overlays.popitem(last=False)
        return key, ov

    def _zoom(self, ppk: float) -> _ZoomCache:
        """Dash and tick segments in world pixels, computed once per zoom so they join across tiles."""
        zc = self._zooms.get(ppk)
        if zc is not None:
            return zc
        s = line_scale(ppk)
        dashes = [
            _dash_segments(ln.pts * ppk, 11.0 * s, 6.0 * s) for ln in self._lines if ln.kind == "border"
        ]
        ticks = [_tick_segments(ln.pts * ppk, 13.0 * s, 3.4 * s) for ln in self._lines if ln.kind == "rail"]
        zc = _ZoomCache(
            np.concatenate(dashes) if dashes else np.zeros((0, 4)),
            np.concatenate(ticks) if ticks else np.zeros((0, 4)),
        )
        self._zooms[ppk] = zc
        while len(self._zooms) > 8:
            self._zooms.popitem(last=False)
        return zc

    def _tile(
        self, tx: int, ty: int, ppk: float, ckey: str, ov: _Overlay | None, grid: bool, like: pygame.Surface
    ) -> tuple[pygame.Surface, bool]:
        key = (ppk, ckey, grid, tx, ty)
        tile = self._tiles.get(key)
        if tile is not None:
            self._tiles.move_to_end(key)
            return tile, False
        tile = pygame.Surface((TILE, TILE), 0, like)
        self._render_tile(tile, tx * TILE, ty * TILE, ppk, ov, grid)
        self._tiles[key] = tile
        while len(self._tiles) > self.max_tiles:
            self._tiles.popitem(last=False)
        return tile, True

    # ------------------------------------------------------------------ static layer

    def _render_tile(
        self, tile: pygame.Surface, X0: int, Y0: int, ppk: float, ov: _Overlay | None, grid: bool
    ) -> None:
        """Draw the static layers of one tile whose top-left world pixel is (X0, Y0)."""
        tile.fill(BACKGROUND)
        hm = self.hexmap
        sp = hm.spec.hex_km
        hex_px = sp * ppk
        x0, y0 = X0 / ppk, Y0 / ppk
        x1, y1 = (X0 + TILE) / ppk, (Y0 + TILE) / ppk
        sel = np.nonzero(
            (hm.x_km + sp / 2.0 >= x0)
            & (hm.x_km - sp / 2.0 <= x1)
            & (hm.y_km + self._size >= y0)
            & (hm.y_km - self._size <= y1)
        )[0]
        origin = np.array([X0, Y0], float)
        polys: list = []
        if len(sel):
            fills = (ov.fills if ov is not None else self._base_fills)[sel]
            polys = np.rint(self._corners[sel] * ppk - origin).astype(np.int64).tolist()
            draw_polygon = pygame.draw.polygon
            for poly, col in zip(polys, fills.tolist(), strict=True):
                draw_polygon(tile, col, poly)
            if ov is not None and hex_px >= HATCH_MIN_PX:
                hsel = sel[ov.contested[sel]]
                lw = 1 if hex_px < 40 else 2
                for seg in (self._hatch[hsel] * ppk - origin).reshape(-1, 4).tolist():
                    pygame.draw.line(tile, HATCH_COLOUR, seg[:2], seg[2:], lw)
            if grid:
                edge = (fills.astype(np.int64) * 7 // 8).tolist()
                for poly, col in zip(polys, edge, strict=True):
                    draw_polygon(tile, col, poly, 1)
        s = line_scale(ppk)
        zc = self._zoom(ppk)
        box = (X0, Y0, X0 + TILE, Y0 + TILE)
        lines = [ln for ln in self._lines if _bbox_hits(ln.bbox, ppk, box, 12.0 * s)]
        # Oblast borders: a pale halo under dark purple dashes.
        for ln in lines:
            if ln.kind == "border":
                _draw_polyline(tile, BORDER_HALO, ln.pts * ppk - origin, max(2, round(5.0 * s)))
        _draw_segments(tile, BORDER_COLOUR, zc.border_dashes, box, max(1, round(2.2 * s)))
        for ln in lines:
            if ln.kind == "river":
                w = max(2, round(4.2 * s)) if ln.cls >= 2 else max(1, round(1.8 * s))
                _draw_polyline(tile, RIVER_COLOUR, ln.pts * ppk - origin, w)
        rail_w = max(1, round(1.7 * s))
        for ln in lines:
            if ln.kind == "rail":
                _draw_polyline(tile, RAIL_COLOUR, ln.pts * ppk - origin, rail_w)
        _draw_segments(tile, RAIL_COLOUR, zc.rail_ticks, box, max(1, round(1.3 * s)))
        roads = sorted((ln for ln in lines if ln.kind == "road"), key=lambda ln: ln.cls)
        for ln in roads:
            fill, casing, w = ROAD_STYLES.get(ln.cls, ROAD_STYLES[1])
            _draw_polyline(tile, casing, ln.pts * ppk - origin, max(2, round(w * s)) + 2)
        for ln in roads:
            fill, casing, w = ROAD_STYLES.get(ln.cls, ROAD_STYLES[1])
            _draw_polyline(tile, fill, ln.pts * ppk - origin, max(1, round(w * s)))
        if ov is not None and len(ov.front):
            segs = ov.front.reshape(-1, 4) * ppk
            _draw_segments(tile, FRONT_COLOUR, segs, box, max(3, round(3.4 * s)), round_caps=True)
        ix0, iy0, ix1, iy1 = self._interior
        if not (x0 >= ix0 and x1 <= ix1 and y0 >= iy0 and y1 <= iy1):
            # Near the map edge: paint the background back over lines that run off the map.
            mask = pygame.Surface((TILE, TILE), 0, tile)
            mask.fill(BACKGROUND)
            key = (0, 0, 0) if BACKGROUND != (0, 0, 0) else (255, 0, 255)
            for poly in polys:
                pygame.draw.polygon(mask, key, poly)
            mask.set_colorkey(key)
            tile.blit(mask, (0, 0))

    # ------------------------------------------------------------------ frame

    def draw(
        self,
        surface: pygame.Surface,
        camera: Camera,
        layers: RenderState | None = None,
        *,
        avoid: Sequence[pygame.Rect] = (),
    ) -> None:
        """Draw the map and overlays as seen through ``camera`` (which should match the surface size).

        ``avoid`` lists screen rectangles (HUD panels, scale bar) that labels must not cover.
        """
        t0 = time.perf_counter()
        state = layers if layers is not None else RenderState()
        ppk = round(float(camera.ppk), 6)
        ckey, ov = self._overlay(state.control)
        hex_px = self.hexmap.spec.hex_km * ppk
        grid = bool(state.grid) if state.grid is not None else hex_px >= GRID_MIN_PX
        ox, oy = camera.origin()
        w, h = surface.get_size()
        drawn = rendered = 0
        for ty in range(math.floor(oy / TILE), math.floor((oy + h - 1) / TILE) + 1):
            for tx in range(math.floor(ox / TILE), math.floor((ox + w - 1) / TILE) + 1):
                tile, new = self._tile(tx, ty, ppk, ckey, ov, grid, surface)
                surface.blit(tile, (tx * TILE - ox, ty * TILE - oy))
                drawn += 1
                rendered += int(new)
        t1 = time.perf_counter()
        occupied: list[pygame.Rect] = [pygame.Rect(r) for r in avoid]
        markers = self._objective_markers(camera, w, h)
        occupied.extend(r for r, *_ in markers)
        layout = self._unit_layout(camera, w, h, state.units)
        occupied.extend(self._stack_rects(camera, layout))
        n_labels = self._draw_labels(surface, camera, occupied) if state.labels else 0
        for _rect, kind, centre, radius in sorted(markers, key=lambda m: m[1] != "ring"):
            _draw_objective(surface, kind, centre, radius)  # rings first, so stars sit on top
        self._draw_highlights(surface, camera, state)
        self._draw_units(surface, camera, layout)
        t2 = time.perf_counter()
        self.stats = DrawStats(
            (t2 - t0) * 1000.0, drawn, rendered, n_labels, {"tiles_ms": (t1 - t0) * 1000.0}
        )

    def _objective_markers(self, camera: Camera, w: int, h: int) -> list[tuple[pygame.Rect, str, tuple, float]]:
        """On-screen objectives as (rect, kind, centre, radius): stars for towns and the mine, rings for junctions."""
        hm = self.hexmap
        radius = float(np.clip(0.22 * hm.spec.hex_km * camera.ppk, 5.0, 13.0))
        out = []
        seen: set[tuple[int, str]] = set()
        for obj in hm.objectives:
            kind = "ring" if obj.kind == "junction" else "star"
            if (obj.hex, kind) in seen:
                continue
            seen.add((obj.hex, kind))
            sx, sy = camera.world_to_screen(float(hm.x_km[obj.hex]), float(hm.y_km[obj.hex]))
            if -20 <= sx <= w + 20 and -20 <= sy <= h + 20:
                r = radius * (1.35 if kind == "ring" else 1.0)
                rect = pygame.Rect(0, 0, round(2 * r) + 2, round(2 * r) + 2)
                rect.center = (round(sx), round(sy))
                out.append((rect, kind, (sx, sy), r))
        return out

    def _draw_labels(self, surface: pygame.Surface, camera: Camera, occupied: list[pygame.Rect]) -> int:
        """Place names with a greedy collision test (most important first), then oblast names."""
        w, h = surface.get_size()
        screen = pygame.Rect(0, 0, w, h)
        ppk = camera.ppk
        count = 0
        marker_gap = float(np.clip(0.22 * self.hexmap.spec.hex_km * ppk, 5.0, 13.0)) * 1.35 + 3.0
        for lb in self._labels:
            if ppk < lb.min_ppk:
                continue
            sx, sy = camera.world_to_screen(lb.x, lb.y)
            if not (-60 <= sx <= w + 60 and -30 <= sy <= h + 30):
                continue
            text = text_surface(lb.name, lb.font_px, LABEL_COLOUR, italic=lb.italic)
            tw, th = text.get_size()
            gap = marker_gap if lb.marked else 7 if lb.kind in ("city", "town") else 5
            offsets: list[tuple[float, float]] = []
            # Beside the anchor; cities and towns may also sit further out (clear of unit stacks).
            for g in (gap, gap + 30.0) if lb.kind in ("city", "town") else (gap,):
                offsets += [(g, -th / 2), (-tw / 2, -th - g + 2), (-tw - g, -th / 2), (-tw / 2, g - 2)]
            for dx, dy in offsets:
                rect = pygame.Rect(round(sx + dx), round(sy + dy), tw, th)
                if screen.contains(rect) and rect.inflate(2, 0).collidelist(occupied) < 0:
                    if lb.kind in ("city", "town") and not lb.marked:
                        r = 3 if lb.kind == "city" else 2
                        pygame.draw.circle(surface, LABEL_COLOUR, (round(sx), round(sy)), r + 1)
                        pygame.draw.circle(surface, DOT_COLOUR, (round(sx), round(sy)), r)
                    surface.blit(text, rect)
                    occupied.append(rect)
                    count += 1
                    break
        return count + self._draw_oblast_labels(surface, camera, occupied)

    def _draw_oblast_labels(self, surface: pygame.Surface, camera: Camera, occupied: list[pygame.Rect]) -> int:
        """Oblast names hugging the border on each side, one per oblast, nearest the screen centre first."""
        hm = self.hexmap
        w, h = surface.get_size()
        screen = pygame.Rect(0, 0, w, h)
        cands: list[tuple[float, int, pygame.Rect, pygame.Surface]] = []
        step = 90.0
        for ln in self._lines:
            if ln.kind != "border":
                continue
            sx, sy = camera.world_to_screen(ln.pts[:, 0], ln.pts[:, 1])
            pts = _resample(np.column_stack([sx, sy]), step)
            for i in range(1, len(pts) - 1):
                px, py = pts[i]
                if not (0 <= px < w and 0 <= py < h):
                    continue
                tx_, ty_ = pts[i + 1] - pts[i - 1]
                norm = math.hypot(tx_, ty_) or 1.0
                nx, ny = -ty_ / norm, tx_ / norm
                for sgn in (1.0, -1.0):
                    qx, qy = px + sgn * nx * 26.0, py + sgn * ny * 26.0
                    wx, wy = camera.screen_to_world(qx, qy)
                    hid = int(hm.hex_at_xy(wx, wy))
                    if hid < 0:
                        continue
                    name = hm.oblast_names[int(hm.oblast[hid])]
                    text = text_surface(f"{name.upper()} OBLAST", 19, OBLAST_LABEL_COLOUR, italic=True)
                    tw, th = text.get_size()
                    ex, ey = px + sgn * nx * 12.0, py + sgn * ny * 12.0  # label edge near the border
                    if abs(nx) >= abs(ny):
                        left = ex if sgn * nx > 0 else ex - tw
                        rect = pygame.Rect(round(left), round(ey - th / 2), tw, th)
                    else:
                        top = ey if sgn * ny > 0 else ey - th
                        rect = pygame.Rect(round(ex - tw / 2), round(top), tw, th)
                    dist = math.hypot(px - w / 2, py - h / 2)
                    cands.append((dist, int(hm.oblast[hid]), rect, text))
        cands.sort(key=lambda c: c[0])
        done: set[int] = set()
        for _, ob, rect, text in cands:
            if ob in done or not screen.contains(rect) or rect.inflate(4, 4).collidelist(occupied) >= 0:
                continue
            surface.blit(text, rect)
            occupied.append(rect)
            done.add(ob)
        return len(done)

    def hex_polygon(self, camera: Camera, hid: int) -> list[tuple[float, float]]:
        """Screen corners of one hex (for highlights and hover outlines)."""
        sx, sy = camera.world_to_screen(self._corners[hid, :, 0], self._corners[hid, :, 1])
        return list(zip(sx.tolist(), sy.tolist(), strict=True))

    def _draw_highlights(self, surface: pygame.Surface, camera: Camera, state: RenderState) -> None:
        lw = max(2, round(0.08 * self.hexmap.spec.hex_km * camera.ppk))
        for hid in state.highlight:
            if 0 <= hid < self.hexmap.n:
                pygame.draw.polygon(surface, HIGHLIGHT_COLOUR, self.hex_polygon(camera, hid), max(1, lw - 1))
        if state.selected is not None and 0 <= state.selected < self.hexmap.n:
            pts = self.hex_polygon(camera, state.selected)
            pygame.draw.polygon(surface, (0, 0, 0), pts, lw + 2)
            pygame.draw.polygon(surface, SELECTED_COLOUR, pts, lw)

    def counter_size(self, camera: Camera) -> float:
        """Counter frame width in pixels at this zoom: about two thirds of a hex, within readable limits."""
        return float(np.clip(0.66 * self.hexmap.spec.hex_km * camera.ppk, 16.0, 64.0))

    def _unit_layout(self, camera: Camera, w: int, h: int, units: Sequence[UnitLike]) -> list[tuple]:
        """On-screen stacks as (hex centre, units) so labels can avoid them before they are drawn."""
        stacks: dict[int, list[UnitLike]] = {}
        for u in units:
            if 0 <= u.hid < self.hexmap.n:
                stacks.setdefault(int(u.hid), []).append(u)
        size_px = self.counter_size(camera)
        out = []
        for hid, stack in stacks.items():
            sx, sy = camera.world_to_screen(float(self.hexmap.x_km[hid]), float(self.hexmap.y_km[hid]))
            if -size_px <= sx <= w + size_px and -size_px <= sy <= h + size_px:
                out.append(((sx, sy), stack))
        return out

    def _stack_rects(self, camera: Camera, layout: list[tuple]) -> list[pygame.Rect]:
        """Approximate screen boxes of the stacks (frame, echelon marker and strength bar)."""
        size_px = self.counter_size(camera)
        rects = []
        for (sx, sy), stack in layout:
            spread = max(3.0, 0.14 * size_px) * (min(len(stack), 4) - 1)
            r = pygame.Rect(0, 0, round(size_px + spread), round(1.2 * size_px + spread))
            r.center = (round(sx), round(sy))
            rects.append(r)
        return rects

    def _draw_units(self, surface: pygame.Surface, camera: Camera, layout: list[tuple]) -> None:
        """Counters, stacked with a small up-right offset when several share a hex; records hit boxes."""
        self.unit_hitboxes = []
        size_px = self.counter_size(camera)
        step = max(3.0, 0.14 * size_px)
        show_labels = size_px >= 34.0
        for (sx, sy), units in layout:
            shown = units[:4]
            n = len(shown)
            for k, u in enumerate(shown):
                off = (k - (n - 1) / 2.0) * step
                top = k == n - 1
                rect = draw_counter(
                    surface,
                    (sx + off, sy - off),
                    size_px,
                    u.side,
                    u.symbol,
                    u.size,
                    u.strength,
                    label=u.label if (show_labels and top) else None,
                    selected=bool(getattr(u, "selected", False)),
                )
                self.unit_hitboxes.append((rect, u))
            if len(units) > n:
                more = text_surface(f"+{len(units) - n}", 14)
                surface.blit(more, (round(sx + size_px / 2 + step * n / 2), round(sy - size_px / 2 - step * n / 2)))

    def unit_at(self, px: int, py: int) -> UnitLike | None:
        """The top-most unit counter under a screen pixel in the last drawn frame."""
        for rect, u in reversed(self.unit_hitboxes):
            if rect.collidepoint(px, py):
                return u
        return None


# ============================================================================ drawing helpers


def _bbox_hits(bbox: tuple[float, float, float, float], ppk: float, box: tuple[int, int, int, int], pad: float) -> bool:
    return not (
        bbox[2] * ppk < box[0] - pad
        or bbox[0] * ppk > box[2] + pad
        or bbox[3] * ppk < box[1] - pad
        or bbox[1] * ppk > box[3] + pad
    )


def _draw_polyline(surface: pygame.Surface, colour: Colour, pts: np.ndarray, width: int) -> None:
    """A polyline with round joins (pygame's wide lines leave notches at the vertices)."""
    ipts = np.rint(pts).astype(np.int64)
    pygame.draw.lines(surface, colour, False, ipts.tolist(), width)
    if width >= 3:
        w, h = surface.get_size()
        r = width / 2.0
        inside = (ipts[:, 0] > -width) & (ipts[:, 0] < w + width) & (ipts[:, 1] > -width) & (ipts[:, 1] < h + width)
        for p in ipts[inside].tolist():
            pygame.draw.circle(surface, colour, p, r)


def _draw_segments(
    surface: pygame.Surface,
    colour: Colour,
    segs: np.ndarray,
    box: tuple[int, int, int, int],
    width: int,
    round_caps: bool = False,
) -> None:
    """Draw (k, 4) world-pixel segments that touch ``box`` onto a surface whose origin is box's corner."""
    if not len(segs):
        return
    pad = width + 2
    keep = (
        (np.maximum(segs[:, 0], segs[:, 2]) >= box[0] - pad)
        & (np.minimum(segs[:, 0], segs[:, 2]) <= box[2] + pad)
        & (np.maximum(segs[:, 1], segs[:, 3]) >= box[1] - pad)
        & (np.minimum(segs[:, 1], segs[:, 3]) <= box[3] + pad)
    )
    local = np.rint(segs[keep] - np.array([box[0], box[1], box[0], box[1]], float)).astype(np.int64)
    for x0, y0, x1, y1 in local.tolist():
        pygame.draw.line(surface, colour, (x0, y0), (x1, y1), width)
        if round_caps:
            pygame.draw.circle(surface, colour, (x0, y0), width / 2.0)
            pygame.draw.circle(surface, colour, (x1, y1), width / 2.0)


def _arc_length(pts: np.ndarray) -> np.ndarray:
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(pts, axis=0).T))])


def _resample(pts: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along a polyline (for placing labels along it)."""
    s = _arc_length(pts)
    if s[-1] <= 0:
        return pts[:1]
    t = np.arange(0.0, s[-1], step)
    return np.column_stack([np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])])


def _dash_segments(pts: np.ndarray, dash: float, gap: float) -> np.ndarray:
    """(k, 4) dash segments along a polyline, phased by arc length so they join across tiles."""
    s = _arc_length(pts)
    if s[-1] <= 0:
        return np.zeros((0, 4))
    a = np.arange(0.0, s[-1], dash + gap)
    b = np.minimum(a + dash, s[-1])
    xa, ya = np.interp(a, s, pts[:, 0]), np.interp(a, s, pts[:, 1])
    xb, yb = np.interp(b, s, pts[:, 0]), np.interp(b, s, pts[:, 1])
    return np.column_stack([xa, ya, xb, yb])


def _tick_segments(pts: np.ndarray, spacing: float, half: float) -> np.ndarray:
    """(k, 4) short cross ticks across a polyline every ``spacing`` (the railway symbol)."""
    s = _arc_length(pts)
    if s[-1] <= spacing:
        return np.zeros((0, 4))
    t = np.arange(spacing / 2.0, s[-1], spacing)
    x, y = np.interp(t, s, pts[:, 0]), np.interp(t, s, pts[:, 1])
    dx = np.interp(t + 1.0, s, pts[:, 0]) - np.interp(t - 1.0, s, pts[:, 0])
    dy = np.interp(t + 1.0, s, pts[:, 1]) - np.interp(t - 1.0, s, pts[:, 1])
    norm = np.maximum(np.hypot(dx, dy), 1e-9)
    nx, ny = -dy / norm * half, dx / norm * half
    return np.column_stack([x - nx, y - ny, x + nx, y + ny])


def _star_points(cx: float, cy: float, r: float) -> list[tuple[float, float]]:
    pts = []
    for i in range(10):
        rr = r if i % 2 == 0 else 0.45 * r
        a = -math.pi / 2 + i * math.pi / 5
        pts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return pts


def _draw_objective(surface: pygame.Surface, kind: str, centre: tuple[float, float], radius: float) -> None:
    cx, cy = centre
    if kind == "ring":
        pygame.draw.circle(surface, (250, 250, 250), (cx, cy), radius, max(3, round(radius / 3)))
        pygame.draw.circle(surface, JUNCTION_COLOUR, (cx, cy), radius - 1, max(1, round(radius / 5)))
    else:
        pts = _star_points(cx, cy, radius)
        pygame.draw.polygon(surface, OBJECTIVE_FILL, pts)
        pygame.draw.polygon(surface, OBJECTIVE_EDGE, pts, 1)


# ============================================================================ PNG export


def ensure_headless() -> None:
    """Let pygame run without a display (CI, servers): dummy video/audio drivers, fonts initialised."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    if not pygame.font.get_init():
        pygame.font.init()


def _nice_km(target_km: float) -> float:
    """A round scale-bar length (1, 2 or 5 times a power of ten) not longer than ``target_km``."""
    p = 10 ** math.floor(math.log10(target_km))
    for m in (5, 2, 1):
        if m * p <= target_km:
            return m * p
    return p


def _draw_scale_bar(surface: pygame.Surface, ppk: float, left: int, bottom: int) -> pygame.Rect:
    km = _nice_km(170.0 / ppk)
    length = km * ppk
    n = 4 if km / 4 == int(km / 4) or km < 4 else 5
    seg = length / n
    box = pygame.Rect(left - 10, bottom - 44, round(length) + 62, 52)
    panel = pygame.Surface(box.size, pygame.SRCALPHA)
    panel.fill((255, 255, 255, 205))
    surface.blit(panel, box)
    y = bottom - 14
    for i in range(n):
        r = pygame.Rect(round(left + i * seg), y, round(seg) + 1, 7)
        pygame.draw.rect(surface, (20, 20, 20) if i % 2 == 0 else (250, 250, 250), r)
    pygame.draw.rect(surface, (20, 20, 20), pygame.Rect(left, y, round(length) + 1, 7), 1)
    for val, x in ((0, left), (km / 2, left + length / 2), (km, left + length)):
        txt = f"{val:g}"
        t = text_surface(txt, 16, LABEL_COLOUR, halo=None)
        surface.blit(t, t.get_rect(midbottom=(round(x), y - 2)))
    t = text_surface("km", 16, LABEL_COLOUR, halo=None)
    surface.blit(t, (round(left + length) + 10, y - 6))
    return box


def _draw_north_arrow(surface: pygame.Surface, cx: int, top: int) -> pygame.Rect:
    h = 46
    panel = pygame.Surface((44, h + 30), pygame.SRCALPHA)
    panel.fill((255, 255, 255, 205))
    box = surface.blit(panel, (cx - 22, top - 6))
    tip, base = (cx, top + 20), top + 20 + h - 12
    pygame.draw.polygon(surface, (20, 20, 20), [tip, (cx - 11, base), (cx, base - 9)])
    pygame.draw.polygon(surface, (20, 20, 20), [tip, (cx + 11, base), (cx, base - 9)], 2)
    t = text_surface("N", 22, LABEL_COLOUR, halo=None)
    surface.blit(t, t.get_rect(midtop=(cx, top - 2)))
    return box


def _legend(surface: pygame.Surface, rect: pygame.Rect, ppk: float, hexmap: HexMap, state: RenderState | None) -> None:
    """Legend panel: terrain swatches, line symbols, markers, and control colours when given."""
    pygame.draw.rect(surface, (246, 244, 238), rect)
    pygame.draw.line(surface, (150, 150, 150), rect.topleft, rect.bottomleft, 1)
    x = rect.x + 18
    y = rect.y + 16
    s = line_scale(ppk)
    sw = 34

    def heading(text: str) -> None:
        nonlocal y
        t = text_surface(text, 21, (40, 40, 48), halo=None)
        surface.blit(t, (x, y))
        y += t.get_height() + 6

    def row(text: str) -> pygame.Rect:
        nonlocal y
        t = text_surface(text, 17, (30, 30, 34), halo=None)
        r = pygame.Rect(x, y, sw, 16)
        surface.blit(t, (x + sw + 10, y + (16 - t.get_height()) // 2 + 1))
        y += 23
        return r

    heading("Terrain")
    for ter in Terrain:
        r = row(ter.display_name)
        pygame.draw.rect(surface, TERRAIN_COLOURS[ter], r)
        pygame.draw.rect(surface, (90, 90, 90), r, 1)
    y += 8
    heading("Lines")
    for cls in (3, 2, 1):
        r = row(ROAD_NAMES[cls])
        fill, casing, w = ROAD_STYLES[cls]
        seg = np.array([[r.left, r.centery], [r.right, r.centery]], float)
        _draw_polyline(surface, casing, seg, max(2, round(w * s)) + 2)
        _draw_polyline(surface, fill, seg, max(1, round(w * s)))
    r = row("Railway")
    seg = np.array([[r.left, r.centery], [r.right, r.centery]], float)
    _draw_polyline(surface, RAIL_COLOUR, seg, max(1, round(1.7 * s)))
    for x0, y0, x1, y1 in _tick_segments(seg, 13.0 * s, 3.4 * s).tolist():
        pygame.draw.line(surface, RAIL_COLOUR, (x0, y0), (x1, y1), max(1, round(1.3 * s)))
    r = row("River")
    pygame.draw.line(surface, RIVER_COLOUR, r.midleft, r.midright, max(1, round(1.8 * s)))
    r = row("Siverskyi Donets")
    pygame.draw.line(surface, RIVER_COLOUR, r.midleft, r.midright, max(2, round(4.2 * s)))
    r = row("Oblast border")
    seg = np.array([[r.left, r.centery], [r.right, r.centery]], float)
    _draw_polyline(surface, BORDER_HALO, seg, max(2, round(5.0 * s)))
    for x0, y0, x1, y1 in _dash_segments(seg, 11.0 * s, 6.0 * s).tolist():
        pygame.draw.line(surface, BORDER_COLOUR, (x0, y0), (x1, y1), max(1, round(2.2 * s)))
    y += 8
    heading("Markers")
    r = row("Objective (city, town, mine)")
    _draw_objective(surface, "star", r.center, 8.0)
    r = row("Objective (road junction)")
    _draw_objective(surface, "ring", r.center, 8.0)
    r = row("Settlement")
    pygame.draw.circle(surface, LABEL_COLOUR, r.center, 4)
    pygame.draw.circle(surface, DOT_COLOUR, r.center, 3)
    if state is not None and state.control is not None:
        y += 8
        heading("Control")
        base = np.array([TERRAIN_COLOURS[Terrain.OPEN]], float)
        for text, colour, alpha, hatch in (
            ("Ukrainian-held", UA_COLOUR, CONTROL_ALPHA["ua"], False),
            ("Russian-held", RU_COLOUR, CONTROL_ALPHA["ru"], False),
            ("Contested (grey zone)", CONTESTED_COLOUR, CONTROL_ALPHA["contested"], True),
        ):
            r = row(text)
            c = np.clip(np.rint(_blend(base, colour, alpha)[0]), 0, 255).astype(int).tolist()
            pygame.draw.rect(surface, c, r)
            if hatch:
                for k in range(0, r.width + r.height, 8):
                    a = (r.left + k, r.bottom)
                    b = (r.left + k + r.height, r.top)
                    clipped = r.clipline(a, b)
                    if clipped:
                        pygame.draw.line(surface, HATCH_COLOUR, *clipped)
            pygame.draw.rect(surface, (90, 90, 90), r, 1)
        r = row("Front line")
        pygame.draw.line(surface, FRONT_COLOUR, r.midleft, r.midright, max(3, round(3.4 * s)))
    if state is not None and state.units:
        y += 8
        heading("Units")
        for text, side in (("Ukrainian (friendly frame)", "ua"), ("Russian (hostile frame)", "ru")):
            r = row(text)
            draw_counter(surface, r.center, 26, side, "infantry", "battalion", 0.8)
            y += 8
    y = max(y + 10, rect.bottom - 70)
    spec = hexmap.spec
    for text in (
        f"Hexes: {hexmap.width} x {hexmap.height} = {hexmap.n}, {spec.hex_km:g} km across",
        f"Box: {spec.lat_min:.2f}-{spec.lat_max:.2f} N, {spec.lon_min:.2f}-{spec.lon_max:.2f} E",
        "Transverse Mercator at the box centre",
    ):
        t = text_surface(text, 15, (70, 70, 78), halo=None)
        surface.blit(t, (x, y))
        y += 19


def legend_height(state: RenderState | None) -> int:
    """Pixel height the legend panel needs, so a PNG is never cut short."""
    h = 16 + 3 * 33 + (7 + 7 + 3) * 23 + 3 * 8 + 90
    if state is not None and state.control is not None:
        h += 33 + 4 * 23 + 8
    if state is not None and state.units:
        h += 33 + 2 * 31 + 8
    return h


PNG_TITLE_H = 58
PNG_MARGIN = 12


def png_layout(
    hexmap: HexMap, width: int = 1600, height: int | None = None, state: RenderState | None = None
) -> tuple[int, pygame.Rect, Camera]:
    """Image height, the map's rectangle in the image, and the camera that draws it (for tests and tools
    that need to find a world point in an exported PNG)."""
    legend_w = int(np.clip(0.2 * width, 240, 340))
    map_w = width - legend_w
    x0, y0, x1, y1 = map_bounds(hexmap)
    if height is None:
        ppk = (map_w - 2 * PNG_MARGIN) / (x1 - x0)
        map_h = max(round((y1 - y0) * ppk) + 2 * PNG_MARGIN, legend_height(state))
        height = PNG_TITLE_H + map_h
    map_rect = pygame.Rect(0, PNG_TITLE_H, map_w, height - PNG_TITLE_H)
    camera = Camera(width=map_rect.width, height=map_rect.height).fit(hexmap, margin_px=PNG_MARGIN)
    return height, map_rect, camera


def render_map_png(
    hexmap: HexMap,
    path: str | Path,
    width: int = 1600,
    height: int | None = None,
    state: RenderState | None = None,
    title: str | None = None,
) -> Path:
    """Write a PNG of the whole map with a title bar, legend, scale bar and north arrow; no display needed."""
    ensure_headless()
    path = Path(path)
    height, map_rect, camera = png_layout(hexmap, width, height, state)
    title_h = PNG_TITLE_H
    map_w, map_h = map_rect.size
    legend_w = width - map_w
    surface = pygame.Surface((width, height))
    surface.fill((236, 236, 232))
    renderer = MapRenderer(hexmap)
    map_surf = surface.subsurface(map_rect)
    # Labels must keep clear of the scale bar and north arrow drawn over the map afterwards.
    scale_box = pygame.Rect(18, map_h - 62, 260, 62)
    arrow_box = pygame.Rect(map_w - 62, 10, 44, 76)
    renderer.draw(map_surf, camera, state, avoid=(scale_box, arrow_box))

    pygame.draw.rect(surface, (34, 38, 46), pygame.Rect(0, 0, width, title_h))
    if title is None:
        title = f"Western Donetsk - {hexmap.spec.name} map ({hexmap.spec.hex_km:g} km hexes)"
    t = text_surface(title, 34, (240, 240, 236), halo=None)
    surface.blit(t, (16, (title_h - t.get_height()) // 2))
    sub = get_font(18).render("Pokrovsk-Myrnohrad and western Donetsk oblast", True, (176, 180, 190))
    surface.blit(sub, (width - sub.get_width() - 16, (title_h - sub.get_height()) // 2))

    _legend(surface, pygame.Rect(map_w, title_h, legend_w, map_h), camera.ppk, hexmap, state)
    _draw_scale_bar(map_surf, camera.ppk, 28, map_h - 18)
    _draw_north_arrow(map_surf, map_w - 40, 16)
    path.parent.mkdir(parents=True, exist_ok=True)
    pygame.image.save(surface, str(path))
    return path
