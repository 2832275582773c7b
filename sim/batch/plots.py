"""Summary and plots of a batch: what the spread of outcomes looks like, for someone who did not run it.

`summary.json` holds the figures (outcome shares, final area, when objectives first changed hands, losses), per
batch and per parameter point. The plots use matplotlib's object API with the Agg canvas (no display, no global
state): a fan chart of the area each side holds, the chance each objective has changed hands by each date,
histograms of those dates, losses by side and cause, and outcomes per parameter point.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from sim.batch.design import BatchPlan
from sim.batch.outputs import BatchData

REAL_AREA_SCENARIO = "pokrovsk-axis-2024"
# ../shared/calibration beside the project: read in place when present, never copied into the project.
REAL_AREA_CSV = Path(__file__).resolve().parents[2].parent / "shared" / "calibration" / "occupied_area_train.csv"
SIDE_NAMES = {"ru": "Russia", "ua": "Ukraine"}
SIDE_COLOURS = {"ru": "#c0392b", "ua": "#2e86c1"}
RESULT_ORDER = ["ru_decisive", "ru_marginal", "draw", "ua_marginal", "ua_decisive"]
RESULT_COLOURS = {"ru_decisive": "#922b21", "ru_marginal": "#e6a19a", "draw": "#bdc3c7", "ua_marginal": "#a9cce3",
                  "ua_decisive": "#1b4f72"}


def _r(x: float) -> float:
    return round(float(x), 4)


def _quantiles(values: list[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=float)
    q = np.percentile(a, [5, 25, 50, 75, 95])
    return {"mean": _r(a.mean()), "p5": _r(q[0]), "p25": _r(q[1]), "median": _r(q[2]), "p75": _r(q[3]),
            "p95": _r(q[4])}


def _date_quantiles(dates: list[str]) -> dict[str, str]:
    ordinals = np.sort([dt.date.fromisoformat(d).toordinal() for d in dates])
    pick = {"p10": 0.1, "median": 0.5, "p90": 0.9}
    return {k: dt.date.fromordinal(int(np.quantile(ordinals, q, method="lower"))).isoformat() for k, q in pick.items()}


def _objectives(data: BatchData) -> list[str]:
    return list(data.first_change[0]) if data.first_change else []


def _outcomes(results: list[str]) -> dict[str, dict[str, float]]:
    counts = Counter(results)
    return {k: {"runs": v, "share": _r(v / len(results))} for k, v in sorted(counts.items())}


def summarise(data: BatchData, plan: BatchPlan) -> dict[str, Any]:
    """The batch in figures; dates of first change are quantiles over the runs where the objective changed."""
    n = len(data.runs)
    objectives = {}
    for name in _objectives(data):
        dates = [fc[name] for fc in data.first_change if fc.get(name)]
        objectives[name] = {"changed_hands_runs": len(dates), "changed_hands_share": _r(len(dates) / n),
                            "first_change": _date_quantiles(dates) if dates else None}
    losses: dict[str, dict[str, dict[str, float]]] = {}
    for key in data.losses[0] if data.losses else {}:
        side, _, cause = key.partition("_loss_")
        losses.setdefault(side, {})[cause] = _quantiles([row[key] for row in data.losses])
    winners = Counter(r.split("_")[0] for r in data.results)
    summary: dict[str, Any] = {
        "scenario": plan.scenario_id, "runs": n, "parameter_points": len(plan.points),
        "replicates_per_point": plan.replicates, "root_seed": plan.root_seed,
        "outcomes": _outcomes(data.results),
        "winner_share": {k: _r(winners.get(k, 0) / n) for k in ("ru", "ua", "draw")},
        "ru_km2_end": _quantiles(data.end_ru_km2),
        "objectives": objectives,
        "losses_end": losses,
        "notes": "areas in km2, losses in personnel (cumulative to the end of each run); percentiles over runs",
    }
    if len(plan.points) > 1:
        summary["by_point"] = []
        for p, params in enumerate(plan.points):
            idx = [i for i, q in enumerate(data.points) if q == p]
            summary["by_point"].append({
                "point": p, "parameters": params, "runs": len(idx),
                "outcomes": _outcomes([data.results[i] for i in idx]),
                "ru_km2_end": _quantiles([data.end_ru_km2[i] for i in idx]),
            })
    return summary


def write_summary(path: Path, data: BatchData, plan: BatchPlan) -> dict[str, Any]:
    summary = summarise(data, plan)
    path.write_text(json.dumps(summary, indent=1) + "\n")
    return summary


# ---------------------------------------------------------------------------------------------- plots
def _figure(width: float = 10, height: float = 6):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def _save(fig, path: Path) -> Path:
    fig.savefig(path, metadata={"Software": None})
    return path


def _grid(data: BatchData) -> list[dt.date]:
    longest = max(data.dates, key=len)
    return [dt.date.fromisoformat(d) for d in longest]


def _padded(series: list[list[float]], length: int) -> np.ndarray:
    """Runs × turns; a run that ended early keeps its last value (the front froze when the game ended)."""
    return np.array([s + [s[-1]] * (length - len(s)) for s in series], dtype=float)


def _point_label(params: dict[str, Any]) -> str:
    return ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in params.items()) or "base"


def real_area() -> tuple[list[dt.date], list[float]] | None:
    """The observed occupied area in the calibration box (../shared/calibration), if it is beside the project."""
    if not REAL_AREA_CSV.exists():
        return None
    dates, values = [], []
    with open(REAL_AREA_CSV, newline="") as fh:
        for row in csv.DictReader(fh):
            dates.append(dt.datetime.strptime(row["date"], "%Y%m%d").date())
            values.append(float(row["occupied_km2_in_box"]))
    return dates, values


def plot_area_fan(data: BatchData, plan: BatchPlan, path: Path) -> Path:
    dates = _grid(data)
    fig = _figure(11, 6)
    ax = fig.add_subplot()
    for side, series in (("ru", data.ru_km2), ("ua", data.ua_km2)):
        a = _padded(series, len(dates))
        p5, p25, p50, p75, p95 = np.percentile(a, [5, 25, 50, 75, 95], axis=0)
        colour, name = SIDE_COLOURS[side], SIDE_NAMES[side]
        ax.fill_between(dates, p5, p95, color=colour, alpha=0.15, linewidth=0, label=f"{name}: 90 % of runs")
        ax.fill_between(dates, p25, p75, color=colour, alpha=0.35, linewidth=0, label=f"{name}: 50 % of runs")
        ax.plot(dates, p50, color=colour, linewidth=2, label=f"{name}: median")
        if 1 < len(plan.points) <= 8:  # thin lines, one colour per point: solid Russia, dashed Ukraine
            for p, (params, point_colour) in enumerate(zip(plan.points, _colours(len(plan.points), "tab10"),
                                                            strict=True)):
                rows = [i for i, q in enumerate(data.points) if q == p]
                ax.plot(dates, np.median(a[rows], axis=0), color=point_colour, linewidth=1,
                        linestyle="-" if side == "ru" else "--",
                        label=f"median at {_point_label(params)} (solid Russia, dashed Ukraine)"
                        if side == "ru" else None)
    if plan.scenario_id == REAL_AREA_SCENARIO and (real := real_area()) is not None:
        ax.plot(real[0], real[1], color="black", linewidth=1.5, linestyle="--",
                label="observed Russian-occupied area (DeepStateMap, calibration box)")
    pooled = f", {len(plan.points)} parameter points pooled" if len(plan.points) > 1 else ""
    ax.set_title(f"{plan.scenario_id}: area each side holds outright, {len(data.runs)} runs{pooled}")
    ax.set_xlabel("date")
    ax.set_ylabel("area held (km²)")
    ax.grid(alpha=0.3)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    _date_axis(ax, dates)
    return _save(fig, path)


def _changed(data: BatchData) -> list[tuple[str, list[dt.date]]]:
    """Objectives that changed hands in at least one run, most often first, with their first-change dates."""
    out = []
    for name in _objectives(data):
        dates = [dt.date.fromisoformat(fc[name]) for fc in data.first_change if fc.get(name)]
        if dates:
            out.append((name, dates))
    return sorted(out, key=lambda item: -len(item[1]))


def plot_objectives(data: BatchData, plan: BatchPlan, path: Path) -> Path:
    dates = _grid(data)
    n = len(data.runs)
    fig = _figure()
    ax = fig.add_subplot()
    changed = _changed(data)
    colours = _colours(len(changed))
    for (name, when), colour in zip(changed, colours, strict=True):
        ordinals = np.array([d.toordinal() for d in when])
        share = [(ordinals <= d.toordinal()).sum() / n for d in dates]
        ax.step(dates, share, where="post", color=colour, label=name)
    never = [name for name in _objectives(data) if name not in dict(changed)]
    note = f"never changed hands: {', '.join(never)}" if never else "every objective changed hands in some run"
    ax.set_title(f"{plan.scenario_id}: chance that each objective has changed hands by each date ({n} runs)")
    ax.text(0.01, 0.98, note, transform=ax.transAxes, va="top", fontsize=8, wrap=True)
    ax.set_xlabel("date")
    ax.set_ylabel("share of runs in which it has first changed hands")
    ax.set_ylim(-0.02, 1.05)
    ax.grid(alpha=0.3)
    if changed:
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    _date_axis(ax, dates)
    return _save(fig, path)


def _colours(k: int, name: str = "tab20") -> list:
    from matplotlib import colormaps

    cmap = colormaps[name]
    return [cmap(i % cmap.N) for i in range(k)]


def _date_axis(ax, dates: list[dt.date]) -> None:
    """Whole-day ticks labelled by date, whether the game lasts four days or two years."""
    from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator

    span = (dates[-1] - dates[0]).days
    if span <= 40:
        ax.xaxis.set_major_locator(DayLocator(interval=max(1, span // 8)))
        ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
    else:
        ax.xaxis.set_major_locator(AutoDateLocator(minticks=4, maxticks=12))
        ax.xaxis.set_major_formatter(DateFormatter("%Y-%m" if span > 120 else "%Y-%m-%d"))
    ax.figure.autofmt_xdate()


def plot_capture_dates(data: BatchData, plan: BatchPlan, path: Path, most: int = 12) -> Path:
    from matplotlib.ticker import MaxNLocator

    changed = _changed(data)[:most]
    n = len(data.runs)
    cols = 3 if len(changed) > 4 else max(1, len(changed))
    rows = max(1, -(-len(changed) // cols))
    fig = _figure(4 * cols + 1, 2.6 * rows + 1)
    if not changed:
        ax = fig.add_subplot()
        ax.text(0.5, 0.5, f"No objective changed hands in any of the {n} runs", ha="center", va="center")
        ax.set_axis_off()
    grid = _grid(data)
    edges = [d.toordinal() for d in grid] + [grid[-1].toordinal() + 1]
    step = max(1, len(edges) // 30)
    bins = edges[::step] + ([edges[-1]] if (len(edges) - 1) % step else [])
    for k, (name, when) in enumerate(changed):
        ax = fig.add_subplot(rows, cols, k + 1)
        ax.hist([d.toordinal() for d in when], bins=bins, color="#7f8c8d")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(f"{name}: changed hands in {len(when)} of {n} runs", fontsize=9)
        ax.set_xlim(bins[0], bins[-1])
        ticks = np.linspace(bins[0], bins[-1], 4).astype(int)
        ax.set_xticks(ticks, [dt.date.fromordinal(int(t)).strftime("%Y-%m-%d") for t in ticks], fontsize=7)
        ax.set_ylabel("runs")
        ax.set_xlabel("date of first change of hands")
    fig.suptitle(f"{plan.scenario_id}: when objectives first changed hands"
                 + (f" (the {most} most often taken)" if len(_changed(data)) > most else ""))
    return _save(fig, path)


def plot_losses(data: BatchData, plan: BatchPlan, path: Path) -> Path:
    from sim.model import LOSS_CAUSES

    fig = _figure()
    ax = fig.add_subplot()
    x = np.arange(len(LOSS_CAUSES))
    width = 0.38
    for k, side in enumerate(("ru", "ua")):
        values = np.array([[row[f"{side}_loss_{c}"] for c in LOSS_CAUSES] for row in data.losses], dtype=float)
        p5, p50, p95 = np.percentile(values, [5, 50, 95], axis=0)
        ax.bar(x + (k - 0.5) * width, p50, width, color=SIDE_COLOURS[side], label=f"{SIDE_NAMES[side]}: median")
        ax.errorbar(x + (k - 0.5) * width, p50, yerr=[p50 - p5, p95 - p50], fmt="none", ecolor="black",
                    capsize=3, linewidth=1, label="5–95 % of runs" if k == 0 else None)
    ax.set_xticks(x, list(LOSS_CAUSES))
    ax.set_title(f"{plan.scenario_id}: losses by side and cause by the end of each run ({len(data.runs)} runs)")
    ax.set_xlabel("cause of loss")
    ax.set_ylabel("personnel lost (people)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend()
    return _save(fig, path)


def plot_outcomes(data: BatchData, plan: BatchPlan, path: Path) -> Path:
    results = sorted(set(data.results), key=lambda r: (RESULT_ORDER.index(r) if r in RESULT_ORDER else 99, r))
    points = list(range(len(plan.points)))
    fig = _figure(10, 1.5 + 0.45 * len(points))
    ax = fig.add_subplot()
    left = np.zeros(len(points))
    spare = iter(_colours(len(results)))
    colours = [RESULT_COLOURS.get(r) or next(spare) for r in results]
    for result, colour in zip(results, colours, strict=True):
        share = np.array([sum(1 for r, q in zip(data.results, data.points, strict=True) if q == p and r == result)
                          / max(1, data.points.count(p)) for p in points])
        ax.barh(points, share, left=left, color=colour, label=result)
        left += share
    ax.set_yticks(points, [_point_label(plan.points[p]) for p in points], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of runs")
    ax.set_ylabel("parameter point")
    ax.set_title(f"{plan.scenario_id}: outcomes ({plan.replicates} runs per parameter point)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, title="result")
    return _save(fig, path)


def write_plots(folder: Path, data: BatchData, plan: BatchPlan) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [plot_area_fan(data, plan, folder / "area_fan.png"),
            plot_objectives(data, plan, folder / "objectives_fallen.png"),
            plot_capture_dates(data, plan, folder / "capture_dates.png"),
            plot_losses(data, plan, folder / "losses.png"),
            plot_outcomes(data, plan, folder / "outcomes.png")]
