"""A monkey test: thousands of seeded random events (clicks, bound keys, wheel, drags, resizes) never crash the
game screen, from the start screen through a tutorial game."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import random  # noqa: E402

import pygame  # noqa: E402
import pytest  # noqa: E402

from sim.ui.game import Game, shutdown  # noqa: E402

KEYS = [pygame.K_m, pygame.K_i, pygame.K_a, pygame.K_c, pygame.K_s, pygame.K_d, pygame.K_w, pygame.K_r, pygame.K_e,
        pygame.K_RETURN, pygame.K_n, pygame.K_BACKSPACE, pygame.K_z, pygame.K_TAB, pygame.K_v, pygame.K_h,
        pygame.K_F1, pygame.K_0, pygame.K_1, pygame.K_2, pygame.K_3, pygame.K_4, pygame.K_5, pygame.K_LEFT,
        pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN, pygame.K_PLUS, pygame.K_MINUS, pygame.K_f, pygame.K_PAGEUP,
        pygame.K_PAGEDOWN, pygame.K_ESCAPE, pygame.K_F5, pygame.K_F9, pygame.K_SPACE]


def random_event(rng: random.Random, size: tuple[int, int]) -> pygame.event.Event:
    w, h = size
    pos = (rng.randrange(-10, w + 10), rng.randrange(-10, h + 10))
    roll = rng.random()
    if roll < 0.35:
        mod = rng.choice([0, 0, pygame.KMOD_SHIFT, pygame.KMOD_CTRL])
        return pygame.event.Event(pygame.KEYDOWN, key=rng.choice(KEYS), mod=mod, unicode="")
    if roll < 0.7:
        kind = rng.choice([pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP])
        return pygame.event.Event(kind, pos=pos, button=rng.choice([1, 1, 3, 2]))
    if roll < 0.85:
        rel = (rng.randint(-60, 60), rng.randint(-60, 60))
        return pygame.event.Event(pygame.MOUSEMOTION, pos=pos, rel=rel, buttons=(rng.randint(0, 1), 0, 0))
    if roll < 0.97:
        return pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=rng.choice([-1, 1]), flipped=False)
    nw, nh = rng.randint(300, 1400), rng.randint(200, 900)
    return pygame.event.Event(pygame.VIDEORESIZE, w=nw, h=nh, size=(nw, nh))


@pytest.mark.slow
def test_random_events_never_crash(tmp_path):
    pygame.init()
    try:
        rng = random.Random(20251101)
        g = Game("tutorial", side="ru", seed=5, save_path=tmp_path / "quick.json")
        for i in range(3000):
            g.running = True  # Esc may quit; the monkey keeps going
            g.handle(random_event(rng, g.screen.get_size()))
            if i % 10 == 0:
                g.update()
                g.draw()
        assert g.model.turn >= 1
        start = Game(save_path=tmp_path / "quick2.json")  # and the start screen, into a game
        for _ in range(400):
            start.handle(random_event(rng, start.screen.get_size()))
            start.draw()
    finally:
        shutdown()
