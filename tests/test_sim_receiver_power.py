"""The simulated receiver's power modes, driven by the core's own power state machine: what the
tag's core thinks the receiver does must be what the simulated receiver does."""

from __future__ import annotations

import statistics
import types

import simworld
from tagcore.gnss import ublox_m8, ublox_m10
from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF
from tagsim import boards
from tagsim.gnssloop import GnssLoop
from tagsim.receiver import POWER_SAVE, Receiver

S = simworld.START


def Loop(bid: str, driver: object = None, seed: int = 1, env: str = "open") -> GnssLoop:
    return GnssLoop(bid, driver, seed, env, S)


def test_m8_cyclic_and_backup_as_the_core_asks() -> None:
    lp = Loop("tbeam_v12_axp2101")
    lp.run(60, CONTINUOUS)
    assert lp.p.mode == CONTINUOUS and lp.rx.state == "tracking"
    assert [h[2] for h in lp.rx.heard] == ["ack"] * len(ublox_m8.setup())
    lp.run(10, CYCLIC)
    assert lp.p.mode == CYCLIC and lp.rx.power_mode == POWER_SAVE
    before = lp.pm.mah["gnss"]
    lp.run(100)
    assert lp.pm.mah["gnss"] - before < 9.6 * 100 / 3600 + 1e-9  # power-save current
    lp.run(10, BACKUP)
    assert lp.p.mode == BACKUP and lp.rx.asleep and lp.rx.state != "off"
    n = len(lp.fixes)
    lp.run(600)
    assert len(lp.fixes) == n  # silent while in backup
    lp.run(30, CONTINUOUS)
    assert lp.p.mode == CYCLIC or lp.p.mode == CONTINUOUS
    assert lp.rx.start_kind == "hot" and len(lp.fixes) > n
    assert lp.p.mode == CONTINUOUS and lp.rx.power_mode == "continuous"
    assert lp.p.counts.get("nak", 0) == 0 and lp.rx.ignored_bytes == 0


def test_m10_power_save_needs_sbas_off_and_the_core_does_it() -> None:
    lp = Loop("tbeam_supreme_m10")
    lp.run(40, CONTINUOUS)
    assert lp.rx.sbas is False  # the M10 driver's set-up
    lp.run(10, CYCLIC)
    assert lp.p.mode == CYCLIC and lp.rx.power_mode == POWER_SAVE


def test_a_wrong_driver_shows_as_a_receiver_that_does_not_do_what_the_tag_thinks() -> None:
    # M8 commands to an M10: CFG-RXM is refused, the core counts it and stays continuous
    lp = Loop("tbeam_supreme_m10", driver=ublox_m8)
    lp.run(40, CONTINUOUS)
    lp.run(10, CYCLIC)
    assert lp.p.counts["cyclic_refused"] == 1 and lp.p.mode == CONTINUOUS
    assert lp.rx.power_mode == "continuous"
    # An M10 driver that forgets SBAS: every command is ACKed, the tag believes CYCLIC, the
    # receiver still runs full power. Only the simulator can show this one.
    no_sbas = types.SimpleNamespace(**{k: getattr(ublox_m10, k) for k in dir(ublox_m10)})
    no_sbas.setup = lambda: []
    lp = Loop("tbeam_supreme_m10", driver=no_sbas)
    lp.run(40, CONTINUOUS)
    lp.run(10, CYCLIC)
    assert lp.p.mode == CYCLIC and lp.rx.mode == POWER_SAVE and lp.rx.power_mode == "continuous"


def test_l76k_standby_and_wake() -> None:
    lp = Loop("tbeam_supreme_s3")
    lp.run(60, CONTINUOUS)
    lp.run(10, CYCLIC)
    assert lp.p.counts["cyclic_unsupported"] == 1 and lp.p.mode == CONTINUOUS
    lp.run(10, BACKUP)
    assert lp.p.mode == BACKUP and lp.rx.asleep
    assert ("PCAS12", "standby") in [(h[1], h[2]) for h in lp.rx.heard]
    lp.run(300)
    lp.run(40, CONTINUOUS)
    assert not lp.rx.asleep and lp.rx.start_kind == "hot" and lp.p.mode == CONTINUOUS


def test_uc6580_backup_is_a_rail_cut_and_a_cold_start() -> None:
    lp = Loop("heltec_wireless_tracker_v11")
    lp.run(90, CONTINUOUS)
    lp.run(5, BACKUP)
    assert lp.p.mode == OFF and lp.rx.state == "off"
    lp.run(60)
    lp.run(5, CONTINUOUS)
    assert lp.rx.start_kind == "cold" and lp.p.counts["backup_by_rail"] == 1


def test_m8_state_the_core_believes_matches_the_receiver_over_a_random_walk() -> None:
    import random

    rng = random.Random(4)
    lp = Loop("tbeam_v12_axp2101", seed=4)
    lp.run(40, CONTINUOUS)
    for _ in range(25):
        lp.run(rng.randint(8, 90), rng.choice((CONTINUOUS, CYCLIC, BACKUP, OFF)))
        want = {
            CONTINUOUS: ("continuous", False, True),
            CYCLIC: (POWER_SAVE, False, True),
            BACKUP: (None, True, True),
            OFF: (None, False, False),
        }[lp.p.mode]
        powered = lp.rx.state != "off"
        assert (lp.rx.asleep, powered) == want[1:], lp.p.mode
        if want[0] is not None:
            assert lp.rx.power_mode == want[0]
    assert sum(lp.p.counts.get(k, 0) for k in ("nak", "no_reply", "still_awake")) == 0


def _hot_ttffs(ttff: str, n: int = 40) -> list[int]:
    g = boards.load("tbeam_v12_axp2101").gnss
    out = []
    for seed in range(n):
        rx = Receiver(g, seed, ttff=ttff)
        rx.power(True, S)
        for k in range(200):
            if rx.epoch(simworld.point(S + k)).fix:
                break
        rx.power(False, S + 200)
        rx.power(True, S + 260)
        for k in range(200):
            if rx.epoch(simworld.point(S + 260 + k)).fix:
                out.append(k + 1)
                break
        assert rx.start_kind == "hot"
    return out


def test_field_ttff_hot_starts_take_2_to_30_s_often_about_10() -> None:
    field = _hot_ttffs("field")
    sheet = _hot_ttffs("datasheet")
    assert len(field) == 40 and 2 <= min(field) and max(field) <= 31
    assert 7 <= statistics.median(field) <= 14
    assert max(sheet) <= 3  # the datasheet's 1 s


def test_backup_lost_means_every_start_is_cold() -> None:
    g = boards.load("tbeam_v12_axp2101").gnss
    rx = Receiver(g, 2)
    rx.power(True, S)
    for k in range(100):
        rx.epoch(simworld.point(S + k))
    rx.power(False, S + 100)
    rx.power(True, S + 160)
    assert rx.start_kind == "hot"
    rx.power(False, S + 170)
    rx.lose_backup()
    rx.power(True, S + 180)
    assert rx.start_kind == "cold"
    for k in range(100):
        rx.epoch(simworld.point(S + 200 + k))
    rx.power(False, S + 300)
    assert g.backup_hold_s is not None
    rx.power(True, S + 300 + int(g.backup_hold_s) + 1)  # the coin cell ran flat meanwhile
    assert rx.start_kind == "cold"


def _track(mode: int, env: str) -> tuple[float, float]:
    """(fix rate, p95 GST sigma in m) over 30 minutes in env after settling in `mode`."""
    lp = Loop("tbeam_v12_axp2101", seed=9)
    lp.run(60, CONTINUOUS)
    lp.run(5, mode)
    lp.env = env
    n = len(lp.fixes)
    sig = []
    for _ in range(1800):
        lp.run(1)
        if len(lp.fixes) and lp.fixes[-1] == lp.t - 1:
            sig.append(lp.rx.sigma(1.0, env))
    rate = (len(lp.fixes) - n) / 1800
    return rate, sorted(sig)[int(0.95 * len(sig))] if sig else 0.0


def test_power_save_tracks_worse_in_canyons() -> None:
    ps_open, c_open = _track(CYCLIC, "open"), _track(CONTINUOUS, "open")
    assert ps_open[0] > 0.95 and c_open[0] > 0.95 and ps_open[1] == c_open[1]
    ps, c = _track(CYCLIC, "urban"), _track(CONTINUOUS, "urban")
    assert ps[1] > 1.3 * c[1]  # noisier in the canyon
    ps, c = _track(CYCLIC, "indoor"), _track(CONTINUOUS, "indoor")
    assert ps[0] < c[0] - 0.1 and ps[1] > 1.3 * c[1]  # and loses fixes indoors
