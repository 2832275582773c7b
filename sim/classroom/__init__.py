"""The classroom layer: facilitator injects, rewind and branch, claims against reality, the after-action review.

It drives the model only through its public state, orders and a few clearly marked rule hooks, so everything here
works headless and replays exactly. Saves are `sim.saves`.
"""

from sim.classroom.injects import Inject, InjectError, apply_inject, parse_inject
from sim.classroom.timeline import play_on, rewind

__all__ = ["Inject", "InjectError", "apply_inject", "parse_inject", "play_on", "rewind"]
