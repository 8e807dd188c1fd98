# Differential driver: UART streams (one per stdin line: "CHUNK HEX") through the UBX framer
# with an NMEA reader as its sink; prints the frames, both counters and the byte accounting.
# Runs unchanged under CPython and MicroPython; the two outputs must be identical.
import binascii
import sys

from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.ubx import UbxFramer


def counts(tag, c):
    w = sys.stdout.write
    w(tag)
    for k in sorted(c):
        w(" " + k + "=" + str(c[k]))
    w("\n")


def run():
    w = sys.stdout.write
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        parts = line.split()
        chunk = int(parts[0])
        data = binascii.unhexlify(parts[1]) if len(parts) > 1 else b""
        fr = UbxFramer()
        r = NmeaReader()
        for i in range(0, len(data), chunk):
            fr.feed(data[i : i + chunk], -1, r)
            while True:
                m = fr.pop()
                if m is None:
                    break
                w(f"M {m[0]} {m[1]} {binascii.hexlify(m[2]).decode()}\n")
        fr.flush()
        r.flush()
        w(f"A {len(data)} {fr.passed} {fr.framed} {fr.dropped} {fr.held}\n")
        w(f"N {r.sentences} {r.epochs}\n")
        counts("C", fr.counts)
        counts("R", r.counts)


run()
