"""The game screen driven headless through posted events: start screen, orders of every kind, undo, turns,
saves, fog of war, overlays, hotseat hand-over and screenshots checked pixel by pixel."""

from __future__ import annotations

import numpy as np
import pygame

from sim.model import WargameModel
from sim.orders import Assault, Infiltrate
from sim.rules import infiltration as infil_rule
from sim.rules import legality
from sim.rules.movement import withdrawal_target
from sim.ui.game import TOP, Game
from tests.uidriver import click, key, post


def hex_pos(game: Game, hid: int) -> tuple[int, int]:
    m = game.model
    x, y = game.camera.world_to_screen(float(m.map.x_km[hid]), float(m.map.y_km[hid]))
    return int(x), int(y) + TOP


def select(game: Game, uid: str) -> None:
    """Click the unit's counter (again, to cycle a stack) until it is selected."""
    u = game.model.units[uid]
    game.camera.cx, game.camera.cy = float(game.model.map.x_km[u.hex]), float(game.model.map.y_km[u.hex])
    game.draw()
    for _ in range(6):
        rect = next(r for r, mk in game.renderer.unit_hitboxes if mk.uid == uid or mk.hid == u.hex)
        post(game, click((rect.centerx, rect.centery + TOP)))
        if game.selected == uid:
            return
    raise AssertionError(f"could not select {uid}")


def kinds(game: Game) -> list[str]:
    return [o.kind for o in game.model.pending[game.side]]


def enemy_target(game: Game, uid: str, cls) -> int:
    """A hex up to three steps from the unit that an order of class ``cls`` may target."""
    m = game.model
    u = m.units[uid]
    for hid in range(m.map.n):
        if not 1 <= m.map.distance(u.hex, hid) <= 3:
            continue
        try:
            legality.check(m, cls(uid, hid))
            return hid
        except ValueError:
            continue
    raise AssertionError(f"no {cls.__name__} target for {uid}")


def green_pixels(surface: pygame.Surface) -> int:
    a = pygame.surfarray.array3d(surface).astype(int)
    return int(((a[..., 1] > a[..., 0] + 50) & (a[..., 1] > a[..., 2] + 50)).sum())


def test_start_screen_orders_of_every_kind_undo_turns_and_saves(pg, tmp_path):
    g = Game(save_path=tmp_path / "quick.json")
    g.frame()
    assert g.page == "start"
    sid = [s for s, _ in g.start.scenarios].index("tutorial")
    post(g, click(g.start.rects[("scenario", sid)].center))
    post(g, click(g.start.rects[("side", 1)].center))  # Russian vs AI
    post(g, key(pygame.K_RETURN))
    assert g.page == "briefing" and g.model.scenario.id == "tutorial" and g.side == "ru"
    post(g, key(pygame.K_RETURN))
    assert g.page == "play"
    m = g.model

    # move: select by clicking the counter, the reach shows in green, right click a reachable hex
    g.draw()
    before = green_pixels(g.screen)
    select(g, "ru-moto")
    g.draw()
    shot = tmp_path / "reach.png"
    pygame.image.save(g.screen, str(shot))
    assert green_pixels(pygame.image.load(str(shot))) > before + 200
    dest = max(g.reach, key=lambda h: g.reach[h][0])
    post(g, click(hex_pos(g, dest), button=3))
    assert kinds(g) == ["move"] and m.pending["ru"][0].to == dest

    # infiltrate: key I, click the target, the odds preview appears, Enter confirms
    select(g, "ru-ag2")
    target = enemy_target(g, "ru-ag2", Infiltrate)
    post(g, key(pygame.K_i), click(hex_pos(g, target)))
    assert g.preview is not None and "p_detect" in g.preview[1] and kinds(g) == ["move"]
    post(g, key(pygame.K_RETURN))
    assert kinds(g) == ["move", "infiltrate"]

    # assault: key A, click the target, preview, a second click confirms
    uid = "ru-ag1"
    select(g, uid)
    target = enemy_target(g, uid, Assault)
    post(g, key(pygame.K_a), click(hex_pos(g, target)))
    assert g.preview is not None and "p_gain" in g.preview[1]
    post(g, click(hex_pos(g, target)))
    assert kinds(g)[-1] == "assault"

    # reserve (E), strike (S), interdict (Shift+S)
    free = [u for u in m.side_units("ru", "manoeuvre") if u.uid not in m.ordered_units()]
    select(g, free[0].uid)
    post(g, key(pygame.K_e))
    assert kinds(g)[-1] == "reserve"
    reserve_uid = free[0].uid
    select(g, "ru-drones")
    post(g, key(pygame.K_s), click(hex_pos(g, enemy_target(g, "ru-drones", lambda u, h: _strike(u, h)))))
    assert kinds(g)[-1] == "strike"
    select(g, "ru-mortar")
    post(g, key(pygame.K_s, pygame.KMOD_SHIFT), click(hex_pos(g, enemy_target(g, "ru-mortar", _strike))))
    assert m.pending["ru"][-1].kind == "strike" and m.pending["ru"][-1].mode == "interdict"

    # undo the last order, then a refused order shows its reason in red
    post(g, key(pygame.K_BACKSPACE))
    assert kinds(g)[-1] != "strike" or m.pending["ru"][-1].mode != "interdict"
    n = len(kinds(g))
    select(g, "ru-mortar")
    post(g, key(pygame.K_d))
    assert len(kinds(g)) == n and g.message[1] == (255, 90, 80) and "dig" in g.message[0]

    # end the turn: the AI orders Ukraine, the turn resolves, the log fills
    post(g, key(pygame.K_n))
    assert m.turn == 1 and g.page == "play" and m.history

    # commit the reserve (C), dig in (D), withdraw (W), rotate (R)
    assert m.units[reserve_uid].status.in_reserve
    select(g, reserve_uid)
    dest = next(iter(g.reach))
    post(g, key(pygame.K_c), click(hex_pos(g, dest)))
    assert kinds(g) == ["commit"]
    done = {reserve_uid}
    for k, kind in ((pygame.K_d, "dig_in"), (pygame.K_w, "withdraw"), (pygame.K_r, "rotate")):
        cands = [u for u in m.side_units("ru", "manoeuvre") if u.uid not in done and u.alive]
        if kind == "withdraw":
            cands = [u for u in cands if withdrawal_target(m, u) is not None]
        assert cands, kind
        select(g, cands[0].uid)
        post(g, key(k))
        assert kinds(g)[-1] == kind, g.message
        done.add(cands[0].uid)

    # F5 saves, the game moves on, F9 loads the saved turn back
    post(g, key(pygame.K_F5))
    assert (tmp_path / "quick.json").exists()
    saved = m.control.copy()
    pending = [o.to_dict() for o in m.pending["ru"]]
    post(g, key(pygame.K_RETURN))
    assert g.model.turn == 2
    post(g, key(pygame.K_F9))
    assert g.model.turn == 1 and np.array_equal(g.model.control, saved)
    assert [o.to_dict() for o in g.model.pending["ru"]] == pending and g.side == "ru"


def _strike(uid: str, hid: int):
    from sim.orders import Strike

    return Strike(uid, hid)




def test_fog_hides_enemy_units_and_v_shows_them(pg):
    g = Game("pokrovsk-2025", side="ua", seed=1)
    g.page = "play"
    seen = {mk.uid for mk in g.markers()}
    ru = {u.uid for u in g.model.side_units("ru")}
    assert ru - seen, "some Russian units should be hidden"
    post(g, key(pygame.K_v))
    assert ru <= {mk.uid for mk in g.markers()}


def test_the_top_bar_says_when_a_russian_offensive_is_under_way(pg):
    g = Game("pokrovsk-2025", side="ua", seed=1)  # starts on 1 November 2025, inside its November offensive
    g.page = "play"

    def top() -> bytes:
        g.draw_top()
        return pygame.image.tostring(g.screen.subsurface((0, 0, g.screen.get_width(), TOP)), "RGB")

    during = top()
    g.model.scenario = g.model.scenario.model_copy(update={"offensives": []})
    assert top() != during  # the same bar without the "Russian offensive" label


def test_overlays_help_resize_minimap_tab_and_pan(pg):
    g = Game("tutorial", side="ua", seed=2)
    g.page = "play"
    for k in (pygame.K_1, pygame.K_2, pygame.K_3, pygame.K_4, pygame.K_5):
        post(g, key(k))
        assert g.overlay == k - pygame.K_0
    post(g, key(pygame.K_0), key(pygame.K_h))
    assert g.overlay == 0 and g.show_help
    post(g, key(pygame.K_F1), pygame.event.Event(pygame.VIDEORESIZE, w=1000, h=700, size=(1000, 700)))
    assert g.screen.get_size() == (1000, 700) and g.camera.width == 1000 - 340
    cx = g.camera.cx
    r = g.minimap_rect()
    post(g, click((r.right - 2, r.centery)))
    assert g.camera.cx > cx
    post(g, key(pygame.K_TAB))
    assert g.selected in {u.uid for u in g.model.side_units("ua")}
    post(g, key(pygame.K_LEFT), key(pygame.K_PLUS), key(pygame.K_MINUS), key(pygame.K_f))
    post(g, key(pygame.K_ESCAPE), key(pygame.K_ESCAPE))
    assert not g.running


def test_hotseat_hands_over_behind_a_blank_screen(pg, tmp_path):
    g = Game("tutorial", side="both", seed=0)
    assert g.side == "ru"
    post(g, key(pygame.K_RETURN), key(pygame.K_n))
    assert g.page == "handover" and g.side == "ua" and g.model.turn == 0
    shot = tmp_path / "handover.png"
    pygame.image.save(g.screen, str(shot))
    a = pygame.surfarray.array3d(pygame.image.load(str(shot))).reshape(-1, 3)
    _, counts = np.unique(a, axis=0, return_counts=True)
    assert counts.max() / len(a) > 0.95  # the map is hidden
    post(g, key(pygame.K_RETURN))
    assert g.page == "briefing"  # the Ukrainian player's own briefing
    post(g, key(pygame.K_RETURN), key(pygame.K_n))
    assert g.model.turn == 1 and g.page == "handover" and g.side == "ru"


def test_cli_screenshot_and_batch_run(tmp_path):
    from sim.cli import main
    from sim.model import WargameModel
    from sim.saves import save_game

    shot = tmp_path / "tut.png"
    assert main(["play", "tutorial", "--side", "ru", "--screenshot", str(shot), "--turns", "1"]) == 0
    assert pygame.image.load(str(shot)).get_size() == (1280, 800)
    m = WargameModel("tutorial", seed=4)
    m.end_turn()
    save_game(m, tmp_path / "batch" / "games" / "run-00007.json")
    shot2 = tmp_path / "batch.png"
    assert main(["play", "--batch", str(tmp_path / "batch"), "--index", "7", "--screenshot", str(shot2)]) == 0
    assert shot2.exists()
    assert main(["play", "--batch", str(tmp_path / "batch"), "--index", "8", "--screenshot", str(shot2)]) == 2


def test_a_second_infiltration_sends_the_rest_of_the_units_cap(pg):
    # the usual share well below the cap, so the first order leaves some of it to send
    model = WargameModel("pokrovsk-axis-2024", seed=1, params={"ai.ru.commit_share": 0.2})
    g = Game("pokrovsk-axis-2024", side="ru", seed=1, model=model)
    g.page = "play"
    m = g.model
    uid = next(u.uid for u in sorted(m.side_units("ru", "manoeuvre"), key=lambda u: u.uid)
               if u.utype.can_infiltrate and u.personnel >= 200 and _can_infiltrate(g, u.uid))
    select(g, uid)
    first = enemy_target(g, uid, Infiltrate)
    post(g, key(pygame.K_i), click(hex_pos(g, first)), key(pygame.K_RETURN))
    sent, left = infil_rule.left_to_send(m, m.units[uid])
    select(g, uid)
    second = next(h for h in range(m.map.n) if h != first and 1 <= m.map.distance(m.units[uid].hex, h) <= 3
                  and _legal(m, g.order_at("infiltrate", h)))
    post(g, key(pygame.K_i), click(hex_pos(g, second)), key(pygame.K_RETURN))
    mine = [o for o in m.pending["ru"] if o.unit == uid]
    assert [o.target for o in mine] == [first, second]
    assert sent > 0 and mine[1].personnel == float(int(left))  # the rest of its cap, not the usual share


def _can_infiltrate(g: Game, uid: str) -> bool:
    try:
        enemy_target(g, uid, Infiltrate)
        return True
    except AssertionError:
        return False


def _legal(m, order) -> bool:
    try:
        legality.check(m, order)
        return True
    except ValueError:
        return False
