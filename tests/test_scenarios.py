"""The shipped scenarios, their derived start states, and the messages a broken scenario gets.

1. Every scenario in scenarios/ builds, has what a scenario needs (briefings, objectives, supply, works...), runs to
   its end with no orders and with the AI on both sides, and stays within the unit budget.
2. The start state of each historical scenario agrees with the DeepStateMap snapshot it was derived from (recomputed
   here from ../shared/geo/frontlines), and the committed start files are what tools/derive_starts.py makes.
3. Every order-of-battle figure and date in the scenario files carries a source or an (A) in a comment.
4. The tutorial's walk-through orders are legal.
5. Broken scenarios: one kind of mistake per case, built from tests/broken_scenarios/base.toml. Each must raise
   ScenarioError (never a traceback) with a line naming the field path and what was expected, and
   `wargame validate` must print one line per problem and exit non-zero.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sim.model import WargameModel
from sim.scenario import ScenarioError, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
SHARED = ROOT.parent / "shared"
FRONTLINES = SHARED / "geo" / "frontlines"
BROKEN = Path(__file__).resolve().parent / "broken_scenarios"
BASE = BROKEN / "base.toml"

IDS = ["tutorial", "pokrovsk-axis-2024", "pokrovsk-2025", "fortress-belt-2026"]
# scenario id -> the DeepStateMap snapshot its start control is derived from
SNAPSHOTS = {
    "tutorial": "occupied_20251101.geojson",
    "pokrovsk-axis-2024": "occupied_20240708.geojson",
    "pokrovsk-2025": "occupied_20251101.geojson",
    "fortress-belt-2026": "occupied_20260822.geojson",
}
HISTORICAL = ["pokrovsk-axis-2024", "pokrovsk-2025", "fortress-belt-2026"]
MAX_UNITS = 250  # performance budget, units including reinforcements

needs_shared = pytest.mark.skipif(not FRONTLINES.exists(), reason="../shared/geo/frontlines is not beside the project")


def path_of(sid: str) -> Path:
    return SCENARIOS / f"{sid}.toml"


# ================================================================================================ shipped scenarios
def test_every_scenario_file_is_tested():
    assert sorted(p.stem for p in SCENARIOS.glob("*.toml")) == sorted(IDS)


@pytest.mark.parametrize("sid", IDS)
def test_scenario_is_complete(sid):
    sc = parse_scenario(path_of(sid))
    assert sc.id == sid
    assert sc.title and len(sc.description) > 200
    assert sc.start.control == f"start/{sid}.csv"
    assert set(sc.briefing) == {"ru", "ua"}
    for b in sc.briefing.values():
        assert b.command and len(b.situation) > 100 and len(b.mission) > 100
    assert sc.sides.ru.name and sc.sides.ua.name
    assert sc.fortifications and sc.objectives and sc.victory.sudden_death
    assert sc.supply.ru and sc.supply.ua
    for side in ("ru", "ua"):
        assert any(u.side == side for u in sc.units), f"{sid}: no {side} units"
    assert len(sc.units) + len(sc.reinforcements) <= MAX_UNITS


def test_scenario_shapes():
    """The calendars and maps the brief asked for."""
    tut, axis, tac, belt = (parse_scenario(path_of(s)) for s in IDS)
    assert tut.calendar.turns <= 12 and len(tut.units) <= 14
    assert axis.map.base == "operational" and axis.calendar.turn_days == 7
    assert str(axis.calendar.start) == "2024-07-08" and str(axis.calendar.end) == "2026-08-31"
    assert tac.map.base == "tactical" and tac.calendar.turn_days == 1 and tac.calendar.phases == ["night", "day"]
    assert str(tac.calendar.start) == "2025-11-01" and str(tac.calendar.end) == "2026-02-01"
    assert tac.start.presence and sum(p.personnel for p in tac.start.presence) >= 200  # notes §1.2: 200-300
    fog = tac.weather.fog
    assert min(fog[10], fog[11], fog[0]) > max(fog[4:8])  # more fog Nov-Jan than in summer
    assert belt.map.base == "operational" and str(belt.calendar.start) == "2026-08-22"
    assert 26 <= belt.calendar.turns <= 52 and "hypothetical" in belt.description.lower()
    names = {o.name for o in axis.objectives}
    assert {"Pokrovsk", "Myrnohrad", "Selydove", "Kurakhove", "Kostiantynivka"} <= names
    assert any(o.kind == "road" for o in axis.objectives) and any(o.kind == "mine" for o in axis.objectives)
    assert {"Kostiantynivka", "Druzhkivka", "Kramatorsk", "Sloviansk"} <= {o.name for o in belt.objectives}
    assert any(f.level == 3 for f in belt.fortifications) and any(f.level == 2 and f.line for f in belt.fortifications)
    assert {r.side for r in axis.replacements} == {"ru", "ua"}
    assert axis.sides.ru.main_effort[:2] == ["Novohrodivka", "Selydove"]
    assert axis.sides.ru.supporting_efforts == [["Vuhledar", "Dachne (Kurakhove)", "Velyka Novosilka"]]  # notes §1.10


@pytest.mark.parametrize("sid", IDS)
def test_runs_to_its_end_without_orders(sid):
    m = WargameModel(path_of(sid), seed=1)
    t0 = time.perf_counter()
    m.run()
    assert m.over and m.outcome is not None
    assert m.turn == m.scenario.calendar.turns or m.outcome["level"] == "decisive"
    assert len(m.units) <= MAX_UNITS
    print(f"{sid}: {m.turn} turns without orders in {time.perf_counter() - t0:.1f}s: {m.outcome['result']}")


@pytest.mark.slow
@pytest.mark.parametrize("sid", IDS)
def test_runs_to_its_end_with_the_ai_on_both_sides(sid):
    from sim.ai import commanders_for

    m = WargameModel(path_of(sid), seed=1)
    t0 = time.perf_counter()
    m.run(commanders=commanders_for(m))
    assert m.over and m.outcome is not None
    assert m.turn == m.scenario.calendar.turns or m.outcome["level"] == "decisive"
    orders = sum(len(turn) for turn in m.order_log)
    assert orders > m.turn  # the AI actually played
    print(f"{sid}: {m.turn} AI turns in {time.perf_counter() - t0:.1f}s, {orders} orders: {m.outcome['result']}")


# ================================================================================================ start states
def side_of(control: np.ndarray) -> np.ndarray:
    """1 Russian-held (>= 0.8), 0 Ukrainian-held (<= 0.2), -1 contested."""
    c = np.asarray(control, dtype=float)
    return np.where(c >= 0.8, 1, np.where(c <= 0.2, 0, -1))


@needs_shared
@pytest.mark.parametrize("sid", HISTORICAL)
def test_start_state_agrees_with_the_front_line(sid):
    from sim.geo.frontline import control_from_geojson

    m = WargameModel(path_of(sid), seed=1)
    truth = side_of(control_from_geojson(m.map, FRONTLINES / SNAPSHOTS[sid]))
    model = side_of(m.control)
    definite = truth >= 0
    agreement = float((model == truth)[definite].mean())
    print(f"{sid}: {agreement:.2%} of {int(definite.sum())} held hexes agree with {SNAPSHOTS[sid]}")
    assert agreement >= 0.95
    assert (truth == 1).sum() > 100 and (truth == 0).sum() > 100  # both sides hold real ground


@needs_shared
def test_start_files_are_what_the_tool_derives(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "derive_starts.py"), "--frontlines", str(FRONTLINES),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=300, cwd=str(ROOT))
    assert out.returncode == 0, out.stderr
    for sid in IDS:
        assert (tmp_path / f"{sid}.csv").read_text() == (SCENARIOS / "start" / f"{sid}.csv").read_text(), sid


# ================================================================================================ sources
SOURCED = re.compile(r"notes §|\(A\)|seeds|geo README|unit_types|assumption|derived", re.IGNORECASE)
FIGURE = re.compile(r"^\s*(\{ id =|personnel\s*=|per_week\s*=|arrive\s*=|by\s*=|start\s*=|\{ side =)")


@pytest.mark.parametrize("sid", IDS)
def test_every_order_of_battle_figure_has_a_source(sid):
    """A figure, strength or date line carries a source or (A) in its own comment or the comment just above."""
    lines = path_of(sid).read_text(encoding="utf-8").splitlines()
    unsourced = []
    for i, line in enumerate(lines):
        if not FIGURE.match(line):
            continue
        comment = line.partition("#")[2] + " " + (lines[i - 1] if lines[i - 1].lstrip().startswith("#") else "")
        if not SOURCED.search(comment):
            unsourced.append(f"line {i + 1}: {line.strip()}")
    assert not unsourced, unsourced


# ================================================================================================ tutorial
def test_tutorial_walk_through_orders_are_legal():
    from sim.orders import Infiltrate, Move, Strike
    from sim.rules.movement import reachable

    m = WargameModel(path_of("tutorial"), seed=1)
    u = m.units
    town = m.map.place_hex("Pokrovsk")
    # turn 1-2: the assault squad comes down the Rodynske road
    start = m.map.distance(u["ua-assault"].hex, town)
    step = min(reachable(m, u["ua-assault"]), key=lambda h: m.map.distance(h, town))
    assert m.try_issue(Move("ua-assault", step)) is None
    assert m.try_issue(Move("ru-ag2", next(iter(reachable(m, u["ru-ag2"]))))) is None
    m.end_turn()
    assert m.map.distance(u["ua-assault"].hex, town) < start
    m.end_turn()
    # turn 3: infiltrate the hex in front; the drone team strikes it
    target = next(h for h in m.map.neighbours(u["ru-ag1"].hex) if m.control[h] < 0.8)
    assert m.try_issue(Infiltrate("ru-ag1", target)) is None
    assert m.try_issue(Strike("ua-drones", target)) is None
    events = m.end_turn()
    assert any(e.kind == "infiltration" for e in events)
    m.run()
    assert m.over


# ================================================================================================ broken scenarios
def _sub(old: str, new: str):
    def mutate(text: str) -> str:
        assert old in text, f"the base lost {old!r}"
        return text.replace(old, new, 1)
    return mutate


def _drop_units(text: str) -> str:
    return re.sub(r"\[\[units\]\].*?(?=\[\[reinforcements\]\])", "", text, flags=re.S)


# (kind, mutation of the base text, [fragments the message must contain]). Each case is one kind of mistake.
CASES = [
    ("malformed-toml", _sub("turns = 5", "turns = = 5"), ["malformed TOML", "line 14, column 9"]),
    ("missing-section", _sub('[calendar]\nstart = 2025-11-01\nturn_days = 1\nturns = 5\nphases = ["night", "day"]\n', ""),
     ["calendar: required field is missing"]),
    ("missing-units", _drop_units, ["units: required field is missing"]),
    ("wrong-type", _sub("personnel = 6", 'personnel = "six"'), ["units.0.personnel:", "valid number", "'six'"]),
    ("negative-personnel", _sub("personnel = 6", "personnel = -6"), ["units.0.personnel:", "greater than 0", "-6"]),
    ("cohesion-over-100", _sub("cohesion = 80", "cohesion = 120"), ["units.0.cohesion:", "less than or equal to 100"]),
    ("unknown-top-level-field", _sub('scale = "tactical"', 'scale = "tactical"\nauthor = "me"'),
     ["author: unknown field", "spelling"]),
    ("misspelled-unit-field", _sub("personnel = 6", "personel = 6"), ["units.0.personel: unknown field"]),
    ("unknown-unit-type", _sub('type = "ru_assault_group"', 'type = "ru_asault_group"'),
     ["units.0.type:", "unknown unit type 'ru_asault_group'", "did you mean ru_assault_group"]),
    ("unit-type-wrong-scale", _sub('type = "ru_assault_group"', 'type = "assault_detachment"'),
     ["units.0.type:", "is an operational unit, expected a tactical one"]),
    ("duplicate-unit-ids", _sub('id = "ua-2"', 'id = "ua-1"'), ["units.3.id:", "duplicate unit id 'ua-1'"]),
    ("unknown-place", _sub('at = "Pokrovsk"\n\n[[reinforcements]]', 'at = "Pokrovks"\n\n[[reinforcements]]'),
     ["units.3.at:", "unknown place 'Pokrovks'", "did you mean: Pokrovsk"]),
    ("unknown-place-in-fortification", _sub("line = [[48.275, 37.135], [48.275, 37.209]]", 'places = ["Myrnohard"]'),
     ["fortifications.0.places.0:", "unknown place 'Myrnohard'", "Myrnohrad"]),
    ("latlon-off-map", _sub("at = [48.263, 37.179]", "at = [49.5, 37.179]"), ["units.0.at:", "off the map"]),
    ("latitude-out-of-range", _sub("at = [48.263, 37.179]", "at = [148.263, 37.179]"),
     ["units.0.at.0:", "less than or equal to 90"]),
    ("not-a-location", _sub("at = [48.263, 37.179]", "at = 5"), ["units.0.at:", "expected a place name", "[lat, lon]"]),
    ("hex-off-map", _sub("at = [48.263, 37.179]", "at = { col = 200, row = 3 }"),
     ["units.0.at:", "hex (200, 3) is off the map", "61 x 59"]),
    ("hex-missing-row", _sub("at = [48.263, 37.179]", "at = { col = 3 }"), ["units.0.at.row: required field"]),
    ("unit-in-enemy-ground", _sub("at = [48.271, 37.170]", "at = [48.263, 37.179]"),
     ["units.2.at:", "unit ua-1", "which Russia holds", "own side of the line"]),
    ("reinforcement-before-start", _sub("arrive = 2025-11-03", "arrive = 2025-10-03"),
     ["reinforcements.0.arrive:", "outside the scenario", "2025-11-01 to 2025-11-06"]),
    ("reinforcement-after-end", _sub("arrive = 2025-11-03", "arrive = 2026-11-03"),
     ["reinforcements.0.arrive:", "outside the scenario"]),
    ("replacements-end-before-start", _sub("end = 2025-11-06", "end = 2025-10-06"),
     ["replacements.0:", "end 2025-10-06 is before start 2025-11-01"]),
    ("replacements-unknown-side", _sub('side = "ru"\nper_week', 'side = "us"\nper_week'),
     ["replacements.0.side:", "'ru' or 'ua'"]),
    ("offensive-end-before-start", _sub("end = 2025-11-04", "end = 2025-11-01"),
     ["offensives.0:", "end 2025-11-01 is before start 2025-11-02"]),
    ("offensive-after-the-end", _sub("start = 2025-11-02\nend = 2025-11-04", "start = 2026-11-02\nend = 2026-11-04"),
     ["offensives.0:", "outside the scenario", "2025-11-01 to 2025-11-06"]),
    ("offensive-of-ukraine", _sub('side = "ru"\nstart = 2025-11-02', 'side = "ua"\nstart = 2025-11-02'),
     ["offensives.0.side:", "'ru'"]),
    ("sudden-death-unknown-objective", _sub('objectives = ["Pokrovsk"]', 'objectives = ["Pokrovks"]'),
     ["victory.sudden_death.0.objectives:", "'Pokrovks' is not an objective", "objectives: Pokrovsk"]),
    ("sudden-death-date-outside", _sub("by = 2025-11-05", "by = 2026-11-05"),
     ["victory.sudden_death.0.by:", "outside the scenario"]),
    ("sudden-death-share-over-1", _sub("share = 0.8", "share = 1.8"),
     ["victory.sudden_death.0.share:", "less than or equal to 1"]),
    ("unknown-parameter", _sub('"infiltration.eta" = 0.9', '"infiltration.etta" = 0.9'),
     ["parameters:", "unknown parameter 'infiltration.etta'", "did you mean infiltration.eta"]),
    ("parameter-out-of-range", _sub('"infiltration.eta" = 0.9', '"infiltration.eta" = 50.0'),
     ["parameters:", "infiltration.eta", "out of range, expected 0.01 to 5.0"]),
    ("weather-month-not-summing-to-1", _sub("clear    = [0.20,", "clear    = [0.50,"),
     ["weather:", "month 1", "sum to 1.300, expected 1.0"]),
    ("weather-list-wrong-length", _sub("wind     = [0.08, 0.08, ", "wind     = [0.08, "),
     ["weather.wind:", "at least 12 items"]),
    ("map-box-min-over-max", _sub('base = "tactical"', "box = [37.4, 48.17, 36.97, 48.395]\nhex_km = 0.5"),
     ["map.box:", "min < max"]),
    ("map-box-outside-region", _sub('base = "tactical"', "box = [30.0, 48.17, 31.0, 48.395]\nhex_km = 0.5"),
     ["map.box:", "within the region"]),
    ("map-without-base-or-box", _sub('base = "tactical"', ""), ["map:", "give either base"]),
    ("unknown-map-base", _sub('base = "tactical"', 'base = "tactikal"'), ["map.base:", "'operational' or 'tactical'"]),
    ("turn-days-zero", _sub("turn_days = 1", "turn_days = 0"), ["calendar.turn_days:", "greater than or equal to 1"]),
    ("bad-date", _sub("start = 2025-11-01\n", 'start = "1 Nov 2025"\n'), ["calendar.start:", "valid date"]),
    ("unknown-phase", _sub('phases = ["night", "day"]', 'phases = ["night", "dusk"]'),
     ["calendar.phases.1:", "'night' or 'day'", "'dusk'"]),
    ("side-named-twice-in-order", _sub('order = ["ru", "ua"]', 'order = ["ru", "ru"]'),
     ["sides.order:", "name each side once"]),
    ("fortification-without-places-or-line", _sub("line = [[48.275, 37.135], [48.275, 37.209]]", ""),
     ["fortifications.0:", "needs places, or a line"]),
    ("fortification-level-4", _sub("level = 2", "level = 4"), ["fortifications.0.level:", "less than or equal to 3"]),
    ("objective-without-at-or-road", _sub('at = "Pokrovsk"\nradius = 2', "radius = 2"),
     ["objectives.0:", "give 'at'", "or 'road'"]),
    ("bad-scenario-id", _sub('id = "broken-base"', 'id = "Broken Base!"'),
     ["id:", "lower-case letters, digits and hyphens", "'Broken Base!'"]),
    ("bad-unit-id", _sub('id = "ru-1"', 'id = "ru 1"'), ["units.0.id:", "no spaces"]),
    ("missing-control-file", _sub('control = "../../scenarios/start/tutorial.csv"', 'control = "start/none.csv"'),
     ["start.control:", "no such file", "none.csv", "relative to the scenario file"]),
    ("control-file-for-another-map", _sub('base = "tactical"', 'base = "operational"'),
     ["start.control:", "was made for map 'tactical'", "regenerate it"]),
    ("unknown-map-edge", _sub('ru = ["edge:south"]', 'ru = ["edge:up"]'),
     ["supply.ru.0:", "unknown map edge 'up'", "west, east, north, south"]),
    ("supply-not-a-list", _sub('ru = ["edge:south"]', 'ru = "edge:south"'), ["supply.ru:", "valid list"]),
    ("supply-source-not-a-place", _sub('ru = ["edge:south"]', "ru = [7]"), ["supply.ru.0:", "expected a place name", "(got 7)"]),
    ("briefing-missing-mission", _sub('mission = "Hold it."', ""), ["briefing.ua.mission: required field is missing"]),
]


def write_case(tmp_path: Path, name: str, mutate) -> Path:
    text = mutate(BASE.read_text(encoding="utf-8"))
    # the base points at the tutorial's start file relative to tests/broken_scenarios; keep it findable from tmp
    text = text.replace('"../../scenarios/start/tutorial.csv"', f'"{(SCENARIOS / "start" / "tutorial.csv").as_posix()}"')
    path = tmp_path / f"{name}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    """Problems from parsing and building, as `wargame validate` finds them; anything but ScenarioError fails."""
    try:
        parse_scenario(path)
        WargameModel(path, seed=0)
    except ScenarioError as exc:
        assert exc.path == str(path)
        assert str(path) in str(exc)  # the message names the file
        return exc.problems
    return []


def test_base_is_valid():
    assert problems_of(BASE) == []
    m = WargameModel(BASE, seed=0)
    m.run()
    assert m.over


def test_at_least_25_kinds_of_mistakes():
    assert len({name for name, _, _ in CASES}) == len(CASES) >= 25


@pytest.mark.parametrize("name,mutate,expected", CASES, ids=[c[0] for c in CASES])
def test_broken_scenario_message(tmp_path, name, mutate, expected):
    problems = problems_of(write_case(tmp_path, name, mutate))
    assert problems, f"{name}: accepted"
    text = "\n".join(problems)
    for fragment in expected:
        assert fragment in text, f"{name}: {fragment!r} not in {problems}"
    for line in problems:
        assert "Traceback" not in line and "\n" not in line
        assert not line.startswith("(top level)"), line  # every line names a field path, or the file as a whole


def test_empty_file(tmp_path):
    path = tmp_path / "empty.toml"
    path.write_text("")
    assert problems_of(path) == ["the file is empty; expected a scenario (see docs/scenario-format.md)"]


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes(BASE.read_bytes().replace(b"Two units", "Two \xe9units".encode("latin-1")))
    (problem,) = problems_of(path)
    assert "not UTF-8" in problem and "line 6" in problem


def test_no_such_scenario_file(tmp_path):
    (problem,) = problems_of(tmp_path / "nowhere.toml")
    assert "no such file" in problem.lower()


def test_several_mistakes_are_all_reported(tmp_path):
    mutate = _sub("cohesion = 80", "cohesion = 120\npersonel = 3")
    path = write_case(tmp_path, "two", lambda t: mutate(t).replace("turn_days = 1", "turn_days = 0"))
    text = "\n".join(problems_of(path))
    assert "units.0.cohesion" in text and "units.0.personel" in text and "calendar.turn_days" in text


# ------------------------------------------------------------------------------------------------ the CLI
def test_cli_validate_valid_files(capsys):
    from sim.cli import main

    assert main(["validate", str(BASE), *(str(path_of(s)) for s in IDS)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 + len(IDS) and all(line.endswith("valid") for line in out)


@pytest.mark.parametrize("name,mutate,expected", CASES[::6], ids=[c[0] for c in CASES[::6]])
def test_cli_validate_broken_file(tmp_path, capsys, name, mutate, expected):
    from sim.cli import main

    path = write_case(tmp_path, name, mutate)
    problems = problems_of(path)
    code = main(["validate", str(path)])
    out = capsys.readouterr()
    assert code != 0
    lines = (out.out + out.err).strip().splitlines()
    assert len(lines) == len(problems)  # one line per problem
    for line, problem in zip(lines, problems, strict=True):
        assert str(path) in line and problem in line


def test_cli_validate_in_a_fresh_process(tmp_path):
    """The installed command: exit status and no traceback."""
    path = write_case(tmp_path, "unknown-unit-type", CASES[8][1])
    out = subprocess.run([sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main())", "validate",
                          str(path)], capture_output=True, text=True, timeout=120, cwd=str(ROOT))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    assert "units.0.type" in out.stdout + out.stderr


# ------------------------------------------------------------------------------------------------ the format page
def test_the_documented_example_is_a_valid_scenario(tmp_path):
    doc = (ROOT / "docs" / "scenario-format.md").read_text(encoding="utf-8")
    example = re.search(r"## A complete example, commented.*?```toml\n(.*?)```", doc, flags=re.S).group(1)
    text = example.replace('"start/tutorial.csv"', f'"{(SCENARIOS / "start" / "tutorial.csv").as_posix()}"')
    path = tmp_path / "example.toml"
    path.write_text(text, encoding="utf-8")
    assert problems_of(path) == []
    m = WargameModel(path, seed=0)
    assert len(m.units) == 4 and m.scenario.start.presence
    assert m.main_effort["ru"].size == 2 and m.main_effort["ua"].size == 0  # two places, in the order given
    m.run()
    assert m.over


def test_scenario_read_twice_is_the_same_and_independent(tmp_path):
    """Reading a scenario again (from the per-process cache of its TOML) gives an equal, separate object, and an
    edited file is read afresh."""
    from sim.scenario import find_scenario, parse_scenario

    src = find_scenario("tutorial")
    first, second = parse_scenario(src), parse_scenario(src)
    assert first.model_dump() == second.model_dump() and first is not second
    first.objectives.clear()
    assert parse_scenario(src).model_dump() == second.model_dump()
    copy = tmp_path / "tutorial.toml"
    copy.write_bytes(src.read_bytes())
    assert parse_scenario(copy).model_dump() == second.model_dump()
    copy.write_text(src.read_text().replace(f'title = "{second.title}"', 'title = "Edited"', 1))
    assert parse_scenario(copy).title == "Edited"
