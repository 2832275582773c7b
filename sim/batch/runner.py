"""Running runs: one seeded AI-against-AI game per run, in parallel, resumable, the same on any executor.

A run is a pure function of (scenario, parameters, seed), so the result never depends on the executor, the number
of workers or the order runs finish in. The parent process writes each finished run atomically to
``DIR/runs/run-XXXXX.json`` (and its replayable save to ``DIR/games/run-XXXXX.json``) as soon as it arrives; the
tables are assembled from those files in run order at the end. A batch started again with the same request
skips the runs already on disk, so an interrupted batch loses nothing and ends with the same outputs.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import os
import platform
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.batch.design import BatchError, BatchPlan, make_plan, seed_for
from sim.batch.outputs import BatchData, TableWriter, hex_rows, require_format, write_tables
from sim.saves import save_data

RUN_FORMAT = "wargame-batch-run"
MANIFEST_FORMAT = "wargame-batch"
CLUSTER_HINT = "install the cluster extra: pip install -e .[cluster]"
METRIC_DECIMALS = 4


class BatchInterrupted(Exception):
    """Ctrl-C or SIGTERM stopped a batch; the finished runs are kept on disk."""

    def __init__(self, out: Path, kept: int, total: int):
        self.out, self.kept, self.total = out, kept, total
        super().__init__(f"interrupted: {kept} of {total} runs are kept in {out}; run the same command again to "
                         f"finish the other {total - kept}")


@dataclass(frozen=True)
class RunTask:
    """Everything one run needs; small and picklable, so it travels to any worker."""

    scenario_path: str
    run: int
    point: int
    root_seed: int
    seed_index: int | None  # None: a single game seeded with SeedSequence(root_seed) itself
    parameters: dict[str, Any]
    fingerprint: str = ""
    scenario_hash: str = ""


# ---------------------------------------------------------------------------------------------- one run
def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return value if value != value else round(value, METRIC_DECIMALS)
    if isinstance(value, np.generic):
        return _clean(value.item())
    return value


class _ControlRecorder:
    """Called first at every turn (and once at the end): keeps the changes of control, in thousandths."""

    def __init__(self, n: int):
        self.previous = np.zeros(n, dtype=np.int32)
        self.deltas: list[list[list[int]]] = []

    def __call__(self, model) -> list:
        current = np.rint(np.clip(model.control, 0.0, 1.0) * 1000).astype(np.int32)
        changed = np.flatnonzero(current != self.previous)
        self.deltas.append([changed.tolist(), current[changed].tolist()])
        self.previous = current
        return []


def play(task: RunTask, *, record_events: bool = False):
    """Play one run to the end; return the model and its record (what the tables are built from).

    A batch keeps no events, so by default the model records none (the game is the same either way)."""
    from sim.ai import commanders_for
    from sim.model import WargameModel

    model = WargameModel(task.scenario_path, seed=seed_for(task.root_seed, task.seed_index),
                         params=task.parameters, record_events=record_events)
    recorder = _ControlRecorder(model.map.n)
    model.run(commanders=[recorder, *commanders_for(model)])
    recorder(model)
    record = {
        "format": RUN_FORMAT, "version": 1, "fingerprint": task.fingerprint,
        "run": task.run, "point": task.point, "seed_index": task.seed_index, "parameters": task.parameters,
        "outcome": model.outcome, "first_change": dict(model.objective_first_change),
        "metrics": [{k: _clean(v) for k, v in row.items()} for row in model.metrics],
        "control": recorder.deltas,
    }
    return model, record


def game_save(model, task: RunTask) -> dict[str, Any]:
    """The replayable save of a run, in the one save format (`sim.saves`)."""
    return save_data(model)


def run_task(task: RunTask) -> dict[str, Any]:
    """The worker's job: play one run and return its number and the text of its record and save files.

    The worker writes the JSON: a string travels back to the parent far cheaper than the nested data (about 7 ms a
    run less pickling), and the parent, which shares the cores with the workers, has only to write it out.
    """
    model, record = play(task)
    return {"run": task.run, "record": _json_text(record), "game": _json_text(game_save(model, task))}


# ---------------------------------------------------------------------------------------------- files
def _json_text(data: Any, indent: int | None = None) -> str:
    return json.dumps(data, indent=indent, separators=None if indent else (",", ":"))


def _write_json(path: Path, data: Any, indent: int | None = None) -> None:
    _write_text(path, _json_text(data, indent))


def _write_text(path: Path, text: str) -> None:
    """Write to a temporary file and rename it, so a file on disk is always complete."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def run_file(out: Path, run: int) -> Path:
    return out / "runs" / f"run-{run:05d}.json"


def game_file(out: Path, run: int) -> Path:
    return out / "games" / f"run-{run:05d}.json"


def _finished_runs(out: Path, fingerprint: str, total: int) -> set[int]:
    """Runs of this batch already on disk (leftover temporary files from a killed batch are removed)."""
    done: set[int] = set()
    for folder in (out / "runs", out / "games"):
        for tmp in folder.glob(".run-*.tmp"):
            tmp.unlink(missing_ok=True)
    for path in sorted((out / "runs").glob("run-*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        run = record.get("run")
        if record.get("fingerprint") == fingerprint and isinstance(run, int) and 0 <= run < total \
                and path == run_file(out, run) and game_file(out, run).exists():
            done.add(run)
    return done


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    from sim import __version__

    out = {"sim": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for package in ("mesa", "scipy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            out[package] = "unknown"
    return out


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _check_out(out: Path, fingerprint: str) -> dict[str, Any] | None:
    """Refuse a folder that holds another batch's runs; return its manifest if it holds this batch's."""
    path = out / "manifest.json"
    if path.exists():
        try:
            manifest = json.loads(path.read_text())
        except ValueError:
            raise BatchError(f"{path} is not a batch manifest; use an empty --out folder") from None
        if manifest.get("fingerprint") != fingerprint:
            sc = manifest.get("scenario", {})
            seeding = manifest.get("parameters", {}).get("seeding", {})
            raise BatchError(
                f"{out} holds another batch (scenario {sc.get('id')}, seed {seeding.get('root_seed')}, "
                f"{seeding.get('runs')} runs, fingerprint {manifest.get('fingerprint')}; this one is {fingerprint}); "
                "use a new --out folder, or repeat that batch's exact command to resume it")
        return manifest
    if any((out / "runs").glob("run-*.json")):
        raise BatchError(f"{out}/runs holds run files but no manifest.json; use an empty --out folder")
    return None


# ---------------------------------------------------------------------------------------------- executors
class _InlineExecutor(Executor):
    """Runs each job in this process when it is submitted: one worker, no pool start-up, same code path."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _worker_init() -> None:
    """Workers ignore Ctrl-C: the parent decides what to keep and stops them itself."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    quiet_gc()


def quiet_gc() -> None:
    """Collect garbage less often while games are played: about 7 % less CPU per run (a game makes many short-lived
    arrays and few cycles). The code and data loaded so far are frozen out of the collector's scans. Results do
    not change: nothing in the engine depends on when garbage is collected."""
    import gc

    import sim.ai  # noqa: F401  (loaded now, so that it is frozen with the rest)
    import sim.model  # noqa: F401

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class _Pool:
    """The executor for a batch: in-process, a local process pool, or a Dask cluster's executor."""

    def __init__(self, workers: int | None, scheduler: str | None):
        self.client = None
        if scheduler:
            try:
                from distributed import Client
            except ImportError:
                raise BatchError(f"--scheduler needs Dask: {CLUSTER_HINT}") from None
            try:
                self.client = Client(scheduler, timeout="10s")
            except Exception as exc:
                raise BatchError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
            self.executor: Executor = self.client.get_executor(pure=False)
            self.window = 2 * max(1, sum(self.client.nthreads().values()))
        elif (workers or os.cpu_count() or 1) == 1:
            self.executor = _InlineExecutor()
            self.window = 1
        else:
            import multiprocessing

            n = workers or os.cpu_count() or 1
            self.executor = ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_worker_init)
            self.window = 2 * n

    def close(self, abort: bool = False) -> None:
        if isinstance(self.executor, ProcessPoolExecutor):
            workers = list((getattr(self.executor, "_processes", None) or {}).values())
            self.executor.shutdown(wait=not abort, cancel_futures=abort)
            if abort:  # stop the runs in progress now rather than wait for them; these are our own workers
                for proc in workers:
                    proc.terminate()
                for proc in workers:
                    proc.join(5)
        else:
            self.executor.shutdown(wait=not abort)
        if self.client is not None:
            self.client.close()


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM stops a batch the way Ctrl-C does (finished runs kept, one line said)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# ---------------------------------------------------------------------------------------------- a batch
def check_options(*, workers: int | None = None, snapshot_every: int = 1, fmt: str = "csv",
                  scheduler: str | None = None) -> None:
    """Refuse impossible options before anything is written or started."""
    if workers is not None and workers < 1:
        raise BatchError(f"--workers must be at least 1, got {workers}")
    if snapshot_every < 1:
        raise BatchError(f"--snapshot-every must be at least 1, got {snapshot_every}")
    require_format(fmt)
    if scheduler:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise BatchError(f"--scheduler needs Dask: {CLUSTER_HINT}") from None


@dataclass
class BatchResult:
    """What a finished batch call did, for the command's closing line and for callers such as the benchmark."""

    out: Path
    total: int
    ran: int  # runs played by this call (the others were already on disk)
    seconds: float
    data: BatchData


def _tasks(plan: BatchPlan, fingerprint: str, runs: list[int]) -> Iterator[RunTask]:
    for run in runs:
        point, replicate = plan.locate(run)
        yield RunTask(plan.scenario_path, run, point, plan.root_seed, replicate, plan.run_parameters(run),
                      fingerprint, plan.scenario_hash)


def _save(out: Path, result: dict[str, Any]) -> None:
    run = result["run"]
    _write_text(game_file(out, run), result["game"])
    _write_text(run_file(out, run), result["record"])  # last: its presence marks the run as finished


def run_batch(plan: BatchPlan, out: Path, *, workers: int | None = None, scheduler: str | None = None,
              snapshot_every: int = 1, fmt: str = "csv", command: str = "", plots: bool = True,
              progress: bool = True, on_run: Callable[[int, int], None] | None = None) -> BatchResult:
    """Play every run of ``plan`` not yet in ``out``, writing the tables as runs finish, then summary and plots.

    ``on_run(run, finished)`` is called after each run is saved (tests use it to interrupt a batch).
    Raises BatchInterrupted on Ctrl-C or SIGTERM, BatchError for a request that cannot be carried out.
    """
    from sim.model import WargameModel

    check_options(workers=workers, snapshot_every=snapshot_every, fmt=fmt, scheduler=scheduler)
    fingerprint = plan.fingerprint()
    _check_out(out, fingerprint)
    reference = WargameModel(plan.scenario_path, seed=0, params=plan.run_parameters(0))  # checks the scenario
    for folder in (out / "runs", out / "games"):
        folder.mkdir(parents=True, exist_ok=True)
    manifest = {"format": MANIFEST_FORMAT, "version": 1, "kind": "batch", "fingerprint": fingerprint,
                "scenario": {"id": plan.scenario_id, "path": plan.scenario_path, "hash": plan.scenario_hash},
                "parameters": plan.to_manifest(), "root_seed": plan.root_seed, "runs": plan.total,
                "snapshot_every": snapshot_every, "format_tables": fmt, "versions": versions(),
                "command": command, "started": _now(), "finished": None}
    _write_json(out / "manifest.json", manifest, indent=1)

    done = _finished_runs(out, fingerprint, plan.total)
    todo = [r for r in range(plan.total) if r not in done]
    tables = TableWriter(out, parameter_names=plan.parameter_names, hexes=hex_rows(reference), fmt=fmt,
                         snapshot_every=snapshot_every)
    on_disk = set(done)
    tabled = 0

    def saved(run: int | None = None) -> None:
        """Add to the tables every run now on disk whose predecessors all are (records as read back from disk)."""
        nonlocal tabled
        if run is not None:
            on_disk.add(run)
        while tabled < plan.total and tabled in on_disk:
            tables.add(json.loads(run_file(out, tabled).read_text()))
            tabled += 1

    t0 = time.perf_counter()
    try:
        _play_runs(plan, out, fingerprint, todo, len(done), workers, scheduler, progress, on_run, saved)
        saved()
    except BaseException:
        tables.close(commit=False)
        raise
    seconds = time.perf_counter() - t0
    data = tables.close()
    data.scenario_id = plan.scenario_id
    if plots:
        from sim.batch.plots import write_plots, write_summary

        write_summary(out / "summary.json", data, plan)
        write_plots(out / "plots", data, plan)
    manifest["finished"] = _now()
    _write_json(out / "manifest.json", manifest, indent=1)
    return BatchResult(out, plan.total, len(todo), seconds, data)


def _play_runs(plan: BatchPlan, out: Path, fingerprint: str, todo: list[int], finished: int, workers: int | None,
               scheduler: str | None, progress: bool, on_run: Callable[[int, int], None] | None,
               on_saved: Callable[[int], None]) -> None:
    """Play the runs ``todo`` on the pool, saving each as it finishes and telling ``on_saved`` its number."""
    from tqdm import tqdm

    if todo:
        pool = _Pool(workers, scheduler)
        tasks = _tasks(plan, fingerprint, todo)
        inflight: dict[Future, RunTask] = {}
        bar = tqdm(total=plan.total, initial=finished, unit="run", desc=plan.scenario_id, disable=None if progress
                   else True, smoothing=0.1, dynamic_ncols=True)
        try:
            with _sigterm_as_interrupt():
                while True:
                    while len(inflight) < pool.window and (task := next(tasks, None)) is not None:
                        inflight[pool.executor.submit(run_task, task)] = task
                    if not inflight:
                        break
                    ready, _ = wait(inflight, return_when=FIRST_COMPLETED)
                    for future in ready:
                        task = inflight.pop(future)
                        try:
                            result = future.result()
                        except Exception as exc:
                            raise RuntimeError(f"run {task.run} (seed index {task.seed_index}, parameters "
                                               f"{task.parameters}) failed: {exc!r}") from exc
                        _save(out, result)
                        on_saved(result["run"])
                        finished += 1
                        bar.update(1)
                        if on_run is not None:
                            on_run(result["run"], finished)
        except KeyboardInterrupt:
            bar.close()
            pool.close(abort=True)
            kept = len(_finished_runs(out, fingerprint, plan.total))
            raise BatchInterrupted(out, kept, plan.total) from None
        except BaseException:
            bar.close()
            pool.close(abort=True)
            raise
        bar.close()
        pool.close()


# ---------------------------------------------------------------------------------------------- single runs
def replay_task(batch_dir: Path, index: int, scenario: str) -> RunTask:
    """The task of run ``index`` of the batch in ``batch_dir``: its seed and parameters, from the manifest."""
    from sim.scenario import find_scenario, scenario_hash

    path = batch_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except OSError:
        raise BatchError(f"no batch manifest in {batch_dir} (expected {path})") from None
    except ValueError:
        raise BatchError(f"{path} is not a batch manifest (not JSON)") from None
    if manifest.get("format") != MANIFEST_FORMAT or manifest.get("kind") != "batch":
        raise BatchError(f"{path} is not the manifest of a `wargame batch`")
    params = manifest["parameters"]
    seeding = params["seeding"]
    if not 0 <= index < seeding["runs"]:
        raise BatchError(f"--index must be 0 to {seeding['runs'] - 1} for the batch in {batch_dir}, got {index}")
    scenario_path = find_scenario(scenario)
    if scenario_hash(scenario_path) != manifest["scenario"]["hash"]:
        raise BatchError(f"scenario {scenario} is not the one the batch in {batch_dir} ran "
                         f"({manifest['scenario']['id']}, {manifest['scenario']['path']}): its file hash differs")
    point, replicate = divmod(index, seeding["replicates"])
    return RunTask(str(Path(scenario_path).resolve()), index, point, seeding["root_seed"], replicate,
                   {**params["base"], **params["points"][point]}, manifest["fingerprint"], manifest["scenario"]["hash"])


def single_task(scenario: str, seed: int, overrides: dict[str, Any] | None = None) -> RunTask:
    """The task of one game seeded with ``seed`` itself (`wargame run --seed N`), its parameters checked."""
    from sim.params import check_value, parameter_specs, resolve
    from sim.scenario import find_scenario, parse_scenario, scenario_hash

    if seed < 0:
        raise BatchError(f"--seed must be 0 or more, got {seed}")
    path = find_scenario(scenario)
    sc = parse_scenario(path)
    overrides = dict(overrides or {})
    resolve({**sc.parameters, **overrides})
    specs = parameter_specs()
    params = {name: check_value(specs[name], value) for name, value in overrides.items()}
    return RunTask(str(Path(path).resolve()), 0, 0, seed, None, params, "", scenario_hash(path))


def run_single(task: RunTask, out: Path, *, fmt: str = "csv", snapshot_every: int = 1, command: str = "",
               from_batch: str | None = None):
    """Play one run and write the batch tables for it (a batch of one), its save, events and outcome."""

    check_options(snapshot_every=snapshot_every, fmt=fmt)
    kind = None
    with contextlib.suppress(ValueError, OSError, AttributeError):
        kind = json.loads((out / "manifest.json").read_text()).get("kind")
    if kind == "batch":
        raise BatchError(f"{out} holds a batch; choose another --out folder for a single run")
    started = _now()
    model, record = play(task, record_events=True)  # its events are written out below
    seeding = {"root_seed": task.root_seed, "seed_index": task.seed_index,
               "rule": "SeedSequence(root_seed)" if task.seed_index is None else
               "SeedSequence(root_seed, spawn_key=(seed_index,)), as run of the batch it comes from"}
    manifest = {"format": MANIFEST_FORMAT, "version": 1, "kind": "run", "fingerprint": task.fingerprint or None,
                "scenario": {"id": model.scenario.id, "path": task.scenario_path, "hash": task.scenario_hash},
                "parameters": {"base": task.parameters, "seeding": seeding}, "from_batch": from_batch,
                "run": task.run, "root_seed": task.root_seed, "runs": 1, "snapshot_every": snapshot_every,
                "format_tables": fmt, "versions": versions(), "command": command, "started": started,
                "finished": None}
    write_tables(out, [record], parameter_names=list(task.parameters), hexes=hex_rows(model), fmt=fmt,
                 snapshot_every=snapshot_every)
    _write_json(out / "game.json", game_save(model, task), indent=1)
    with open(out / "events.jsonl", "w") as fh:
        fh.writelines(json.dumps(ev.to_dict()) + "\n" for turn in model.history for ev in turn)
    _write_json(out / "outcome.json", model.outcome, indent=1)
    manifest["finished"] = _now()
    _write_json(out / "manifest.json", manifest, indent=1)
    return model


# ---------------------------------------------------------------------------------------------- benchmark
def batch_throughput(scenario: str = "pokrovsk-axis-2024", runs: int = 8, workers: int = 2,
                     seed: int = 0) -> dict[str, float]:
    """What a batch costs, split into the fixed part and the part each run adds.

    Two whole batches (pool start-up, runs and tables; no plots) are timed: one run per worker, then ``runs``
    runs. Their difference is the cost of the extra runs alone, so the projection for a long batch is not
    weighed down by start-up, nor flattered by leaving it out. Also the mean number of turns a run played (a game
    can end early, which makes runs cheaper).
    """

    def timed(n: int) -> tuple[float, float]:
        plan = make_plan(scenario, runs=n, seed=seed)
        with tempfile.TemporaryDirectory(prefix="wargame-bench-") as tmp:
            t0 = time.perf_counter()
            run_batch(plan, Path(tmp), workers=workers, plots=False, progress=False)
            seconds = time.perf_counter() - t0
            with open(Path(tmp) / "timeseries.csv", newline="") as fh:
                rows = sum(1 for _ in csv.DictReader(fh))
        return seconds, rows / n - 1.0  # the table also holds each run's start

    small = max(1, workers)
    runs = max(runs, small + 1)
    t_small, _ = timed(small)
    t_all, turns = timed(runs)
    per_run = max(t_all - t_small, 1e-9) / (runs - small)  # wall seconds each further run adds, workers busy
    return {"runs_per_min": runs * 60.0 / t_all, "marginal_runs_per_min": 60.0 / per_run,
            "fixed_s": max(t_small - small * per_run, 0.0), "turns_per_run": turns,
            "min_for_1000": (t_small + (1000 - small) * per_run) / 60.0}
