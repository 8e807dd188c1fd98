"""What the receiver's own integrity reports cost on the UART: the u-blox set-up
(tagcore.gnss.ublox_m8 / ublox_m10) turns on UBX-MON-RF and NAV-STATUS (and SEC-SIG on the
M10) once every INTEGRITY_EVERY epochs. Bytes an hour added, measured off the simulated
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

BOARDS = (("tbeam_v12_axp2101", "NEO-M8N"), ("tbeam_supreme_m10", "MAX-M10S"))


def tracking_hour(bid: str) -> tuple[int, int, int]:
    """(bytes out, of them reports, baud) for an hour of continuous tracking in open sky."""
    lp = GnssLoop(bid)
    lp.run(3600, 0)
    return lp.rx.out_bytes, lp.rx.report_bytes, lp.board.gnss.baud


def duty_cycle(bid: str, hours: int) -> tuple[int, int, int]:
    """(bytes out, of them reports, receiver epochs) of `hours` of the week scenario's wear on
    the model plan."""
    sc = scenario.load(runner.SCENARIOS / "week.toml")
    tag = dataclasses.replace(sc.tag, more=tuple(dict(sc.tag.more, gnss_plan=1).items()))
    sc = dataclasses.replace(sc, tag=tag, duration=hours * 3600, board=boards.load(bid))
    r = engine.run(sc, ttff="field")
    return r.receiver.out_bytes, r.receiver.report_bytes, r.receiver.nav_epochs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=6, help="hours of wear on the duty cycle")
    a = ap.parse_args()
    every = ublox_m8.INTEGRITY_EVERY
    print(f"Integrity reports on the UART: once every {every} epochs (ublox_m8.INTEGRITY_EVERY)")
    # the simulated receiver sends GSV whatever the set-up selects (the C/N0 checks read it):
    # its NMEA is the baseline here, more than a real receiver set up so would send
    print("  tracking all hour  reports B/h  line s/h (baud)  sim's NMEA B/h  reports/NMEA")
    for bid, name in BOARDS:
        out, rep, baud = tracking_hour(bid)
        print(
            f"  {name:<17}  {rep:>11,}  {rep * 10 / baud:8.1f} ({baud})  {out - rep:>14,}"
            f"  {100 * rep / (out - rep):11.1f} %"
        )
    print(f"  model plan, week scenario, {a.hours} h of wear (1 fix a minute, backup between):")
    print("  per hour of wear   epochs  reports B/h  reports B/epoch")
    for bid, name in BOARDS:
        out, rep, ep = duty_cycle(bid, a.hours)
        h = a.hours
        print(f"  {name:<17}  {ep // h:>6,}  {rep // h:>11,}  {rep / max(1, ep):15.1f}")


if __name__ == "__main__":
    main()
