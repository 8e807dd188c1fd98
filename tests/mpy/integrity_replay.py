# Differential driver: every capture through UbxFramer -> NmeaReader -> FixFilter with the
# integrity checks attached (tagcore.gnss.integrity), in 256-byte chunks. Prints per capture
# the events, the counters and a summary of the sky it saw. Runs unchanged under CPython and
# MicroPython; the two outputs must be identical.
# The tag's clock follows the capture: `now` is the epoch's own time (a capture has no other
# clock), so the clock check is neutral here and the C/N0 and receiver-flag rules are tested.
# Usage: integrity_replay.py < file-of-"path floor_days"-lines
import sys

from tagcore.gnss.fixfilter import FixFilter
from tagcore.gnss.integrity import Integrity
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.ubx import UbxFramer, integrity_of


class Replay(Integrity):
    def __init__(self):
        super().__init__()
        self.sky_epochs = 0
        self.peak_n = 0
        self.peak_mx = 0
        self.least_sd = 999  # the smallest spread of an epoch with UNI_N or more tracked

    def epoch(self, f):
        if f is not None:
            self.now = f.t
        if self.cn0[0]:  # Integrity.cn0 slot 0 (_CN0_GSVS): GSVs this epoch
            self.sky_epochs += 1
        super().epoch(f)
        if self.cn0[0] == 0 and self.n > self.peak_n:
            self.peak_n = self.n
        if self.cn0_max > self.peak_mx:
            self.peak_mx = self.cn0_max
        if self.n >= 6 and self.sd10 < self.least_sd:
            self.least_sd = self.sd10


def hexs(b):
    return "".join(f"{c:02x}" for c in b)


def run(path, floor):
    r = NmeaReader(floor_days=floor)
    ff = FixFilter()
    g = Replay()
    g.attach(r)
    fr = UbxFramer()
    buf = bytearray(256)
    w = sys.stdout.write

    def drain():
        while True:
            m = fr.pop()
            if m is None:
                break
            g.rx(integrity_of(m[0], m[1], m[2]))
        while True:
            f = r.pop()
            if f is None:
                break
            if f.quality:
                g.fix(f, ff.check(f), ff.counts)
            else:
                ff.check(f)
        while True:
            e = g.pop()
            if e is None:
                break
            w(f"E {e[0]} {e[1]} {hexs(e[2])}\n")

    with open(path, "rb") as fh:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            fr.feed(buf, n, r)
            drain()
    fr.flush()
    r.flush()
    drain()
    w(f"S {g.sky_epochs} {g.peak_n} {g.peak_mx} {g.least_sd}\n")
    w("C")
    for k in sorted(g.counts):
        w(f" {k}={g.counts[k]}")
    w("\n")


def main():
    while True:
        line = sys.stdin.readline().strip()
        if not line:
            break
        sp = line.rfind(" ")
        path = line[:sp]
        print("=", path[path.rfind("/") + 1 :])
        run(path, int(line[sp + 1 :]))


main()
