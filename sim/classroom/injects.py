"""Injects: events a facilitator (the White Cell) drops into a game between turns.

An inject is data, like an order: a kind, the turn it is applied before, and its arguments. The model keeps every
inject it was given in ``inject_log``, so a save holds them and a replay applies each one at the same point
(before the orders of its turn), which reproduces the game bit for bit. Each inject emits an event saying what
changed and why, so the players' log and the after-action review show it.

Kinds and their arguments:

- ``weather``: ``state`` (clear, overcast, rain, fog, snow, wind): the turn about to be played has that weather.
- ``reinforce``: ``side``-less; ``type``, ``at`` (place name, [lat, lon] or {col, row}), optional ``id``, ``name``,
  ``personnel``: a unit arrives now.
- ``hold_back``: ``id`` of a scheduled reinforcement, optional ``turns`` (delay; 0 or absent cancels it).
- ``ceasefire``: ``at``, ``radius`` (hexes), ``turns``: no control change and no infiltration there.
- ``surge``: ``side``, ``at``, ``personnel``, optional ``radius``: hidden infiltrators appear.
- ``drone_shortage``: ``side``, ``factor`` (0..1), ``turns``: the side's drone crews fly at most that share.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario import WEATHER_STATES

if TYPE_CHECKING:
    from sim.model import WargameModel

KINDS = ("weather", "reinforce", "hold_back", "ceasefire", "surge", "drone_shortage")
SIDE_NAMES = {"ru": "Russia", "ua": "Ukraine"}


class InjectError(ValueError):
    """An inject that cannot be applied; the message says why."""


@dataclass(frozen=True)
class Inject:
    """One facilitator's event: applied before the orders of ``turn`` are resolved."""

    kind: str
    turn: int
    args: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "turn": self.turn, "args": dict(self.args)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Inject:
        if data.get("kind") not in KINDS:
            raise InjectError(f"unknown inject kind {data.get('kind')!r}; expected one of {', '.join(KINDS)}")
        return cls(str(data["kind"]), int(data.get("turn", 0)), dict(data.get("args", {})))


def parse_inject(text: str, turn: int) -> Inject:
    """An inject from the command-line form ``kind:key=value,key=value`` (or ``weather=fog`` for short)."""
    text = text.strip()
    if ":" not in text and "=" in text and text.split("=", 1)[0] in KINDS:
        kind, value = text.split("=", 1)
        key = {"weather": "state", "hold_back": "id"}.get(kind)
        if key is None:
            raise InjectError(f"write the {kind} inject as {kind}:key=value,..., e.g. {_EXAMPLES[kind]}")
        return Inject(kind, turn, {key: value})
    kind, _, rest = text.partition(":")
    if kind not in KINDS:
        raise InjectError(f"unknown inject kind {kind!r}; expected one of {', '.join(KINDS)}")
    args: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in rest.split(","))):
        key, eq, value = part.partition("=")
        if not eq:
            raise InjectError(f"inject argument {part!r} needs key=value, e.g. {_EXAMPLES[kind]}")
        args[key.strip()] = _value(value.strip())
    return Inject(kind, turn, args)


_EXAMPLES = {
    "weather": "weather=fog",
    "reinforce": "reinforce:type=ua_assault_squad,at=Rodynske,personnel=10",
    "hold_back": "hold_back:id=ru-ag3,turns=2",
    "ceasefire": "ceasefire:at=Pokrovsk,radius=2,turns=3",
    "surge": "surge:side=ru,at=Pokrovsk,personnel=40",
    "drone_shortage": "drone_shortage:side=ua,factor=0.5,turns=3",
}


def _value(text: str) -> Any:
    """Numbers as numbers, 'col/row' as a hex, anything else as text (a place name)."""
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    if "/" in text:
        col, _, row = text.partition("/")
        if col.isdigit() and row.isdigit():
            return {"col": int(col), "row": int(row)}
    return text


def _need(inj: Inject, *keys: str) -> None:
    missing = [k for k in keys if k not in inj.args]
    if missing:
        raise InjectError(f"{inj.kind} inject needs {', '.join(missing)}; e.g. {_EXAMPLES[inj.kind]}")


def _side(inj: Inject) -> str:
    side = inj.args.get("side")
    if side not in SIDE_NAMES:
        raise InjectError(f"{inj.kind} inject needs side=ru or side=ua, got {side!r}")
    return side


def _hex(m: WargameModel, at: Any) -> int:
    from sim.scenario import HexRef
    from sim.setup import LocationError, resolve_location

    loc = HexRef(**at) if isinstance(at, dict) else tuple(at) if isinstance(at, list) else at
    try:
        return resolve_location(m.map, loc)[0]
    except LocationError as exc:
        raise InjectError(f"inject place {at!r}: {exc}") from None


def _turns(inj: Inject, default: int = 1) -> int:
    turns = int(inj.args.get("turns", default))
    if turns < 0:
        raise InjectError(f"{inj.kind} inject: turns must be 0 or more, got {turns}")
    return turns


def apply_inject(m: WargameModel, inj: Inject) -> None:
    """Apply ``inj`` to the game now (between turns) and record it; raise InjectError if it cannot apply."""
    if m.over:
        raise InjectError("the game is over")
    if inj.turn != m.turn:
        raise InjectError(f"inject is for turn {inj.turn} but the game is at turn {m.turn}")
    if any(m.pending[s] for s in m.pending):
        raise InjectError("apply injects before any order of the turn is given (the orders may depend on them)")
    saved = m.events
    m.events = []
    _APPLY[inj.kind](m, inj)
    m.__dict__.setdefault("inject_log", []).append(inj)
    m.__dict__.setdefault("inject_events", []).extend(m.events)
    m.events = saved + m.events


def _weather(m: WargameModel, inj: Inject) -> None:
    from sim.rules import movement, weather

    _need(inj, "state")
    state = inj.args["state"]
    if state not in WEATHER_STATES:
        raise InjectError(f"weather inject: unknown state {state!r}; expected one of {', '.join(WEATHER_STATES)}")
    m.weather = weather.summarise(m.p, [state] * m.turn_days, m.date, state)
    movement.invalidate(m)
    m.emit("inject", "inject", None, None,
           "White Cell: the weather turns to {state} for this turn (drone visibility {vis:.2f}).",
           state=state, vis=m.weather["visibility"])


def _reinforce(m: WargameModel, inj: Inject) -> None:
    from sim.scenario import UnitEntry
    from sim.setup import add_unit

    _need(inj, "type", "at")
    hid = _hex(m, inj.args["at"])
    uid = str(inj.args.get("id") or f"wc-{inj.turn}-{len(m.units)}")
    if uid in m.units:
        raise InjectError(f"reinforce inject: a unit {uid!r} already exists")
    try:
        entry = UnitEntry(id=uid, type=inj.args["type"], at={"col": 0, "row": 0}, name=inj.args.get("name"),
                          personnel=inj.args.get("personnel"))
    except ValueError as exc:
        raise InjectError(f"reinforce inject: {str(exc).splitlines()[-1].strip()}") from None
    if m.own_share(entry.side)[hid] <= 1.0 - m.p.control.contested_high:
        raise InjectError(f"reinforce inject: {m.hex_label(hid)} is in enemy hands")
    u = add_unit(m, entry, hid)
    m.emit("inject", "inject", u.side, hid, "White Cell: {unit} arrives at {at} with {n:.0f} personnel.",
           unit=u.name, at=m.hex_label(hid), n=u.personnel)


def _hold_back(m: WargameModel, inj: Inject) -> None:
    _need(inj, "id")
    rid = str(inj.args["id"])
    turns = _turns(inj, 0)
    sc = m.scenario
    match = [r for r in sc.reinforcements if r.id == rid]
    if not match:
        known = ", ".join(r.id for r in sc.reinforcements) or "none"
        raise InjectError(f"hold_back inject: no scheduled reinforcement {rid!r} (scheduled: {known})")
    if rid in m.units:
        raise InjectError(f"hold_back inject: {rid} has already arrived")
    r = match[0]
    rest = [x for x in sc.reinforcements if x.id != rid]
    if turns:
        later = r.model_copy(update={"arrive": r.arrive + dt.timedelta(days=turns * m.turn_days)})
        rest.append(later)
        what = f"is delayed by {turns} turn(s), to {later.arrive}"
    else:
        what = "is held back and will not come"
    m.__dict__.setdefault("scenario_original", sc)
    m.scenario = sc.model_copy(update={"reinforcements": rest})
    m.emit("inject", "inject", r.side, None, "White Cell: {unit} {what}.", unit=r.name or r.id, what=what)


def _ceasefire(m: WargameModel, inj: Inject) -> None:
    from sim.setup import area_hexes

    _need(inj, "at")
    hid = _hex(m, inj.args["at"])
    radius = int(inj.args.get("radius", 1))
    turns = _turns(inj, 1)
    hexes = area_hexes(m.map, hid, radius)
    if getattr(m, "frozen_until", None) is None:
        m.frozen_until = np.zeros(m.map.n, dtype=np.int64)
        m.frozen_control = m.control.copy()
    m.frozen_until[hexes] = np.maximum(m.frozen_until[hexes], m.turn + turns)
    m.frozen_control[hexes] = m.control[hexes]
    m.emit("inject", "inject", None, hid,
           "White Cell: ceasefire talks freeze {n} hexes within {r} of {at} for {t} turn(s): no ground changes hands "
           "there and no infiltration goes in.", n=len(hexes), r=radius, at=m.hex_label(hid), t=turns)


def _surge(m: WargameModel, inj: Inject) -> None:
    from sim.setup import area_hexes

    _need(inj, "side", "at", "personnel")
    side = _side(inj)
    hid = _hex(m, inj.args["at"])
    n = float(inj.args["personnel"])
    if n <= 0:
        raise InjectError(f"surge inject: personnel must be more than 0, got {n}")
    hexes = area_hexes(m.map, hid, int(inj.args.get("radius", 0)))
    s = 0 if side == "ru" else 1
    m.presence[s, hexes] += n / len(hexes)
    m.books_in[side] += n
    m.emit("inject", "inject", side, hid,
           "White Cell: a surge of {n:.0f} {who} infiltrators appears unseen in {k} hex(es) around {at}.",
           n=n, who="Russian" if side == "ru" else "Ukrainian", k=len(hexes), at=m.hex_label(hid))


def _drone_shortage(m: WargameModel, inj: Inject) -> None:
    _need(inj, "side", "factor")
    side = _side(inj)
    factor = float(inj.args["factor"])
    if not 0.0 <= factor <= 1.0:
        raise InjectError(f"drone_shortage inject: factor must be 0 to 1, got {factor}")
    turns = _turns(inj, 1)
    # the crews' ceiling holds while the cap is re-applied after each turn's recovery (see infiltration.hunt_crews)
    m.__dict__.setdefault("crew_ceiling", {})[side] = (factor, m.turn + turns - 1)
    drones = m.side_units(side, "drone")
    for u in drones:
        u.status.crew = min(u.status.crew, factor)
    m.emit("inject", "inject", side, None,
           "White Cell: {who} drone shortage: {k} drone unit(s) fly at most {f:.0%} of their sorties for {t} turn(s).",
           who=SIDE_NAMES[side], k=len(drones), f=factor, t=turns)


_APPLY = {"weather": _weather, "reinforce": _reinforce, "hold_back": _hold_back, "ceasefire": _ceasefire,
          "surge": _surge, "drone_shortage": _drone_shortage}
