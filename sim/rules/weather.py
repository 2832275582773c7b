"""Weather and season: daily weather drawn from the scenario's monthly climatology.

A turn's weather is summarised as its mean drone visibility, the number of drone-blind days, and the season flags
that other rules read: mud (movement), leaf-on (treeline concealment), cold (sorties) and snow cover (detection).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from sim.scenario import WEATHER_STATES
from sim.units import SIDE_NAMES

if TYPE_CHECKING:
    from sim.model import WargameModel


def _in_window(day_of_year: int, window) -> bool:
    lo, hi = window
    return lo <= day_of_year <= hi


def season(p, date: dt.date) -> dict[str, bool]:
    """Season flags for a date."""
    doy = date.timetuple().tm_yday
    return {
        "mud": _in_window(doy, p.weather.mud_spring) or _in_window(doy, p.weather.mud_autumn),
        "leaf_on": _in_window(doy, p.weather.leaf_on),
        "cold": date.month in (12, 1, 2),
    }


def draw_days(m: WargameModel, start: dt.date, days: int) -> list[str]:
    """Daily weather states for ``days`` days from ``start``.

    ``rng.choice(k, p=probs)`` draws one uniform number and looks it up in the normalised cumulative
    probabilities; drawing all the days' numbers in one call and looking them up gives the same states and leaves
    the generator where the per-day calls did, at a fraction of the cost.
    """
    clim = m.scenario.weather
    table = np.array([getattr(clim, s) for s in WEATHER_STATES])  # (states, 12)
    cdf_by_month = {}
    states = []
    for d, uniform in enumerate(m.rng.random(days).tolist()):
        month = (start + dt.timedelta(days=d)).month - 1
        cdf = cdf_by_month.get(month)
        if cdf is None:
            probs = table[:, month] / table[:, month].sum()
            cdf = cdf_by_month[month] = probs.cumsum()
            cdf /= cdf[-1]
        states.append(WEATHER_STATES[int(cdf.searchsorted(uniform, side="right"))])
    return states


def summarise(p, days: list[str], date: dt.date, forced: str | None = None) -> dict:
    """Turn summary of daily states: mean visibility, blind days, rain share and season flags."""
    if forced is not None:
        days = [forced] * len(days)
    vis = np.array([getattr(p.weather.visibility, s) for s in days])
    flags = season(p, date)
    rainy = sum(s in ("rain", "snow") for s in days) / len(days)
    return {
        "days": days,
        "visibility": float(vis.mean()),
        "blind_days": int((vis <= p.weather.blind_threshold).sum()),
        "blind_share": float((vis <= p.weather.blind_threshold).mean()),
        # ties go to the state seen first: a set of strings would let PYTHONHASHSEED pick, breaking replays
        "dominant": max(dict.fromkeys(days), key=days.count),
        "mud": flags["mud"] or rainy >= 0.5,
        "leaf_on": flags["leaf_on"],
        "cold": flags["cold"],
        "snow_cover": flags["cold"] and "snow" in days,
    }


def resolve(m: WargameModel) -> None:
    """Roll this turn's weather (or apply a facilitator's forced weather)."""
    days = draw_days(m, m.date, m.turn_days)
    forced = getattr(m, "forced_weather", None)
    m.weather = summarise(m.p, days, m.date, forced)
    w = m.weather
    m.emit("weather", "weather", None, None,
           "Weather: mostly {dominant}, drone visibility {visibility:.2f}, {blind} drone-blind day(s){mud}{leaf}.",
           dominant=w["dominant"], visibility=w["visibility"], blind=w["blind_days"],
           mud=", mud season" if w["mud"] else "", leaf=", leaves on" if w["leaf_on"] else ", leaves off")
    _announce_offensives(m)


def _announce_offensives(m: WargameModel) -> None:
    """Say when one of the scenario's offensives opens or ends, so the log and the review show why the pace changed.
    The first turn announces one already under way at the start (the set-up's own events are not kept)."""
    before = m.date - dt.timedelta(days=m.turn_days)
    for o in m.scenario.offensives:
        now, then = o.covers(m.date), o.covers(before) and m.turn > 0
        if now != then:
            m.emit("weather", "offensive", o.side, None,
                   "{who} opens the {name}, planned to {end}: its commanders send more groups to more points."
                   if now else "{who} ends the {name}.",
                   who=f"The {SIDE_NAMES[o.side]} command", name=o.name, end=o.end.isoformat())
