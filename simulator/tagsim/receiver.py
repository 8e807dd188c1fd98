"""A GNSS receiver that reacts to power: off, acquiring, tracking; its output is NMEA bytes.

- Sky: GPS and GLONASS satellites on circular-ish tracks (period 11 h 58 m / 11 h 16 m), seeded.
  A satellite is tracked when its C/N0 (elevation gain minus the environment's loss) clears the
  tracking threshold; urban canyons also block everything below 30 degrees.
- Acquisition: time to first fix is drawn from the board profile (hot if the receiver was off
  for less than hot_window_s and has a backup supply, warm within warm_window_s, else cold) and
  only accrues while satellites are in view: indoors it takes longer, underground never ends.
- Tracking: position error is first-order Gauss-Markov per axis (tau 30 s) with sigma scaled by
  UERE x HDOP and the environment; urban canyons and indoors add multipath jumps that the
  receiver's own GST estimate does not know about. Fewer than 4 satellites: no fix that epoch;
  4 s without one and it is back to (hot) acquisition.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from tagsim import geo, nmeagen
from tagsim.boards import Gnss
from tagsim.simtime import to_datetime
from tagsim.truth import Point

OFF, ACQUIRING, TRACKING = "off", "acquiring", "tracking"
TAU_S = 30.0
CNO_TRACK = 24  # dB-Hz needed to track (and to count as "used")
LOSS_DB = {"open": 0.0, "urban": 6.0, "indoor": 14.0, "underground": 60.0}
NOISE_FACTOR = {"open": 1.0, "urban": 1.8, "indoor": 2.5, "underground": 3.0}
MULTIPATH_RATE = {"open": 0.0, "urban": 0.004, "indoor": 0.006, "underground": 0.0}
LOSE_AFTER_S = 4


@dataclass
class EpochOut:
    data: bytes
    fix: bool
    sats: int
    hdop: float


class Sky:
    def __init__(self, rng: random.Random) -> None:
        self.sats = []  # (prn, system, period, phase, az0)
        for prn in range(1, 25):
            self.sats.append((prn, 1, 43080.0, rng.uniform(0, 2 * math.pi), rng.uniform(0, 360)))
        for prn in range(65, 83):
            self.sats.append((prn, 2, 40544.0, rng.uniform(0, 2 * math.pi), rng.uniform(0, 360)))

    def view(self, t: int, env: str, rng: random.Random) -> list[tuple[int, int, int, int, int]]:
        """(system, prn, elevation, azimuth, C/N0 or 0) of the satellites above the horizon."""
        out = []
        loss = LOSS_DB[env]
        for prn, system, period, phase, az0 in self.sats:
            w = 2 * math.pi * t / period + phase
            elv = 80 * math.sin(w) - 15
            if elv < 5:
                continue
            az = int(az0 + 360 * t / period) % 360
            cno = 28 + 18 * math.sin(math.radians(elv)) - loss + rng.gauss(0, 2)
            if env == "urban" and elv < 30:
                cno -= 20
            out.append((system, prn, int(elv), az, int(cno) if cno >= CNO_TRACK else 0))
        return out


class Receiver:
    def __init__(self, gnss: Gnss, seed: int) -> None:
        self.g = gnss
        self.rng = random.Random(seed)
        self.sky = Sky(random.Random(seed ^ 0x5EED))
        self.state = OFF
        self.off_since: int | None = None  # None: never had a fix since the battery went in
        self.last_track: int | None = None
        self.need = 0.0  # sky-seconds still needed for the first fix
        self.start_kind = ""
        self.no_fix_s = 0
        self.err: list[float] | None = None  # Gauss-Markov state per axis (east, north), m
        self.jump = (0, 0.0, 0.0)  # (until t, east m, north m)
        self.starts = {"cold": 0, "warm": 0, "hot": 0}

    def power(self, on: bool, t: int) -> None:
        if on and self.state == OFF:
            self._acquire(t, self._start_kind(t))
        elif not on and self.state != OFF:
            self.state = OFF
            self.off_since = t

    def _start_kind(self, t: int) -> str:
        if not self.g.backup_supply or self.last_track is None:
            return "cold"
        off = t - self.last_track
        return (
            "hot" if off < self.g.hot_window_s else "warm" if off < self.g.warm_window_s else "cold"
        )

    def _acquire(self, t: int, kind: str) -> None:
        self.state = ACQUIRING
        self.start_kind = kind
        self.starts[kind] += 1
        self.need = self.g.ttff_s[kind] * math.exp(self.rng.gauss(0, 0.2))
        self.err = None  # drawn at the first fix, from where the receiver then is

    def sigma(self, hdop: float, env: str) -> float:
        return self.g.uere_m * hdop * NOISE_FACTOR[env] / math.sqrt(2)

    def epoch(self, p: Point) -> EpochOut:
        """One second of output while powered, for the wearer at truth point p."""
        t = p.t
        view = self.sky.view(t, p.env, self.rng)
        used = [v for v in view if v[4] > 0 and v[0] == 1][:12]  # a GSA lists 12 per system
        used += [v for v in view if v[4] > 0 and v[0] == 2][:12]
        n = len(used)
        hdop = min(20.0, 0.5 + 5.5 / max(n - 2, 1)) * (1.0 if p.env == "open" else 1.3)
        fix = False
        if self.state == ACQUIRING:
            self.need -= min(1.0, n / 8)
            if self.need <= 0 and n >= 4:
                self.state = TRACKING
                self.no_fix_s = 0
        if self.state == TRACKING:
            if n >= 4:
                fix = True
                self.no_fix_s = 0
                self.last_track = t
            else:
                self.no_fix_s += 1
                if self.no_fix_s >= LOSE_AFTER_S:
                    self._acquire(t, self._start_kind(t))
        return EpochOut(self._nmea(p, view, used, hdop, fix), fix, n, hdop)

    def _nmea(self, p: Point, view: list, used: list, hdop: float, fix: bool) -> bytes:
        tk = self.g.talker
        when = to_datetime(p.t)
        out: list[bytes] = []
        if fix:
            lat, lon, sig = self._position(p, hdop)
            speed = max(0.0, p.speed + self.rng.gauss(0, 0.1))
            course = p.course if p.moving else 0.0
            alt = 35.0 + self.rng.gauss(0, sig * 1.5)
            out.append(nmeagen.rmc(tk, when, lat, lon, speed, course))
            out.append(nmeagen.gga(tk, when, lat, lon, len(used), hdop, alt))
        else:
            out.append(nmeagen.rmc_nofix(tk, when))
            out.append(nmeagen.gga_nofix(tk, when, len(used)))
        pdop, vdop = hdop * 1.6, hdop * 1.3
        for system in (1, 2):
            prns = [v[1] for v in used if v[0] == system]
            out.append(nmeagen.gsa(tk, prns, fix, pdop, hdop, vdop, system))
        for system, talker in ((1, "GP"), (2, "GL")):
            sats = [(v[1], v[2], v[3], v[4]) for v in view if v[0] == system]
            if sats:
                out.extend(nmeagen.gsv(talker, sats))
        if fix:
            s = self.sigma(hdop, p.env)
            out.append(nmeagen.gst(tk, when, s, s, s * 1.5))
        return b"".join(out)

    def _position(self, p: Point, hdop: float) -> tuple[float, float, float]:
        sig = self.sigma(hdop, p.env)
        if self.err is None:  # a fresh solution: the stationary distribution
            self.err = [self.rng.gauss(0, sig), self.rng.gauss(0, sig)]
        else:
            a = math.exp(-1.0 / TAU_S)
            k = math.sqrt(1 - a * a) * sig
            self.err = [
                a * self.err[0] + k * self.rng.gauss(0, 1),
                a * self.err[1] + k * self.rng.gauss(0, 1),
            ]
        e, n = self.err
        until, je, jn = self.jump
        if p.t >= until and self.rng.random() < MULTIPATH_RATE[p.env]:
            r, ang = self.rng.uniform(20, 80), self.rng.uniform(0, 2 * math.pi)
            until, je, jn = p.t + self.rng.randint(5, 30), r * math.sin(ang), r * math.cos(ang)
            self.jump = (until, je, jn)
        if p.t < until:
            e, n = e + je, n + jn
        lat, lon = geo.offset(p.lat, p.lon, e, n)
        return lat, lon, sig
