"""Benchmarks: the cost of a full turn against the cost of mesa merely moving the same units on the same grid.

Both are measured in the same run, the floor in bursts between the turns, so the ratio holds on a shared machine
whose speed drifts. Figures come back as
(name, value, unit) and `wargame bench` prints them one per line.
"""

from __future__ import annotations

import statistics
import time

from mesa import Model
from mesa.discrete_space import CellAgent, HexGrid

BENCH_SCENARIO = "pokrovsk-axis-2024"


class _Walker(CellAgent):
    def step(self):
        self.cell = self.cell.neighborhood.select_random_cell()


class _Floor(Model):
    """Bare mesa: N agents each step to a random neighbour (the floor from ../shared/research/bench)."""

    def __init__(self, width: int, height: int, n: int, seed: int):
        super().__init__(rng=seed)
        self.grid = HexGrid((width, height), torus=False, random=self.random)
        for cell in self.random.sample(list(self.grid.all_cells.cells), n):
            w = _Walker(self)
            w.cell = cell

    def step(self):
        self.agents.shuffle_do("step")


def mesa_floor_ms(width: int, height: int, n_units: int, steps: int = 200, repeats: int = 5) -> float:
    """Median wall time of one mesa step moving ``n_units`` agents on a width x height HexGrid."""
    times = []
    for rep in range(repeats):
        m = _Floor(width, height, n_units, seed=rep + 1)
        t0 = time.perf_counter()
        for _ in range(steps):
            m.step()
        times.append((time.perf_counter() - t0) / steps * 1000)
    return statistics.median(times)


def _phase_name(phase) -> str:
    module = phase.__module__.rsplit(".", 1)[-1]
    return phase.__name__.lstrip("_") if module == "rules" else f"{module}.{phase.__name__}"


def turn_costs(scenario: str, turns: int, seed: int = 1, between=None,
               every: int = 10) -> tuple[list[float], list[float], dict[str, float], int]:
    """Per-turn wall times of the rules (end_turn) and of both AIs giving orders, the mean time of each rule phase
    per turn (what is not in a phase, the metrics and victory check, under "metrics_and_victory"), and the number
    of units at the end. ``between(model)``, if given, runs before the first turn and after every ``every`` turns,
    untimed (the bench measures the mesa floor there, so both see the machine in the same state)."""
    import sim.rules
    from sim.ai import play_side
    from sim.model import WargameModel

    m = WargameModel(scenario, seed=seed)
    rules, ai = [], []
    phases: dict[str, float] = {}

    def timed(phase):
        name = _phase_name(phase)

        def run(model):
            t = time.perf_counter()
            phase(model)
            phases[name] = phases.get(name, 0.0) + (time.perf_counter() - t) * 1000
        return run

    plain = sim.rules.PHASES
    sim.rules.PHASES = tuple(timed(ph) for ph in plain)  # end_turn reads the tuple at each call
    try:
        for turn in range(turns):
            if m.over:
                break
            if between is not None and turn % every == 0:
                between(m)
            t0 = time.perf_counter()
            play_side(m, "ru")
            play_side(m, "ua")
            t1 = time.perf_counter()
            m.end_turn()
            t2 = time.perf_counter()
            ai.append((t1 - t0) * 1000)
            rules.append((t2 - t1) * 1000)
    finally:
        sim.rules.PHASES = plain
    played = max(len(rules), 1)
    per_turn = {name: total / played for name, total in phases.items()}
    per_turn["metrics_and_victory"] = max(sum(rules) / played - sum(per_turn.values()), 0.0)
    return rules, ai, per_turn, len(m.units)


def run_bench(quick: bool = False) -> list[tuple[str, str, str]]:
    """Every figure, measured the way batches play games: with the garbage collector quieted (`quiet_gc`), which
    the mesa floor measured in the same process shares."""
    from sim.batch.runner import quiet_gc
    from sim.geo.hexmap import OPERATIONAL, build_map

    quiet_gc()

    out: list[tuple[str, str, str]] = []
    t0 = time.perf_counter()
    hexmap = build_map(OPERATIONAL)
    out.append(("map_build_operational", f"{(time.perf_counter() - t0) * 1000:.0f}", "ms"))
    turns = 20 if quick else 60
    floors: list[float] = []  # mesa's floor, measured in bursts between the turns: this machine's speed drifts

    def floor_burst(model) -> None:
        floors.append(mesa_floor_ms(hexmap.width, hexmap.height, len(model.units), steps=100 if quick else 200,
                                    repeats=1))

    # the same turns once untimed first: the compiled kernels load from numba's cache, or on a fresh machine compile
    # (seconds), at their first call, which would otherwise land in the phases that call them
    turn_costs(BENCH_SCENARIO, turns)
    rules, ai, phases, n_units = turn_costs(BENCH_SCENARIO, turns, between=floor_burst)
    turn = statistics.median(rules)
    floor = statistics.median(floors)
    out += [
        ("units", f"{n_units}", "units"),
        ("turn_rules", f"{turn:.2f}", "ms"),
        ("mesa_floor_step", f"{floor:.3f}", "ms"),
        ("turn_vs_mesa_floor", f"{turn / floor:.2f}", "x"),
        ("ai_turn_both_sides", f"{statistics.median(ai):.2f}", "ms"),
        ("game_turn_total", f"{statistics.median([a + b for a, b in zip(rules, ai, strict=True)]):.2f}", "ms"),
    ]
    # where a turn of the rules goes, largest first (means per turn, so they add up to the mean turn)
    out += [(f"phase_{name}", f"{ms:.2f}", "ms") for name, ms in sorted(phases.items(), key=lambda kv: -kv[1])]
    from sim.batch.runner import batch_throughput

    b = batch_throughput(BENCH_SCENARIO, runs=6 if quick else 12, workers=2)
    out += [("batch_throughput_2_workers", f"{b['runs_per_min']:.1f}", "runs/min"),
            ("batch_marginal_2_workers", f"{b['marginal_runs_per_min']:.1f}", "runs/min"),
            ("batch_fixed_cost", f"{b['fixed_s']:.1f}", "s"),
            ("batch_turns_per_run", f"{b['turns_per_run']:.1f}", "turns"),
            ("batch_1000_runs_2_workers", f"{b['min_for_1000']:.1f}", "min")]
    return out
