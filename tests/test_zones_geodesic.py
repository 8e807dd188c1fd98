"""Every zone shape against the WGS84 geodesic (pyproj's Geod as the oracle): the tag's signed
depth of a fix agrees within 0.5 m, at any latitude and size the compiler accepts (|lat| <= 80
degrees, up to 25 km from the anchor), for fixes near the boundary (where decisions are made).

Oracle: a circle's depth is its radius minus the geodesic distance from its centre; a polygon's
or corridor's edges are geodesics between the vertices, densified with Geod.npts and drawn in an
azimuthal equidistant projection centred on the fix (where distances from the fix are exact
geodesic distances), shapely measuring the distance from the fix to them."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pyproj import Geod, Proj
from shapely.geometry import LineString, Point, Polygon
from tagcore.zones import blob as B
from tagcore.zones.monitor import ZoneMonitor, depth
from tagkit import zonewrite as W

G = Geod(ellps="WGS84")
TOL_M = 0.5
T0 = 848000000


def _udeg(lon: float, lat: float) -> tuple[int, int]:
    return round(lat * 1e6), round(lon * 1e6)


def _zone(kind: int, shape: int, anchor: tuple[int, int], r_dm: int, rings):
    rec = W.zone_record(1, kind, shape, 200, anchor[0], anchor[1], r_dm, [], rings)
    m = ZoneMonitor(bytes(W.blob([rec], T0, T0 + 86400)))
    assert m.error is None, m.error
    return m.zones[0]


def _aeqd_dist(
    lat: int, lon: int, pts: list[tuple[int, int]], closed: bool
) -> tuple[LineString, Polygon | None]:
    """The geodesic polyline through pts (a closed ring: and its polygon) in an azimuthal
    equidistant projection centred on the fix, where the fix is the origin."""
    p = Proj(proj="aeqd", lat_0=lat / 1e6, lon_0=lon / 1e6, ellps="WGS84")
    ring = pts + pts[:1] if closed else pts
    dense: list[tuple[float, float]] = []
    for (la0, lo0), (la1, lo1) in itertools.pairwise(ring):
        d = G.inv(lo0 / 1e6, la0 / 1e6, lo1 / 1e6, la1 / 1e6)[2]
        mid = G.npts(lo0 / 1e6, la0 / 1e6, lo1 / 1e6, la1 / 1e6, max(0, int(d / 20)))
        dense.append((lo0 / 1e6, la0 / 1e6))
        dense.extend(mid)
    dense.append((ring[-1][1] / 1e6, ring[-1][0] / 1e6))
    xy = [p(lo, la) for lo, la in dense]
    return LineString(xy), Polygon(xy) if closed else None


def _check(z, lat: int, lon: int, want_m: float) -> None:
    got = depth(z, lat, lon) / 10
    if abs(want_m) < z.cap / 10 - 1:
        assert abs(got - want_m) <= TOL_M, (lat, lon, got, want_m)


LATS = st.floats(-79.5, 79.5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lat=LATS,
    lon=st.floats(-170, 170),
    r=st.floats(5, 20000),
    az=st.floats(-180, 180),
    off=st.floats(-150, 150),
)
# Issue 13 item 7: depth() dropped the frame's cubic term R u v^2 (c^2 - 3 s^2) / 6, 0.5-0.73 m
# beyond 77.5 degrees for radii over 18 km near the diagonals, each quadrant, either side.
@example(lat=79.0, lon=0.0, r=18290.0, az=39.0, off=150.0)  # CI's failure: 0.514 m
@example(lat=-79.3, lon=20.0, r=19900.0, az=-50.0, off=120.0)  # 0.636 m
@example(lat=79.3, lon=-60.0, r=19870.0, az=135.0, off=-25.0)  # 0.594 m, inside
@example(lat=-79.0, lon=0.0, r=19000.0, az=-135.0, off=150.0)  # 0.560 m
@example(lat=79.0, lon=0.0, r=19700.0, az=-45.0, off=-150.0)  # 0.533 m, inside
def test_circles_agree_with_the_geodesic(lat, lon, r, az, off) -> None:
    anchor = _udeg(lon, lat)
    if abs(anchor[0]) * 1e-6 + (r + 300) / 111000 > 80:
        return  # the compiler refuses circles that reach beyond 80 degrees
    z = _zone(B.KIND_EXCLUSION, B.SHAPE_CIRCLE, anchor, round(r * 10), [])
    plon, plat, _ = G.fwd(anchor[1] / 1e6, anchor[0] / 1e6, az, max(0.0, r + off))
    fix = _udeg(plon, plat)
    d = G.inv(anchor[1] / 1e6, anchor[0] / 1e6, fix[1] / 1e6, fix[0] / 1e6)[2]
    _check(z, *fix, r - d)


def _star(lat: float, lon: float, size: float, n: int, seed: int) -> list[tuple[int, int]]:
    import random

    rng = random.Random(seed)
    out = []
    for k in range(n):
        d = size * rng.uniform(0.4, 1.0)
        plon, plat, _ = G.fwd(lon, lat, 360 * k / n - 180, d)
        out.append(_udeg(plon, plat))
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lat=LATS,
    lon=st.floats(-170, 170),
    size=st.floats(100, 12000),
    n=st.integers(3, 12),
    seed=st.integers(0, 10**6),
    edge=st.floats(0, 1),
    off=st.floats(-150, 150),
)
def test_polygons_agree_with_the_geodesic(lat, lon, size, n, seed, edge, off) -> None:
    ring = _star(lat, lon, size, n, seed)
    if max(abs(p[0]) for p in ring) * 1e-6 + 400 / 111000 > 80:
        return
    lats, lons = [p[0] for p in ring], [p[1] for p in ring]
    anchor = ((min(lats) + max(lats)) // 2, (min(lons) + max(lons)) // 2)
    z = _zone(B.KIND_EXCLUSION, B.SHAPE_POLYGON, anchor, 0, [ring])
    # A fix `off` metres across a point on the edge (perpendicular to the edge's azimuth).
    k = int(edge * n) % n
    a, b = ring[k], ring[(k + 1) % n]
    fwd, _, length = G.inv(a[1] / 1e6, a[0] / 1e6, b[1] / 1e6, b[0] / 1e6)
    qlon, qlat, back = G.fwd(a[1] / 1e6, a[0] / 1e6, fwd, length * (edge * n % 1))
    plon, plat, _ = G.fwd(qlon, qlat, back + 180 + 90, off)
    fix = _udeg(plon, plat)
    line, poly = _aeqd_dist(*fix, ring, True)
    d = line.distance(Point(0, 0))
    _check(z, *fix, d if poly.contains(Point(0, 0)) else -d)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lat=LATS,
    lon=st.floats(-170, 170),
    length=st.floats(200, 20000),
    az=st.floats(-180, 180),
    half=st.floats(2, 1000),
    at=st.floats(0, 1),
    off=st.floats(-150, 150),
)
def test_corridors_agree_with_the_geodesic(lat, lon, length, az, half, at, off) -> None:
    a = _udeg(lon, lat)
    blon, blat, _ = G.fwd(lon, lat, az, length)
    clon, clat, _ = G.fwd(blon, blat, az + 60, length / 2)
    line = [a, _udeg(blon, blat), _udeg(clon, clat)]
    if max(abs(p[0]) for p in line) * 1e-6 + (half + 400) / 111000 > 80:
        return
    lats, lons = [p[0] for p in line], [p[1] for p in line]
    anchor = ((min(lats) + max(lats)) // 2, (min(lons) + max(lons)) // 2)
    z = _zone(B.KIND_EXCLUSION, B.SHAPE_CORRIDOR, anchor, round(half * 10), [line])
    fwd, _, d0 = G.inv(lon, lat, blon, blat)
    qlon, qlat, back = G.fwd(lon, lat, fwd, d0 * at)
    plon, plat, _ = G.fwd(qlon, qlat, back + 270, half + off)
    fix = _udeg(plon, plat)
    pl, _ = _aeqd_dist(*fix, line, False)
    _check(z, *fix, half - pl.distance(Point(0, 0)))


@pytest.mark.parametrize("lat", [0.0, 51.5, 60.0, 70.0, 79.0, -45.0])
def test_a_point_just_outside_a_5_km_circle_reads_outside(lat) -> None:
    # The field finding: 12 m outside a 5 km exclusion circle read as inside in London.
    anchor = _udeg(-0.12, lat)
    z = _zone(B.KIND_EXCLUSION, B.SHAPE_CIRCLE, anchor, 50000, [])
    for az in range(0, 360, 15):
        for out_m in (2, 12):
            plon, plat, _ = G.fwd(anchor[1] / 1e6, anchor[0] / 1e6, az, 5000 + out_m)
            e = depth(z, *_udeg(plon, plat)) / 10
            assert -out_m - TOL_M <= e <= -out_m + TOL_M, (lat, az, out_m, e)
            assert math.copysign(1, e) < 0
