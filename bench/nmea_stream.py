# Benchmark driver, runs unchanged under MicroPython and CPython: streams capture files through
# tagcore's NMEA reader in UART-sized chunks and prints sentences, seconds and allocated bytes.
# Usage: nmea_stream.py CHUNK FILE...
import gc
import sys

from benchclock import diff, mem, ticks  # tests/mpy: the same under both runtimes
from tagcore.gnss.nmea import NmeaReader


def run(chunk, files):
    buf = bytearray(chunk)
    total_us = 0
    sentences = 0
    fixes = 0
    alloc = 0
    for name in files:
        r = NmeaReader(floor_days=7037)  # 2019-04-07: these captures predate any real tag
        with open(name, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                gc.collect()
                gc.disable()
                m0 = mem()
                t0 = ticks()
                r.feed(buf, n)
                while r.pop() is not None:
                    fixes += 1
                total_us += diff(ticks(), t0)
                alloc += mem() - m0
                gc.enable()
        r.flush()
        sentences += r.sentences + sum(
            r.counts.get(k, 0)
            for k in (
                "proprietary",
                "unknown_sentence",
                "other_talker",
                "malformed",
                "bad_checksum",
                "no_checksum",
                "truncated",
                "nonprintable",
                "too_long",
            )
        )
    print("sentences", sentences)
    print("fixes", fixes)
    print("us", total_us)
    print("alloc", alloc)


run(int(sys.argv[1]), sys.argv[2:])
