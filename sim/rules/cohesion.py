"""Cohesion, rotation, reinforcements and losses (notes §4.10, §4.12).

Cohesion falls with casualties, with weeks in the line, under encirclement and with no safe rear; it recovers in
reserve. Russian units shed fatigue by their loss tolerance. A unit below the break point falls back; an encircled
one breaks out if its side holds ground close enough (notes §4.7: breakout or surrender), else surrenders. Scheduled
reinforcements arrive, replacements top up tired units, and Ukrainian units lose a trickle to desertion.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model import WargameModel
    from sim.units import Unit


def resolve(m: WargameModel) -> None:
    from sim.rules.movement import _fallback_target, move_unit

    p = m.p.cohesion
    weeks = m.turn_days / 7.0
    # the same products the rule takes per unit, worked out once
    rest_gain, line_drop, two_weeks = p.rest_recovery * weeks, p.line_decay * weeks, 2 * weeks
    op_encircled_drop, encircled_drop = p.op_encircled_loss * weeks, p.encircled_loss * weeks
    exposed_drop, exposed_isr, break_point = p.exposed_rear_loss * weeks, p.exposed_rear_isr, p.break_point
    for u in units_by_uid(m):
        st = u.status
        if st.personnel < 1.0:  # not u.alive
            continue
        lost_now = sum(st.losses.values())
        start, lost_before = getattr(u, "_turn_start", None) or (st.personnel, lost_now)
        lost_pct = 100.0 * max(0.0, lost_now - lost_before) / max(start, 1.0)
        ru = u.side == "ru"
        drop = p.casualty_factor * lost_pct
        if st.in_reserve:
            st.weeks_in_line = max(0.0, st.weeks_in_line - two_weeks)
            gain = rest_gain
        else:
            st.weeks_in_line += weeks
            gain = 0.0
            if st.weeks_in_line > p.line_weeks:
                drop += line_drop
        if st.supply == "op_encircled":
            drop += op_encircled_drop
        elif st.supply == "encircled":
            drop += encircled_drop
        if m.isr[1 if ru else 0, u.hex] > exposed_isr:
            drop += exposed_drop
        tolerance = u.utype.loss_tolerance if ru else 0.0
        st.cohesion = float(min(100.0, max(0.0, st.cohesion - drop * (1.0 - tolerance) + gain)))
        manoeuvre = u.utype.role == "manoeuvre"
        if not ru and manoeuvre:
            desert = st.personnel * p.desertion * weeks * (1.0 - st.cohesion / 100.0)
            m.record_loss(u.side, "desertion", desert, u)
        if st.cohesion < break_point and st.supply == "encircled":
            _break_or_surrender(m, u)
        elif st.cohesion < break_point and not st.broken and manoeuvre:
            st.broken = True
            dest = _fallback_target(m, u, forced=True)
            if dest is not None:
                move_unit(m, u, dest, why="breaks and falls back,")
            st.in_reserve = True
            m.emit("cohesion", "break", u.side, u.hex,
                   "{unit} breaks at cohesion {coh:.0f} (below {bp:.0f}) and falls back into reserve.",
                   unit=u.name, coh=st.cohesion, bp=break_point)
        elif st.broken and st.cohesion >= break_point + 20:
            st.broken = False


def units_by_uid(m: WargameModel) -> list[Unit]:
    """Every unit, alive or not, in uid order (the order the turn phases treat them in): kept until a unit joins,
    since units are only ever added to ``m.units``."""
    cache = m.__dict__.get("_units_by_uid")
    if cache is None or cache[0] is not m.units or cache[1] != len(m.units):
        cache = m._units_by_uid = (m.units, len(m.units), sorted(m.units.values(), key=lambda u: u.uid))
    return cache[2]


def _break_or_surrender(m: WargameModel, u) -> None:
    """A unit that breaks in a pocket: its survivors slip out on foot if their side's ground is near, else they
    surrender. Without this a pocket held out for ever on the supply floor (half the Ukrainian units of a played-on
    2025 game sat in pockets behind the Russian line)."""
    from sim.rules.movement import break_out, breakout_target

    dest = breakout_target(m, u)
    if dest is not None:
        break_out(m, u, dest, why=f"breaks at cohesion {u.status.cohesion:.0f} and")
        u.status.broken = True
        u.status.in_reserve = u.utype.role == "manoeuvre"
        return
    n = m.record_loss(u.side, "encirclement", u.personnel, u)
    m.emit("cohesion", "surrender", u.side, u.hex,
           "{unit} surrenders in the pocket at {at}: {n:.0f} personnel lost, no ground of its side within {km:g} km.",
           unit=u.name, at=m.hex_label(u.hex), n=n, km=m.p.supply.breakout_km)


def reinforce(m: WargameModel) -> None:
    """Scheduled units arrive; weekly replacements fill the most depleted units of each side, of every kind."""
    from sim.setup import add_unit, resolve_location

    start = m.date
    end = m.date + dt.timedelta(days=m.turn_days)
    for r in m.scenario.reinforcements:
        if start <= r.arrive < end and r.id not in m.units:
            hid = resolve_location(m.map, r.at)[0]
            if m.own_share(r.side)[hid] <= 1.0 - m.p.control.contested_high:
                m.emit("reinforcement", "arrival_lost", r.side, hid,
                       "{unit} cannot arrive: its arrival point {at} is in enemy hands.",
                       unit=r.name or r.id, at=m.hex_label(hid))
                continue
            u = add_unit(m, r, hid)
            m.emit("reinforcement", "arrival", u.side, hid, "{unit} arrives at {at} with {n:.0f} personnel.",
                   unit=u.name, at=m.hex_label(hid), n=u.personnel)
    for rep in m.scenario.replacements:
        if (rep.start and end <= rep.start) or (rep.end and start > rep.end):
            continue
        amount = rep.per_week * m.turn_days / 7.0 * getattr(m.p.replacements, f"{rep.side}_scale")
        _replace(m, rep.side, amount)


def full_strength(m: WargameModel, unit) -> float:
    """The most replacements fill a unit to: its type's strength times the side's `replacements.<side>_strength_cap`."""
    return unit.utype.personnel * getattr(m.p.replacements, f"{unit.side}_strength_cap")


def _replace(m: WargameModel, side: str, amount: float) -> None:
    units = [u for u in m.side_units(side) if u.status.supply != "encircled"]  # drone crews and gunners too
    if not units or amount <= 0:
        return
    below_full = [full_strength(m, u) - u.personnel for u in units]  # negative for a unit above full strength
    deficit = [max(0.0, short) for short in below_full]
    total = sum(deficit)
    # replacements fill the side up to its units' full strength, no further: people out infiltrating rejoin a unit
    # when their ground is won, and a unit grown above strength by rejoiners makes up for another's losses
    room = sum(below_full) - float(m.presence[0 if side == "ru" else 1].sum())
    amount = min(amount, room)
    if total <= 0 or amount <= 0:
        return
    given = 0.0
    # by uid, the order the shares are summed in; a unit with no deficit would get a share of 0
    for short, u in sorted(((d, u) for d, u in zip(deficit, units, strict=True) if d > 0), key=lambda du: du[1].uid):
        share = min(short, amount * short / total)
        u.status.personnel += float(share)
        given += share
    m.books_in[side] += given
    m.emit("reinforcement", "replacements", side, None, "{who} replacements: {n:.0f} personnel join {k} units.",
           who="Russian" if side == "ru" else "Ukrainian", n=given, k=len(units))


def mark_turn_start(m: WargameModel) -> None:
    for u in m.units.values():
        u._turn_start = (u.status.personnel, sum(u.status.losses.values()))
