"""Full-screen pages around the map: the start screen, the briefing, the hotseat hand-over and the help overlay.

They only draw and collect choices; the game screen (`sim.ui.game`) decides what comes next.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pygame

from sim.scenario import ScenarioError, installed_scenarios, parse_scenario
from sim.ui.symbols import get_font

BG = (26, 30, 38)
FG = (232, 232, 228)
DIM = (150, 154, 160)
ACCENT = (255, 214, 0)
HANDOVER_BG = (18, 22, 30)
SIDE_CHOICES = (("ua", "Ukrainian vs AI"), ("ru", "Russian vs AI"), ("both", "Hotseat: two players"))
DIFFICULTIES = ("easy", "normal", "hard")
SIDE_NAMES = {"ru": "Russian", "ua": "Ukrainian"}

HELP_KEYS = [
    ("Left click", "select your unit (click its counter; again to cycle a stack) / inspect a hex"),
    ("Right click", "default order to that hex: move, infiltrate, assault, commit or strike"),
    ("M I A C", "next click orders: move, infiltrate, assault, commit a reserve"),
    ("S / Shift+S", "next click orders a drone/fires strike / interdiction"),
    ("D W R E", "dig in, withdraw, rotate (with a nearby reserve), go into reserve"),
    ("Enter / 2nd click", "confirm the odds preview of an assault or infiltration"),
    ("Backspace, Ctrl+Z", "undo your last order this turn"),
    ("N or Enter", "end your orders (the AI or the other player moves; the turn resolves)"),
    ("Tab", "next unit without orders"),
    ("1-5, 0", "overlays: own drones, enemy drones (kill zone), supply+pockets, works, threat; 0 off"),
    ("V", "instructor view: show everything (fog of war off/on)"),
    ("Arrows, drag, wheel, + -", "pan and zoom; F fits the map; click the minimap to jump"),
    ("PgUp / PgDn", "scroll the event log"),
    ("F5 / F9", "quick save to saves/quick.json / load it"),
    ("H or F1", "this help"),
    ("F2", "White Cell (facilitator): pause, fog off, injects and rewind; F2 or Esc returns to play"),
    ("In the White Cell", "Tab side, W weather, R reinforce, B hold back (Shift+B cancel), C ceasefire, S surge,"),
    ("", "D drone shortage (at the hex under the mouse); PgUp/PgDn or digits pick a turn, Enter rewinds"),
    ("Esc", "cancel the current order, preview or selection; with nothing to cancel, quit"),
]


def wrap(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """Word-wrap ``text`` to lines no wider than ``width`` pixels, keeping paragraph breaks."""
    lines: list[str] = []
    for para in text.strip().split("\n"):
        words = para.split()
        if not words:
            lines.append("")
            continue
        line = words[0]
        for word in words[1:]:
            if font.size(f"{line} {word}")[0] <= width:
                line = f"{line} {word}"
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


def _text(surface: pygame.Surface, text: str, pos: tuple[int, int], size: int = 18, colour=FG) -> pygame.Rect:
    img = get_font(size).render(text, True, colour)
    return surface.blit(img, pos)


@dataclass
class StartScreen:
    """Choose a scenario, a side (or hotseat) and a difficulty; Enter returns the choice."""

    scenarios: list[tuple[str, str]] = field(default_factory=list)  # (id, title)
    scenario: int = 0
    side: int = 0
    difficulty: int = 1
    rects: dict[tuple[str, int], pygame.Rect] = field(default_factory=dict)
    done: bool = False

    def __post_init__(self) -> None:
        if not self.scenarios:
            for sid, path in installed_scenarios().items():
                try:
                    self.scenarios.append((sid, parse_scenario(path).title))
                except ScenarioError:
                    continue

    def choice(self) -> tuple[str, str, str]:
        return self.scenarios[self.scenario][0], SIDE_CHOICES[self.side][0], DIFFICULTIES[self.difficulty]

    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.KEYDOWN:
            if event.key in (pygame.K_RETURN, pygame.K_KP_ENTER) and self.scenarios:
                self.done = True
            elif event.key == pygame.K_UP:
                self.scenario = max(0, self.scenario - 1)
            elif event.key == pygame.K_DOWN:
                self.scenario = min(len(self.scenarios) - 1, self.scenario + 1)
            elif event.key in (pygame.K_LEFT, pygame.K_RIGHT):
                self.side = (self.side + (1 if event.key == pygame.K_RIGHT else -1)) % len(SIDE_CHOICES)
            elif event.key == pygame.K_d:
                self.difficulty = (self.difficulty + 1) % len(DIFFICULTIES)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            for (what, i), rect in self.rects.items():
                if rect.collidepoint(event.pos):
                    if what == "start":
                        self.done = True
                    else:
                        setattr(self, what, i)

    def draw(self, surface: pygame.Surface) -> None:
        surface.fill(BG)
        self.rects = {}
        _text(surface, "The fight for Pokrovsk and western Donetsk", (40, 30), 34, ACCENT)
        _text(surface, "Scenario (Up/Down or click)", (40, 90), 20, DIM)
        y = 120
        for i, (sid, title) in enumerate(self.scenarios):
            colour = ACCENT if i == self.scenario else FG
            self.rects[("scenario", i)] = _text(surface, f"{'>' if i == self.scenario else ' '} {title}  [{sid}]",
                                                (50, y), 22, colour)
            y += 32
        y += 20
        _text(surface, "Side (Left/Right or click)", (40, y), 20, DIM)
        y += 30
        x = 50
        for i, (_, label) in enumerate(SIDE_CHOICES):
            r = _text(surface, f"[{label}]", (x, y), 22, ACCENT if i == self.side else FG)
            self.rects[("side", i)] = r
            x = r.right + 30
        y += 50
        _text(surface, "AI difficulty (D or click)", (40, y), 20, DIM)
        y += 30
        x = 50
        for i, name in enumerate(DIFFICULTIES):
            r = _text(surface, f"[{name}]", (x, y), 22, ACCENT if i == self.difficulty else FG)
            self.rects[("difficulty", i)] = r
            x = r.right + 30
        y += 60
        self.rects[("start", 0)] = _text(surface, "Press Enter (or click here) to read the briefing and start",
                                         (40, y), 24, ACCENT)


def draw_briefing(surface: pygame.Surface, scenario, side: str) -> None:
    """The scenario's briefing for one side: command, situation and mission, wrapped to the window."""
    surface.fill(BG)
    w, h = surface.get_size()
    _text(surface, scenario.title, (40, 24), 30, ACCENT)
    _text(surface, f"Briefing for the {SIDE_NAMES[side]} player", (40, 62), 20, DIM)
    b = scenario.briefing.get(side)
    parts = [("", scenario.description)] if b is None else [
        ("Command", b.command), ("Situation", b.situation), ("Mission", b.mission)] + (
        [("Notes", b.notes)] if b.notes else [])
    font = get_font(17)
    y = 100
    for head, body in parts:
        if head:
            _text(surface, head, (40, y), 21, ACCENT)
            y += 26
        for line in wrap(body, font, w - 90):
            if y > h - 60:
                break
            surface.blit(font.render(line, True, FG), (50, y))
            y += font.get_linesize()
        y += 10
    _text(surface, "Press Enter to start", (40, h - 44), 24, ACCENT)


def draw_handover(surface: pygame.Surface, side: str) -> None:
    """Hide the map between hotseat players: one colour and one line of text."""
    surface.fill(HANDOVER_BG)
    w, h = surface.get_size()
    img = get_font(30).render(f"Pass to the {SIDE_NAMES[side]} player - press Enter", True, FG)
    surface.blit(img, img.get_rect(center=(w // 2, h // 2)))


def draw_help(surface: pygame.Surface) -> None:
    """Every key, over a dimmed map."""
    w, h = surface.get_size()
    shade = pygame.Surface((w, h), pygame.SRCALPHA)
    shade.fill((0, 0, 0, 200))
    surface.blit(shade, (0, 0))
    _text(surface, "Keys (H or F1 closes)", (60, 40), 28, ACCENT)
    y = 90
    for key, what in HELP_KEYS:
        _text(surface, key, (60, y), 19, ACCENT)
        _text(surface, what, (300, y), 19, FG)
        y += 28
