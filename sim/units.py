"""Units: mesa agents on the hex map, each a personnel pool of one type.

A unit's type (from `sim/data/unit_types.toml`) fixes what it is; the unit itself carries only what changes during a
game: where it is, how many people it has, its cohesion, supply state, posture and drone crew factor.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from mesa.discrete_space import CellAgent

SIDES = ("ru", "ua")
SIDE_NAMES = {"ru": "Russian", "ua": "Ukrainian"}
MOBILITIES = ("foot", "wheeled", "tracked")
VEHICLES = ("none", "motorcycle", "car", "apc")
SIZES = ("team", "squad", "platoon", "company", "battalion", "regiment", "brigade")
SYMBOLS = ("infantry", "mechanised", "armour", "drone", "artillery", "reconnaissance", "engineer")
ROLES = ("manoeuvre", "drone", "fires")
SUPPLY_STATES = ("supplied", "strained", "op_encircled", "encircled")


def other(side: str) -> str:
    """The opposing side."""
    return "ua" if side == "ru" else "ru"


@dataclass(frozen=True)
class UnitType:
    """What a kind of unit is and can do; the numbers are priors with their source."""

    key: str
    side: str
    scale: str
    name: str
    symbol: str
    size: str
    role: str
    personnel: int
    quality: float
    mobility: str
    vehicle: str = "none"
    can_infiltrate: bool = False
    loss_tolerance: float = 0.3
    sorties_per_day: float = 0.0
    recon: float = 0.0
    recon_km: float = 0.0
    range_km: float = 0.0
    fires_per_day: float = 0.0
    engineer: bool = False
    fire_brigade: bool = False  # a reserve the AI keeps back for breaches and reliefs rather than the line
    source: str = ""

    @property
    def mechanised(self) -> bool:
        return self.mobility != "foot" and self.role == "manoeuvre" and self.vehicle == "apc"


class UnitTypeError(ValueError):
    """The unit-type data is inconsistent."""


@cache
def unit_types() -> dict[str, UnitType]:
    """All unit types by key, checked once."""
    text = resources.files("sim.data").joinpath("unit_types.toml").read_text(encoding="utf-8")
    types = {}
    for key, row in tomllib.loads(text).items():
        try:
            ut = UnitType(key=key, **row)
        except TypeError as exc:
            raise UnitTypeError(f"unit type {key}: {exc}") from None
        for attr, allowed in (("side", SIDES), ("mobility", MOBILITIES), ("vehicle", VEHICLES), ("size", SIZES),
                              ("symbol", SYMBOLS), ("role", ROLES), ("scale", ("operational", "tactical"))):
            if getattr(ut, attr) not in allowed:
                raise UnitTypeError(f"unit type {key}: {attr} {getattr(ut, attr)!r} not in {allowed}")
        types[key] = ut
    return types


@dataclass
class UnitStatus:
    """The changing state of a unit, kept apart from the mesa agent so saves and tests can read it plainly."""

    personnel: float
    cohesion: float
    supply: str = "supplied"
    fort_work: float = 0.0  # days of digging done towards the next level in the current hex
    weeks_in_line: float = 0.0
    in_reserve: bool = False
    crew: float = 1.0  # drone crew factor: 1 with all operators, less after hunting by infiltrators
    broken: bool = False
    digging: bool = False
    losses: dict[str, float] = field(default_factory=dict)


_state_version = 0  # bumped by every write of a unit's personnel, reserve state or hex
_living_version = 0  # bumped when a unit is made, dies or comes back to life


def state_version() -> int:
    """A number that changes whenever any unit's personnel, reserve state or hex is written (or a unit is made).

    The model keeps its per-hex personnel while this number stays the same: the AI asks for it many times a turn
    with no unit changed in between.
    """
    return _state_version


def living_version() -> int:
    """A number that changes whenever a unit is made or `Unit.alive` changes (personnel crossing 1): the model
    keeps its lists of living units while it stays the same, through the rules' many small losses."""
    return _living_version


class _Tracked:
    """A `UnitStatus` field whose writes bump `state_version`. It has no ``__get__``: a read finds the value in
    the instance's dict as before, so only writes (a few hundred a turn) pay."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __set__(self, status: UnitStatus, value) -> None:
        global _state_version
        status.__dict__[self.name] = value
        _state_version += 1


class _TrackedPersonnel(_Tracked):
    """`UnitStatus.personnel`: tracked, and a write that makes or unmakes a living unit bumps `living_version`."""

    __slots__ = ()

    def __set__(self, status: UnitStatus, value) -> None:
        global _state_version, _living_version
        was = status.__dict__.get("personnel")
        status.__dict__["personnel"] = value
        _state_version += 1
        if was is None or (was >= 1.0) != (value >= 1.0):
            _living_version += 1


# set after @dataclass, which takes the defaults from the class body
UnitStatus.personnel = _TrackedPersonnel("personnel")
UnitStatus.in_reserve = _Tracked("in_reserve")


class Unit(CellAgent):
    """A unit on the map. Its hex id is cached in ``hex`` and kept in step with its mesa cell."""

    def __init__(self, model, uid: str, utype: UnitType, cell, name: str, personnel: float, cohesion: float,
                 quality: float | None = None):
        super().__init__(model)
        self.uid = uid
        self.utype = utype
        self.side = utype.side
        self.name = name
        self.quality = utype.quality if quality is None else quality
        self.status = UnitStatus(personnel=float(personnel), cohesion=float(cohesion))
        self.hex = -1
        self.place(cell)

    def place(self, cell) -> None:
        """Move the agent to ``cell`` (a mesa cell) and cache its hex id."""
        global _state_version
        self.cell = cell
        self.hex = cell.hid
        _state_version += 1

    @property
    def personnel(self) -> float:
        return self.status.personnel

    @property
    def alive(self) -> bool:
        return self.status.personnel >= 1.0

    def lose(self, amount: float, cause: str) -> float:
        """Remove up to ``amount`` personnel for ``cause``; return how many were actually lost."""
        amount = float(min(max(amount, 0.0), self.status.personnel))
        self.status.personnel -= amount
        self.status.losses[cause] = self.status.losses.get(cause, 0.0) + amount
        return amount

    def __repr__(self) -> str:
        return f"<Unit {self.uid} {self.utype.key} at {self.hex} {self.status.personnel:.0f}p>"
