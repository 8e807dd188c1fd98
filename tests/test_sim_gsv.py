"""The simulated receiver sends NMEA GSV (the per-satellite C/N0 the integrity rules read,
tagcore.gnss.integrity) only as configured: every epoch from the factory, at the rate the
u-blox set-up asks (CFG-MSG F0 03 on the M8, CFG-MSGOUT-NMEA_ID_GSV_UART1 on the M10), none
when it is turned off. A receiver that sent GSV whatever it was told would hide a set-up that
leaves the rules blind."""

from __future__ import annotations

import pytest
from tagcore.gnss import ublox_m8, ublox_m10
from tagcore.gnss.power import CONTINUOUS
from tagsim.gnssloop import GnssLoop
from tagsim.receiver import Receiver
from tagsim.truth import Point

BOARDS = {"ublox_m8": "tbeam_v12_axp2101", "ublox_m10": "tbeam_supreme_m10"}


def _gsv_epochs(loop: GnssLoop, seconds: int) -> int:
    n = 0
    for _ in range(seconds):
        ep = loop.rx.epoch(Point(loop.t, loop.lat, loop.lon, "open", 0.0, 0.0, False))
        n += b"GSV," in ep.data
        loop.t += 1
    return n


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_gsv_follows_the_set_up(family: str) -> None:
    loop = GnssLoop(BOARDS[family])
    loop.rx.power(True, loop.t)
    assert _gsv_epochs(loop, 20) == 20  # the factory's output: every epoch
    loop.run(20, CONTINUOUS)  # rail on, the drivers' set-up, ACKed
    every = ublox_m8.GSV_EVERY
    assert 60 // every - 1 <= _gsv_epochs(loop, 60) <= 60 // every + 1


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_gsv_turned_off_is_off_and_a_forgetting_receiver_forgets_it(family: str) -> None:
    loop = GnssLoop(BOARDS[family])
    rx = loop.rx
    rx.power(True, loop.t)
    off = (
        ublox_m8.cfg_msg(0xF0, 0x03, 0)
        if family == "ublox_m8"
        else ublox_m10.nmea_out((("GSV", 0),))
    )
    rx.write(off, loop.t)
    assert _gsv_epochs(loop, 10) == 0
    import dataclasses

    forgets = Receiver(dataclasses.replace(loop.board.gnss, keeps_config_on_rail_off=False), 1)
    forgets.power(True, 0)
    forgets.write(off, 0)
    forgets.power(False, 5)
    forgets.power(True, 10)
    ep = forgets.epoch(Point(11, 52.5, 13.4, "open", 0.0, 0.0, False))
    assert b"GSV," in ep.data  # factory output again
