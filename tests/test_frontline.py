"""Tests for deriving per-hex control from occupied-area GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from sim.geo import frontline as fl
from sim.geo.hexmap import OPERATIONAL, TACTICAL, MapSpec, blank_map, build_map

FRONTLINES = Path("/work/shared/geo/frontlines")
SNAPSHOT_2024 = FRONTLINES / "occupied_20240708.geojson"

SMALL = MapSpec("frontline-test", 37.0, 48.0, 37.2, 48.1, 2.0)


@pytest.fixture(scope="module")
def small():
    return blank_map(SMALL)


def ring_lonlat(hm, xy: list[tuple[float, float]]) -> list[list[float]]:
    """A closed GeoJSON ring (lon, lat) from map-frame planar points."""
    xs = np.array([p[0] for p in xy] + [xy[0][0]])
    ys = np.array([p[1] for p in xy] + [xy[0][1]])
    lat, lon = hm.xy_to_latlon(xs, ys)
    return [[float(a), float(b)] for a, b in zip(lon, lat, strict=True)]


def write_geojson(path: Path, geometries: list[dict]) -> Path:
    feats = [{"type": "Feature", "properties": {"date": "20240101"}, "geometry": g} for g in geometries]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats}))
    return path


def test_sample_points_inside_hex():
    off = fl.sample_offsets(2.0)
    assert off.shape == (19, 2)
    assert np.hypot(off[:, 0], off[:, 1]).max() < 2.0 / 2  # inside the inscribed circle
    assert np.allclose(off.mean(axis=0), 0.0)


def test_point_in_polygon_square_with_hole():
    outer = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    hole = np.array([[4, 4], [6, 4], [6, 6], [4, 6]], float)
    px = np.array([1.0, 5.0, 11.0, 9.9])
    py = np.array([1.0, 5.0, 5.0, 9.9])
    assert fl.points_in_polygon(px, py, [outer, hole]).tolist() == [True, False, False, True]


def test_half_plane_hand_worked(small, tmp_path):
    """West of a N-S line through the centre of hex (col 4, row 2): Russian; east: Ukrainian."""
    hm = small
    h = hm.hex_id(4, 2)
    x0 = float(hm.x_km[h]) + 1e-6  # just east of the centre: the 3 samples on x = centre count as inside
    big = 200.0
    ring = ring_lonlat(hm, [(-big, -big), (x0, -big), (x0, big), (-big, big)])
    path = write_geojson(tmp_path / "half.geojson", [{"type": "Polygon", "coordinates": [ring]}])
    c = fl.control_from_geojson(hm, path)
    # The centre hex: 8 samples west of the centre line + 3 on it = 11 of 19.
    assert c[h] == pytest.approx(11 / 19, abs=1e-6)
    dx = hm.x_km - hm.x_km[h]
    # Every hex whose centre lies on the line is cut the same way; the others (including the odd-row
    # hexes whose vertical hexsides run along the line) are whole: 1 west, 0 east.
    on_line = np.abs(dx) < 1e-9
    assert on_line.sum() >= 2
    assert np.allclose(c[on_line], 11 / 19)
    assert (c[dx < -1e-9] == 1.0).all()
    assert (c[dx > 1e-9] == 0.0).all()


def test_single_hex_polygon_and_multipolygon(small, tmp_path):
    hm = small
    a, b = hm.hex_id(2, 2), hm.hex_id(6, 3)
    r = hm.spec.hex_km * 0.45  # a square inside the hex that still covers all samples (max 0.4 spacing)

    def square(h, half):
        x, y = float(hm.x_km[h]), float(hm.y_km[h])
        return ring_lonlat(
            hm, [(x - half, y - half), (x + half, y - half), (x + half, y + half), (x - half, y + half)]
        )

    geom = {"type": "MultiPolygon", "coordinates": [[square(a, r)], [square(b, r), square(b, 0.05)]]}
    c = fl.control_from_geojson(hm, write_geojson(tmp_path / "m.geojson", [geom]))
    assert c[a] == 1.0
    # Hex b has a small hole around its centre: 1 of 19 samples is out -> contested, clipped to 0.8.
    assert c[b] == pytest.approx(fl.CONTESTED_MAX)
    others = np.ones(hm.n, bool)
    others[[a, b]] = False
    assert (c[others] == 0.0).all()


def test_control_from_fraction_bands():
    out = fl.control_from_fraction(np.array([0.0, 0.05, 0.5, 0.95, 1.0]))
    assert out.dtype == np.float32
    assert out.tolist() == pytest.approx([0.0, 0.2, 0.5, 0.8, 1.0])


def test_csv_round_trip_and_mismatch(small, tmp_path):
    rng = np.random.default_rng(1)
    control = fl.control_from_fraction(rng.random(small.n))
    path = tmp_path / "c.csv"
    fl.write_control_csv(path, small, control, source="test.geojson", date="2024-01-01")
    text = path.read_text()
    assert (
        text.startswith("#") and "test.geojson" in text and "2024-01-01" in text and "frontline-test" in text
    )
    back = fl.read_control_csv(path, small)
    assert np.allclose(back, control, atol=5e-4)
    other = blank_map(MapSpec("other", 37.0, 48.0, 37.2, 48.1, 1.0))
    with pytest.raises(ValueError, match="made for map"):
        fl.read_control_csv(path, other)
    lines = text.splitlines()
    (tmp_path / "short.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(ValueError, match="no control_ru row"):
        fl.read_control_csv(tmp_path / "short.csv", small)
    header = [x for x in lines if x.startswith("#")]
    body = [x for x in lines if not x.startswith("#")]
    col, row, _ = body[-1].split(",")
    for name, bad, message in (("off.csv", f"{small.width + 3},{row},0.5", "is outside map"),
                               ("range.csv", f"{col},{row},1.5", "control_ru 1.5 at"),
                               ("columns.csv", None, "expected columns col,row,control_ru")):
        rows = [body[0].replace("control_ru", "ctrl")] + body[1:] if bad is None else [*body[:-1], bad]
        (tmp_path / name).write_text("\n".join(header + rows) + "\n")
        with pytest.raises(ValueError, match=message):
            fl.read_control_csv(tmp_path / name, small)


# ------------------------------------------------------------------ the real snapshot, read in place


@pytest.fixture(scope="module")
def op():
    return build_map(OPERATIONAL)


@pytest.mark.skipif(not SNAPSHOT_2024.exists(), reason="shared front-line snapshot not available")
def test_real_snapshot_2024(op):
    c = fl.control_from_geojson(op, SNAPSHOT_2024)
    assert c[op.place_hex("Avdiivka")] == 1.0
    assert c[op.place_hex("Donetsk")] == 1.0
    assert c[op.place_hex("Pokrovsk")] == 0.0
    assert c[op.place_hex("Kramatorsk")] == 0.0
    contested = (c > 0) & (c < 1)
    assert contested.sum() > 20  # a front line crosses the map
    assert ((c[contested] >= 0.2) & (c[contested] <= 0.8)).all()
    assert fl.geojson_date(SNAPSHOT_2024) == "2024-07-08"


@pytest.mark.skipif(not SNAPSHOT_2024.exists(), reason="shared front-line snapshot not available")
def test_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("WARGAME_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "control.csv"
    assert fl.main(["--map", "tactical", "--geojson", str(SNAPSHOT_2024), "--out", str(out)]) == 0
    hm = build_map(TACTICAL)
    c = fl.read_control_csv(out, hm)
    assert c.shape == (hm.n,)
    assert c[hm.place_hex("Pokrovsk")] == 0.0  # the front was ~25 km east in July 2024
