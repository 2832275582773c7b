"""The `wargame` command: play, render the map, validate scenarios, run headless games and benchmarks.

User mistakes (a bad scenario, an unknown parameter, a missing file) end with one clear line and exit code 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sim import __version__

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A mistake in what the user asked for; its message is shown as one line."""


def _overrides(pairs: list[str] | None) -> dict[str, str]:
    from sim.params import parse_assignment

    out = {}
    for text in pairs or []:
        name, value = parse_assignment(text)
        out[name] = value
    return out


def cmd_scenarios(args) -> int:
    from sim.scenario import ScenarioError, installed_scenarios, parse_scenario

    for sid, path in installed_scenarios().items():
        try:
            sc = parse_scenario(path)
            cal = sc.calendar
            print(f"{sid:22s} {sc.scale:11s} {cal.start} +{cal.turns} turns of {cal.turn_days} day(s)  {sc.title}")
        except ScenarioError as exc:
            print(f"{sid:22s} INVALID: {exc.problems[0]}")
    return 0


def cmd_validate(args) -> int:
    from sim.model import WargameModel
    from sim.scenario import ScenarioError, find_scenario, parse_scenario

    status = 0
    for name in args.files:
        try:
            path = find_scenario(name)
            parse_scenario(path)
            WargameModel(path, seed=0)
            print(f"{path}: valid")
        except ScenarioError as exc:
            status = 1
            for problem in exc.problems:
                print(f"{exc.path}: {problem}")
    return status


def cmd_params(args) -> int:
    from sim.params import parameter_specs

    for name, spec in parameter_specs().items():
        if args.grep and args.grep.lower() not in name.lower():
            continue
        rng = "" if spec.low is None else f" [{spec.low}..{spec.high}]"
        print(f"{name} = {spec.default} {spec.unit}{rng}  # {spec.doc}; source: {spec.source}")
    return 0


def cmd_map(args) -> int:
    from sim.geo.hexmap import NAMED_MAPS, load_map

    _headless_if_needed()
    from sim.ui.render import RenderState, render_map_png

    state = None
    title = None
    if args.target in NAMED_MAPS:
        hexmap = load_map(args.target)
        title = f"{args.target} map: {hexmap.width} x {hexmap.height} hexes of {hexmap.spec.hex_km} km"
    else:
        from sim.model import WargameModel

        model = WargameModel(args.target, seed=0)
        hexmap = model.map
        state = _render_state(model, RenderState)
        title = f"{model.scenario.title}: start {model.date}"
    out = render_map_png(hexmap, Path(args.png), width=args.width, state=state, title=title)
    print(f"wrote {out}")
    return 0


def _render_state(model, state_cls):
    from sim.ui.render import UnitMarker

    units = [UnitMarker(u.hex, u.side, u.utype.symbol, u.utype.size, min(1.0, u.personnel / max(u.utype.personnel, 1)),
                      u.uid) for u in model.units.values() if u.alive]
    return state_cls(control=model.control.copy(), units=units)


def cmd_run(args) -> int:
    from sim.batch import BatchError, replay_task, run_single, single_task

    out = Path(args.out)
    try:
        if args.from_batch is not None:
            if args.index is None:
                raise UserError("--from-batch needs --index I, the run of the batch to replay")
            if args.seed is not None or args.set:
                raise UserError("with --from-batch the seed and parameters come from the batch; leave out --seed "
                                "and --set")
            task = replay_task(Path(args.from_batch), args.index, args.scenario)
        else:
            if args.index is not None:
                raise UserError("--index needs --from-batch DIR, the batch the run belongs to")
            task = single_task(args.scenario, 0 if args.seed is None else args.seed, _overrides(args.set))
        _writable(out)
        model = run_single(task, out, fmt=args.format, snapshot_every=args.snapshot_every,
                           command=_command(args, "run"), from_batch=args.from_batch)
    except BatchError as exc:
        raise UserError(str(exc)) from None
    o = model.outcome or {}
    seed = f"seed {task.root_seed}" if task.seed_index is None else f"run {task.run} of {args.from_batch}"
    print(f"{model.scenario.id} {seed}: {o.get('result')} on {o.get('date')} ({o.get('reason')}); "
          f"outputs in {out}")
    return 0


def cmd_batch(args) -> int:
    from sim.batch import BatchError, BatchInterrupted, check_options, make_plan, run_batch

    out = Path(args.out)
    try:
        plan = make_plan(args.scenario, runs=args.runs, seed=args.seed, sets=args.set, sweeps=args.sweep,
                         design=args.design, ranges=args.range, samples=args.samples)
        check_options(workers=args.workers, snapshot_every=args.snapshot_every, fmt=args.format,
                      scheduler=args.scheduler)
        _writable(out)
        result = run_batch(plan, out, workers=args.workers, scheduler=args.scheduler,
                           snapshot_every=args.snapshot_every, fmt=args.format, command=_command(args, "batch"))
    except BatchError as exc:
        raise UserError(str(exc)) from None
    except BatchInterrupted as exc:
        print(str(exc), file=sys.stderr)
        return 130
    shares = ", ".join(f"{k} {v * 100:.0f} %" for k, v in sorted(
        ((r, result.data.results.count(r) / result.total) for r in set(result.data.results)), key=lambda kv: -kv[1]))
    rate = f", {result.ran * 60 / result.seconds:.1f} runs/min" if result.ran and result.seconds > 0 else ""
    print(f"{result.total} runs of {plan.scenario_id} in {out} ({result.ran} played now{rate}): {shares}")
    return 0


def _command(args, name: str) -> str:
    """The command as given, rebuilt from the parsed arguments (the same however `wargame` was started)."""
    import shlex

    parts = ["wargame", name, args.scenario]
    for flag in ("runs", "seed", "workers", "out", "from_batch", "index", "design", "samples", "snapshot_every",
                 "format", "scheduler"):
        value = getattr(args, flag, None)
        if value is not None:
            parts += [f"--{flag.replace('_', '-')}", str(value)]
    for flag in ("set", "sweep", "range"):
        for value in getattr(args, flag, None) or []:
            parts += [f"--{flag}", value]
    return shlex.join(parts)


def cmd_bench(args) -> int:
    from sim.bench import run_bench

    for name, value, unit in run_bench(quick=args.quick):
        print(f"{name}: {value} {unit}")
    return 0


def cmd_play(args) -> int:
    if not _has_display():
        print("No display found (DISPLAY/WAYLAND_DISPLAY unset), so the game window cannot open; headless: "
              "`wargame map SCENARIO --png map.png`, `wargame run SCENARIO --seed 1 --out runs/one`.")
        return 0
    from sim.ui.viewer import run_viewer

    return run_viewer(args.scenario or "pokrovsk-axis-2024", side=args.side)


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) or \
        os.environ.get("SDL_VIDEODRIVER") not in (None, "", "dummy") and sys.platform != "linux"


def _headless_if_needed() -> None:
    if not _has_display():
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def _writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"cannot write to output folder {out}: {exc.strerror}") from None


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="wargame", description="A wargame of the fight for Pokrovsk and western Donetsk.")
    ap.add_argument("--version", action="version", version=f"wargame {__version__}")
    sub = ap.add_subparsers(dest="command", required=True)

    p = sub.add_parser("play", help="play a scenario in a window (needs a display)")
    p.add_argument("scenario", nargs="?")
    p.add_argument("--side", choices=["ru", "ua", "both"], default="ua")
    p.add_argument("--load")
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("map", help="render a map or a scenario's start to PNG, headless")
    p.add_argument("target", help="a map name (operational, tactical) or a scenario id/file")
    p.add_argument("--png", required=True)
    p.add_argument("--width", type=int, default=1600)
    p.set_defaults(func=cmd_map)

    p = sub.add_parser("scenarios", help="list installed scenarios")
    p.set_defaults(func=cmd_scenarios)

    p = sub.add_parser("validate", help="check scenario files; one line per problem")
    p.add_argument("files", nargs="+")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("params", help="list every rule and doctrine parameter with unit, default and source")
    p.add_argument("--grep")
    p.set_defaults(func=cmd_params)

    p = sub.add_parser("run", help="one headless AI-against-AI game, written as a batch of one")
    p.add_argument("scenario")
    p.add_argument("--seed", type=int, default=None, help="the game's seed (default 0)")
    p.add_argument("--out", required=True)
    p.add_argument("--set", action="append", metavar="NAME=VALUE")
    p.add_argument("--from-batch", metavar="DIR", help="replay run --index of the batch in DIR, bit for bit")
    p.add_argument("--index", type=int, metavar="I", help="with --from-batch: the run to replay")
    p.add_argument("--format", default="csv", help="csv (default) or parquet")
    p.add_argument("--snapshot-every", type=int, default=1, metavar="K", help="write control every K turns")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("batch", help="many seeded headless games in parallel: tables, summary and plots",
                       description="Play RUNS seeded AI-against-AI games per parameter point, in parallel; "
                                   "start the same command again to resume an interrupted batch.")
    p.add_argument("scenario", help="a scenario id (`wargame scenarios`) or a .toml file")
    p.add_argument("--runs", type=int, required=True, metavar="N", help="runs per parameter point")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="root seed; run r uses SeedSequence(S).spawn(N)[r]")
    p.add_argument("--workers", type=int, metavar="W", help="local worker processes (default: all cores)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder; the same folder and command resume a batch")
    p.add_argument("--set", action="append", metavar="NAME=VALUE", help="a parameter for every run")
    p.add_argument("--sweep", action="append", metavar="NAME=V1,V2,...", help="a grid of values (repeatable)")
    p.add_argument("--design", metavar="lhs|sobol", help="a Latin-hypercube or Sobol design over --range")
    p.add_argument("--range", action="append", metavar="NAME=LO:HI", help="an interval for --design")
    p.add_argument("--samples", type=int, metavar="K", help="points of the --design")
    p.add_argument("--snapshot-every", type=int, default=1, metavar="K", help="write control every K turns")
    p.add_argument("--format", default="csv", help="csv (default) or parquet")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler (tcp://host:8786)")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("bench", help="benchmarks: turn cost against the mesa floor, AI turn, map build")
    p.add_argument("--quick", action="store_true")
    p.set_defaults(func=cmd_bench)
    return ap


def main(argv: list[str] | None = None) -> int:
    from sim.orders import IllegalOrder
    from sim.params import ParameterError
    from sim.scenario import ScenarioError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ScenarioError as exc:
        for problem in exc.problems:
            print(f"error: {exc.path}: {problem}", file=sys.stderr)
        return EXIT_USER_ERROR
    except (ParameterError, IllegalOrder, UserError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
