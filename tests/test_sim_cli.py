"""`opentag sim`: run, sweep, list, the default scenario, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from taghost.cli import main as opentag
from tagsim import runner
from tagsim.cli import main

SC = runner.SCENARIOS


def test_run_writes_every_file_and_reports_green(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert opentag(["sim", "run", str(SC / "zone_entry.toml"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "zone-entry (seed 2, cpython)" in out and "verdict: green" in out
    assert f"report: {tmp_path / 'report.html'}" in out
    for name in ("metrics.json", "events.jsonl", "trail.geojson", "trail.gpx", "report.html"):
        assert (tmp_path / name).stat().st_size > 100
    assert json.loads((tmp_path / "metrics.json").read_text())["metrics"]["truth_zone_entries"] == 1


def test_default_scenario_and_seed_override(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path), "--seed", "9"]) == 0
    assert "commute (seed 9, cpython)" in capsys.readouterr().out


def test_red_run_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        (SC / "zone_entry.toml")
        .read_text()
        .replace("max_truth_zone_entries = 1", "max_truth_zone_entries = 0")
    )
    (tmp_path / "zones").symlink_to(SC / "zones")
    f = tmp_path / "red.toml"
    f.write_text(text)
    assert main(["run", str(f), "--out", str(tmp_path / "o")]) == 1
    assert "[fail   ] max_truth_zone_entries = 0: got 1" in capsys.readouterr().out


def test_micropython_runtime_from_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(
            [
                "run",
                str(SC / "tunnel_canyon.toml"),
                "--runtime",
                "micropython",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "(seed 5, micropython)" in capsys.readouterr().out


def test_sweep_summarises_the_spread(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", str(SC / "zone_entry.toml"), "--seeds", "3"]) == 0
    out = capsys.readouterr().out
    assert out.count("seed ") >= 3 and "3 seeds, 0 red" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("fixes_recorded"))
    lo, med, hi = (float(x) for x in line.split()[1:])
    assert lo <= med <= hi


def test_bad_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.toml")]) == 2
    assert "no such scenario file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('board = "tbeam_v9"\n')
    assert main(["run", str(bad)]) == 2
    assert "unknown board 'tbeam_v9'" in capsys.readouterr().err


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "week.toml" in out and "168.0 h" in out and "tbeam_supreme_s3" in out
