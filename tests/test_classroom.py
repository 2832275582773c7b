"""The classroom layer: injects change what they should and replay, rewind and branch, claims scored by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.classroom import claims as cl
from sim.classroom.injects import Inject, InjectError, apply_inject, parse_inject
from sim.classroom.timeline import play_on, rewind
from sim.cli import main
from sim.model import WargameModel
from sim.saves import model_from_save, save_data
from sim.setup import area_hexes


@pytest.fixture
def game() -> WargameModel:
    m = WargameModel("tutorial", seed=4)
    play_on(m, 2)
    return m


def _same(a: WargameModel, b: WargameModel) -> bool:
    units = lambda m: {u.uid: (u.hex, round(u.personnel, 9), u.status.crew) for u in m.units.values()}  # noqa: E731
    return (a.turn == b.turn and np.array_equal(a.control, b.control) and np.array_equal(a.presence, b.presence)
            and units(a) == units(b))


def test_inject_is_data():
    inj = parse_inject("ceasefire:at=Pokrovsk,radius=2,turns=3", 4)
    assert inj == Inject("ceasefire", 4, {"at": "Pokrovsk", "radius": 2, "turns": 3})
    assert Inject.from_dict(json.loads(json.dumps(inj.to_dict()))) == inj
    assert parse_inject("weather=fog", 1).args == {"state": "fog"}
    assert parse_inject("surge:side=ru,at=12/30,personnel=5", 0).args["at"] == {"col": 12, "row": 30}
    with pytest.raises(InjectError, match="unknown inject kind"):
        parse_inject("earthquake:at=Pokrovsk", 0)


def test_weather_inject_sets_this_turn(game):
    apply_inject(game, Inject("weather", game.turn, {"state": "fog"}))
    assert game.weather["dominant"] == "fog" and game.weather["blind_days"] >= 0
    assert game.weather["visibility"] == pytest.approx(game.p.weather.visibility.fog)
    assert any("fog" in e.text for e in game.inject_events)


def test_reinforce_and_surge(game):
    before = game.books("ua")["in"]
    apply_inject(game, Inject("reinforce", game.turn, {"type": "ua_squad", "at": "Rodynske", "id": "wc1",
                                                        "personnel": 9}))
    assert game.units["wc1"].personnel == 9 and game.books("ua")["in"] == before + 9
    h = game.map.place_hex("Pokrovsk")
    p0 = game.presence[0, h]
    apply_inject(game, Inject("surge", game.turn, {"side": "ru", "at": "Pokrovsk", "personnel": 25}))
    assert game.presence[0, h] == pytest.approx(p0 + 25)
    with pytest.raises(InjectError, match="enemy hands"):
        apply_inject(game, Inject("reinforce", game.turn, {"type": "ua_squad", "at": "Zvirove"}))


def test_hold_back_cancels_and_delays(game):
    apply_inject(game, Inject("hold_back", game.turn, {"id": "ru-ag3"}))
    play_on(game)
    assert "ru-ag3" not in game.units
    m = WargameModel("tutorial", seed=4)
    apply_inject(m, Inject("hold_back", 0, {"id": "ru-ag3", "turns": 3}))
    play_on(m, 6)
    assert "ru-ag3" not in m.units  # was due on turn 4, now on turn 7
    play_on(m, 3)
    assert "ru-ag3" in m.units


def test_ceasefire_freezes_control_and_blocks_infiltration(game):
    apply_inject(game, Inject("surge", game.turn, {"side": "ru", "at": "Pokrovsk", "personnel": 200, "radius": 1}))
    apply_inject(game, Inject("ceasefire", game.turn, {"at": "Pokrovsk", "radius": 1, "turns": 3}))
    hexes = area_hexes(game.map, game.map.place_hex("Pokrovsk"), 1)
    before = game.control[hexes].copy()
    play_on(game, 3)
    assert np.array_equal(game.control[hexes], before)
    # without the ceasefire, the same surge moves the ground
    m = WargameModel("tutorial", seed=4)
    play_on(m, 2)
    apply_inject(m, Inject("surge", m.turn, {"side": "ru", "at": "Pokrovsk", "personnel": 200, "radius": 1}))
    play_on(m, 3)
    assert not np.array_equal(m.control[hexes], before)


def test_drone_shortage_caps_crews_for_its_turns(game):
    apply_inject(game, Inject("drone_shortage", game.turn, {"side": "ru", "factor": 0.3, "turns": 2}))
    drones = game.side_units("ru", "drone")
    assert drones and all(u.status.crew <= 0.3 for u in drones)
    play_on(game, 1)
    assert all(u.status.crew <= 0.3 for u in drones)
    play_on(game, 2)  # the shortage is over: crews recover (nobody hunts the Russian drone team here)
    assert any(u.status.crew > 0.3 for u in drones)


def test_injects_are_saved_and_replayed(game):
    apply_inject(game, Inject("weather", game.turn, {"state": "rain"}))
    apply_inject(game, Inject("surge", game.turn, {"side": "ru", "at": "Pokrovsk", "personnel": 30}))
    play_on(game, 3)
    apply_inject(game, Inject("drone_shortage", game.turn, {"side": "ua", "factor": 0.5, "turns": 2}))
    play_on(game)
    save = json.loads(json.dumps(save_data(game)))
    assert len(save["injects"]) == 3
    assert _same(model_from_save(save), game)


def test_rewind_then_same_orders_is_identical_and_other_orders_diverge(game):
    apply_inject(game, Inject("surge", game.turn, {"side": "ru", "at": "Pokrovsk", "personnel": 30}))
    play_on(game)
    k = 4
    back = rewind(game, k)
    assert back.turn == k and game.turn > k
    from sim.orders import order_from_dict

    for turn_orders in game.orders_as_data()[k:]:
        for data in turn_orders:
            back.issue(order_from_dict(data))
        back.end_turn()
    assert _same(back, game)
    branch = rewind(game, k)
    play_on(branch, commanders=[])  # nobody gives orders from turn k on
    assert not _same(branch, game)


# ------------------------------------------------------------------------------------------------ claims
HI = 0.8


def test_score_claim_by_hand():
    # three hexes; control at turns 0..3 (0 Ukrainian .. 1 Russian)
    controls = [np.array([0.1, 0.1, 0.1]), np.array([0.9, 0.5, 0.1]), np.array([0.9, 0.9, 0.5]),
                np.array([1.0, 1.0, 0.9])]
    hexes = np.array([0, 1, 2])
    s = cl.score_claim(cl.Claim("ru", "Town", 1), controls, hexes, HI)
    # mean control at turn 1 = 0.5: contested; 1 of 3 hexes held by Russia, 1 by Ukraine; true from turn 3
    assert s.verdict == "contested" and s.mean_control == pytest.approx(0.5)
    assert s.share_held == pytest.approx(1 / 3) and s.share_enemy == pytest.approx(1 / 3)
    assert s.true_from == 3 and s.turns_early == 2
    ua = cl.score_claim(cl.Claim("ua", "Town", 0), controls, hexes, HI)
    assert ua.verdict == "true" and ua.turns_early == 0
    late = cl.score_claim(cl.Claim("ua", "Town", 3), controls, hexes, HI)
    assert late.verdict == "false" and late.true_from is None and late.share_enemy == 1.0


def test_osint_view_is_late_and_partial():
    controls = [np.array([0.0, 0.0, 0.5]), np.array([1.0, 0.0, 0.5])]
    covered = np.array([True, False, True])
    view = cl.osint_view(controls, 1, 1, covered, HI)
    assert list(view) == ["ua", "unknown", "contested"]
    assert list(cl.osint_view(controls, 1, 0, covered, HI)) == ["ru", "unknown", "contested"]
    assert cl.random_coverage(1000, 0.3, 1).mean() == pytest.approx(0.3, abs=0.05)


def test_score_map_handles_contested_explicitly():
    truth = {"A": "ru", "B": "contested", "C": "ua", "D": "ru"}
    judged = {"A": "ru", "B": "ru", "C": "ru", "D": "contested"}
    s = cl.score_map(judged, truth)
    assert s.exact == pytest.approx(1 / 4)
    assert s.credit == pytest.approx((1 + 0.5 + 0 + 0.5) / 4)
    assert s.wrong_side == ["C"] and s.confusion[("ru", "contested")] == 1
    with pytest.raises(cl.ClaimsError):
        cl.score_map({"A": "maybe"}, truth)


def test_claims_and_analyst_files(tmp_path):
    import datetime as dt

    p = tmp_path / "claims.csv"
    p.write_text(cl.CLAIMS_TEMPLATE)
    claims = cl.read_claims(p, dt.date(2025, 11, 1), 7)
    assert claims[0] == cl.Claim("ru", "Pokrovsk centre", 4, "Ministry of Defence statement")
    a = tmp_path / "analyst.toml"
    a.write_text('[[analyst]]\nplace = "Pokrovsk centre"\nholder = "contested"\nturn = 2\n')
    assert cl.read_analyst_map(a, dt.date(2025, 11, 1), 7, 9) == (2, {"Pokrovsk centre": "contested"})
    p.write_text("side,place,date\nrus,Pokrovsk,2025-12-01\n")
    with pytest.raises(cl.ClaimsError, match="row 2"):
        cl.read_claims(p, dt.date(2025, 11, 1), 7)


# ------------------------------------------------------------------------------------------------ the White Cell CLI
def test_facilitate_cli_new_play_inject_rewind(tmp_path, capsys):
    save = tmp_path / "class.json"
    assert main(["facilitate", "--new", "tutorial", "--seed", "3", "--out", str(save)]) == 0
    assert main(["facilitate", str(save), "--play", "2"]) == 0
    assert main(["facilitate", str(save), "--inject", "weather=fog", "--inject",
                 "surge:side=ru,at=Pokrovsk,personnel=20", "--play", "2"]) == 0
    data = json.loads(save.read_text())
    assert [i["kind"] for i in data["injects"]] == ["weather", "surge"] and len(data["orders"]) == 4
    # turns count from 1 as the window shows them: back to the start of turn 2 keeps turn 1's orders
    assert main(["facilitate", str(save), "--rewind", "2", "--out", str(tmp_path / "b.json")]) == 0
    assert len(json.loads((tmp_path / "b.json").read_text())["orders"]) == 1
    assert main(["facilitate", str(save), "--rewind", "0"]) == 2
    assert main(["facilitate", str(save), "--inject", "surge:side=xx,at=Pokrovsk,personnel=1"]) == 2
    assert "side=ru or side=ua" in capsys.readouterr().err
