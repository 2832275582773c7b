"""The after-action review: one valid, self-contained HTML file with maps, plots, events, batch and claims."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import html5lib
import pytest

from sim.cli import main
from tests.test_cli import TINY


@pytest.fixture(scope="module")
def played(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("report")
    scenario = d / "tiny.toml"
    scenario.write_text(TINY.replace("turns = 3", "turns = 4"))
    assert main(["run", str(scenario), "--seed", "1", "--out", str(d / "run")]) == 0
    assert main(["batch", str(scenario), "--runs", "3", "--workers", "1", "--out", str(d / "batch")]) == 0
    (d / "claims.csv").write_text("side,place,turn,source\nru,Pokrovsk,1,MoD\nua,Pokrovsk,2,General Staff\n")
    (d / "analyst.csv").write_text("place,holder,turn\nPokrovsk,contested,2\nMyrnohrad,ua,2\n")
    return {"dir": d, "scenario": scenario, "run": d / "run", "batch": d / "batch"}


VNU = Path(__file__).resolve().parent.parent / ".cache" / "vnu" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def _check_html(text: str) -> None:
    """Strict HTML5 parse (and the W3C Nu validator when `make test` could install it), no network resources."""
    html5lib.HTMLParser(strict=True).parse(text)
    if VNU.exists() and shutil.which("java"):
        with tempfile.NamedTemporaryFile("w", suffix=".html", delete=False) as fh:
            fh.write(text)
        proc = subprocess.run(["java", "-jar", str(VNU), "--errors-only", fh.name], capture_output=True, text=True,
                              timeout=120)
        os.unlink(fh.name)
        assert proc.returncode == 0, proc.stderr
    refs = re.findall(r'(?:src|href)\s*=\s*"([^"]*)"', text) + re.findall(r"url\(([^)]*)\)", text)
    assert not [r for r in refs if re.match(r"\s*['\"]?(https?:)?//", r)]
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text


def test_report_of_a_run_with_batch_and_claims(played, capsys):
    out = played["dir"] / "review.html"
    code = main(["report", str(played["run"]), "--out", str(out), "--batch", str(played["batch"]),
                 "--claims", str(played["dir"] / "claims.csv"), "--analyst", str(played["dir"] / "analyst.csv"),
                 "--dates", "2025-11-01,2025-11-03"])
    assert code == 0, capsys.readouterr().err
    text = out.read_text()
    _check_html(text)
    for heading in ("The game", "The front", "The front over time", "Ground and losses", "Key events",
                    "computer games", "Claims and reality", "analysts' map"):
        assert heading in text
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) >= 2 + 4 + 2 + 1  # two chosen dates, the strip, area + losses, fan chart
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    assert "2025-11-03 (after turn 2)" in text


def test_report_of_a_save_without_extras(played):
    out = played["dir"] / "plain.html"
    assert main(["report", str(played["run"] / "game.json"), "--out", str(out)]) == 0
    text = out.read_text()
    _check_html(text)
    assert "computer games" not in text and "Claims and reality" not in text


def test_report_mistakes_are_one_line(played, capsys):
    out = str(played["dir"] / "x.html")
    assert main(["report", str(played["dir"] / "missing.json"), "--out", out]) == 2
    assert main(["report", str(played["run"]), "--out", out, "--dates", "1 Dec"]) == 2
    assert main(["report", str(played["run"]), "--out", out, "--batch", str(played["dir"])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("error: ") for line in err)
