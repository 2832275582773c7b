"""Headless tests of the map renderer, the camera and the unit counters."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pygame  # noqa: E402
import pytest  # noqa: E402

from sim.geo.hexmap import OPERATIONAL, HexMap, blank_map, load_map  # noqa: E402
from sim.geo.terrain import Terrain  # noqa: E402
from sim.ui.render import (  # noqa: E402
    FRONT_COLOUR,
    TERRAIN_COLOURS,
    Camera,
    MapRenderer,
    RenderState,
    UnitMarker,
    png_layout,
    render_map_png,
)
from sim.ui.symbols import SIZES, SYMBOLS, draw_counter  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def _fonts():
    pygame.font.init()
    yield


@pytest.fixture(scope="module")
def op() -> HexMap:
    return load_map("operational")


@pytest.fixture(scope="module")
def tac() -> HexMap:
    return load_map("tactical")


def _close(pixel, colour, tol: int = 12) -> bool:
    return all(abs(int(pixel[i]) - int(colour[i])) <= tol for i in range(3))


# ------------------------------------------------------------------ camera


def test_camera_round_trip():
    cam = Camera(cx=40.3, cy=71.9, ppk=7.3, width=1280, height=800)
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-20, 150, 200), rng.uniform(-20, 150, 200)
    sx, sy = cam.world_to_screen(x, y)
    bx, by = cam.screen_to_world(sx, sy)
    assert np.allclose(bx, x) and np.allclose(by, y)
    px, py = cam.world_to_screen(12.5, 3.25)
    assert cam.screen_to_world(px, py) == pytest.approx((12.5, 3.25))


def test_camera_zoom_keeps_point_under_cursor_and_pan_moves_view():
    cam = Camera(cx=50.0, cy=60.0, ppk=6.0)
    before = cam.screen_to_world(300.0, 200.0)
    cam.zoom_at(2.5, 300.0, 200.0)
    assert cam.ppk == pytest.approx(15.0)
    after_px = cam.world_to_screen(*before)
    assert after_px == pytest.approx((300.0, 200.0), abs=1.0)
    cx = cam.cx
    cam.pan(30.0, 0.0)
    assert cam.cx == pytest.approx(cx + 2.0)
    cam.zoom_at(1e-9, 0, 0)
    assert cam.ppk == cam.min_ppk


def test_fit_shows_whole_map(op):
    cam = Camera().fit(op, 1280, 800)
    sx, sy = cam.world_to_screen(op.x_km, op.y_km)
    assert sx.min() >= 0 and sx.max() < 1280 and sy.min() >= 0 and sy.max() < 800


@pytest.mark.parametrize("name", ["operational", "tactical"])
@pytest.mark.parametrize("zoom", [1.0, 3.7])
def test_screen_to_hex_at_hex_centres(name, zoom):
    hm = load_map(name)
    cam = Camera().fit(hm, 1280, 800)
    cam.zoom_at(zoom, 500, 420)
    sx, sy = cam.world_to_screen(hm.x_km, hm.y_km)
    on = np.nonzero((sx >= 0) & (sx < 1280) & (sy >= 0) & (sy < 800))[0]
    rng = np.random.default_rng(1)
    for h in rng.choice(on, min(600, len(on)), replace=False).tolist():
        assert cam.screen_to_hex(hm, sx[h], sy[h]) == h
        assert cam.screen_to_hex(hm, round(sx[h]), round(sy[h])) == h
    assert cam.screen_to_hex(hm, -5000, -5000) == -1


def test_screen_to_hex_agrees_with_drawn_hexes():
    """Paint every hex in a colour that encodes its id, then read random pixels back."""
    hm = blank_map(OPERATIONAL)
    hid = np.arange(hm.n)
    colours = np.column_stack([hid & 255, hid >> 8, np.full(hm.n, 200)])
    renderer = MapRenderer(hm, colours=colours)
    surf = pygame.Surface((1280, 800))
    for zoom in (1.0, 4.3):
        cam = Camera().fit(hm, 1280, 800)
        cam.zoom_at(zoom, 611, 377)
        renderer.draw(surf, cam, RenderState(grid=False, labels=False))
        rng = np.random.default_rng(2)
        exact = total = 0
        for px, py in zip(rng.integers(0, 1280, 3000).tolist(), rng.integers(0, 800, 3000).tolist(), strict=True):
            r, g, b = surf.get_at((px, py))[:3]
            if b != 200:
                continue  # background off the map
            drawn = r + 256 * g
            total += 1
            exact += drawn == cam.screen_to_hex(hm, px, py)
            near = {cam.screen_to_hex(hm, px + dx, py + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)}
            assert drawn in near, (px, py, drawn, near)
        assert total > 1000 and exact / total > 0.96  # misses are edge pixels shared by two hexes


# ------------------------------------------------------------------ PNG export


def test_png_written_with_requested_size(tmp_path, tac):
    path = render_map_png(tac, tmp_path / "t.png", width=900, height=700, title="test")
    img = pygame.image.load(str(path))
    assert path.exists() and img.get_size() == (900, 700)
    path2 = render_map_png(tac, tmp_path / "auto.png", width=1000)
    assert pygame.image.load(str(path2)).get_size() == (1000, png_layout(tac, 1000)[0])


def test_pokrovsk_is_drawn_urban_on_operational_png(tmp_path, op):
    path = render_map_png(op, tmp_path / "op.png")
    img = pygame.image.load(str(path))
    height, map_rect, cam = png_layout(op)
    assert img.get_size() == (1600, height)
    for town in ("Pokrovsk", "Kramatorsk", "Donetsk"):
        h = op.place_hex(town)
        sx, sy = cam.world_to_screen(float(op.x_km[h]), float(op.y_km[h]))
        cx, cy = round(sx) + map_rect.x, round(sy) + map_rect.y
        reach = round(0.4 * op.spec.hex_km * cam.ppk)
        patch = [img.get_at((cx + dx, cy + dy))[:3] for dx in range(-reach, reach + 1) for dy in range(-reach, reach + 1)]
        urban = (TERRAIN_COLOURS[Terrain.CITY], TERRAIN_COLOURS[Terrain.TOWN])
        assert any(_close(p, c, 6) for p in patch for c in urban), town


# ------------------------------------------------------------------ control overlay


def _clear_hexes(hm: HexMap, cam: Camera, mask: np.ndarray) -> list[int]:
    """On-screen OPEN hexes with no road, rail, river or place: their centre pixel is the plain fill."""
    places = {p.hex for p in hm.places} | {o.hex for o in hm.objectives}
    sx, sy = cam.world_to_screen(hm.x_km, hm.y_km)
    ok = (
        mask
        & (hm.terrain == Terrain.OPEN)
        & ~hm.road.any(axis=1)
        & ~hm.rail.any(axis=1)
        & ~(hm.river > 0).any(axis=1)
        & (sx > 5)
        & (sx < cam.width - 5)
        & (sy > 5)
        & (sy < cam.height - 5)
    )
    ok[list(places)] = False
    # Keep away from every polyline (they are drawn from the real geometry, not the hexsides).
    for lines in (hm.road_polylines, hm.rail_polylines, hm.river_polylines, hm.border_polylines):
        for _, _, pts in lines:
            for x, y in pts:
                ok &= np.hypot(hm.x_km - x, hm.y_km - y) > hm.spec.hex_km * 0.8
    return np.nonzero(ok)[0].tolist()


def test_control_shading_and_front_line(op):
    mid = float(np.median(op.x_km))
    control = (op.x_km > mid).astype(float)
    renderer = MapRenderer(op)
    cam = Camera().fit(op, 1280, 800)
    cam.zoom_at(1.6, 640, 400)
    surf = pygame.Surface((1280, 800))
    renderer.draw(surf, cam, RenderState(control=control, labels=False))
    far = np.abs(op.x_km - mid) > 3 * op.spec.hex_km
    ru = _clear_hexes(op, cam, far & (control == 1.0))
    ua = _clear_hexes(op, cam, far & (control == 0.0))
    assert len(ru) > 10 and len(ua) > 10
    for hexes, side in ((ru, "ru"), (ua, "ua")):
        for h in hexes[:40]:
            sx, sy = cam.world_to_screen(float(op.x_km[h]), float(op.y_km[h]))
            r, g, b = surf.get_at((round(sx), round(sy)))[:3]
            if side == "ru":
                assert r > b + 50 and r > g + 30, (h, (r, g, b))
            else:
                assert b > r + 15, (h, (r, g, b))
    # The front line runs along the hexsides where control flips: midpoints are drawn dark.
    a = np.nonzero((control == 0.0) & (op.nbr[:, 0] >= 0))[0]
    a = a[control[op.nbr[a, 0]] == 1.0]
    dark = 0
    for h in a.tolist():
        b = int(op.nbr[h, 0])
        mx, my = (op.x_km[h] + op.x_km[b]) / 2, (op.y_km[h] + op.y_km[b]) / 2
        sx, sy = cam.world_to_screen(float(mx), float(my))
        if 0 <= sx < 1280 and 0 <= sy < 800:
            dark += _close(surf.get_at((round(sx), round(sy)))[:3], FRONT_COLOUR, 20)
    assert dark >= 5


def test_contested_hexes_differ_from_both_sides(op):
    control = np.zeros(op.n)
    control[op.x_km > 60] = 0.5
    control[op.x_km > 70] = 1.0
    renderer = MapRenderer(op)
    cam = Camera().fit(op, 1280, 800)
    cam.zoom_at(3.0, 640, 400)
    surf = pygame.Surface((1280, 800))
    renderer.draw(surf, cam, RenderState(control=control, labels=False))
    grey = _clear_hexes(op, cam, (op.x_km > 62) & (op.x_km < 68))
    assert grey
    for h in grey[:10]:
        sx, sy = cam.world_to_screen(float(op.x_km[h]), float(op.y_km[h]))
        ys = range(round(sy) - 6, round(sy) + 7)
        patch = [surf.get_at((round(sx), y))[:3] for y in ys]
        assert max(abs(int(p[0]) - int(p[2])) for p in patch) < 45  # greyish, not blue or red
        assert len({tuple(p) for p in patch}) >= 2  # hatched


# ------------------------------------------------------------------ counters and units


def test_draw_counter_colours():
    for side, check in (("ru", lambda r, g, b: r > 200 and g < 160 and b < 160), ("ua", lambda r, g, b: b > 200 and r < 160)):
        surf = pygame.Surface((120, 120))
        surf.fill((255, 255, 255))
        rect = draw_counter(surf, (60, 60), 60, side, "infantry", "battalion", 0.8, label="1/25")
        assert rect.width > 40
        pixels = [surf.get_at((x, y))[:3] for x in range(120) for y in range(120)]
        assert any(check(*p) for p in pixels), side


@pytest.mark.parametrize("symbol", SYMBOLS)
def test_every_symbol_and_size_draws(symbol):
    surf = pygame.Surface((200, 120))
    for k, size in enumerate(SIZES):
        for side in ("ru", "ua"):
            surf.fill((255, 255, 255))
            before = pygame.image.tobytes(surf, "RGB")
            rect = draw_counter(surf, (100, 60), 20 + 8 * k, side, symbol, size, k / 6, selected=k % 2 == 0)
            assert surf.get_rect().contains(rect)
            assert pygame.image.tobytes(surf, "RGB") != before


def test_units_stack_and_hit_test(tac):
    renderer = MapRenderer(tac)
    cam = Camera().fit(tac, 1280, 800)
    h = tac.place_hex("Pokrovsk")
    sx, sy = cam.world_to_screen(float(tac.x_km[h]), float(tac.y_km[h]))
    cam.zoom_at(4.0, sx, sy)
    units = [
        UnitMarker(h, "ua", "infantry", "battalion", 0.9, "A"),
        UnitMarker(h, "ua", "drone", "company", 0.5, "B"),
        UnitMarker(h + 1, "ru", "armour", "battalion", 0.3, "C", selected=True),
    ]
    surf = pygame.Surface((1280, 800))
    renderer.draw(surf, cam, RenderState(units=units, highlight={h + 2}, selected=h))
    assert len(renderer.unit_hitboxes) == 3
    r0, r1 = renderer.unit_hitboxes[0][0], renderer.unit_hitboxes[1][0]
    assert r0.topleft != r1.topleft  # stacked with an offset
    assert renderer.unit_at(*r1.center).label == "B"  # top of the stack wins
    assert renderer.unit_at(-50, -50) is None


# ------------------------------------------------------------------ speed


@pytest.mark.parametrize("name", ["operational", "tactical"])
def test_cached_frame_is_fast(name):
    hm = load_map(name)
    renderer = MapRenderer(hm)
    cam = Camera().fit(hm, 1280, 800)
    surf = pygame.Surface((1280, 800))
    state = RenderState(control=(hm.x_km > np.median(hm.x_km)).astype(float))
    renderer.draw(surf, cam, state)
    times = []
    for _ in range(20):
        cam.pan(2.0, 1.0)
        t0 = time.perf_counter()
        renderer.draw(surf, cam, state)
        times.append(time.perf_counter() - t0)
    assert np.median(times) < 0.03  # 60 fps needs < 16.7 ms; generous for slow CI machines
