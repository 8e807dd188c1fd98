"""The core's zone geometry against shapely, for random shapes and points near their edges.

Both work in the same projected frame (the zone's local decimetres), so the comparison isolates
the core's integer arithmetic. Tolerance: 1 dm on the distance (the core floors one square root
and one division); inside/outside must agree for every point further than 1 dm from the
boundary. Distances beyond the cap saturate at +-cap, and must do so on the right side.
"""

from __future__ import annotations

import math
from array import array

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point, Polygon
from tagcore.zones.geom import sdist_circle, sdist_corridor, sdist_polygon

TOL_DM = 1
BIG = 10**9


def star(cx: int, cy: int, radii: list[int], phase: float) -> list[tuple[int, int]]:
    """A star-shaped (possibly very concave) ring around (cx, cy), integer dm vertices."""
    n = len(radii)
    return [
        (
            cx + round(r * math.cos(phase + 2 * math.pi * k / n)),
            cy + round(r * math.sin(phase + 2 * math.pi * k / n)),
        )
        for k, r in enumerate(radii)
    ]


rings_st = st.lists(st.integers(50, 30000), min_size=3, max_size=40)


@st.composite
def polygons(draw) -> tuple[list[list[tuple[int, int]]], Polygon]:
    outer = star(0, 0, draw(rings_st), draw(st.floats(0, 6.28)))
    holes = []
    for _ in range(draw(st.integers(0, 3))):
        cx, cy = draw(st.integers(-15000, 15000)), draw(st.integers(-15000, 15000))
        holes.append(
            star(cx, cy, draw(st.lists(st.integers(20, 3000), min_size=3, max_size=8)), 0.3)
        )
    poly = Polygon(outer, holes)
    assume(poly.is_valid and poly.area > 100)
    return [outer, *holes], poly


@st.composite
def probes(draw, rings: list[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    """Points near edges (along the edge, then off it by up to 60 m either way) and anywhere."""
    pts = []
    for _ in range(25):
        ring = draw(st.sampled_from(rings))
        k = draw(st.integers(0, len(ring) - 1))
        (ax, ay), (bx, by) = ring[k], ring[(k + 1) % len(ring)]
        t = draw(st.floats(0, 1))
        ln = math.hypot(bx - ax, by - ay) or 1
        off = draw(st.integers(-600, 600))
        pts.append(
            (
                round(ax + t * (bx - ax) - off * (by - ay) / ln),
                round(ay + t * (by - ay) + off * (bx - ax) / ln),
            )
        )
    pts += draw(
        st.lists(st.tuples(st.integers(-40000, 40000), st.integers(-40000, 40000)), max_size=10)
    )
    return pts


def flat(ring: list[tuple[int, int]]) -> array:
    return array("i", [v for p in ring for v in p])


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_polygons_with_holes_agree_with_shapely(data) -> None:
    rings, poly = data.draw(polygons())
    arrs = [flat(r) for r in rings]
    cap = data.draw(st.sampled_from([BIG, 300, 1500]))
    for x, y in data.draw(probes(rings)):
        p = Point(x, y)
        d = poly.boundary.distance(p)
        want = -d if poly.contains(p) else d
        got = sdist_polygon(x, y, arrs, cap)
        if d >= cap + TOL_DM:
            assert got == (-cap if want < 0 else cap), (x, y, got, want)
        else:
            assert abs(got - max(-cap, min(cap, want))) <= TOL_DM, (x, y, got, want)
        if d > TOL_DM:
            assert (got < 0) == (want < 0), (x, y, got, want)


@settings(max_examples=200, deadline=None)
@given(
    r=st.integers(10, 200000),
    pts=st.lists(
        st.tuples(st.integers(-250000, 250000), st.integers(-250000, 250000)), max_size=20
    ),
    cap=st.sampled_from([BIG, 2000]),
)
def test_circles_agree_with_exact_distance(r, pts, cap) -> None:
    for x, y in [*pts, (r, 0), (0, -r + 1), (r + 1, 1)]:
        want = Point(0, 0).distance(Point(x, y)) - r
        got = sdist_circle(x, y, r, cap)
        assert abs(got - max(-cap, min(cap, want))) <= TOL_DM, (x, y, got, want)


@settings(max_examples=200, deadline=None)
@given(
    line=st.lists(
        st.tuples(st.integers(-50000, 50000), st.integers(-50000, 50000)), min_size=2, max_size=30
    ),
    half=st.integers(10, 10000),
    data=st.data(),
)
def test_corridors_agree_with_shapely(line, half, data) -> None:
    assume(LineString(line).length > 0)
    ls = LineString(line)
    cap = data.draw(st.sampled_from([BIG, 800]))
    for x, y in data.draw(probes([line])):
        want = ls.distance(Point(x, y)) - half
        got = sdist_corridor(x, y, [flat(line)], half, cap)
        assert abs(got - max(-cap, min(cap, want))) <= TOL_DM, (x, y, got, want)
