"""The receiver model: time to first fix by how long it was off, errors by environment."""

from __future__ import annotations

import statistics

import numpy as np
import pynmea2
import simworld
from tagsim import boards, geo
from tagsim.receiver import ACQUIRING, OFF, Receiver

S = simworld.START


def _first_fix(rx: Receiver, t0: int, env: str = "open", limit: int = 300) -> int | None:
    rx.power(True, t0)
    for k in range(limit):
        if rx.epoch(simworld.point(t0 + k, env)).fix:
            return k + 1  # seconds from power-on to the first fix
    return None


def test_cold_warm_hot_starts_follow_the_profile() -> None:
    g = simworld.m8()
    cold, warm, hot = [], [], []
    for seed in range(12):
        rx = Receiver(g, seed)
        cold.append(_first_fix(rx, S))
        rx.power(False, S + 100)
        hot.append(_first_fix(rx, S + 160))  # off for a minute
        rx.power(False, S + 500)
        warm.append(_first_fix(rx, S + 500 + 3 * 3600))  # off for three hours
        assert rx.starts == {"cold": 1, "warm": 1, "hot": 1}
    assert 20 <= statistics.median(cold) <= 33  # NEO-M8N: 26 s
    assert 19 <= statistics.median(warm) <= 32  # 25 s
    assert max(hot) <= 3  # 1 s


def test_no_backup_supply_means_cold_every_time() -> None:
    rx = Receiver(boards.load("heltec_wireless_tracker_v11").gnss, 1)
    assert _first_fix(rx, S) is not None
    rx.power(False, S + 100)
    assert (_first_fix(rx, S + 160) or 0) > 15
    assert rx.starts == {"cold": 2, "warm": 0, "hot": 0}


def test_underground_never_fixes_and_tracking_is_lost() -> None:
    rx = Receiver(simworld.m8(), 3)
    assert _first_fix(rx, S, "underground", 400) is None
    assert rx.state == ACQUIRING
    rx.power(False, S + 400)
    assert rx.state == OFF
    rx = Receiver(simworld.m8(), 3)
    assert _first_fix(rx, S) is not None
    outs = [rx.epoch(simworld.point(S + 100 + k, "underground")).fix for k in range(10)]
    assert not any(outs) and rx.state == ACQUIRING
    # back in the open with ephemeris still valid: a hot reacquisition
    assert (_first_fix(rx, S + 120) or 99) <= 3


def _errors(env: str, seed: int = 5, n: int = 900) -> tuple[np.ndarray, list[float], list[int]]:
    rx = Receiver(simworld.m8(), seed)
    rx.power(True, S)
    east, hdops, sats = [], [], []
    for k in range(n):
        p = simworld.point(S + k, env)
        e = rx.epoch(p)
        if not e.fix:
            continue
        gga = next(pynmea2.parse(x) for x in e.data.decode().split("\r\n") if "GGA" in x)
        east.append(geo.enu(p.lat, p.lon, gga.latitude, gga.longitude))
        hdops.append(float(gga.horizontal_dil))
        sats.append(int(gga.num_sats))
    return np.array(east), hdops, sats


def test_errors_grow_indoors_and_are_correlated() -> None:
    op, hop, sop = _errors("open")
    ind, hin, sin = _errors("indoor")
    assert len(op) > 800 and len(ind) > 100
    r_open = np.hypot(op[:, 0], op[:, 1])
    r_in = np.hypot(ind[:, 0], ind[:, 1])
    assert np.median(r_in) > 2 * np.median(r_open)
    assert 0.5 < np.median(r_open) < 6  # metres: a good receiver under open sky
    assert statistics.median(hin) > statistics.median(hop)
    assert statistics.median(sin) < statistics.median(sop)
    # first-order Gauss-Markov (tau 30 s): consecutive errors are strongly correlated
    x = op[:, 0] - op[:, 0].mean()
    assert float(np.dot(x[:-1], x[1:]) / np.dot(x, x)) > 0.9


def test_urban_canyon_has_multipath_jumps() -> None:
    ur, _, _ = _errors("urban", seed=9, n=1800)
    r = np.hypot(ur[:, 0], ur[:, 1])
    assert (r > 20).sum() > 5  # jumps of 20-80 m that GST does not predict


def test_first_fix_after_a_hot_start_has_the_full_error_spread() -> None:
    # The error process restarts with each solution: a duty-cycled tag (one fix a minute) must see
    # indoor errors indoors, not the tail of an open-sky process from the last power-on.
    def first_errors(env: str) -> list[float]:
        rx = Receiver(simworld.m8(), 11)
        out = []
        for c in range(150):
            t0 = S + 60 * c
            rx.power(True, t0)
            for k in range(30):
                p = simworld.point(t0 + k, env)
                e = rx.epoch(p)
                if e.fix:
                    gga = next(
                        pynmea2.parse(x) for x in e.data.decode().split("\r\n") if "GGA" in x
                    )
                    out.append(geo.dist(p.lat, p.lon, gga.latitude, gga.longitude))
                    break
            rx.power(False, t0 + 30)
        return out

    op, ind = first_errors("open"), first_errors("indoor")
    assert len(op) == 150 and len(ind) > 100
    assert statistics.median(ind) > 2 * statistics.median(op)
