"""Headless Monte Carlo batches: the same results on any executor, resumable, replayable, and one-line errors.

Every test uses a small tactical scenario (eight units around Pokrovsk, four daily turns, control 0.5 everywhere so
both sides may stand anywhere) written into tmp_path, so one run takes well under a second.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.batch import BatchError, BatchInterrupted, make_plan, run_batch, seed_for
from sim.batch.design import design_points, grid
from sim.batch.runner import RunTask, play
from sim.cli import main
from tests.conftest import scenario_text

SMALL = scenario_text(
    scenario_id="batch-test", start="2025-11-01", turns=4, default_control=0.5,
    supply={"ru": ["edge:south"], "ua": ["edge:north"]},
    objectives=[{"name": "Pokrovsk", "at": "Pokrovsk"}, {"name": "Myrnohrad", "at": "Myrnohrad"}],
    units=[{"id": uid, "type": utype, "at": place} for uid, utype, place in [
        ("r1", "ru_assault_group", "Pokrovsk"), ("r2", "ru_drg", "Pokrovsk"), ("r3", "ru_drone_team", "Pokrovsk"),
        ("r4", "ru_mortar_section", "Pokrovsk"), ("u1", "ua_squad", "Myrnohrad"),
        ("u2", "ua_drone_team", "Myrnohrad"), ("u3", "ua_assault_squad", "Pokrovsk"),
        ("u4", "ua_mortar_section", "Myrnohrad")]])

TABLES = ("runs.csv", "timeseries.csv", "control.csv.gz", "hexes.csv")
SWEEP = ["infiltration.eta=0.2,0.5"]


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def _batch(scenario: Path, out: Path, runs: int = 3, seed: int = 11, sweeps=None, **kw):
    plan = make_plan(str(scenario), runs=runs, seed=seed, sweeps=sweeps)
    return run_batch(plan, out, progress=False, **kw)


def _csv(path: Path) -> list[dict[str, str]]:
    text = gzip.decompress(path.read_bytes()).decode() if path.suffix == ".gz" else path.read_text()
    return list(csv.DictReader(io.StringIO(text)))


def _manifest_without_times(out: Path) -> dict:
    manifest = json.loads((out / "manifest.json").read_text())
    return {k: v for k, v in manifest.items() if k not in ("started", "finished")}


def _all_outputs(out: Path) -> dict[str, bytes]:
    """Every output file's bytes except the manifest (compared without its times)."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.name != "manifest.json"}


# ---------------------------------------------------------------------------------------------- seeding and designs
def test_seed_of_a_run_is_the_spawned_child():
    children = np.random.SeedSequence(42).spawn(7)
    for i in (0, 3, 6):
        assert np.array_equal(seed_for(42, i).generate_state(4), children[i].generate_state(4))
    assert np.array_equal(seed_for(42, None).generate_state(4), np.random.SeedSequence(42).generate_state(4))


def test_sweep_grid_is_the_product_with_replicates_on_common_seeds(scenario):
    plan = make_plan(str(scenario), runs=3, seed=5, sets=["isr.p_hit=0.2"],
                     sweeps=["infiltration.eta=0.2,0.5", "infiltration.flip_turns=1,3"])
    assert plan.points == [{"infiltration.eta": 0.2, "infiltration.flip_turns": 1},
                           {"infiltration.eta": 0.2, "infiltration.flip_turns": 3},
                           {"infiltration.eta": 0.5, "infiltration.flip_turns": 1},
                           {"infiltration.eta": 0.5, "infiltration.flip_turns": 3}]
    assert plan.total == 12
    assert plan.locate(7) == (2, 1)  # point 2, replicate (seed index) 1
    assert plan.run_parameters(7) == {"isr.p_hit": 0.2, "infiltration.eta": 0.5, "infiltration.flip_turns": 1}
    assert plan.parameter_names == ["isr.p_hit", "infiltration.eta", "infiltration.flip_turns"]
    assert grid({}) == [{}]


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_designs_fill_the_box(scenario, method):
    plan = make_plan(str(scenario), runs=2, seed=9, design=method, samples=8,
                     ranges=["infiltration.eta=0.1:0.9", "infiltration.flip_turns=1:8"])
    assert len(plan.points) == 8 and plan.total == 16
    eta = np.array([p["infiltration.eta"] for p in plan.points])
    turns = [p["infiltration.flip_turns"] for p in plan.points]
    assert ((eta >= 0.1) & (eta <= 0.9)).all() and all(isinstance(t, int) and 1 <= t <= 8 for t in turns)
    if method == "lhs":  # one point in each eighth of the interval
        assert sorted(np.floor((eta - 0.1) / 0.1).astype(int).tolist()) == list(range(8))
    again = design_points(method, {"infiltration.eta": (0.1, 0.9), "infiltration.flip_turns": (1, 8)}, 8, 9)
    assert again == plan.points
    other = design_points(method, {"infiltration.eta": (0.1, 0.9), "infiltration.flip_turns": (1, 8)}, 8, 10)
    assert other != plan.points


def test_sweep_crossed_with_design(scenario):
    plan = make_plan(str(scenario), runs=1, seed=1, sweeps=["isr.p_hit=0.1,0.2"], design="lhs",
                     ranges=["infiltration.eta=0.1:0.9"], samples=3)
    assert len(plan.points) == 6
    assert [p["isr.p_hit"] for p in plan.points] == [0.1] * 3 + [0.2] * 3


# ---------------------------------------------------------------------------------------------- same results anywhere
def test_one_worker_two_workers_and_dask_give_identical_tables(scenario, tmp_path):
    one = _batch(scenario, tmp_path / "one", runs=3, sweeps=SWEEP, workers=1, plots=False).out
    two = _batch(scenario, tmp_path / "two", runs=3, sweeps=SWEEP, workers=2, plots=False).out
    for name in TABLES:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    assert _all_outputs(one) == _all_outputs(two)
    runs = _csv(one / "runs.csv")
    assert [r["run"] for r in runs] == [str(i) for i in range(6)]
    assert [r["seed_index"] for r in runs] == ["0", "1", "2"] * 2
    assert len({r["ua_losses"] for r in runs[:3]}) > 1  # the seeds matter

    pytest.importorskip("distributed")
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster:
        dask = _batch(scenario, tmp_path / "dask", runs=3, sweeps=SWEEP, scheduler=cluster.scheduler_address,
                      plots=False).out
    for name in TABLES:
        assert (one / name).read_bytes() == (dask / name).read_bytes(), name


# ---------------------------------------------------------------------------------------------- resume
def test_interrupted_batch_resumes_to_the_same_outputs(scenario, tmp_path):
    reference = _batch(scenario, tmp_path / "ref", runs=3, sweeps=SWEEP, workers=1).out

    def stop_after_two(run: int, finished: int) -> None:
        if finished == 2:
            raise KeyboardInterrupt

    out = tmp_path / "cut"
    with pytest.raises(BatchInterrupted) as info:
        _batch(scenario, out, runs=3, sweeps=SWEEP, workers=1, on_run=stop_after_two)
    assert info.value.kept == 2 and info.value.total == 6
    assert "2 of 6 runs are kept" in str(info.value) and "same command" in str(info.value)
    kept = {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run-*.json")}
    assert sorted(kept) == ["run-00000.json", "run-00001.json"]

    played: list[int] = []
    result = _batch(scenario, out, runs=3, sweeps=SWEEP, workers=1, on_run=lambda run, n: played.append(run))
    assert sorted(played) == [2, 3, 4, 5] and result.ran == 4
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").glob("run-*.json") if p.name in kept} == kept
    assert _all_outputs(out) == _all_outputs(reference)
    assert _manifest_without_times(out) == _manifest_without_times(reference)


def test_tables_written_during_the_batch_are_the_tables_of_its_records(scenario, tmp_path):
    """Tables are written as runs finish (in run order, whatever order the workers finish in); they are what
    writing them afterwards from the records on disk gives, and an interrupted batch leaves none behind."""
    from sim.batch.outputs import hex_rows, write_tables
    from sim.model import WargameModel

    out = tmp_path / "b"
    result = _batch(scenario, out, runs=3, sweeps=SWEEP, workers=2, plots=False)
    again = tmp_path / "again"
    again.mkdir()
    plan = make_plan(str(scenario), runs=3, seed=11, sweeps=SWEEP)
    records = [json.loads((out / "runs" / f"run-{r:05d}.json").read_text()) for r in range(plan.total)]
    data = write_tables(again, records, parameter_names=plan.parameter_names,
                        hexes=hex_rows(WargameModel(plan.scenario_path, seed=0, params=plan.run_parameters(0))))
    assert _all_outputs(again) == {k: v for k, v in _all_outputs(out).items() if "/" not in k}
    assert data.runs == result.data.runs == list(range(plan.total))

    def stop(run: int, finished: int) -> None:
        if finished == 2:
            raise KeyboardInterrupt

    cut = tmp_path / "cut"
    with pytest.raises(BatchInterrupted):
        _batch(scenario, cut, runs=3, sweeps=SWEEP, workers=1, on_run=stop)
    assert [p.name for p in cut.iterdir() if p.is_file()] == ["manifest.json"]


def test_a_folder_of_another_batch_is_refused(scenario, tmp_path, capsys):
    out = tmp_path / "b"
    assert main(_argv(scenario, out, ["--workers", "1"])) == 0
    capsys.readouterr()
    for change in (["--seed", "2"], ["--set", "infiltration.eta=0.5"], ["--runs", "2"]):
        code = main(_argv(scenario, out, change))
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "holds another batch" in err[0], (change, err)
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["run-00000.json"]


def _argv(scenario: Path, out: Path, change: list[str]) -> list[str]:
    options = {"--runs": "1", "--seed": "1", "--workers": "1"}
    extra: list[str] = []
    if change[0] in options:
        options[change[0]] = change[1]
    else:
        extra = change
    return ["batch", str(scenario), *[x for kv in options.items() for x in kv], "--out", str(out), *extra]


@pytest.mark.slow
def test_ctrl_c_keeps_finished_runs_and_says_so_in_one_line(scenario, tmp_path):
    out = tmp_path / "b"
    argv = ["batch", str(scenario), "--runs", "16", "--seed", "3", "--workers", "2", "--out", str(out)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "sim.cli", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    deadline = time.monotonic() + 120
    while not list((out / "runs").glob("run-*.json")) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "runs are kept" in lines[0] and "Traceback" not in err, err
    kept = sorted(p.name for p in (out / "runs").glob("run-*.json"))
    assert 1 <= len(kept) < 16
    assert not list((out / "runs").glob(".*.tmp"))

    assert main(argv) == 0
    reference = tmp_path / "ref"
    assert main([*argv[:-1], str(reference)]) == 0
    assert _all_outputs(out) == _all_outputs(reference)


# ---------------------------------------------------------------------------------------------- replay
def test_run_replayed_alone_equals_its_row_of_the_batch(scenario, tmp_path, capsys):
    batch = _batch(scenario, tmp_path / "b", runs=3, sweeps=SWEEP, workers=1, plots=False).out
    alone = tmp_path / "alone"
    assert main(["run", str(scenario), "--from-batch", str(batch), "--index", "4", "--out", str(alone)]) == 0
    assert "run 4" in capsys.readouterr().out
    assert _csv(alone / "runs.csv") == [_csv(batch / "runs.csv")[4]]
    assert (alone / "runs.csv").read_text().splitlines()[0] == (batch / "runs.csv").read_text().splitlines()[0]
    assert _csv(alone / "timeseries.csv") == [r for r in _csv(batch / "timeseries.csv") if r["run"] == "4"]
    assert _csv(alone / "control.csv.gz") == [r for r in _csv(batch / "control.csv.gz") if r["run"] == "4"]
    game = json.loads((alone / "game.json").read_text())
    saved = json.loads((batch / "games" / "run-00004.json").read_text())
    assert game == saved
    assert saved["seed_entropy"] == 11 and saved["seed_spawn_key"] == [1]
    assert saved["parameters"] == {"infiltration.eta": 0.5}


def test_single_run_writes_the_batch_tables(scenario, tmp_path):
    out = tmp_path / "one"
    assert main(["run", str(scenario), "--seed", "3", "--out", str(out)]) == 0
    for name in (*TABLES, "manifest.json", "game.json", "events.jsonl", "outcome.json"):
        assert (out / name).exists(), name
    assert json.loads((out / "manifest.json").read_text())["kind"] == "run"
    rows = _csv(out / "runs.csv")
    assert len(rows) == 1 and rows[0]["run"] == "0" and rows[0]["seed_index"] == ""
    assert len(_csv(out / "timeseries.csv")) == 5  # the start and four turns
    assert json.loads((out / "game.json").read_text())["seed"] == 3


def test_control_table_redraws_the_front(scenario, tmp_path):
    out = _batch(scenario, tmp_path / "b", runs=2, workers=1, plots=False, snapshot_every=3).out
    rows = _csv(out / "control.csv.gz")
    dates = sorted({r["date"] for r in rows if r["run"] == "1"})
    assert dates == ["2025-11-01", "2025-11-04", "2025-11-05"]  # every third turn, always the first and last
    model, _ = play(RunTask(str(scenario), 1, 0, 11, 1, {}))
    redrawn = np.zeros(model.map.n)
    for r in rows:
        if r["run"] == "1" and r["date"] == "2025-11-05":
            redrawn[int(r["hex_id"])] = float(r["control_ru"])
    assert np.allclose(redrawn, np.round(model.control, 3), atol=1e-9)
    hexes = _csv(out / "hexes.csv")
    assert len(hexes) == model.map.n and {"Pokrovsk", "Myrnohrad"} <= {h["place"] for h in hexes}


# ---------------------------------------------------------------------------------------------- summary, plots, parquet
def test_summary_and_plots_are_written(scenario, tmp_path):
    out = _batch(scenario, tmp_path / "b", runs=2, sweeps=SWEEP, workers=1).out
    summary = json.loads((out / "summary.json").read_text())
    assert summary["runs"] == 4 and sum(v["runs"] for v in summary["outcomes"].values()) == 4
    assert set(summary["objectives"]) == {"Pokrovsk", "Myrnohrad"} and len(summary["by_point"]) == 2
    assert set(summary["losses_end"]) == {"ru", "ua"}
    for name in ("area_fan", "objectives_fallen", "capture_dates", "losses", "outcomes"):
        png = out / "plots" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000, name


def test_parquet_tables_hold_the_same_rows(scenario, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    csv_out = _batch(scenario, tmp_path / "c", runs=2, workers=1, plots=False).out
    pq_out = _batch(scenario, tmp_path / "p", runs=2, workers=1, plots=False, fmt="parquet").out
    for name in ("runs", "timeseries", "hexes", "control"):
        table = pq.read_table(pq_out / f"{name}.parquet")
        rows = _csv(csv_out / (f"{name}.csv.gz" if name == "control" else f"{name}.csv"))
        assert table.num_rows == len(rows) and table.column_names == list(rows[0]), name
    runs = pq.read_table(pq_out / "runs.parquet").to_pylist()
    assert [r["ua_losses"] for r in runs] == [float(r["ua_losses"]) for r in _csv(csv_out / "runs.csv")]


# ---------------------------------------------------------------------------------------------- one-line errors
def _one_line_error(argv: list[str], capsys) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "Traceback" not in captured.err, (argv, captured.err)
    return lines[0]


BAD = [
    (["--runs", "0"], "--runs must be at least 1"),
    (["--set", "infiltration.etta=1"], "did you mean infiltration.eta"),
    (["--set", "infiltration.kappa=7"], "out of range"),
    (["--sweep", "infiltration.eta"], "--sweep expects name=v1,v2"),
    (["--sweep", "infiltration.eta=0.1,,0.2"], "--sweep expects name=v1,v2"),
    (["--sweep", "infiltration.eta=0.1,abc"], "expected float"),
    (["--sweep", "infiltration.eta=0.1,9"], "out of range"),
    (["--sweep", "infiltration.etta=0.1,0.2"], "unknown parameter"),
    (["--sweep", "infiltration.eta=0.1,0.1"], "repeated"),
    (["--set", "infiltration.eta=0.3", "--sweep", "infiltration.eta=0.1,0.2"], "given twice"),
    (["--design", "lhs", "--samples", "4"], "needs at least one --range"),
    (["--design", "grid", "--range", "infiltration.eta=0.1:0.2", "--samples", "4"], "--design must be one of"),
    (["--design", "lhs", "--range", "infiltration.eta=0.5:0.1", "--samples", "4"], "low must be below high"),
    (["--design", "lhs", "--range", "infiltration.eta=0.1-0.5", "--samples", "4"], "name=low:high"),
    (["--design", "lhs", "--range", "infiltration.eta=0.1:9", "--samples", "4"], "out of range"),
    (["--design", "sobol", "--range", "infiltration.eta=0.1:0.5", "--samples", "6"], "power of 2"),
    (["--range", "infiltration.eta=0.1:0.5"], "need --design"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--snapshot-every", "0"], "--snapshot-every must be at least 1"),
    (["--format", "xlsx"], "--format must be one of"),
]


@pytest.mark.parametrize(("extra", "expected"), BAD, ids=[" ".join(b[0]) for b in BAD])
def test_bad_batch_arguments_give_one_line_and_exit_2(scenario, tmp_path, capsys, extra, expected):
    line = _one_line_error(["batch", str(scenario), "--runs", "2", "--out", str(tmp_path / "o"), *extra], capsys)
    assert expected in line
    assert not (tmp_path / "o" / "runs").exists()


def test_unknown_scenario_and_unwritable_folder(scenario, tmp_path, capsys):
    assert "no scenario" in _one_line_error(["batch", "pokrovsk-axsi-2024", "--runs", "2", "--out",
                                             str(tmp_path / "o")], capsys)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot write" in _one_line_error(["batch", str(scenario), "--runs", "2", "--out", str(blocker / "x")],
                                             capsys)


def test_missing_extras_are_named(scenario, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    line = _one_line_error(["batch", str(scenario), "--runs", "1", "--out", str(tmp_path / "o"), "--format",
                            "parquet"], capsys)
    assert "pip install -e .[parquet]" in line
    monkeypatch.setitem(sys.modules, "distributed", None)
    line = _one_line_error(["batch", str(scenario), "--runs", "1", "--out", str(tmp_path / "o"), "--scheduler",
                            "tcp://127.0.0.1:1"], capsys)
    assert "pip install -e .[cluster]" in line


def test_bad_replay_arguments(scenario, tmp_path, capsys):
    batch = _batch(scenario, tmp_path / "b", runs=2, workers=1, plots=False).out
    out = str(tmp_path / "o")
    assert "--index must be 0 to 1" in _one_line_error(
        ["run", str(scenario), "--from-batch", str(batch), "--index", "2", "--out", out], capsys)
    assert "no batch manifest" in _one_line_error(
        ["run", str(scenario), "--from-batch", str(tmp_path), "--index", "0", "--out", out], capsys)
    assert "needs --index" in _one_line_error(["run", str(scenario), "--from-batch", str(batch), "--out", out], capsys)
    assert "leave out --seed" in _one_line_error(
        ["run", str(scenario), "--from-batch", str(batch), "--index", "0", "--seed", "4", "--out", out], capsys)
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace("turns = 4", "turns = 3"))
    assert "hash differs" in _one_line_error(
        ["run", str(other), "--from-batch", str(batch), "--index", "0", "--out", out], capsys)
    assert "holds a batch" in _one_line_error(["run", str(scenario), "--out", str(batch)], capsys)


def test_batch_error_is_a_value_error():
    assert issubclass(BatchError, ValueError)
