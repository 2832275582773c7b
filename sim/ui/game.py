"""The game screen: the map, orders with mouse and keys, odds previews, fog of war, overlays, hotseat and saves.

`Game` keeps all window state and exposes `handle(event)`, `update()`, `draw()` and `frame()` so tests drive it
headless with posted events. It only reads the model and gives it orders (`try_issue`, `undo`, `end_turn`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame

from sim.ai import play_side
from sim.ai.common import current_offensive
from sim.geo.terrain import Terrain
from sim.model import SIDE_INDEX, WargameModel
from sim.orders import Assault, Commit, DigIn, Infiltrate, Move, Order, Reserve, Rotate, Strike, Withdraw
from sim.rules import assault as assault_rule
from sim.rules import infiltration as infil_rule
from sim.rules import legality
from sim.rules.movement import reachable
from sim.rules.victory import _score
from sim.saves import SaveError, load_game, read_save, save_game
from sim.ui import overlays, screens
from sim.ui.render import Camera, MapRenderer, RenderState, UnitMarker, map_bounds
from sim.ui.symbols import forget_fonts, get_font
from sim.ui.white_cell import WhiteCell
from sim.units import SIDE_NAMES, Unit, other

SIZE = (1280, 800)
TOP = 50
PANEL = 340
MINIMAP_W = 160
REACH_RGBA = (60, 230, 90, 110)
CHANGED_RGBA = (255, 255, 255, 150)
PANEL_BG = (30, 34, 42)
TEXT = (230, 230, 226)
DIM = (160, 164, 170)
GOOD = (120, 230, 120)
BAD = (255, 90, 80)
QUICK_SAVE = Path("saves/quick.json")
CHANGED_SECONDS = 6.0
KEY_KINDS = {pygame.K_m: "move", pygame.K_i: "infiltrate", pygame.K_a: "assault", pygame.K_c: "commit"}
# view keys that still work behind the White Cell panel; every order and end-turn key is blocked there
WHITE_CELL_PASS = {pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN, pygame.K_PLUS, pygame.K_EQUALS,
                   pygame.K_KP_PLUS, pygame.K_MINUS, pygame.K_KP_MINUS, pygame.K_f, pygame.K_h, pygame.K_F1,
                   pygame.K_F5, pygame.K_F9}


@dataclass
class GameMarker(UnitMarker):
    """A counter that remembers which unit it shows, so a click can select it."""

    uid: str = ""


class Game:
    """The whole window: start screen, briefing, the map with its panels, hand-over and help."""

    def __init__(self, scenario: str | None = None, side: str = "ua", difficulty: str = "normal", seed: int = 0,
                 size: tuple[int, int] = SIZE, model: WargameModel | None = None, save_path: Path = QUICK_SAVE,
                 white_cell: bool = False):
        self.screen = pygame.display.set_mode(size, pygame.RESIZABLE)
        self.difficulty = difficulty
        self.seed = seed
        self.save_path = Path(save_path)
        self.running = True
        self.show_help = False
        self.full_view = False
        self.overlay = 0
        self.message = ("", TEXT)
        self.log_scroll = 0
        self.changed: set[int] = set()
        self.changed_until = 0.0
        self.start: screens.StartScreen | None = None
        self.model: WargameModel | None = None
        self.white_cell = WhiteCell(self)
        self.white_cell_start = white_cell
        if model is not None:
            self._begin(model, side)
        elif scenario is not None:
            self._begin(WargameModel(scenario, seed=seed), side)
        else:
            self.start = screens.StartScreen()
            self.page = "start"
        if white_cell:
            self.white_cell.enter()

    # ------------------------------------------------------------------ set-up
    def _begin(self, model: WargameModel, side: str, page: str = "briefing") -> None:
        """Start playing ``model``: ``side`` is ru, ua or both (hotseat)."""
        self.model = model
        self.humans = [s for s in model.scenario.sides.order if side in (s, "both")]
        self.side = self.humans[0]
        self.done: set[str] = set()
        self.briefed: set[str] = {self.side}
        self.page = page
        self.renderer = MapRenderer(model.map)
        w, h = self.screen.get_size()
        self.camera = Camera(0, 0, 1, w - PANEL, h - TOP).fit(model.map, w - PANEL, h - TOP)
        self.selected: str | None = None
        self.reach: dict = {}
        self.mode: str | None = None
        self.preview: tuple[Order, dict] | None = None
        self.hover = -1
        self.inspect = -1
        self.changed: set[int] = set()
        self.changed_until = 0.0
        self.drag_from: tuple[int, int] | None = None
        self.dragged = 0
        self._layer_key: tuple | None = None
        self._layer: np.ndarray | None = None
        self._seen_key: tuple | None = None
        self._seen = np.ones(model.map.n, bool)
        self._minimap: pygame.Surface | None = None
        self._minimap_key: tuple | None = None
        pygame.display.set_caption(f"Western Donetsk wargame: {model.scenario.title}")

    @property
    def map_rect(self) -> pygame.Rect:
        w, h = self.screen.get_size()
        return pygame.Rect(0, TOP, max(1, w - PANEL), max(1, h - TOP))

    def say(self, text: str, ok: bool = True) -> None:
        self.message = (text, GOOD if ok else BAD)

    # ------------------------------------------------------------------ what the player knows
    def seen(self) -> np.ndarray:
        """Hexes where the current player sees enemy units and presence (all of them in instructor view)."""
        m = self.model
        key = (m.turn, self.side, self.full_view, len(m.history))
        if key != self._seen_key:
            self._seen = np.ones(m.map.n, bool) if self.full_view else overlays.visible_mask(m, self.side)
            self._seen_key = key
        return self._seen

    def markers(self) -> list[GameMarker]:
        seen = self.seen()
        out = []
        for u in self.model.units.values():
            if not u.alive or (u.side != self.side and not seen[u.hex]):
                continue
            out.append(GameMarker(u.hex, u.side, u.utype.symbol, u.utype.size,
                                  min(1.0, u.personnel / max(u.utype.personnel, 1)), u.uid.split("-")[-1],
                                  u.uid == self.selected, u.uid))
        return out

    def unit(self) -> Unit | None:
        return self.model.units.get(self.selected) if self.selected else None

    # ------------------------------------------------------------------ orders
    def select(self, uid: str | None) -> None:
        self.selected, self.mode, self.preview = uid, None, None
        u = self.unit()
        self.reach = {}
        if u is not None and u.utype.role == "manoeuvre":
            self.reach = dict(reachable(self.model, u, commit=u.status.in_reserve))
            self.reach.pop(u.hex, None)
        if u is not None:
            self.inspect = u.hex

    def default_kind(self, u: Unit, hid: int) -> str:
        """The order a right click means: strike for drones/fires, commit for reserves, else by the ground."""
        m = self.model
        if u.utype.role != "manoeuvre":
            return "strike"
        if u.status.in_reserve:
            return "commit"
        if hid in self.reach:
            return "move"
        enemy_ground = m.own_share(u.side)[hid] < m.p.control.contested_high
        if enemy_ground and u.utype.can_infiltrate and m.map.distance(u.hex, hid) >= 1:
            return "infiltrate"
        if enemy_ground and m.map.distance(u.hex, hid) == 1:
            return "assault"
        return "move"

    def order_at(self, kind: str, hid: int) -> Order | None:
        u = self.unit()
        if u is None:
            return None
        kinds = {"move": lambda: Move(u.uid, hid), "infiltrate": lambda: self._infiltration(u, hid),
                 "assault": lambda: Assault(u.uid, hid), "commit": lambda: Commit(u.uid, hid),
                 "strike": lambda: Strike(u.uid, hid), "interdict": lambda: Strike(u.uid, hid, "interdict"),
                 "withdraw": lambda: Withdraw(u.uid, hid)}
        return kinds[kind]()

    def _infiltration(self, u: Unit, hid: int) -> Infiltrate:
        """The usual share of the unit; once it has sent groups elsewhere this turn, all it may still send."""
        sent, left = infil_rule.left_to_send(self.model, u)
        return Infiltrate(u.uid, hid) if sent == 0 else Infiltrate(u.uid, hid, personnel=float(max(1, int(left))))

    def give(self, order: Order, confirmed: bool = False) -> bool:
        """Issue an order; assaults and infiltrations first show their odds and wait for a confirm."""
        m = self.model
        if isinstance(order, Assault | Infiltrate) and not confirmed:
            try:
                legality.check(m, order)
            except ValueError as exc:
                self.say(f"Refused: {exc}", ok=False)
                return False
            info = assault_rule.odds(m, order) if isinstance(order, Assault) else infil_rule.preview(m, order)
            self.preview = (order, info)
            self.say("Enter or click the target again to confirm; Esc cancels")
            return False
        refusal = m.try_issue(order)
        self.preview = None
        if refusal:
            self.say(f"Refused: {refusal}", ok=False)
            return False
        self.say(f"Ordered: {order.describe()}")
        self.changed = set()
        self.mode = None
        self.select(None)
        self.inspect = getattr(order, "to", None) or getattr(order, "target", None) or self.inspect
        return True

    def immediate(self, key: int) -> None:
        """Orders without a target hex: dig in, withdraw, rotate, reserve."""
        u = self.unit()
        if u is None:
            self.say("Select one of your units first (left click its counter)", ok=False)
            return
        if key == pygame.K_d:
            self.give(DigIn(u.uid))
        elif key == pygame.K_w:
            self.give(Withdraw(u.uid))
        elif key == pygame.K_e:
            self.give(Reserve(u.uid))
        elif key == pygame.K_r:
            self.give(Rotate(u.uid, self.relief_for(u)))

    def relief_for(self, u: Unit) -> str | None:
        """The nearest reserve of the same side that can reach the unit this turn, if any."""
        m = self.model
        busy = m.ordered_units()
        best = None
        for r in m.side_units(u.side, "manoeuvre"):
            if r.uid != u.uid and r.status.in_reserve and r.uid not in busy and u.hex in reachable(m, r):
                d = m.map.distance(r.hex, u.hex)
                if best is None or d < best[0]:
                    best = (d, r.uid)
        return best[1] if best else None

    def undo(self) -> None:
        order = self.model.undo(self.side)
        self.preview = None
        self.say(f"Undone: {order.describe()}" if order else "No order to undo this turn", ok=order is not None)

    def next_unit(self) -> None:
        """Tab: cycle through the side's units that have no order yet."""
        busy = self.model.ordered_units(self.side)
        free = [u.uid for u in self.model.side_units(self.side) if u.uid not in busy]
        if not free:
            self.say("Every unit has its orders; N ends the turn")
            return
        i = free.index(self.selected) + 1 if self.selected in free else 0
        self.select(free[i % len(free)])
        u = self.unit()
        self.camera.cx, self.camera.cy = float(self.model.map.x_km[u.hex]), float(self.model.map.y_km[u.hex])

    def end_orders(self) -> None:
        """The current player is done: hand over in hotseat, else let the AI order and resolve the turn."""
        m = self.model
        if self.white_cell.active:
            self.say("The White Cell has paused the game: F2 returns to play", ok=False)
            return
        if m.over:
            self.say(f"The game is over: {m.outcome['result']}", ok=False)
            return
        self.done.add(self.side)
        self.select(None)
        waiting = [s for s in self.humans if s not in self.done]
        if waiting:
            self.side = waiting[0]
            self.page = "handover"
            return
        self.resolve()
        if len(self.humans) > 1 and not m.over:
            self.side = self.humans[0]
            self.page = "handover"

    def resolve(self) -> None:
        """AI orders for the sides nobody plays, then the turn; remember which hexes changed hands."""
        m = self.model
        for s in m.scenario.sides.order:
            if s not in self.humans:
                play_side(m, s, self.difficulty)
        before = self._classes()
        m.end_turn()
        self.done = set()
        self.changed = set(np.nonzero(self._classes() != before)[0].tolist())
        self.changed_until = time.monotonic() + CHANGED_SECONDS
        self.log_scroll = 0
        result = f"; game over: {m.outcome['result']} ({m.outcome['reason']})" if m.outcome else ""
        self.say(f"Turn resolved: {len(self.changed)} hexes changed hands{result}")

    def _classes(self) -> np.ndarray:
        m = self.model
        return m.held("ru").astype(np.int8) - m.held("ua").astype(np.int8)

    # ------------------------------------------------------------------ saves
    def quick_save(self) -> None:
        try:
            save_game(self.model, self.save_path, side="both" if len(self.humans) > 1 else self.side,
                      difficulty=self.difficulty)
            self.say(f"Saved to {self.save_path}")
        except SaveError as exc:
            self.say(str(exc), ok=False)

    def quick_load(self) -> None:
        try:
            meta = read_save(self.save_path)
            model = load_game(self.save_path)
        except SaveError as exc:
            self.say(str(exc), ok=False)
            return
        self.difficulty = meta.get("difficulty", self.difficulty)
        self._begin(model, meta.get("side", self.side), page="play")
        self.say(f"Loaded {self.save_path} (turn {model.turn})")

    # ------------------------------------------------------------------ events
    def handle(self, event: pygame.event.Event) -> None:
        if event.type == pygame.QUIT:
            self.running = False
            return
        if event.type == pygame.VIDEORESIZE:
            self.resize(event.w, event.h)
            return
        if self.page == "start":
            self.start.handle(event)
            if self.start.done:
                sid, side, difficulty = self.start.choice()
                self.difficulty = difficulty
                self._begin(WargameModel(sid, seed=self.seed), side)
                if self.white_cell_start:
                    self.white_cell.enter()
            return
        if event.type == pygame.KEYDOWN and event.key == pygame.K_F2:
            self.white_cell.toggle()
            return
        if self.page in ("briefing", "handover"):
            if event.type == pygame.KEYDOWN and event.key in (pygame.K_RETURN, pygame.K_KP_ENTER, pygame.K_SPACE):
                if self.page == "handover" and self.side not in self.briefed:
                    self.briefed.add(self.side)
                    self.page = "briefing"
                else:
                    self.page = "play"
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE and self.page == "briefing":
                self.page = "play"
            return
        if event.type == pygame.KEYDOWN:
            self.key(event)
        elif event.type == pygame.MOUSEWHEEL:
            x, y = pygame.mouse.get_pos()
            if x >= self.map_rect.right:
                self.log_scroll = max(0, self.log_scroll - event.y)
            else:
                self.camera.zoom_at(1.2 if event.y > 0 else 1 / 1.2, x, max(0, y - TOP))
        elif event.type == pygame.MOUSEBUTTONDOWN:
            self.mouse_down(event)
        elif event.type == pygame.MOUSEBUTTONUP and event.button == 1:
            if self.drag_from is not None and self.dragged < 6:
                self.left_click(*self.drag_from)
            self.drag_from = None
        elif event.type == pygame.MOUSEMOTION:
            x, y = event.pos
            if self.drag_from is not None and getattr(event, "buttons", (0,))[0]:
                self.camera.pan(-event.rel[0], -event.rel[1])
                self.dragged += abs(event.rel[0]) + abs(event.rel[1])
            self.hover = self.hex_at(x, y)

    def resize(self, w: int, h: int) -> None:
        w, h = max(w, PANEL + 200), max(h, TOP + 200)
        self.screen = pygame.display.set_mode((w, h), pygame.RESIZABLE)
        if self.model is not None:
            self.camera.width, self.camera.height = w - PANEL, h - TOP

    def hex_at(self, x: int, y: int) -> int:
        if not self.map_rect.collidepoint(x, y):
            return -1
        return self.camera.screen_to_hex(self.model.map, x, y - TOP)

    def key(self, event: pygame.event.Event) -> None:
        k, mod = event.key, getattr(event, "mod", 0)
        if self.white_cell.active and (self.white_cell.key(event) or k not in WHITE_CELL_PASS):
            return
        cam = self.camera
        pans = {pygame.K_LEFT: (-80, 0), pygame.K_RIGHT: (80, 0), pygame.K_UP: (0, -80), pygame.K_DOWN: (0, 80)}
        if k in (pygame.K_h, pygame.K_F1):
            self.show_help = not self.show_help
        elif k == pygame.K_ESCAPE:
            if self.show_help:
                self.show_help = False
            elif self.preview or self.mode:
                self.preview, self.mode = None, None
                self.say("Cancelled")
            elif self.selected:
                self.select(None)
            else:
                self.running = False
        elif k in pans:
            cam.pan(*pans[k])
        elif k in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            cam.zoom_at(1.25, cam.width / 2, cam.height / 2)
        elif k in (pygame.K_MINUS, pygame.K_KP_MINUS):
            cam.zoom_at(0.8, cam.width / 2, cam.height / 2)
        elif k == pygame.K_f:
            cam.fit(self.model.map, cam.width, cam.height)
        elif k in (pygame.K_RETURN, pygame.K_KP_ENTER):
            if self.preview:
                self.give(self.preview[0], confirmed=True)
            else:
                self.end_orders()
        elif k == pygame.K_n:
            self.end_orders()
        elif k == pygame.K_BACKSPACE or (k == pygame.K_z and mod & pygame.KMOD_CTRL):
            self.undo()
        elif k == pygame.K_TAB:
            self.next_unit()
        elif k == pygame.K_v:
            self.full_view = not self.full_view
            self.say(f"Instructor view {'ON: fog of war off' if self.full_view else 'off: fog of war on'}")
        elif pygame.K_0 <= k <= pygame.K_5:
            n = k - pygame.K_0
            self.overlay = 0 if n == self.overlay else n
            self.say(f"Overlay: {overlays.OVERLAYS.get(self.overlay, 'off')}")
        elif k in (pygame.K_PAGEUP, pygame.K_PAGEDOWN):
            self.log_scroll = max(0, self.log_scroll + (5 if k == pygame.K_PAGEUP else -5))
        elif k == pygame.K_F5:
            self.quick_save()
        elif k == pygame.K_F9:
            self.quick_load()
        elif k in KEY_KINDS or k == pygame.K_s:
            kind = KEY_KINDS.get(k) or ("interdict" if mod & pygame.KMOD_SHIFT else "strike")
            if self.unit() is None:
                self.say("Select one of your units first (left click its counter)", ok=False)
            else:
                self.mode = kind
                self.say(f"{kind.capitalize()}: click the target hex")
        elif k in (pygame.K_d, pygame.K_w, pygame.K_e, pygame.K_r):
            self.immediate(k)

    def mouse_down(self, event: pygame.event.Event) -> None:
        x, y = event.pos
        if event.button == 1:
            if self.minimap_click(x, y):
                return
            self.drag_from, self.dragged = (x, y), 0
        elif event.button == 3:
            hid = self.hex_at(x, y)
            u = self.unit()
            if hid >= 0 and u is not None and not self.white_cell.active:
                self.target(self.mode or self.default_kind(u, hid), hid)
        elif event.button in (4, 5) and not hasattr(event, "precise_x"):
            pass  # old-style wheel buttons: MOUSEWHEEL handles zoom

    def target(self, kind: str, hid: int) -> None:
        if self.preview and self.preview[0].kind == kind and getattr(self.preview[0], "target", None) == hid:
            self.give(self.preview[0], confirmed=True)
            return
        order = self.order_at(kind, hid)
        if order is not None:
            self.give(order)

    def left_click(self, x: int, y: int) -> None:
        if not self.map_rect.collidepoint(x, y):
            return
        hid = self.hex_at(x, y)
        if self.white_cell.active:  # the facilitator points at hexes; no unit is selected or ordered
            self.inspect = hid
            return
        if self.preview and getattr(self.preview[0], "target", None) == hid:
            self.give(self.preview[0], confirmed=True)
            return
        if self.mode and hid >= 0:
            self.target(self.mode, hid)
            return
        marker = self.renderer.unit_at(x, y - TOP)
        if marker is not None and marker.side == self.side:
            stack = [u.uid for u in self.model.side_units(self.side) if u.hex == marker.hid]
            uid = marker.uid
            if self.selected in stack and self.selected == uid and len(stack) > 1:
                uid = stack[(stack.index(uid) + 1) % len(stack)]
            self.select(uid)
            u = self.unit()
            self.say(f"Selected {u.name}: right click a hex to order, or a key (H for help)")
            return
        self.preview = None
        self.inspect = hid

    def minimap_click(self, x: int, y: int) -> bool:
        rect = self.minimap_rect()
        if not rect.collidepoint(x, y):
            return False
        x0, y0, x1, y1 = map_bounds(self.model.map)
        self.camera.cx = x0 + (x - rect.x) / rect.w * (x1 - x0)
        self.camera.cy = y0 + (y - rect.y) / rect.h * (y1 - y0)
        return True

    def update(self) -> None:
        if self.changed and time.monotonic() > self.changed_until:
            self.changed = set()

    # ------------------------------------------------------------------ drawing
    def draw(self) -> None:
        if self.page == "start":
            self.start.draw(self.screen)
        elif self.page == "briefing":
            screens.draw_briefing(self.screen, self.model.scenario, self.side)
        elif self.page == "handover":
            screens.draw_handover(self.screen, self.side)
        else:
            self.screen.fill(PANEL_BG)
            self.draw_map()
            self.draw_top()
            self.draw_panel()
            self.draw_minimap()
            self.draw_preview()
            if self.white_cell.active:
                w, h = self.screen.get_size()
                self.white_cell.draw(self.screen, pygame.Rect(w - PANEL, TOP, PANEL, h - TOP), self.map_rect)
            if self.show_help:
                screens.draw_help(self.screen)

    def composite(self) -> np.ndarray | None:
        """The translucent layer over the map: the chosen overlay, the selected unit's reach, changed hexes."""
        m = self.model
        rgba = None
        if self.overlay:
            key = (self.overlay, self.side, self.full_view, m.turn, len(m.history))
            if key != self._layer_key:
                self._layer = overlays.layer(m, self.overlay, self.side, None if self.full_view else self.seen())
                self._layer_key = key
            rgba = self._layer.copy()
        extra = [(list(self.reach), REACH_RGBA), (list(self.changed), CHANGED_RGBA)]
        for hexes, colour in extra:
            if hexes:
                if rgba is None:
                    rgba = np.zeros((m.map.n, 4), np.uint8)
                rgba[hexes] = colour
        return rgba

    def draw_map(self) -> None:
        area = self.screen.subsurface(self.map_rect)
        units = self.markers()
        u = self.unit()
        state = RenderState(control=self.model.control, units=units,
                            highlight={self.hover} if self.hover >= 0 else set(),
                            selected=u.hex if u is not None else (self.inspect if self.inspect >= 0 else None))
        self.renderer.draw(area, self.camera, state)
        rgba = self.composite()
        if rgba is not None:
            overlays.draw_layer(area, self.renderer, self.camera, rgba)
            w, h = area.get_size()
            self.renderer._draw_units(area, self.camera, self.renderer._unit_layout(self.camera, w, h, units))

    def draw_top(self) -> None:
        m = self.model
        w = self.screen.get_width()
        pygame.draw.rect(self.screen, (20, 22, 28), (0, 0, w, TOP))
        f = get_font(17)
        wx = m.weather
        who = "hotseat" if len(self.humans) > 1 else "vs AI"
        offensive = current_offensive(m, "ru")
        line1 = (f"{m.date}   Turn {m.turn + 1}/{m.scenario.calendar.turns}   Weather: {wx.get('dominant', '?')}, "
                 f"visibility {wx.get('visibility', 1.0):.2f}{', mud' if wx.get('mud') else ''}   "
                 f"{'Russian offensive   ' if offensive else ''}"
                 f"You: {SIDE_NAMES[self.side]} ({who}, {self.difficulty})   "
                 f"orders {len(m.pending[self.side])}   {'INSTRUCTOR VIEW' if self.full_view else 'fog on'}")
        self.screen.blit(f.render(line1, True, TEXT), (8, 5))
        score = _score(m)
        objs = []
        for ob in m.scenario.objectives:
            held = m.metrics[-1].get(f"obj:{ob.name}", "contested")
            objs.append((f"{ob.name}: {held.upper() if held != 'contested' else 'contested'}", held))
        x = 8
        img = f.render(f"VP RU {score['ru']:.0f} - UA {score['ua']:.0f}   Objectives:", True, TEXT)
        self.screen.blit(img, (x, 27))
        x += img.get_width() + 8
        colours = {"ru": (255, 120, 110), "ua": (120, 170, 255)}
        for text, held in objs:
            img = f.render(text, True, colours.get(held, DIM))
            if x + img.get_width() > w - 8:
                break
            self.screen.blit(img, (x, 27))
            x += img.get_width() + 16
        if m.outcome:
            img = get_font(17).render(f"GAME OVER: {m.outcome['result']}", True, (255, 214, 0))
            self.screen.blit(img, (w - img.get_width() - 8, 5))

    def _lines(self, x: int, y: int, lines: list[tuple[str, tuple]], width: int, bottom: int, size: int = 15) -> int:
        f = get_font(size)
        for text, colour in lines:
            for line in screens.wrap(text, f, width) if text else [""]:
                if y > bottom:
                    return y
                self.screen.blit(f.render(line, True, colour), (x, y))
                y += f.get_linesize()
        return y

    def draw_panel(self) -> None:
        m = self.model
        w, h = self.screen.get_size()
        x0 = w - PANEL + 10
        width = PANEL - 20
        pygame.draw.rect(self.screen, PANEL_BG, (w - PANEL, TOP, PANEL, h - TOP))
        lines: list[tuple[str, tuple]] = []
        text, colour = self.message
        if text:
            lines.append((text, colour))
        lines += [("Map: blue Ukrainian-held, red Russian-held, grey hatched = grey zone, black line = front. "
                   "Counters: blue rectangles Ukrainian, red diamonds Russian (enemy only where you see). "
                   "Green = selected unit's reach, white = changed hands. H: keys.", DIM)]
        u = self.unit()
        if u is not None:
            st = u.status
            orders = [o.describe() for o in m.pending[u.side] if u.uid in o.units]
            lines += [("", TEXT), (f"{u.name}", (255, 214, 0)),
                      (f"{u.utype.name} ({u.utype.size}, {u.utype.role})", TEXT),
                      (f"personnel {st.personnel:.0f}/{u.utype.personnel}  cohesion {st.cohesion:.0f}", TEXT),
                      (f"supply {st.supply}{'  IN RESERVE' if st.in_reserve else ''}", TEXT),
                      (f"order: {'; '.join(orders) or 'none'}" + (f"   mode: {self.mode}" if self.mode else ""), DIM)]
        hid = self.hover if self.hover >= 0 else self.inspect
        if hid >= 0:
            lines += [("", TEXT)] + [(t, TEXT if i else (255, 214, 0)) for i, t in enumerate(self.inspector(hid))]
        if self.overlay == 3:
            lines += [("", TEXT)] + [(t, (200, 150, 255)) for t in overlays.pockets_text(m)]
        y = self._lines(x0, TOP + 8, lines, width, h - 160)
        self.draw_log(x0, max(y + 10, TOP + 240), width, h - 8)

    def inspector(self, hid: int) -> list[str]:
        m = self.model
        s, e = SIDE_INDEX[self.side], SIDE_INDEX[other(self.side)]
        c = float(m.control[hid])
        holder = "Russian" if c >= 0.8 else "Ukrainian" if c <= 0.2 else "grey zone (contested)"
        name = Terrain(int(m.map.terrain[hid])).name.replace("_", " ")
        fort = int(m.fort[hid])
        fort_by = {0: "Russian", 1: "Ukrainian"}.get(int(m.fort_side[hid]), "")
        seen = bool(self.seen()[hid])
        enemy = f"{m.presence[e, hid]:.0f}" if seen else "unknown (no ISR here)"
        return [m.hex_label(hid),
                f"terrain {name.lower()}, works level {fort}{' (' + fort_by + ')' if fort else ''}",
                f"held by: {holder} (control {c:.2f}, 1 = Russian)",
                f"hidden presence: yours {m.presence[s, hid]:.0f}, enemy {enemy}",
                f"supply (yours) {m.supply_ratio[s, hid]:.2f}",
                f"drone coverage: yours {m.isr[s, hid]:.2f}, enemy {m.isr[e, hid]:.2f}"]

    def draw_log(self, x: int, y: int, width: int, bottom: int) -> None:
        m = self.model
        head = get_font(16).render(f"Last turn's events (PgUp/PgDn){' +' + str(self.log_scroll) if self.log_scroll else ''}",
                                   True, (255, 214, 0))
        self.screen.blit(head, (x, y))
        y += 22
        seen = self.seen()
        events = [ev for ev in (m.history[-1] if m.history else [])
                  if ev.side in (None, self.side) or ev.hex is None or seen[ev.hex]]
        lines = [(ev.text, (255, 200, 190) if ev.side == "ru" else (190, 210, 255) if ev.side == "ua" else TEXT)
                 for ev in events[self.log_scroll:]]
        if not lines:
            lines = [("No events yet: give orders, then N ends the turn.", DIM)]
        self._lines(x, y, lines, width, bottom - 16, size=14)

    def minimap_rect(self) -> pygame.Rect:
        x0, y0, x1, y1 = map_bounds(self.model.map)
        mh = round(MINIMAP_W * (y1 - y0) / (x1 - x0))
        r = self.map_rect
        return pygame.Rect(r.right - MINIMAP_W - 8, r.bottom - mh - 8, MINIMAP_W, mh)

    def draw_minimap(self) -> None:
        m = self.model
        rect = self.minimap_rect()
        key = (len(m.history), rect.size)
        if key != self._minimap_key:
            from sim.ui.render import CONTESTED_COLOUR, RU_COLOUR, UA_COLOUR

            x0, y0, x1, y1 = map_bounds(m.map)
            surf = pygame.Surface(rect.size)
            surf.fill((60, 60, 66))
            cls = self._classes()
            px = ((m.map.x_km - x0) / (x1 - x0) * rect.w).astype(int)
            py = ((m.map.y_km - y0) / (y1 - y0) * rect.h).astype(int)
            dot = max(2, round(rect.w / m.map.width) + 1)
            for colour, mask in ((UA_COLOUR, cls < 0), (RU_COLOUR, cls > 0), (CONTESTED_COLOUR, cls == 0)):
                for a, b in zip(px[mask].tolist(), py[mask].tolist(), strict=True):
                    surf.fill(colour, (a - dot // 2, b - dot // 2, dot, dot))
            self._minimap, self._minimap_key = surf, key
        self.screen.blit(self._minimap, rect)
        x0, y0, x1, y1 = map_bounds(m.map)
        vx0, vy0, vx1, vy1 = self.camera.visible_world()
        view = pygame.Rect(rect.x + (vx0 - x0) / (x1 - x0) * rect.w, rect.y + (vy0 - y0) / (y1 - y0) * rect.h,
                           (vx1 - vx0) / (x1 - x0) * rect.w, (vy1 - vy0) / (y1 - y0) * rect.h)
        pygame.draw.rect(self.screen, (255, 255, 255), view.clip(rect), 1)
        pygame.draw.rect(self.screen, (0, 0, 0), rect, 1)

    def draw_preview(self) -> None:
        if not self.preview:
            return
        order, info = self.preview
        m = self.model
        if isinstance(order, Assault):
            head = f"Assault on {m.hex_label(order.target)}"
            rows = [f"force ratio {info['ratio']:.2f}, chance to take ground {info['p_gain']:.0%}",
                    f"expected losses: yours {info['expected_attacker_losses']:.0f}, "
                    f"defender {info['expected_defender_losses']:.0f}"]
        else:
            head = f"Infiltration into {m.hex_label(order.target)}"
            rows = [f"{info['committed']:.0f} committed in {info['groups']} groups; "
                    f"chance each is detected {info['p_detect']:.0%}",
                    f"expected survivors {info['expected_survivors']:.0f} ({info['survival']:.0%})"]
        rows += [f"- {r}" for r in info.get("reasons", [])] + ["Enter or click the target again to confirm, Esc cancels"]
        f = get_font(16)
        r = self.map_rect
        box = pygame.Rect(r.centerx - 260, r.y + 10, 520, 28 + 20 * len(rows))
        pygame.draw.rect(self.screen, (16, 18, 24), box)
        pygame.draw.rect(self.screen, (255, 214, 0), box, 2)
        self.screen.blit(get_font(18).render(head, True, (255, 214, 0)), (box.x + 10, box.y + 6))
        for i, row in enumerate(rows):
            self.screen.blit(f.render(row, True, TEXT), (box.x + 10, box.y + 28 + 20 * i))

    def frame(self) -> None:
        for event in pygame.event.get():
            self.handle(event)
        self.update()
        self.draw()
        pygame.display.flip()


def shutdown() -> None:
    """Drop the cached fonts while pygame can still free them, then quit (see sim.ui.symbols.forget_fonts)."""
    forget_fonts()
    pygame.quit()


def ai_turns(game: Game, turns: int) -> None:
    """Play ``turns`` turns with the AI on both sides (the screenshot mode and the benchmark)."""
    m = game.model
    for _ in range(turns):
        if m.over:
            break
        for s in m.scenario.sides.order:
            play_side(m, s, game.difficulty)
        m.end_turn()


def run_game(scenario: str | None = None, side: str = "ua", difficulty: str = "normal", seed: int = 0,
             model: WargameModel | None = None, max_frames: int | None = None,
             save_path: str | Path | None = None, white_cell: bool = False) -> int:
    """Open the window and play until it is closed; F5/F9 save to and load from ``save_path`` (a quick save).

    ``white_cell`` opens the game in the facilitator's White Cell mode (paused, fog off; F2 leaves it).
    """
    pygame.init()
    try:
        game = Game(scenario, side=side, difficulty=difficulty, seed=seed, model=model,
                    save_path=Path(save_path) if save_path else QUICK_SAVE, white_cell=white_cell)
        clock = pygame.time.Clock()
        frames = 0
        while game.running and (max_frames is None or frames < max_frames):
            game.frame()
            clock.tick(60)
            frames += 1
    finally:
        shutdown()
    return 0


def screenshot(scenario: str | None, side: str, path: str | Path, turns: int = 0, seed: int = 0,
               difficulty: str = "normal", model: WargameModel | None = None,
               size: tuple[int, int] = SIZE) -> Path:
    """Play ``turns`` AI turns headless and save the game screen as ``side``'s player sees it (fog on)."""
    pygame.init()
    try:
        game = Game(scenario, side=side, difficulty=difficulty, seed=seed, model=model, size=size)
        game.page = "play"
        ai_turns(game, turns)
        m = game.model
        if m.history:
            game.say(f"After {m.turn} AI turns: the event log shows the last turn's results")
        game.draw()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(game.screen, str(path))
    finally:
        shutdown()
    return path
