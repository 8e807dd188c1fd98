"""The beacon's clock survives a power cut (late by the outage, which the tag's skew
tolerance absorbs), in MicroPython against a stand-in RTC."""

from __future__ import annotations

import time
from pathlib import Path

from micropython_runner import MPY_TESTS, run_micropython
from tagcore.compat import UNIX_2000


def test_clock_is_saved_every_2_min_and_restored_after_a_power_cut(tmp_path: Path) -> None:
    clock = tmp_path / "beacon.clock"
    out = run_micropython(
        script=MPY_TESTS / "beacon_clock_run.py",
        args=(str(MPY_TESTS / "fake_bluetooth"), str(clock)),
    )
    rows = dict(ln.split(" ", 1) for ln in out.strip().splitlines())
    assert rows["fresh"] == "830000000 []"
    assert rows["saved"] == "830000000"
    restored, calls = rows["after_cut"].split(" ", 1)
    assert restored == "830000120"
    # The RTC was set to the saved time, in the ESP32 RTC's field order (weekday 4th).
    g = time.gmtime(830000120 + UNIX_2000)
    rtc = (g.tm_year, g.tm_mon, g.tm_mday, g.tm_wday, g.tm_hour, g.tm_min, g.tm_sec, 0)
    assert calls == f"[{rtc}]"
    assert rows["good_clock"] == "830007200"  # a clock already past the saved time is kept
    assert rows["now2000"] == "True"
