"""The observed targets: DeepState's Russian-occupied area in the calibration box, and town-centre fall dates.

They are read at run time from ``../shared/calibration`` next to the project root (never copied into the
package), so the held-back later history cannot leak in by accident and the data have one home.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = PROJECT_ROOT.parent / "shared" / "calibration"
AREA_FILE = "occupied_area_train.csv"
TOWNS_FILE = "towns_first_occupied_train.csv"
# The box the area series was measured in (lon_min, lat_min, lon_max, lat_max), as the data's README says.
BOX = (36.5, 47.75, 38.1, 48.95)


class TargetsMissing(FileNotFoundError):
    """The calibration data are not where they should be; the message is one line for the user."""


@dataclass(frozen=True)
class Town:
    """A town centre and when it first fell: a date, already before the window, or not yet by its end."""

    name: str
    lat: float
    lon: float
    status: str  # "date" | "before" (on or before the start) | "not_by" (still held at the end)
    date: dt.date | None  # the fall date for "date", the start or end date of the window otherwise


@dataclass(frozen=True)
class CalibrationTargets:
    """The daily area series and the towns, with the window they cover."""

    dates: list[dt.date]
    area_km2: np.ndarray
    towns: list[Town]
    box: tuple[float, float, float, float] = BOX

    @property
    def start(self) -> dt.date:
        return self.dates[0]

    @property
    def end(self) -> dt.date:
        return self.dates[-1]

    def area_on(self, day: dt.date) -> float | None:
        """The observed area on ``day`` (the last observation on or before it), None outside the window."""
        if day < self.start or day > self.end:
            return None
        i = int(np.searchsorted(np.array(self.dates, dtype="datetime64[D]"), np.datetime64(day), side="right")) - 1
        return float(self.area_km2[i])

    def weekly(self, start: dt.date, step_days: int = 7) -> tuple[list[dt.date], np.ndarray]:
        """The series sampled on the game's turn dates (start + k * step) that fall inside the window."""
        days, values = [], []
        day = start
        while day <= self.end:
            v = self.area_on(day)
            if v is not None:
                days.append(day)
                values.append(v)
            day += dt.timedelta(days=step_days)
        return days, np.array(values)


def _date(text: str) -> dt.date:
    return dt.datetime.strptime(text.strip(), "%Y%m%d").date()


def data_dir() -> Path:
    """Where the targets live: $WARGAME_CALIBRATION_DIR if set, else ../shared/calibration beside the project."""
    return Path(os.environ.get("WARGAME_CALIBRATION_DIR", DEFAULT_DIR))


def load_targets(folder: Path | str | None = None) -> CalibrationTargets:
    """Read both files; raise TargetsMissing (one line) if a file is absent or unreadable."""
    folder = Path(folder) if folder is not None else data_dir()
    area_path, towns_path = folder / AREA_FILE, folder / TOWNS_FILE
    for path in (area_path, towns_path):
        if not path.is_file():
            raise TargetsMissing(f"calibration data missing: {path} not found (expected ../shared/calibration "
                                 f"next to the project, or set WARGAME_CALIBRATION_DIR)")
    try:
        with open(area_path, newline="") as fh:
            rows = [(_date(r["date"]), float(r["occupied_km2_in_box"])) for r in csv.DictReader(fh)]
        rows.sort()
        dates = [d for d, _ in rows]
        area = np.array([a for _, a in rows])
        with open(towns_path, newline="") as fh:
            towns = [_town(r, dates[0], dates[-1]) for r in csv.DictReader(fh)]
    except (KeyError, ValueError) as exc:
        raise TargetsMissing(f"calibration data unreadable in {folder}: {exc!r}") from None
    if not dates:
        raise TargetsMissing(f"calibration data empty: {area_path}")
    return CalibrationTargets(dates, area, towns)


def _town(row: dict[str, str], start: dt.date, end: dt.date) -> Town:
    text = row["first_occupied"].strip()
    lat, lon = float(row["lat"]), float(row["lon"])
    if text.startswith("on or before"):
        return Town(row["town"], lat, lon, "before", _date(text.split()[-1]))
    if text.startswith("not by"):
        return Town(row["town"], lat, lon, "not_by", _date(text.split()[-1]))
    return Town(row["town"], lat, lon, "date", _date(text))
