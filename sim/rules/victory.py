"""Victory and metrics: what each turn adds to the record, and who is winning.

Metrics per turn: area each side holds and the contested area (km2), losses by side and cause, supply states,
pockets, objectives held. Victory follows the scenario: sudden-death holds, else victory points (objectives held
at the end, points for each turn Ukraine holds an objective, and Ukraine's points for the price Russia paid per km2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from sim.units import SIDES, SUPPLY_STATES

if TYPE_CHECKING:
    from sim.model import WargameModel


def holder(m: WargameModel, hexes: np.ndarray, share: float | None = None) -> str | None:
    """Who holds a set of hexes: the side with mean control beyond the hold threshold, else None."""
    if hexes.size == 0:
        return None
    hi = m.p.control.contested_high if share is None else share
    c = mean_control(m, hexes)
    return "ru" if c >= hi else "ua" if c <= 1.0 - hi else None


def mean_control(m: WargameModel, hexes: np.ndarray) -> float:
    """``m.control[hexes].mean()`` bit for bit (numpy's mean is this sum over the count), without ``mean``'s
    overhead: the objectives are looked at several times a turn."""
    return float(m.control[hexes].sum()) / hexes.size


def metrics(m: WargameModel) -> dict[str, Any]:
    hi = m.p.control.contested_high
    area = m.map.area_km2
    c = m.control
    row: dict[str, Any] = {
        "turn": m.turn, "date": m.date.isoformat(),
        "ru_km2": float(np.count_nonzero(c >= hi) * area), "ua_km2": float(np.count_nonzero(c <= 1 - hi) * area),
        "contested_km2": float(np.count_nonzero((c > 1 - hi) & (c < hi)) * area),
        "ru_control_km2": float(c.sum() * area),
    }
    for side in SIDES:
        # one pass for the head count and the supply states, counted below (a Counter cost three times as much)
        personnel, supply = 0.0, []
        for u in m.side_units(side):
            st = u.status
            personnel += st.personnel
            supply.append(st.supply)
        row[f"{side}_personnel"] = float(personnel)
        row[f"{side}_presence"] = float(m.presence[0 if side == "ru" else 1].sum())
        for cause, value in m.losses[side].items():
            row[f"{side}_loss_{cause}"] = float(value)
        row[f"{side}_losses"] = float(sum(m.losses[side].values()))
        for state in SUPPLY_STATES:
            row[f"{side}_{state}"] = supply.count(state)
        pockets = [pk for pk in m.pocket_info if pk["side"] == side]
        row[f"{side}_pocket_personnel"] = float(sum(pk["personnel"] for pk in pockets))
        widths = [pk["corridor_km"] for pk in pockets]
        row[f"{side}_min_corridor_km"] = float(min(widths)) if widths else float("nan")
    for name, hexes in m.objective_hexes.items():
        row[f"obj:{name}"] = holder(m, hexes) or "contested"
    return row


def _score(m: WargameModel) -> dict[str, float]:
    v = m.scenario.victory
    ru = ua = 0.0
    for ob in m.scenario.objectives:
        who = holder(m, m.objective_hexes[ob.name])
        if who == "ru":
            ru += ob.points
        elif who == "ua":
            ua += ob.points
    ua += getattr(m, "hold_points", 0.0)
    gained = max(m.metrics[-1]["ru_control_km2"] - m.metrics[0]["ru_control_km2"], 1.0)
    cost = sum(m.losses["ru"].values()) / gained
    ua += max(0.0, cost - v.ru_cost_per_km2) * v.cost_points
    return {"ru": round(ru, 2), "ua": round(ua, 2), "ru_cost_per_km2": round(cost, 1)}


def check(m: WargameModel) -> None:
    """Per-turn victory bookkeeping; ends the game on a sudden death or at the last turn."""
    sc = m.scenario
    for ob in sc.objectives:
        if ob.hold_points and holder(m, m.objective_hexes[ob.name]) == "ua":
            m.hold_points = getattr(m, "hold_points", 0.0) + ob.hold_points
    for sd in sc.victory.sudden_death:
        if sd.by is not None and m.date > sd.by:
            continue
        if all(holder(m, m.objective_hexes[name], sd.share) == sd.side for name in sd.objectives):
            _finish(m, sd.side, "decisive", f"{'Russia' if sd.side == 'ru' else 'Ukraine'} holds "
                    f"{', '.join(sd.objectives)}" + (f" by {sd.by}" if sd.by else ""))
            return
    if m.turn >= sc.calendar.turns:
        score = _score(m)
        margin = score["ru"] - score["ua"]
        if abs(margin) < sc.victory.margin:
            _finish(m, None, "draw", f"victory points {score['ru']} to {score['ua']}: within the margin")
        else:
            winner = "ru" if margin > 0 else "ua"
            _finish(m, winner, "marginal", f"victory points {score['ru']} (Russia) to {score['ua']} (Ukraine)")


def _finish(m: WargameModel, winner: str | None, level: str, why: str) -> None:
    score = _score(m)
    m.outcome = {"winner": winner, "level": level, "reason": why, "turn": m.turn, "date": m.date.isoformat(),
                 "ru_points": score["ru"], "ua_points": score["ua"], "ru_cost_per_km2": score["ru_cost_per_km2"],
                 "result": "draw" if winner is None else f"{winner}_{level}"}
    m.emit("victory", "end", winner, None, "Game over on {date}: {result} ({why}).", date=m.date.isoformat(),
           result=m.outcome["result"], why=why)
