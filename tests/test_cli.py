"""The `wargame` command as a user meets it: listings, validation, a headless game, and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import scenario_text

TINY = scenario_text(
    scenario_id="tiny", start="2025-11-01", turns=3, default_control=0.5,
    units=[{"id": "r1", "type": "ru_assault_group", "at": "Pokrovsk"}, {"id": "u1", "type": "ua_squad", "at": "Myrnohrad"}],
    supply={"ru": ["edge:south"], "ua": ["edge:north"]}, objectives=[{"name": "Pokrovsk", "at": "Pokrovsk"}])


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path


def test_params_lists_every_parameter_with_unit_and_source(capsys):
    assert main(["params", "--grep", "infiltration.eta"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "1/km" in out[0] and "source:" in out[0]


def test_validate_accepts_a_good_file(tiny, capsys):
    assert main(["validate", str(tiny)]) == 0
    assert "valid" in capsys.readouterr().out


def test_validate_names_file_field_and_expectation(tiny, capsys):
    tiny.write_text(TINY.replace('type = "ua_squad"', 'type = "ua_sqaud"'))
    assert main(["validate", str(tiny)]) == 1
    out = capsys.readouterr().out
    assert str(tiny) in out and "units.1.type" in out and "did you mean ua_squad" in out


def test_unknown_parameter_is_one_line_and_exit_2(tiny, tmp_path, capsys):
    code = main(["run", str(tiny), "--out", str(tmp_path / "o"), "--set", "infiltration.etta=1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "infiltration.eta" in err[0]


def test_out_of_range_parameter_is_refused(tiny, tmp_path, capsys):
    assert main(["run", str(tiny), "--out", str(tmp_path / "o"), "--set", "infiltration.kappa=7"]) == 2
    assert "out of range" in capsys.readouterr().err


def test_unknown_scenario_suggests(capsys):
    assert main(["run", "pokrovsk-axsi-2024", "--out", "/tmp/never"]) == 2
    assert "no scenario" in capsys.readouterr().err


def test_unwritable_output_folder(tiny, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["run", str(tiny), "--out", str(blocker / "sub")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_run_writes_replayable_outputs(tiny, tmp_path):
    out = tmp_path / "run"
    assert main(["run", str(tiny), "--seed", "3", "--out", str(out)]) == 0
    rows = (out / "timeseries.csv").read_text().splitlines()
    assert len(rows) == 1 + 4  # header, start and three turns
    save = json.loads((out / "game.json").read_text())
    assert save["seed"] == 3 and len(save["orders"]) == 3
    assert json.loads((out / "outcome.json").read_text())["result"]
    assert (out / "events.jsonl").read_text().strip()


def test_play_without_display_says_so_in_one_line():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "play"], capture_output=True, text=True, env=env,
                          timeout=60)
    assert proc.returncode == 0
    assert len(proc.stdout.strip().splitlines()) == 1 and "No display" in proc.stdout
    assert proc.stderr == ""
