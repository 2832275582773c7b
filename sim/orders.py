"""Orders: the only way anyone (a player, the AI, a replay, a batch) changes the game.

Orders are small frozen records that serialise to plain dicts, so a game is fully described by scenario +
parameters + seed + orders. The model checks each order when it is given and refuses an illegal one with a reason.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, fields
from typing import Any, ClassVar

_PLAIN = (str, int, float, bool, type(None))  # values asdict would hand back unchanged
_PLAIN_TYPES = frozenset(_PLAIN)  # the same, tested by exact type first: nearly every value of an order is one
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def _as_data(value: Any) -> Any:
    """A field value as `Order.to_dict` gives it: tuples and lists as lists, anything not plain copied."""
    if isinstance(value, tuple | list):
        return [v if isinstance(v, _PLAIN) else copy.deepcopy(v) for v in value]
    return value if isinstance(value, _PLAIN) else copy.deepcopy(value)


class IllegalOrder(ValueError):
    """An order the rules do not allow; the message says why."""


@dataclass(frozen=True)
class Order:
    kind: ClassVar[str] = ""
    unit: str

    @property
    def units(self) -> tuple[str, ...]:
        return (self.unit,)

    @property
    def busy(self) -> tuple[str, ...]:
        """Units this order takes up for the turn: its own, and any it calls on (a rotation's relief)."""
        return self.units

    def to_dict(self) -> dict[str, Any]:
        """The order as plain data: its kind, then its fields in order, tuples as lists.

        Equal to ``{"kind": kind, **dataclasses.asdict(self)}`` with tuples turned into lists, without asdict's
        recursive copy of every value: a batch saves every order of every run, thousands of them a game.
        """
        data: dict[str, Any] = {"kind": self.kind}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            data[name] = value if type(value) in _PLAIN_TYPES else _as_data(value)
        return data

    def describe(self) -> str:
        args = ", ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self) if f.name != "unit")
        return f"{self.kind} {self.unit}" + (f" ({args})" if args else "")


@dataclass(frozen=True)
class Move(Order):
    """Move along the cheapest path to ``to`` within this turn's movement allowance."""

    kind: ClassVar[str] = "move"
    to: int


@dataclass(frozen=True)
class Infiltrate(Order):
    """Send small groups from the unit's hex across the kill zone into ``target``."""

    kind: ClassVar[str] = "infiltrate"
    target: int
    personnel: float | None = None  # default: the doctrine's commit share of the unit
    group_size: int | None = None  # default: infiltration.group_size
    vehicle: str | None = None  # default: the unit type's vehicle (or on foot)


@dataclass(frozen=True)
class Assault(Order):
    """A formed assault on ``target`` by ``unit`` and any ``support`` units adjacent to it."""

    kind: ClassVar[str] = "assault"
    target: int
    support: tuple[str, ...] = ()

    @property
    def units(self) -> tuple[str, ...]:
        return (self.unit, *self.support)


@dataclass(frozen=True)
class DigIn(Order):
    """Dig in: build the next fortification level in the unit's hex."""

    kind: ClassVar[str] = "dig_in"


@dataclass(frozen=True)
class Withdraw(Order):
    """Fall back to ``to`` or, if not given, to the nearest safer hex, preferring prepared lines."""

    kind: ClassVar[str] = "withdraw"
    to: int | None = None


@dataclass(frozen=True)
class Rotate(Order):
    """Take the unit out of the line to rest; ``relief`` (a reserve unit nearby) takes its place."""

    kind: ClassVar[str] = "rotate"
    relief: str | None = None

    @property
    def busy(self) -> tuple[str, ...]:
        return (self.unit,) if self.relief is None else (self.unit, self.relief)


@dataclass(frozen=True)
class Reserve(Order):
    """Put the unit in reserve where it stands: it rests, and counts half as garrison."""

    kind: ClassVar[str] = "reserve"


@dataclass(frozen=True)
class Commit(Order):
    """Commit a reserve to ``to``: a move with double allowance that ends its rest."""

    kind: ClassVar[str] = "commit"
    to: int


@dataclass(frozen=True)
class Strike(Order):
    """A drone or fires unit concentrates on ``target``: ``strike`` its garrison or ``interdict`` its roads."""

    kind: ClassVar[str] = "strike"
    target: int
    mode: str = "strike"


ORDER_TYPES: dict[str, type[Order]] = {
    cls.kind: cls for cls in (Move, Infiltrate, Assault, DigIn, Withdraw, Rotate, Reserve, Commit, Strike)
}


def order_from_dict(data: dict[str, Any]) -> Order:
    """Rebuild an order from its dict form; raise IllegalOrder on an unknown kind or bad fields."""
    data = dict(data)
    kind = data.pop("kind", None)
    cls = ORDER_TYPES.get(kind)
    if cls is None:
        raise IllegalOrder(f"unknown order kind {kind!r}; expected one of {', '.join(ORDER_TYPES)}")
    if "support" in data:
        data["support"] = tuple(data["support"])
    try:
        return cls(**data)
    except TypeError as exc:
        raise IllegalOrder(f"bad {kind} order {data}: {exc}") from None
