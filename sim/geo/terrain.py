"""Terrain classes of a hex. The codes are stored as int8 in ``HexMap.terrain``."""

from __future__ import annotations

from enum import IntEnum


class Terrain(IntEnum):
    """Dominant ground type of a hex; ordered so that higher urban codes win when settlements overlap."""

    OPEN = 0  # open steppe and fields
    TREELINE = 1  # rolling ground cut by treelines (windbreaks) and gullies (balkas)
    VILLAGE = 2  # rural settlement: houses with large gardens
    TOWN = 3  # small town, or the outer built-up ring of a city
    CITY = 4  # dense urban core of a large city
    INDUSTRIAL = 5  # industrial sites, mines, slag heaps
    WATER = 6  # reservoirs: impassable

    @property
    def display_name(self) -> str:
        """Human-readable name for legends and tooltips."""
        return DISPLAY_NAMES[self]


DISPLAY_NAMES: dict[Terrain, str] = {
    Terrain.OPEN: "Open steppe / fields",
    Terrain.TREELINE: "Treelines and gullies",
    Terrain.VILLAGE: "Village",
    Terrain.TOWN: "Town",
    Terrain.CITY: "City (dense urban)",
    Terrain.INDUSTRIAL: "Industrial / mine",
    Terrain.WATER: "Water (reservoir)",
}

# Classes that count as built-up ground (for concealment, defence and "urban hex" checks).
URBAN_CLASSES: frozenset[Terrain] = frozenset(
    {Terrain.VILLAGE, Terrain.TOWN, Terrain.CITY, Terrain.INDUSTRIAL}
)


def is_passable(code: int) -> bool:
    """Whether ground units can enter a hex of this terrain (reservoirs are treated as impassable)."""
    return Terrain(code) != Terrain.WATER
