# Benchmark driver, runs unchanged under MicroPython and CPython: streams capture files in
# UART-sized chunks through the NMEA reader alone (MODE "reader"), through the UBX framer into
# the reader ("framer"), or the same with a 10-byte ACK-ACK spliced in every 512 bytes
# ("framer_ubx"). Prints bytes, microseconds, bytes allocated, sentences and frames.
# Usage: gnss_framer_stream.py MODE CHUNK FILE...
import gc
import sys

from benchclock import diff, mem, ticks  # tests/mpy: the same under both runtimes
from tagcore.gnss.nmea import NmeaReader
from tagcore.gnss.ubx import UbxFramer

ACK = b"\xb5\x62\x05\x01\x02\x00\x06\x11\x1f\x48"


def timed(fr, r, buf, n):
    gc.collect()
    gc.disable()
    m0 = mem()
    t0 = ticks()
    frames = 0
    if fr is None:
        r.feed(buf, n)
    else:
        fr.feed(buf, n, r)
        while fr.pop() is not None:
            frames += 1
    while r.pop() is not None:
        pass
    us = diff(ticks(), t0)
    a = mem() - m0
    gc.enable()
    return us, a, frames


def run(mode, chunk, files):
    buf = bytearray(chunk)
    ack = bytearray(ACK)
    us = alloc = nbytes = sentences = frames = 0
    for name in files:
        r = NmeaReader(floor_days=7037)
        fr = UbxFramer() if mode != "reader" else None
        since = 0
        with open(name, "rb") as f:
            while True:
                n = f.readinto(buf)
                if not n:
                    break
                u, m, k = timed(fr, r, buf, n)
                us, alloc, frames, nbytes = us + u, alloc + m, frames + k, nbytes + n
                since += n
                if mode == "framer_ubx" and since >= 512:
                    since = 0
                    u, m, k = timed(fr, r, ack, len(ack))
                    us, alloc, frames, nbytes = us + u, alloc + m, frames + k, nbytes + len(ack)
        sentences += r.sentences
    print("bytes", nbytes)
    print("us", us)
    print("alloc", alloc)
    print("sentences", sentences)
    print("frames", frames)


run(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
