"""Save and load: a round trip rebuilds the same game; a bad file is refused with a clear sentence, untouched."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.ai import play_side
from sim.model import WargameModel
from sim.orders import DigIn, Move
from sim.saves import SaveError, load_game, read_save, save_game


@pytest.fixture(scope="module")
def played(tmp_path_factory):
    m = WargameModel("tutorial", seed=3)
    for _ in range(2):
        play_side(m, "ru")
        play_side(m, "ua")
        m.end_turn()
    unit = next(u for u in m.side_units("ua") if u.utype.role == "manoeuvre")
    m.issue(DigIn(unit.uid))
    path = tmp_path_factory.mktemp("saves") / "game.json"
    save_game(m, path, side="ua", difficulty="hard")
    return m, path


def test_round_trip_gives_the_same_game(played):
    m, path = played
    loaded = load_game(path)
    assert loaded.turn == m.turn == 2
    assert np.array_equal(loaded.control, m.control)
    assert json.dumps(loaded.metrics) == json.dumps(m.metrics)  # NaN-safe comparison
    assert [o.to_dict() for o in loaded.pending["ua"]] == [o.to_dict() for o in m.pending["ua"]]
    assert read_save(path)["difficulty"] == "hard"
    play_side(loaded, "ru")
    play_side(m, "ru")
    play_side(loaded, "ua")
    play_side(m, "ua")
    loaded.end_turn()
    m.end_turn()
    assert np.array_equal(loaded.control, m.control)


def _bad(tmp_path, text: str):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(SaveError) as exc:
        load_game(path)
    assert path.read_text() == text  # never touched
    msg = str(exc.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_corrupt_files_are_refused_and_left_alone(played, tmp_path):
    _, path = played
    good = path.read_text()
    assert "not valid JSON" in _bad(tmp_path, good[: len(good) // 2])
    assert "not a saved game" in _bad(tmp_path, json.dumps({"format": "something-else"}))
    data = json.loads(good)
    assert "version 99" in _bad(tmp_path, json.dumps({**data, "version": 99}))
    assert "not installed" in _bad(tmp_path, json.dumps({**data, "scenario": "atlantis", "scenario_path": None}))
    assert "has changed" in _bad(tmp_path, json.dumps({**data, "scenario_hash": "0" * 64}))
    orders = [[{"kind": "move", "unit": "nobody", "to": 1}]]
    assert "does not replay" in _bad(tmp_path, json.dumps({**data, "orders": orders}))
    assert "does not replay" in _bad(tmp_path, json.dumps({**data, "orders": [[{"kind": "teleport", "unit": "x"}]]}))


def test_a_failed_write_keeps_the_old_save(played, tmp_path, monkeypatch):
    m, path = played
    target = tmp_path / "keep.json"
    save_game(m, target)
    before = target.read_text()

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("sim.saves.os.replace", boom)
    with pytest.raises(SaveError, match="could not write"):
        save_game(m, target)
    assert target.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


def _asdict_form(order) -> dict:
    """What ``Order.to_dict`` gave when it was built on ``dataclasses.asdict``."""
    from dataclasses import asdict

    data = asdict(order)
    return {"kind": order.kind, **{k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}}


def test_order_dicts_are_what_asdict_gives(played):
    from sim.orders import ORDER_TYPES, Assault, Commit, Infiltrate, Reserve, Rotate, Strike, Withdraw

    m, _ = played
    orders = [o for turn in m.order_log for o in turn]
    orders += [Assault("a", 3, support=("b", "c")), Assault("a", 4), Infiltrate("a", 5, 12.5, 3, "atv"),
               Infiltrate("a", 6), Rotate("a"), Rotate("a", "b"), Withdraw("a"), Withdraw("a", 7),
               Strike("a", 8, "interdict"), Reserve("a"), Commit("a", 10), DigIn("a"), Move("a", np.int64(9))]
    assert {o.kind for o in orders} == set(ORDER_TYPES)
    for order in orders:
        mine = order.to_dict()
        assert list(mine.items()) == list(_asdict_form(order).items())
        assert repr(mine) == repr(_asdict_form(order))
    support = orders[-13].to_dict()["support"]
    support.append("d")
    assert orders[-13].support == ("b", "c")
