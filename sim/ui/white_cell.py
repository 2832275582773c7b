"""The White Cell inside the game window: the facilitator pauses the game, sees everything, drops in injects and
rewinds, without leaving the window for `wargame facilitate`.

`WhiteCell` holds only the panel's own state; the game (`sim.ui.game.Game`) gives it keys while it is open and
asks it to draw. Injects go through `sim.classroom.injects.apply_inject`, so they land in the model's
``inject_log`` and the quick save (F5) keeps them exactly as the command line would.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

import pygame

from sim.classroom.injects import SIDE_NAMES, Inject, InjectError, apply_inject
from sim.classroom.timeline import rewind
from sim.saves import SaveError
from sim.scenario import WEATHER_STATES
from sim.ui import screens
from sim.ui.symbols import get_font
from sim.units import UnitType, unit_types

if TYPE_CHECKING:
    from sim.model import WargameModel
    from sim.ui.game import Game

BANNER = "WHITE CELL \u2014 paused"
BANNER_BG = (250, 250, 250)
BANNER_FG = (20, 20, 20)
PANEL_BG = (44, 44, 52)
HEAD = (255, 255, 255)
TEXT = (230, 230, 226)
DIM = (160, 164, 170)
CEASEFIRE_RADIUS = 2
CEASEFIRE_TURNS = 2
HOLD_BACK_TURNS = 2
SHORTAGE_FACTOR = 0.5
SHORTAGE_TURNS = 2
SURGE_UNITS = 3  # a surge is this many units' worth of the side's usual infiltrators

KEYS = [
    ("Tab", "side for the next inject"),
    ("W", "weather for this turn: next of " + "/".join(WEATHER_STATES)),
    ("R", "reinforce: a unit of the side at the hex"),
    ("B / Shift+B", f"hold back the side's next reinforcement {HOLD_BACK_TURNS} turns / cancel it"),
    ("C", f"ceasefire: radius {CEASEFIRE_RADIUS}, {CEASEFIRE_TURNS} turns, at the hex"),
    ("S", "surge of the side's infiltrators at the hex"),
    ("D", f"drone shortage: the side's drones at {SHORTAGE_FACTOR:.0%} for {SHORTAGE_TURNS} turns"),
    ("PgUp/PgDn, digits", "choose a turn to rewind to; Enter rewinds"),
    ("F2 or Esc", "leave the White Cell: play goes on"),
]


def usual_type(model: WargameModel, side: str) -> UnitType:
    """The side's usual manoeuvre type: its scheduled reinforcements' type, else its commonest fighting unit."""
    types = unit_types()
    sched = [r.type for r in model.scenario.reinforcements if r.side == side]
    if sched:
        return types[Counter(sched).most_common(1)[0][0]]
    mine = [u.utype for u in model.units.values() if u.side == side and u.utype.role == "manoeuvre"]
    pick = [t for t in mine if t.can_infiltrate] or mine
    if pick:
        return Counter(pick).most_common(1)[0][0]
    return next(t for t in types.values() if t.side == side and t.role == "manoeuvre"
                and t.scale == model.scenario.scale)


class WhiteCell:
    """The facilitator's mode: the game is paused behind it, and every key is an inject or a rewind."""

    def __init__(self, game: Game) -> None:
        self.game = game
        self.active = False
        self.side = "ru"
        self.rewind_to: int | None = None  # a 0-based turn index (the top bar shows it + 1)
        self.typed = ""
        self._back_page = "play"
        self._full_view = False

    @property
    def model(self) -> WargameModel:
        return self.game.model

    # ------------------------------------------------------------------ enter / leave
    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        """Pause: remember what the players saw (page, fog) so leaving gives it back."""
        g = self.game
        if g.model is None or self.active:
            return
        self.active = True
        self._back_page = g.page
        self._full_view = g.full_view
        g.page, g.full_view, g.show_help = "play", True, False
        g.preview, g.mode = None, None
        self.rewind_to, self.typed = None, ""
        g.say("White Cell: the game is paused and the fog is off. F2 or Esc returns to play.")

    def leave(self) -> None:
        g = self.game
        if not self.active:
            return
        self.active = False
        g.full_view = self._full_view
        g.page = self._back_page if self._back_page in ("play", "handover", "briefing") else "play"
        g.say("White Cell closed: play goes on")

    # ------------------------------------------------------------------ keys
    def key(self, event: pygame.event.Event) -> bool:
        """Handle a key of the panel; False leaves it to the game (only its view keys get through)."""
        k, mod = event.key, getattr(event, "mod", 0)
        if k == pygame.K_ESCAPE and self.game.show_help:
            self.game.show_help = False
        elif k in (pygame.K_F2, pygame.K_ESCAPE):
            self.leave()
        elif k == pygame.K_TAB:
            self.side = "ua" if self.side == "ru" else "ru"
            self.game.say(f"White Cell: injects now for {SIDE_NAMES[self.side]}")
        elif k == pygame.K_w:
            self.weather()
        elif k == pygame.K_r:
            self.reinforce()
        elif k == pygame.K_b:
            self.hold_back(cancel=bool(mod & pygame.KMOD_SHIFT))
        elif k == pygame.K_c:
            self.ceasefire()
        elif k == pygame.K_s:
            self.surge()
        elif k == pygame.K_d:
            self.inject("drone_shortage", side=self.side, factor=SHORTAGE_FACTOR, turns=SHORTAGE_TURNS)
        elif k in (pygame.K_PAGEUP, pygame.K_PAGEDOWN):
            now = self.rewind_to if self.rewind_to is not None else self.model.turn
            step = -1 if k == pygame.K_PAGEUP else 1
            self.rewind_to = min(max(0, now + step), self.model.turn)
            self.typed = ""
        elif pygame.K_0 <= k <= pygame.K_9 or pygame.K_KP0 <= k <= pygame.K_KP9:
            digit = k - pygame.K_0 if k <= pygame.K_9 else k - pygame.K_KP0
            self.typed = (self.typed + str(digit))[-3:]
            self.rewind_to = int(self.typed) - 1 if int(self.typed) > 0 else None
        elif k == pygame.K_BACKSPACE:
            self.typed = self.typed[:-1]
            self.rewind_to = int(self.typed) - 1 if self.typed and int(self.typed) > 0 else None
        elif k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            self.do_rewind()
        else:
            return False
        return True

    def hex(self) -> int:
        """The hex the facilitator means: under the mouse, else the one last clicked (-1: none)."""
        g = self.game
        return g.hover if g.hover >= 0 else g.inspect

    def at(self) -> dict[str, int] | None:
        hid = self.hex()
        if hid < 0:
            self.game.say("White Cell: point at a hex (or click one) first", ok=False)
            return None
        hm = self.model.map
        return {"col": int(hm.col[hid]), "row": int(hm.row[hid])}

    # ------------------------------------------------------------------ injects
    def inject(self, kind: str, **args: Any) -> bool:
        """Apply one inject now and show its event; a refusal is shown in red and changes nothing."""
        m = self.model
        try:
            apply_inject(m, Inject(kind, m.turn, args))
        except InjectError as exc:
            self.game.say(f"Refused: {exc}", ok=False)
            return False
        self.game.say(m.inject_events[-1].text if m.inject_events else f"White Cell: {kind}")
        self.game._seen_key = self.game._layer_key = self.game._minimap_key = None
        return True

    def weather(self) -> None:
        now = self.model.weather.get("dominant")
        i = WEATHER_STATES.index(now) + 1 if now in WEATHER_STATES else 0
        self.inject("weather", state=WEATHER_STATES[i % len(WEATHER_STATES)])

    def reinforce(self) -> None:
        at = self.at()
        if at is not None:
            self.inject("reinforce", type=usual_type(self.model, self.side).key, at=at)

    def hold_back(self, cancel: bool = False) -> None:
        m = self.model
        waiting = sorted((r for r in m.scenario.reinforcements if r.side == self.side and r.id not in m.units),
                         key=lambda r: r.arrive)
        if not waiting:
            self.game.say(f"Refused: {SIDE_NAMES[self.side]} has no reinforcement still to come", ok=False)
            return
        args: dict[str, Any] = {"id": waiting[0].id}
        if not cancel:
            args["turns"] = HOLD_BACK_TURNS
        self.inject("hold_back", **args)

    def ceasefire(self) -> None:
        at = self.at()
        if at is not None:
            self.inject("ceasefire", at=at, radius=CEASEFIRE_RADIUS, turns=CEASEFIRE_TURNS)

    def surge(self) -> None:
        at = self.at()
        if at is not None:
            n = SURGE_UNITS * usual_type(self.model, self.side).personnel
            self.inject("surge", side=self.side, at=at, personnel=n)

    # ------------------------------------------------------------------ rewind
    def do_rewind(self) -> None:
        """Replace the game by a replay of its record to the start of the chosen turn (a branch point)."""
        g = self.game
        turn = self.rewind_to
        if turn is None:
            g.say("White Cell: choose a turn first (PgUp/PgDn or type its number), then Enter", ok=False)
            return
        try:
            model = rewind(self.model, turn)
        except SaveError as exc:
            g.say(f"Refused: {exc}", ok=False)
            return
        camera, hotseat = g.camera, len(g.humans) > 1
        g._begin(model, "both" if hotseat else g.side, page="play")
        g.camera = camera
        g.full_view = True
        self._back_page = "handover" if hotseat else "play"
        self.rewind_to, self.typed = None, ""
        g.say(f"White Cell: rewound to the start of turn {model.turn + 1} ({model.date}); "
              "the later turns are gone unless you saved them")

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: pygame.Surface, rect: pygame.Rect, map_rect: pygame.Rect) -> None:
        """The banner over the map and the panel over the game's side panel."""
        m = self.model
        f = get_font(26)
        img = f.render(BANNER, True, BANNER_FG)
        box = img.get_rect(midtop=(map_rect.centerx, map_rect.y + 8)).inflate(24, 10)
        pygame.draw.rect(surface, BANNER_BG, box)
        surface.blit(img, img.get_rect(center=box.center))

        pygame.draw.rect(surface, PANEL_BG, rect)
        pygame.draw.rect(surface, BANNER_BG, rect, 2)
        x, width, bottom = rect.x + 10, rect.w - 20, rect.bottom - 8
        hid = self.hex()
        target = m.hex_label(hid) if hid >= 0 else "none (point at one)"
        chosen = "none" if self.rewind_to is None else f"{self.rewind_to + 1} ({m.date_of_turn(self.rewind_to)})"
        text, colour = self.game.message
        lines: list[tuple[str, tuple]] = [
            ("White Cell", HEAD),
            (f"Turn {m.turn + 1} ({m.date}), weather {m.weather.get('dominant', '?')}", TEXT),
            (f"Side: {SIDE_NAMES[self.side]} (Tab)   hex: {target}", TEXT),
            (f"Rewind to turn: {chosen}", TEXT),
            ("", TEXT)]
        lines += [(f"{k}: {what}", TEXT) for k, what in KEYS]
        if text:
            lines += [("", TEXT), (text, colour)]
        here = [i for i in getattr(m, "inject_log", []) if i.turn == m.turn]
        if here:
            lines += [("", TEXT), (f"Injects this turn: {', '.join(i.kind for i in here)}", DIM)]
        if hid >= 0:  # what the facilitator points at, as the inspector shows it (fog is off here)
            lines += [("", TEXT)] + [(t, DIM) for t in self.game.inspector(hid)]
        y = rect.y + 8
        for i, (line, col) in enumerate(lines):
            font = get_font(19 if i == 0 else 15)
            for part in screens.wrap(line, font, width) if line else [""]:
                if y > bottom - font.get_linesize():
                    return
                surface.blit(font.render(part, True, col), (x, y))
                y += font.get_linesize()
