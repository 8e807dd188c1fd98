"""The tag core's receiver side (GnssPower + UbxFramer + NmeaReader) wired to one simulated
receiver, second by second, with the receiver's charge metered from the board profile.

Used by the closed-loop tests and bench/bench_gnss_energy.py (the energy model against what the
simulated receiver really draws). The full engine keeps its own on/off loop until the planner
drives GnssPower (issue 10, after the app move).
"""

from __future__ import annotations

import json
from typing import Any

from tagcore.gnss import profile
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.power import BACKUP, CONTINUOUS, CYCLIC, OFF, GnssPower
from tagcore.gnss.ubx import UbxFramer

from tagsim import boards
from tagsim.power import PowerMeter
from tagsim.receiver import Receiver
from tagsim.truth import Point


class GnssLoop:
    def __init__(
        self,
        bid: str,
        driver: Any = None,
        seed: int = 1,
        env: str = "open",
        start: int = 825_753_600,
        ttff: str = "datasheet",
    ) -> None:
        self.doc = json.loads((boards.BOARDS_DIR / f"{bid}.json").read_text())
        self.board = boards.load(bid)
        self.on, off = profile.rails(self.doc)
        self.p = GnssPower(driver or profile.driver(self.doc), self.on, off)
        self.rx = Receiver(self.board.gnss, seed, ttff)
        self.fr, self.nmea = UbxFramer(), NmeaReader()
        self.start = self.t = start
        self.env = env
        self.lat, self.lon = 52.52, 13.37
        self.fixes: list[int] = []
        self.pm = PowerMeter(self.board, 3000, 100)
        self.off_ma = self.pm.gnss_off_ma()

    def ms(self) -> int:
        return (self.t - self.start) * 1000

    def step(self) -> bool:
        """One second: actions out, one epoch in. True if the receiver had a fix."""
        while (a := self.p.pop()) is not None:
            if a[0] == "uart":
                self.rx.write(a[1], self.t)
            else:
                self.rx.power(a[1] == self.on, self.t)
        fix = False
        if self.rx.state == "off":
            self.pm.draw("gnss", self.off_ma, 1.0)
        else:
            ep = self.rx.epoch(Point(self.t, self.lat, self.lon, self.env, 0.0, 0.0, False))
            st = "asleep" if self.rx.asleep else self.rx.state
            self.pm.gnss_second(st, self.rx.power_mode)
            fix = ep.fix
            if fix:
                self.fixes.append(self.t)
            self.fr.feed(ep.data, -1, self.nmea)
            while (m := self.fr.pop()) is not None:
                self.p.on_ubx(self.ms(), m[0], m[1], m[2])
            if ep.data:
                self.p.on_output(self.ms())
        self.p.tick(self.ms())
        self.t += 1
        return fix

    def run(self, seconds: int, mode: int | None = None) -> None:
        if mode is not None:
            self.p.request(self.ms(), mode)
        for _ in range(seconds):
            self.step()

    def duty_cycle(self, mode: int, interval_s: int, seconds: int, hold_s: int = 2) -> int:
        """Fixes at interval_s for `seconds` in `mode`: CONTINUOUS/CYCLIC stay on; BACKUP/OFF
        wake at each slot, search until a fix (at most the interval), hold, and sleep again.
        Returns how many slots got a fix."""
        got = 0
        end = self.t + seconds
        if mode in (CONTINUOUS, CYCLIC):
            self.p.request(self.ms(), mode)
            nxt = self.t
            while self.t < end:
                fix = self.step()
                if self.t - 1 >= nxt:
                    if fix:
                        got += 1
                        nxt += interval_s
                    elif self.t - 1 >= nxt + interval_s:
                        nxt += interval_s
            return got
        while self.t < end:
            slot = self.t
            self.p.request(self.ms(), CONTINUOUS)
            while self.t < min(slot + interval_s, end):
                if self.step():
                    got += 1
                    for _ in range(hold_s - 1):
                        self.step()
                    break
            self.p.request(self.ms(), BACKUP if mode == BACKUP else OFF)
            while self.t < min(slot + interval_s, end):
                self.step()
        return got
