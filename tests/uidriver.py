"""Driving the game window headless: the dummy SDL drivers and posted-event helpers (the `pg` fixture is in conftest)."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import pygame  # noqa: E402

from sim.ui.game import Game  # noqa: E402


def key(k: int, mod: int = 0) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="")


def click(pos: tuple[int, int], button: int = 1) -> list[pygame.event.Event]:
    down = pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=button)
    up = pygame.event.Event(pygame.MOUSEBUTTONUP, pos=pos, button=button)
    return [down, up]


def post(game: Game, *events) -> None:
    """Post events (single ones or lists, as `click` returns) and run one frame of the game."""
    for ev in events:
        for e in ev if isinstance(ev, list) else [ev]:
            pygame.event.post(e)
    game.frame()
