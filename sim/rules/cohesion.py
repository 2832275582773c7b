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


def resolve(m: WargameModel) -> None:
    p = m.p.cohesion
    weeks = m.turn_days / 7.0
    for u in sorted(m.units.values(), key=lambda u: u.uid):
        if not u.alive:
            continue
        st = u.status
        lost_now = sum(st.losses.values())
        start, lost_before = getattr(u, "_turn_start", None) or (st.personnel, lost_now)
        lost_pct = 100.0 * max(0.0, lost_now - lost_before) / max(start, 1.0)
        s = 0 if u.side == "ru" else 1
        drop = p.casualty_factor * lost_pct
        if st.in_reserve:
            st.weeks_in_line = max(0.0, st.weeks_in_line - 2 * weeks)
            gain = p.rest_recovery * weeks
        else:
            st.weeks_in_line += weeks
            gain = 0.0
            if st.weeks_in_line > p.line_weeks:
                drop += p.line_decay * weeks
        if st.supply == "op_encircled":
            drop += p.op_encircled_loss * weeks
        elif st.supply == "encircled":
            drop += p.encircled_loss * weeks
        if m.isr[1 - s, u.hex] > p.exposed_rear_isr:
            drop += p.exposed_rear_loss * weeks
        tolerance = u.utype.loss_tolerance if u.side == "ru" else 0.0
        st.cohesion = min(100.0, max(0.0, st.cohesion - drop * (1.0 - tolerance) + gain))
        if u.side == "ua" and u.utype.role == "manoeuvre":
            desert = st.personnel * m.p.cohesion.desertion * weeks * (1.0 - st.cohesion / 100.0)
            m.record_loss(u.side, "desertion", desert, u)
        if st.cohesion < p.break_point and st.supply == "encircled":
            _break_or_surrender(m, u)
        elif st.cohesion < p.break_point and not st.broken and u.utype.role == "manoeuvre":
            st.broken = True
            from sim.rules.movement import _fallback_target, move_unit

            dest = _fallback_target(m, u, forced=True)
            if dest is not None:
                move_unit(m, u, dest, why="breaks and falls back,")
            st.in_reserve = True
            m.emit("cohesion", "break", u.side, u.hex,
                   "{unit} breaks at cohesion {coh:.0f} (below {bp:.0f}) and falls back into reserve.",
                   unit=u.name, coh=st.cohesion, bp=p.break_point)
        elif st.broken and st.cohesion >= p.break_point + 20:
            st.broken = False


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
        u.status.personnel += share
        given += share
    m.books_in[side] += given
    m.emit("reinforcement", "replacements", side, None, "{who} replacements: {n:.0f} personnel join {k} units.",
           who="Russian" if side == "ru" else "Ukrainian", n=given, k=len(units))


def mark_turn_start(m: WargameModel) -> None:
    for u in m.units.values():
        u._turn_start = (u.status.personnel, sum(u.status.losses.values()))
