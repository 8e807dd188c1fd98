"""The victim beacon's signal at the tag: log-distance path loss with log-normal shadowing,
plus the wearer's body and any walls between them. Sampled only when the tag scans.

RSSI(d) = P1m - 10 n log10(d / 1 m) - X_sigma - body - walls, where P1m is the beacon's RSSI at
1 m, n the path-loss exponent (2 in free space, 2.5-4 indoors), X_sigma zero-mean Gaussian
shadowing. A wall is counted when exactly one of the two is indoors, or both are indoors more
than 15 m apart. Below the receiver's sensitivity the advertisement is simply not heard.
"""

from __future__ import annotations

import math
import random

from tagcore.proximity.advdata import build_adv
from tagcore.proximity.beaconid import id_and_addr, interval_of

from tagsim import geo
from tagsim.scenario import Beacon
from tagsim.truth import Point, Trajectory

SENSITIVITY_DBM = -97.0
ADV_PER_SCAN = 0.8  # chance one advertisement in range is received (collisions, channels)
ADV_MS = 500  # the beacon's advertising interval (firmware/beacon default)


class BeaconRadio:
    def __init__(self, beacon: Beacon, seed: int) -> None:
        self.b = beacon
        self.rng = random.Random(seed)
        self.phase = self.rng.uniform(0, ADV_MS / 1000)  # when in each interval it advertises

    def payload(self, t: int) -> tuple[str, bytes]:
        """(address as hex, advertising payload) the beacon sends at t: the rolling identifier
        and address of its 15-minute interval (tagcore.proximity.beaconid, as the beacon does)."""
        ident, addr = id_and_addr(self.b.secret, interval_of(t))
        return addr.hex(), build_adv(ident)

    def scan(
        self, t0: int, ms: int, tag: Trajectory, beacon: Trajectory
    ) -> list[tuple[float, float, int | None, str, bytes]]:
        """Every advertisement sent during a scan [t0, t0 + ms): (time, true distance, RSSI or
        None when not received, address, payload)."""
        out = []
        step = ADV_MS / 1000
        ta = t0 + self.phase
        while ta < t0 + ms / 1000:
            s = int(ta)
            d, r = self.rssi(tag.at(s), beacon.at(s))
            addr, adv = self.payload(s)
            out.append((ta, d, r, addr, adv))
            ta += step
        return out

    def rssi(self, tag: Point, beacon: Point) -> tuple[float, int | None]:
        """(true distance m, RSSI dBm or None when not heard) for one scan."""
        d = geo.dist(tag.lat, tag.lon, beacon.lat, beacon.lon)
        b = self.b
        r = b.tx_power_dbm - 10 * b.path_loss_exp * math.log10(max(d, 0.5))
        r -= self.rng.gauss(0, b.shadowing_db)
        r -= (
            b.body_loss_db * self.rng.random()
        )  # the wearer's body is between them part of the time
        walls = (tag.env == "indoor") != (beacon.env == "indoor") or (
            tag.env == beacon.env == "indoor" and d > 15
        )
        if walls:
            r -= b.wall_loss_db
        if r < SENSITIVITY_DBM or self.rng.random() > ADV_PER_SCAN:
            return d, None
        return d, round(r)
