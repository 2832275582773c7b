"""The first game window, driven headless with posted events."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"

import pygame  # noqa: E402

from sim.ui.viewer import Viewer  # noqa: E402


def test_space_ends_a_turn_and_hover_inspects_a_hex(tmp_path):
    pygame.init()
    try:
        v = Viewer("pokrovsk-axis-2024", seed=1)
        v.frame()
        assert v.model.turn == 0
        pokrovsk = v.model.map.place_hex("Pokrovsk")
        px, py = v.camera.world_to_screen(v.model.map.x_km[pokrovsk], v.model.map.y_km[pokrovsk])
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(int(px), int(py)), rel=(0, 0), buttons=(0, 0, 0)))
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_SPACE, mod=0, unicode=" "))
        v.frame()
        assert v.model.turn == 1
        assert v.hover == pokrovsk
        shot = tmp_path / "viewer.png"
        pygame.image.save(v.screen, str(shot))
        assert shot.stat().st_size > 10_000
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0, unicode=""))
        v.frame()
        assert not v.running
    finally:
        pygame.quit()
