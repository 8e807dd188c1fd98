"""Ground truth: deterministic for a seed, moving at the mode's speed, staying where it should."""

from __future__ import annotations

import simworld
from tagsim import geo
from tagsim.truth import Trajectory


def _traj(seed: int, **over: object) -> Trajectory:
    sc = simworld.make(**over)
    return Trajectory(sc.itinerary, sc.places, sc.start, seed)


def test_same_seed_same_truth_other_seed_differs() -> None:
    a, b, c = _traj(5), _traj(5), _traj(6)
    pa = [a.at(t) for t in range(a.start, a.end, 7)]
    assert pa == [b.at(t) for t in range(b.start, b.end, 7)]
    assert pa != [c.at(t) for t in range(c.start, c.end, 7)]


def test_walk_leg_speed_and_endpoints() -> None:
    tr = _traj(1)
    leg_start = tr.start + 600
    p0, p1 = tr.at(leg_start), tr.at(leg_start + 100)
    assert p0.moving and p0.env == "open"
    v = geo.dist(p0.lat, p0.lon, p1.lat, p1.lon) / 100
    assert 1.4 * 0.85 - 0.01 <= v <= 1.4 * 1.15 + 0.01  # walking, jittered per leg
    assert abs(p0.course - 90) < 1  # due east
    dist = geo.dist(52.52, 13.37, 52.52, 13.386)
    park = tr.at(tr.end - 1)
    assert not park.moving and park.env == "open"
    assert abs((tr.end - leg_start - 1200) - dist / p0.speed) < 2
    assert geo.dist(park.lat, park.lon, 52.52, 13.386) < 1


def test_stay_wanders_within_the_place_radius() -> None:
    tr = _traj(3)
    pts = list(tr.samples(tr.start, tr.start + 600))
    assert len(pts) == 600 and all(p.env == "indoor" and not p.moving for p in pts)
    assert max(geo.dist(p.lat, p.lon, 52.52, 13.37) for p in pts) <= 5.01
    assert len({(p.lat, p.lon) for p in pts}) >= 2  # moves between spots


def test_sections_change_the_environment() -> None:
    it = simworld.doc()["itinerary"]
    it[1] = {
        "go": "park",
        "mode": "cycle",
        "sections": [{"from": 0.4, "to": 0.6, "env": "underground"}],
    }
    tr = _traj(1, itinerary=it)
    envs = [p.env for p in tr.samples(tr.start + 600, tr.end - 1200)]
    assert "underground" in envs and envs[0] == "open" and envs[-1] == "open"
    frac = envs.count("underground") / len(envs)
    assert 0.15 < frac < 0.25


def test_a_bus_stops_every_few_hundred_metres() -> None:
    it = simworld.doc()["itinerary"]
    it[1] = {"go": "park", "mode": "bus", "via": [[52.53, 13.37], [52.53, 13.386]]}  # 3.3 km
    tr = _traj(4, itinerary=it)
    leg = [tr.at(t) for t in range(tr.start + 600, tr.end - 1200)]
    stopped = [not p.moving for p in leg]
    runs, n = [], 0
    for s in [*stopped, False]:
        if s:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    assert 5 <= len(runs) <= 9  # 3.3 km / 350-550 m, none in the last 50 m
    assert all(14 <= r <= 41 for r in runs)
    assert all(p.speed == 0 for p in leg if not p.moving)
    d = [geo.dist(52.52, 13.37, p.lat, p.lon) for p in leg]
    end = tr.at(tr.end - 1200)
    assert geo.dist(end.lat, end.lon, 52.52, 13.386) < 1
    assert max(d) > 1100  # it went north first
