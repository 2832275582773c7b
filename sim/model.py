"""The wargame model: a mesa Model whose turn is a fixed sequence of rule phases.

State is split the way the rules use it: per-hex fields are numpy arrays indexed by hex id (control, hidden
presence, fortification, ISR coverage, interdiction, supply), and units are mesa agents on a `HexGrid`. The game
advances only through orders (`sim.orders`) and the seed: `issue()` checks and queues an order, `end_turn()`
resolves both sides' orders and returns the turn's events.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import mesa
import numpy as np
from mesa.discrete_space import HexGrid

from sim.events import Event
from sim.geo.hexmap import NAMED_MAPS, HexMap, MapSpec, load_map
from sim.orders import IllegalOrder, Order
from sim.params import as_namespace, resolve
from sim.scenario import Scenario, find_scenario, parse_scenario
from sim.units import SIDES, Unit, living_version, state_version

SIDE_INDEX = {"ru": 0, "ua": 1}
# the unit counters (`sim.units.state_version`) count in one process: a model copied or pickled carries its kept
# answers with a different object here, so they are worked out afresh rather than trusted to another count
_THIS_PROCESS = object()


class _IdCountersPerModel(weakref.WeakKeyDictionary):
    """mesa 3.3's per-model agent-id counters, held weakly so a finished game can be freed.

    mesa 3.3.1 keeps every model alive in a class-level defaultdict (mesa issue #3179, fixed upstream by #3180),
    about 12 MB a game: a Monte Carlo worker would grow without limit.
    """

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            counter = itertools.count(1)
            self[model] = counter
            return counter


if not isinstance(mesa.Agent._ids, weakref.WeakKeyDictionary):
    mesa.Agent._ids = _IdCountersPerModel()


class FastHexGrid(HexGrid):
    """mesa's HexGrid with the same cells and connections, linked from a neighbour table kept per process.

    mesa links each cell through ``Cell.connect``, which clears a cache that a new cell does not have yet: that
    is most of the cost of building a model, and a batch worker builds hundreds on the same grid. The links go in
    the same order under the same keys, so the grid is the one mesa builds.
    """

    _link_tables: ClassVar[dict[tuple, list]] = {}

    def _connect_cells_2d(self) -> None:
        if self.torus:
            super()._connect_cells_2d()
            return
        table = self._link_tables.get(tuple(self.dimensions))
        if table is None:
            table = self._link_tables[tuple(self.dimensions)] = _hex_links(tuple(self.dimensions))
        cells = self._cells
        for coord, links in table:
            connections = cells[coord].connections
            for key, other in links:
                connections[key] = cells[other]


def _hex_links(dimensions: tuple[int, int]) -> list:
    """Each cell's (offset, neighbour) pairs in the order mesa 3.3's ``HexGrid._connect_cells_2d`` connects them."""
    even = [(-1, -1), (0, -1), (-1, 0), (1, 0), (-1, 1), (0, 1)]
    odd = [(0, -1), (1, -1), (-1, 0), (1, 0), (0, 1), (1, 1)]
    height, width = dimensions  # mesa's names: the first coordinate runs over dimensions[0]
    table = []
    for i, j in itertools.product(range(dimensions[0]), range(dimensions[1])):
        offsets = even if j % 2 else odd
        table.append(((i, j), [((di, dj), (i + di, j + dj)) for di, dj in offsets
                               if 0 <= i + di < height and 0 <= j + dj < width]))
    return table


LOSS_CAUSES = ("drones", "fires", "assault", "clearance", "interdiction", "attrition", "desertion", "overrun", "encirclement")


class WargameModel(mesa.Model):
    """One game: a scenario, its parameters, a seed and the orders given so far."""

    def __init__(self, scenario: Scenario | str | Path, *, seed: int | np.random.SeedSequence = 0,
                 params: dict[str, Any] | None = None, record_events: bool = True):
        """``record_events=False`` leaves events unrecorded (`emit` returns at once): for games whose events
        nobody reads, such as batch runs; nothing in the rules or the AI reads them, so the game is the same."""
        if isinstance(scenario, Scenario):
            self.scenario_path: Path | None = None
        else:
            self.scenario_path = find_scenario(str(scenario))
            scenario = parse_scenario(self.scenario_path)
        self.scenario: Scenario = scenario
        self.seed = seed
        seq = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(int(seed))
        super().__init__(rng=seq)
        self.overrides = dict(params or {})
        self.param_values = resolve({**scenario.parameters, **self.overrides})
        self.p = as_namespace(self.param_values)

        self.map: HexMap = load_map(_map_spec(scenario))
        m = self.map
        self.grid = FastHexGrid((m.width, m.height), torus=False, random=self.random)
        self.cells = [None] * m.n
        for (col, row), cell in self.grid._cells.items():
            cell.hid = row * m.width + col
            self.cells[cell.hid] = cell

        from sim import setup  # late import: setup uses the model's helpers

        n = m.n
        self.turn = 0
        self.date: dt.date = scenario.calendar.start
        self.turn_days = scenario.calendar.turn_days
        self.control = np.zeros(n)
        self.presence = np.zeros((2, n))  # hidden or holding personnel outside units, per side
        self.fort = np.zeros(n, dtype=np.int8)
        self.fort_side = np.full(n, -1, dtype=np.int8)
        self.obstacle = np.zeros((n, 6), dtype=bool)
        self.isr = np.zeros((2, n))
        self.interdiction = np.zeros((2, n))
        self.supply_ratio = np.ones((2, n))
        self.pocket = np.full((2, n), -1, dtype=np.int32)
        self.flip_count = np.zeros(n, dtype=np.int8)
        self.gap = np.ones((2, n))
        self.weather: dict[str, Any] = {}
        self.units: dict[str, Unit] = {}
        self.pending: dict[str, list[Order]] = {s: [] for s in SIDES}
        self._busy: set[str] = set()
        self.order_log: list[list[Order]] = []  # orders given in each resolved turn, for saves and replays
        self.record_events = record_events
        self.events: list[Event] = []  # this turn's events
        self.history: list[list[Event]] = []
        self.metrics: list[dict[str, Any]] = []
        self.books_in = {s: 0.0 for s in SIDES}
        self.losses = {s: dict.fromkeys(LOSS_CAUSES, 0.0) for s in SIDES}
        self.objective_hexes: dict[str, np.ndarray] = {}
        self.objective_first_change: dict[str, str | None] = {}
        self.pocket_info: list[dict[str, Any]] = []
        self.outcome: dict[str, Any] | None = None
        self.interdiction_share: dict[str, float] = {}
        self.turn_orders: list[Order] = []
        self.hex_names = _hex_names(m)
        setup.populate(self)
        from sim.rules import isr, supply, victory, weather

        self.objective_start_holder = {name: victory.holder(self, hexes) for name, hexes in self.objective_hexes.items()}
        weather.resolve(self)
        isr.resolve(self)
        self.gap[:] = 1.0
        supply.resolve(self)
        self.events = []
        self.metrics.append(victory.metrics(self))

    # ------------------------------------------------------------------ queries used by rules, AI and UI
    @property
    def over(self) -> bool:
        return self.outcome is not None

    def side_units(self, side: str, role: str | None = None) -> list[Unit]:
        """The side's living units (of one role if given), in the order they joined the game."""
        return list(self._living(side, role))  # a copy: the kept list stays the model's own

    def _living(self, side: str, role: str | None) -> list[Unit]:
        """`side_units`, kept until a unit is made, dies or comes back (asked ~70 times a turn)."""
        cache = self._kept("_living_units", living_version())
        living = cache.get((side, role))
        if living is None:
            living = cache[side, role] = [u for u in self._roster(side, role) if u.status.personnel >= 1.0]
        return living

    def _kept(self, name: str, version: int) -> dict:
        """The dict kept under ``name`` for answers about the units, emptied when ``version`` (see
        `sim.units.state_version`) moves on or a unit joins."""
        key = (version, len(self.units), _THIS_PROCESS)
        cache = self.__dict__.get(name)
        if cache is None or cache[0] != key or cache[1] is not self.units:
            cache = (key, self.units, {})
            setattr(self, name, cache)
        return cache[2]

    def _roster(self, side: str, role: str | None) -> list[Unit]:
        """Every unit of a side and role, dead or alive: rules and AI ask for these lists dozens of times a turn.

        Units are only ever added to ``units`` (never removed or replaced), so its size tells when to rebuild.
        """
        cache = self.__dict__.get("_rosters")
        if cache is None or cache[0] is not self.units or cache[1] != len(self.units):
            cache = self._rosters = (self.units, len(self.units), {})
        key = (side, role)
        roster = cache[2].get(key)
        if roster is None:
            roster = cache[2][key] = [u for u in self.units.values()
                                      if u.side == side and (role is None or u.utype.role == role)]
        return roster

    def held(self, side: str) -> np.ndarray:
        """Boolean mask of hexes the side holds outright."""
        hi = self.p.control.contested_high
        return self.control >= hi if side == "ru" else self.control <= 1.0 - hi

    def own_share(self, side: str) -> np.ndarray:
        """Control from the side's point of view: 1 = fully its own."""
        return self.control if side == "ru" else 1.0 - self.control

    def own_share_at(self, side: str, hid: int) -> float:
        """``own_share(side)[hid]`` without building the whole array: order checks ask about one hex at a time."""
        c = self.control[hid]
        return c if side == "ru" else 1.0 - c

    def manoeuvre_personnel(self, side: str) -> np.ndarray:
        """Personnel of the side's manoeuvre units per hex (reserves count half); read-only, kept until a unit
        changes."""
        cache = self._kept("_manoeuvre_personnel", state_version())
        personnel = cache.get(side)
        if personnel is None:
            units = self._living(side, "manoeuvre")
            if not units:
                personnel = np.zeros(self.map.n)
            else:
                personnel = np.bincount([u.hex for u in units], weights=[_holding_weight(u) for u in units],
                                        minlength=self.map.n)
            personnel.flags.writeable = False
            cache[side] = personnel
        return personnel

    def manoeuvre_personnel_at(self, side: str, hid: int) -> float:
        """``manoeuvre_personnel(side)[hid]`` without the whole map: added in the same order, so bit for bit equal."""
        kept = self._kept("_manoeuvre_personnel", state_version()).get(side)
        if kept is not None:
            return float(kept[hid])
        total = 0.0
        for u in self._roster(side, "manoeuvre"):  # side_units, without building the list for one hex
            if u.hex == hid and u.status.personnel >= 1.0:
                total += _holding_weight(u)
        return total

    def orders_as_data(self) -> list[list[dict]]:
        """Every resolved turn's orders as plain dicts, for saves and replays."""
        return [[o.to_dict() for o in turn] for turn in self.order_log]

    def date_of_turn(self, turn: int) -> dt.date:
        return self.scenario.calendar.start + dt.timedelta(days=turn * self.turn_days)

    def hex_label(self, hid: int) -> str:
        """A readable name for a hex: its place name if any, else its column and row (events and order reasons
        ask for a few hundred labels a turn, so every label of the map is made once, then looked up)."""
        labels = self.__dict__.get("_hex_labels")
        if labels is None or labels[0] is not self.map:
            labels = self._hex_labels = (self.map, _hex_labels(self.map))
        return labels[1][hid]

    def record_loss(self, side: str, cause: str, amount: float, unit: Unit | None = None) -> float:
        if amount <= 0:
            return 0.0
        amount = unit.lose(amount, cause) if unit is not None else float(amount)  # a Python float, as in units
        self.losses[side][cause] += amount
        return amount

    def books(self, side: str) -> dict[str, float]:
        """Personnel accounting for a side: everything in must be in units, in presence, or lost."""
        in_units = sum(u.personnel for u in self.units.values() if u.side == side)
        return {"in": self.books_in[side], "units": in_units, "presence": float(self.presence[SIDE_INDEX[side]].sum()),
                "lost": sum(self.losses[side].values())}

    def emit(self, phase: str, kind: str, side: str | None, hid: int | None, template: str, **data) -> Event | None:
        """Record an event of this turn (unless the model records none: then None)."""
        if not self.record_events:
            return None
        ev = Event(self.turn, phase, kind, side, None if hid is None else int(hid), template, data)
        self.events.append(ev)
        return ev

    # ------------------------------------------------------------------ orders
    def issue(self, order: Order) -> Order:
        """Check an order and queue it for this turn; raise IllegalOrder with the reason if it is not allowed."""
        if self.over:
            raise IllegalOrder("the game is over")
        _legality().check(self, order)
        side = self.units[order.unit].side
        self.pending[side].append(order)
        self._busy.update(order.busy)
        return order

    def try_issue(self, order: Order) -> str | None:
        """Issue ``order``; return None if accepted, else the reason it was refused."""
        try:
            self.issue(order)
        except IllegalOrder as exc:
            return str(exc)
        return None

    def undo(self, side: str) -> Order | None:
        """Take back the side's last order of this turn."""
        if not self.pending[side]:
            return None
        order = self.pending[side].pop()
        self.__dict__.get("_pending_index", {}).pop(side, None)
        still = {uid for o in self.pending[side] for uid in o.busy}  # a unit may have sent groups to several hexes
        self._busy.difference_update(set(order.busy) - still)
        return order

    def pending_for(self, side: str, uid: str) -> list[Order]:
        """The side's orders this turn that take up unit ``uid``, in the order given.

        Order checks ask this for every order the AI gives, so scanning the whole list each time grows with the
        square of the orders; an index by unit is kept instead. It is extended as orders are appended and built
        afresh after an undo, or if the list was replaced or its last order is not the one last seen.
        """
        orders = self.pending[side]
        index = self.__dict__.setdefault("_pending_index", {})
        hit = index.get(side)
        if hit is None or hit[0] is not orders or len(orders) < len(hit[1]) or \
                (hit[1] and orders[len(hit[1]) - 1] is not hit[1][-1]):
            hit = index[side] = (orders, [], {})
        seen, by_unit = hit[1], hit[2]
        for order in orders[len(seen):]:
            seen.append(order)
            for busy in order.busy:
                by_unit.setdefault(busy, []).append(order)
        return list(by_unit.get(uid, ()))  # a copy: the index stays the model's own

    def ordered_units(self, side: str | None = None) -> set[str]:
        """Units that already have an order this turn (of one side, or of both)."""
        if side is None:
            return self._busy
        return {uid for o in self.pending[side] for uid in o.busy}

    # ------------------------------------------------------------------ the turn
    def end_turn(self) -> list[Event]:
        """Resolve this turn's orders through every rule phase; return the turn's events."""
        from sim.rules import PHASES

        if self.over:
            return []
        self.events = []
        orders = [o for s in self.scenario.sides.order for o in self.pending[s]]
        self.order_log.append(orders)
        self.turn_orders = orders
        for phase in PHASES:
            phase(self)
        self.pending = {s: [] for s in SIDES}
        self._busy = set()
        self.turn += 1
        self.date = self.date_of_turn(self.turn)
        from sim.rules import victory

        self.metrics.append(victory.metrics(self))
        victory.check(self)
        self.history.append(self.events)
        return self.events

    def step(self) -> None:  # mesa's hook: one turn with whatever orders are queued
        self.end_turn()

    def run(self, orders_by_turn: Iterable[Iterable[Order]] = (), commanders=None) -> None:
        """Play to the end: queued orders per turn, or commanders (callables model -> orders) for each side."""
        scripted = list(orders_by_turn)
        while not self.over:
            if self.turn < len(scripted):
                for o in scripted[self.turn]:
                    self.issue(o)
            for c in commanders or ():
                for o in c(self):
                    self.try_issue(o)
            self.end_turn()


@functools.cache
def _legality():
    """The order checks, imported on first use (they import the rules, which import this module); kept, as
    ``issue`` asks about 200 times a turn."""
    from sim.rules import legality

    return legality


def _holding_weight(u: Unit) -> float:
    """A manoeuvre unit's weight in the hex it holds: its personnel, half in reserve."""
    return u.status.personnel * (0.5 if u.status.in_reserve else 1.0)


def _hex_names(hexmap: HexMap) -> dict[int, str]:
    """The biggest named place in each hex that has one."""
    names: dict[int, tuple[int, str]] = {}
    for place in hexmap.places:
        size = place.population or {"city": 10_000, "town": 3_000, "village": 800}.get(place.kind, 0)
        if place.hex >= 0 and size >= names.get(place.hex, (-1, ""))[0]:
            names[place.hex] = (size, place.name)
    return {h: name for h, (_, name) in names.items()}


_LABELS: weakref.WeakKeyDictionary[HexMap, list[str]] = weakref.WeakKeyDictionary()


def _hex_labels(hexmap: HexMap) -> list[str]:
    """Every hex's label by hex id (see `WargameModel.hex_label`), kept per map: a batch worker plays hundreds
    of games on one map."""
    labels = _LABELS.get(hexmap)
    if labels is None:
        names = _hex_names(hexmap)
        labels = _LABELS[hexmap] = [f"{names.get(hid) or 'hex'} ({col},{row})"
                                    for hid, (col, row) in enumerate(map(hexmap.coords, range(hexmap.n)))]
    return labels


def _map_spec(scenario: Scenario) -> MapSpec:
    ms = scenario.map
    if ms.box is None:
        return NAMED_MAPS[ms.base]
    base = NAMED_MAPS.get(ms.base or "", None)
    name = f"{scenario.id}-map" if base is None else base.name
    return MapSpec(name, ms.box[0], ms.box[1], ms.box[2], ms.box[3], ms.hex_km or (base.hex_km if base else 2.5))


__all__ = ["WargameModel", "SIDE_INDEX", "LOSS_CAUSES"]
