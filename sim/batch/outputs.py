"""Tables: the batch outputs an analyst opens, assembled in run order from the finished runs' files.

One row per obvious unit: `runs` (a run), `timeseries` (a run and turn), `hexes` (a hex), `control` (a run, date
and hex whose control is not 0). CSV by default (control as gzip text); Parquet with ``--format parquet``. Each table is
written to a temporary name and renamed when complete, and the gzip header carries no time or file name, so the
same runs always give the same bytes, whether a batch ran in one go or was resumed.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.batch.design import BatchError

FORMATS = ("csv", "parquet")
CONTROL_SCALE = 1000  # control is stored and written in thousandths (3 decimals)
_CONTROL_LINE_ENDS = [f"{k / CONTROL_SCALE!r}\n" for k in range(CONTROL_SCALE + 1)]  # "0.25\n" for 250
PARQUET_HINT = "install the parquet extra: pip install -e .[parquet]"
INT_COLUMNS = {"seed_index", "end_turn"}  # integers even when empty (a single `wargame run` has no seed index)


def require_format(fmt: str) -> None:
    """Refuse an unknown format, or Parquet without pyarrow, before any run starts."""
    if fmt not in FORMATS:
        raise BatchError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
            import pyarrow.parquet  # noqa: F401
        except ImportError:
            raise BatchError(f"--format parquet needs pyarrow: {PARQUET_HINT}") from None


def _csv_cell(value: Any) -> Any:
    return "" if value is None or isinstance(value, float) and value != value else value


class _CsvTable:
    """Rows to a CSV file (gzip text if asked), header from the first row's keys."""

    def __init__(self, path: Path, gz: bool = False):
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.raw = open(self.tmp, "wb")  # noqa: SIM115 - closed in close()
        # level 1: the parent compresses every run's control rows as they finish, ~3.5x faster than level 6 for a
        # file about a fifth larger
        stream = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0, compresslevel=1) if gz else self.raw
        self.fh = io.TextIOWrapper(stream, encoding="utf-8", newline="")
        self.writer = csv.writer(self.fh, lineterminator="\n")
        self.columns: list[str] | None = None
        self.hex_texts: list[str] = []

    def header(self, columns: list[str]) -> None:
        if self.columns is None:
            self.columns = columns
            self.writer.writerow(columns)

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.header(list(rows[0]))
        assert self.columns is not None
        self.writer.writerows([_csv_cell(r[c]) for c in self.columns] for r in rows)

    def write_control(self, run: int, date: str, hexes: np.ndarray, values: np.ndarray) -> None:
        self.header(["run", "date", "hex_id", "control_ru"])
        if not len(hexes):
            return
        # the rows of one date share their start; joining the rest from texts made once is twice as fast as
        # formatting each row (a batch writes about 50,000 rows a run, in the parent, while the workers play)
        prefix = f"{run},{date},"
        starts = self.hex_texts
        starts.extend(f"{h}," for h in range(len(starts), int(hexes.max()) + 1))  # "h," for each hex id, made once
        rows = [starts[h] + _CONTROL_LINE_ENDS[v] for h, v in zip(hexes.tolist(), values.tolist(), strict=True)]
        self.fh.write(prefix + prefix.join(rows))

    def close(self, commit: bool = True) -> Path:
        self.fh.close()
        self.raw.close()
        _finish(self.tmp, self.path, commit)
        return self.path


def _arrow_type(name: str, values: Any):
    import pyarrow as pa

    if name in INT_COLUMNS:
        return pa.int64()
    if isinstance(values, np.ndarray):
        return pa.from_numpy_dtype(values.dtype)
    present = [v for v in values if v is not None]
    if any(isinstance(v, float) for v in present):
        return pa.float64()
    if any(isinstance(v, bool) for v in present):
        return pa.bool_()
    if any(isinstance(v, int) for v in present):
        return pa.int64()
    return pa.string()


class _ParquetTable:
    """Rows to a Parquet file (zstd), one row group per write; column types from the first write."""

    def __init__(self, path: Path):
        self.path = path
        self.tmp = path.with_name(path.name + ".tmp")
        self.writer = None
        self.schema = None

    def write(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.write_columns({c: [r[c] for r in rows] for c in rows[0]})

    def write_columns(self, columns: dict[str, Any]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        if self.schema is None:
            self.schema = pa.schema([(name, _arrow_type(name, values)) for name, values in columns.items()])
            self.writer = pq.ParquetWriter(self.tmp, self.schema, compression="zstd")
        arrays = [pa.array(columns[f.name], type=f.type, from_pandas=True) for f in self.schema]
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))

    def write_control(self, run: int, date: str, hexes: np.ndarray, values: np.ndarray) -> None:
        n = len(hexes)
        self.write_columns({"run": np.full(n, run, dtype=np.int32), "date": [date] * n,
                            "hex_id": hexes.astype(np.int32), "control_ru": values / CONTROL_SCALE})

    def close(self, commit: bool = True) -> Path:
        if self.writer is not None:
            self.writer.close()
        _finish(self.tmp, self.path, commit and self.writer is not None)
        return self.path


def _finish(tmp: Path, path: Path, commit: bool) -> None:
    """Rename a complete table into place, or drop an incomplete one."""
    if commit:
        os.replace(tmp, path)
    else:
        tmp.unlink(missing_ok=True)


def _table(out: Path, name: str, fmt: str, gz: bool = False) -> _CsvTable | _ParquetTable:
    if fmt == "parquet":
        return _ParquetTable(out / f"{name}.parquet")
    return _CsvTable(out / (f"{name}.csv.gz" if gz else f"{name}.csv"), gz=gz)


def hex_rows(model) -> list[dict[str, Any]]:
    """One row per hex of the model's map: id, offset coordinates, centre, area, terrain and place name."""
    from sim.geo.terrain import Terrain

    m = model.map
    return [{"hex_id": h, "col": int(m.col[h]), "row": int(m.row[h]), "lat": round(float(m.lat[h]), 5),
             "lon": round(float(m.lon[h]), 5), "area_km2": round(m.area_km2, 4),
             "terrain": Terrain(int(m.terrain[h])).name.lower(), "place": model.hex_names.get(h)}
            for h in range(m.n)]


def run_row(record: dict[str, Any], parameter_names: list[str]) -> dict[str, Any]:
    """The runs-table row of one run: its parameters, outcome, points, final area, losses, capture dates."""
    from sim.model import LOSS_CAUSES
    from sim.units import SIDES

    o = record["outcome"] or {}
    last = record["metrics"][-1]
    row: dict[str, Any] = {"run": record["run"], "point": record["point"], "seed_index": record["seed_index"]}
    row.update({name: record["parameters"].get(name) for name in parameter_names})
    row.update({"result": o.get("result"), "winner": o.get("winner"), "level": o.get("level"),
                "reason": o.get("reason"), "end_turn": o.get("turn"), "end_date": o.get("date"),
                "ru_points": o.get("ru_points"), "ua_points": o.get("ua_points"),
                "ru_cost_per_km2": o.get("ru_cost_per_km2"),
                "ru_km2_end": last["ru_km2"], "ua_km2_end": last["ua_km2"],
                "contested_km2_end": last["contested_km2"]})
    for side in SIDES:
        for cause in LOSS_CAUSES:
            row[f"{side}_loss_{cause}"] = last[f"{side}_loss_{cause}"]
        row[f"{side}_losses"] = last[f"{side}_losses"]
    for name, date in record["first_change"].items():
        row[f"first_change:{name}"] = date
    return row


def snapshot_turns(n_rows: int, every: int) -> list[int]:
    """Indices of the metric rows whose control is written: every ``every`` turns, always the first and last."""
    last = n_rows - 1
    return [t for t in range(n_rows) if t % every == 0 or t == last]


def control_snapshots(record: dict[str, Any], every: int, n_hexes: int):
    """(date, hex ids, control in thousandths) at each snapshot turn, for the hexes whose control is not 0."""
    current = np.zeros(n_hexes, dtype=np.int32)
    wanted = set(snapshot_turns(len(record["metrics"]), every))
    for t, (delta, row) in enumerate(zip(record["control"], record["metrics"], strict=True)):
        current[np.asarray(delta[0], dtype=np.int64)] = np.asarray(delta[1], dtype=np.int32)
        if t in wanted:
            hexes = np.flatnonzero(current)
            yield row["date"], hexes, current[hexes]


@dataclass
class BatchData:
    """What the summary and plots need from every run, gathered while the tables are written."""

    scenario_id: str = ""
    runs: list[int] = field(default_factory=list)
    points: list[int] = field(default_factory=list)
    results: list[str] = field(default_factory=list)
    dates: list[list[str]] = field(default_factory=list)
    ru_km2: list[list[float]] = field(default_factory=list)
    ua_km2: list[list[float]] = field(default_factory=list)
    first_change: list[dict[str, str | None]] = field(default_factory=list)
    losses: list[dict[str, float]] = field(default_factory=list)
    end_ru_km2: list[float] = field(default_factory=list)

    def add(self, record: dict[str, Any], row: dict[str, Any]) -> None:
        metrics = record["metrics"]
        self.runs.append(record["run"])
        self.points.append(record["point"])
        self.results.append(str(row["result"]))
        self.dates.append([m["date"] for m in metrics])
        self.ru_km2.append([m["ru_km2"] for m in metrics])
        self.ua_km2.append([m["ua_km2"] for m in metrics])
        self.first_change.append(dict(record["first_change"]))
        self.losses.append({k: v for k, v in row.items() if "_loss_" in k})
        self.end_ru_km2.append(row["ru_km2_end"])


class TableWriter:
    """The runs, timeseries and control tables, written one run at a time in run order; the hexes table and the
    renames into place come at ``close``, so an interrupted batch leaves no table behind.

    A batch adds each run as soon as it and every run before it are on disk, so the tables are written while the
    workers play rather than all at the end, when only the parent would be working.
    """

    def __init__(self, out: Path, *, parameter_names: list[str], hexes: list[dict[str, Any]], fmt: str = "csv",
                 snapshot_every: int = 1):
        require_format(fmt)
        self.out, self.fmt, self.hexes = out, fmt, hexes
        self.parameter_names, self.snapshot_every = parameter_names, snapshot_every
        self.data = BatchData()
        self.runs, self.series = _table(out, "runs", fmt), _table(out, "timeseries", fmt)
        self.control = _table(out, "control", fmt, gz=True)

    def add(self, record: dict[str, Any]) -> None:
        row = run_row(record, self.parameter_names)
        self.runs.write([row])
        self.series.write([{"run": record["run"], **m} for m in record["metrics"]])
        for date, hids, values in control_snapshots(record, self.snapshot_every, len(self.hexes)):
            self.control.write_control(record["run"], date, hids, values)
        self.data.add(record, row)

    def close(self, commit: bool = True) -> BatchData:
        if commit:
            hex_table = _table(self.out, "hexes", self.fmt)
            hex_table.write(self.hexes)
            hex_table.close()
        for table in (self.runs, self.series, self.control):
            table.close(commit=commit)
        return self.data


def write_tables(out: Path, records: Iterable[dict[str, Any]], *, parameter_names: list[str],
                 hexes: list[dict[str, Any]], fmt: str = "csv", snapshot_every: int = 1) -> BatchData:
    """Write runs, timeseries, hexes and control tables from ``records`` (in run order); return plot data."""
    writer = TableWriter(out, parameter_names=parameter_names, hexes=hexes, fmt=fmt, snapshot_every=snapshot_every)
    complete = False
    try:
        for record in records:
            writer.add(record)
        complete = True
    finally:
        data = writer.close(commit=complete)
    return data
