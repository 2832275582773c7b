"""Frame time of the game screen at 1280x800 while panning, on the operational and tactical maps.

Prints `frame_ms_operational: X ms`, `frame_ms_tactical: Y ms` (median over the frames) and the same as fps.
Headless (dummy video driver), so it measures drawing, not the monitor's refresh.
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

from sim.ui.game import Game, shutdown  # noqa: E402

FRAMES = 100


def median_frame_ms(scenario: str, side: str) -> float:
    """Median ms per frame over FRAMES frames while dragging the map, after a short warm-up."""
    pygame.init()
    try:
        g = Game(scenario, side=side, seed=1, size=(1280, 800))
        g.page = "play"
        g.camera.zoom_at(2.0, g.camera.width / 2, g.camera.height / 2)  # a playing zoom, not the whole map
        for _ in range(5):
            g.frame()
        times = []
        for i in range(FRAMES):
            dx = 12 if (i // 25) % 2 == 0 else -12
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(400, 400), rel=(dx, 4 if i % 2 else -4),
                                                 buttons=(1, 0, 0)))
            g.drag_from = (400, 400)
            t0 = time.perf_counter()
            g.frame()
            times.append((time.perf_counter() - t0) * 1000.0)
        return statistics.median(times)
    finally:
        shutdown()


def main() -> None:
    for label, scenario, side in (("operational", "pokrovsk-axis-2024", "ua"), ("tactical", "pokrovsk-2025", "ru")):
        ms = median_frame_ms(scenario, side)
        print(f"frame_ms_{label}: {ms:.2f} ms")
        print(f"fps_{label}: {1000.0 / ms:.0f} fps")


if __name__ == "__main__":
    main()
