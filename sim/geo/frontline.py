"""Per-hex control derived from a GeoJSON of the Russian-occupied area (e.g. a DeepStateMap snapshot).

``control_ru`` is the share of a hex under Russian control: 1.0 fully occupied, 0.0 fully Ukrainian,
and 0.2-0.8 on the line ("contested"). It is estimated by point-in-polygon tests of 19 points
spread evenly over each hex, with a pure-numpy even-odd ray test (no shapely dependency).

Command line: ``python -m sim.geo.frontline --map operational --geojson FILE --out FILE.csv``.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np

from sim import hexgrid as hg
from sim.geo.hexmap import HexMap, MapSpec, load_map

# Hexes that are partly occupied are clipped into this band, so a hex on the line is always
# "contested" for the rules, never nearly-owned by one side because of sampling noise.
CONTESTED_MIN = 0.2
CONTESTED_MAX = 0.8
# Sample points: the 19 centres of a radius-2 sub-hex patch at 1/5 of the hex spacing. They lie at
# most 0.4 spacing from the centre, inside the hex's inscribed circle (0.5 spacing).
SAMPLE_SUBDIVISION = 5
SAMPLE_RADIUS = 2


def sample_offsets(spacing_km: float) -> np.ndarray:
    """(19, 2) planar offsets of the sample points of a hex, relative to its centre."""
    sub = hg.hex_range((0, 0), SAMPLE_RADIUS)
    q = np.array([h[0] for h in sub])
    r = np.array([h[1] for h in sub])
    x, y = hg.axial_to_xy(q, r, spacing_km / SAMPLE_SUBDIVISION)
    return np.column_stack([x, y])


def load_polygons(path: str | Path) -> list[list[np.ndarray]]:
    """Polygons of a GeoJSON file as lists of (m, 2) lon/lat rings (exterior first, then holes)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    geoms = []
    if data.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in data.get("features", [])]
    elif data.get("type") == "Feature":
        geoms = [data.get("geometry")]
    else:
        geoms = [data]
    polys: list[list[np.ndarray]] = []
    for g in geoms:
        if not g:
            continue
        if g["type"] == "Polygon":
            polys.append([np.asarray(ring, float)[:, :2] for ring in g["coordinates"]])
        elif g["type"] == "MultiPolygon":
            for poly in g["coordinates"]:
                polys.append([np.asarray(ring, float)[:, :2] for ring in poly])
        else:
            raise ValueError(f"{path}: unsupported geometry type {g['type']!r} (need Polygon/MultiPolygon)")
    return polys


def points_in_polygon(px: np.ndarray, py: np.ndarray, rings: list[np.ndarray]) -> np.ndarray:
    """Even-odd test of points against one polygon given as rings of (x, y) vertices (holes count)."""
    inside = np.zeros(px.shape, bool)
    for ring in rings:
        x0, y0 = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        # Skip edges whose y-range misses every point, then loop edges (vectorised over points).
        ylo, yhi = py.min(), py.max()
        keep = ~((np.maximum(y0, y1) < ylo) | (np.minimum(y0, y1) > yhi))
        for ax, ay, bx, by in zip(x0[keep], y0[keep], x1[keep], y1[keep], strict=True):
            if ay == by:
                continue
            crosses = (ay > py) != (by > py)
            xint = ax + (py - ay) * (bx - ax) / (by - ay)
            inside ^= crosses & (px < xint)
    return inside


def occupied_fraction(hexmap: HexMap, polygons: list[list[np.ndarray]]) -> np.ndarray:
    """Share of each hex's sample points inside any of the polygons (lon/lat rings)."""
    off = sample_offsets(hexmap.spec.hex_km)
    sx = (hexmap.x_km[:, None] + off[None, :, 0]).ravel()
    sy = (hexmap.y_km[:, None] + off[None, :, 1]).ravel()
    inside = np.zeros(sx.shape, bool)
    for rings in polygons:
        planar = []
        for ring in rings:
            x, y = hexmap.latlon_to_xy(ring[:, 1], ring[:, 0])
            planar.append(np.column_stack([x, y]))
        ext = planar[0]
        box = (
            (sx >= ext[:, 0].min())
            & (sx <= ext[:, 0].max())
            & (sy >= ext[:, 1].min())
            & (sy <= ext[:, 1].max())
        )
        idx = np.nonzero(box & ~inside)[0]
        if len(idx):
            inside[idx] |= points_in_polygon(sx[idx], sy[idx], planar)
    return inside.reshape(hexmap.n, len(off)).mean(axis=1)


def control_from_fraction(frac: np.ndarray) -> np.ndarray:
    """Map occupied shares to control_ru: exact 0/1 off the line, clipped into 0.2-0.8 on it."""
    frac = np.asarray(frac, float)
    out = np.clip(frac, CONTESTED_MIN, CONTESTED_MAX)
    out[frac <= 0.0] = 0.0
    out[frac >= 1.0] = 1.0
    return out.astype(np.float32)


def control_from_geojson(hexmap: HexMap, path: str | Path) -> np.ndarray:
    """control_ru (n,) float32 for every hex from an occupied-area GeoJSON."""
    return control_from_fraction(occupied_fraction(hexmap, load_polygons(path)))


def geojson_date(path: str | Path) -> str:
    """The snapshot date: a "date" property in the file, else YYYYMMDD in the file name, else "unknown"."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        for f in data.get("features", []):
            d = (f.get("properties") or {}).get("date")
            if d:
                return _iso(str(d))
    except (OSError, ValueError, AttributeError):
        pass
    m = re.search(r"(\d{8})", Path(path).name)
    return _iso(m.group(1)) if m else "unknown"


def _iso(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if re.fullmatch(r"\d{8}", d) else d


def _spec_json(spec: MapSpec) -> str:
    return json.dumps(asdict(spec), sort_keys=True)


def write_control_csv(path: str | Path, hexmap: HexMap, control: np.ndarray, source: str, date: str) -> None:
    """Write ``col,row,control_ru`` for every hex, with a header naming the source, date and map."""
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        fh.write("# control_ru per hex (1 = Russian-held, 0 = Ukrainian-held, 0.2-0.8 contested)\n")
        fh.write(f"# source: {source}\n")
        fh.write(f"# date: {date}\n")
        fh.write(f"# map: {_spec_json(hexmap.spec)}\n")
        fh.write(f"# grid: {hexmap.width}x{hexmap.height}\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["col", "row", "control_ru"])
        for hid in range(hexmap.n):
            col, row = hexmap.coords(hid)
            w.writerow([col, row, f"{float(control[hid]):.3f}"])


def read_control_csv(path: str | Path, hexmap: HexMap) -> np.ndarray:
    """Read a control CSV written for ``hexmap``; raise ValueError if it was made for another map."""
    path = Path(path)
    header: dict[str, str] = {}
    rows: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            key, _, value = line[1:].partition(":")
            header[key.strip()] = value.strip()
        elif line.strip():
            rows.append(line)
    if "map" in header:
        file_spec = json.loads(header["map"])
        if file_spec != asdict(hexmap.spec):
            raise ValueError(
                f"{path} was made for map {file_spec.get('name')!r} {file_spec}, "
                f"not for map {hexmap.spec.name!r} {asdict(hexmap.spec)}; regenerate it with "
                f"python -m sim.geo.frontline --map {hexmap.spec.name} --geojson SOURCE --out {path}"
            )
    grid = f"{hexmap.width}x{hexmap.height}"
    if "grid" in header and header["grid"] != grid:
        raise ValueError(f"{path} is for a {header['grid']} grid, but map {hexmap.spec.name!r} is {grid}")
    reader = csv.reader(rows)
    names = next(reader, None)
    if names is None or not {"col", "row", "control_ru"} <= set(names):
        raise ValueError(f"{path}: expected columns col,row,control_ru, got {names}")
    records = list(reader)  # whole columns at once: every scenario start and every batch run reads one
    at = {name: names.index(name) for name in ("col", "row", "control_ru")}
    cols = np.array([int(r[at["col"]]) for r in records], dtype=np.int64)
    rows_ = np.array([int(r[at["row"]]) for r in records], dtype=np.int64)
    values = np.array([float(r[at["control_ru"]]) for r in records], dtype=float)
    hids = hexmap.hex_id(cols, rows_)
    if (hids < 0).any():
        i = int(np.argmax(hids < 0))
        raise ValueError(f"{path}: hex ({cols[i]}, {rows_[i]}) is outside map {hexmap.spec.name!r} ({grid})")
    bad = ~((values >= 0.0) & (values <= 1.0))
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{path}: control_ru {values[i]} at ({cols[i]}, {rows_[i]}) is outside 0..1")
    out = np.full(hexmap.n, np.nan, np.float32)
    out[hids] = values
    missing = int(np.isnan(out).sum())
    if missing:
        raise ValueError(f"{path}: {missing} hexes of map {hexmap.spec.name!r} have no control_ru row")
    return out


def main(argv: list[str] | None = None) -> int:
    """CLI: derive a control CSV for a named map from an occupied-area GeoJSON."""
    ap = argparse.ArgumentParser(prog="python -m sim.geo.frontline", description=__doc__.split("\n")[0])
    ap.add_argument("--map", default="operational", help="map name (operational, tactical)")
    ap.add_argument("--geojson", required=True, type=Path, help="occupied-area GeoJSON")
    ap.add_argument("--out", required=True, type=Path, help="output CSV")
    args = ap.parse_args(argv)
    hexmap = load_map(args.map)
    control = control_from_geojson(hexmap, args.geojson)
    write_control_csv(args.out, hexmap, control, source=args.geojson.name, date=geojson_date(args.geojson))
    held = int((control >= 1.0).sum())
    contested = int(((control > 0.0) & (control < 1.0)).sum())
    print(f"{args.out}: {hexmap.n} hexes, {held} Russian-held, {contested} contested", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
