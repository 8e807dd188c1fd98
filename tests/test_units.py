"""The host's units are the core's (taghost.units, docs/conventions.md): one epoch, held by
tagcore.compat, in both its forms; one metres-per-degree, tagcore.geo's; and the sample log the
host tools' tests read is laid out with them."""

from __future__ import annotations

import calendar
import math
from datetime import datetime, timezone
from itertools import pairwise

from tagcore import compat, geo
from taghost import samplelog, units


def test_the_hosts_epoch_is_the_cores_as_seconds_and_as_a_datetime() -> None:
    # the one literal of the epoch outside tagcore.compat: every other site imports it
    assert units.UNIX_2000 == compat.UNIX_2000 == calendar.timegm((2000, 1, 1, 0, 0, 0))
    assert units.EPOCH_2000 == datetime(2000, 1, 1, tzinfo=timezone.utc)
    assert units.EPOCH_2000.timestamp() == compat.UNIX_2000
    assert units.seconds_2000(units.to_datetime(samplelog.T0)) == samplelog.T0
    assert units.iso(samplelog.T0) == "2026-12-07T23:06:40Z"  # samplelog's T0 says so


def test_the_hosts_metres_per_degree_is_the_cores() -> None:
    # geo.udeg_to_dm rounds to the decimetre (half up); the float is good to 1e-9 of it
    for deg in (1, 5, 45, 80, 90):
        d = deg * geo.UDEG_PER_DEG
        assert abs(geo.udeg_to_dm(d) - units.M_PER_DEG * 10 * deg) <= 0.5 + 1e-6, deg
        assert geo.udeg_to_dm(-d) == -geo.udeg_to_dm(d)


def test_the_sample_walk_and_zone_are_laid_out_on_the_cores_sphere() -> None:
    # metres read back with the core's metres per degree are the metres the sample was built
    # with (at 111,200 m/deg, its old constant, the zone sat 300.014 m east and the walk's
    # steps were 6.9997 m)
    cos0 = math.cos(math.radians(samplelog.LAT0))
    steps = [
        (lon2 - lon) * units.M_PER_DEG * cos0
        for (_, _, lon), (_, _, lon2) in pairwise(samplelog.walk())
    ]
    assert all(abs(s - samplelog.STEP_S * 1.4) < 1e-6 for s in steps), steps[:3]
    (zone,) = samplelog.zones_geojson()["features"]
    lon, lat = zone["geometry"]["coordinates"]
    assert lat == samplelog.LAT0
    assert abs((lon - samplelog.LON0) * units.M_PER_DEG * cos0 - 300) < 1e-6


def test_the_apis_times_are_the_units_and_exact_to_the_millisecond() -> None:
    # One time-to-text conversion on the host: the server's API uses units' own (to the ms).
    from taghost.server import api
    from taghost.units import iso, iso_ms

    assert api.iso is iso_ms and iso_ms(None) is None
    for k in (0, 1, 999, 826_185_600_123, 2 * 10**12 + 7):
        assert iso_ms(k / 1000) == iso(k // 1000)[:-1] + f".{k % 1000:03d}Z"


def test_one_text_to_time_conversion_and_its_three_wrappers() -> None:
    # units.parse_iso is the core; the API adds Unix seconds, beacon its UserError, the
    # simulator TOML datetimes: on the ISO text they all share, they agree
    import pytest
    from taghost import beaconcli
    from taghost.errors import UserError
    from taghost.server import api
    from tagsim import simtime

    t0 = samplelog.T0
    for text in ("2026-12-07T23:06:40Z", "2026-12-07T23:06:40", "2026-12-08T00:06:40+01:00"):
        assert units.parse_iso(text) == t0, text
        assert api.parse_time(text) == beaconcli.parse_time(text) == t0, text
        assert simtime.parse_instant(text) == t0, text
    assert units.parse_iso(units.to_datetime(t0)) == t0
    assert simtime.parse_instant(units.to_datetime(t0).replace(tzinfo=None)) == t0  # TOML local
    assert api.parse_time(str(units.UNIX_2000 + t0)) == t0 and api.parse_time("") is None
    for bad in ("yesterday", "2026-13-01T00:00Z"):
        with pytest.raises(ValueError):
            units.parse_iso(bad)
        with pytest.raises(ValueError, match="not a time"):
            api.parse_time(bad)
        with pytest.raises(UserError):
            beaconcli.parse_time(bad)
        with pytest.raises(ValueError, match="ISO 8601"):
            simtime.parse_instant(bad)
    with pytest.raises(ValueError, match="expected a date-time"):
        simtime.parse_instant(units.to_datetime(t0).date())


def test_one_metre_offset_and_its_exact_inverse() -> None:
    # units.offset (origin latitude) is what the zone compiler, the sample log and the
    # simulator place points with; offset_m reads an offset back as itself (the fix error)
    from tagsim import geo

    assert geo.offset is units.offset
    for lat, lon, e, n in ((50.73, -1.86, 300.0, 6.0), (-33.9, 151.2, -12.5, 40.0), (0, 0, 1, -1)):
        lat2, lon2 = units.offset(lat, lon, e, n)
        assert abs(lat2 - lat - n / units.M_PER_DEG) < 1e-12
        e2, n2 = units.offset_m(lat, lon, lat2, lon2)
        assert abs(e2 - e) < 1e-6 and abs(n2 - n) < 1e-6, (e2, n2)
        # the mean-latitude enu differs from it only in the second order (a path's length)
        ge, gn = geo.enu(lat, lon, lat2, lon2)
        assert gn == n2 and abs(ge - e2) < 1e-3 * max(1.0, abs(e))
