"""The White Cell inside the game window, driven headless with posted events: it pauses the game with the fog off,
every inject key lands in the model's inject log and the save, rewind equals a fresh replay, F2 gives play back."""

from __future__ import annotations

import numpy as np
import pygame

from sim.model import WargameModel
from sim.orders import order_from_dict
from sim.saves import load_game, read_save
from sim.ui.game import PANEL, TOP, Game
from sim.ui.white_cell import BANNER_BG
from tests.uidriver import key, post


def point_at(game: Game, hid: int) -> None:
    """Move the mouse over a hex (the White Cell's injects go where the mouse is)."""
    m = game.model
    x, y = game.camera.world_to_screen(float(m.map.x_km[hid]), float(m.map.y_km[hid]))
    post(game, pygame.event.Event(pygame.MOUSEMOTION, pos=(int(x), int(y) + TOP), rel=(0, 0), buttons=(0, 0, 0)))
    assert game.hover == hid


def state(m: WargameModel) -> tuple:
    units = sorted((u.uid, u.hex, round(u.personnel, 9)) for u in m.units.values() if u.alive)
    return m.turn, m.control.round(12).tobytes(), m.presence.round(9).tobytes(), tuple(units)


def test_white_cell_pauses_with_fog_off_and_f2_gives_play_back(pg, tmp_path):
    g = Game("pokrovsk-2025", side="ua", seed=1)
    g.page = "play"
    ru = {u.uid for u in g.model.side_units("ru")}
    assert ru - {mk.uid for mk in g.markers()}, "the fog should hide some Russian units"
    post(g, key(pygame.K_F2))
    assert g.white_cell.active and g.full_view and ru <= {mk.uid for mk in g.markers()}

    # the end-turn keys and order keys do nothing while the panel is open
    post(g, key(pygame.K_n), key(pygame.K_RETURN), key(pygame.K_KP_ENTER), key(pygame.K_m))
    assert g.model.turn == 0 and g.page == "play" and g.mode is None

    # the screenshot shows the banner over the map and the panel over the side panel
    shot = tmp_path / "white_cell.png"
    g.draw()
    pygame.image.save(g.screen, str(shot))
    a = pygame.surfarray.array3d(pygame.image.load(str(shot)))
    banner = a[g.map_rect.centerx - 60:g.map_rect.centerx + 60, TOP + 8:TOP + 34]
    assert (np.abs(banner - np.array(BANNER_BG)).sum(axis=2) < 10).mean() > 0.5
    w = g.screen.get_width()
    assert (a[w - PANEL, TOP + 100] == BANNER_BG).all()  # the panel's frame

    # F2 (or Esc) leaves: the fog comes back and the turn can end
    post(g, key(pygame.K_F2))
    assert not g.white_cell.active and not g.full_view
    assert ru - {mk.uid for mk in g.markers()}
    post(g, key(pygame.K_F2), key(pygame.K_ESCAPE))
    assert not g.white_cell.active and g.running
    post(g, key(pygame.K_n))
    assert g.model.turn == 1


def test_each_inject_key_is_logged_shown_and_saved(pg, tmp_path):
    g = Game("tutorial", side="ua", seed=3, save_path=tmp_path / "class.json")
    g.page = "play"
    m = g.model
    post(g, key(pygame.K_F2))
    ua_hex = next(u.hex for u in m.side_units("ua", "manoeuvre"))
    ru_hex = next(u.hex for u in m.side_units("ru", "manoeuvre"))
    before = m.weather["dominant"]

    post(g, key(pygame.K_w))
    assert m.weather["dominant"] != before
    post(g, key(pygame.K_TAB))
    assert g.white_cell.side == "ua"
    point_at(g, ua_hex)
    n = len(m.units)
    post(g, key(pygame.K_r))
    assert len(m.units) == n + 1 and list(m.units.values())[-1].side == "ua"
    post(g, key(pygame.K_TAB))
    post(g, key(pygame.K_b))
    post(g, key(pygame.K_c))
    point_at(g, ru_hex)
    post(g, key(pygame.K_s), key(pygame.K_d))

    kinds = ["weather", "reinforce", "hold_back", "ceasefire", "surge", "drone_shortage"]
    assert [i.kind for i in m.inject_log] == kinds
    assert all(i.turn == 0 for i in m.inject_log)
    assert m.inject_log[2].args == {"id": "ru-ag3", "turns": 2}
    assert m.inject_log[4].args["side"] == "ru" and m.inject_log[5].args["side"] == "ru"
    assert len(m.inject_events) == len(kinds) and all(e.text.startswith("White Cell:") for e in m.inject_events)
    assert g.message[0] == m.inject_events[-1].text

    # Shift+B cancels the (delayed) ru-ag3; Ukraine has nothing scheduled, so B is refused in red, nothing logged
    post(g, key(pygame.K_b, pygame.KMOD_SHIFT))
    assert len(m.inject_log) == len(kinds) + 1 and m.inject_log[-1].args == {"id": "ru-ag3"}
    post(g, key(pygame.K_TAB), key(pygame.K_b))
    assert len(m.inject_log) == len(kinds) + 1 and g.message[1] == (255, 90, 80)

    # F5 still saves inside the White Cell, with the injects; loading replays them
    post(g, key(pygame.K_F5))
    assert [d["kind"] for d in read_save(tmp_path / "class.json")["injects"]] == kinds + ["hold_back"]
    again = load_game(tmp_path / "class.json")
    assert state(again) == state(m)


def test_rewind_equals_a_fresh_replay_and_play_goes_on(pg):
    g = Game("tutorial", side="ua", seed=5)
    g.page = "play"
    starts = [state(g.model)]
    post(g, key(pygame.K_n))
    post(g, key(pygame.K_F2), key(pygame.K_w), key(pygame.K_F2))  # an inject at the start of turn 2
    weather = g.model.weather["dominant"]
    starts.append(state(g.model))
    post(g, key(pygame.K_n))
    assert g.model.turn == 2
    orders = g.model.orders_as_data()

    post(g, key(pygame.K_F2), key(pygame.K_2), key(pygame.K_RETURN))  # the top bar's turn 2 = index 1
    m = g.model
    assert m.turn == 1 and g.white_cell.active and state(m) == starts[1] and m.weather["dominant"] == weather
    fresh = WargameModel("tutorial", seed=5)
    for od in orders[0]:
        fresh.issue(order_from_dict(od))
    fresh.end_turn()
    assert state(fresh) == state(m)

    post(g, key(pygame.K_PAGEUP), key(pygame.K_RETURN))
    assert g.model.turn == 0 and state(g.model) == starts[0]
    post(g, key(pygame.K_9), key(pygame.K_RETURN))
    assert g.model.turn == 0 and "rewind" in g.message[0]

    post(g, key(pygame.K_ESCAPE), key(pygame.K_n))
    assert not g.white_cell.active and g.model.turn == 1


def test_play_can_start_in_the_white_cell(pg):
    from sim.cli import build_parser

    assert build_parser().parse_args(["play", "tutorial", "--white-cell"]).white_cell
    g = Game("tutorial", side="both", seed=0, white_cell=True)
    assert g.white_cell.active and g.page == "play"
    post(g, key(pygame.K_F2))
    assert g.page == "briefing"  # the players still get their briefing
