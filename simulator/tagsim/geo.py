"""World-side geometry in floats (the core's integer geometry lives in tagcore.geo)."""

from __future__ import annotations

import math

from taghost.units import (
    M_PER_DEG,  # tagcore.geo's sphere
    offset,  # noqa: F401 (geo.offset: the host's one, origin latitude)
)


def enu(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0), equirectangular at the mean
    latitude, on purpose not units.offset_m's origin latitude: the distance is then the same
    from either end (a path's length, a radio range), where offset_m is offset's exact inverse
    (a fix's error against the truth it was placed from)."""
    return (
        (lon - lon0) * M_PER_DEG * math.cos(math.radians((lat + lat0) / 2)),
        (lat - lat0) * M_PER_DEG,
    )


def dist(lat0: float, lon0: float, lat: float, lon: float) -> float:
    e, n = enu(lat0, lon0, lat, lon)
    return math.hypot(e, n)


def bearing(lat0: float, lon0: float, lat: float, lon: float) -> float:
    """Degrees clockwise from north, 0..360."""
    e, n = enu(lat0, lon0, lat, lon)
    return math.degrees(math.atan2(e, n)) % 360.0
