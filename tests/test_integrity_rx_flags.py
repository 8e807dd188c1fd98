"""The receiver's own jamming reports through the real command path, in the simulator: the tag's
model plan (gnss_plan 1) sends the u-blox drivers' set-up (tagcore.gnss.ublox_m8 / ublox_m10:
interference monitor on, UBX-MON-RF / NAV-STATUS / SEC-SIG out at a low rate), the simulated
receiver reads it with pyubx2 and only then sends its reports, and a jammer parked by the
wearer raises the receiver-flag alert (tagcore.gnss.integrity.K_RX_JAMMING). No receiver is
configured by the test."""

from __future__ import annotations

import dataclasses

import pytest
from tagcore.gnss import integrity as I
from tagcore.gnss import ublox_m8, ublox_m10
from tagsim import engine, scenario, wear
from tagsim.gnssloop import GnssLoop
from tagsim.receiver import Receiver

BOARDS = {"ublox_m8": "tbeam_v12_axp2101", "ublox_m10": "tbeam_supreme_m10"}


def _jammed(board: str, plan: int) -> engine.Run:
    doc = wear.attack_day("jammer", "urban", 7, per_day=1)
    doc.update(duration="3h", board=board, tag={"gnss_plan": plan})
    return engine.run(scenario.parse(doc, "<test>"))


def _alerts(run: engine.Run) -> list[tuple[int, int]]:
    return [(now, int(ln.split()[2])) for now, ln in run.log.tag_lines if ln.startswith("I ")]


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_a_jammed_receiver_set_up_by_the_tag_raises_its_own_alert(family: str) -> None:
    run = _jammed(BOARDS[family], 1)
    heard = [(c, o) for _, c, o in run.receiver.heard]
    want = ["CFG-ITFM", "CFG-MSG"] if family == "ublox_m8" else ["CFG-VALSET"]
    for c in want:
        assert (c, "ack") in heard and (c, "nak") not in heard
    assert run.receiver.rates == {
        "MON-RF": ublox_m8.INTEGRITY_EVERY,
        "NAV-STATUS": ublox_m8.INTEGRITY_EVERY,
        **({"SEC-SIG": ublox_m8.INTEGRITY_EVERY} if family == "ublox_m10" else {}),
    }
    rx = [(now, k) for now, k in _alerts(run) if k == I.K_RX_JAMMING]
    assert rx, _alerts(run)
    a = run.scenario.attacks[0]
    # while the van is near: its monitor can name it before the C/N0 loss reaches the 20 dB
    # the figures' window starts at (3 dB of noise and no fix is critical)
    assert a.start <= rx[0][0] <= a.window[1]


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_one_jamming_episode_is_one_alert(family: str) -> None:
    # the receiver's flag names the van first; the C/N0 collapse that follows is evidence of
    # the same episode (K_MORE, the collapse's kind next), not a second alert; then its end
    run = _jammed(BOARDS[family], 1)
    got = _alerts(run)
    assert [k for _, k in got if k < I.K_END] == [I.K_RX_JAMMING], got
    assert [k for _, k in got if k >= I.K_END] == [I.K_MORE, I.K_END], got


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_without_the_set_up_the_receiver_says_nothing_of_jamming(family: str) -> None:
    # the fixed plan (gnss_plan 0) sends no command: the receiver keeps its factory output
    run = _jammed(BOARDS[family], 0)
    assert run.receiver.rates == {} and not run.receiver.heard
    assert I.K_RX_JAMMING not in {k for _, k in _alerts(run)}


@pytest.mark.parametrize("family", sorted(BOARDS))
def test_each_set_up_command_is_acknowledged_once_and_reports_follow_at_the_rate(
    family: str,
) -> None:
    drv = ublox_m8 if family == "ublox_m8" else ublox_m10
    loop = GnssLoop(BOARDS[family])
    seen: list[tuple[int, int]] = []
    on_ubx = loop.p.on_ubx

    def spy(now: int, cls: int, mid: int, payload: bytes) -> None:
        seen.append((cls, mid))
        on_ubx(now, cls, mid, payload)

    loop.p.on_ubx = spy  # type: ignore[method-assign]
    loop.run(120, 0)  # CONTINUOUS: rail on, set-up, tracking
    assert loop.p.counts == {"ack": len(drv.setup())}  # every one ACKed, nothing resent
    every = ublox_m8.INTEGRITY_EVERY
    for report in ((0x0A, 0x38), (0x01, 0x03)) + (((0x27, 0x09),) if drv is ublox_m10 else ()):
        n = seen.count(report)
        assert 120 // every - 3 <= n <= 120 // every, (report, n)
    assert (0x27, 0x09) in seen or drv is ublox_m8


def test_the_set_up_survives_a_rail_cut_only_where_the_receiver_keeps_its_configuration() -> None:
    loop = GnssLoop("tbeam_v12_axp2101")  # NEO-M8N: CFG-CFG saved it to flash
    loop.run(30, 0)
    rates = dict(loop.rx.rates)
    loop.rx.power(False, loop.t)
    loop.rx.power(True, loop.t + 10)
    assert loop.rx.rates == rates and loop.rx.itfm
    forgets = dataclasses.replace(loop.board.gnss, keeps_config_on_rail_off=False)
    rx = Receiver(forgets, 1)
    rx.power(True, 0)
    rx.rates, rx.itfm = dict(rates), True
    rx.power(False, 5)
    rx.power(True, 10)
    assert rx.rates == {} and not rx.itfm  # factory output again


def test_both_runtimes_decide_alike_on_the_receivers_reports() -> None:
    # the M10's three reports in the stream, the tag in MicroPython (its board's heap) and in
    # CPython: the same event stream, the receiver-flag alert included
    doc = wear.attack_day("jammer", "urban", 7, per_day=1)
    doc.update(duration="3h", board=BOARDS["ublox_m10"], tag={"gnss_plan": 1})
    sc = scenario.parse(doc, "<test>")
    cp = engine.run(sc, "cpython")
    mp = engine.run(sc, "micropython")
    assert mp.log.out_of_memory is None
    assert mp.log.tag_lines == cp.log.tag_lines
    assert [k for _, k in _alerts(mp) if k < I.K_END] == [I.K_RX_JAMMING]  # one episode
    assert I.K_MORE in {k for _, k in _alerts(mp)}
    assert cp.receiver.report_bytes > 0
