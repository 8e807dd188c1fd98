"""Issue 13, items 8 and 12: zones too small for the accuracy the tag will have there, and the
silent surprises an officer would not expect, each get a refusal or a warning from the zone
compiler (and `zones check` prints them, with where each zone is)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from taghost import zonecli
from taghost.zoneconfig import ZoneConfigError, file_warnings, read_zones

LONDON = [-0.1276, 51.5072]
CURFEW = {"tz": "Europe/London", "rules": [{"days": "daily", "start": "19:00", "end": "07:00"}]}


def feat(geom: dict, zid: int = 7, **props) -> dict:
    base = {"id": zid, "name": f"Z{zid}", "kind": "exclusion"}
    return {"type": "Feature", "properties": {**base, **props}, "geometry": geom}


def point(lonlat=LONDON) -> dict:
    return {"type": "Point", "coordinates": list(lonlat)}


def square(lon: float, lat: float, half_deg: float) -> dict:
    d = half_deg
    ring = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d]]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def doc(*feats: dict, **extra) -> dict:
    return {"type": "FeatureCollection", "features": list(feats), **extra}


def warnings_of(d: dict, start: date = date(2027, 3, 1), weeks: int = 8) -> list[str]:
    return file_warnings(read_zones(d), start, weeks)


def refusal(d: dict) -> str:
    with pytest.raises(ZoneConfigError) as e:
        read_zones(d)
    return "\n".join(e.value.problems)


# ---- item 8: zones too small for GNSS -------------------------------------------------------
@pytest.mark.parametrize("kind", ["exclusion", "inclusion"])
@pytest.mark.parametrize("r", [5, 7.5, 9.9])
def test_circles_too_small_to_end_a_breach_are_refused(kind, r) -> None:
    msg = refusal(doc(feat(point(), kind=kind, radius_m=r, warning_m=0)))
    assert "too small" in msg and "zone 7" in msg


@pytest.mark.parametrize("kind", ["exclusion", "inclusion"])
@pytest.mark.parametrize("r", [10, 14, 19.5])
def test_small_circles_are_compiled_with_a_warning(kind, r) -> None:
    w = warnings_of(doc(feat(point(), kind=kind, radius_m=r, warning_m=0)))
    assert any("small" in x and "zone 7" in x for x in w), w


def test_narrow_corridors_and_thin_polygons_are_refused() -> None:
    line = {"type": "LineString", "coordinates": [LONDON, [LONDON[0] + 0.01, LONDON[1]]]}
    assert "too small" in refusal(doc(feat(line, kind="inclusion", width_m=12, warning_m=0)))
    thin = square(LONDON[0], LONDON[1], 0.00005)  # about 7 x 11 m
    assert "too small" in refusal(doc(feat(thin, warning_m=0)))


def test_ordinary_zones_have_no_warning() -> None:
    home = feat(point(), 1, kind="inclusion", radius_m=60, schedule=CURFEW)
    park = feat(square(LONDON[0] + 0.05, LONDON[1], 0.003), 2)
    assert warnings_of(doc(home, park)) == []


# ---- item 12: silent surprises ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("tz", "words"),
    [
        ("EST", "fixed"),
        ("MST", "fixed"),
        ("HST", "fixed"),
        ("Etc/GMT+1", "UTC-01"),
        ("Etc/GMT-3", "UTC+03"),
        ("CET", "not a place"),
        ("EST5EDT", "not a place"),
    ],
)
def test_time_zones_an_officer_would_misread_are_warned_about(tz, words) -> None:
    sched = {**CURFEW, "tz": tz}
    w = warnings_of(doc(feat(point(), kind="inclusion", radius_m=60, schedule=sched)))
    assert any(tz in x and words in x for x in w), w


def test_a_place_time_zone_is_not_warned_about() -> None:
    w = warnings_of(doc(feat(point(), kind="inclusion", radius_m=60, schedule=CURFEW)))
    assert w == []


@pytest.mark.parametrize(
    ("lonlat", "tz"),
    [
        ((51.5072, -0.1276), "Europe/London"),
        ((40.7128, -74.006), "America/New_York"),
        ((-33.8688, 151.2093), "Australia/Sydney"),
    ],
)
def test_swapped_latitude_and_longitude_are_warned_about(lonlat, tz) -> None:
    sched = {**CURFEW, "tz": tz}
    swapped = doc(feat(point(lonlat), kind="inclusion", radius_m=60, schedule=sched))
    if abs(lonlat[1]) > 90:  # not a latitude at all: refused, with the likely reason
        assert "swapped" in refusal(swapped)
    else:
        w = warnings_of(swapped)
        assert any("swapped" in x for x in w), w
    right = (lonlat[1], lonlat[0])
    w = warnings_of(doc(feat(point(right), kind="inclusion", radius_m=60, schedule=sched)))
    assert not any("swapped" in x for x in w), w


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}},
        {"type": "name", "properties": {"name": "EPSG:3857"}},
        {"type": "link", "properties": {"href": "http://example.org/crs"}},
        "EPSG:27700",
    ],
)
def test_a_crs_other_than_wgs84_is_refused(crs) -> None:
    msg = refusal(doc(feat(point(), radius_m=50), crs=crs))
    assert "crs" in msg


def test_a_wgs84_crs_is_accepted_and_epsg_4326_gets_an_axis_order_warning() -> None:
    ok = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert warnings_of(doc(feat(point(), radius_m=50), crs=ok)) == []
    lat_lon = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4326"}}
    w = warnings_of(doc(feat(point(), radius_m=50), crs=lat_lon))
    assert any("4326" in x and "longitude, latitude" in x for x in w), w


def test_an_exclusion_zone_over_the_curfew_home_is_warned_about() -> None:
    home = feat(point(), 1, kind="inclusion", radius_m=60, schedule=CURFEW)
    over = feat(square(LONDON[0], LONDON[1], 0.0004), 2)  # about 55 x 90 m around it
    w = warnings_of(doc(home, over))
    assert any("zone 2" in x and "zone 1" in x and "overlaps" in x for x in w), w
    away = feat(square(LONDON[0] + 0.01, LONDON[1], 0.0004), 2)
    assert warnings_of(doc(home, away)) == []


@pytest.mark.parametrize(
    ("tz", "night"),
    [("Europe/London", "2027-03-28"), ("America/New_York", "2027-03-14")],
)
def test_a_window_the_clock_change_skips_is_warned_about(tz, night) -> None:
    loc = LONDON if tz == "Europe/London" else [-74.006, 40.7128]
    hour = "01" if tz == "Europe/London" else "02"
    rules = [{"days": "sun", "start": f"{hour}:00", "end": f"{hour}:45"}]
    sched = {"tz": tz, "rules": rules}
    w = warnings_of(doc(feat(point(loc), kind="inclusion", radius_m=60, schedule=sched)))
    assert any(night in x and "does not exist" in x for x in w), w


def test_check_prints_warnings_and_where_each_zone_is(tmp_path: Path, capsys) -> None:
    home = feat(point(), 1, kind="inclusion", radius_m=60, schedule={**CURFEW, "tz": "EST"})
    p = tmp_path / "z.geojson"
    p.write_text(json.dumps(doc(home)))
    assert zonecli.main(["check", str(p), "--start", "2027-03-01"]) == 0
    got = capsys.readouterr()
    assert "warning:" in got.err and "EST" in got.err
    assert "51.507200 N, 0.127600 W" in got.out
