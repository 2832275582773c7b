"""Calibration: the targets, the box-area observer, the distance on hand-worked series, and the command's report."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from sim.calibrate import TargetsMissing, fit, load_targets
from sim.calibrate.targets import DEFAULT_DIR
from sim.cli import main

needs_data = pytest.mark.skipif(not (DEFAULT_DIR / "occupied_area_train.csv").is_file(),
                                reason="../shared/calibration is not beside the project")


@needs_data
def test_targets_load_series_and_towns():
    t = load_targets()
    assert t.start == dt.date(2024, 7, 8) and t.end == dt.date(2025, 6, 30)
    assert t.area_km2[0] == pytest.approx(3311.2)
    towns = {x.name: x for x in t.towns}
    assert towns["Selydove"].status == "date" and towns["Selydove"].date == dt.date(2024, 10, 28)
    assert towns["Pokrovsk"].status == "not_by" and towns["Avdiivka"].status == "before"
    days, weekly = t.weekly(dt.date(2024, 7, 8))
    assert len(days) == 52 and days[-1] == dt.date(2025, 6, 30) and weekly[0] == pytest.approx(3311.2)


def test_missing_targets_give_one_line(tmp_path):
    with pytest.raises(TargetsMissing) as err:
        load_targets(tmp_path)
    assert "\n" not in str(err.value) and "occupied_area_train.csv" in str(err.value)


def test_box_area_on_a_hand_made_control_field():
    lon = np.array([36.45, 36.6, 37.0, 37.5, 38.0, 38.2])
    lat = np.array([48.0, 48.0, 48.0, 47.7, 48.9, 48.0])
    mask = fit.box_mask(lon, lat, (36.5, 47.75, 38.1, 48.95))
    assert mask.tolist() == [False, True, True, False, True, False]
    control = np.array([1.0, 1.0, 0.5, 1.0, 0.85, 1.0])  # inside: held, contested, held
    assert fit.box_area(control, mask, 2.0) == pytest.approx(4.0)
    assert fit.box_area(control, mask, 2.0, grey_weight=0.5) == pytest.approx(5.0)
    assert fit.box_area(np.array([0.0, 0.1, 0.15, 0.9, 0.79, 0.9]), mask, 2.0, grey_weight=1.0) == \
        pytest.approx(2.0)  # 0.1 and 0.15 are Ukrainian-held, 0.79 contested


def test_the_front_leaves_out_islands_taken_deep_in_the_rear():
    from sim.geo.hexmap import NAMED_MAPS, load_map

    hm = load_map(NAMED_MAPS["operational"])
    start = hm.col >= 40  # Russia's ground at the start
    gained = start | (hm.col == 39)  # a column taken along the front
    island = (hm.col == 30) & (hm.row == 20)  # a hex infiltrators hold ten columns behind it
    front = fit.front_ground(hm, gained | island, start)
    assert np.array_equal(front, gained)
    assert not fit.front_ground(hm, island, start).any()


def test_played_on_runs_go_past_the_scenarios_sudden_death(make_scenario):
    from tests.conftest import at, unit

    # Russia already holds the objective (column 40 and east are Russian), so the sudden death ends turn 1
    path = make_scenario(base="operational", front_col=40, turns=5, start="2024-07-08",
                         units=[unit("ua", "ua_infantry_battalion", 10, 30), unit("ru", "assault_detachment", 45, 30)],
                         objectives=[{"name": "Town", "at": at(44, 30), "kind": "town"}])
    with path.open("a") as fh:
        fh.write('\n[[victory.sudden_death]]\nside = "ru"\nobjectives = ["Town"]\n')
    task = fit.ObsTask(str(path), 1, 0, 0, {"gap.g0": 0.0}, 3, (30.0, 40.0, 45.0, 55.0), ())
    ended = fit.observe_run(task)
    assert ended["ended"] == 1 and len(ended["area"]) == 4  # the last area stands for the turns not played
    played = fit.observe_run(dataclasses.replace(task, play_on=True))
    assert played["ended"] is None and len(played["area"]) == 4


def test_distance_on_hand_worked_series():
    obs = np.array([0.0, 100.0, 200.0])
    sim = np.array([[0.0, 100.0, 200.0], [0.0, 100.0, 400.0]])  # mean 0, 100, 300
    towns = {"Selydove": (2.0, np.array([1.0, 3.0, 5.0])), "Elsewhere": (3.0, np.array([3.0, 3.0, 3.0]))}
    d, area_term, town_term, errors = fit.distance(obs, sim, towns, n_weeks=3)
    month = 365.25 / 12 / 7
    assert area_term == pytest.approx(math.sqrt(10000 / 3) / (100 * month))
    assert errors["Selydove"] == pytest.approx(1 / month) and errors["Elsewhere"] == 0.0
    assert town_term == pytest.approx(2 * (1 / month) / 3)  # Selydove weighs double
    assert d == pytest.approx(area_term + town_term)
    # a town far off is capped at a quarter
    _, _, t2, e2 = fit.distance(obs, sim, {"Kurakhove": (0.0, np.array([40.0]))}, n_weeks=60)
    assert e2["Kurakhove"] == pytest.approx(fit.TOWN_CAP_WEEKS / month)
    assert fit.coverage(obs + np.array([0, 0, 100.0]), sim) == pytest.approx(1.0)  # band at week 2: 210-390
    assert fit.coverage(obs, sim) == pytest.approx(2 / 3)


@needs_data
def test_calibrate_command_writes_the_report(tmp_path):
    out = tmp_path / "docs"
    code = main(["calibrate", "--samples", "2", "--runs", "1", "--refine", "1", "--final-runs", "2",
                 "--weeks", "2", "--workers", "1", "--out", str(out)])
    assert code == 0
    md = (out / "calibration.md").read_text()
    assert "## Fitted values" in md and "The bar is" in md and "Selydove" in md
    assert "- Check: the same defaults over 2 runs with other seeds" in md and "| Check batch, other seeds |" in md
    assert "| defaults before this run |" in md  # re-run beside the best search point, so it can be kept
    assert "- 0 of the 2 runs end within the window by the scenario's victory rules;" in md
    assert "- Played on: the final batch's games again without the scenario's sudden death" in md
    assert "| Final batch played on past the sudden death | 1 x 2 |" in md
    for name in ("area_band.png", "search.png", "towns.png", "results.json"):
        assert (out / "calibration" / name).stat().st_size > 0
    again = tmp_path / "again"
    assert main(["calibrate", "--report-from", str(out / "calibration" / "results.json"), "--out", str(again)]) == 0
    assert (again / "calibration.md").is_file()


def test_apply_writes_value_and_fitted_note_in_rules_and_doctrine(tmp_path):
    data_dir = Path(fit.__file__).resolve().parents[1] / "data"
    copies = []
    for name in ("parameters.toml", "doctrine.toml"):
        (tmp_path / name).write_text((data_dir / name).read_text())
        copies.append(tmp_path / name)
    from sim.calibrate import report

    fitted = {"infiltration.eta": 0.41234, "gap.g0": 0.02, "ai.ru.secondary_commit": 0.3, "infiltration.kappa": 1.0}
    ranges = {"infiltration.eta": (0.3, 0.4, 0.55), "gap.g0": (0.0, 0.02, 0.05), "ai.ru.secondary_commit": (0.2, 0.3, 0.6),
              "infiltration.kappa": (0.5, 0.9, 1.0)}
    cal = fit.Calibration(window=None, search=[], refined=[], fitted=fitted, accepted=[], ranges=ranges,
                          final=None, final_runs=[], budget={"root_seed": 1, "total_runs": 9}, search_ranges={})
    done = report.apply_fitted(cal, label="X", paths=tuple(copies))
    assert len(done) == 4
    import tomllib

    data = tomllib.loads(copies[0].read_text())
    assert data["infiltration"]["eta"]["value"] == pytest.approx(0.412)
    assert "0.3-0.55" in data["infiltration"]["eta"]["fitted"] and "run X" in data["infiltration"]["eta"]["fitted"]
    before = tomllib.loads((data_dir / "parameters.toml").read_text())
    assert data["gap"]["g0"]["value"] == pytest.approx(0.02)
    assert isinstance(data["infiltration"]["kappa"]["value"], float)  # fitted to 1: still a float parameter
    assert data["isr"]["p_hit"] == before["isr"]["p_hit"]  # parameters not fitted are left alone
    doctrine = tomllib.loads(copies[1].read_text())
    assert doctrine["ai"]["ru"]["secondary_commit"]["value"] == pytest.approx(0.3)
    assert "0.2-0.6" in doctrine["ai"]["ru"]["secondary_commit"]["fitted"]


def test_a_finished_stage_is_read_back_not_played_again(tmp_path, monkeypatch):
    task = fit.ObsTask("x.toml", 1, 0, 0, {"gap.g0": 0.01}, 3, (0, 0, 1, 1), ())
    monkeypatch.setattr(fit, "run_tasks", lambda tasks, workers, progress: [{"point": 0, "area": [1.0]}])
    cache = tmp_path / "stage-search.json"
    first = fit.cached_run([task], 1, None, cache)[0]

    def boom(*args):
        raise AssertionError("played again")
    monkeypatch.setattr(fit, "run_tasks", boom)
    assert fit.cached_run([task], 1, None, cache)[0] == first
    other = fit.ObsTask("x.toml", 1, 0, 0, {"gap.g0": 0.02}, 3, (0, 0, 1, 1), ())
    with pytest.raises(AssertionError, match="played again"):
        fit.cached_run([other], 1, None, cache)


def test_the_bar_picks_among_the_re_run_points():
    def score(point, distance, coverage, selydove_months, kurakhove_months):
        return fit.PointScore(point, {}, 24, distance, 0.0, 0.0, coverage, 0.0,
                              town_errors={"Selydove": selydove_months, "Kurakhove": kurakhove_months})

    close = score(1, 1.5, 0.56, 0.3, 0.5)  # smallest distance, both towns within four weeks (0.92 months)
    wide = score(2, 1.7, 0.79, 0.5, 0.5)  # more weeks in the band, towns still within the bar
    late = score(3, 1.6, 0.90, 0.2, 1.2)  # the most weeks in the band, but Kurakhove five weeks out
    assert fit.pick([close, wide, late]) is wide
    assert fit.pick([close, late]) is close
    assert fit.pick([late]) is late  # with nobody meeting the towns' bar, coverage then distance decide


def test_the_verdict_says_when_the_check_batch_disagrees():
    from sim.calibrate.report import _verdict

    met, missed = {"met": True}, {"met": False}
    assert _verdict(met, None) == "MET" and _verdict(missed, missed) == "NOT met"
    assert _verdict(met, missed) == "MET on the final batch but NOT on the check batch"
    assert _verdict(missed, met) == "NOT met on the final batch, though met on the check batch"


@pytest.mark.parametrize("content, says", [(None, "cannot read"), ('{"a": 1}', "is not a calibration's results.json"),
                                           ("not json", "is not a calibration's results.json")])
def test_report_from_a_bad_file_gets_one_line(tmp_path, capsys, content, says):
    path = tmp_path / "results.json"
    if content is not None:
        path.write_text(content)
    assert main(["calibrate", "--report-from", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_town_is_judged_on_the_maps_own_hex_for_it_unless_the_tables_point_is_elsewhere():
    from sim.geo.hexmap import NAMED_MAPS, load_map

    hm = load_map(NAMED_MAPS["operational"])
    # the table's Selydove point is 250 m from the map's, across a hex edge: the town is the map's hex
    assert hm.hex_at_latlon(48.147, 37.3) != hm.place_hex("Selydove")
    assert fit.town_centre_hex(hm, "Selydove", 48.147, 37.3) == hm.place_hex("Selydove")
    # the table's Shakhove lies 11 km from the map's place of that name: another village, so the point decides
    assert fit.town_centre_hex(hm, "Shakhove", 48.382, 37.3) == hm.hex_at_latlon(48.382, 37.3)
    assert fit.town_centre_hex(hm, "Nowhere", 48.147, 37.3) == hm.hex_at_latlon(48.147, 37.3)
