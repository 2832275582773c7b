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


def cmd_calibrate(args) -> int:
    import json

    from sim.calibrate import TargetsMissing, fit, load_targets, report

    out = Path(args.out)
    _writable(out)
    figures = out / "calibration"
    figures.mkdir(parents=True, exist_ok=True)
    if args.report_from:
        try:
            cal = fit.from_json(json.loads(Path(args.report_from).read_text(encoding="utf-8")))
        except OSError as exc:
            raise UserError(f"cannot read {args.report_from}: {exc.strerror}") from None
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{args.report_from} is not a calibration's results.json ({type(exc).__name__}: "
                            f"{exc}); write one with `wargame calibrate --out DIR`") from None
    else:
        for flag in ("samples", "runs", "final_runs", "refine"):
            if getattr(args, flag) < 1:
                raise UserError(f"--{flag.replace('_', '-')} must be at least 1, got {getattr(args, flag)}")
        if args.workers is not None and args.workers < 1:
            raise UserError(f"--workers must be at least 1, got {args.workers}")
        try:
            targets = load_targets()
        except TargetsMissing as exc:
            raise UserError(str(exc)) from None
        cal = fit.calibrate(targets, samples=args.samples, runs=args.runs, final_runs=args.final_runs,
                            refine=args.refine, workers=args.workers or os.cpu_count() or 1, seed=args.seed,
                            weeks=args.weeks, cache=figures / "stages", log=lambda line: print(line, flush=True))
        cal.budget["command"] = " ".join(["wargame calibrate", *(sys.argv[2:] if sys.argv[1:2] == ["calibrate"]
                                                                   else [])])
        (figures / "results.json").write_text(json.dumps(fit.to_json(cal), indent=1))
    md = report.write_report(cal, out, command=cal.budget.get("command", "wargame calibrate"))
    print(f"wrote {md} and figures in {figures}")
    if args.apply:
        for line in report.apply_fitted(cal, label=args.label):
            print(line)
    return 0


def cmd_bench(args) -> int:
    from sim.bench import run_bench

    for name, value, unit in run_bench(quick=args.quick):
        print(f"{name}: {value} {unit}")
    return 0


def cmd_play(args) -> int:
    if args.screenshot is None and not _has_display():
        print("No display found (DISPLAY/WAYLAND_DISPLAY unset), so the game window cannot open; headless: "
              "`wargame play SCENARIO --screenshot shot.png`, `wargame run SCENARIO --seed 1 --out runs/one`.")
        return 0
    _headless_if_needed()
    from sim.saves import SaveError, model_from_save, read_save

    model = None
    side = args.side
    try:
        if args.load:
            data = read_save(args.load)
            model = model_from_save(data)
            side = data.get("side") or side
            args.difficulty = args.difficulty or data.get("difficulty")
        elif args.batch is not None:
            if args.index is None:
                raise UserError("--batch needs --index I, the run of the batch to open")
            path = Path(args.batch) / "games" / f"run-{args.index:05d}.json"
            model = model_from_save(read_save(path), upto=args.turns if args.screenshot is None else None)
    except SaveError as exc:
        raise UserError(str(exc)) from None
    difficulty = args.difficulty or "normal"
    if args.screenshot is not None:
        from sim.ui.game import screenshot

        shot_side = "ua" if side == "both" else side
        turns = 0 if args.batch is not None else (args.turns or 0)
        out = screenshot(args.scenario or "pokrovsk-axis-2024", shot_side, args.screenshot, turns=turns,
                         seed=args.seed, difficulty=difficulty, model=model)
        print(f"wrote {out} ({shot_side} player's view after turn {turns if model is None else model.turn})")
        return 0
    from sim.ui.game import run_game

    return run_game(args.scenario if model is None else None, side=side, difficulty=difficulty, seed=args.seed,
                    model=model, save_path=args.load, white_cell=args.white_cell)


def cmd_report(args) -> int:
    import datetime as dt

    from sim.classroom.claims import ClaimsError
    from sim.classroom.report import ReportError, build_report
    from sim.saves import SaveError

    dates = None
    if args.dates:
        try:
            dates = [dt.date.fromisoformat(d.strip()) for d in args.dates.split(",") if d.strip()]
        except ValueError:
            raise UserError(f"--dates must be YYYY-MM-DD,YYYY-MM-DD,..., got {args.dates!r}") from None
    out = Path(args.out)
    if not out.parent.exists():
        raise UserError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        path = build_report(args.game, out, batch_dir=args.batch, dates=dates, claims_path=args.claims,
                            analyst_path=args.analyst)
    except (ReportError, SaveError, ClaimsError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def cmd_facilitate(args) -> int:
    from sim.classroom.injects import InjectError, apply_inject, parse_inject
    from sim.classroom.timeline import play_on, rewind
    from sim.model import WargameModel
    from sim.saves import SaveError, load_game, save_game

    source = Path(args.save)
    target = source / "game.json" if source.is_dir() else source
    if args.new is not None and args.out is None:
        raise UserError("--new needs --out FILE, where the new game's save goes")
    try:
        model = WargameModel(args.new, seed=args.seed) if args.new is not None else load_game(source)
        # turns are numbered from 1 as the game window's top bar shows them; the model counts from 0
        if args.rewind is not None:
            if args.rewind < 1:
                raise UserError(f"--rewind takes a turn number from 1 (the first turn), got {args.rewind}")
            model = rewind(model, args.rewind - 1)
            print(f"rewound to the start of turn {model.turn + 1} ({model.date})")
        for text in args.inject or []:
            inj = parse_inject(text, model.turn)
            apply_inject(model, inj)
            print(f"turn {model.turn + 1} ({model.date}): {model.inject_events[-1].text}")
        if args.play:
            play_on(model, args.play)
            print(f"played {args.play} turn(s) with the AI on both sides: now at the start of turn {model.turn + 1} "
                  f"({model.date})")
    except (InjectError, SaveError) as exc:
        raise UserError(str(exc)) from None
    out = Path(args.out) if args.out else target
    save_game(model, out)
    print(f"wrote {out}")
    return 0


def _has_display() -> bool:
    """A window can open: an X or Wayland display on Linux; elsewhere (macOS, Windows) assume a desktop."""
    if sys.platform != "linux":
        return os.environ.get("SDL_VIDEODRIVER") != "dummy"
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _headless_if_needed() -> None:
    """Use SDL's dummy video driver when there is no display; the game never plays sound."""
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
    p.add_argument("--side", choices=["ru", "ua", "both"], default="ua", help="your side; both = hotseat")
    p.add_argument("--load", metavar="SAVE", help="continue a saved game (saves/quick.json is F5's)")
    p.add_argument("--difficulty", choices=["easy", "normal", "hard"], help="AI difficulty (default normal)")
    p.add_argument("--seed", type=int, default=0, help="the game's seed")
    p.add_argument("--screenshot", metavar="FILE", help="headless: play --turns AI turns, save the screen, exit")
    p.add_argument("--turns", type=int, metavar="N", help="with --screenshot: AI turns to play first; "
                   "with --batch: open the run at turn N (to branch it)")
    p.add_argument("--batch", metavar="DIR", help="open run --index of the batch in DIR")
    p.add_argument("--index", type=int, metavar="I", help="with --batch: the run to open")
    p.add_argument("--white-cell", action="store_true",
                   help="start in the facilitator's White Cell mode (paused, fog off, injects, rewind; F2 leaves)")
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

    p = sub.add_parser("report", help="the after-action review of a saved game as one self-contained HTML file")
    p.add_argument("game", help="a game save (game.json) or a `wargame run` output folder")
    p.add_argument("--out", required=True, metavar="FILE.html")
    p.add_argument("--batch", metavar="DIR", help="a `wargame batch` folder of the same scenario to compare with")
    p.add_argument("--dates", metavar="D1,D2,...", help="dates of the big maps (default: start, middle, end)")
    p.add_argument("--claims", metavar="FILE", help="the sides' public claims (CSV side,place,date or TOML)")
    p.add_argument("--analyst", metavar="FILE", help="the analysts' map (CSV place,holder,date or TOML)")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("facilitate", help="White Cell: apply injects to a saved game between turns",
                       description="Load a save, apply injects at the current turn, optionally play on with the "
                                   "AI, and write the save back (or to --out). Injects: weather=fog, "
                                   "reinforce:type=T,at=PLACE[,personnel=N], hold_back:id=ID[,turns=N], "
                                   "ceasefire:at=PLACE,radius=R,turns=N, surge:side=ru,at=PLACE,personnel=N, "
                                   "drone_shortage:side=ua,factor=0.5,turns=N")
    p.add_argument("save", nargs="?", default="", help="a game save (game.json) or a `wargame run` output folder")
    p.add_argument("--new", metavar="SCENARIO", help="start a new game of SCENARIO instead (needs --out)")
    p.add_argument("--seed", type=int, default=0, help="with --new: the game's seed (default 0)")
    p.add_argument("--rewind", type=int, metavar="T", help="first go back to the start of turn T, numbered from 1 as the game shows it (a branch)")
    p.add_argument("--inject", action="append", metavar="KIND:ARGS", help="an inject (repeatable)")
    p.add_argument("--play", type=int, metavar="N", help="then play N turns with the AI on both sides")
    p.add_argument("--out", metavar="FILE", help="write the save here instead of over the input")
    p.set_defaults(func=cmd_facilitate)

    p = sub.add_parser("calibrate", help="fit the uncertain parameters to the 2024-25 area series and town falls",
                       description="Latin-hypercube search of the uncertain rule parameters against DeepState's "
                                   "occupied area and town-fall dates (../shared/calibration), a re-run of the best "
                                   "points, a final batch at the fitted values, and the report docs/calibration.md.")
    p.add_argument("--samples", type=int, default=96, metavar="K", help="points of the Latin hypercube (default 96)")
    p.add_argument("--runs", type=int, default=4, metavar="R", help="seeds per point in the search (default 4)")
    p.add_argument("--refine", type=int, default=6, metavar="N", help="best points re-run with 4R seeds (default 6)")
    p.add_argument("--final-runs", type=int, default=200, metavar="N", help="runs of the final batch (default 200)")
    p.add_argument("--workers", type=int, metavar="W", help="local worker processes (default: all cores)")
    p.add_argument("--seed", type=int, default=2024, metavar="S", help="root seed (default 2024)")
    p.add_argument("--weeks", type=int, metavar="N", help="only the first N weeks of the window (quick checks)")
    p.add_argument("--out", default="docs", metavar="DIR", help="where calibration.md and calibration/ go (docs)")
    p.add_argument("--apply", action="store_true", help="write the fitted values into sim/data/parameters.toml")
    p.add_argument("--label", default="", help="a run label for the fitted notes written by --apply")
    p.add_argument("--report-from", metavar="JSON", help="re-write the report from a saved results.json")
    p.set_defaults(func=cmd_calibrate)

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
