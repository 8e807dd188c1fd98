"""The beacon radio model: log-distance path loss with shadowing, body and wall losses."""

from __future__ import annotations

import math
import statistics

import numpy as np
import simworld
from tagsim import geo, scenario
from tagsim.radio import SENSITIVITY_DBM, BeaconRadio


def _beacon(**over: float) -> scenario.Beacon:
    kw = dict(
        tx_power_dbm=-59.0,
        path_loss_exp=2.5,
        shadowing_db=4.0,
        body_loss_db=6.0,
        wall_loss_db=10.0,
        encounter_m=50.0,
    )
    kw.update(over)
    return scenario.Beacon("home", (), **kw, secret=bytes(16), victim_gnss=False)


def _rssi(radio: BeaconRadio, d: float, env_tag: str = "open", env_b: str = "open", n: int = 400):
    tag = simworld.point(0, env_tag)
    lat, lon = geo.offset(tag.lat, tag.lon, d, 0)
    b = simworld.point(0, env_b, lat, lon)
    out = [radio.rssi(tag, b) for _ in range(n)]
    assert all(abs(x[0] - d) < 0.01 for x in out)  # the true distance comes back
    return [r for _, r in out if r is not None], n


def test_path_loss_exponent_is_recovered_from_the_samples() -> None:
    radio = BeaconRadio(_beacon(), 1)
    ds = [1, 2, 4, 8, 16]
    med = [statistics.median(_rssi(radio, d)[0]) for d in ds]
    slope = np.polyfit([10 * math.log10(d) for d in ds], med, 1)[0]
    assert abs(-slope - 2.5) < 0.25
    # at 1 m: P1m, minus the mean body loss (3 dB), shadowing zero-mean
    assert abs(med[0] - (-59 - 3)) <= 2.5


def test_walls_and_range() -> None:
    radio = BeaconRadio(_beacon(shadowing_db=0.0, body_loss_db=0.0, path_loss_exp=2.0), 2)
    out, _ = _rssi(radio, 5, "open", "open")
    wall, _ = _rssi(radio, 5, "indoor", "open")
    same_room, _ = _rssi(radio, 5, "indoor", "indoor")
    other_room, _ = _rssi(radio, 20, "indoor", "indoor")
    far_open, _ = _rssi(radio, 20, "open", "open")
    assert statistics.median(out) - statistics.median(wall) == 10
    assert statistics.median(same_room) == statistics.median(out)
    assert statistics.median(far_open) - statistics.median(other_room) == 10
    heard, n = _rssi(radio, 5)
    assert 0.72 < len(heard) / n < 0.88  # about 20 % of advertisements are lost
    none, _ = _rssi(radio, 2000)
    assert none == [] and -59 - 20 * math.log10(2000) < SENSITIVITY_DBM
