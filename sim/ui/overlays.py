"""Map overlays: per-hex colour layers drawn translucently over the map (keys 1-5 in the game).

Each layer is an (n, 4) RGBA array computed from the model once per state change; drawing fills only the hexes on
screen with a non-zero alpha, so panning stays cheap.
"""

from __future__ import annotations

import numpy as np
import pygame

from sim.model import SIDE_INDEX, WargameModel
from sim.ui.render import Camera, MapRenderer
from sim.units import other

OVERLAYS = {1: "your drone coverage", 2: "enemy drone coverage (kill zone)", 3: "supply and pockets",
            4: "fortification lines", 5: "threat: where the enemy can reach next turn"}
FOG_ISR = 0.25  # ISR coverage from which a side sees enemy units and presence in a hex


def visible_mask(m: WargameModel, side: str) -> np.ndarray:
    """Hexes where ``side`` sees the enemy: its drone coverage, its own units' hexes and their neighbours."""
    seen = m.isr[SIDE_INDEX[side]] >= FOG_ISR
    hexes = np.array([u.hex for u in m.side_units(side)], dtype=np.int64)
    if hexes.size:
        seen[hexes] = True
        nb = m.map.nbr[hexes].ravel()
        seen[nb[nb >= 0]] = True
    seen |= m.own_share(side) >= m.p.control.contested_high  # own ground is patrolled
    return seen


def _ramp(values: np.ndarray, colour: tuple[int, int, int], max_alpha: int, floor: float = 0.05) -> np.ndarray:
    out = np.zeros((values.size, 4), np.uint8)
    out[:, :3] = colour
    out[:, 3] = np.where(values > floor, np.clip(values, 0, 1) * max_alpha, 0).astype(np.uint8)
    return out


def threat_hexes(m: WargameModel, side: str, seen: np.ndarray | None) -> np.ndarray:
    """Boolean mask of hexes the enemy's seen manoeuvre units can move into or infiltrate next turn."""
    from sim.rules.movement import reachable

    enemy = other(side)
    mask = np.zeros(m.map.n, bool)
    infil = max(1, int(m.p.infiltration.range_km / m.map.spec.hex_km))
    for u in m.side_units(enemy, "manoeuvre"):
        if seen is not None and not seen[u.hex]:
            continue
        mask[list(reachable(m, u))] = True
        if u.utype.can_infiltrate:
            mask[m.map.distances_from(u.hex) <= infil] = True
    mask &= m.own_share(enemy) < m.p.control.contested_high  # only where it would take ground
    return mask


def layer(m: WargameModel, kind: int, side: str, seen: np.ndarray | None = None) -> np.ndarray:
    """The RGBA layer of overlay ``kind`` (1-5) from ``side``'s point of view; ``seen`` applies fog."""
    s, e = SIDE_INDEX[side], SIDE_INDEX[other(side)]
    n = m.map.n
    if kind == 1:
        return _ramp(m.isr[s], (250, 210, 40), 170)
    if kind == 2:
        return _ramp(m.isr[e], (230, 30, 160), 170)
    if kind == 3:
        short = 1.0 - np.clip(m.supply_ratio[s], 0, 1)
        out = _ramp(short, (255, 130, 0), 200, floor=0.04)
        for k, colour in ((s, (150, 40, 200)), (e, (40, 40, 40))):
            pocket = m.pocket[k] >= 0
            out[pocket] = (*colour, 150)
        return out
    if kind == 4:
        out = np.zeros((n, 4), np.uint8)
        lvl = m.fort.astype(float) / 3.0
        ua = m.fort_side == 1
        out[:, :3] = np.where(ua[:, None], (20, 60, 160), (150, 20, 20))
        out[:, 3] = np.where(m.fort > 0, 70 + 150 * lvl, 0).astype(np.uint8)
        return out
    if kind == 5:
        return _ramp(threat_hexes(m, side, seen).astype(float), (255, 60, 0), 120)
    return np.zeros((n, 4), np.uint8)


def pockets_text(m: WargameModel) -> list[str]:
    """One line per pocket, for the side panel when the supply overlay is on."""
    names = {"ru": "Russian", "ua": "Ukrainian"}
    return [f"{names[pk['side']]} pocket: {pk['units']} units, {pk['personnel']:.0f} people, "
            f"corridor {pk['corridor_km']:.1f} km" for pk in m.pocket_info]


def draw_layer(surface: pygame.Surface, renderer: MapRenderer, camera: Camera, rgba: np.ndarray) -> None:
    """Fill the on-screen hexes of a layer translucently onto ``surface``."""
    hm = renderer.hexmap
    idx = np.nonzero(rgba[:, 3] > 0)[0]
    if idx.size == 0:
        return
    w, h = surface.get_size()
    sx, sy = camera.world_to_screen(hm.x_km[idx], hm.y_km[idx])
    pad = hm.spec.hex_km * camera.ppk
    on = (sx > -pad) & (sx < w + pad) & (sy > -pad) & (sy < h + pad)
    idx = idx[on]
    if idx.size == 0:
        return
    ov = pygame.Surface((w, h), pygame.SRCALPHA)
    corners = renderer._corners[idx]  # (k, 6, 2) km
    cx, cy = camera.world_to_screen(corners[..., 0], corners[..., 1])
    pts = np.stack([cx, cy], axis=-1)
    for k, hid in enumerate(idx.tolist()):
        pygame.draw.polygon(ov, tuple(int(v) for v in rgba[hid]), pts[k].tolist())
    surface.blit(ov, (0, 0))
