"""Western Donetsk wargame: a mesa rules engine for the fight for Pokrovsk, with infiltration and defence lines."""

__version__ = "0.1.0"
