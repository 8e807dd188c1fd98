# Differential driver: a zone blob and a stream of fixes through ZoneMonitor, the decisions
# printed one line per event. Run under MicroPython and CPython; the outputs must match.
# Usage: zones_replay.py BLOB_FILE STREAM_FILE
# Stream lines: "F t lat lon acc_dm speed_cms course_cd" (a fix; "-" for unknown) or "N t"
# (awake, no fix). Output: "A kind t zone zkind rule evidence-times" per alert (and its store
# event bytes in hex), "S t states wanted" after each fix, the counts at the end.
import sys
from binascii import hexlify

from tagcore.events import encode
from tagcore.fix import Fix
from tagcore.zones.monitor import STORED_ALERTS, ZoneMonitor


def num(s):
    return None if s == "-" else int(s)


def main():
    with open(sys.argv[1], "rb") as f:
        m = ZoneMonitor(f.read())
    print("E", m.error, len(m.zones))
    with open(sys.argv[2]) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            t = int(p[1])
            if p[0] == "N":
                alerts = m.on_no_fix(t)
            else:
                fx = Fix(
                    t, 0, int(p[2]), int(p[3]), 0, num(p[5]), num(p[6]), num(p[4]), 100, 8, 1, 3, 0
                )
                alerts = m.on_fix(t, fx)
            for a in alerts:
                ev = encode(a) if a.kind in STORED_ALERTS else None
                hx = "-" if ev is None else str(ev[0]) + ":" + hexlify(ev[1]).decode()
                times = ",".join(str(x.t) for x in a.evidence)
                print("A", a.kind, a.t, a.zone, a.zkind, a.rule, a.secs, times, hx)
            if p[0] == "F":
                print("S", t, "".join(str(s) for s in m.zstate), m.wanted_interval(t))
    for k in sorted(m.counts):
        print("C", k, m.counts[k])


main()
