"""Regenerate the scenarios' start-control files from the DeepStateMap snapshots in ../shared/geo/frontlines.

Run from the project root:  .venv/bin/python tools/derive_starts.py  [--frontlines DIR]

Each scenario's start file is derived, never copied: `sim.geo.frontline` samples 19 points in every hex of the
scenario's named map against the occupied-area polygons and writes one control_ru value per hex. The GeoJSON files
themselves stay in ../shared; only the derived CSVs live in scenarios/start/.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim.geo import frontline  # noqa: E402

# scenario id -> (named map, snapshot file). Keep in step with `control = "start/<id>.csv"` in each scenario.
STARTS = {
    "pokrovsk-axis-2024": ("operational", "occupied_20240708.geojson"),
    "pokrovsk-2025": ("tactical", "occupied_20251101.geojson"),
    "fortress-belt-2026": ("operational", "occupied_20260822.geojson"),
    # The tutorial plays on the tactical map in the front of 1 Nov 2025, south-east of Pokrovsk.
    "tutorial": ("tactical", "occupied_20251101.geojson"),
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frontlines", type=Path, default=ROOT.parent / "shared" / "geo" / "frontlines",
                    help="folder holding occupied_YYYYMMDD.geojson (default: ../shared/geo/frontlines)")
    ap.add_argument("--out", type=Path, default=ROOT / "scenarios" / "start", help="output folder")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for sid, (map_name, snapshot) in STARTS.items():
        src = args.frontlines / snapshot
        if not src.exists():
            print(f"missing {src}", file=sys.stderr)
            return 1
        frontline.main(["--map", map_name, "--geojson", str(src), "--out", str(args.out / f"{sid}.csv")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
