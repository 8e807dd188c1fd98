"""Bad input never raises out of the zone monitor: arbitrary fix fields (absurd, negative,
missing), arbitrary times and no-fix calls, against the example configuration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.events import decode, encode
from tagcore.fix import Fix
from tagcore.zones.monitor import STORED_ALERTS, ZoneMonitor
from taghost.zoneconfig import compile_blob, read_file

EXAMPLE = Path(__file__).resolve().parent.parent / "host/taghost/examples/zones-bournemouth.geojson"
BLOB = compile_blob(read_file(EXAMPLE), date(2026, 10, 19), 4)
T = 846000000

big = st.integers(-(2**31), 2**31 - 1)
opt = st.none() | big
near_lat = st.integers(50700000, 50760000)
near_lon = st.integers(-1950000, -1820000)
fixes = st.builds(
    Fix,
    t=st.integers(T - 10**6, T + 3 * 10**6),
    ms=st.integers(0, 999),
    lat=near_lat | big | st.none(),
    lon=near_lon | big | st.none(),
    alt_dm=opt,
    speed_cms=opt,
    course_cd=opt,
    acc_dm=opt | st.integers(0, 2000),
    hdop_c=opt,
    sats=st.integers(0, 127),  # the reader saturates at 127: what the store keeps
    quality=st.integers(0, 9),
    mode=st.integers(0, 3),
    flags=st.integers(0, 15),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), fixes), max_size=60))
def test_any_fix_stream_is_decided_without_raising(steps) -> None:
    m = ZoneMonitor(BLOB)
    for is_fix, f in steps:
        alerts = m.on_fix(f.t, f) if is_fix else m.on_no_fix(f.t)
        m.wanted_interval(f.t)
        for a in alerts:
            ev = encode(a) if a.kind in STORED_ALERTS else None
            if ev is not None and all(x.lat is not None and x.lon is not None for x in a.evidence):
                assert decode(ev[0], a.t, ev[1]) == a
