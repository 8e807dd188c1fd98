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
    speed: float
    sections: tuple[tuple[float, float, str], ...]


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
                dur = max(1, round(cum[-1] / speed))
                self.segs.append(_Leg(t, t + dur, step.env, pts, cum, cum[-1] / dur, step.sections))
                here = dest
                t += dur
        self.start = start
        self.end = t
        self.t0s = [s.t0 for s in self.segs]

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
        d = (t - s.t0) * s.speed
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
            s.speed,
            geo.bearing(la0, lo0, la1, lo1),
            True,
        )

    def samples(self, t0: int, t1: int, step: int = 1) -> Iterator[Point]:
        for t in range(t0, t1, step):
            yield self.at(t)
