"""`opentag replay`: the demo job and its error handling, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from corpus import CORPUS

OPENTAG = [sys.executable, "-m", "taghost.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OPENTAG, *args], capture_output=True, text=True, timeout=120)


def test_demo_prints_fixes_and_what_was_dropped() -> None:
    p = run("replay")
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert "2022-09-11T" in out and " ok" in out  # real, dated fixes
    assert "REJECTED no_fix" in out  # the capture loses its fix
    assert "no_time" in out and "proprietary" in out  # reader counters by reason


def test_json_output_matches_the_counters() -> None:
    p = run("replay", str(CORPUS / "ublox-8.log"), "--floor", "2010-01-01", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert len(doc["fixes"]) == 72 and all(f["accepted"] for f in doc["fixes"])
    assert doc["reader_counts"]["junk_bytes"] > 0 and doc["reader_counts"]["no_checksum"] == 1
    assert abs(doc["fixes"][0]["lat"] - 44068962) < 100


def test_missing_file_and_bad_floor_are_clear_errors(tmp_path: Path) -> None:
    p = run("replay", str(tmp_path / "nope.log"))
    assert p.returncode == 2 and "no such capture" in p.stderr
    p = run("replay", "--floor", "yesterday")
    assert p.returncode == 2 and "YYYY-MM-DD" in p.stderr


def test_garbage_file_replays_without_error(tmp_path: Path) -> None:
    f = tmp_path / "noise.log"
    f.write_bytes(bytes(range(256)) * 40 + b"$GPGGA,1*00\r\n")
    p = run("replay", str(f))
    assert p.returncode == 0, p.stderr
    assert "junk_bytes" in p.stdout and "bad_checksum" in p.stdout
