"""A first interactive window: watch a scenario unfold with the AI on both sides, pan, zoom and inspect hexes.

Keys: SPACE ends the turn (the AI gives both sides' orders), arrows or drag pan, wheel or +/- zoom, F fits the
map, ESC quits. The full game screen (orders, overlays, hotseat, saves) builds on this loop.
"""

from __future__ import annotations

import pygame

from sim.ai import commanders_for
from sim.model import WargameModel
from sim.ui.render import Camera, MapRenderer, RenderState, UnitMarker
from sim.ui.symbols import get_font

SIZE = (1280, 800)
PANEL = 300


class Viewer:
    """The window's state and one-frame update, so tests can step it without an endless loop."""

    def __init__(self, scenario: str, seed: int = 0, size: tuple[int, int] = SIZE):
        self.model = WargameModel(scenario, seed=seed)
        self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        pygame.display.set_caption(f"Western Donetsk wargame: {self.model.scenario.title}")
        self.renderer = MapRenderer(self.model.map)
        self.camera = Camera(0, 0, 1, size[0] - PANEL, size[1]).fit(self.model.map, size[0] - PANEL, size[1])
        self.hover = -1
        self.running = True
        self.dragging = False
        self.commanders = commanders_for(self.model)

    def end_turn(self) -> None:
        if not self.model.over:
            for command in self.commanders:
                command(self.model)
            self.model.end_turn()

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
            self.running = False
        elif event.type == pygame.VIDEORESIZE:
            self.screen = pygame.display.set_mode(event.size, pygame.RESIZABLE)
            self.camera.width, self.camera.height = event.w - PANEL, event.h
        elif event.type == pygame.KEYDOWN:
            step = 60
            moves = {pygame.K_LEFT: (-step, 0), pygame.K_RIGHT: (step, 0), pygame.K_UP: (0, -step),
                     pygame.K_DOWN: (0, step)}
            if event.key in moves:
                self.camera.pan(*moves[event.key])
            elif event.key == pygame.K_SPACE:
                self.end_turn()
            elif event.key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                self.camera.zoom_at(1.25, self.camera.width / 2, self.camera.height / 2)
            elif event.key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                self.camera.zoom_at(0.8, self.camera.width / 2, self.camera.height / 2)
            elif event.key == pygame.K_f:
                self.camera.fit(self.model.map, self.camera.width, self.camera.height)
        elif event.type == pygame.MOUSEWHEEL:
            x, y = pygame.mouse.get_pos()
            self.camera.zoom_at(1.2 if event.y > 0 else 1 / 1.2, x, y)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.dragging = True
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            self.dragging = False
        elif event.type == pygame.MOUSEMOTION:
            if self.dragging:
                self.camera.pan(-event.rel[0], -event.rel[1])
            self.hover = self.camera.screen_to_hex(self.model.map, *event.pos)

    def draw(self) -> None:
        m = self.model
        units = [UnitMarker(u.hex, u.side, u.utype.symbol, u.utype.size,
                            min(1.0, u.personnel / max(u.utype.personnel, 1)), u.uid) for u in m.units.values() if u.alive]
        state = RenderState(control=m.control, units=units, highlight={self.hover} if self.hover >= 0 else set())
        self.screen.fill((40, 44, 52))
        map_area = self.screen.subsurface((0, 0, self.camera.width, self.camera.height))
        self.renderer.draw(map_area, self.camera, state)
        self._panel()

    def _panel(self) -> None:
        m = self.model
        font, small = get_font(20), get_font(15)
        x0 = self.camera.width + 12
        lines = [(m.scenario.title, font), (f"{m.date}  turn {m.turn}/{m.scenario.calendar.turns}", small),
                 (f"weather: {m.weather.get('dominant')}, visibility {m.weather.get('visibility', 1):.2f}", small),
                 (f"Russian-held {m.metrics[-1]['ru_km2']:.0f} km2, contested {m.metrics[-1]['contested_km2']:.0f}", small)]
        if m.outcome:
            lines.append((f"Game over: {m.outcome['result']}", font))
        if self.hover >= 0:
            h = self.hover
            lines += [("", small), (m.hex_label(h), font),
                      (f"terrain {int(m.map.terrain[h])}, works level {int(m.fort[h])}", small),
                      (f"control {m.control[h]:.2f} (0 Ukrainian, 1 Russian)", small),
                      (f"drone coverage RU {m.isr[0, h]:.2f} / UA {m.isr[1, h]:.2f}", small),
                      (f"supply RU {m.supply_ratio[0, h]:.2f} / UA {m.supply_ratio[1, h]:.2f}", small)]
        lines += [("", small), ("SPACE end turn, arrows/drag pan,", small), ("wheel or +/- zoom, F fit, ESC quit", small)]
        y = 12
        for text, f in lines:
            if text:
                self.screen.blit(f.render(text, True, (230, 230, 230)), (x0, y))
            y += f.get_linesize() + 2
        log = [e.text for e in (m.history[-1] if m.history else [])][-12:]
        for text in log:
            self.screen.blit(small.render(text[:44], True, (200, 200, 190)), (x0, y))
            y += small.get_linesize()

    def frame(self) -> None:
        for event in pygame.event.get():
            self.handle(event)
        self.draw()
        pygame.display.flip()


def run_viewer(scenario: str, side: str = "ua", seed: int = 0, max_frames: int | None = None) -> int:
    pygame.init()
    try:
        viewer = Viewer(scenario, seed=seed)
        clock = pygame.time.Clock()
        frames = 0
        while viewer.running and (max_frames is None or frames < max_frames):
            viewer.frame()
            clock.tick(60)
            frames += 1
    finally:
        pygame.quit()
    return 0
