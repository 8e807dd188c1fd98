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

from tagsim import geo
from tagsim.scenario import Beacon
from tagsim.truth import Point

SENSITIVITY_DBM = -97.0
ADV_PER_SCAN = 0.95  # chance one advertisement lands in the scan window when in range


class BeaconRadio:
    def __init__(self, beacon: Beacon, seed: int) -> None:
        self.b = beacon
        self.rng = random.Random(seed)

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
