"""A week's backlog at 1 fix/min goes out whole from an ESP32-sized MicroPython heap.

The driver (tests/mpy/uplink_backlog.py) writes seven days of fixes and status events to the
store on real files, then drains it through the uplink client to a server double in the same
interpreter: every record arrives exactly once, the log is truncated to its newest segment, and
the heap holds one batch at a time (bounded by the batch's byte limit, not by the backlog)."""

from __future__ import annotations

import re
from pathlib import Path

from micropython_runner import MPY_TESTS, run_cpython, run_micropython


def figures(out: str) -> dict[str, list[int]]:
    return {m[1]: [int(x) for x in m[2].split()] for m in re.finditer(r"^(\w+) (.+)$", out, re.M)}


def check(out: str, days: int) -> dict[str, list[int]]:
    f = figures(out)
    assert "FAIL" not in out, out
    assert f["FIXES"] == [days * 1440]
    assert f["RECORDS"][0] == days * 1440 + days * 4 + 1  # fixes, status events, the boot
    assert f["MISSING"] == [0] and f["DUPLICATES"] == [0]
    assert f["ACKED"][0] == f["ACKED"][1]
    assert f["SEGMENTS_LEFT"] == [1]
    assert f["MAX_BODY"][0] < 4096 + 200
    return f


def test_week_backlog_micropython_tag_and_server_double_in_one_heap(tmp_path: Path) -> None:
    # 160 KB holds both sides and the test's bitmaps; the tag alone, talking to a server over
    # loopback, runs in 80-96 KB (tests/test_uplink_http.py).
    out = run_micropython(
        script=MPY_TESTS / "uplink_backlog.py", args=(str(tmp_path), "7"), heap=160 * 1024
    )
    f = check(out, 7)
    assert f["BATCHES"][0] > 10  # a week of fixes goes in many bounded batches, not one


def test_week_backlog_cpython(tmp_path: Path) -> None:
    check(run_cpython(script=MPY_TESTS / "uplink_backlog.py", args=(str(tmp_path), "7")), 7)
