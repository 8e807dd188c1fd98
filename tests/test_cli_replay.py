"""`opentag replay`: the demo job and its error handling, run as a user runs it."""

from __future__ import annotations

import datetime
import io
import json
import subprocess
import sys
from pathlib import Path

import pynmea2
import pytest
import pyubx2
from corpus import CORPUS, capture_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from taghost import cli
from taghost import replay as rp
from taghost.errors import EXIT_BAD_INPUT
from taghost.units import to_datetime

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


def _first_rmc_date(path: Path) -> datetime.date | None:
    """The oracle: pynmea2's date of the capture's first RMC with a fix and a good checksum."""
    for raw in path.read_bytes().splitlines():
        if raw.startswith(b"#") or b"RMC," not in raw[:7]:
            continue
        try:
            msg = pynmea2.parse(raw.decode("ascii").strip(), check=True)
        except (pynmea2.ParseError, UnicodeDecodeError, ValueError):
            continue
        if msg.status == "A" and msg.datestamp:
            return msg.datestamp
    return None


DATED = [p for p in capture_files() if (d := _first_rmc_date(p)) and d.year >= 1980]


@pytest.mark.parametrize("path", DATED, ids=lambda p: p.name)
def test_without_floor_an_old_capture_keeps_its_dates(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --floor every capture older than the build date was moved to 2042-2045."""
    want = _first_rmc_date(path)
    assert cli.main(["replay", str(path), "--json"]) == 0
    out, err = capsys.readouterr()
    doc = json.loads(out)
    days = {to_datetime(f["t"]) for f in doc["fixes"]}
    assert want in {d.date() for d in days}, (want, sorted(days)[:3])
    if want < datetime.date(2026, 1, 1):  # older than the build date: said, not silent
        assert f"date floor {want.isoformat()}" in err and "--floor" in err


def test_an_explicit_floor_still_corrects_rollover(capsys: pytest.CaptureFixture[str]) -> None:
    p = CORPUS / "ublox-8.log"
    assert cli.main(["replay", str(p), "--floor", "2030-01-01", "--json"]) == 0
    out, err = capsys.readouterr()
    years = {to_datetime(f["t"]).year for f in json.loads(out)["fixes"]}
    assert min(years) >= 2030 and "date floor" not in err


def _ubx_stream(n: int) -> bytes:
    """A u-blox receiver's binary output (NAV-PVT frames), made by pyubx2."""
    out = b""
    for i in range(n):
        msg = pyubx2.UBXMessage(
            "NAV",
            "NAV-PVT",
            pyubx2.GET,
            iTOW=i * 1000,
            lat=52.4 + i * 1e-6,
            lon=13.4,
            fixType=3,
            numSV=9,
        )
        out += msg.serialize()
    return out


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    noise=st.binary(min_size=1, max_size=5000).filter(lambda b: b"$" not in b),
    ubx=st.integers(0, 60),
)
def test_binary_input_is_refused_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], noise: bytes, ubx: int
) -> None:
    """Binary input (a UBX log, random bytes) replayed to exit 0 with no hint."""
    f = tmp_path / "capture.bin"
    data = _ubx_stream(ubx) + noise
    f.write_bytes(data)
    code = cli.main(["replay", str(f)])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "Traceback" not in err
    assert "opentag replay" in err and str(f) in err
    if ubx and b"\xb5\x62" in data[:65536]:
        assert "UBX" in err


def test_text_without_sentences_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("lat,lon\n52.5,13.4\n" * 100)
    assert cli.main(["replay", str(f)]) == EXIT_BAD_INPUT
    assert "not a single NMEA sentence" in capsys.readouterr().err


def test_mixed_nmea_and_ubx_replays_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A u-blox sends both: the NMEA is replayed, and the junk share is pointed out."""
    nmea = (CORPUS / "ublox-8.log").read_bytes()
    f = tmp_path / "mixed.log"
    f.write_bytes(nmea + _ubx_stream(2000))
    assert cli.main(["replay", str(f), "--floor", "2010-01-01"]) == 0
    out, err = capsys.readouterr()
    assert " ok" in out and "binary capture" in err


@pytest.mark.parametrize("chunk", ["1", "7", "4096"])
def test_streamed_json_is_one_document_whatever_the_chunking(
    chunk: str, capsys: pytest.CaptureFixture[str]
) -> None:
    p = str(CORPUS / "ublox-8.log")
    assert cli.main(["replay", p, "--floor", "2010-01-01", "--json"]) == 0
    ref = json.loads(capsys.readouterr().out)
    assert cli.main(["replay", p, "--floor", "2010-01-01", "--json", "--chunk", chunk]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["fixes"] == ref["fixes"] and doc["reader_counts"] == ref["reader_counts"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.lists(
        st.sampled_from([b"#", b"\n", b"$", b"a", b"\r", b"#x\n", b"$GPGGA,1*00\r\n"])
    ).map(b"".join),
    block=st.integers(1, 80),
)
def test_streaming_drops_exactly_the_annotation_lines(data: bytes, block: int) -> None:
    """Read in blocks of any size, the stream is the file without its '#' lines."""
    lines = data.split(b"\n")
    want = b"".join(
        ln + nl
        for ln, nl in zip(lines, [b"\n"] * (len(lines) - 1) + [b""], strict=True)
        if not ln.startswith(b"#")
    )
    pieces = list(rp.receiver_bytes(io.BytesIO(data), block))
    assert b"".join(pieces) == want
    assert all(len(p) <= block for p in pieces)  # bounded: never more than a block at once
