"""Ground truth: where the wearer (or the beacon) is, second by second, for a seed.

The itinerary becomes a list of segments (stays and legs) with absolute times. `at(t)` answers
for any second in O(log n) without building the whole 1 Hz series, so a week of wear costs
nothing where nobody asks; `samples()` is the 1 Hz series where one is wanted.
"""

from __future__ import annotations

import bisect
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from tagsim import geo
from tagsim.scenario import Go, Place, Stay

SPOT_MIN_S, SPOT_MAX_S = 120, 600  # how long someone stands in one spot of a place
# Stops along a leg by mode: (spacing min, max in m, wait min, max in s): bus stops, traffic lights.
STOPS = {"bus": (350, 550, 15, 40), "car": (300, 900, 0, 45)}


@dataclass(frozen=True)
class Point:
    t: int
    lat: float
    lon: float
    env: str  # open / urban / indoor / underground
    speed: float  # m/s
    course: float  # degrees from north
    moving: bool


@dataclass
class _Stay:
    t0: int
    t1: int
    env: str
    spots: list[tuple[int, float, float]]  # (from t, lat, lon)


@dataclass
class _Leg:
    t0: int
    t1: int
    env: str
    pts: list[tuple[float, float]]
    cum: list[float]  # distance along the leg to each point, m
    speed: float  # cruising speed, m/s
    sections: tuple[tuple[float, float, str], ...]
    knot_t: list[float]  # times at which the motion changes (start, stops, end) ...
    knot_d: list[float]  # ... and the distance along the leg then

    def distance(self, t: int) -> tuple[float, bool]:
        """Distance along the leg at t, and whether it is moving (not at a stop)."""
        k = min(max(1, bisect.bisect_right(self.knot_t, t)), len(self.knot_t) - 1)
        t0, t1 = self.knot_t[k - 1], self.knot_t[k]
        d0, d1 = self.knot_d[k - 1], self.knot_d[k]
        if d1 == d0:
            return d0, False
        return d0 + (d1 - d0) * (t - t0) / (t1 - t0), True


class Trajectory:
    def __init__(
        self, steps: tuple[Stay | Go, ...], places: dict[str, Place], start: int, seed: int
    ) -> None:
        rng = random.Random(seed)
        self.segs: list[_Stay | _Leg] = []
        t = start
        here = places[steps[0].place] if isinstance(steps[0], Stay) else None
        assert here is not None
        for step in steps:
            if isinstance(step, Stay):
                p = places[step.place]
                self.segs.append(_Stay(t, t + step.seconds, p.env, self._spots(p, t, step, rng)))
                here = p
                t += step.seconds
            else:
                dest = places[step.to]
                pts = [(here.lat, here.lon), *step.via, (dest.lat, dest.lon)]
                cum = [0.0]
                for a, b in itertools.pairwise(pts):
                    cum.append(cum[-1] + geo.dist(a[0], a[1], b[0], b[1]))
                speed = step.speed * rng.uniform(0.85, 1.15)
                kt, kd = self._knots(t, cum[-1], speed, STOPS.get(step.mode), rng)
                leg = _Leg(t, round(kt[-1]), step.env, pts, cum, speed, step.sections, kt, kd)
                self.segs.append(leg)
                here = dest
                t = leg.t1
        self.start = start
        self.end = t
        self.t0s = [s.t0 for s in self.segs]

    @staticmethod
    def _knots(
        t: float,
        length: float,
        speed: float,
        stops: tuple[int, int, int, int] | None,
        rng: random.Random,
    ) -> tuple[list[float], list[float]]:
        kt, kd = [float(t)], [0.0]
        d = 0.0
        while stops:
            d_next = d + rng.uniform(stops[0], stops[1])
            if d_next >= length - 50:  # no stop in the last 50 m: that is the destination
                break
            t += (d_next - d) / speed
            kt.append(t)
            kd.append(d_next)
            t += rng.uniform(stops[2], stops[3])
            kt.append(t)
            kd.append(d_next)
            d = d_next
        kt.append(max(t + (length - d) / speed, kt[0] + 1))
        kd.append(length)
        return kt, kd

    @staticmethod
    def _spots(p: Place, t: int, step: Stay, rng: random.Random) -> list[tuple[int, float, float]]:
        spots = []
        end = t + step.seconds
        while True:
            r = p.radius_m * math.sqrt(rng.random())
            a = rng.uniform(0, 2 * math.pi)
            spots.append((t, *geo.offset(p.lat, p.lon, r * math.sin(a), r * math.cos(a))))
            t += rng.randint(SPOT_MIN_S, SPOT_MAX_S)
            if t >= end:
                return spots

    def at(self, t: int) -> Point:
        i = max(0, bisect.bisect_right(self.t0s, t) - 1)
        s = self.segs[i]
        if isinstance(s, _Stay) or t >= s.t1:  # after the last leg ends, they stay there
            if isinstance(s, _Leg):
                lat, lon = s.pts[-1]
                return Point(t, lat, lon, s.env, 0.0, 0.0, False)
            j = bisect.bisect_right(s.spots, (t, math.inf, math.inf)) - 1
            _, lat, lon = s.spots[max(0, j)]
            return Point(t, lat, lon, s.env, 0.0, 0.0, False)
        d, moving = s.distance(t)
        k = min(max(1, bisect.bisect_right(s.cum, d)), len(s.pts) - 1)
        (la0, lo0), (la1, lo1) = s.pts[k - 1], s.pts[k]
        seg = s.cum[k] - s.cum[k - 1]
        f = (d - s.cum[k - 1]) / seg if seg > 0 else 1.0
        env = s.env
        frac = d / s.cum[-1] if s.cum[-1] > 0 else 1.0
        for a, b, e in s.sections:
            if a <= frac < b:
                env = e
        return Point(
            t,
            la0 + (la1 - la0) * f,
            lo0 + (lo1 - lo0) * f,
            env,
            s.speed if moving else 0.0,
            geo.bearing(la0, lo0, la1, lo1),
            moving,
        )

    def samples(self, t0: int, t1: int, step: int = 1) -> Iterator[Point]:
        for t in range(t0, t1, step):
            yield self.at(t)
