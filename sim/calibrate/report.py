"""The calibration report: `docs/calibration.md` and its figures, written from a calibration run's results.

The text is generated from the numbers, so a new run cannot leave stale claims behind; the judgements (is the bar
met, what the model misses) are computed from the final batch, and the structural explanations are stated next to
the evidence that supports them.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibrate.fit import (
    BAR_COVERAGE,
    BAR_WEEKS,
    DEFAULTS_POINT,
    GREY_WEIGHT,
    HELD,
    KEY_TOWNS,
    PLACE_MATCH_KM,
    SCENARIO,
    WEEKS_PER_MONTH,
    Calibration,
    PointScore,
    band,
    real_fall_week,
)

NOT_APPLIED = ("`wargame calibrate --apply` writes them (with their ranges) into `sim/data/parameters.toml` and "
               "`sim/data/doctrine.toml`; the test suite must pass with them before they are committed.")
# What earlier searches taught (kept by hand: a run cannot know its predecessors).
LATEST_RUNS = (
    "(xx): the same search on that model; the re-run kept (xix)'s values, and its final, check and played-on "
    "batches put 63, 65 and 63 % of weeks in the band with both key towns within two weeks, but the November 2024 "
    "surge was missing: from mid-November to early February the median ran up to 440 km2 behind. (xxi) also "
    "searched the size of the scheduled Russian reinforcements (`replacements.ru_reinforcement_scale`, 0.5-3): 60 and "
    "62 %, Myrnohrad 17 weeks early; not adopted, the scale stays at 1. Probes with one lever at a time held over the "
    "autumn hardly moved the advance (twice the commit share: about +15 % ground), but the Russian command sending "
    "more groups to more points at once did. Scenarios now date the offensives of the Russian campaign plan "
    "(`offensives`; here 1 October - 15 December 2024, from Vuhledar's fall to before Kurakhove's, and November "
    "2025), in which the Russian AI multiplies its commit share and its points of infiltration by "
    "`ai.ru.offensive_intensity`; the dates come from the record and only the intensity is fitted, in the search "
    "in place of the reinforcement scale. Ukrainian counter-attacks then needed odds of 3 "
    "(`ai.ua.counterattack_odds`, a hidden 1.5 before) and strongpoint garrisons stopped making them: at 1.5, 39 "
    "counter-attacks in 40 weeks lost 1,228 people to kill 313 and bled the garrisons of Chasiv Yar and Vuhledar. "
    "(xxii), 128 points over 25 parameters: the defaults, with the intensity at 2 from probes, won the re-run pick, "
    "and the final and check batches put 87 % of weeks in the band with the November surge inside it, but played "
    "on only 65 %: games kept advancing through spring 2025 at two to three times the real pace, and the fit held "
    "because 112 of 200 games had ended. The fitted Ukrainian drone growth (1.15 a year) was below what the "
    "sources give (1 M drones in 2024, 2.5 M planned for 2025: +1.5), and 60-run probes at 1.5 put 83 % of "
    "weeks in the band played on; it became the prior. Two Ukrainian AI faults were fixed at the same time: "
    "battalions rested in reserve never went back to the line (by September 2024 the line held 8 of 40 units), "
    "and an encircled unit with no ground to break out to asked for a withdrawal the rules refused. (xxiii), the "
    "run reported here, the same search on that model: the defaults won the re-run pick again. A later run, "
    "(xxiv), searched an engine that only changed which of two equally cheap ways a unit moves by (the lower hex "
    "id, or the one enemy drones watch least, instead of whichever scipy's Dijkstra settles first): the defaults "
    "won again, but with 81, 83 and 75 % of weeks in the band (final, check, played on). Through the interdiction "
    "units pay on the way, the fit leans on that choice; the change was withdrawn, and the engine keeps scipy's "
    "paths until a refit.")
SEARCH_HISTORY = (
    "Search history, all on 2026-11-21. (i) 96 points over eight rule parameters, `infiltration.kappa` 0.15-0.7: "
    "every accepted point sat at kappa's top edge. (ii) A run discarded because the code changed under it; since "
    "then each stage records a fingerprint of the code. (iii) 64 points over the same eight with kappa 0.3-1.0: "
    "27 % coverage, Selydove never taken, Kurakhove 25 weeks late; the report found the gap structural (effort "
    "spread evenly along the front, the Russian mass idle behind it). The Russian commander then got a main "
    "effort taken place by place, spreads its groups and its units along the line, and the replacement flow and "
    "Ukrainian drone growth became parameters. (iv) 64 points over 11 parameters: 38 %, Selydove +7.0 and "
    "Kurakhove +6.3 weeks. (v) 80 points over 14 (objective pull, city envelopment, Ukrainian city garrisons): "
    "38 %, +4.0 and +8.3. (vi) The same with two main-effort objectives pursued at once: 46 %, +4.0 and +3.3 - "
    "but the Ukrainian drone units on the main axis were being overrun week after week and never refilled, so "
    "replacements now fill every kind of unit and Ukrainian drones may keep a standoff. (vii) 96 points over 16: "
    "38 %, +4.5 and +7.3; its re-run used 16 seeds per point and picked a point that the final batch did not "
    "confirm. (viii) 96 points x 6 seeds over the same 16, re-running 8 points with 24 seeds: 29 %, +6.0 and +5.3 weeks; the accepted ranges of (vii) and (viii) were then merged into the intervals searched next. (ix) reached 46 %, +4.0 and +4.3 and became the defaults. Since Pokrovsk and Myrnohrad still fell by spring 2025 in most runs, manned works were then given weight in the control rule (`control.fort_weight`); search (x) added it and did no better (38 %, +5.0, +4.3). "
    "Two structural changes followed: empty ground inside a pocket passes to the side around it "
    "(`control.vacuum_rate`; before, a salient its defenders had left stayed theirs for ever), and a scenario may "
    "name supporting efforts beside its main effort (here Vuhledar, then Velyka Novosilka; "
    "`ai.ru.supporting_effort_km`). (xi), 128 points over 19 parameters: 37 %, +9.0 and +11.3. Probing the model "
    "then showed why its advance was so even: each unit sent all its infiltrators to one hex a turn, so the "
    "ground taken in a week was set by the number of units at the front, whatever their strength, the weather or "
    "the drones (a larger commitment, or drone visibility at 40 % all year, moved the area by under 1 %). A unit now "
    "shares its infiltrators among several hexes, each getting enough to outnumber its garrison "
    "(`ai.ru.targets_per_unit`, `send_margin`, `min_send`), and a reserve relieves only one unit a turn (it could "
    "relieve several, a bug). (xii), 128 points over 20 parameters with wider intervals: 65 %, +0.0 and +7.3; its "
    "fit became the defaults, the southern axis was routed north to Dachne behind Kurakhove before Velyka "
    "Novosilka (as Kurakhove was pressed from the south in 2024), and the intervals were narrowed to (xii)'s "
    "accepted ranges. (xiii): by distance alone its best re-run point had 58 %, +1.0 and +1.3 in the final batch; "
    "the point adopted was picked among the re-run points by the bar's own tests (step 4), and its final, check "
    "and a third batch put 81, 81 and 79 % of weeks in the band: on the edge of the bar. A local search (xiv), 96 "
    "points a quarter either side, found smaller distances but its adopted point had 69 %. Three faults then came "
    "to light. A unit overrun in its hex fell back to the best works a week's march away (a battalion in the far "
    "south ran 40 km north in its first week), leaving its sector empty; it now falls back beside its lost hex "
    "(`movement.forced_fall_back_km`), and that alone took three 200-run batches at (xiii)'s values to 85, 87 and "
    "85 %. A run (xv) on that model was stopped when the second fault turned up: replacements refilled units while "
    "their infiltrators were away, and the infiltrators rejoined the nearest unit on top, so the Russian force grew "
    "by half in six months and single detachments swelled past 9,000 men. Replacements now fill a side only up to "
    "its full strength, counting people in the field, rejoining infiltrators fill units with room first, and a dense "
    "city core changes hands at `control.urban_pace`. (xvi), 128 points over 22 parameters: 65 %, -4 and -1 weeks; "
    "without the swelling the advance no longer quickened into the autumn. The Russian force on the axis did grow "
    "(notes §1.7), so how far replacements may fill a unit became a parameter per side "
    "(`replacements.ru_strength_cap`, prior 2 from a 60-run probe). (xvii), over 23 parameters: the re-run stage "
    "now includes the defaults it started from, and they won the pick (87 % in the final and check batches; a "
    "third batch of 200 runs, root seed 777, also 87 %, Selydove -1 and Kurakhove -1 weeks). The third fault was in "
    "this report: the distance to Pokrovsk counted islands infiltrators hold deep in the rear as the front, which "
    "made breakthroughs look common. (xviii): (xvii) again with the final batch also played on past the sudden "
    "death (and `ai.ua.hold_cities_km` searched as the float it is); the defaults won again, but played on they put "
    "the real series in the band on only 56 % of weeks: 195 of 200 games had ended by March 2025 and kept their "
    "last area. Following the played-on games turned up four faults. Pockets never resolved, so by spring 2025 half "
    "the Ukrainian units sat encircled behind the Russian line; an encircled unit now breaks out to its side's "
    "ground within `supply.breakout_km` or, breaking with none near, surrenders. The corridor that triggers a "
    "withdrawal was the narrowest anywhere on the front, so a pocket closing in the south emptied Pokrovsk in "
    "December 2024; each threatened cluster now has its own, and it leads to ground that is not itself threatened "
    "(far from the sources a whole sector is strained, and Vuhledar read 'no way out' in week 2). Ukrainian drone "
    "units never left the sectors they started in: most crossings at Pokrovsk met one unit with its crews hunted "
    "down while five full units watched empty sectors; they now move over the Russian pressure, clear of crew "
    "hunters. And a town was judged on the hex holding the table's rounded point, often a field beside it; now on "
    "the map's own hex for the town. Since then the search and re-run are judged on played-on games. (xix), 128 "
    "points over 24 parameters (with `isr.crew_recovery`): 65 % in the final batch and the same played on, 67 % "
    "in the check, Selydove -2.0 and Kurakhove +3.3 weeks; the spring-2025 slowdown now comes out of the model, "
    "while August-September 2024 runs a little fast and the November surge is missing. Towns near the front are "
    "then held by the units in them (`ai.ua.strongpoint_km`) and drone units stay within half their range of the "
    "line. " + LATEST_RUNS)
FORTRESS_BELT = ("Kostiantynivka", "Druzhkivka", "Kramatorsk", "Sloviansk")
AGGLOMERATION = ("Pokrovsk", "Myrnohrad")
BREAKTHROUGH_KM = 6.0  # notes §5 T12: a breakthrough bounds 6-15 km in a week
PARAMETERS_TOML = Path(__file__).resolve().parents[1] / "data" / "parameters.toml"
DOCTRINE_TOML = PARAMETERS_TOML.with_name("doctrine.toml")


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _week_date(start: dt.date, week: float) -> dt.date:
    return start + dt.timedelta(days=round(7 * week))


def _arrays(cal: Calibration) -> dict[str, Any]:
    """The final batch's per-run series as arrays."""
    runs = cal.final_runs
    n = cal.window.n_weeks
    return {"area": np.array([r["area"][:n] for r in runs]), "grey": np.array([r["grey"][:n] for r in runs]),
            "pok": np.array([r["pok_km"][:n] for r in runs]) if runs and runs[0]["pok_km"] else None,
            "ru": np.array([r["ru_losses"] for r in runs]), "ua": np.array([r["ua_losses"] for r in runs]),
            "gain": np.array([r["ru_control_gain_km2"] for r in runs])}


def town_rows(cal: Calibration) -> list[dict[str, Any]]:
    """Per town on the map: the real fall, the simulated median and 5-95 % fall, and the share fallen in the window."""
    w = cal.window
    n = w.n_weeks
    runs = cal.final_runs
    rows = []
    for t in w.towns:
        if not runs or t.name not in runs[0]["fall"]:
            continue
        weeks = np.array([n if r["fall"][t.name] is None else r["fall"][t.name] for r in runs], dtype=float)
        real = real_fall_week(t, w.start, n)
        fell = float(np.mean(weeks < n))
        med = float(np.median(weeks))
        row = {"town": t.name, "status": t.status, "real": t.date, "real_week": real, "fell_share": fell,
               "median_week": None if med >= n else med,
               "p5": float(np.percentile(weeks, 5)), "p95": float(np.percentile(weeks, 95))}
        if real is None:
            row["error_weeks"] = None
        elif real >= n:
            row["error_weeks"] = 0.0 if med >= n else med - real
        else:
            row["error_weeks"] = (med - real) if med < n else float("inf")
        rows.append(row)
    return rows


def bar_status(cal: Calibration) -> dict[str, Any]:
    """Whether the bar is met: coverage of the real series and the key towns' median fall within four weeks."""
    rows = {r["town"]: r for r in town_rows(cal)}
    towns = {}
    for name in KEY_TOWNS:
        r = rows.get(name)
        err = None if r is None else r["error_weeks"]
        towns[name] = {"error_weeks": err, "ok": err is not None and abs(err) <= BAR_WEEKS}
    cov = cal.final.coverage
    return {"coverage": cov, "coverage_ok": cov >= BAR_COVERAGE, "towns": towns,
            "met": cov >= BAR_COVERAGE and all(t["ok"] for t in towns.values())}


def check_status(cal: Calibration) -> dict[str, Any] | None:
    """The bar's tests on the check batch (the fitted values again, with other seeds), or None if there is none."""
    return batch_status(cal, cal.check)


def batch_status(cal: Calibration, c: PointScore | None) -> dict[str, Any] | None:
    """The bar's tests on another batch at the fitted values (the check batch, or the final batch played on)."""
    if c is None:
        return None
    w = cal.window
    towns = {}
    for t in w.towns:
        if t.name in KEY_TOWNS:
            real, med = real_fall_week(t, w.start, w.n_weeks), c.median_fall_week.get(t.name)
            err = None if real is None or med is None else med - real
            towns[t.name] = {"error_weeks": err, "ok": err is not None and abs(err) <= BAR_WEEKS}
    return {"coverage": c.coverage, "towns": towns,
            "met": c.coverage >= BAR_COVERAGE and all(t["ok"] for t in towns.values())}


def _towns_text(status: dict[str, Any]) -> str:
    return ", ".join(f"{name} {'never' if t['error_weeks'] is None else format(t['error_weeks'], '+.1f')}"
                     for name, t in status["towns"].items())


def _verdict(bar: dict[str, Any], check: dict[str, Any] | None) -> str:
    if check is None or bar["met"] == check["met"]:
        return "MET" if bar["met"] else "NOT met"
    return "MET on the final batch but NOT on the check batch" if bar["met"] else \
        "NOT met on the final batch, though met on the check batch"


# ---------------------------------------------------------------------------------------------- figures
def _figure(width: float = 8.0, height: float = 4.5):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def plot_band(cal: Calibration, path: Path) -> None:
    a = _arrays(cal)["area"]
    dates = cal.window.dates
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    lo, hi = band(a)
    q25, q50, q75 = np.percentile(a, [25, 50, 75], axis=0)
    ax.fill_between(dates, lo, hi, color="#e6a19a", alpha=0.6, label="simulated 5-95 %")
    ax.fill_between(dates, q25, q75, color="#c0392b", alpha=0.35, label="simulated 25-75 %")
    ax.plot(dates, q50, color="#922b21", lw=1.5, label="simulated median")
    ax.plot(dates, cal.window.obs, color="black", lw=2, label="DeepState (real)")
    ax.set_ylabel("Russian-occupied km² in the box")
    ax.set_title(f"{SCENARIO}: fitted defaults, {len(cal.final_runs)} runs "
                 f"(real inside the band on {cal.final.coverage:.0%} of weeks)", fontsize=10)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path)


def plot_search(cal: Calibration, path: Path) -> None:
    names = list(cal.search_ranges)
    cols = 4
    rows = (len(names) + cols - 1) // cols
    fig = _figure(11, 2.6 * rows)
    acc = {s.point for s in cal.accepted}
    d = np.array([s.distance for s in cal.search])
    for i, n in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        x = np.array([s.parameters[n] for s in cal.search], dtype=float)
        mask = np.array([s.point in acc for s in cal.search])
        ax.scatter(x[~mask], d[~mask], s=8, color="#7f8c8d", label="searched")
        ax.scatter(x[mask], d[mask], s=14, color="#c0392b", label="accepted")
        ax.axvline(float(cal.fitted[n]), color="black", lw=1)
        ax.set_title(n, fontsize=8)
        ax.tick_params(labelsize=7)
        if i % cols == 0:
            ax.set_ylabel("distance (months)", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def plot_towns(cal: Calibration, path: Path) -> None:
    rows = [r for r in town_rows(cal) if r["status"] != "before"]
    n = cal.window.n_weeks
    fig = _figure(8, 0.3 * len(rows) + 1.2)
    ax = fig.add_subplot(1, 1, 1)
    for i, r in enumerate(rows):
        ax.plot([r["p5"], r["p95"]], [i, i], color="#e6a19a", lw=4)
        med = n if r["median_week"] is None else r["median_week"]
        ax.plot(med, i, "o", color="#922b21")
        ax.plot(min(r["real_week"], n), i, "k|" if r["status"] == "date" else "k>", ms=12)
    ax.axvline(n, color="grey", ls=":", lw=1)
    ax.set_yticks(range(len(rows)), [r["town"] for r in rows], fontsize=8)
    ax.set_xlabel(f"weeks from {cal.window.start} (dotted: end of window; black bar real, triangle = not by the end)",
                  fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


# ---------------------------------------------------------------------------------------------- text
def _claims(cal: Calibration, a: dict[str, Any]) -> list[str]:
    w = cal.window
    days = (w.dates[-1] - w.start).days
    lines = []
    pok = a["pok"]
    rows = {r["town"]: r for r in town_rows(cal)}
    if pok is not None and pok.size:
        adv = pok[:, 0] - pok[:, -1]
        rate = adv * 1000 / days
        lines.append(f"| Advance towards Pokrovsk (seeds: ~40 km in ~21 months from Avdiivka; notes §1.10: "
                     f"~60-70 m/day) | front (ground joined to Russia's start area; islands in the rear left out) "
                     f"{np.median(pok[:, 0]):.1f} km from Pokrovsk's centre at the start, "
                     f"{np.median(pok[:, -1]):.1f} km (5-95 % {np.percentile(pok[:, -1], 5):.1f}-"
                     f"{np.percentile(pok[:, -1], 95):.1f}) at the end: median {np.median(rate):.0f} m/day "
                     f"(5-95 % {np.percentile(rate, 5):.0f}-{np.percentile(rate, 95):.0f}) | "
                     f"{'yes' if 40 <= np.median(rate) <= 100 else 'no'} |")
        jumps = np.max(pok[:, :-1] - pok[:, 1:], axis=1)
        big = float(np.mean(jumps >= BREAKTHROUGH_KM))
        lines.append(f"| No operational breakthrough from infiltration alone (Kofman, seeds); breakthroughs of "
                     f"6-15 km in a week 1-2 a year (notes §5 T12) | largest one-week advance towards Pokrovsk: "
                     f"median {np.median(jumps):.1f} km; {big:.0%} of runs have a week of >= {BREAKTHROUGH_KM:.0f} km"
                     f" | {'yes' if big <= 0.5 else 'no'} |")
    real_jump = float(np.max(np.diff(w.obs)))
    sim_jump = np.max(np.diff(a["area"], axis=1), axis=1)
    lines.append(f"| Largest weekly area gain in the box (real {real_jump:.0f} km²) | simulated median "
                 f"{np.median(sim_jump):.0f} km² (5-95 % {np.percentile(sim_jump, 5):.0f}-"
                 f"{np.percentile(sim_jump, 95):.0f}) | {'yes' if np.percentile(sim_jump, 5) <= real_jump <= np.percentile(sim_jump, 95) else 'no'} |")
    agg = [rows[t]["fell_share"] for t in AGGLOMERATION if t in rows]
    if agg:
        lines.append(f"| Pokrovsk and Myrnohrad still held at the end of June 2025 (town file) | centre taken in "
                     f"{max(agg):.0%} of runs | {'yes' if max(agg) <= 0.1 else 'no'} |")
    belt = {t: rows[t]["fell_share"] for t in FORTRESS_BELT if t in rows}
    if belt:
        lines.append("| The fortress belt costs many months (seeds: ISW 'several years'; all held in June 2025) | "
                     + ", ".join(f"{t} taken in {v:.0%} of runs" for t, v in belt.items())
                     + f" | {'yes' if max(belt.values()) <= 0.05 else 'no'} |")
    obs = w.obs
    autumn = [i for i, d in enumerate(w.dates) if dt.date(2024, 9, 1) <= d <= dt.date(2024, 11, 30)]
    if autumn and obs[-1] > obs[0]:
        real_share = (obs[autumn[-1]] - obs[autumn[0] - 1]) / (obs[-1] - obs[0])
        sim = a["area"]
        sim_share = (sim[:, autumn[-1]] - sim[:, autumn[0] - 1]) / np.maximum(sim[:, -1] - sim[:, 0], 1.0)
        lines.append(f"| Autumn surge (notes §5 T15): share of the window's gain made Sep-Nov 2024 (real "
                     f"{real_share:.0%}) | simulated median {np.median(sim_share):.0%} | "
                     f"{'yes' if abs(np.median(sim_share) - real_share) <= 0.1 else 'no'} |")
    return lines


def _shortfalls(cal: Calibration, a: dict[str, Any], bar: dict[str, Any]) -> list[str]:
    """What the model does not reproduce, each with the numbers that show it."""
    out = []
    rows = [r for r in town_rows(cal) if r["real_week"] is not None and r["real_week"] < cal.window.n_weeks]
    late = [r for r in rows if r["error_weeks"] is not None and r["error_weeks"] > BAR_WEEKS]
    early = [r for r in rows if r["error_weeks"] is not None and r["error_weeks"] < -BAR_WEEKS]

    def name(r):
        sim = "never in the window" if r["median_week"] is None else \
            f"median {_week_date(cal.window.start, r['median_week'])}"
        return f"{r['town']} (real {r['real']}, simulated {sim}, taken in {r['fell_share']:.0%} of runs)"
    if late:
        out.append("**Towns that fall too late or not at all**: "
                   + "; ".join(name(r) for r in late) + ".")
    if early:
        out.append("**Towns that fall too early**: " + "; ".join(name(r) for r in early) + ".")
    lo, hi = band(a["area"])
    obs = cal.window.obs
    below = np.flatnonzero(obs < lo)
    above = np.flatnonzero(obs > hi)
    width = float(np.median(hi - lo))
    out.append(f"**The area band**: median width of the 5-95 % band {width:.0f} km² (about "
               f"{width / 5.41:.0f} hexes); the real series is above it in {above.size} and below it in "
               f"{below.size} of {obs.size} weeks.")
    pok = a["pok"]
    if pok is not None:
        out.append(f"**Pace on the main axis**: the front ends a median {np.median(pok[:, -1]):.1f} km from "
                   "Pokrovsk's centre; by the end of June 2025 the real front had passed Kotlyne (2 Jan 2025) and "
                   "Udachne (6 May 2025) west of the city, i.e. it stood within a few km of it.")
    for town in KEY_TOWNS:
        taken = [s for s in cal.search if s.median_fall_week.get(town) is not None]
        errs = [s.town_errors.get(town) for s in cal.search if s.town_errors.get(town) is not None]
        out.append(f"**{town} across the whole search**: the median run takes its centre within the window at "
                   f"{len(taken)} of {len(cal.search)} hypercube points"
                   + (f" (earliest median {_week_date(cal.window.start, min(s.median_fall_week[town] for s in taken))})"
                      if taken else "")
                   + (f"; the smallest error at any point is {min(errs) * WEEKS_PER_MONTH:.1f} weeks." if errs else "."))
    by_town = min(cal.search, key=lambda s: s.town_term)
    by_area = min(cal.search, key=lambda s: s.area_term)
    out.append(f"**The trade-off**: the point with the best town timing (point {by_town.point}, town term "
               f"{by_town.town_term:.2f} months) has area term {by_town.area_term:.2f}; the point with the best area "
               f"fit (point {by_area.point}, area term {by_area.area_term:.2f}) has town term "
               f"{by_area.town_term:.2f}.")
    ratio = a["ru"] / np.maximum(a["ua"], 1.0)
    cost = a["ru"] / np.maximum(a["gain"], 1.0)
    if not (2.0 <= np.median(ratio) <= 2.5):
        out.append(f"**Casualty exchange**: {np.median(ratio):.2f}:1 against the 2-2.5:1 of the research.")
    if not (85 <= np.median(cost) <= 100):
        out.append(f"**Russian cost per km²**: {np.median(cost):.0f} against 85-100.")
    return out


STRUCTURE = """\
### What is still wrong, and what was tried

The levers added since the first fit, each with its own parameter and source: a Russian main effort taken place by
place (`main_effort`, `ai.ru.main_effort_km`, `main_effort_depth`, `objective_pull`) with supporting efforts
(`supporting_efforts`, `supporting_effort_km`) and holding attacks elsewhere (`secondary_commit`); infiltrators
shared among several targets (`targets_per_unit`, `send_margin`); cities entered once mostly surrounded
(`city_ring`); Ukrainian city garrisons, strongpoints and drone standoff (`ai.ua.hold_cities_km`,
`strongpoint_km`, `standoff_km`); replacement flows and Ukrainian drone growth; manned works in the control rule
(`control.fort_weight`); abandoned pockets (`control.vacuum_rate`); overrun units falling back beside their lost
hex (`movement.forced_fall_back_km`); units filled up to a full strength per side (`replacements.ru_strength_cap`);
slower street fighting in city cores (`control.urban_pace`); breakout or surrender of encircled units
(`supply.breakout_km`); drone units that follow the Russian pressure (`ai.ua.drone_shift_margin`); dated Russian
offensives (`offensives`, `ai.ru.offensive_intensity`); counter-attacks only at good odds
(`ai.ua.counterattack_odds`). Since run (xix) the search is judged on games played on past the sudden death, so it
fits the model's own course. What remains:

1. **Start and August 2024.** The start week is outside the band by 1.4 km² (the hex map's derived start holds
   3,309.8 km², DeepState 3,311.2) and so is the first week, when the model's advance starts slower than the real
   one; in weeks 4-7 its median runs ahead by 35-70 km². With the Russian autumn offensive dated in the scenario
   (`offensives`, strength `ai.ru.offensive_intensity`) the November 2024 surge lies inside the band, and with the
   sourced Ukrainian drone growth so does the spring-2025 slowdown, played on as well as played.
2. **Offensive as input.** The surge comes from the dated offensive, not from the model: its dates are history and
   only its strength is fitted. Without it the model's advance is smooth through the autumn.
3. **Secondary sectors.** Chasiv Yar falls about 15 weeks early, Velyka Novosilka 11 and Vuhledar 7 (a town
   whose unit leaves is held only by its neighbours' share); Toretsk is hardly ever taken (history: January 2025);
   Ukrainsk falls about 10 weeks late, Novohrodivka 6, Hrodivka 5 and Kotlyne 4.
4. **Pokrovsk** falls within the window in more than half the runs (median April 2025; history: held until the end
   of 2025); Myrnohrad in fewer than half.
5. **Losses.** The RU:UA casualty exchange is about 4.7 (research 2-2.5) and Russia pays about 22 casualties per
   km² (research 85-100, front-wide): Ukrainian losses are too low, and Russian ones still well under the
   research's, as the model's forces are smaller than the real ones on this front.
"""


def _code_line(b: dict[str, Any]) -> str:
    code = b.get("code") or {}
    if not code:
        return "Code fingerprint: not recorded."
    if len(set(code.values())) == 1:
        return (f"Code fingerprint (engine, AI, rule data, scenario) `{next(iter(code.values()))}`, the same at "
                "every stage: all runs played the same model.")
    return ("**Warning: the model's code changed during this calibration** (fingerprints "
            + ", ".join(f"{k} `{v}`" for k, v in code.items()) + "); stages played on different code are not "
            "comparable - run `wargame calibrate` again.")


def write_report(cal: Calibration, out: Path, command: str = "") -> Path:
    """Write ``out/calibration.md`` and the figures in ``out/calibration/``; return the Markdown path."""
    out = Path(out)
    figs = out / "calibration"
    figs.mkdir(parents=True, exist_ok=True)
    plot_band(cal, figs / "area_band.png")
    plot_search(cal, figs / "search.png")
    plot_towns(cal, figs / "towns.png")
    a = _arrays(cal)
    bar, check = bar_status(cal), check_status(cal)
    w = cal.window
    b = cal.budget
    lines = [
        "# Calibration of pokrovsk-axis-2024",
        "",
        f"Generated by `{command or 'wargame calibrate'}` on {dt.date.today()}. Observed targets: "
        "`../shared/calibration/occupied_area_train.csv` (DeepState's Russian-occupied km² inside 36.5-38.1°E, "
        "47.75-48.95°N) and `towns_first_occupied_train.csv`, window "
        f"{w.start} to {w.dates[-1]} ({w.turns} weekly turns). Later history is held back and not used.",
        "",
        "## Verdict",
        "",
        f"**The bar is {_verdict(bar, check)}.** Over {len(cal.final_runs)} runs at the fitted "
        f"defaults the real series is inside the simulated 5-95 % band on **{bar['coverage']:.0%}** of weeks "
        f"(bar: 80 %).",
    ]
    for name, t in bar["towns"].items():
        e = t["error_weeks"]
        txt = "never taken in the median run" if e is None or not np.isfinite(e) else f"{e:+.1f} weeks"
        lines.append(f"- {name}: median simulated fall {txt} against the real date (bar: within 4 weeks) - "
                     f"{'ok' if t['ok'] else 'missed'}.")
    if check is not None:
        lines.append(f"- Check: the same defaults over {len(cal.final_runs)} runs with other seeds (root seed "
                     f"{b['root_seed'] + 3}): **{check['coverage']:.0%}** of weeks inside the band; "
                     f"{_towns_text(check)} weeks; the bar is {'met' if check['met'] else 'not met'} there.")
    if any("ended" in r for r in cal.final_runs):  # recorded since run (xvii)
        ended = [r["ended"] for r in cal.final_runs if r.get("ended") is not None]
        when = f" (median {_week_date(w.start, float(np.median(ended)))})" if ended else ""
        lines.append(f"- {len(ended)} of the {len(cal.final_runs)} runs end within the window by the scenario's "
                     f"victory rules{when}; an ended run keeps its last area, so after that the band shows where "
                     "games stopped, not where the front went on.")
    played = batch_status(cal, cal.played_on)
    if played is not None:
        lines.append(f"- Played on: the final batch's games again without the scenario's sudden death put the real "
                     f"series inside their band on **{played['coverage']:.0%}** of weeks; {_towns_text(played)} "
                     "weeks. This is the model's own course rather than the bar; "
                     + ("it meets the bar too, so the fit does not lean on games that stopped." if played["met"] else
                        "a fit that holds only because games stop is not yet a fit."))
    lines += ["", "![area band](calibration/area_band.png)", ""]

    # method
    lines += [
        "## Method",
        "",
        "1. **What is compared.** An observer plays each seeded AI-against-AI game turn by turn (the engine is "
        "not changed) and after every turn reads the Russian-held area inside the calibration box from "
        f"`model.control` and the hex centres' `map.lon/lat`: hexes with control >= {HELD} count whole, contested "
        f"hexes (0.2 < c < 0.8) count {GREY_WEIGHT:g}. Why half: the start state was derived from DeepState's "
        "occupied polygon of 8 July 2024, and on turn 0 its held hexes plus half of its contested ones give back "
        "DeepState's 3,311 km² (3,129 held + 363 contested km² in the box), so half is what DeepState's own "
        "partly-in polygon amounts to in this model. A town centre falls on the first turn its hex reaches "
        f"control >= {HELD}; its hex is the map's own hex for the town when the table's point lies within "
        f"{PLACE_MATCH_KM:g} km of it (the table's points are rounded, and many sit on a hex edge), else the hex "
        "containing the point.",
        "2. **Search.** A scrambled Latin hypercube (the batch machinery's `make_plan(design='lhs')`, as "
        "`wargame batch --design lhs --range ...`) over the parameters that §5 of the notes ranks most uncertain. "
        "Each point is played with the same seeds (`SeedSequence(root, spawn_key=(r,))`, common random numbers), "
        "so points differ by their parameters and not by seed luck."
        + (" Search and re-run games are played on past the scenario's sudden death to the window's end: the fit "
           "is of the model's own course, and cannot lean on games that stopped early and kept their last area."
           if b.get("fit_on") == "played_on" else ""),
        "3. **Distance, in months of error.** (a) the RMSE of the mean simulated weekly area against the real "
        "series, divided by the real mean monthly gain in the window (so 1.0 = the area is off by one month's "
        "advance), plus (b) the weighted mean over towns of |median simulated fall week - real fall week| in "
        "months, capped at a quarter so no one town dominates; Selydove and Kurakhove count double, towns still "
        "held at the end of the window score 0 if the median run also holds them, towns lost before the start "
        "carry no information and are left out. Both parts are in the same unit, so neither needs an arbitrary "
        "weight.",
        f"   {SEARCH_HISTORY}",
        f"4. **Re-run and pick.** The best {b['refine_points']} points are played again with {b['refine_runs']} "
        "fresh seeds (again common to all of them). All of them fit about as well as the search can tell, so the "
        "bar's own tests choose the one adopted: first both key towns within four weeks of history, then the most "
        "weeks inside the band, then the smallest distance. ABC rejection "
        f"over the hypercube (the best tenth, {len(cal.accepted)} points) gives each parameter's 5-95 % range: "
        "the spread of values that fit about as well, i.e. how well the data pin the parameter down.",
        f"5. **Check the bar.** A final batch of {b['final_runs']} runs at the fitted defaults, with seeds not used "
        "in the search. The window is the first 51 turns of the 112-turn scenario: the AI does not look at the "
        "scenario's end, so these are the first turns of the same runs a full `wargame batch` would play. A check "
        "batch plays the same defaults with other seeds, and the final batch's games are played again past the "
        "scenario's sudden death, where a batch would stop them, to show the model's own course to the window's "
        "end.",
        "",
        f"Why this method: a game is a few seconds of CPU, so a few hundred runs search {len(cal.search_ranges)} "
        "dimensions coarsely but honestly; a Latin hypercube covers every parameter's range evenly with few points, common random "
        "numbers remove seed noise from comparisons between points, and re-running the front-runners guards "
        "against a point that won on lucky seeds. A gradient or Bayesian optimiser would need a smooth, "
        "noise-free objective, which a stochastic game with town falls as discrete events is not.",
        "",
        "## Budget",
        "",
        "| Stage | Points x runs | Wall time |",
        "|---|---|---|",
        f"| Latin-hypercube search | {b['search_points']} x {b['search_runs']} | {b['seconds']['search']} s |",
        f"| Re-run of the best points | {b['refine_points']} x {b['refine_runs']} | {b['seconds']['refine']} s |",
        f"| Final batch at the fitted values | 1 x {b['final_runs']} | {b['seconds']['final']} s |",
        *([f"| Check batch, other seeds | 1 x {b['final_runs']} | {b['seconds']['check']} s |"]
          if "check" in b["seconds"] else []),
        *([f"| Final batch played on past the sudden death | 1 x {b['final_runs']} | {b['seconds']['played_on']} s |"]
          if "played_on" in b["seconds"] else []),
        f"| Total | {b['total_runs']} runs of {b['turns']} turns, {b['workers']} worker(s), root seed "
        f"{b['root_seed']} | {sum(b['seconds'].values())} s |",
        "",
        _code_line(b),
        "",
        "## Fitted values",
        "",
        "| Parameter | Prior default | Searched | Fitted | Accepted 5-95 % (median) |",
        "|---|---|---|---|---|",
    ]
    from sim.params import parameter_specs

    specs = parameter_specs()
    applied = all(n in specs and specs[n].default == cal.fitted[n] for n in cal.fitted)
    lines.insert(lines.index("| Parameter | Prior default | Searched | Fitted | Accepted 5-95 % (median) |"),
                 ("The fitted values are the defaults in `sim/data/parameters.toml` and `sim/data/doctrine.toml`, "
                   "each with a `fitted` note giving its value, range and run.\n" if applied else
                  f"**The fitted values are not the defaults.** {NOT_APPLIED}\n"))
    for n, (lo, hi) in cal.search_ranges.items():
        r5, r50, r95 = cal.ranges[n]
        prior = (b.get("priors") or {}).get(n, specs[n].default if n in specs else "?")
        lines.append(f"| `{n}` | {prior} | {_fmt(lo)}-{_fmt(hi)} | **{_fmt(cal.fitted[n])}** | "
                     f"{_fmt(r5)}-{_fmt(r95)} ({_fmt(r50)}) |")
    best = sorted(cal.refined, key=lambda s: s.distance)
    lines += ["", "Re-run of the best points (distance in months; area RMSE in km²):", "",
              "| Search point | Distance | Area term | Town term | Area RMSE | Coverage | Selydove | Kurakhove |",
              "|---|---|---|---|---|---|---|---|"]
    for s in best:
        def wk(name, s=s):
            v = s.median_fall_week.get(name)
            return "not taken" if v is None else str(_week_date(w.start, v))
        name = "defaults before this run" if s.point == DEFAULTS_POINT else s.point
        lines.append(f"| {name} | {s.distance:.2f} | {s.area_term:.2f} | {s.town_term:.2f} | "
                     f"{s.area_rmse:.0f} | {s.coverage:.0%} | {wk('Selydove')} | {wk('Kurakhove')} |")
    dists = np.array([s.distance for s in cal.search])
    lines += ["", f"Search distances: best {dists.min():.2f}, median {np.median(dists):.2f}, worst "
              f"{dists.max():.2f} months. Distance against each parameter (red: accepted; line: fitted):", "",
              "![search](calibration/search.png)", ""]
    # correlations: which parameters the data identify
    ident = []
    for n in cal.search_ranges:
        x = np.array([s.parameters[n] for s in cal.search], dtype=float)
        if x.std() > 0 and dists.std() > 0:
            rx, rd = np.argsort(np.argsort(x)), np.argsort(np.argsort(dists))
            ident.append((n, float(np.corrcoef(rx, rd)[0, 1])))
    if ident:
        lines.append("Rank correlation of each parameter with the distance over the search (large |rho|: the "
                     "data pin it down; near 0: the fit is indifferent to it within its range): "
                     + ", ".join(f"`{n}` {r:+.2f}" for n, r in ident) + ".")
        lines.append("")

    # towns
    lines += ["## Town centres: simulated against real fall dates", "",
              f"Final batch, {len(cal.final_runs)} runs. 'Taken' = share of runs in which the centre hex reached "
              f"control >= {HELD} within the window.", "",
              "| Town | Real | Simulated median | 5-95 % | Taken | Error |", "|---|---|---|---|---|---|"]
    n = w.n_weeks
    for r in town_rows(cal):
        real = {"before": f"on or before {r['real']}", "not_by": f"not by {r['real']}"}.get(r["status"],
                                                                                      str(r["real"]))
        med = "not in window" if r["median_week"] is None else str(_week_date(w.start, r["median_week"]))
        p5 = "-" if r["p5"] >= n else str(_week_date(w.start, r["p5"]))
        p95 = "after window" if r["p95"] >= n else str(_week_date(w.start, r["p95"]))
        e = r["error_weeks"]
        err = "-" if e is None else ("never taken" if not np.isfinite(e) else f"{e:+.1f} wk")
        lines.append(f"| {r['town']} | {real} | {med} | {p5} to {p95} | {r['fell_share']:.0%} | {err} |")
    lines += ["", "![towns](calibration/towns.png)", ""]

    # exchange and cost
    ratio = a["ru"] / np.maximum(a["ua"], 1.0)
    cost = a["ru"] / np.maximum(a["gain"], 1.0)
    box_gain = a["area"][:, -1] - a["area"][:, 0]
    cost_box = a["ru"] / np.maximum(box_gain, 1.0)
    lines += ["## Casualties and cost", "",
              "| Measure | Simulated median (5-95 %) | Research |", "|---|---|---|",
              f"| Casualty exchange RU:UA over the window | {np.median(ratio):.2f} ({np.percentile(ratio, 5):.2f}-"
              f"{np.percentile(ratio, 95):.2f}) | 2-2.5 : 1 (notes §5 T8) |",
              f"| Russian casualties per km² gained (whole map, control-weighted) | {np.median(cost):.0f} "
              f"({np.percentile(cost, 5):.0f}-{np.percentile(cost, 95):.0f}) | 85-100 (notes §5 T9) |",
              f"| Russian casualties per km² gained in the box (as measured above) | {np.median(cost_box):.0f} "
              f"({np.percentile(cost_box, 5):.0f}-{np.percentile(cost_box, 95):.0f}) | 85-100 |",
              f"| Russian casualties in the window | {np.median(a['ru']):.0f} | - |",
              "", "Casualties count everyone the model records as lost (killed, wounded, captured, deserted). "
              "The research figures are front-wide averages; the map holds only part of the front.", ""]

    # claims
    lines += ["## The seed reports' claims as checks", "", "| Claim | Model (final batch) | Reproduced |",
              "|---|---|---|", *_claims(cal, a), ""]

    # shortfalls
    lines += ["## What the model does not reproduce", ""]
    lines += [f"- {s}" for s in _shortfalls(cal, a, bar)]
    lines += ["", STRUCTURE]
    lines += ["## Reproduce", "", f"`{command or 'wargame calibrate'}` writes this file, its figures and "
              "`calibration/results.json` (every point's score and the final batch's series); "
              "`wargame calibrate --report-from docs/calibration/results.json` re-writes the report from it.", ""]
    md = out / "calibration.md"
    md.write_text("\n".join(lines))
    return md


# ---------------------------------------------------------------------------------------------- --apply
def fitted_note(cal: Calibration, name: str, label: str = "") -> str:
    r5, _, r95 = cal.ranges[name]
    run = label or f"seed {cal.budget['root_seed']}, {cal.budget['total_runs']} runs"
    return f"fitted {dt.date.today()}: {_fmt(cal.fitted[name])} (90 % {_fmt(r5)}-{_fmt(r95)}), calibrate run {run}"


def apply_fitted(cal: Calibration, label: str = "", paths: tuple[Path, ...] = (PARAMETERS_TOML, DOCTRINE_TOML)
                 ) -> list[str]:
    """Write each fitted value and its ``fitted`` note into the rule and doctrine files, touching nothing else."""
    done: list[str] = []
    for path in paths:
        done += _apply_to(cal, label, path)
    from sim.params import parameter_specs

    parameter_specs.cache_clear()
    return done


def _apply_to(cal: Calibration, label: str, path: Path) -> list[str]:
    text = path.read_text().split("\n")
    group = ""
    done = []
    for i, line in enumerate(text):
        header = re.match(r"^\[([^\]]+)\]", line)
        if header:
            group = header.group(1)
            continue
        key = re.match(r"^(\w+) = \{ value = ([^,]+),(.*)$", line)
        if not key:
            continue
        name = f"{group}.{key.group(1)}"
        if name not in cal.fitted:
            continue
        value = cal.fitted[name]
        new = repr(int(value)) if isinstance(value, int) else _fmt(float(value))
        if not re.fullmatch(r"-?\d+", key.group(2).strip()) and re.fullmatch(r"-?\d+", new):
            new += ".0"  # a float parameter fitted to a whole number stays a float (an int would refuse 7.5)
        rest = re.sub(r' fitted = "[^"]*",', "", key.group(3))
        note = fitted_note(cal, name, label).replace('"', "'")
        text[i] = f'{key.group(1)} = {{ value = {new}, fitted = "{note}",{rest}'
        done.append(f"{name}: {key.group(2)} -> {new}")
    path.write_text("\n".join(text))
    return done
