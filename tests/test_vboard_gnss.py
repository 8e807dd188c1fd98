"""The virtual board's GNSS receiver (taghost.vboard, `opentag vboard --gnss`): an NMEA capture
cut into the epochs it sends, one time of day each, on the board's clock. The whole path (the
real firmware logging the walk it sends) is tests/test_readme.py's flash-a-T-Beam test."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

from taghost import samplelog
from taghost.vboard import VirtualBoard, gnss_schedule
from vboardkit import firmware_tree, opentag

OPENTAG = str(Path(sys.executable).parent / "opentag")


def nmea(body: str) -> bytes:
    c = 0
    for ch in body.encode():
        c ^= ch
    return f"${body}*{c:02X}\r\n".encode()


def ms_2000(*when: int) -> int:
    return int((datetime(*when) - datetime(2000, 1, 1)).total_seconds()) * 1000


def test_a_capture_across_midnight_is_one_epoch_a_second_from_its_first_dated_epoch() -> None:
    gga = "GPGGA,000000.00,5043.0,N,00151.0,W,1,09,0.9,52.0,M,47.0,M,,"
    cap = b"".join(
        [
            nmea("GPGSV,1,1,00"),  # before any time of day: nothing says when it went out
            nmea("GPRMC,235959.00,A,5043.0,N,00151.0,W,0,0,311226,,,A"),
            nmea("GPGSV,1,1,00"),  # joins the epoch it is in
            nmea("GPRMC,000000.00,A,5043.0,N,00151.0,W,0,0,010127,,,A"),
            nmea(gga),
            nmea("GPRMC,000001.00,V,,,,,,,010127,,,N"),
        ]
    )
    t0, epochs = gnss_schedule(cap)
    assert t0 == ms_2000(2026, 12, 31, 23, 59, 59)
    assert [(off, data.count(b"$")) for off, data in epochs] == [(0, 2), (1000, 2), (2000, 1)]
    assert epochs[1][1].endswith(nmea(gga))


def test_the_sample_walk_is_dated_at_the_sample_logs_start() -> None:
    t0, epochs = gnss_schedule(samplelog.nmea_walk())
    assert t0 == samplelog.T0 * 1000
    assert len(epochs) == (samplelog.N_FIXES - 1) * samplelog.STEP_S + 1
    assert gnss_schedule(b"no sentences\n") == (-1, [])


def test_a_bad_capture_or_speed_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "empty.nmea").write_text("nothing here\n")
    for args in (
        ["--gnss", str(tmp_path / "missing.nmea")],
        ["--gnss", str(tmp_path / "empty.nmea")],
        ["--speed", "0"],
    ):
        r = subprocess.run(
            [OPENTAG, "vboard", "--image", str(tmp_path / "f.img"), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and r.stderr.strip(), r.stderr


def test_the_shell_without_zones_deep_sleeps_between_fixes_and_wakes_on_the_board(
    tmp_path: Path,
) -> None:
    # No zones: the shell deep-sleeps between fixes (machine.deepsleep). The fake raises its
    # Reset for device_board's driver, which escaped main.py on the virtual board; here the
    # board sleeps on its clock and boots again, cause deepsleep, its RTC memory kept.
    fw = firmware_tree(tmp_path / "fw", device_shell=True)
    with VirtualBoard(tmp_path / "flash.img", gnss=samplelog.nmea_walk(), speed=100) as vb:
        vb.wait_for(b">>> ")
        r = opentag("deploy", "--port", vb.port, "--board", "tbeam_v12_axp2101", "--firmware",
                    str(fw))  # fmt: skip
        assert r.returncode == 0, r.stdout + r.stderr
        start = vb.wait_for(b"deep sleep", timeout=30)
        vb.wait_for(b"cause=deepsleep", timeout=30, start=start)
        woke = vb.wait_for(b"INFO fix: t=", timeout=30, start=start)
    console = bytes(vb.console)
    assert b"rst:0x5 (DEEPSLEEP_RESET)" in console
    assert b"Traceback" not in console, console[-2000:]
    assert b"battery: low" not in console  # the board's PMU reports its cell (it read 0 %)
    # the fix after the wake is one of the walk's: the receiver went on through the sleep
    t = int(console[woke:].split(b"t=")[1].split()[0])
    assert samplelog.T0 < t <= samplelog.T0 + (samplelog.N_FIXES - 1) * samplelog.STEP_S
