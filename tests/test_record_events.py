"""A game that records no events (as batch runs play) is the same game: nothing in the rules or the AI reads them."""

from __future__ import annotations

import json

import numpy as np

from sim.ai import commanders_for
from sim.batch.runner import RunTask, play
from sim.model import WargameModel


def _game(record_events: bool, turns: int = 12) -> WargameModel:
    m = WargameModel("pokrovsk-axis-2024", seed=3, record_events=record_events)
    commanders = commanders_for(m)
    while m.turn < turns and not m.over:
        for c in commanders:
            c(m)
        m.end_turn()
    return m


def test_a_game_without_events_is_the_same_game():
    on, off = _game(True), _game(False)
    assert on.turn == off.turn
    assert on.orders_as_data() == off.orders_as_data()
    assert json.dumps(on.metrics, default=str) == json.dumps(off.metrics, default=str)  # NaN is not NaN
    assert np.array_equal(on.control, off.control)
    assert on.outcome == off.outcome
    assert sum(map(len, on.history)) > 100
    assert off.events == [] and all(turn == [] for turn in off.history)


def test_a_batch_run_records_no_events_and_the_same_record():
    task = RunTask("scenarios/tutorial.toml", 0, 0, 5, 0, {})
    quiet, record = play(task)
    loud, loud_record = play(task, record_events=True)
    assert json.dumps(record, default=str) == json.dumps(loud_record, default=str)
    assert not any(quiet.history) and any(loud.history)


def test_hex_labels_name_places_or_give_column_and_row():
    m = WargameModel("pokrovsk-axis-2024", seed=0)
    named = next(iter(m.hex_names))
    col, row = m.map.coords(named)
    assert m.hex_label(named) == f"{m.hex_names[named]} ({col},{row})"
    plain = next(h for h in range(m.map.n) if h not in m.hex_names)
    col, row = m.map.coords(plain)
    assert m.hex_label(np.int64(plain)) == f"hex ({col},{row})"
