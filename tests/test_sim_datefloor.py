"""The tag raises its NMEA reader's date floor from what it stores: at start from the newest
stored fix, then from accepted fixes (issue 13 item 3), so that a date before the last stored
fix is refused rather than moved 1024 weeks forward."""

from __future__ import annotations

from nmeatest import lines
from tagcore.app.app import TagApp
from tagcore.app.config import TagConfig
from tagcore.fix import Fix
from tagkit.civil import civil_from_days
from tagkit.memfs import MemFs

START = 825_753_600  # 2026-03-02T08:00:00Z
DAY = 86400


def epoch(t: int) -> bytes:
    """One RMC + GGA epoch at time t (seconds since 2000), at a fixed place."""
    y, m, d = civil_from_days(t // DAY)
    s = t % DAY
    hms = f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}.00"
    ddmmyy = f"{d:02d}{m:02d}{y % 100:02d}"
    return lines(
        f"GPRMC,{hms},A,5231.200,N,01322.200,E,0.0,0.0,{ddmmyy},,,A",
        f"GPGGA,{hms},5231.200,N,01322.200,E,1,08,0.9,45.0,M,46.9,M,,",
    )


def feed(tag: TagApp, t: int, now: int) -> None:
    tag.uart(now, epoch(t))
    tag.uart_idle(now)


def test_the_floor_starts_at_the_newest_stored_fix() -> None:
    fs = MemFs()
    first = TagApp(TagConfig(), fs, START)
    fix = Fix(START + 40 * DAY, 0, 52520000, 13370000, 450, 0, 0, 36, 90, 8, 1, 3, 2)
    first.store.append_fix(START + 40 * DAY, fix)
    first.store.flush()
    tag = TagApp(TagConfig(), fs, START + 41 * DAY)  # a reboot on the same flash
    assert tag.reader.dates.floor == (START + 40 * DAY) // DAY
    # A fix dated the day before that is refused, not stored as a 2045 fix.
    feed(tag, START + 39 * DAY, START + 41 * DAY)
    assert tag.fixes == 0 and tag.reader.counts.get("bad_date") == 1


def test_accepted_fixes_raise_the_floor_but_one_outlier_does_not() -> None:
    tag = TagApp(TagConfig(), MemFs(), START)
    floor0 = tag.reader.dates.floor
    for k in range(3):
        feed(tag, START + 10 * DAY + k, START + k)
    assert tag.fixes == 3
    assert tag.reader.dates.floor == (START + 10 * DAY) // DAY > floor0
    # One fix stamped years ahead is accepted (nothing contradicts it yet) but must not drag
    # the floor up: the fixes after it are the truth, and the filter re-anchors on them.
    feed(tag, START + 3000 * DAY, START + 3)
    assert tag.reader.dates.floor == (START + 10 * DAY) // DAY
    for k in range(4, 9):
        feed(tag, START + 10 * DAY + k, START + k)
    assert tag.filter.counts.get("reanchored") == 1
    assert tag.filter.last.t == START + 10 * DAY + 8
    assert tag.reader.dates.floor == (START + 10 * DAY) // DAY
