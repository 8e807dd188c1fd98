"""Host zone tools: GeoJSON validation messages, DST-correct schedule windows checked to the
second against the device's monitor, and the `opentag zones` command."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tagcore.fix import Fix
from tagcore.zones import monitor as Z
from taghost import zonecli
from taghost.units import M_PER_DEG, UNIX_2000
from taghost.zoneconfig import (
    DEFAULT_WARNING_M,
    ZoneConfigError,
    compile_blob,
    read_file,
    read_zones,
)
from taghost.zoneschedule import local_to_utc, parse_schedule, seconds_2000, windows

EXAMPLE = Path(__file__).resolve().parent.parent / "host/taghost/examples/zones-bournemouth.geojson"
LONDON = ZoneInfo("Europe/London")
CURFEW = {"tz": "Europe/London", "rules": [{"days": "daily", "start": "19:00", "end": "07:00"}]}


def utc(*a: int) -> int:
    return seconds_2000(datetime(*a, tzinfo=timezone.utc))


def feature(geom: dict, **props) -> dict:
    base = {"id": 7, "name": "Park", "kind": "exclusion"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geom}


def poly(*rings: list) -> dict:
    return {"type": "Polygon", "coordinates": [[*r, r[0]] for r in rings]}


SQUARE = [[-1.88, 50.72], [-1.87, 50.72], [-1.87, 50.73], [-1.88, 50.73]]


def problems(*feats: dict) -> list[str]:
    with pytest.raises(ZoneConfigError) as e:
        read_zones({"type": "FeatureCollection", "features": list(feats)})
    return e.value.problems


def one_zone(feat: dict):
    [z] = read_zones({"type": "FeatureCollection", "features": [feat]})
    return z


def one_problem(feat: dict) -> str:
    [p] = problems(feat)
    assert "zone 7 'Park'" in p  # every message names the zone
    return p


def test_the_example_file_is_valid_and_compiles_for_the_device() -> None:
    zones = read_file(EXAMPLE)
    assert [(z.id, z.shape) for z in zones] == [(1, 1), (2, 2), (3, 1), (4, 3)]
    blob = compile_blob(zones, date(2026, 10, 19), 4)
    m = Z.ZoneMonitor(blob)
    assert m.error is None and [z.id for z in m.zones] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("geom", "props", "words"),
    [
        (
            poly([[-1.88, 50.72], [-1.87, 50.73], [-1.87, 50.72], [-1.88, 50.73]]),
            {},
            "crosses itself",
        ),
        (poly(SQUARE[:2]), {}, "fewer than 3 distinct points"),
        ({"type": "Polygon", "coordinates": [SQUARE]}, {}, "not closed"),
        (poly([[-1.88, 50.72], [-1.87, 50.72], [-1.86, 50.72]]), {}, "zero area"),
        (
            poly(SQUARE, [[-1.9, 50.7], [-1.89, 50.7], [-1.89, 50.71]]),
            {},
            "Hole lies outside shell",
        ),
        (
            {"type": "Point", "coordinates": [-1.88, 50.72]},
            {"radius_m": 0},
            "'radius_m' = 0 is absurd",
        ),
        ({"type": "Point", "coordinates": [-1.88, 50.72]}, {"radius_m": 5e6}, "is absurd"),
        ({"type": "Point", "coordinates": [-1.88, 50.72]}, {}, "needs a 'radius_m'"),
        ({"type": "LineString", "coordinates": SQUARE}, {"width_m": 1e5}, "'width_m'"),
        ({"type": "LineString", "coordinates": [SQUARE[0]]}, {"width_m": 20}, "fewer than 2"),
        (poly([[179.99, -17.0], [-179.99, -17.0], [-179.99, -17.01]]), {}, "antimeridian"),
        ({"type": "Point", "coordinates": [179.9999, 0]}, {"radius_m": 100}, "antimeridian"),
        ({"type": "Point", "coordinates": [179.998, 0]}, {"radius_m": 100}, "of the antimeridian"),
        (poly([[179.999, 0], [179.998, 0], [179.998, 0.001]]), {}, "of the antimeridian"),
        (poly([[10, 85], [11, 85], [11, 85.1]]), {}, "too near a pole"),
        ({"type": "Point", "coordinates": [0, 79.9999]}, {"radius_m": 500}, "too near a pole"),
        (poly([[-1.5, 50.5], [-1.0, 50.5], [-1.0, 51.0]]), {}, "too large"),
        (poly(SQUARE), {"kind": "forbidden"}, "'kind' must be"),
        (poly(SQUARE), {"warning_m": -3}, "'warning_m'"),
        (
            {"type": "Point", "coordinates": [-1.88, 50.72]},
            {"kind": "inclusion", "radius_m": 40, "warning_m": 50},
            "covers the whole inclusion zone",
        ),
        (poly(SQUARE), {"schedule": {"tz": "Mars/Olympus", "rules": []}}, "unknown time zone"),
        (
            poly(SQUARE),
            {"schedule": {**CURFEW, "rules": [{"start": "25:00", "end": "07:00"}]}},
            "bad time",
        ),
        (
            poly(SQUARE),
            {"schedule": {**CURFEW, "rules": [{"days": "moon", "start": "19:00", "end": "07:00"}]}},
            "unknown day",
        ),
        ({"type": "GeometryCollection", "geometries": []}, {}, "is not a zone"),
        ({"type": "Point", "coordinates": [-1.88, "x"]}, {"radius_m": 10}, "finite numbers"),
    ],
)
def test_each_bad_zone_is_refused_with_a_message_naming_it(geom, props, words) -> None:
    assert words in one_problem(feature(geom, **props))


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    good = feature(poly(SQUARE))
    dup = copy.deepcopy(good)
    nameless = feature(poly(SQUARE), id=0)
    got = problems(good, dup, nameless, feature(poly(SQUARE[:2]), id=8))
    assert len(got) == 3
    assert "id 7 is already used" in got[0] and "'id' must be" in got[1]
    assert "zone 8" in got[2]
    with pytest.raises(ZoneConfigError, match="FeatureCollection"):
        read_zones({"type": "Feature"})


def test_multipolygon_parts_become_zones_with_the_same_id() -> None:
    far = [[x + 0.1, y] for x, y in SQUARE]
    geom = {"type": "MultiPolygon", "coordinates": [[[*SQUARE, SQUARE[0]]], [[*far, far[0]]]]}
    zones = read_zones({"type": "FeatureCollection", "features": [feature(geom)]})
    assert [z.id for z in zones] == [7, 7] and zones[0].anchor != zones[1].anchor


# ---- schedules -------------------------------------------------------------------------------
def test_curfew_nights_across_both_london_dst_changes() -> None:
    sched = parse_schedule(CURFEW)
    spring = windows(sched, date(2026, 3, 27), 1)
    # 19:00 GMT on Saturday 28 March to 07:00 BST (06:00Z) on Sunday 29: an 11-hour night.
    assert (utc(2026, 3, 28, 19), utc(2026, 3, 29, 6)) in spring
    assert (utc(2026, 3, 29, 18), utc(2026, 3, 30, 6)) in spring  # 19:00 BST from then on
    autumn = windows(sched, date(2026, 10, 23), 1)
    # 19:00 BST (18:00Z) on Saturday 24 October to 07:00 GMT on Sunday 25: 13 hours.
    assert (utc(2026, 10, 24, 18), utc(2026, 10, 25, 7)) in autumn
    assert (utc(2026, 10, 25, 19), utc(2026, 10, 26, 7)) in autumn


def test_skipped_and_repeated_local_times() -> None:
    # 01:30 on 29 March 2026 never happens in London: the clocks jump 01:00 GMT -> 02:00 BST.
    for latest in (False, True):
        t = local_to_utc(datetime(2026, 3, 29, 1, 30), LONDON, latest)
        assert t == datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)
    # 01:30 on 25 October 2026 happens twice: 00:30Z (BST) and 01:30Z (GMT).
    amb = datetime(2026, 10, 25, 1, 30)
    assert local_to_utc(amb, LONDON, False) == datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    assert local_to_utc(amb, LONDON, True) == datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc)
    w = windows(
        parse_schedule(
            {"tz": "Europe/London", "rules": [{"days": "sun", "start": "01:30", "end": "01:45"}]}
        ),
        date(2026, 10, 25),
        1,
    )
    assert w[0] == (utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 45))  # never shorter


def test_weekday_rules_and_ranges_that_wrap() -> None:
    sched = parse_schedule(
        {"tz": "UTC", "rules": [{"days": "fri-mon", "start": "09:00", "end": "10:00"}]}
    )
    days = [
        datetime.fromtimestamp(a + UNIX_2000, timezone.utc).strftime("%a")
        for a, _ in windows(sched, date(2026, 11, 2), 1)
    ]
    assert days == ["Mon", "Fri", "Sat", "Sun"]


@settings(max_examples=60, deadline=None)
@given(
    tz=st.sampled_from(
        ["Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "Europe/Berlin"]
    ),
    day=st.dates(date(2026, 1, 1), date(2027, 12, 1)),
    start=st.times().map(lambda t: t.replace(microsecond=0)),
    hours=st.integers(1, 23),
)
def test_windows_start_and_end_at_the_local_times_asked_for(tz, day, start, hours) -> None:
    end = datetime.combine(day, start).replace(hour=(start.hour + hours) % 24).time()
    sched = parse_schedule(
        {"tz": tz, "rules": [{"start": start.isoformat(), "end": end.isoformat()}]}
    )
    zi = ZoneInfo(tz)
    ws = windows(sched, day, 1)
    assert ws == sorted(ws) and all(a < b for a, b in ws)
    assert all(b1 < a2 for (_, b1), (a2, _) in pairwise(ws))  # merged: no touching windows
    h0 = seconds_2000(datetime.combine(day, datetime.min.time(), timezone.utc))
    h1 = h0 + 7 * 86400
    for a, b in ws:
        for t, want in ((a, start), (b, end)):
            if t in (h0, h1):
                continue  # clipped to the horizon
            local = datetime.fromtimestamp(t + UNIX_2000, zi)
            # Exactly the wall time asked for, or the instant the clocks skipped over it.
            assert local.time() == want or _in_gap(zi, local, want), (t, local, want)


def _in_gap(zi: ZoneInfo, local: datetime, want) -> bool:
    naive = datetime.combine(local.date(), want)
    back = naive.replace(tzinfo=zi).astimezone(timezone.utc).astimezone(zi).replace(tzinfo=None)
    return back != naive  # `want` does not exist that day


def test_curfew_edges_to_the_second_on_the_device() -> None:
    doc = {
        "type": "FeatureCollection",
        "features": [
            feature(
                {"type": "Point", "coordinates": [-1.8795, 50.726]},
                kind="inclusion",
                radius_m=40,
                schedule=CURFEW,
            )
        ],
    }
    blob = compile_blob(read_zones(doc), date(2026, 10, 19), 2)
    start, end = utc(2026, 10, 24, 18), utc(2026, 10, 25, 7)  # the autumn night
    away = Fix(0, 0, 50736000, -1879500, 0, 0, 0, 50, 100, 8, 1, 3, 0)  # 1.1 km north
    for t, want in (
        (start - 1, Z.CLEAR),
        (start, Z.POSSIBLE),
        (end - 1, Z.POSSIBLE),
        (end, Z.CLEAR),
    ):
        m = Z.ZoneMonitor(blob)
        if want == Z.CLEAR and t == end:
            m.on_fix(t - 1, away._replace(t=t - 1))
        m.on_fix(t, away._replace(t=t))
        assert m.state(7) == want, (t - start, m.state(7))


# ---- the command -----------------------------------------------------------------------------
def test_zones_command_check_compile_show(tmp_path: Path, capsys) -> None:
    assert zonecli.main(["check", str(EXAMPLE), "--start", "2026-10-19"]) == 0
    out = capsys.readouterr().out
    assert "4 zones, valid" in out and "Town centre" in out and "Europe/London" in out
    blob = tmp_path / "z.bin"
    assert zonecli.main(["compile", str(EXAMPLE), "--out", str(blob), "--start", "2026-10-19"]) == 0
    assert Z.ZoneMonitor(blob.read_bytes()).error is None
    assert zonecli.main(["show", str(blob)]) == 0
    out = capsys.readouterr().out
    assert "4 zones, unsigned" in out and "confirm_n=3" in out
    bad = tmp_path / "bad.geojson"
    bad.write_text(
        json.dumps({"type": "FeatureCollection", "features": [feature(poly(SQUARE[:2]))]})
    )
    assert zonecli.main(["check", str(bad)]) == 1
    assert "fewer than 3 distinct points" in capsys.readouterr().err
    blob.write_bytes(blob.read_bytes()[:-1])
    assert zonecli.main(["show", str(blob)]) == 1


def test_zones_json_holds_the_facts_the_text_says(tmp_path: Path, capsys) -> None:
    # check, compile and show --json: one document each that parses, with what the text says
    from taghost.cli import main as opentag

    check = ["zones", "check", str(EXAMPLE), "--start", "2026-10-19"]
    assert opentag(check) == 0
    text = capsys.readouterr().out
    assert opentag([*check, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] and doc["problems"] == [] and doc["start"] == "2026-10-19"
    assert f"{len(doc['zones'])} zones, valid" in text
    for z, line in zip(doc["zones"], text.splitlines()[1:], strict=True):
        assert f"zone {z['id']}" in line and z["kind"] in line and z["shape"] in line
        assert f"ring {z['warning_m']} m" in line and f"area {z['area_m2']:,} m2" in line
        assert f"{abs(z['lat_deg']):.6f}" in line and f"{abs(z['lon_deg']):.6f}" in line
        if z["schedule"] is None:
            assert line.endswith("always")
        else:
            sch = z["schedule"]
            assert f"{len(sch['windows'])} windows in {sch['weeks']} weeks ({sch['tz']})" in line
    assert any(z["name"] == "Town centre" for z in doc["zones"])

    blob = tmp_path / "z.bin"
    comp = ["zones", "compile", str(EXAMPLE), "--out", str(blob), "--start", "2026-10-19"]
    assert opentag(comp) == 0
    text = capsys.readouterr().out
    assert opentag([*comp, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["out"] == str(blob) and doc["bytes"] == blob.stat().st_size
    assert f"{doc['bytes']} bytes, {doc['zones']} zones" in text and f"CRC {doc['crc']}" in text
    assert doc["valid_from"].replace("T", " ") in text

    show = ["zones", "show", str(blob), "--from", "2026-10-24"]
    assert opentag(show) == 0
    text = capsys.readouterr().out
    assert opentag([*show, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert f"version {doc['version']}, {doc['count']} zones, unsigned" in text
    assert not doc["signed"] and doc["rules"]["confirm_n"] == 3 and "confirm_n=3" in text
    assert len(doc["zones"]) == doc["count"] == 4
    for z in doc["zones"]:
        assert f"zone {z['id']:5} {z['kind']:9} {z['shape']:8}" in text
        for n in z.get("nights", ()):
            local = n["from_local"].replace("T", " ")[:16] + f" (UTC{n['from_local'][16:]})"
            assert f"    {local} to " in text and f", {n['hours']:g} h" in text
    assert sum(len(z.get("nights", ())) for z in doc["zones"]) > 7

    # refused: exit 1, the problems on stderr and in the document
    broken = EXAMPLE.with_name("zones-broken.geojson")
    assert opentag(["zones", "check", str(broken), "--json"]) == 1
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert not doc["valid"] and len(doc["problems"]) == 5 and "5 problem(s)" in err
    blob.write_bytes(blob.read_bytes()[:-1])
    assert opentag(["zones", "show", str(blob), "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert not doc["valid"] and "refused by the tag's loader" in doc["problems"][0]


def test_the_broken_example_through_opentag(capsys) -> None:
    from taghost.cli import main as opentag

    broken = EXAMPLE.with_name("zones-broken.geojson")
    assert opentag(["zones", "check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "5 problem(s)" in err
    for words in ("crosses itself near [-1.875", "radius_m", "zero area", "antimeridian", "Londn"):
        assert words in err
    assert opentag(["zones", "check", str(EXAMPLE)]) == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_mangled_file_is_refused_with_messages_not_a_crash(data) -> None:
    doc = json.loads(EXAMPLE.read_text())
    for _ in range(data.draw(st.integers(1, 4))):
        node = doc
        while True:  # walk down to a random place and replace what is there
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            k = data.draw(st.sampled_from(keys))
            if isinstance(node[k], dict | list) and data.draw(st.booleans()):
                node = node[k]
                continue
            node[k] = data.draw(json_values)
            break
    try:
        zones = read_zones(doc)
    except ZoneConfigError as e:
        assert e.problems and all(isinstance(p, str) for p in e.problems)
        return
    try:
        blob = compile_blob(zones, date(2026, 10, 19), 2)
    except ZoneConfigError as e:
        assert "schedule has no window" in str(e)
        return
    assert Z.ZoneMonitor(blob).error is None


def test_an_inclusion_zones_default_ring_leaves_its_middle_calm() -> None:
    # A 110 m home: with the default 50 m ring a wearer indoors in the middle (accuracy ~30 m)
    # would be "approaching" all night, sampling every 15 s; by default the ring stops 40 m
    # short of the middle instead.
    home = {"type": "Point", "coordinates": [-1.88, 50.72]}
    z = one_zone(feature(home, kind="inclusion", radius_m=55))
    assert z.warning_m == 15
    big = one_zone(feature(home, kind="inclusion", radius_m=400))
    assert big.warning_m == DEFAULT_WARNING_M
    excl = one_zone(feature(home, kind="exclusion", radius_m=55))
    assert excl.warning_m == DEFAULT_WARNING_M  # outside the zone: nothing to squeeze
    # a polygon's inner radius is its inscribed circle's (shapely's pole of inaccessibility):
    # a 200 m x 100 m block is 50 m deep whatever its length
    lat, lon = 50.72, -1.88
    dlat, dlon = 100 / M_PER_DEG, 200 / (M_PER_DEG * 0.6327)
    strip = poly([[lon, lat], [lon + dlon, lat], [lon + dlon, lat + dlat], [lon, lat + dlat]])
    z = one_zone(feature(strip, kind="inclusion"))
    assert 9 <= z.warning_m <= 10
    # and the middle of the house really is calm: a fix there at indoor accuracy is "inside",
    # not "warning", while one at the ring's depth is
    t = utc(2026, 3, 2, 12)
    mid = Fix(t, 0, 50720000, -1880000, None, None, None, 300, 100, 6, 1, 3, 0)  # 30 m
    for props, want in (({}, Z.CLEAR), ({"warning_m": 40}, Z.WARNING)):
        zone = one_zone(feature(home, kind="inclusion", radius_m=55, **props))
        m = Z.ZoneMonitor(compile_blob([zone], date(2026, 3, 2), 1))
        m.on_fix(t, mid)
        assert m.state(7) == want, props
