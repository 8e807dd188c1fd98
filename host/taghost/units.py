"""The core's units on the host, in one place: its time base and its metres per degree.

Time: integer seconds since 2000-01-01T00:00:00Z (Fix.t, every `now`), which is
tagcore.compat.UNIX_2000 Unix seconds. Distance: tagcore.geo's sphere (radius 6,371,000 m), on
which a degree of latitude is 111,194.93 m. Host tools, the server and the simulator all convert
with these, so a figure never depends on which side of the project computed it.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from tagcore.compat import UNIX_2000
from tagcore.geo import DM_PER_UDEG_DEN, DM_PER_UDEG_NUM, R_EARTH_DM

# The core's epoch in both forms, from its one definition (tagcore.compat): UNIX_2000 (Unix
# seconds, for time.time() and servers) and EPOCH_2000 (the aware datetime).
EPOCH_2000 = datetime.fromtimestamp(UNIX_2000, timezone.utc)
R_EARTH_M = R_EARTH_DM / 10
M_PER_DEG = DM_PER_UDEG_NUM * 100_000 / DM_PER_UDEG_DEN  # 111194.93: dm per microdegree x 10^5
assert abs(M_PER_DEG - math.pi * R_EARTH_M / 180) < 0.01  # the two forms of the one sphere


def to_datetime(t: float) -> datetime:
    """The UTC datetime of t seconds since 2000."""
    return EPOCH_2000 + timedelta(seconds=t)


def seconds_2000(dt: datetime) -> int:
    """Whole seconds since 2000 of an aware datetime."""
    return int((dt - EPOCH_2000).total_seconds())


def iso(t: float) -> str:
    """t seconds since 2000 as ISO 8601 UTC to the second: 2026-04-20T06:00:00Z."""
    return to_datetime(int(t)).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(t: float | None) -> str | None:
    """t seconds since 2000 as ISO 8601 UTC to the millisecond (the server's API and exports,
    taghost.server.api.iso): 2026-04-20T06:00:00.250Z; None stays None."""
    if t is None:
        return None
    return to_datetime(t).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(v: str | datetime) -> int:
    """An ISO 8601 date-time (text, 'Z' allowed, or a datetime as TOML reads one), UTC unless
    it names a zone, as whole seconds since 2000 (truncated towards 2000). The one text-to-time
    conversion on the host: the server's API (`api.parse_time`, which also takes Unix
    seconds), `opentag beacon` (`beaconcli.parse_time`, its UserError) and the simulator's
    scenarios (`tagsim.simtime.parse_instant`, TOML datetimes) wrap it with their own messages.

    Raises ValueError for text that is not an ISO 8601 date-time; TypeError for neither text
    nor a datetime."""
    if isinstance(v, str):
        v = datetime.fromisoformat(v.replace("Z", "+00:00"))
    if not isinstance(v, datetime):
        raise TypeError(f"expected text or a datetime, got {v!r}")
    if v.tzinfo is None:
        v = v.replace(tzinfo=timezone.utc)
    return seconds_2000(v)


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point east_m / north_m metres from (lat, lon) degrees, equirectangular on the core's
    sphere with the origin's latitude (good to centimetres over the kilometres of a zone or a
    walk). The host's one metres-to-degrees offset: the zone compiler's messages, the sample
    log, the simulator's receiver, truth and link (tagsim.geo.offset is this)."""
    return (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
    )


def offset_m(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0): the exact inverse of `offset`
    (the origin's latitude), so an error placed with `offset` reads back as itself
    (tagsim.metrics.fix_error_m). tagsim.geo.enu takes the mean latitude instead: a distance
    that is the same both ways, for paths and radio ranges."""
    return (
        (lon - lon0) * M_PER_DEG * math.cos(math.radians(lat0)),
        (lat - lat0) * M_PER_DEG,
    )
