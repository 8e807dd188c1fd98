"""What the receiver's own integrity reports cost on the UART: the u-blox set-up
(tagcore.gnss.ublox_m8 / ublox_m10) turns on UBX-MON-RF and NAV-STATUS (and SEC-SIG on the
M10) once every INTEGRITY_EVERY epochs, and NMEA GSV (the C/N0 rules' input) once every
GSV_EVERY; GSV every epoch (the factory's rate) is its measured bytes per GSV epoch times the
epochs. Bytes an hour added, measured off the simulated
receiver (tagsim.receiver: NMEA as the core's set-up selects it, reports built by pyubx2):
per hour the receiver runs (the worst case: tracking all hour), and per hour of wear on the
model plan's duty cycle (gnss_plan 1, one fix a minute, backup between fixes, field TTFF).
The line time is the bytes at the board's baud (10 bits a byte). Figures are bytes, not time:
the machine's load does not change them.
Usage: python bench/bench_integrity_uart.py [--hours N]"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "firmware"))
sys.path.insert(0, str(ROOT / "simulator"))
from tagcore.gnss import ublox_m8  # noqa: E402
from tagsim import boards, engine, runner, scenario  # noqa: E402
from tagsim.gnssloop import GnssLoop  # noqa: E402
from tagsim.receiver import Receiver  # noqa: E402

BOARDS = (("tbeam_v12_axp2101", "NEO-M8N"), ("tbeam_supreme_m10", "MAX-M10S"))


def tracking_hour(bid: str) -> tuple[Receiver, int]:
    """The receiver after an hour of continuous tracking in open sky, and its baud."""
    lp = GnssLoop(bid)
    lp.run(3600, 0)
    return lp.rx, lp.board.gnss.baud


def duty_cycle(bid: str, hours: int) -> Receiver:
    """The receiver after `hours` of the week scenario's wear on the model plan."""
    sc = scenario.load(runner.SCENARIOS / "week.toml")
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, gnss_plan=1).items()))
    sc = dataclasses.replace(sc, tag=tag, duration=hours * 3600, board=boards.load(bid))
    r = engine.run(sc, ttff="field")
    return r.receiver


def _gsv(rx: Receiver) -> tuple[int, int]:
    """(GSV bytes sent, GSV bytes had it gone out every epoch)."""
    per = rx.gsv_bytes / max(1, rx.gsv_epochs)
    return rx.gsv_bytes, round(per * rx.nav_epochs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=6, help="hours of wear on the duty cycle")
    a = ap.parse_args()
    every, g = ublox_m8.INTEGRITY_EVERY, ublox_m8.GSV_EVERY
    print(f"Integrity reports on the UART: once every {every} epochs (ublox_m8.INTEGRITY_EVERY)")
    print(f"NMEA GSV (the C/N0 rules' input): once every {g} epochs (ublox_m8.GSV_EVERY)")
    print(
        "  tracking all hour  reports B/h  GSV B/h (every epoch)  line s/h (baud)"
        "  all NMEA B/h  reports+GSV/all"
    )
    for bid, name in BOARDS:
        rx, baud = tracking_hour(bid)
        rep, (gsv, gsv1) = rx.report_bytes, _gsv(rx)
        nmea = rx.out_bytes - rep
        print(
            f"  {name:<17}  {rep:>11,}  {gsv:>7,} ({gsv1:>11,})  {(rep + gsv) * 10 / baud:8.1f}"
            f" ({baud})  {nmea:>12,}  {100 * (rep + gsv) / rx.out_bytes:13.1f} %"
        )
    print(f"  model plan, week scenario, {a.hours} h of wear (1 fix a minute, backup between):")
    print("  per hour of wear   epochs  reports B/h  GSV B/h (every epoch)  B/epoch rep+GSV")
    for bid, name in BOARDS:
        rx = duty_cycle(bid, a.hours)
        h, ep = a.hours, rx.nav_epochs
        gsv, gsv1 = _gsv(rx)
        rep = rx.report_bytes
        print(
            f"  {name:<17}  {ep // h:>6,}  {rep // h:>11,}  {gsv // h:>7,} ({gsv1 // h:>11,})"
            f"  {(rep + gsv) / max(1, ep):15.1f}"
        )


if __name__ == "__main__":
    main()
