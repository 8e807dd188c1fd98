"""The victim beacon's signal at the tag in a simulated run: the bench's radio model
(taghost.proxsim, one module for both) with the scenario's beacon parameters, sampled only
when the tag scans.

RSSI(d) = P1m + proxsim.mean_db(d) - X_sigma - body - walls, where P1m is the beacon's RSSI at
1 m, the distance term log-distance with the scenario's exponent n (2 in free space, 2.5-4
indoors), X_sigma zero-mean Gaussian shadowing. A wall is counted when exactly one of the two is
indoors, or both are indoors more than 15 m apart. Reception: proxsim.received (lost at random,
never below the receiver's sensitivity). The beacon sends what proximity.beaconid.on_air says
(its identifier of the moment, nothing during the silence between two).
"""

from __future__ import annotations

import random

from tagcore.proximity.advdata import build_adv
from tagcore.proximity.beaconid import id_and_addr, on_air
from taghost import proxsim

from tagsim import geo
from tagsim.scenario import Beacon
from tagsim.truth import Point, Trajectory

SENSITIVITY_DBM = proxsim.CURRENT.sens_dbm
ADV_PER_SCAN = 0.8  # chance one advertisement in range is received (collisions, channels)
ADV_MS = 500  # the beacon's advertising interval (firmware/beacon default)


class BeaconRadio:
    def __init__(self, beacon: Beacon, seed: int) -> None:
        self.b = beacon
        self.rng = random.Random(seed)
        self.phase = self.rng.uniform(0, ADV_MS / 1000)  # when in each interval it advertises
        # The scenario's beacon as a parameter set of the shared model.
        self.radio = proxsim.Radio(
            name="scenario",
            tx1m=beacon.tx_power_dbm,
            n=beacon.path_loss_exp,
            sigma=beacon.shadowing_db,
            loss=1 - ADV_PER_SCAN,
            adv_ms=ADV_MS,
        )

    def payload(self, t: int) -> tuple[str, bytes] | None:
        """(address as hex, advertising payload) the beacon sends at t, or None while it is
        silent between two identifiers (tagcore.proximity.beaconid.on_air, as the beacon does)."""
        k = on_air(self.b.secret, t)[0]
        if k < 0:
            return None
        ident, addr = id_and_addr(self.b.secret, k)
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
            sent = self.payload(s)
            if sent is not None:
                d, r = self.rssi(tag.at(s), beacon.at(s))
                out.append((ta, d, r, sent[0], sent[1]))
            ta += step
        return out

    def rssi(self, tag: Point, beacon: Point) -> tuple[float, int | None]:
        """(true distance m, RSSI dBm or None when not heard) for one scan."""
        d = geo.dist(tag.lat, tag.lon, beacon.lat, beacon.lon)
        b = self.b
        r = self.radio.tx1m + proxsim.mean_db(self.radio, proxsim.Env(), d)
        r -= self.rng.gauss(0, b.shadowing_db)
        r -= b.body_loss_db * self.rng.random()  # the wearer's body is in the way part of the time
        walls = (tag.env == "indoor") != (beacon.env == "indoor") or (
            tag.env == beacon.env == "indoor" and d > 15
        )
        if walls:
            r -= b.wall_loss_db
        if not proxsim.received(self.radio, self.rng, r):
            return d, None
        return d, round(r)
