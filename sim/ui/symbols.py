"""NATO APP-6 style unit counters drawn with pygame primitives (no image assets, any size).

Friendly ("ua") units get the blue rectangle frame, hostile ("ru") units the red diamond, as a player
of either side would see them on a common operational picture. The function icon sits inside the
frame, the echelon marker above it and a strength bar below it.
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402

Colour = tuple[int, int, int]

# APP-6 standard fills: crystal blue for friendly, salmon for hostile; frames and icons in black.
FRIENDLY_FILL: Colour = (128, 224, 255)
HOSTILE_FILL: Colour = (255, 128, 128)
SIDE_FILLS: dict[str, Colour] = {"ua": FRIENDLY_FILL, "ru": HOSTILE_FILL}
FRAME_COLOUR: Colour = (0, 0, 0)
SELECTED_COLOUR: Colour = (255, 214, 0)
LABEL_COLOUR: Colour = (20, 20, 24)
HALO_COLOUR: Colour = (250, 248, 240)

# Strength bar: full strength green, half amber, nearly destroyed red.
STRENGTH_GREEN: Colour = (46, 160, 67)
STRENGTH_AMBER: Colour = (232, 165, 24)
STRENGTH_RED: Colour = (200, 40, 36)
STRENGTH_BACK: Colour = (60, 60, 60)

SYMBOLS = ("infantry", "mechanised", "armour", "drone", "artillery", "reconnaissance", "engineer")
SIZES = ("team", "squad", "platoon", "company", "battalion", "regiment", "brigade")
_SYMBOL_ALIASES = {
    "mechanized": "mechanised",
    "mech": "mechanised",
    "armor": "armour",
    "tank": "armour",
    "uav": "drone",
    "recon": "reconnaissance",
    "reconnaissance": "reconnaissance",
}

_FONTS: dict[tuple[int, bool], pygame.font.Font] = {}
_TEXT_CACHE: dict[tuple[str, int, bool, Colour, Colour | None], pygame.Surface] = {}


def forget_fonts() -> None:
    """Drop cached fonts and labels: they die with pygame.quit(), and one used after a re-init crashes Python."""
    _FONTS.clear()
    _TEXT_CACHE.clear()


def get_font(size: int, italic: bool = False) -> pygame.font.Font:
    """The bundled default font at a pixel size, cached, initialising pygame.font on first use."""
    if not pygame.font.get_init():
        pygame.font.init()
    key = (int(size), bool(italic))
    font = _FONTS.get(key)
    if font is None:
        font = pygame.font.Font(None, key[0])
        font.set_italic(italic)
        _FONTS[key] = font
    return font


def text_surface(
    text: str,
    size: int,
    colour: Colour = LABEL_COLOUR,
    halo: Colour | None = HALO_COLOUR,
    italic: bool = False,
) -> pygame.Surface:
    """Rendered text with an optional 1-px halo, cached, so map labels stay readable on any fill."""
    key = (text, int(size), bool(italic), tuple(colour), None if halo is None else tuple(halo))
    surf = _TEXT_CACHE.get(key)
    if surf is not None:
        return surf
    font = get_font(size, italic)
    core = font.render(text, True, colour)
    if halo is None:
        surf = core
    else:
        back = font.render(text, True, halo)
        w, h = core.get_size()
        surf = pygame.Surface((w + 2, h + 2), pygame.SRCALPHA)
        for dx in (0, 1, 2):
            for dy in (0, 1, 2):
                if dx != 1 or dy != 1:
                    surf.blit(back, (dx, dy))
        surf.blit(core, (1, 1))
    if len(_TEXT_CACHE) > 4000:  # labels are few; this only guards against unbounded growth
        _TEXT_CACHE.clear()
    _TEXT_CACHE[key] = surf
    return surf


def strength_colour(strength: float) -> Colour:
    """Green at full strength, amber at half, red when spent (linear blends in between)."""
    s = min(1.0, max(0.0, float(strength)))
    if s >= 0.5:
        a, b, t = STRENGTH_AMBER, STRENGTH_GREEN, (s - 0.5) / 0.5
    else:
        a, b, t = STRENGTH_RED, STRENGTH_AMBER, s / 0.5
    return tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))  # type: ignore[return-value]


def _icon_box(side: str, cx: float, cy: float, size_px: float) -> tuple[float, float, float, float]:
    """Centre and half sizes of the area the function icon fills (the frame's inner rectangle)."""
    if side == "ru":
        half = 0.48 * size_px / 2.0  # inscribed square of the diamond: corners at the edge midpoints
        return cx, cy, half, half
    return cx, cy, size_px / 2.0, size_px / 3.0


def _frame_points(side: str, cx: float, cy: float, size_px: float) -> list[tuple[float, float]]:
    if side == "ru":
        d = 0.48 * size_px
        return [(cx, cy - d), (cx + d, cy), (cx, cy + d), (cx - d, cy)]
    hw, hh = size_px / 2.0, size_px / 3.0
    return [(cx - hw, cy - hh), (cx + hw, cy - hh), (cx + hw, cy + hh), (cx - hw, cy + hh)]


def _draw_icon(
    surface: pygame.Surface, symbol: str, box: tuple[float, float, float, float], size_px: float, lw: int
) -> None:
    """The APP-6 function icon inside the frame (the ellipse and the "E" keep one size in both frames)."""
    cx, cy, hw, hh = box
    sym = _SYMBOL_ALIASES.get(symbol, symbol)
    if sym in ("infantry", "mechanised"):
        pygame.draw.line(surface, FRAME_COLOUR, (cx - hw, cy - hh), (cx + hw, cy + hh), lw)
        pygame.draw.line(surface, FRAME_COLOUR, (cx - hw, cy + hh), (cx + hw, cy - hh), lw)
    if sym in ("armour", "mechanised"):
        ew, eh = 0.5 * size_px, 0.24 * size_px
        rect = pygame.Rect(0, 0, max(4, round(ew)), max(3, round(eh)))
        rect.center = (round(cx), round(cy))
        pygame.draw.ellipse(surface, FRAME_COLOUR, rect, lw)
    if sym == "drone":
        # Unmanned aerial system: a broad, shallow filled "V" (the wing shape of the APP-6 UAV icon).
        pts = [(-0.75, -0.30), (0.0, 0.12), (0.75, -0.30), (0.75, -0.05), (0.0, 0.40), (-0.75, -0.05)]
        pygame.draw.polygon(surface, FRAME_COLOUR, [(cx + u * hw, cy + v * hh * 1.6) for u, v in pts])
    elif sym == "artillery":
        pygame.draw.circle(surface, FRAME_COLOUR, (cx, cy), max(2.0, 0.28 * min(hw, hh) * 1.2))
    elif sym == "reconnaissance":
        pygame.draw.line(surface, FRAME_COLOUR, (cx - hw, cy + hh), (cx + hw, cy - hh), lw)
    elif sym == "engineer":
        # The engineer "E" turned on its side: a bar with three legs, like a bridge.
        w, h = 0.14 * size_px, 0.15 * size_px
        top = cy - h / 2.0
        pygame.draw.line(surface, FRAME_COLOUR, (cx - w, top), (cx + w, top), lw)
        for x in (cx - w, cx, cx + w):
            pygame.draw.line(surface, FRAME_COLOUR, (x, top), (x, top + h), lw)


def _draw_echelon(surface: pygame.Surface, size: str, cx: float, bottom: float, size_px: float) -> None:
    """The echelon (size) marker centred above the frame, its lower edge at ``bottom``."""
    m = max(4.0, 0.16 * size_px)  # marker height
    lw = max(1, round(m / 5.0))
    mid = bottom - m / 2.0
    if size == "team":
        pygame.draw.circle(surface, FRAME_COLOUR, (cx, mid), m / 2.0, lw)
        pygame.draw.line(surface, FRAME_COLOUR, (cx - m / 2.0, bottom), (cx + m / 2.0, bottom - m), lw)
    elif size in ("squad", "platoon"):
        n = 1 if size == "squad" else 3
        r = max(1.5, m / 4.0)
        for k in range(n):
            pygame.draw.circle(surface, FRAME_COLOUR, (cx + (k - (n - 1) / 2.0) * 2.6 * r, mid), r)
    elif size in ("company", "battalion", "regiment"):
        n = {"company": 1, "battalion": 2, "regiment": 3}[size]
        gap = max(3.0, m / 2.5)
        for k in range(n):
            x = cx + (k - (n - 1) / 2.0) * gap
            pygame.draw.line(surface, FRAME_COLOUR, (x, bottom), (x, bottom - m), lw + 1)
    elif size == "brigade":
        h = m / 2.0
        pygame.draw.line(surface, FRAME_COLOUR, (cx - h, bottom), (cx + h, bottom - m), lw + 1)
        pygame.draw.line(surface, FRAME_COLOUR, (cx - h, bottom - m), (cx + h, bottom), lw + 1)


def draw_counter(
    surface: pygame.Surface,
    centre: tuple[float, float],
    size_px: float,
    side: str,
    symbol: str,
    size: str,
    strength: float,
    label: str | None = None,
    selected: bool = False,
) -> pygame.Rect:
    """Draw one unit counter centred at ``centre``; ``size_px`` is the frame width.

    Returns the frame's bounding rectangle so the caller can hit-test clicks on the counter.
    """
    cx, cy = float(centre[0]), float(centre[1])
    size_px = max(8.0, float(size_px))
    lw = max(1, round(size_px / 18.0))
    frame = _frame_points(side, cx, cy, size_px)
    xs = [p[0] for p in frame]
    ys = [p[1] for p in frame]
    rect = pygame.Rect(math.floor(min(xs)), math.floor(min(ys)), 0, 0)
    rect.width = math.ceil(max(xs)) - rect.x + 1
    rect.height = math.ceil(max(ys)) - rect.y + 1
    if selected:
        pygame.draw.polygon(surface, SELECTED_COLOUR, _frame_points(side, cx, cy, size_px + 8.0), 0)
    pygame.draw.polygon(surface, SIDE_FILLS.get(side, (230, 230, 230)), frame, 0)
    _draw_icon(surface, symbol, _icon_box(side, cx, cy, size_px), size_px, lw)
    pygame.draw.polygon(surface, FRAME_COLOUR, frame, lw + 1)

    _draw_echelon(surface, size, cx, min(ys) - 2.0, size_px)

    bar_w = (max(xs) - min(xs)) * (0.8 if side == "ru" else 1.0)
    bar_h = max(3.0, 0.12 * size_px)
    bar = pygame.Rect(round(cx - bar_w / 2.0), round(max(ys) + 2.0), max(3, round(bar_w)), round(bar_h))
    pygame.draw.rect(surface, STRENGTH_BACK, bar)
    s = min(1.0, max(0.0, float(strength)))
    if s > 0.0:
        fill = bar.copy()
        fill.width = max(1, round(bar.width * s))
        pygame.draw.rect(surface, strength_colour(s), fill)
    if label:
        text = text_surface(label, max(11, round(0.34 * size_px)))
        surface.blit(text, text.get_rect(midtop=(round(cx), bar.bottom + 1)))
    return rect
