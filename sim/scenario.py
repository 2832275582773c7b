"""Scenarios as validated data: a TOML file says everything a game needs.

`load_scenario(path)` parses the TOML, validates it with pydantic (unknown fields are refused) and then checks it
against the map (place names exist, units stand on the map and not deep in enemy ground, dates in order). Every
problem comes back as one line that names the file, the field and what was expected, gathered in a ScenarioError.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.params import ParameterError, resolve
from sim.units import unit_types

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "scenarios"
WEATHER_STATES = ("clear", "overcast", "rain", "fog", "snow", "wind")


class ScenarioError(ValueError):
    """A scenario that cannot be used; ``problems`` holds one line per mistake."""

    def __init__(self, path: str | Path, problems: list[str]):
        self.path = str(path)
        self.problems = problems
        super().__init__("\n".join(f"{self.path}: {p}" for p in problems))


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Side = Literal["ru", "ua"]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
# A place on the map: a place name ("Pokrovsk"), a [lat, lon] pair, or an explicit hex {col, row}.
LatLon = tuple[Annotated[float, Field(ge=-90, le=90)], Annotated[float, Field(ge=-180, le=180)]]


class HexRef(Strict):
    col: Annotated[int, Field(ge=0)]
    row: Annotated[int, Field(ge=0)]


Location = str | LatLon | HexRef


class MapSection(Strict):
    base: Literal["operational", "tactical"] | None = None
    box: tuple[float, float, float, float] | None = Field(None, description="lon_min, lat_min, lon_max, lat_max")
    hex_km: Annotated[float, Field(gt=0.1, le=10.0)] | None = None

    @field_validator("box")
    @classmethod
    def _box(cls, box):
        if box is not None:
            lon_min, lat_min, lon_max, lat_max = box
            if not (lon_min < lon_max and lat_min < lat_max):
                raise ValueError("expected [lon_min, lat_min, lon_max, lat_max] with min < max")
            if not (lon_min >= 35.0 and lon_max <= 39.5 and lat_min >= 46.5 and lat_max <= 50.0):
                raise ValueError("the box must lie within the region the map facts cover (35-39.5 E, 46.5-50 N)")
        return box

    @model_validator(mode="after")
    def _one_source(self):
        if self.base is None and (self.box is None or self.hex_km is None):
            raise ValueError("give either base = 'operational' | 'tactical', or both box and hex_km")
        return self


class Calendar(Strict):
    start: dt.date
    turn_days: Annotated[int, Field(ge=1, le=14)]
    turns: Annotated[int, Field(ge=1, le=1000)]
    phases: list[Literal["night", "day"]] = ["day"]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.turn_days * self.turns)


class SideConfig(Strict):
    name: str
    playable: bool = True
    colour: str | None = None
    main_effort: list[Location] = Field([], description="places the side's main effort drives towards; the AI "
                                         "holds elsewhere (doctrine ai.ru.main_effort_km, secondary_commit)")
    supporting_efforts: list[list[Location]] = Field([], description="further axes, each a list of places taken "
                                                     "one at a time; units near them attack at the full share too")


class Sides(Strict):
    order: list[Side] = ["ru", "ua"]
    ru: SideConfig
    ua: SideConfig

    @field_validator("order")
    @classmethod
    def _both(cls, v):
        if sorted(v) != ["ru", "ua"]:
            raise ValueError("order must name each side once, e.g. ['ru', 'ua']")
        return v


class UnitEntry(Strict):
    id: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
    type: str
    name: str | None = None
    at: Location
    personnel: Annotated[float, Field(gt=0, le=20000)] | None = None
    cohesion: Annotated[float, Field(ge=0, le=100)] = 80.0
    quality: Fraction | None = None
    reserve: bool = False

    @field_validator("type")
    @classmethod
    def _known_type(cls, v):
        types = unit_types()
        if v not in types:
            close = difflib.get_close_matches(v, types, n=3)
            raise ValueError(f"unknown unit type {v!r}" + (f"; did you mean {', '.join(close)}?" if close else
                                                           f"; known types: {', '.join(types)}"))
        return v

    @property
    def side(self) -> str:
        return unit_types()[self.type].side


class Reinforcement(UnitEntry):
    arrive: dt.date


class Replacements(Strict):
    side: Side
    per_week: Annotated[float, Field(ge=0, le=50000)]
    start: dt.date | None = None
    end: dt.date | None = None
    source: str | None = None


class Offensive(Strict):
    """A period in which a side's campaign plan calls for an offensive: its AI sends more groups to more points."""

    name: str
    side: Literal["ru"]
    start: dt.date
    end: dt.date
    source: str | None = None

    def covers(self, date: dt.date) -> bool:
        return self.start <= date <= self.end


class SupplySources(Strict):
    ru: list[Location] = Field(min_length=1)
    ua: list[Location] = Field(min_length=1)


class Fortification(Strict):
    name: str
    side: Side = "ua"
    level: Annotated[int, Field(ge=1, le=3)]
    places: list[Location] = []
    line: list[Location] = []
    radius: Annotated[int, Field(ge=0, le=10)] = 0

    @model_validator(mode="after")
    def _somewhere(self):
        if not self.places and len(self.line) < 2:
            raise ValueError("a fortification needs places, or a line of at least two points")
        return self


class Obstacle(Strict):
    name: str
    kind: Literal["at_ditch", "dragons_teeth", "minefield"] = "at_ditch"
    line: list[Location] = Field(min_length=2)


class Presence(Strict):
    side: Side
    at: Location
    personnel: Annotated[float, Field(gt=0, le=5000)]
    radius: Annotated[int, Field(ge=0, le=10)] = 0


class StartState(Strict):
    control: str | None = Field(None, description="derived control file, relative to the scenario")
    default_control: Fraction = 0.0
    source: str | None = None
    presence: list[Presence] = []


class ObjectiveEntry(Strict):
    name: str
    at: Location | None = None
    radius: Annotated[int, Field(ge=0, le=10)] = 0
    points: Annotated[float, Field(ge=0, le=1000)] = 10.0
    hold_points: Annotated[float, Field(ge=0, le=100)] = 0.0
    kind: Literal["city", "town", "mine", "junction", "road", "area"] = "town"
    road: list[Location] = []


class SuddenDeath(Strict):
    side: Side
    objectives: list[str] = Field(min_length=1)
    share: Fraction = 0.8
    by: dt.date | None = None


class Victory(Strict):
    sudden_death: list[SuddenDeath] = []
    ru_cost_per_km2: Annotated[float, Field(ge=0)] = 90.0
    cost_points: Annotated[float, Field(ge=0)] = 0.1
    margin: Annotated[float, Field(ge=0)] = 10.0


class Climatology(Strict):
    """Probability of each weather state per calendar month (12 values each); each month must sum to 1."""

    clear: list[Fraction] = Field(min_length=12, max_length=12)
    overcast: list[Fraction] = Field(min_length=12, max_length=12)
    rain: list[Fraction] = Field(min_length=12, max_length=12)
    fog: list[Fraction] = Field(min_length=12, max_length=12)
    snow: list[Fraction] = Field(min_length=12, max_length=12)
    wind: list[Fraction] = Field(min_length=12, max_length=12)
    source: str | None = None

    @model_validator(mode="after")
    def _sums(self):
        for m in range(12):
            total = sum(getattr(self, s)[m] for s in WEATHER_STATES)
            if abs(total - 1.0) > 0.02:
                raise ValueError(f"month {m + 1}: the weather probabilities sum to {total:.3f}, expected 1.0")
        return self


# Default climatology for the Donetsk steppe (A): no sourced fog frequencies exist (notes §4.9); the shape follows
# the continental climate of the region: foggy, overcast late autumn and winter, snow Dec-Feb, dry clear summers.
DEFAULT_CLIMATOLOGY = Climatology(
    clear=[0.20, 0.22, 0.30, 0.40, 0.50, 0.55, 0.60, 0.62, 0.52, 0.38, 0.20, 0.16],
    overcast=[0.35, 0.33, 0.30, 0.25, 0.20, 0.18, 0.16, 0.16, 0.22, 0.27, 0.32, 0.34],
    rain=[0.05, 0.06, 0.12, 0.15, 0.17, 0.17, 0.14, 0.12, 0.12, 0.13, 0.14, 0.08],
    fog=[0.14, 0.13, 0.12, 0.07, 0.04, 0.02, 0.02, 0.03, 0.07, 0.14, 0.20, 0.16],
    snow=[0.18, 0.18, 0.08, 0.01, 0.00, 0.00, 0.00, 0.00, 0.00, 0.01, 0.06, 0.18],
    wind=[0.08, 0.08, 0.08, 0.12, 0.09, 0.08, 0.08, 0.07, 0.07, 0.07, 0.08, 0.08],
    source="assumption: continental steppe climate shape, no sourced fog frequencies (notes §4.9)",
)


class Briefing(Strict):
    command: str
    situation: str
    mission: str
    notes: str | None = None


class Scenario(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    title: str
    scale: Literal["operational", "tactical"]
    description: str
    map: MapSection
    calendar: Calendar
    sides: Sides
    start: StartState = StartState()
    units: list[UnitEntry] = Field(min_length=1)
    reinforcements: list[Reinforcement] = []
    replacements: list[Replacements] = []
    offensives: list[Offensive] = []
    supply: SupplySources
    fortifications: list[Fortification] = []
    obstacles: list[Obstacle] = []
    objectives: list[ObjectiveEntry] = []
    victory: Victory = Victory()
    weather: Climatology = DEFAULT_CLIMATOLOGY
    parameters: dict[str, Any] = {}
    briefing: dict[Side, Briefing] = {}

    @model_validator(mode="after")
    def _cross_checks(self):
        problems = []
        seen: set[str] = set()
        for i, u in enumerate([*self.units, *self.reinforcements]):
            where = f"units.{i}" if i < len(self.units) else f"reinforcements.{i - len(self.units)}"
            if u.id in seen:
                problems.append(f"{where}.id: duplicate unit id {u.id!r}; every unit needs its own id")
            seen.add(u.id)
            utype = unit_types()[u.type]
            if utype.scale != self.scale:
                problems.append(f"{where}.type: {u.type!r} is {'an' if utype.scale[0] in 'aeiou' else 'a'} {utype.scale} unit, expected a "
                                f"{self.scale} one (see sim/data/unit_types.toml)")
        end = self.calendar.end
        for i, r in enumerate(self.reinforcements):
            if not (self.calendar.start <= r.arrive <= end):
                problems.append(f"reinforcements.{i}.arrive: {r.arrive} is outside the scenario "
                                f"({self.calendar.start} to {end})")
        for i, r in enumerate(self.replacements):
            if r.start and r.end and r.end < r.start:
                problems.append(f"replacements.{i}: end {r.end} is before start {r.start}")
        for i, o in enumerate(self.offensives):
            if o.end < o.start:
                problems.append(f"offensives.{i}: end {o.end} is before start {o.start}")
            elif o.end < self.calendar.start or o.start > end:
                problems.append(f"offensives.{i}: {o.start} to {o.end} is outside the scenario "
                                f"({self.calendar.start} to {end})")
        names = {o.name for o in self.objectives}
        for i, sd in enumerate(self.victory.sudden_death):
            for name in sd.objectives:
                if name not in names:
                    problems.append(f"victory.sudden_death.{i}.objectives: {name!r} is not an objective "
                                    f"(objectives: {', '.join(sorted(names)) or 'none'})")
            if sd.by and not (self.calendar.start <= sd.by <= end):
                problems.append(f"victory.sudden_death.{i}.by: {sd.by} is outside the scenario ({self.calendar.start} to {end})")
        for i, o in enumerate(self.objectives):
            if o.at is None and not o.road:
                problems.append(f"objectives.{i}: give 'at' (a place) or 'road' (a line of places)")
        try:
            resolve(self.parameters)
        except ParameterError as exc:
            problems.append(f"parameters: {exc}")
        if problems:
            raise ValueError("\n".join(problems))
        return self


# Regular expressions of the schema, said in words.
_PATTERNS = {
    r"^[a-z0-9][a-z0-9-]*$": "expected lower-case letters, digits and hyphens, e.g. 'pokrovsk-2025'",
    r"^[A-Za-z0-9_.-]+$": "expected letters, digits, '_', '.' or '-' with no spaces, e.g. 'ru-ad-01'",
}
LOCATION_HELP = ('expected a place name ("Pokrovsk"), a [lat, lon] pair ([48.28, 37.18]), an explicit hex '
                 '({ col = 10, row = 4 }) or a map edge ("edge:west")')


def _describe_error(err: dict) -> list[str]:
    loc = ".".join(str(p) for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    if err["type"] == "extra_forbidden":
        msg = "unknown field (check its spelling; see docs/scenario-format.md)"
    elif err["type"] == "missing":
        msg = "required field is missing"
    elif err["type"] == "string_pattern_mismatch":
        msg = _PATTERNS.get(str((err.get("ctx") or {}).get("pattern")), msg)
    lines = msg.split("\n")
    if len(lines) > 1 or (not loc and err["type"] == "value_error"):
        return lines  # cross-checks already carry their own field paths
    got = err.get("input")
    shown = ("" if err["type"] in ("missing", "extra_forbidden") or err["type"] == "value_error" and repr(got) in msg
             or isinstance(got, dict | list) and err["type"] != "location" else f" (got {got!r})")
    return [f"{loc or '(top level)'}: {msg}{shown}"]


_UNION_TAGS = {"str", "tuple[float, float]", "HexRef", "function-after", "constrained-float", "int", "float"}


def _union_split(loc: tuple) -> int | None:
    return next((k for k, p in enumerate(loc) if p in ("str", "HexRef") or (isinstance(p, str) and "tuple[" in p)),
                None)


def _location_errors(errors: list[dict]) -> list[dict]:
    """A Location error comes once per union member (name, [lat, lon], {col, row}): keep only the member that
    matches the kind of value given, or one "expected a place ..." line when none does."""
    given: dict[tuple, Any] = {}
    for err in errors:
        i = _union_split(err["loc"])
        if i is not None and err["loc"][i] == "str" and len(err["loc"]) == i + 1:
            given[err["loc"][:i]] = err.get("input")
    out = []
    for err in errors:
        i = _union_split(err["loc"])
        if i is None or err["loc"][:i] not in given:
            out.append(err)
            continue
        value, member = given[err["loc"][:i]], err["loc"][i]
        if isinstance(value, str) and member == "str" or isinstance(value, dict) and member == "HexRef" or (
                isinstance(value, list) and len(value) == 2 and member.startswith("tuple")):
            out.append(err)
        elif not (isinstance(value, str | dict) or isinstance(value, list) and len(value) == 2):
            out.append({"loc": err["loc"][:i], "type": "location", "msg": LOCATION_HELP, "input": value})
    return out


def _dedupe_union(errors: list[dict]) -> list[dict]:
    """A Location error is reported once per union member; keep one line per field path."""
    errors = _location_errors(errors)
    seen, out = set(), []
    for err in errors:
        key = tuple(p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p in _UNION_TAGS)))
        if key in seen:
            continue
        seen.add(key)
        out.append(err)
    return out


def parse_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (schema only); raise ScenarioError listing every problem."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ScenarioError(path, [f"cannot read the file: {exc.strerror}"]) from None
    if not raw.strip():
        raise ScenarioError(path, ["the file is empty; expected a scenario (see docs/scenario-format.md)"])
    try:
        data = _read_toml(raw)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ScenarioError(path, [f"the file is not UTF-8 text (byte {exc.start}, line {line}); save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, [f"malformed TOML: {exc}"]) from None
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in _dedupe_union(exc.errors(include_url=False)):
            problems.extend(_describe_error(err))
        raise ScenarioError(path, problems) from None


_TOML_SEEN: dict[bytes, dict[str, Any]] = {}


def _read_toml(raw: bytes) -> dict[str, Any]:
    """``tomllib.loads`` of a file's bytes, remembered per process: a batch worker builds hundreds of models of one
    scenario, and parsing the TOML was most of the cost of reading it (4 ms against 0.6 ms for a copy). Keyed by
    the bytes, so an edited file is read afresh; each caller gets its own deep copy of the data."""
    hit = _TOML_SEEN.get(raw)
    if hit is None:
        if len(_TOML_SEEN) >= 16:
            _TOML_SEEN.clear()
        _TOML_SEEN[raw] = hit = tomllib.loads(raw.decode("utf-8"))
    return copy.deepcopy(hit)


def scenario_hash(path: str | Path) -> str:
    """SHA-256 of the scenario file and of its derived start-state file, for manifests and saves."""
    path = Path(path)
    h = hashlib.sha256(path.read_bytes())
    try:
        control = parse_scenario(path).start.control
    except ScenarioError:
        control = None
    if control and (path.parent / control).exists():
        h.update((path.parent / control).read_bytes())
    return h.hexdigest()


def installed_scenarios() -> dict[str, Path]:
    """Scenario files shipped in `scenarios/`, by id (the file stem)."""
    return {p.stem: p for p in sorted(SCENARIO_DIR.glob("*.toml"))}


def find_scenario(name_or_path: str) -> Path:
    """A scenario id or a path to a .toml file; raise ScenarioError with suggestions when it is neither."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.exists():
            raise ScenarioError(path, ["no such file"])
        return path
    installed = installed_scenarios()
    if name_or_path in installed:
        return installed[name_or_path]
    close = difflib.get_close_matches(name_or_path, installed, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"installed: {', '.join(installed) or 'none'}"
    raise ScenarioError(name_or_path, [f"no scenario with this id; {hint}"])
