"""Setting up a game from a scenario: place names to hexes, units on the map, the start state.

Every place a scenario names is resolved against the map here, so `wargame validate` reports unknown places,
units off the map and units standing in ground the enemy holds, each with its field path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sim import hexgrid
from sim.scenario import HexRef, Location, Reinforcement, ScenarioError
from sim.units import SIDES, Unit, unit_types

if TYPE_CHECKING:
    from sim.model import WargameModel

EDGES = ("west", "east", "north", "south")


class LocationError(ValueError):
    pass


def resolve_location(hexmap, loc: Location) -> list[int]:
    """Hex ids for a place name, a [lat, lon] pair, an explicit hex, or 'edge:west' (a whole map edge)."""
    if isinstance(loc, HexRef):
        if not (loc.col < hexmap.width and loc.row < hexmap.height):
            raise LocationError(f"hex ({loc.col}, {loc.row}) is off the map ({hexmap.width} x {hexmap.height} hexes)")
        return [hexmap.hex_id(loc.col, loc.row)]
    if isinstance(loc, str):
        if loc.startswith("edge:"):
            edge = loc[5:]
            if edge not in EDGES:
                raise LocationError(f"unknown map edge {edge!r}; expected one of {', '.join(EDGES)}")
            col, row = hexmap.col, hexmap.row
            mask = {"west": col == 0, "east": col == hexmap.width - 1, "north": row == 0,
                    "south": row == hexmap.height - 1}[edge]
            return [int(h) for h in np.flatnonzero(mask)]
        try:
            return [hexmap.place_hex(loc)]
        except ValueError as exc:
            raise LocationError(str(exc)) from None
    lat, lon = loc
    hid = hexmap.hex_at_latlon(lat, lon)
    if hid < 0:
        raise LocationError(f"[{lat}, {lon}] is off the map")
    return [hid]


def area_hexes(hexmap, centre: int, radius: int) -> list[int]:
    """Hexes within ``radius`` of ``centre`` that lie on the map."""
    if radius <= 0:
        return [centre]
    d = hexmap.distances_from(centre)
    return [int(h) for h in np.flatnonzero(d <= radius)]


def line_hexes(hexmap, points: list[int]) -> list[int]:
    """Hexes along straight segments joining the given hexes in order."""
    out: list[int] = []
    for a, b in zip(points, points[1:], strict=False):
        qa, ra = int(hexmap.q[a]), int(hexmap.r[a])
        qb, rb = int(hexmap.q[b]), int(hexmap.r[b])
        for q, r in hexgrid.line((qa, ra), (qb, rb)):
            col, row = hexgrid.axial_to_offset(q, r)
            if 0 <= col < hexmap.width and 0 <= row < hexmap.height:
                h = hexmap.hex_id(col, row)
                if not out or out[-1] != h:
                    out.append(h)
    return out


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def hexes(self, hexmap, loc, where: str) -> list[int]:
        try:
            return resolve_location(hexmap, loc)
        except LocationError as exc:
            self.items.append(f"{where}: {exc}")
            return []


def _effort_hexes(bad: _Problems, hexmap, places: list, where: str) -> np.ndarray:
    """One hex per place of an axis of effort, in the scenario's order (a place named twice counts once)."""
    hexes: list[int] = []
    for j, loc in enumerate(places):
        hexes += bad.hexes(hexmap, loc, f"{where}.{j}")[:1]
    return np.array(list(dict.fromkeys(hexes)), dtype=np.int64)


def populate(m: WargameModel) -> None:
    """Fill a fresh model from its scenario; raise ScenarioError listing every problem found."""
    sc, hm = m.scenario, m.map
    bad = _Problems()
    path = m.scenario_path or Path(f"{sc.id}.toml")

    # start control
    control_known = True
    if sc.start.control:
        from sim.geo.frontline import read_control_csv

        control_path = path.parent / sc.start.control
        try:
            m.control[:] = read_control_csv(control_path, hm)
        except FileNotFoundError:
            control_known = False
            bad.items.append(f"start.control: no such file {control_path}; expected a control CSV, with a path "
                             "relative to the scenario file (derive one with python -m sim.geo.frontline)")
        except (OSError, ValueError) as exc:
            control_known = False
            text = str(exc) if str(exc).startswith(str(control_path)) else f"cannot use {control_path}: {exc}"
            bad.items.append(f"start.control: {text}")
    else:
        m.control[:] = sc.start.default_control

    # fortifications and obstacles
    for i, f in enumerate(sc.fortifications):
        hexes: list[int] = []
        for j, loc in enumerate(f.places):
            for h in bad.hexes(hm, loc, f"fortifications.{i}.places.{j}"):
                hexes += area_hexes(hm, h, f.radius)
        points = [h for j, loc in enumerate(f.line) for h in bad.hexes(hm, loc, f"fortifications.{i}.line.{j}")[:1]]
        for h in line_hexes(hm, points):
            hexes += area_hexes(hm, h, f.radius)
        side = 0 if f.side == "ru" else 1
        for h in set(hexes):
            if f.level > m.fort[h]:
                m.fort[h] = f.level
                m.fort_side[h] = side
    for i, ob in enumerate(sc.obstacles):
        points = [h for j, loc in enumerate(ob.line) for h in bad.hexes(hm, loc, f"obstacles.{i}.line.{j}")[:1]]
        on_line = set(line_hexes(hm, points))
        for h in on_line:
            for k in range(6):
                nb = hm.nbr[h, k]
                if nb >= 0 and nb not in on_line:
                    m.obstacle[h, k] = True
                    m.obstacle[nb, hexgrid.opposite(k)] = True

    # supply sources
    m.supply_sources = {}
    for side in SIDES:
        srcs: list[int] = []
        for j, loc in enumerate(getattr(sc.supply, side)):
            srcs += bad.hexes(hm, loc, f"supply.{side}.{j}")
        m.supply_sources[side] = np.array(sorted(set(srcs)), dtype=np.int64)

    # each side's main effort: the hexes of the places its commander drives towards
    m.main_effort = {side: _effort_hexes(bad, hm, getattr(sc.sides, side).main_effort, f"sides.{side}.main_effort")
                     for side in SIDES}
    m.supporting_efforts = {side: [_effort_hexes(bad, hm, axis, f"sides.{side}.supporting_efforts.{i}")
                                   for i, axis in enumerate(getattr(sc.sides, side).supporting_efforts)]
                            for side in SIDES}

    # objectives
    for i, ob in enumerate(sc.objectives):
        hexes = []
        if ob.at is not None:
            for h in bad.hexes(hm, ob.at, f"objectives.{i}.at"):
                hexes += area_hexes(hm, h, ob.radius)
        if ob.road:
            points = [h for j, loc in enumerate(ob.road) for h in bad.hexes(hm, loc, f"objectives.{i}.road.{j}")[:1]]
            hexes += line_hexes(hm, points)
        m.objective_hexes[ob.name] = np.array(sorted(set(hexes)), dtype=np.int64)
        m.objective_first_change[ob.name] = None

    # units
    hi = m.p.control.contested_high
    for i, entry in enumerate(sc.units):
        _place_unit(m, entry, f"units.{i}", bad, hi if control_known else 2.0)  # no side check without control

    # presence already on the ground (infiltrators inside a town at the start)
    for i, pr in enumerate(sc.start.presence):
        hexes = []
        for h in bad.hexes(hm, pr.at, f"start.presence.{i}.at"):
            hexes += area_hexes(hm, h, pr.radius)
        if hexes:
            side = 0 if pr.side == "ru" else 1
            m.presence[side, hexes] += pr.personnel / len(hexes)
            m.books_in[pr.side] += pr.personnel

    # reinforcement places are checked now so mistakes show before the game starts
    for i, r in enumerate(sc.reinforcements):
        bad.hexes(hm, r.at, f"reinforcements.{i}.at")

    if bad.items:
        raise ScenarioError(path, bad.items)


def _place_unit(m: WargameModel, entry, where: str, bad: _Problems, hi: float) -> Unit | None:
    hexes = bad.hexes(m.map, entry.at, f"{where}.at")
    if not hexes:
        return None
    hid = hexes[0]
    utype = unit_types()[entry.type]
    own = m.control[hid] if utype.side == "ru" else 1.0 - m.control[hid]
    if own <= 1.0 - hi:
        holder = "Ukraine" if utype.side == "ru" else "Russia"
        bad.items.append(f"{where}.at: unit {entry.id} stands at {m.hex_label(hid)}, which {holder} holds "
                         f"(own control {own:.2f}); place it on its own side of the line")
        return None
    return add_unit(m, entry, hid)


def add_unit(m: WargameModel, entry, hid: int) -> Unit:
    """Create a unit from a scenario entry at hex ``hid`` and enter its personnel in the books."""
    utype = unit_types()[entry.type]
    personnel = entry.personnel if entry.personnel is not None else utype.personnel
    if isinstance(entry, Reinforcement):  # a scheduled arrival: its size is an uncertain flow
        personnel *= getattr(m.p.replacements, f"{utype.side}_reinforcement_scale")
    unit = Unit(m, entry.id, utype, m.cells[hid], entry.name or f"{utype.name} {entry.id}", personnel,
                entry.cohesion, entry.quality)
    unit.status.in_reserve = entry.reserve
    m.units[entry.id] = unit
    m.books_in[utype.side] += personnel
    return unit
