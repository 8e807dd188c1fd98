"""Issue 13, item 11: a curfew is enforced for years after the configuration was compiled, not
only over a horizon of expanded windows: the blob ships the weekly rules and the time zone's
offset changes, and the tag's own rule code (tagcore.zones.curfew, through ZoneMonitor) opens and
closes every window to the second where zoneinfo (taghost.zoneschedule.windows) says, years on,
across daylight-saving changes, in several time zones."""

from __future__ import annotations

import struct
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.fix import Fix
from tagcore.zones import blob as B
from tagcore.zones import monitor as Z
from taghost.units import to_datetime
from taghost.zoneconfig import compile_blob, read_zones
from taghost.zoneschedule import parse_schedule, seconds_2000, windows

START = date(2026, 10, 19)
TZS = ["Europe/London", "America/New_York", "Australia/Sydney", "America/Santiago", "Asia/Tehran"]
HOME = [-1.8795, 50.726]


def _blob(sched: dict, **kw) -> bytes:
    feat = {
        "type": "Feature",
        "properties": {"id": 7, "kind": "inclusion", "radius_m": 60, "schedule": sched},
        "geometry": {"type": "Point", "coordinates": HOME},
    }
    zones = read_zones({"type": "FeatureCollection", "features": [feat]})
    return compile_blob(zones, START, **kw)


def _state(blob: bytes, t: int) -> int:
    # A fresh monitor, a fix 2 km away at t: POSSIBLE (or more) when the curfew is on.
    m = Z.ZoneMonitor(blob)
    assert m.error is None, m.error
    f = Fix(t, 0, 50726000 + 18000, -1879500, 100, 0, 0, 50, 100, 8, 1, 3, 0)
    m.on_fix(t, f)
    return m.state(7)


times = st.times().map(lambda t: t.replace(microsecond=0, second=0))


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(TZS),
    start=times,
    end=times,
    days=st.sampled_from(["daily", "mon-fri", "sat,sun", "fri-mon", "wed"]),
    when=st.integers(0, 18 * 365),
)
def test_windows_years_after_compile_open_and_close_where_zoneinfo_says(
    tz, start, end, days, when
) -> None:
    if start == end:
        return
    sched = {"tz": tz, "rules": [{"days": days, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}]}
    blob = _blob(sched)
    day = START + timedelta(days=when)
    for a, b in windows(parse_schedule(sched), day, 1)[:3]:
        assert _state(blob, a - 1) == Z.CLEAR or _touching(sched, a), (day, a)
        assert _state(blob, a) != Z.CLEAR, (tz, day, a)
        assert _state(blob, b - 1) != Z.CLEAR, (tz, day, b)
        assert _state(blob, b) == Z.CLEAR or _touching(sched, b), (tz, day, b)


def _touching(sched: dict, t: int) -> bool:
    # Windows of the next or previous day that touch this one (a 24 h rule across a change).
    d = to_datetime(t)
    ws = windows(parse_schedule(sched), d.date() - timedelta(days=2), 1)
    return any(a <= t < b for a, b in ws)


def test_the_curfew_is_enforced_ten_years_on_through_a_clock_change() -> None:
    # London, 19:00-07:00: on the night of 2036-10-25/26 the clocks go back, a 13 h window.
    curfew = {"tz": "Europe/London", "rules": [{"days": "daily", "start": "19:00", "end": "07:00"}]}
    blob = _blob(curfew)
    from datetime import datetime, timezone

    s = seconds_2000(datetime(2036, 10, 25, 18, 0, tzinfo=timezone.utc))  # 19:00 BST
    e = seconds_2000(datetime(2036, 10, 26, 7, 0, tzinfo=timezone.utc))  # 07:00 GMT
    assert [_state(blob, t) != Z.CLEAR for t in (s - 1, s, e - 1, e)] == [0, 1, 1, 0]


def test_past_valid_until_the_tag_warns_once_and_keeps_the_curfew() -> None:
    curfew = {"tz": "Europe/London", "rules": [{"days": "daily", "start": "19:00", "end": "07:00"}]}
    blob = _blob(curfew, years=2)
    h = B.parse_header(blob)
    m = Z.ZoneMonitor(blob)
    kinds = []
    for night in range(3):  # three nights past valid_until: still in breach each night
        t = h.valid_until + night * 86400 + 21 * 3600  # 21:00 UTC
        for k in range(12):
            f = Fix(t + 15 * k, 0, 50726000 + 18000, -1879500, 100, 0, 0, 50, 100, 8, 1, 3, 0)
            kinds += [a.kind for a in m.on_fix(t + 15 * k, f)]
        f = Fix(t + 12 * 3600, 0, 50726000 + 18000, -1879500, 100, 0, 0, 50, 100, 8, 1, 3, 0)
        kinds += [a.kind for a in m.on_fix(t + 12 * 3600, f)]  # 09:00: the window closed
    assert kinds.count(Z.A_CONFIG_EXPIRED) == 1
    assert kinds.count(Z.A_BREACH) == 3 and kinds.count(Z.A_BREACH_END) == 3


def test_an_old_version_blob_is_refused_with_a_clear_reason() -> None:
    blob = bytearray(_blob({"tz": "UTC", "rules": [{"start": "19:00", "end": "07:00"}]}))
    blob[4] = 1
    struct.pack_into("<I", blob, 20, B.crc(blob))
    m = Z.ZoneMonitor(bytes(blob))
    assert m.error == "old_version" and m.zones == []
