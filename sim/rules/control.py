"""Control as a value per hex (0 = Ukrainian, 1 = Russian) with a contested grey zone, never instant flips.

Each turn, in every hex where someone is present, control moves by kappa (S_ru - w S_ua) / (S_ru + S_ua), where S
is each side's strength there (its garrison and presence) and w is theta for the side that holds the hex. A hex
only leaves the grey zone for the attacker once the attacker outnumbers the defender by `flip_ratio` for
`flip_turns` turns in a row, or the defender has nobody left there. Every change is logged with its reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.geo.terrain import Terrain
from sim.rules.cohesion import units_by_uid
from sim.rules.graph import neighbour_total
from sim.rules.victory import mean_control
from sim.units import SIDES

if TYPE_CHECKING:
    from sim.model import WargameModel


def garrison(m: WargameModel, side: str, personnel: np.ndarray | None = None) -> np.ndarray:
    """Personnel holding each hex for ``side``: units there, a share of units next door, and presence.
    ``personnel`` is the side's `manoeuvre_personnel`, if the caller has it."""
    s = 0 if side == "ru" else 1
    own = m.manoeuvre_personnel(side) if personnel is None else personnel
    spread = m.p.control.extra.garrison_spread
    from_neighbours = neighbour_total(m.map, own) * spread / 6.0
    holds = m.own_share(side) >= 0.5
    g = own + np.where(holds, from_neighbours, 0.0)
    return (g + m.presence[s]) * m.gap[s]


def frozen_mask(m: WargameModel) -> np.ndarray | None:
    """Hexes a facilitator's ceasefire inject has frozen this turn (sim.classroom.injects), or None."""
    until = getattr(m, "frozen_until", None)
    if until is None:
        return None
    mask = until > m.turn
    return mask if mask.any() else None


def _works_factor(m: WargameModel, hexes: np.ndarray, ru_holds: np.ndarray,
                  personnel: dict[str, np.ndarray]) -> np.ndarray:
    """How much manned works multiply the holder's garrison in ``hexes``: 1 + fort_weight x level, where the works
    are the holder's and it mans them (unmanned works count for nothing, notes §4.8). ``personnel`` holds each
    side's `manoeuvre_personnel`."""
    weight = m.p.control.fort_weight
    if weight <= 0:
        return np.ones(hexes.size)
    from sim.rules.infiltration import _manned

    holder = np.where(ru_holds, 0, 1)
    mans = np.where(ru_holds, _manned(m, "ru", hexes, personnel["ru"]), _manned(m, "ua", hexes, personnel["ua"]))
    own_works = m.fort_side[hexes] == holder
    return 1.0 + weight * m.fort[hexes] * (mans & own_works)


def resolve(m: WargameModel) -> None:
    p = m.p
    frozen = frozen_mask(m)
    if frozen is not None:  # classroom hook: a ceasefire pins control where it stood, undoing assaults there
        m.control[frozen] = m.frozen_control[frozen]
    # kappa is set for the operational hex; a smaller hex holds less ground and changes hands faster in proportion
    km = p.infiltration.kappa * m.turn_days / 7.0 * p.infiltration.kappa_hex_km / m.map.spec.hex_km
    hi, lo = p.control.contested_high, 1.0 - p.control.contested_high
    personnel = {side: m.manoeuvre_personnel(side) for side in SIDES}  # for the garrisons and who mans the works
    s_ru, s_ua = garrison(m, "ru", personnel["ru"]), garrison(m, "ua", personnel["ua"])
    total = s_ru + s_ua
    active = np.flatnonzero((total > 0.5) & ((np.minimum(s_ru, s_ua) > 0.5) | ((m.control > lo) & (m.control < hi))
                                              | ((s_ru > 0.5) & (m.control < hi)) | ((s_ua > 0.5) & (m.control > lo))))
    if frozen is not None:
        active = active[~frozen[active]]
    if active.size:
        _shift(m, active, s_ru, s_ua, km, personnel)
    _abandoned_ground(m, s_ru, s_ua, frozen)


def _shift(m: WargameModel, active: np.ndarray, s_ru: np.ndarray, s_ua: np.ndarray, km: float,
           personnel: dict[str, np.ndarray]) -> None:
    """Move control in the hexes where someone stands, by the balance of strength there (the module's rule); in a
    dense city core at `control.urban_pace` times the pace, so a city is taken block by block over weeks."""
    p = m.p
    hi, lo = p.control.contested_high, 1.0 - p.control.contested_high
    c0 = m.control[active].copy()
    ru_holds = c0 >= 0.5
    km = km * np.where(m.map.terrain[active] == int(Terrain.CITY), p.control.urban_pace, 1.0)  # street by street
    w_ru = np.where(ru_holds, p.infiltration.theta, 1.0)
    w_ua = np.where(ru_holds, 1.0, p.infiltration.theta)
    works = _works_factor(m, active, ru_holds, personnel)  # the holder's manned works count in the shift and the flip ratio
    a, b = s_ru[active] * np.where(ru_holds, works, 1.0), s_ua[active] * np.where(ru_holds, 1.0, works)
    pressure = (a * w_ru - b * w_ua) / (a * w_ru + b * w_ua)
    c1 = np.clip(c0 + km * pressure, 0.0, 1.0)
    # the grey zone holds until the attacker clearly outnumbers the defender for long enough
    ratio_ru = a / np.maximum(b, 1e-9)
    ratio_ua = b / np.maximum(a, 1e-9)
    ru_push = (c1 >= hi) & (c0 < 1.0)
    ua_push = (c1 <= lo) & (c0 > 0.0)
    ok_ru = ru_push & ((ratio_ru >= p.infiltration.flip_ratio) | (b < 0.5))
    ok_ua = ua_push & ((ratio_ua >= p.infiltration.flip_ratio) | (a < 0.5))
    fc = m.flip_count[active]
    fc = np.where(ok_ru | ok_ua, fc + 1, 0).astype(np.int8)
    flip_now = (fc >= p.infiltration.flip_turns) | (ok_ru & (b < 0.5)) | (ok_ua & (a < 0.5))
    c1 = np.where(ru_push & ~flip_now & (c0 < hi), np.minimum(c1, hi - 0.01), c1)
    c1 = np.where(ua_push & ~flip_now & (c0 > lo), np.maximum(c1, lo + 0.01), c1)
    c1 = np.where(flip_now & ru_push, 1.0, c1)
    c1 = np.where(flip_now & ua_push, 0.0, c1)
    m.flip_count[active] = np.where(flip_now, 0, fc)
    m.control[active] = c1
    _log_changes(m, active, c0, c1, a, b, flip_now)


def _abandoned_ground(m: WargameModel, s_ru: np.ndarray, s_ua: np.ndarray, frozen: np.ndarray | None) -> None:
    """Empty ground inside a pocket passes to the side around it, from the edge inwards.

    Nobody holds it and its holder cannot reach it, so the enemy walks in unopposed (Avdiivka, Vuhledar: once
    the defenders leave a cut-off salient, it is reported taken within days). Without this, an abandoned pocket
    would stay its holder's for ever, since the presence rule only moves control where someone stands.
    """
    p = m.p.control
    rate = min(1.0, p.vacuum_rate * m.turn_days / 7.0 * m.p.infiltration.kappa_hex_km / m.map.spec.hex_km)
    if rate <= 0:
        return
    hi, lo = p.contested_high, 1.0 - p.contested_high
    empty = (s_ru < 0.5) & (s_ua < 0.5)
    if frozen is not None:
        empty &= ~frozen
    for s, toward in ((1, 1.0), (0, -1.0)):  # Ukrainian pockets go to Russia, Russian ones to Ukraine
        not_yet_enemy = m.control < hi if s == 1 else m.control > lo
        hexes = np.flatnonzero(empty & not_yet_enemy & (m.pocket[s] >= 0))
        if hexes.size == 0:
            continue
        enemy_held = m.own_share("ru" if s == 1 else "ua") >= hi
        hexes = hexes[np.append(enemy_held, False)[m.map.nbr[hexes]].any(axis=1)]  # those on the pocket's edge
        c0 = m.control[hexes].copy()
        c1 = np.clip(c0 + toward * rate, 0.0, 1.0)
        c1 = np.where(c1 >= hi, 1.0, np.where(c1 <= lo, 0.0, c1))  # nobody is left to hold the grey zone
        m.control[hexes] = c1
        m.flip_count[hexes] = 0
        for h, before, after in zip(hexes.tolist(), c0.tolist(), c1.tolist(), strict=True):
            m.emit("control", "flip" if after in (0.0, 1.0) else "control", "ru" if s == 1 else "ua", h,
                   "{place}: control {c0:.2f} -> {c1:.2f} towards {toward}: nobody holds it and it is cut off "
                   "from {holder} supply, so the enemy walks in from the next hex.",
                   place=m.hex_label(h), c0=before, c1=after, toward="Russia" if s == 1 else "Ukraine",
                   holder="Ukrainian" if s == 1 else "Russian")


def _state(c: float, lo: float, hi: float) -> str:
    return "Russian-held" if c >= hi else "Ukrainian-held" if c <= lo else "contested"


def _log_changes(m, hexes, c0, c1, s_ru, s_ua, flipped) -> None:
    p = m.p
    hi, lo = p.control.contested_high, 1.0 - p.control.contested_high
    changed = np.flatnonzero(np.abs(c1 - c0) >= p.control.min_event_change)
    # the changed entries sliced once, as Python numbers, not indexed one field at a time
    for h, was, now, ru, ua, flip in zip(*(a[changed].tolist() for a in (hexes, c0, c1, s_ru, s_ua, flipped)),
                                         strict=True):
        before, after = _state(was, lo, hi), _state(now, lo, hi)
        to_ru = now > was
        kind = "flip" if flip or before != after else "control"
        m.emit("control", kind, "ru" if to_ru else "ua", h,
               "{place}: control {c0:.2f} -> {c1:.2f} towards {toward} ({before} -> {after}) because Russian "
               "strength {ru:.0f} faces Ukrainian {ua:.0f}{flip}.",
               place=m.hex_label(h), c0=was, c1=now, toward="Russia" if to_ru else "Ukraine", before=before,
               after=after, ru=ru, ua=ua,
               flip="; the attacker has outnumbered the defender long enough for the hex to change hands" if flip else "")
    for obj, hexes_obj in m.objective_hexes.items():
        if m.objective_first_change.get(obj) is None and hexes_obj.size:
            share = mean_control(m, hexes_obj)
            start = getattr(m, "objective_start_holder", {}).get(obj)
            now = "ru" if share >= hi else "ua" if share <= lo else None
            if start is not None and now is not None and now != start:
                m.objective_first_change[obj] = m.date_of_turn(m.turn + 1).isoformat()
                m.emit("control", "objective", now, int(hexes_obj[0]),
                       "Objective {obj} changes hands: {holder} now holds it (mean control {share:.2f}).",
                       obj=obj, holder="Russia" if now == "ru" else "Ukraine", share=share)


def overrun(m: WargameModel) -> None:
    """Units left in hexes the enemy now holds fall back, losing a share of their people."""
    from sim.rules.movement import _fallback_target

    lost_below = 1.0 - m.p.control.contested_high
    units = units_by_uid(m)
    # each unit's own share of its hex, read from both sides' maps laid end to end: control does not change in this
    # phase and a unit only moves when its own turn comes, so the few units to look at are known from the start
    slot = np.fromiter((u.hex if u.side == "ru" else m.map.n + u.hex for u in units), dtype=np.int64, count=len(units))
    lost_ground = np.concatenate((m.own_share("ru"), m.own_share("ua")))[slot] <= lost_below
    for u in [units[i] for i in np.flatnonzero(lost_ground).tolist()]:
        if u.alive:
            lost = m.record_loss(u.side, "overrun", u.personnel * 0.15, u)
            dest = _fallback_target(m, u, forced=True)
            at = m.hex_label(u.hex)
            if dest is not None:
                u.place(m.cells[dest])
            m.emit("control", "overrun", u.side, u.hex,
                   "{unit} is overrun at {at}, loses {lost:.0f} and falls back to {to}.",
                   unit=u.name, at=at, lost=lost, to=m.hex_label(u.hex))
