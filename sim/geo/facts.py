"""Load the geographic facts (settlements, roads, railways, rivers, oblast borders) from ``assets/geo/``.

The CSVs hold facts only: names, coordinates (WGS84 degrees), populations and ordered waypoints.
``extract_assets`` regenerates them from the project's research facts sheet (a column subset), so
the map builder never depends on files outside the package. See ``assets/geo/SOURCES.md``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ASSETS_DIR = Path(__file__).resolve().parents[2] / "assets" / "geo"

# Road classes as used in HexMap.road (0 = no road on that hexside).
ROAD_REGIONAL = 1
ROAD_NATIONAL = 2  # H-xx national roads
ROAD_INTERNATIONAL = 3  # M-xx highways, which are also E-roads

RIVER_MINOR = 1
RIVER_MAJOR = 2  # the Siverskyi Donets (navigable, 100+ m wide) and reservoir shores

# Rivers treated as major obstacles.
MAJOR_RIVER_IDS = frozenset({"RV-Donets"})

SETTLEMENT_KINDS = ("city", "town", "village", "site")


@dataclass(frozen=True)
class Settlement:
    """One named place: a city, town, village, or a site such as a mine."""

    name: str
    lat: float
    lon: float
    population: int | None  # pre-war (2022 or GeoNames) figure; None when unknown, never 0
    kind: str  # "city" | "town" | "village" | "site"
    oblast: str


@dataclass(frozen=True)
class Polyline:
    """An ordered line (road, railway, river, border) as parallel lat/lon arrays."""

    id: str
    cls: int  # road class 1-3, river class 1-2, railway/border 1
    name: str  # road ref, river name, or "Donetsk|Dnipropetrovsk" for borders
    lat: np.ndarray
    lon: np.ndarray


@dataclass(frozen=True)
class Reservoir:
    """A reservoir known only as a single approximate point (no extent)."""

    id: str
    name: str
    lat: float
    lon: float


def road_class(ref: str) -> int:
    """Road class from its designation: M-/E- roads 3, H- roads 2, anything else 1."""
    ref = ref.strip().upper()
    if ref.startswith(("M-", "E")):
        return ROAD_INTERNATIONAL
    if ref.startswith("H-"):
        return ROAD_NATIONAL
    return ROAD_REGIONAL


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _group_lines(rows: list[dict[str, str]], id_col: str) -> dict[str, list[dict[str, str]]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        groups.setdefault(row[id_col], []).append(row)
    for pts in groups.values():
        pts.sort(key=lambda r: int(r["seq"]))
    return groups


def _latlon(pts: list[dict[str, str]]) -> tuple[np.ndarray, np.ndarray]:
    return (np.array([float(p["lat"]) for p in pts]), np.array([float(p["lon"]) for p in pts]))


def load_settlements(assets: Path = ASSETS_DIR) -> list[Settlement]:
    """All settlements and sites, in file order (largest first)."""
    out = []
    for row in _read(assets / "settlements.csv"):
        pop = row["population"].strip()
        out.append(
            Settlement(
                name=row["name"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                population=int(pop) if pop else None,
                kind=row["kind"],
                oblast=row["oblast"],
            )
        )
    return out


def load_roads(assets: Path = ASSETS_DIR) -> list[Polyline]:
    """Road polylines with their class (1-3) and short ref."""
    out = []
    for rid, pts in _group_lines(_read(assets / "roads.csv"), "road_id").items():
        lat, lon = _latlon(pts)
        out.append(Polyline(rid, int(pts[0]["class"]), pts[0]["ref"], lat, lon))
    return out


def load_railways(assets: Path = ASSETS_DIR) -> list[Polyline]:
    """Railway polylines (class 1)."""
    out = []
    for lid, pts in _group_lines(_read(assets / "railways.csv"), "line_id").items():
        lat, lon = _latlon(pts)
        out.append(Polyline(lid, 1, lid, lat, lon))
    return out


def load_rivers(assets: Path = ASSETS_DIR) -> tuple[list[Polyline], list[Reservoir]]:
    """River polylines (ordered downstream, class 1 or 2) and reservoir points."""
    rows = _read(assets / "rivers.csv")
    rivers = []
    reservoirs = []
    for rid, pts in _group_lines(rows, "river_id").items():
        if pts[0]["feature"] == "reservoir_point":
            reservoirs.append(Reservoir(rid, pts[0]["name"], float(pts[0]["lat"]), float(pts[0]["lon"])))
            continue
        lat, lon = _latlon(pts)
        rivers.append(Polyline(rid, int(pts[0]["class"]), pts[0]["name"], lat, lon))
    return rivers, reservoirs


def load_borders(assets: Path = ASSETS_DIR) -> list[Polyline]:
    """Oblast-border polylines; ``name`` is "oblast_a|oblast_b"."""
    out = []
    for bid, pts in _group_lines(_read(assets / "borders.csv"), "border_id").items():
        lat, lon = _latlon(pts)
        out.append(Polyline(bid, 1, f"{pts[0]['oblast_a']}|{pts[0]['oblast_b']}", lat, lon))
    return out


def assets_digest(assets: Path = ASSETS_DIR) -> str:
    """SHA-256 over the names and contents of the asset CSVs: part of the map cache key."""
    h = hashlib.sha256()
    for path in sorted(assets.glob("*.csv")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------------------------- extraction


def _short_ref(ref: str) -> str:
    """'M-30 / E50 (ex M-04 ...)' -> 'M-30/E50'; 'regional (designation unverified)' -> 'regional'."""
    head = ref.split("(")[0].strip()
    return head.replace(" / ", "/") or "regional"


def _write(path: Path, header: list[str], rows: Iterable[list[object]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def extract_assets(src: Path, dst: Path = ASSETS_DIR) -> None:
    """Write the column subset of the research facts sheet in ``src`` that the map builder needs."""
    dst.mkdir(parents=True, exist_ok=True)
    s_rows = _read(src / "settlements.csv")
    _write(
        dst / "settlements.csv",
        ["name", "lat", "lon", "population", "kind", "oblast"],
        ([r["name_en"], r["lat"], r["lon"], r["prewar_population"], r["kind"], r["oblast"]] for r in s_rows),
    )
    r_rows = _read(src / "roads.csv")
    _write(
        dst / "roads.csv",
        ["road_id", "ref", "class", "seq", "lat", "lon"],
        (
            [
                r["road_id"],
                _short_ref(r["ref"]),
                road_class(_short_ref(r["ref"])),
                r["seq"],
                r["lat"],
                r["lon"],
            ]
            for r in r_rows
        ),
    )
    _write(
        dst / "railways.csv",
        ["line_id", "seq", "lat", "lon"],
        ([r["line_id"], r["seq"], r["lat"], r["lon"]] for r in _read(src / "railways.csv")),
    )
    _write(
        dst / "rivers.csv",
        ["river_id", "name", "feature", "class", "seq", "lat", "lon"],
        (
            [
                r["river_id"],
                r["name_en"],
                r["feature"],
                RIVER_MAJOR if r["river_id"] in MAJOR_RIVER_IDS else RIVER_MINOR,
                r["seq"],
                r["lat"],
                r["lon"],
            ]
            for r in _read(src / "rivers.csv")
        ),
    )
    _write(
        dst / "borders.csv",
        ["border_id", "oblast_a", "oblast_b", "seq", "lat", "lon"],
        (
            [r["border_id"], r["oblast_a"], r["oblast_b"], r["seq"], r["lat"], r["lon"]]
            for r in _read(src / "borders.csv")
        ),
    )
