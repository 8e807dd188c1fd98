# Differential driver: streams capture files through NmeaReader + FixFilter in fixed-size chunks
# and prints one canonical line per fix and the counters after each file. Runs unchanged under
# CPython and MicroPython; the two outputs must be identical.
# Usage: nmea_replay.py CHUNK MODE < file-of-"path floor_days"-lines
#   Each capture is read at its own date floor (days since 2000-01-01).
#   MODE "each": a new reader per file; "one": one reader for the whole run, as on the device
#   (its floor set to each capture's, as for a receiver session of another date).
#   Paths are read one line at a time, so a long list costs no heap.
import gc
import sys

from tagcore.gnss.nmea import NmeaReader  # the largest module first, while the heap is unfragmented

gc.collect()
from tagcore.gnss.fixfilter import FixFilter  # noqa: E402


def out_counts(tag, counts):
    w = sys.stdout.write
    w(tag)
    for k in sorted(counts):
        w(" ")
        w(k)
        w("=")
        w(str(counts[k]))
    w("\n")


def drain(r, ff):
    w = sys.stdout.write
    while True:
        f = r.pop()
        if f is None:
            return
        w("F" if ff.check(f) else "R")
        for v in f:
            w(" ")
            w(str(v))
        w("\n")


def replay(path, buf, r, ff):
    with open(path, "rb") as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            r.feed(buf, n)
            drain(r, ff)
    r.flush()
    drain(r, ff)
    print("S", r.sentences, r.epochs, ff.accepted)
    out_counts("C", r.counts)
    out_counts("X", ff.counts)


def main():
    chunk = int(sys.argv[1])
    each = sys.argv[2] == "each"
    buf = bytearray(chunk)
    r = ff = None
    while True:
        line = sys.stdin.readline().strip()
        if not line:
            break
        sp = line.rfind(" ")
        path = line[:sp]
        floor = int(line[sp + 1 :])
        if each or r is None:
            r = ff = None
            gc.collect()
            r = NmeaReader(floor_days=floor)
            ff = FixFilter()
        else:
            r.dates.floor = floor
        print("=", path[path.rfind("/") + 1 :])
        replay(path, buf, r, ff)


main()
