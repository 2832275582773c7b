"""The after-action review: one self-contained HTML file a class can project and keep.

The review replays the saved game (so it needs nothing but the save), keeps the control at the start of every
turn, and draws with matplotlib (Agg, headless). Everything is inline: CSS in a style element, images as base64
data URIs, no scripts and no external requests, so it opens the same on a classroom laptop with no network.
Sections: the game, the front at chosen dates, the front over time, ground and losses, key events with their
reasons, the game against a Monte Carlo batch, against history (where calibration data exist), and claims.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import datetime as dt
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.classroom import claims as cl
from sim.model import WargameModel
from sim.saves import load_game

CALIBRATION_DIR = Path(__file__).resolve().parents[3] / "shared" / "calibration"
RU, UA, GREY = "#c0392b", "#2e86c1", "#d9d3c3"
KEY_KINDS = ("objective", "inject", "break", "gap", "overrun", "breakout", "surrender", "arrival", "arrival_lost", "end",
             "ceasefire", "offensive")
MAX_EVENTS = 80


class ReportError(ValueError):
    """A report that cannot be made from what was given; the message says why."""


@dataclass
class Played:
    """A replayed game and what the review needs from every turn of it."""

    model: WargameModel
    controls: list[np.ndarray] = field(default_factory=list)  # control at the start of turn t (last: the end)
    units: list[list[tuple[int, str, float]]] = field(default_factory=list)  # (hex, side, strength) per turn


def replay_for_review(source: str | Path) -> Played:
    """Replay a save (or a `wargame run` folder) keeping control and units at the start of every turn."""
    snaps: list[np.ndarray] = []
    units: list[list[tuple[int, str, float]]] = []

    def keep(m: WargameModel) -> None:
        if len(snaps) > m.turn:  # the end of a game that stopped early is recorded once
            return
        snaps.append(m.control.copy())
        units.append([(u.hex, u.side, min(1.0, u.personnel / max(u.utype.personnel, 1)))
                      for u in m.units.values() if u.alive])

    model = load_game(source, on_turn=keep)
    return Played(model, snaps, units)


# ------------------------------------------------------------------------------------------------ drawing
def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _hex_polys(hexmap) -> np.ndarray:
    size = hexmap.spec.hex_km / np.sqrt(3.0)
    ang = np.radians(np.arange(6) * 60.0 + 30.0)
    dx, dy = size * np.cos(ang), size * np.sin(ang)
    x = np.asarray(hexmap.x_km)[:, None] + dx[None, :]
    y = np.asarray(hexmap.y_km)[:, None] + dy[None, :]
    return np.stack([x, y], axis=-1)


def _control_colours(control: np.ndarray, hi: float) -> np.ndarray:
    from matplotlib.colors import to_rgb

    ru, ua, grey = (np.array(to_rgb(c)) for c in (RU, UA, GREY))
    c = np.asarray(control)[:, None]
    out = np.where(c >= hi, ru * 0.75 + 0.25, np.where(c <= 1 - hi, ua * 0.6 + 0.4, grey))
    # the grey zone leans towards whoever has more of it, so a class can see which way it is going
    lean = np.clip((c - 0.5) * 2.0, -1, 1)
    tint = np.where(lean > 0, grey + (ru - grey) * lean * 0.35, grey + (ua - grey) * (-lean) * 0.35)
    return np.where((c > 1 - hi) & (c < hi), tint, out)


def draw_map(model: WargameModel, control: np.ndarray, *, units=(), title: str = "", width_in: float = 7.0,
             labels: bool = True, dpi: int = 90) -> str:
    """A map of control (and units) as a data URI: Russian red, Ukrainian blue, contested grey."""
    from matplotlib.collections import PolyCollection

    plt = _plt()
    hm = model.map
    polys = _hex_polys(hm)
    xs, ys = polys[..., 0], polys[..., 1]
    aspect = (ys.max() - ys.min()) / max(xs.max() - xs.min(), 1e-9)
    fig, ax = plt.subplots(figsize=(width_in, width_in * aspect + (0.4 if title else 0.1)), dpi=dpi)
    ax.add_collection(PolyCollection(polys, facecolors=_control_colours(control, model.p.control.contested_high),
                                     edgecolors="none", antialiased=False))
    obj_hexes = np.unique(np.concatenate([h for h in model.objective_hexes.values() if h.size] or [np.zeros(0, int)]))
    if obj_hexes.size:
        ax.add_collection(PolyCollection(polys[obj_hexes.astype(int)], facecolors="none", edgecolors="#222",
                                         linewidths=0.6 if labels else 0.3))
    if units:
        for side, colour in (("ru", "#7b1e14"), ("ua", "#12456b")):
            pts = [(hm.x_km[h], hm.y_km[h], s) for h, sd, s in units if sd == side]
            if pts:
                a = np.array(pts)
                ax.scatter(a[:, 0], a[:, 1], s=(12 if labels else 4) * (0.4 + a[:, 2]), c=colour, marker="s",
                           edgecolors="white", linewidths=0.4, zorder=3)
    if labels:
        big = sorted((p for p in hm.places if p.hex >= 0 and p.kind in ("city", "town")),
                     key=lambda p: -(p.population or 0))[:14]
        for p in big:
            ax.text(hm.x_km[p.hex], hm.y_km[p.hex], p.name, fontsize=7, ha="center", va="bottom", color="#111",
                    zorder=4, bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.6})
    ax.set_xlim(xs.min(), xs.max())
    ax.set_ylim(ys.max(), ys.min())  # y grows southwards
    ax.set_aspect("equal")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=10 if labels else 8)
    return _png(fig)


def _dates(played: Played) -> list[dt.date]:
    m = played.model
    return [m.date_of_turn(t) for t in range(len(played.controls))]


def area_plot(played: Played, history: list[tuple[dt.date, float]] | None = None) -> str:
    """Area each side holds, and the contested area, over the game (with the real occupied area if given)."""
    plt = _plt()
    rows = played.model.metrics
    dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    fig, ax = plt.subplots(figsize=(7.2, 3.4), dpi=90)
    ax.plot(dates, [r["ru_km2"] for r in rows], color=RU, lw=2, label="held by Russia (game)")
    ax.plot(dates, [r["ua_km2"] for r in rows], color=UA, lw=2, label="held by Ukraine (game)")
    ax.plot(dates, [r["contested_km2"] for r in rows], color="#8a7f63", lw=2, ls="--", label="contested (game)")
    if history:
        ax.plot([d for d, _ in history], [v for _, v in history], color="black", lw=1.5, ls=":",
                label="occupied, DeepStateMap (real)")
    return _dated_chart(fig, ax, "km²")


def _dated_chart(fig, ax, ylabel: str) -> str:
    """The common finish of a chart over dates: label, grid, legend, slanted dates, inlined as a PNG."""
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.autofmt_xdate()
    return _png(fig)


def loss_plot(played: Played) -> str:
    """Cumulative losses of each side by cause: who paid for the ground, and how."""
    plt = _plt()
    from sim.model import LOSS_CAUSES

    rows = played.model.metrics
    dates = [dt.date.fromisoformat(r["date"]) for r in rows]
    fig, axes = plt.subplots(1, 2, figsize=(7.2, 3.0), dpi=90, sharey=True)
    for ax, side, name in zip(axes, ("ru", "ua"), ("Russian losses", "Ukrainian losses"), strict=True):
        stacks = [[r.get(f"{side}_loss_{c}", 0.0) for r in rows] for c in LOSS_CAUSES]
        ax.stackplot(dates, stacks, labels=LOSS_CAUSES, colors=plt.cm.tab10.colors[: len(LOSS_CAUSES)])
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    axes[0].set_ylabel("personnel (cumulative)")
    axes[1].legend(fontsize=7, loc="upper left")
    return _png(fig)


# ------------------------------------------------------------------------------------------------ batch
def read_batch(batch_dir: str | Path) -> dict[str, Any]:
    """The runs and per-turn series of a `wargame batch` folder."""
    d = Path(batch_dir)
    try:
        with open(d / "runs.csv", newline="") as fh:
            runs = list(csv.DictReader(fh))
        with open(d / "timeseries.csv", newline="") as fh:
            series = list(csv.DictReader(fh))
    except OSError:
        raise ReportError(f"{d} is not a batch folder (expected runs.csv and timeseries.csv from `wargame batch`)"
                          ) from None
    scenario = None
    with contextlib.suppress(OSError, ValueError, KeyError):
        scenario = json.loads((d / "manifest.json").read_text())["scenario"]["id"]
    return {"runs": runs, "series": series, "scenario": scenario, "dir": str(d)}


def _f(value: str) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def batch_comparison(played: Played, batch: dict[str, Any]) -> dict[str, Any]:
    """Where the class's game falls in the batch: percentile of final area and capture dates against quantiles."""
    m = played.model
    finals = np.array([v for r in batch["runs"] if (v := _f(r.get("ru_km2_end"))) is not None])
    game_final = float(m.metrics[-1]["ru_km2"])
    pct = float(100.0 * ((finals < game_final).sum() + 0.5 * (finals == game_final).sum()) / max(len(finals), 1))
    captures = []
    for obj in m.objective_hexes:
        dates = sorted(r.get(f"first_change:{obj}") or "" for r in batch["runs"])
        changed = [x for x in dates if x]
        quant = {}
        if changed:
            ords = np.array([dt.date.fromisoformat(x).toordinal() for x in changed])
            quant = {q: dt.date.fromordinal(int(np.quantile(ords, q / 100))).isoformat() for q in (10, 50, 90)}
        captures.append({"objective": obj, "game": m.objective_first_change.get(obj),
                         "share": len(changed) / max(len(dates), 1), **quant})
    return {"runs": len(finals), "game_final": game_final, "percentile": pct, "finals": finals,
            "quantiles": {q: float(np.quantile(finals, q / 100)) for q in (5, 25, 50, 75, 95)} if len(finals) else {},
            "captures": captures}


def fan_chart(played: Played, batch: dict[str, Any]) -> str:
    """The batch's spread of Russian-held area by turn (5-95 % and 25-75 % bands) with the class's game on top."""
    plt = _plt()
    by_turn: dict[int, list[float]] = {}
    dates: dict[int, str] = {}
    for row in batch["series"]:
        t, v = int(row["turn"]), _f(row.get("ru_km2"))
        if v is not None:
            by_turn.setdefault(t, []).append(v)
            dates[t] = row["date"]
    turns = sorted(by_turn)
    x = [dt.date.fromisoformat(dates[t]) for t in turns]
    q = {p: [float(np.quantile(by_turn[t], p / 100)) for t in turns] for p in (5, 25, 50, 75, 95)}
    fig, ax = plt.subplots(figsize=(7.2, 3.4), dpi=90)
    ax.fill_between(x, q[5], q[95], color=RU, alpha=0.15, label="batch 5-95 %")
    ax.fill_between(x, q[25], q[75], color=RU, alpha=0.3, label="batch 25-75 %")
    ax.plot(x, q[50], color=RU, lw=1, ls="--", label="batch median")
    rows = played.model.metrics
    ax.plot([dt.date.fromisoformat(r["date"]) for r in rows], [r["ru_km2"] for r in rows], color="black", lw=2.2,
            label="your game")
    return _dated_chart(fig, ax, "km² held by Russia")


# ------------------------------------------------------------------------------------------------ history
def read_history(directory: Path = CALIBRATION_DIR) -> dict[str, Any] | None:
    """Real occupied area by day and town-fall dates, read at run time from ../shared/calibration when present."""
    area_path, towns_path = directory / "occupied_area_train.csv", directory / "towns_first_occupied_train.csv"
    if not area_path.exists():
        return None
    with open(area_path, newline="") as fh:
        area = [(dt.datetime.strptime(r["date"], "%Y%m%d").date(), float(r["occupied_km2_in_box"]))
                for r in csv.DictReader(fh)]
    towns = []
    if towns_path.exists():
        with open(towns_path, newline="") as fh:
            for r in csv.DictReader(fh):
                text = r["first_occupied"]
                on_or_before = text.startswith("on or before")
                date = dt.datetime.strptime(text.split()[-1], "%Y%m%d").date()
                towns.append({"town": r["town"], "lat": float(r["lat"]), "lon": float(r["lon"]), "date": date,
                              "on_or_before": on_or_before})
    return {"area": area, "towns": towns, "source": str(directory)}


def history_applies(model: WargameModel, hist: dict[str, Any] | None) -> bool:
    """Only operational games whose dates overlap the real record are set against it."""
    if not hist or model.scenario.scale != "operational":
        return False
    first, last = hist["area"][0][0], hist["area"][-1][0]
    return model.date_of_turn(0) <= last and model.date >= first


def town_falls(played: Played, hist: dict[str, Any]) -> list[dict[str, Any]]:
    """For each real town on the map: when it fell in reality and when (if ever) it fell in the game."""
    m = played.model
    hi = m.p.control.contested_high
    out = []
    start = m.date_of_turn(0)
    for t in hist["towns"]:
        hid = int(m.map.hex_at_latlon(t["lat"], t["lon"]))
        if hid < 0:
            continue
        if played.controls[0][hid] >= hi:
            game = "held by Russia at the start"
        else:
            first = next((k for k, c in enumerate(played.controls) if c[hid] >= hi), None)
            game = "not taken" if first is None else m.date_of_turn(first).isoformat()
        real = ("before the game" if t["date"] <= start and t["on_or_before"] else t["date"].isoformat())
        diff = ""
        if game[:2] == "20" and real[:2] == "20":
            diff = f"{(dt.date.fromisoformat(game) - t['date']).days:+d} days"
        out.append({"town": t["town"], "real": real, "game": game, "difference": diff})
    return out


# ------------------------------------------------------------------------------------------------ claims
def place_hexes(model: WargameModel, name: str) -> np.ndarray:
    """The hexes of an objective, or of a named place (its hex and the ring around it)."""
    if name in model.objective_hexes:
        return model.objective_hexes[name]
    from sim.setup import area_hexes

    try:
        hid = model.map.place_hex(name)
    except ValueError:
        raise ReportError(f"claims name {name!r}, which is neither an objective ({', '.join(model.objective_hexes)})"
                          " nor a place on the map") from None
    return np.array(area_hexes(model.map, hid, 1), dtype=np.int64)


def claims_section_data(played: Played, claims_path: Path | None, analyst_path: Path | None) -> dict[str, Any]:
    m = played.model
    hi = m.p.control.contested_high
    start, days = m.date_of_turn(0), m.turn_days
    data: dict[str, Any] = {}
    if claims_path is not None:
        claims = cl.read_claims(claims_path, start, days)
        data["claims"] = [cl.score_claim(c, played.controls, place_hexes(m, c.place), hi) for c in claims]
    if analyst_path is not None:
        last = len(played.controls) - 1
        turn, judged = cl.read_analyst_map(analyst_path, start, days, last)
        turn = min(turn, last)
        truth = {k: cl.place_state(played.controls[turn], place_hexes(m, k), hi) for k in judged}
        data["analyst"] = (turn, cl.score_map(judged, truth))
    return data


# ------------------------------------------------------------------------------------------------ the page
CSS = """
body{font-family:Helvetica,Arial,sans-serif;margin:0;background:#f4f2ec;color:#1d232b;line-height:1.45}
header{background:#22262e;color:#f0f0ec;padding:1.4em 2em}
header h1{margin:0 0 .3em;font-size:1.9em}
header p{margin:.2em 0;color:#c5c8cf}
main{max-width:1180px;margin:0 auto;padding:1em 2em 3em}
section{background:#fff;border-radius:6px;padding:1em 1.4em;margin:1.2em 0;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h2{margin:.2em 0 .6em;font-size:1.35em;border-bottom:3px solid #c0392b;display:inline-block}
.maps{display:flex;flex-wrap:wrap;gap:.8em}
.maps figure{margin:0;flex:1 1 340px}
.strip{display:grid;grid-template-columns:repeat(4,1fr);gap:.6em}
.strip img{width:100%}
.strip figure{margin:0}
img{max-width:100%;height:auto;display:block}
figcaption{font-size:.85em;color:#555;text-align:center}
table{border-collapse:collapse;width:100%;font-size:.9em}
th,td{border-bottom:1px solid #e2ded3;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#efece4}
.kpi{display:flex;gap:1em;flex-wrap:wrap;margin:.6em 0}
.kpi div{background:#efece4;border-radius:5px;padding:.5em .9em;min-width:150px}
.kpi b{display:block;font-size:1.4em}
.ru{color:#a93226;font-weight:bold}.ua{color:#21618c;font-weight:bold}.grey{color:#7d6f4f;font-weight:bold}
.legend span{display:inline-block;width:1em;height:1em;vertical-align:middle;margin:0 .3em 0 1em;border-radius:2px}
.note{font-size:.88em;color:#555}
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _when(turn: int) -> str:
    """A map's moment in the words of the game window: the start, or after turn N (numbered from 1)."""
    return "start" if turn == 0 else f"after turn {turn}"


def _table(headers: list[str], rows: list[list[Any]], raw: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{v if i in raw else _e(v)}</td>" for i, v in enumerate(r)) + "</tr>"
                   for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _side_span(side: str | None) -> str:
    if side == "ru":
        return '<span class="ru">Russia</span>'
    if side == "ua":
        return '<span class="ua">Ukraine</span>'
    return '<span class="grey">contested</span>'


def choose_turns(played: Played, dates: list[dt.date] | None) -> list[int]:
    """Turn indices to show as big maps: the given dates, or start, middle and end."""
    last = len(played.controls) - 1
    if not dates:
        return sorted({0, last // 2, last})
    m = played.model
    start = m.date_of_turn(0)
    return [min(last, max(0, (d - start).days // m.turn_days)) for d in dates]


def key_events(model: WargameModel) -> list[tuple[int, str, str, str]]:
    """(turn, date, kind, text) of the events worth a debrief: flips summed per turn, the rest in full."""
    out = []
    inject_events = getattr(model, "inject_events", [])
    by_turn = [[e for e in inject_events if e.turn == t] + list(evs) for t, evs in enumerate(model.history)]
    for evs in by_turn:
        flips = [e for e in evs if e.kind == "flip"]
        for e in evs:
            if e.kind in KEY_KINDS or e.kind == "assault" and e.data.get("gain", 0) and len(out) < MAX_EVENTS // 2:
                out.append((e.turn, model.date_of_turn(e.turn).isoformat(), e.kind, e.text))
        if flips:
            ru = sum(e.side == "ru" for e in flips)
            sample = "; ".join(e.text for e in flips[:2])
            out.append((flips[0].turn, model.date_of_turn(flips[0].turn).isoformat(), "flips",
                        f"{len(flips)} hexes changed state ({ru} towards Russia, {len(flips) - ru} towards Ukraine). "
                        f"For example: {sample}"))
    if len(out) > MAX_EVENTS:
        keep = [r for r in out if r[2] in ("objective", "inject", "end")]
        rest = [r for r in out if r[2] not in ("objective", "inject", "end")]
        out = sorted(keep + rest[: max(0, MAX_EVENTS - len(keep))])
    return out


def build_report(source: str | Path, out: str | Path, *, batch_dir: str | Path | None = None,
                 dates: list[dt.date] | None = None, claims_path: str | Path | None = None,
                 analyst_path: str | Path | None = None, frames: int = 8,
                 calibration_dir: Path | None = None) -> Path:
    """Write the after-action review of the saved game ``source`` to ``out``; return its path."""
    played = replay_for_review(source)
    m = played.model
    sc = m.scenario
    hi = m.p.control.contested_high
    parts: list[str] = []
    o = m.outcome or {}
    last = len(played.controls) - 1
    end_row = m.metrics[-1]
    seed = m.seed if not isinstance(m.seed, np.random.SeedSequence) else f"{m.seed.entropy} / {m.seed.spawn_key}"
    injects = getattr(m, "inject_log", [])
    kpi = (f'<div class="kpi"><div>Result<b>{_e(o.get("result", "in progress"))}</b></div>'
           f'<div>Turns played<b>{m.turn}</b></div>'
           f'<div>Held by Russia at the end<b>{end_row["ru_km2"]:.0f} km²</b></div>'
           f'<div>Contested at the end<b>{end_row["contested_km2"]:.0f} km²</b></div>'
           f'<div>Losses RU / UA<b>{end_row.get("ru_losses", 0):.0f} / {end_row.get("ua_losses", 0):.0f}</b></div>'
           f'<div>White Cell injects<b>{len(injects)}</b></div></div>')
    parts.append(f"<section><h2>The game</h2><p>{_e(' '.join(sc.description.split()))}</p>{kpi}"
                 f"<p>{_e(o.get('reason', 'The game has not ended.'))}</p>"
                 f'<p class="note">Scenario <code>{_e(sc.id)}</code>, seed {_e(seed)}, {m.turn_days}-day turns '
                 f"from {m.date_of_turn(0)} to {m.date_of_turn(last)}; parameter changes: "
                 f"{_e(', '.join(f'{k}={v}' for k, v in m.overrides.items()) or 'none')}. The review replays the "
                 f"save, so it shows exactly what the players saw.</p></section>")

    legend = (f'<p class="legend"><span style="background:{RU}"></span>held by Russia'
              f'<span style="background:{UA}"></span>held by Ukraine'
              f'<span style="background:{GREY}"></span>contested (no-man\'s land; tinted towards whoever leans)'
              '<span style="background:#fff;border:1px solid #222"></span>objectives, squares: units</p>')
    figs = []
    for t in choose_turns(played, dates):
        img = draw_map(m, played.controls[t], units=played.units[t],
                       title=f"{m.date_of_turn(t)} ({_when(t)})", width_in=5.2)
        figs.append(f'<figure><img src="{img}" alt="The front on {m.date_of_turn(t)}">'
                    f"<figcaption>{m.date_of_turn(t)} ({_when(t)})</figcaption></figure>")
    parts.append(f"<section><h2>The front</h2>{legend}<div class=\"maps\">{''.join(figs)}</div></section>")

    picks = sorted({round(i * last / max(frames - 1, 1)) for i in range(frames)})
    strip = []
    for t in picks:
        img = draw_map(m, played.controls[t], title="", width_in=2.6, labels=False, dpi=80)
        strip.append(f'<figure><img src="{img}" alt="Front on {m.date_of_turn(t)}">'
                     f"<figcaption>{m.date_of_turn(t)}</figcaption></figure>")
    parts.append(f"<section><h2>The front over time</h2><div class=\"strip\">{''.join(strip)}</div></section>")

    hist = read_history(calibration_dir or CALIBRATION_DIR)
    use_hist = history_applies(m, hist)
    hist_area = None
    if use_hist and hist is not None:
        lo, hi_d = m.date_of_turn(0), m.date_of_turn(last)
        hist_area = [(d, v) for d, v in hist["area"] if lo <= d <= hi_d]
    parts.append(f'<section><h2>Ground and losses</h2><div class="maps"><figure><img src="'
                 f'{area_plot(played, hist_area)}" alt="Area held over time"><figcaption>Area held</figcaption>'
                 f'</figure><figure><img src="{loss_plot(played)}" alt="Losses over time"><figcaption>Losses by '
                 "cause</figcaption></figure></div>"
                 '<p class="note">Contested ground is counted apart: a place both sides claim is usually a place '
                 "nobody holds.</p></section>")

    events = key_events(m)
    rows = [[t + 1, d, k, txt] for t, d, k, txt in events]  # turns numbered from 1, as the game window shows
    parts.append("<section><h2>Key events and why they happened</h2>"
                 + (_table(["turn", "date", "kind", "what happened and why"], rows) if rows else
                    "<p>No key events.</p>") + "</section>")

    if batch_dir is not None:
        batch = read_batch(batch_dir)
        if batch["scenario"] and batch["scenario"] != sc.id:
            raise ReportError(f"the batch in {batch_dir} is of scenario {batch['scenario']}, the game of {sc.id}")
        cmp_ = batch_comparison(played, batch)
        qs = cmp_["quantiles"]
        cap_rows = [[c["objective"], c["game"] or "never", f"{c['share']:.0%}", c.get(10, "-"), c.get(50, "-"),
                     c.get(90, "-")] for c in cmp_["captures"]]
        parts.append(
            f"<section><h2>Your game against {cmp_['runs']} computer games</h2>"
            f"<p>Russia ended your game holding <b>{cmp_['game_final']:.0f} km²</b>: more than in "
            f"<b>{cmp_['percentile']:.0f} %</b> of the batch's AI-against-AI games (median "
            f"{qs.get(50, float('nan')):.0f}, 90 % between {qs.get(5, float('nan')):.0f} and "
            f"{qs.get(95, float('nan')):.0f} km²).</p><img src=\"{fan_chart(played, batch)}\" alt=\"Fan chart\">"
            + _table(["objective", "changed hands in your game", "batch games where it did", "batch 10 %",
                      "batch median", "batch 90 %"], cap_rows)
            + f'<p class="note">Batch: {_e(batch["dir"])}.</p></section>')

    if use_hist and hist is not None:
        falls = town_falls(played, hist)
        parts.append("<section><h2>Against what actually happened</h2><p>The dotted line in the area plot is the "
                     "real occupied area (DeepStateMap) inside the same map box. Town centres: when they first fell "
                     "in reality and in your game.</p>"
                     + _table(["town", "fell in reality", "fell in your game", "game minus reality"],
                              [[f["town"], f["real"], f["game"], f["difference"]] for f in falls])
                     + f'<p class="note">Source: {_e(hist["source"])}. Calibration window only.</p></section>')

    if claims_path is not None or analyst_path is not None:
        data = claims_section_data(played, Path(claims_path) if claims_path else None,
                                   Path(analyst_path) if analyst_path else None)
        body = ""
        if "claims" in data:
            rows = []
            for s in data["claims"]:
                c = s.claim
                later = ("true when made" if s.turns_early == 0 else "never came true in the game"
                         if s.turns_early is None else f"came true {s.turns_early} turn(s) later")
                rows.append([_side_span(c.side), _e(c.place), _e(m.date_of_turn(c.turn)), _e(c.source),
                             f"<b>{_e(s.verdict)}</b>", f"{s.share_held:.0%} / {s.share_enemy:.0%}", _e(later)])
            body += _table(["claimed by", "place", "date", "source", "verdict", "hexes held by claimant / enemy",
                            "how far off"], rows, raw={0, 1, 2, 3, 4, 5, 6})
        if "analyst" in data:
            turn, score = data["analyst"]
            rows = [[_e(k), _side_span(j if j != "contested" else None), _side_span(t if t != "contested" else None),
                     "right" if j == t else "half right" if cl.pair_credit(j, t) == 0.5 else "wrong side"]
                    for k, (j, t) in score.items.items()]
            body += (f"<h3>The analysts' map of {m.date_of_turn(turn)}</h3><p>Exactly right: "
                     f"<b>{score.exact:.0%}</b>; with half credit where held ground was called contested (or the "
                     f"reverse): <b>{score.credit:.0%}</b>.</p>"
                     + _table(["place", "analysts said", "truth", "score"], rows, raw={0, 1, 2}))
        parts.append(f"<section><h2>Claims and reality</h2>{body}</section>")

    title = f"After-action review: {sc.title}"
    page = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body><header><h1>{_e(title)}</h1><p>{_e(sc.sides.ru.name)} against {_e(sc.sides.ua.name)}, "
            f"{m.date_of_turn(0)} to {m.date_of_turn(last)}</p></header><main>{''.join(parts)}</main>"
            f'<footer class="note" style="text-align:center;padding:1em">Made with <code>wargame report</code>. '
            f"Hex control: Russian at or above {hi:.2f}, Ukrainian at or below {1 - hi:.2f}.</footer></body></html>\n")
    out = Path(out)
    out.write_text(page, encoding="utf-8")
    return out
