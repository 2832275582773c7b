"""The classroom layer: facilitator injects, rewind and branch, claims against reality, the after-action review.

It drives the model only through its public state, orders and a few clearly marked rule hooks, so everything here
works headless and replays exactly.
"""

from sim.classroom.injects import Inject, InjectError, apply_inject, parse_inject
from sim.classroom.timeline import SaveError, load_game, model_of_save, play_on, rewind, save_of, write_save

__all__ = ["Inject", "InjectError", "apply_inject", "parse_inject", "SaveError", "load_game", "model_of_save",
           "play_on", "rewind", "save_of", "write_save"]
