"""The benchmark's own arithmetic: phases add up to the turn, batch cost splits into fixed and per-run parts."""

from __future__ import annotations

import time

import pytest

import sim.rules
from sim.batch.runner import batch_throughput
from sim.bench import _phase_name, turn_costs


def test_phase_times_cover_every_phase_and_add_up_to_the_turn():
    rules, ai, phases, n_units = turn_costs("tutorial", turns=3)
    assert len(rules) == len(ai) == 3 and n_units > 0
    assert set(phases) == {_phase_name(ph) for ph in sim.rules.PHASES} | {"metrics_and_victory"}
    assert all(ms >= 0 for ms in phases.values())
    assert sum(phases.values()) == pytest.approx(sum(rules) / len(rules), rel=1e-6)
    assert sim.rules.PHASES[0].__name__ == "_prepare"  # the timing wrappers are gone again


def test_floor_bursts_run_between_turns_untimed():
    """The bench measures mesa's floor between turns (so both see the machine alike): before the first turn and
    after every ``every`` turns, and none of it counts in a turn."""
    turn_costs("tutorial", turns=5)  # as the bench does: numba compiling a kernel on a fresh clone is not a turn's cost
    seen = []
    rules, _, phases, _ = turn_costs("tutorial", turns=5, between=lambda m: (seen.append(m.turn), time.sleep(0.2)),
                                     every=2)
    assert seen == [0, 2, 4]
    assert max(rules) < 200 and sum(phases.values()) == pytest.approx(sum(rules) / len(rules), rel=1e-6)


def test_batch_cost_splits_into_fixed_and_per_run_parts():
    b = batch_throughput("tutorial", runs=3, workers=1)
    assert b["turns_per_run"] > 0 and b["fixed_s"] >= 0
    per_run_min = 1.0 / b["marginal_runs_per_min"]
    # 1,000 runs cost the fixed part once and the per-run part 1,000 times (the fixed part is floored at zero,
    # which on a noisy machine may leave the projection up to one run's cost below the sum)
    assert b["min_for_1000"] == pytest.approx(b["fixed_s"] / 60 + 1000 * per_run_min, abs=per_run_min)
