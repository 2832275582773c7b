"""Which orders the rules allow. Each refusal says why, in words a player understands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.orders import (
    Assault,
    Commit,
    DigIn,
    IllegalOrder,
    Infiltrate,
    Move,
    Order,
    Reserve,
    Rotate,
    Strike,
    Withdraw,
)
from sim.rules.infiltration import committed, left_to_send
from sim.rules.movement import breakout_target, reachable, withdrawal_target
from sim.units import VEHICLES

if TYPE_CHECKING:
    from sim.model import WargameModel


def _refuse(reason: str) -> None:
    raise IllegalOrder(reason)


def _hex_ok(m: WargameModel, hid, what: str) -> None:
    if not isinstance(hid, int) or isinstance(hid, bool) or not (0 <= hid < m.map.n):
        _refuse(f"{what} {hid!r} is not a hex on this map (0 to {m.map.n - 1})")


def _another_infiltration(m: WargameModel, order: Order | None, unit) -> bool:
    """A unit whose only orders this turn are infiltrations may send more groups to other hexes (notes §1.2:
    detachments seep in at many points at once); the personnel check below keeps the total within the cap."""
    if not isinstance(order, Infiltrate):
        return False
    mine = m.pending_for(unit.side, unit.uid)
    return all(isinstance(o, Infiltrate) and o.unit == unit.uid and o.target != order.target for o in mine)


def check(m: WargameModel, order: Order) -> None:
    """Raise IllegalOrder if ``order`` may not be given now."""
    if not isinstance(order, Order):
        _refuse(f"not an order: {order!r}")
    busy = m.ordered_units()
    names = order.units
    if len(names) == 1:  # one unit is of one side and named once: only an assault with support names several
        units = [_free_unit(m, names[0], order, busy)]
    else:
        units = [_free_unit(m, uid, order, busy) for uid in names]
        if len({u.side for u in units}) > 1:
            _refuse("units of both sides cannot share an order")
        if len(set(names)) != len(names):
            _refuse("a unit is named twice in the order")
    kind_check = _KIND_CHECKS.get(type(order)) or next(
        (f for kind, f in _KIND_CHECKS.items() if isinstance(order, kind)), None)  # a subclass of an order kind
    if kind_check is None:
        _refuse(f"unknown order {order!r}")
    kind_check(m, order, units, busy)


def _free_unit(m: WargameModel, uid: str, order: Order | None, busy: set[str]):
    """The unit called ``uid``, if it is alive and free to take ``order`` (None: any order but an infiltration)."""
    u = m.units.get(uid)
    if u is None:
        _refuse(f"no unit called {uid!r}")
    if u.status.personnel < 1.0:  # not u.alive
        _refuse(f"{u.name} has no one left")
    if uid in busy and not _another_infiltration(m, order, u):
        _refuse(f"{u.name} already has an order this turn; undo it first")
    return u


def _check_move(m: WargameModel, order: Move | Commit, units: list, busy: set[str]) -> None:
    unit = units[0]
    _hex_ok(m, order.to, "destination")
    commit = isinstance(order, Commit)
    if commit and not unit.status.in_reserve:
        _refuse(f"{unit.name} is not in reserve; use move")
    if order.to == unit.hex:
        _refuse(f"{unit.name} is already there")
    if order.to not in reachable(m, unit, commit=commit):
        _refuse(f"{m.hex_label(order.to)} is out of {unit.name}'s reach this turn (distance, terrain, rivers, "
                "enemy ground or zones of control)")


def _check_infiltrate(m: WargameModel, order: Infiltrate, units: list, busy: set[str]) -> None:
    unit = units[0]
    _hex_ok(m, order.target, "target")
    if not unit.utype.can_infiltrate:
        _refuse(f"{unit.name} ({unit.utype.name}) cannot infiltrate; it is not light infantry")
    rules = m.p.infiltration
    d = int(m.map.distances_from(unit.hex)[order.target])  # cached per hex: the AI asked the same already
    max_d = max(1, int(rules.range_km / m.map.spec.hex_km))
    if d < 1 or d > max_d:
        _refuse(f"the target must be 1 to {max_d} hexes away ({rules.range_km:g} km); it is {d}")
    if m.own_share_at(unit.side, order.target) >= m.p.control.contested_high:
        _refuse(f"{m.hex_label(order.target)} is already held by your side")
    sent, left = left_to_send(m, unit)
    if order.personnel is not None and not (1 <= order.personnel <= left):
        _refuse(f"commit between 1 and {left:.0f} personnel ({rules.max_commit_share:.0%} of the "
                f"unit in a turn{f', less {sent:.0f} already sent' if sent else ''})")
    if order.personnel is None and sent and committed(m, order) > left:
        _refuse(f"{unit.name} has only {max(left, 0):.0f} more personnel to send this turn; give a number")
    if order.group_size is not None and not (1 <= order.group_size <= 12):
        _refuse("group size must be 1 to 12")
    if order.vehicle is not None and order.vehicle not in VEHICLES:
        _refuse(f"vehicle must be one of {', '.join(VEHICLES)}")


def _check_assault(m: WargameModel, order: Assault, units: list, busy: set[str]) -> None:
    _hex_ok(m, order.target, "target")
    for u in units:
        _may_assault(u)
        around = m.map.nbr[u.hex].tolist()  # exactly the hexes one step away
        if order.target not in around:
            _refuse(f"{u.name} must be next to {m.hex_label(order.target)} to assault it")
        barrier = _barrier(m, u, around.index(order.target))
        if barrier:
            _refuse(f"{u.name}'s vehicles cannot cross the {barrier} into the target; infiltrate on foot instead")
    if m.own_share_at(units[0].side, order.target) >= m.p.control.contested_high:
        _refuse(f"{m.hex_label(order.target)} is already held by your side")


def assault_targets(m: WargameModel, unit) -> list[int]:
    """The hexes ``unit`` may assault alone now, in neighbour order: each one `check` accepts as
    ``Assault(unit.uid, hex)``, with the unit's own checks made once rather than once a neighbour (the AI weighs
    every neighbour of every unit at the front)."""
    hi = m.p.control.contested_high
    around = m.map.nbr[unit.hex].tolist()
    targets = [k for k, h in enumerate(around) if h >= 0 and m.own_share_at(unit.side, h) < hi]
    if not targets:
        return []
    try:
        _may_assault(_free_unit(m, unit.uid, None, m.ordered_units()))
    except IllegalOrder:
        return []
    return [around[k] for k in targets if not _barrier(m, unit, k)]


def _may_assault(u) -> None:
    if u.utype.role != "manoeuvre":
        _refuse(f"{u.name} is not a manoeuvre unit; drones and fires support with strike orders")
    if u.status.in_reserve:
        _refuse(f"{u.name} is in reserve; commit it first")


def _barrier(m: WargameModel, u, k: int) -> str:
    """What stops ``u``'s vehicles assaulting across its hex's side ``k`` ("river" or "anti-tank obstacle"), or ""."""
    if u.utype.mobility == "foot" or m.map.road[u.hex, k] or not (m.obstacle[u.hex, k] or m.map.river[u.hex, k]):
        return ""
    return "river" if m.map.river[u.hex, k] else "anti-tank obstacle"


def _check_dig_in(m: WargameModel, order: DigIn, units: list, busy: set[str]) -> None:
    unit = units[0]
    if unit.utype.role != "manoeuvre":
        _refuse(f"{unit.name} does not dig lines; manoeuvre units do")
    if m.fort[unit.hex] >= 3:
        _refuse("the works here are already at the highest level")


def _check_withdraw(m: WargameModel, order: Withdraw, units: list, busy: set[str]) -> None:
    unit = units[0]
    if order.to is not None:
        _hex_ok(m, order.to, "destination")
        if order.to not in reachable(m, unit):
            _refuse(f"{m.hex_label(order.to)} is out of reach this turn")
    elif unit.status.supply == "encircled":
        if breakout_target(m, unit) is None:
            _refuse(f"{unit.name} is encircled with no ground of yours within {m.p.supply.breakout_km:g} km "
                    "to break out to")
    elif withdrawal_target(m, unit) is None:
        _refuse(f"{unit.name} has no safer hex within reach")


def _check_rotate(m: WargameModel, order: Rotate, units: list, busy: set[str]) -> None:
    unit = units[0]
    if order.relief is not None:
        relief = m.units.get(order.relief)
        if relief is None or relief.side != unit.side:
            _refuse(f"no unit of yours called {order.relief!r} to relieve {unit.name}")
        if order.relief in busy:
            _refuse(f"{relief.name} already has an order this turn")
        if not relief.status.in_reserve:
            _refuse(f"{relief.name} is not in reserve")
        if unit.hex not in reachable(m, relief):
            _refuse(f"{relief.name} cannot reach {unit.name} this turn")
    if unit.status.in_reserve:
        _refuse(f"{unit.name} is already resting in reserve")


def _check_reserve(m: WargameModel, order: Reserve, units: list, busy: set[str]) -> None:
    if units[0].status.in_reserve:
        _refuse(f"{units[0].name} is already in reserve")


def _check_strike(m: WargameModel, order: Strike, units: list, busy: set[str]) -> None:
    unit = units[0]
    _hex_ok(m, order.target, "target")
    if unit.utype.sorties_per_day <= 0 and unit.utype.fires_per_day <= 0:
        _refuse(f"{unit.name} has no drones or guns to strike with")
    if order.mode not in ("strike", "interdict"):
        _refuse("mode must be strike or interdict")
    if m.map.distance_km(unit.hex, order.target) > unit.utype.range_km + 1e-9:
        _refuse(f"{m.hex_label(order.target)} is beyond {unit.name}'s range of {unit.utype.range_km:g} km")


# each kind's own check, found by the order's type rather than a chain of isinstance tests (the AI's orders are
# checked a few hundred times a turn)
_KIND_CHECKS = {Move: _check_move, Commit: _check_move, Infiltrate: _check_infiltrate, Assault: _check_assault,
                DigIn: _check_dig_in, Withdraw: _check_withdraw, Rotate: _check_rotate, Reserve: _check_reserve,
                Strike: _check_strike}
