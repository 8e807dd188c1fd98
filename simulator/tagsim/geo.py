"""World-side geometry in floats (the core's integer geometry lives in tagcore.geo)."""

from __future__ import annotations

import math

from taghost.units import M_PER_DEG  # tagcore.geo's sphere


def offset(lat: float, lon: float, east_m: float, north_m: float) -> tuple[float, float]:
    """The point east_m / north_m metres from (lat, lon)."""
    return (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
    )


def enu(lat0: float, lon0: float, lat: float, lon: float) -> tuple[float, float]:
    """(east, north) metres of (lat, lon) from (lat0, lon0), equirectangular."""
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
