"""The whole corpus through the core on CPython and inside MicroPython: no exception, and the
same fix stream and counters, byte for byte. Each capture is read at a date floor that fits its
own dates (tests/corpus.own_floor, read with pynmea2), as a tag built before it would read it."""

from __future__ import annotations

import pytest
from corpus import capture_files, driver_input, per_capture
from micropython_runner import MPY_TESTS, run_cpython, run_micropython

DRIVER = MPY_TESTS / "nmea_replay.py"
# Modern receivers whose captures gave no fix at all at a single 1999 floor (issue 13, item 6).
MODERN = (
    "ais-nmea.log",
    "ericsson-gru04-02-70sec.log",
    "garmin15x.log",
    "gpsdf.log",
    "nmea-rtk.log",
    "quectel-L70.log",
    "quectel-eg25-g.log",
    "quectel-l76k-nmea.log",
    "quectel.log",
    "quectelLC79D-1.log",
    "st-teseo-liv3f.log",
    "ublox-f9p-hpnmea.log",
    "ublox-neo-m9n-nmea.log",
    "ublox-zed-f9p-nmea.log",
    "unicore-um621.log",
)


@pytest.mark.parametrize("chunk", [1, 64, 256])
def test_corpus_gives_identical_fix_streams_on_both_runtimes(chunk: int) -> None:
    args = (str(chunk), "each")
    mp = run_micropython(script=DRIVER, args=args, stdin=driver_input(), heap=64 * 1024)
    cp = run_cpython(script=DRIVER, args=args, stdin=driver_input())
    assert mp.count("\n=") + 1 == len(capture_files())
    assert mp.count("\nF ") > 1000  # real fixes came out, not just counters
    assert mp == cp


def test_every_capture_is_read_at_a_floor_that_fits_its_dates() -> None:
    files = per_capture(run_cpython(script=DRIVER, args=("256", "each"), stdin=driver_input()))
    assert len(files) == len(capture_files())
    for name in MODERN:
        assert any(ln.startswith("F ") for ln in files[name]), name
    for p in capture_files():
        counts = dict(
            kv.split("=") for kv in next(ln for ln in files[p.name] if ln[0] == "C").split()[1:]
        )
        assert "bad_date" not in counts, (p.name, counts)  # no date outside its own window
        # gpsd's '#' comment lines are counted as such, '$' and all, never as damage.
        hashes = sum(1 for ln in p.read_bytes().split(b"\n") if ln.startswith(b"#"))
        assert int(counts.get("hash_lines", 0)) == hashes, (p.name, counts)


def test_one_reader_streams_the_whole_corpus_in_32k() -> None:
    # The device keeps one reader for its lifetime. Imported as the release build's .mpy
    # (mpy-cross -O3, what `make build` deploys), reader and filter stream the whole corpus in a
    # 32 KB heap of the 64-bit unix port, whose objects are about twice the ESP32's size.
    args = ("256", "one")
    mp = run_micropython(
        module="nmea_replay", args=args, stdin=driver_input(), heap=32 * 1024, opt=3
    )
    assert mp == run_cpython(script=DRIVER, args=args, stdin=driver_input())
