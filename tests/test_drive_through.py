"""Issue 14 item 2: the fix schedule accounts for speed and the distance to the nearest
exclusion zone, so a crossing at road speed is never unseen (docs/app.md states the guarantee;
bench/bench_drive_through.py prints it and its energy cost)."""

from __future__ import annotations

import dataclasses
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod
from shapely.geometry import Polygon
from tagcore.app.guard import guard_interval, reach_dm
from tagcore.zones.monitor import ZoneMonitor
from tagsim import hooks, runner, scenario

GEOD = Geod(ellps="WGS84")


def _guard(sc: scenario.Scenario, kmh: int) -> scenario.Scenario:
    more = (*((k, v) for k, v in sc.tag.more if k != "guard_kmh"), ("guard_kmh", kmh))
    return dataclasses.replace(sc, tag=dataclasses.replace(sc.tag, more=more))


def test_every_crossing_at_120_kmh_is_seen() -> None:
    sc = scenario.load(runner.SCENARIOS / "drive_through.toml")
    before = runner.run_scenario(_guard(sc, 0)).metrics  # the schedule without the guard
    assert before["truth_zone_entries"] == 10 and before["unseen_entries"] >= 1
    res = runner.run_scenario(sc)  # the default configuration: the guard on
    assert res.metrics["truth_zone_entries"] == 10 and res.metrics["unseen_entries"] == 0
    assert res.metrics["false_alerts"] == 0 and not res.red, res.checks


def _float_reach_m(v: float, a: float, vmax: float, t: float) -> float:
    ta = max(0.0, (vmax - v) / a)
    if t <= ta:
        return v * t + a * t * t / 2
    return v * ta + a * ta * ta / 2 + vmax * (t - ta)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 6000),  # speed at the last fix, cm/s
    st.integers(10, 2000),  # acceleration, cm/s2
    st.integers(100, 7000),  # top speed, cm/s
    st.integers(0, 4000),  # seconds
)
def test_reach_never_underestimates_the_motion(v, a, vmax, t) -> None:
    # An underestimate would let the wearer into a zone between fixes: at most the floor of
    # the integer arithmetic (under 1 dm) below the exact motion.
    exact_dm = 10 * _float_reach_m(v / 100, a / 100, max(v, vmax) / 100, t)
    assert reach_dm(v, a, vmax, t) >= exact_dm - 1.0


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, 200_000),
    st.integers(0, 6000),
    st.integers(10, 2000),
    st.integers(100, 7000),
    st.integers(0, 30),
    st.integers(1, 3600),
)
def test_guard_interval_is_safe_and_tight(d, v, a, vmax, lead, cap) -> None:
    g = guard_interval(d, v, a, vmax, lead, cap)
    assert 0 <= g <= cap
    if g > 0:  # the next fix comes before the wearer can cover d
        assert _float_reach_m(v / 100, a / 100, max(v, vmax) / 100, g + lead) * 10 < d + 1
    if g < cap:  # and no later interval would be safe
        assert reach_dm(v, a, vmax, g + 1 + lead) >= d


@settings(max_examples=200, deadline=None)
@given(st.floats(-3000, 3000), st.floats(-3000, 3000))
def test_nearest_is_a_lower_bound_of_the_true_distance(east_m, north_m) -> None:
    # the drive-through zone (800 m x 400 m); the position east_m / north_m from its centre
    sc = scenario.load(runner.SCENARIOS / "drive_through.toml")
    m = ZoneMonitor(hooks.zone_blob(sc))
    lat0, lon0 = 52.5, 13.3
    lon, lat, _ = GEOD.fwd(lon0, lat0, 90, east_m)
    lon, lat, _ = GEOD.fwd(lon, lat, 0, north_m)
    d = m.nearest_dm(round(lat * 1e6), round(lon * 1e6))
    poly = Polygon(sc.zones[0].geometry.exterior.coords)
    inside = poly.contains(Polygon([(lon, lat), (lon, lat + 1e-9), (lon + 1e-9, lat)]).centroid)
    if inside:
        assert d == 0
        return
    # true distance: the shortest geodesic to the rectangle's sides, sampled every metre
    xs = list(poly.exterior.coords)
    best = 1e18
    for (x0, y0), (x1, y1) in itertools.pairwise(xs):
        n = 1200
        for k in range(n + 1):
            px, py = x0 + (x1 - x0) * k / n, y0 + (y1 - y0) * k / n
            best = min(best, GEOD.inv(lon, lat, px, py)[2])
    assert d / 10 <= best + 2.0  # a lower bound (2 m: sampling and the local frame)
    assert d / 10 >= best - 25.0  # and not a loose one


def test_the_guard_decides_the_same_on_both_runtimes() -> None:
    sc = scenario.load(runner.SCENARIOS / "drive_through.toml")
    a, b = runner.run_scenario(sc, "cpython"), runner.run_scenario(sc, "micropython")
    assert a.run.log.tag_lines == b.run.log.tag_lines
    assert b.metrics["unseen_entries"] == 0


def test_without_a_fix_the_guard_does_not_keep_the_receiver_searching() -> None:
    # Stand-in zone monitor 50 m away: within reach, the receiver stays on after each fix; a
    # search that gives up (no signal) falls back to the normal interval, not to searching on
    from tagcore.app.app import TagApp
    from tagcore.app.config import TagConfig
    from tagcore.fix import Fix
    from tagkit.memfs import MemFs

    class Near:
        def on_fix(self, now, fix):
            return ()

        def on_no_fix(self, now):
            return ()

        def wanted_interval(self, now):
            return 60

        def nearest_dm(self, lat, lon):
            return 500

    t0 = 825_753_600
    tag = TagApp(TagConfig(fix_interval_s=60, max_search_s=120), MemFs(), t0, Near())
    assert tag.gnss_on  # the first search
    f = Fix(t0 + 3, 0, 52_520_000, 13_370_000, 50, 0, 0, 60, 90, 9, 1, 3, 1)
    tag.store.append_fix(t0 + 3, f)
    tag._drain(t0 + 3)  # nothing queued: drive the planner as the reader would
    tag.planner.fix_taken(t0 + 3, f)
    tag.plan(t0 + 3)
    assert tag.gnss_on  # within reach: stays on
    tag.wake(t0 + 3 + 120)  # no fix for max_search_s: gives up
    assert not tag.gnss_on and tag.wake_at >= t0 + 3 + 120 + 60 - 1
